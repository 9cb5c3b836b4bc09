//! A session with one camera: where it is, who we are, which authentication worked, and how far its
//! clock is from ours. The typed operations in [`crate::device`], [`crate::security`] and
//! [`crate::media2`] are methods on [`Camera`] built on [`Camera::call`].
//!
//! INTERFACE CONTRACT (shared by the helpers building this crate; bodies are filled by the core
//! helper): signatures here are fixed; private fields and helpers are free.

use std::fmt;
use std::sync::Arc;

use crate::clock::Clock;
use crate::error::OnvifError;
use crate::transport::Transport;
use crate::xml::Reply;

/// An ONVIF service of the camera; its URL comes from GetServices (or defaults to the device URL).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Service {
    /// Device Management, `tds`.
    Device,
    /// Advanced Security, `tas`.
    AdvancedSecurity,
    /// Media2, `tr2`.
    Media2,
}

impl Service {
    /// The service's namespace, which is also the prefix of its SOAP action URIs.
    pub fn namespace(self) -> &'static str {
        match self {
            Service::Device => crate::ns::TDS,
            Service::AdvancedSecurity => crate::ns::TAS,
            Service::Media2 => crate::ns::TR2,
        }
    }
}

/// A user name and password. The password never appears in `Debug` output.
#[derive(Clone)]
pub struct Credentials {
    user: String,
    password: String,
}

impl Credentials {
    /// Pairs a user name with a password.
    pub fn new(user: impl Into<String>, password: impl Into<String>) -> Self {
        Self { user: user.into(), password: password.into() }
    }
    /// The user name.
    pub fn user(&self) -> &str {
        &self.user
    }
    /// The password; only authentication code should read it.
    pub fn password(&self) -> &str {
        &self.password
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Which authentication to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum AuthMode {
    /// HTTP Digest first; fall back to UsernameToken when the camera answers 400 or
    /// `ter:NotAuthorized` without a challenge. Never both in one request. What worked is remembered.
    Auto,
    /// HTTP Digest only (RFC 7616).
    Digest,
    /// WS-Security UsernameToken PasswordDigest only.
    UsernameToken,
    /// No credentials (factory state, or pre-authentication operations).
    Anonymous,
}

/// A session with one camera. Cheap to share behind an `Arc`; methods take `&self`.
pub struct Camera<T: Transport> {
    _transport: T,
    _clock: Arc<dyn Clock>,
}

impl<T: Transport> fmt::Debug for Camera<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Camera").finish_non_exhaustive()
    }
}

impl<T: Transport> Camera<T> {
    /// A session with the camera whose device service is at `device_url`
    /// (e.g. `http://192.0.2.10/onvif/device_service`).
    pub fn new(
        transport: T,
        device_url: &str,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, OnvifError> {
        let _ = (transport, device_url, clock);
        todo!("core helper")
    }

    /// Sets (or replaces) the credentials and the authentication mode.
    pub fn set_credentials(&self, credentials: Option<Credentials>, mode: AuthMode) {
        let _ = (credentials, mode);
        todo!("core helper")
    }

    /// The device service URL.
    pub fn device_url(&self) -> &str {
        todo!("core helper")
    }

    /// Sends `payload` — one element, serialized, declaring its own namespaces — as the body of a
    /// SOAP 1.2 request to `service`, with SOAP action `{service namespace}/{action}`.
    /// `pre_auth` requests go without credentials (ONVIF PRE_AUTH access class). A SOAP fault in
    /// the reply becomes `OnvifError::Refused`.
    pub async fn call(
        &self,
        service: Service,
        action: &str,
        payload: &str,
        pre_auth: bool,
    ) -> Result<Reply, OnvifError> {
        let _ = (service, action, payload, pre_auth);
        todo!("core helper")
    }

    /// Reads the camera clock without credentials (GetSystemDateAndTime), falling back to the HTTP
    /// `Date` header, and stores the offset (half the round trip corrected) used in every `Created`.
    pub async fn sync_clock(&self) -> Result<time::Duration, OnvifError> {
        todo!("core helper")
    }

    /// The last measured offset camera − laptop, if any.
    pub fn clock_offset(&self) -> Option<time::Duration> {
        todo!("core helper")
    }

    /// The authentication mode that last worked with this camera, if any.
    pub fn working_auth(&self) -> Option<AuthMode> {
        todo!("core helper")
    }

    /// Records the URL of a service (from GetServices) so later calls go there.
    pub fn set_service_url(&self, service: Service, url: &str) {
        let _ = (service, url);
        todo!("core helper")
    }
}
