//! Opening a conversation with a camera, and turning ONVIF failures into [`CoreError`]s.
use std::sync::Arc;

use camward_onvif::http::{HttpConfig, ReqwestTransport};
use camward_onvif::{Camera, DeviceRefusal, OnvifError, TransportError};

use crate::CoreError;

/// A camera session over the project's one HTTP client configuration.
pub type CameraSession = Camera<ReqwestTransport>;

/// Opens a session with the camera whose device service is at `url` (already normalised).
pub fn open(url: &str) -> Result<CameraSession, CoreError> {
    let transport = ReqwestTransport::new(&HttpConfig::default())
        .map_err(|e| onvif_error(url, "open connection", OnvifError::Transport(e)))?;
    Camera::new(transport, url, Arc::new(camward_onvif::clock::SystemClock))
        .map_err(|e| onvif_error(url, "open connection", e))
}

/// A session logged in with the keychain's current password for `key`.
pub(crate) async fn logged_in(
    vault: &crate::credentials::Vault,
    url: &str,
    key: &camward_vault::CredentialKey,
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
    let camera = open(url)?;
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
