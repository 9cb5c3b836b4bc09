//! Probe: what a camera tells without credentials.
//!
//! ONVIF makes a few Device Management operations PRE_AUTH (ONVIF Core §5.9.4.3):
//! GetSystemDateAndTime, GetServices, GetCapabilities, GetHostname. The clock is read first so the
//! offset is known before any token is ever sent. GetDeviceInformation is READ_SYSTEM, so it only
//! answers anonymously while the camera is in its factory state — which is itself worth knowing.
use std::fmt::Write as _;

use camward_onvif::{DeviceRefusal, OnvifError};
use serde::Serialize;

use crate::session::{first_contact_error, onvif_error, open};
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

/// A readable name for a service namespace.
pub fn service_name(namespace: &str) -> String {
    let known = [
        ("http://www.onvif.org/ver10/device/wsdl", "device"),
        ("http://www.onvif.org/ver10/media/wsdl", "media"),
        ("http://www.onvif.org/ver20/media/wsdl", "media2"),
        (
            "http://www.onvif.org/ver10/advancedsecurity/wsdl",
            "advanced security",
        ),
        ("http://www.onvif.org/ver10/events/wsdl", "events"),
        ("http://www.onvif.org/ver20/imaging/wsdl", "imaging"),
        ("http://www.onvif.org/ver20/ptz/wsdl", "ptz"),
        ("http://www.onvif.org/ver10/deviceIO/wsdl", "device I/O"),
    ];
    known
        .iter()
        .find(|(ns, _)| *ns == namespace)
        .map_or_else(|| namespace.to_owned(), |(_, name)| (*name).to_owned())
}

/// Asks the camera at `input` (device service URL, or a bare host/IP) what it tells without
/// credentials: clock, services, and device information when the camera allows it.
pub async fn probe(input: &str) -> Result<ProbeReport, CoreError> {
    let url = crate::target::device_url(input)?;
    let camera = open(&url)?;
    let span = tracing::info_span!("probe", camera = %url);
    let _guard = span.enter();

    let offset = camera
        .sync_clock()
        .await
        .map_err(|e| first_contact_error(&url, "GetSystemDateAndTime", e))?;
    let date_time = camera
        .get_system_date_and_time()
        .await
        .map_err(|e| first_contact_error(&url, "GetSystemDateAndTime", e))?;
    let services = camera
        .get_services(false)
        .await
        .map_err(|e| onvif_error(&url, "GetServices", e))?
        .into_iter()
        .map(|s| ServiceEntry {
            name: service_name(&s.namespace),
            namespace: s.namespace,
            xaddr: s.xaddr,
            version: format!("{}.{}", s.major, s.minor),
        })
        .collect();
    let (info, anonymous_access) = match camera.get_device_information().await {
        Ok(info) => (Some(info), true),
        Err(OnvifError::Refused(DeviceRefusal::NotAuthorized)) => (None, false),
        Err(e) => return Err(onvif_error(&url, "GetDeviceInformation", e)),
    };
    let camera_time = date_time.utc.and_then(|t| {
        t.format(&time::format_description::well_known::Rfc3339)
            .ok()
    });
    Ok(ProbeReport {
        url,
        manufacturer: info.as_ref().map(|i| i.manufacturer.clone()),
        model: info.as_ref().map(|i| i.model.clone()),
        firmware: info.as_ref().map(|i| i.firmware_version.clone()),
        serial: info.as_ref().map(|i| i.serial_number.clone()),
        clock_offset_s: offset.as_seconds_f64(),
        camera_time,
        time_mode: match date_time.date_time_type {
            camward_onvif::device::DateTimeType::Manual => "Manual".into(),
            camward_onvif::device::DateTimeType::Ntp => "NTP".into(),
        },
        services,
        anonymous_access,
    })
}

/// "2 h 0 min ahead", "within 1 s", "35 s behind": how a person reads a clock offset.
pub fn describe_offset(seconds: f64) -> String {
    let magnitude = seconds.abs();
    if magnitude < 1.0 {
        return "within 1 s of this computer".into();
    }
    let direction = if seconds > 0.0 { "ahead of" } else { "behind" };
    let whole = magnitude.round() as u64;
    let text = if whole >= 3600 {
        format!("{} h {} min", whole / 3600, (whole % 3600) / 60)
    } else if whole >= 60 {
        format!("{} min {} s", whole / 60, whole % 60)
    } else {
        format!("{whole} s")
    };
    format!("{text} {direction} this computer")
}

/// The probe report as text for a terminal.
pub fn render_text(r: &ProbeReport) -> String {
    let mut s = String::new();
    let unknown = "(needs credentials)";
    let _ = writeln!(s, "Camera        {}", r.url);
    let _ = writeln!(
        s,
        "Manufacturer  {}",
        r.manufacturer.as_deref().unwrap_or(unknown)
    );
    let _ = writeln!(s, "Model         {}", r.model.as_deref().unwrap_or(unknown));
    let _ = writeln!(
        s,
        "Firmware      {}",
        r.firmware.as_deref().unwrap_or(unknown)
    );
    let _ = writeln!(
        s,
        "Serial        {}",
        r.serial.as_deref().unwrap_or(unknown)
    );
    let _ = writeln!(
        s,
        "Clock         {} ({}, {})",
        describe_offset(r.clock_offset_s),
        r.camera_time.as_deref().unwrap_or("time not reported"),
        r.time_mode
    );
    if r.anonymous_access {
        let _ = writeln!(
            s,
            "Access        OPEN: factory state, anyone on the network can configure this camera; set an administrator password now"
        );
    } else {
        let _ = writeln!(s, "Access        credentials required");
    }
    let _ = writeln!(s, "Services");
    for svc in &r.services {
        let _ = writeln!(s, "  {:<18} {:<5} {}", svc.name, svc.version, svc.xaddr);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_read_like_a_person_would_say_them() {
        assert_eq!(describe_offset(0.3), "within 1 s of this computer");
        assert_eq!(describe_offset(7200.4), "2 h 0 min ahead of this computer");
        assert_eq!(describe_offset(-7261.0), "2 h 1 min behind this computer");
        assert_eq!(describe_offset(-35.0), "35 s behind this computer");
        assert_eq!(describe_offset(95.0), "1 min 35 s ahead of this computer");
    }

    #[test]
    fn service_names() {
        assert_eq!(
            service_name("http://www.onvif.org/ver20/media/wsdl"),
            "media2"
        );
        assert_eq!(service_name("urn:x-vendor"), "urn:x-vendor");
    }
}
