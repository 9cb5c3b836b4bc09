//! Probe: what a camera tells without credentials.
use serde::Serialize;

use crate::CoreError;

/// One service the camera lists in GetServices.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ServiceEntry {
    /// Service namespace, e.g. `http://www.onvif.org/ver10/device/wsdl`.
    pub namespace: String,
    /// A short name for people (`device`, `media2`, `advanced security`, or the namespace).
    pub name: String,
    /// Where it is served.
    pub xaddr: String,
    /// `major.minor`.
    pub version: String,
}

/// What a camera says about itself before anyone logs in.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProbeReport {
    /// The device service URL probed.
    pub url: String,
    /// Manufacturer, when the camera tells it without credentials.
    pub manufacturer: Option<String>,
    /// Model, likewise.
    pub model: Option<String>,
    /// Firmware version, likewise.
    pub firmware: Option<String>,
    /// Serial number, likewise.
    pub serial: Option<String>,
    /// Camera clock minus laptop clock, in seconds.
    pub clock_offset_s: f64,
    /// The camera's UTC time as RFC 3339.
    pub camera_time: Option<String>,
    /// `Manual` or `NTP`.
    pub time_mode: String,
    /// Services listed by GetServices.
    pub services: Vec<ServiceEntry>,
    /// True when the camera allowed an anonymous GetDeviceInformation (factory state).
    pub anonymous_access: bool,
}

/// Asks the camera at `url` (device service URL, or a bare host/IP) what it tells without
/// credentials: clock, services, and device information when the camera allows it.
pub async fn probe(url: &str) -> Result<ProbeReport, CoreError> {
    // Placeholder until the ONVIF client lands: an honest error, not a fake report.
    Err(CoreError {
        code: "not_implemented".into(),
        message: "probing is not implemented yet".into(),
        camera: url.to_owned(),
        step: "probe".into(),
    })
}
