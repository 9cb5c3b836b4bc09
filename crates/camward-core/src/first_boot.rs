//! First boot: creating the first administrator on a camera in its factory state.
//!
//! Flavours (issue 4): ONVIF (anonymous CreateUsers while the device is in its factory state, ONVIF
//! Profile Q FactoryDefault), Axis (`pwdgrp.cgi` add root while no root password is set), Hikvision
//! (ISAPI activation), Canon / i-PRO (ONVIF where allowed, else a guided step).
//!
//! INTERFACE CONTRACT: `detect` and `create_first_admin` signatures are fixed.
//!
//! Detection order: Hikvision first (`GET /SDK/activateStatus` answers without credentials in
//! every state), then Axis (`pwdgrp.cgi?action=get` answers without credentials only while root
//! has no password), then ONVIF (anonymous GetDeviceInformation works only in the factory state).
//! A configured Axis is recognised when VAPIX asks for Digest and ONVIF refuses anonymous access.
//! When ONVIF refuses and a first-access page is shown, the camera needs the guided step
//! ([`FirstBootMethod::Guided`]): `create_first_admin` then fails with the stable code
//! `guided_step_required` and the page address, and [`verify_first_admin`] checks the login
//! once the person confirms.
//!
//! Every vendor path ends with an ONVIF login as `user`, because that is the session the rest of
//! Camward uses:
//! - Axis: root gets the password over VAPIX, then root's Digest credentials create the ONVIF
//!   account `user` (Axis keeps ONVIF accounts apart from VAPIX ones).
//! - Hikvision: activation gives the built-in `admin` the password (its name is fixed by the
//!   firmware), then as `admin` ONVIF is enabled and the ONVIF account `user` is created with the
//!   same password. Hikvision accepts 8 to 16 characters with at least two character classes.
use camward_onvif::device::{User, UserLevel};
use camward_onvif::{AuthMode, Credentials, DeviceRefusal, OnvifError, TransportError};
use camward_vault::Sensitive;
use camward_vendors::axis::{self, RootPassword};
use camward_vendors::guided;
use camward_vendors::hikvision::{self, OnvifUserType};
use camward_vendors::{VendorError, VendorHttp};
use serde::Serialize;

use crate::session::{first_contact_error, onvif_error, open, CameraSession};
use crate::CoreError;

/// How a factory-fresh camera takes its first administrator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FirstBootMethod {
    /// ONVIF CreateUsers, anonymously, while in the factory state.
    Onvif,
    /// Axis VAPIX `pwdgrp.cgi`.
    Axis,
    /// Hikvision ISAPI activation.
    Hikvision,
    /// No API: a person sets the password on the camera's first-access page, Camward verifies.
    Guided,
}

/// What Camward found out about a camera's first-boot state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FactoryState {
    /// True when the camera has no administrator yet.
    pub factory_fresh: bool,
    /// How to create the first administrator.
    pub method: FirstBootMethod,
}

/// Finds out whether the camera at `input` is factory-fresh and how it takes its first admin.
pub async fn detect(input: &str) -> Result<FactoryState, CoreError> {
    let url = crate::target::device_url(input)?;
    let http = VendorHttp::new(&url).map_err(|e| vendor_error(&url, "open connection", e))?;
    match hikvision::activation_status(&http).await {
        Ok(Some(activated)) => {
            return Ok(FactoryState {
                factory_fresh: !activated,
                method: FirstBootMethod::Hikvision,
            })
        }
        Ok(None) => {}
        Err(e) => unless_unreachable(&url, "GET /SDK/activateStatus", e)?,
    }
    let axis = match axis::root_password(&http).await {
        Ok(Some(RootPassword::Unset)) => {
            return Ok(FactoryState {
                factory_fresh: true,
                method: FirstBootMethod::Axis,
            })
        }
        Ok(found) => found,
        Err(e) => {
            unless_unreachable(&url, "GET pwdgrp.cgi", e)?;
            None
        }
    };
    let camera = open(&url)?;
    camera
        .sync_clock()
        .await
        .map_err(|e| first_contact_error(&url, "GetSystemDateAndTime", e))?;
    match camera.get_device_information().await {
        Ok(_) => Ok(FactoryState {
            factory_fresh: true,
            method: FirstBootMethod::Onvif,
        }),
        Err(OnvifError::Refused(DeviceRefusal::NotAuthorized)) => {
            if axis == Some(RootPassword::Set) {
                return Ok(FactoryState {
                    factory_fresh: false,
                    method: FirstBootMethod::Axis,
                });
            }
            // ONVIF is closed although no vendor API claimed the camera: a camera with a
            // first-access page (Canon, i-PRO) shows it only while it has no administrator.
            let configured = FactoryState {
                factory_fresh: false,
                method: FirstBootMethod::Onvif,
            };
            match guided::first_access_page(&http).await {
                Ok(Some(_)) => Ok(FactoryState {
                    factory_fresh: true,
                    method: FirstBootMethod::Guided,
                }),
                Ok(None) => Ok(configured),
                Err(e) => {
                    unless_unreachable(&url, "GET first-access page", e)?;
                    Ok(configured)
                }
            }
        }
        Err(e) => Err(onvif_error(&url, "GetDeviceInformation", e)),
    }
}

/// Creates the first administrator `user` with `password` on a factory-fresh camera. The caller
/// must have stored the password (as pending) before calling this: once sent, it is the only key.
/// Returns how it was done; on success an ONVIF login as `user` has been verified.
pub async fn create_first_admin(
    input: &str,
    user: &str,
    password: &Sensitive<String>,
) -> Result<FirstBootMethod, CoreError> {
    let (method, ()) =
        create_first_admin_once_stored(input, user, password, None, async { Ok(()) }).await?;
    Ok(method)
}

/// [`create_first_admin`] for a caller still storing `password`: the camera's factory state is
/// read (its round trips, which send nothing secret) while `stored` runs, and the password is
/// sent only once `stored` has returned `Ok`. A failed `stored` is returned as it is and nothing
/// is sent. So a keychain write costs a camera no time of its own, yet the rule "stored before
/// it is sent" holds.
///
/// `seen`: the method a [`detect`] of the caller's found moments ago. The state is then only
/// confirmed, with that method's own anonymous question (one round trip, two for ONVIF, whose
/// session then sends CreateUsers), instead of a whole detection again.
pub async fn create_first_admin_once_stored<T>(
    input: &str,
    user: &str,
    password: &Sensitive<String>,
    seen: Option<FirstBootMethod>,
    stored: impl std::future::Future<Output = Result<T, CoreError>>,
) -> Result<(FirstBootMethod, T), CoreError> {
    let url = crate::target::device_url(input)?;
    let (stored, found) = tokio::join!(stored, still_fresh(&url, seen));
    let stored = stored?;
    let (found, onvif) = found?;
    if !found.factory_fresh {
        return Err(CoreError {
            code: "already_configured".into(),
            message: "the camera already has an administrator; log in with it instead".into(),
            camera: url,
            step: "detect factory state".into(),
        });
    }
    let password = password.expose();
    match found.method {
        FirstBootMethod::Hikvision => hikvision_first_admin(&url, user, password).await?,
        FirstBootMethod::Axis => axis_first_admin(&url, user, password).await?,
        FirstBootMethod::Guided => {
            // Nothing to send: a person must act on the camera's own page. The caller shows
            // this, then calls `verify_first_admin` once the person confirms.
            let page = first_access_page(&url).await?;
            return Err(CoreError {
                code: "guided_step_required".into(),
                message: format!(
                    "this camera takes its first administrator only on its own page: open {page}, \
                     create the user and enter the password Camward shows, then confirm"
                ),
                camera: url,
                step: "first-access page".into(),
            });
        }
        FirstBootMethod::Onvif => {
            let camera = match onvif {
                Some(camera) => camera,
                None => {
                    let camera = open(&url)?;
                    camera
                        .sync_clock()
                        .await
                        .map_err(|e| first_contact_error(&url, "GetSystemDateAndTime", e))?;
                    camera
                }
            };
            let admin = User {
                username: user.to_owned(),
                password: Some(password.clone()),
                level: UserLevel::Administrator,
            };
            camera
                .create_users(&[admin])
                .await
                .map_err(|e| onvif_error(&url, "CreateUsers", e))?;
        }
    }
    if found.method != FirstBootMethod::Onvif {
        verify_onvif_login(&url, user, password).await?;
    }
    Ok((found.method, stored))
}

/// The camera's factory state just before the password goes out: a whole [`detect`] when nothing
/// was `seen`, else the question that told `seen`'s method apart, asked again. For ONVIF the
/// session that asked is returned (its clock synced) to send CreateUsers on. An answer that no
/// longer fits `seen` (another vendor's API, none) falls back to a whole detection.
async fn still_fresh(
    url: &str,
    seen: Option<FirstBootMethod>,
) -> Result<(FactoryState, Option<CameraSession>), CoreError> {
    let state = |factory_fresh, method| FactoryState {
        factory_fresh,
        method,
    };
    let http = || VendorHttp::new(url).map_err(|e| vendor_error(url, "open connection", e));
    match seen {
        Some(FirstBootMethod::Hikvision) => match hikvision::activation_status(&http()?).await {
            Ok(Some(activated)) => {
                return Ok((state(!activated, FirstBootMethod::Hikvision), None))
            }
            Ok(None) => {}
            Err(e) => unless_unreachable(url, "GET /SDK/activateStatus", e)?,
        },
        Some(FirstBootMethod::Axis) => match axis::root_password(&http()?).await {
            Ok(Some(root)) => {
                return Ok((
                    state(root == RootPassword::Unset, FirstBootMethod::Axis),
                    None,
                ))
            }
            Ok(None) => {}
            Err(e) => unless_unreachable(url, "GET pwdgrp.cgi", e)?,
        },
        Some(FirstBootMethod::Onvif) => {
            let camera = open(url)?;
            camera
                .sync_clock()
                .await
                .map_err(|e| first_contact_error(url, "GetSystemDateAndTime", e))?;
            match camera.get_device_information().await {
                Ok(_) => return Ok((state(true, FirstBootMethod::Onvif), Some(camera))),
                Err(OnvifError::Refused(DeviceRefusal::NotAuthorized)) => {}
                Err(e) => return Err(onvif_error(url, "GetDeviceInformation", e)),
            }
        }
        Some(FirstBootMethod::Guided) | None => {}
    }
    Ok((detect(url).await?, None))
}

/// The address of the first-access page of a camera that takes the guided step (Canon, i-PRO):
/// the page the camera shows while it has no administrator, else its home page.
pub async fn first_access_page(input: &str) -> Result<String, CoreError> {
    let url = crate::target::device_url(input)?;
    let http = VendorHttp::new(&url).map_err(|e| vendor_error(&url, "open connection", e))?;
    Ok(guided::first_access_page(&http)
        .await
        .map_err(|e| vendor_error(&url, "GET first-access page", e))?
        .unwrap_or_else(|| format!("{}/", http.origin())))
}

/// The last step of the guided first boot: after the person confirms that they set `user` with
/// `password` on the camera's first-access page, checks that an ONVIF login with them works.
pub async fn verify_first_admin(
    input: &str,
    user: &str,
    password: &Sensitive<String>,
) -> Result<(), CoreError> {
    let url = crate::target::device_url(input)?;
    verify_onvif_login(&url, user, password.expose()).await
}

/// Hikvision: activate (`admin` gets the password), enable ONVIF, create the ONVIF account.
async fn hikvision_first_admin(url: &str, user: &str, password: &str) -> Result<(), CoreError> {
    let http = VendorHttp::new(url).map_err(|e| vendor_error(url, "open connection", e))?;
    hikvision::activate(&http, password)
        .await
        .map_err(|e| vendor_error(url, "ISAPI activate", e))?;
    let admin = http.login(Credentials::new(hikvision::ADMIN, password));
    hikvision::verify_login(&admin)
        .await
        .map_err(|e| vendor_error(url, "ISAPI login", e))?;
    hikvision::enable_onvif(&admin)
        .await
        .map_err(|e| vendor_error(url, "ISAPI enable ONVIF", e))?;
    hikvision::add_onvif_user(&admin, user, password, OnvifUserType::Administrator)
        .await
        .map_err(|e| vendor_error(url, "ISAPI create ONVIF user", e))
}

/// Axis: root gets the password over VAPIX; root's credentials then create the ONVIF account.
async fn axis_first_admin(url: &str, user: &str, password: &str) -> Result<(), CoreError> {
    let http = VendorHttp::new(url).map_err(|e| vendor_error(url, "open connection", e))?;
    axis::set_root_password(&http, password)
        .await
        .map_err(|e| vendor_error(url, "VAPIX set root password", e))?;
    let root = http.login(Credentials::new(axis::ROOT, password));
    axis::verify_login(&root)
        .await
        .map_err(|e| vendor_error(url, "VAPIX login", e))?;
    let camera = open(url)?;
    camera.set_credentials(Some(Credentials::new(axis::ROOT, password)), AuthMode::Auto);
    camera
        .sync_clock()
        .await
        .map_err(|e| first_contact_error(url, "GetSystemDateAndTime", e))?;
    let admin = User {
        username: user.to_owned(),
        password: Some(password.to_owned()),
        level: UserLevel::Administrator,
    };
    camera
        .create_users(&[admin])
        .await
        .map_err(|e| onvif_error(url, "CreateUsers", e))
}

/// Logs in over ONVIF as the new administrator: the proof that first boot worked.
async fn verify_onvif_login(url: &str, user: &str, password: &str) -> Result<(), CoreError> {
    let camera = open(url)?;
    camera.set_credentials(Some(Credentials::new(user, password)), AuthMode::Auto);
    camera
        .sync_clock()
        .await
        .map_err(|e| first_contact_error(url, "GetSystemDateAndTime", e))?;
    camera
        .get_device_information()
        .await
        .map(|_| ())
        .map_err(|e| onvif_error(url, "verify ONVIF login", e))
}

/// During detection a probe that gets no answer means the camera is unreachable; any answer that
/// is not the vendor's (a refusal, a page that is not ISAPI XML) only means "not this vendor".
fn unless_unreachable(url: &str, step: &str, e: VendorError) -> Result<(), CoreError> {
    match e {
        VendorError::Transport(
            TransportError::Timeout
            | TransportError::Connect(_)
            | TransportError::Tls(_)
            | TransportError::InvalidUrl(_),
        ) => Err(vendor_error(url, step, e)),
        _ => Ok(()),
    }
}

/// Maps a vendor API failure at `step` to the error that crosses the IPC/CLI boundary.
pub fn vendor_error(camera: &str, step: &str, e: VendorError) -> CoreError {
    CoreError {
        code: e.code().to_owned(),
        message: e.to_string(),
        camera: camera.to_owned(),
        step: step.to_owned(),
    }
}
