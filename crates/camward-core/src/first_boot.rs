//! First boot: creating the first administrator on a camera in its factory state.
//!
//! Flavours (issue 4): ONVIF (anonymous CreateUsers while the device is in its factory state, ONVIF
//! Profile Q FactoryDefault), Axis (`pwdgrp.cgi` add root while no root password is set), Hikvision
//! (ISAPI activation), Canon / i-PRO (ONVIF where allowed, else a guided step).
//!
//! INTERFACE CONTRACT: `detect` and `create_first_admin` signatures are fixed; the vendor helper adds
//! the Axis and Hikvision paths behind them.
use camward_onvif::device::{User, UserLevel};
use camward_onvif::{DeviceRefusal, OnvifError};
use camward_vault::Sensitive;
use serde::Serialize;

use crate::session::{first_contact_error, onvif_error, open};
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
    let camera = open(&url)?;
    camera.sync_clock().await.map_err(|e| first_contact_error(&url, "GetSystemDateAndTime", e))?;
    match camera.get_device_information().await {
        Ok(_) => Ok(FactoryState { factory_fresh: true, method: FirstBootMethod::Onvif }),
        Err(OnvifError::Refused(DeviceRefusal::NotAuthorized)) => {
            Ok(FactoryState { factory_fresh: false, method: FirstBootMethod::Onvif })
        }
        Err(e) => Err(onvif_error(&url, "GetDeviceInformation", e)),
    }
}

/// Creates the first administrator `user` with `password` on a factory-fresh camera. The caller
/// must have stored the password (as pending) before calling this: once sent, it is the only key.
pub async fn create_first_admin(
    input: &str,
    user: &str,
    password: &Sensitive<String>,
) -> Result<FirstBootMethod, CoreError> {
    let url = crate::target::device_url(input)?;
    let camera = open(&url)?;
    camera.sync_clock().await.map_err(|e| first_contact_error(&url, "GetSystemDateAndTime", e))?;
    let admin = User {
        username: user.to_owned(),
        password: Some(password.expose().clone()),
        level: UserLevel::Administrator,
    };
    camera.create_users(&[admin]).await.map_err(|e| onvif_error(&url, "CreateUsers", e))?;
    Ok(FirstBootMethod::Onvif)
}
