//! Opening a conversation with a camera, and turning ONVIF failures into [`CoreError`]s.
use std::sync::Arc;

use camward_onvif::http::{HttpConfig, ReqwestTransport};
use camward_onvif::{Camera, DeviceRefusal, OnvifError, TransportError};

use crate::CoreError;

/// A camera session over the project's one HTTP client configuration.
pub type CameraSession = Camera<ReqwestTransport>;

tokio::task_local! {
    static SHARED: SharedClients;
}

/// The HTTP clients of one piece of work on one camera (see [`sharing_connections`]), one per
/// TLS trust: `None` for plain HTTP, else the pinned certificate's SHA-256.
#[derive(Default)]
struct SharedClients(
    std::sync::Mutex<std::collections::HashMap<Option<[u8; 32]>, ReqwestTransport>>,
);

/// Runs `work` — everything done to one camera in one task, such as commissioning it — with its
/// sessions sharing HTTP clients, so a new session reuses the keep-alive connections of the
/// sessions before it instead of opening its own. A client is shared only by sessions that
/// trust the same thing (plain HTTP, or exactly one pinned certificate), and only inside this
/// task: nothing outlives `work`, and outside such a scope every session has a client of its
/// own. Checks that must see the camera as a newcomer does (ports, 401 challenges) never use
/// these clients.
pub async fn sharing_connections<F: std::future::Future>(work: F) -> F::Output {
    SHARED.scope(SharedClients::default(), work).await
}

/// A client for sessions trusting `pin` (plain HTTP when `None`): the task's shared one inside
/// [`sharing_connections`], else a new one.
fn transport(pin: Option<[u8; 32]>) -> Result<ReqwestTransport, camward_onvif::TransportError> {
    let build = || {
        ReqwestTransport::new(&HttpConfig {
            trust: pin.map(camward_onvif::http::TlsTrust::PinnedSha256),
            ..HttpConfig::default()
        })
    };
    SHARED
        .try_with(|shared| {
            let mut clients = shared
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(client) = clients.get(&pin) {
                return Ok(client.clone());
            }
            let client = build()?;
            clients.insert(pin, client.clone());
            Ok(client)
        })
        .unwrap_or_else(|_outside_a_scope| build())
}

/// Opens a session with the camera whose device service is at `url` (already normalised).
pub fn open(url: &str) -> Result<CameraSession, CoreError> {
    let transport = transport(None)
        .map_err(|e| onvif_error(url, "open connection", OnvifError::Transport(e)))?;
    Camera::new(transport, url, Arc::new(camward_onvif::clock::SystemClock))
        .map_err(|e| onvif_error(url, "open connection", e))
}

/// How Camward reaches one camera: plain `http` as typed, or — once its HTTP was turned off
/// (`https_access` in the inventory) — `https` on its HTTPS port, trusting exactly the pinned
/// certificate.
#[derive(Clone, Default)]
pub struct Route {
    https: Option<HttpsRoute>,
}

#[derive(Clone)]
struct HttpsRoute {
    port: u16,
    pin: [u8; 32],
}

impl Route {
    /// Over HTTPS on `port`, trusting exactly the certificate with SHA-256 `pin`.
    pub(crate) fn https(port: u16, pin: [u8; 32]) -> Self {
        Self {
            https: Some(HttpsRoute { port, pin }),
        }
    }

    /// Whether sessions go over HTTPS.
    pub fn is_https(&self) -> bool {
        self.https.is_some()
    }

    /// The TLS trust of sessions along this route (`None` over plain HTTP).
    pub fn trust(&self) -> Option<camward_onvif::http::TlsTrust> {
        self.https
            .as_ref()
            .map(|h| camward_onvif::http::TlsTrust::PinnedSha256(h.pin))
    }

    /// The device service URL sessions use for the camera whose inventory URL is `url`.
    pub fn device_url(&self, url: &str) -> String {
        match &self.https {
            None => url.to_owned(),
            Some(h) => https_url(url, h.port),
        }
    }

    /// A fresh session along this route.
    pub fn open(&self, url: &str) -> Result<CameraSession, CoreError> {
        let Some(h) = &self.https else {
            return open(url);
        };
        let transport = transport(Some(h.pin))
            .map_err(|e| onvif_error(url, "open HTTPS connection", OnvifError::Transport(e)))?;
        Camera::new(
            transport,
            &https_url(url, h.port),
            Arc::new(camward_onvif::clock::SystemClock),
        )
        .map_err(|e| onvif_error(url, "open HTTPS connection", e))
    }
}

impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.https {
            None => f.write_str("Route(http)"),
            Some(h) => write!(
                f,
                "Route(https port {}, pinned SHA-256 {})",
                h.port,
                camward_certs::hex(&h.pin)
            ),
        }
    }
}

/// `url` with scheme `https` and `port` (host and path kept).
fn https_url(url: &str, port: u16) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host = if authority.starts_with('[') {
        authority.split_inclusive(']').next().unwrap_or(authority)
    } else {
        authority.rsplit_once(':').map_or(authority, |(h, _)| h)
    };
    format!("https://{host}:{port}/{path}")
}

/// How the inventory says to reach the camera at `url`. For an HTTPS-only camera a TLS handshake
/// first proves the camera still presents the pinned certificate: another one is the typed error
/// `certificate_changed` (an alarm), never a fallback to HTTP.
pub async fn route(vault: &crate::credentials::Vault, url: &str) -> Result<Route, CoreError> {
    let step = "open HTTPS session";
    let camera = crate::camera_key(url);
    let access = vault
        .inventory
        .https_access(&camera)
        .map_err(|e| CoreError {
            code: e.code().into(),
            message: e.to_string(),
            camera: url.to_owned(),
            step: "read how to reach the camera".into(),
        })?;
    let Some(access) = access else {
        return Ok(Route::default());
    };
    let pin =
        crate::certificates::parse_fingerprint(&access.cert_sha256).ok_or_else(|| CoreError {
            code: "inventory_corrupt".into(),
            message: format!(
                "the pinned fingerprint {:?} is not a SHA-256 in hex",
                access.cert_sha256
            ),
            camera: url.to_owned(),
            step: step.into(),
        })?;
    let host = crate::certificates::url_host(url).ok_or_else(|| CoreError {
        code: "invalid_url".into(),
        message: "the device URL names no host".into(),
        camera: url.to_owned(),
        step: step.into(),
    })?;
    crate::certificates::check_pin(url, &host, access.port, pin, step).await?;
    Ok(Route::https(access.port, pin))
}

/// Opens a session the way the inventory says to reach the camera ([`route`]).
pub async fn open_for(
    vault: &crate::credentials::Vault,
    url: &str,
) -> Result<CameraSession, CoreError> {
    route(vault, url).await?.open(url)
}

/// A session logged in with the keychain's current password for `key`, over the camera's
/// [`route`].
pub(crate) async fn logged_in(
    vault: &crate::credentials::Vault,
    url: &str,
    key: &camward_vault::CredentialKey,
) -> Result<CameraSession, CoreError> {
    let route = route(vault, url).await?;
    logged_in_via(vault, url, key, &route).await
}

/// [`logged_in`] along a given `route`.
pub(crate) async fn logged_in_via(
    vault: &crate::credentials::Vault,
    url: &str,
    key: &camward_vault::CredentialKey,
    route: &Route,
) -> Result<CameraSession, CoreError> {
    let password = vault
        .ledger
        .current(key)
        .map_err(|e| CoreError {
            code: e.code().into(),
            message: e.to_string(),
            camera: url.to_owned(),
            step: "read the password from the keychain".into(),
        })?
        .ok_or_else(|| CoreError {
            code: "no_password".into(),
            message: format!(
                "the keychain holds no password for {} on this camera",
                key.user
            ),
            camera: url.to_owned(),
            step: "read the password from the keychain".into(),
        })?;
    let camera = route.open(url)?;
    camera
        .sync_clock()
        .await
        .map_err(|e| first_contact_error(url, "GetSystemDateAndTime", e))?;
    camera.set_credentials(
        Some(camward_onvif::Credentials::new(
            &key.user,
            password.expose().as_str(),
        )),
        camward_onvif::AuthMode::Auto,
    );
    Ok(camera)
}

/// Maps an ONVIF failure at `step` on `camera` to the error that crosses the IPC/CLI boundary.
pub fn onvif_error(camera: &str, step: &str, e: OnvifError) -> CoreError {
    let message = match &e {
        OnvifError::Refused(DeviceRefusal::NotAuthorized) => {
            "the camera rejected the user name or password".to_owned()
        }
        OnvifError::Refused(DeviceRefusal::LockedOut) => {
            "the camera has locked out logins after repeated failures; wait before trying again"
                .to_owned()
        }
        other => other.to_string(),
    };
    CoreError {
        code: e.code().to_owned(),
        message,
        camera: camera.to_owned(),
        step: step.to_owned(),
    }
}

/// Like [`onvif_error`] for the first exchange with an address, where an answer that is not ONVIF
/// (a web page, a 404, garbage) means "this is not an ONVIF device service", not a device fault.
pub fn first_contact_error(camera: &str, step: &str, e: OnvifError) -> CoreError {
    let not_onvif = matches!(
        e,
        OnvifError::Transport(TransportError::Malformed(_))
            | OnvifError::Refused(DeviceRefusal::HttpStatus(_) | DeviceRefusal::NotSupported)
    );
    if not_onvif {
        return CoreError {
            code: "not_onvif".into(),
            message: format!("this address answers, but not as an ONVIF device service ({e})"),
            camera: camera.to_owned(),
            step: step.to_owned(),
        };
    }
    onvif_error(camera, step, e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_urls_keep_host_and_path() {
        assert_eq!(
            https_url("http://127.0.0.1:8080/onvif/device_service", 8443),
            "https://127.0.0.1:8443/onvif/device_service"
        );
        assert_eq!(
            https_url("http://[2001:db8::1]:80/onvif/device_service", 443),
            "https://[2001:db8::1]:443/onvif/device_service"
        );
        assert_eq!(
            https_url("http://cam.example/onvif/device_service", 443),
            "https://cam.example:443/onvif/device_service"
        );
        assert_eq!(Route::default().device_url("http://a/x"), "http://a/x");
    }
}
