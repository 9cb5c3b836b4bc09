//! The cameras' mDNS / DNS-SD announcer (RFC 6762 Multicast DNS, RFC 6763 DNS-SD), as AXIS OS
//! ("Bonjour") and Canon firmware publish themselves.
//!
//! One `mdns-sd` daemon per fleet, restricted to the IPv4 side of the interface that holds the
//! fleet's bind address. Every camera registers `_http._tcp.local.` with TXT `mac`, `serial`,
//! `model`, `vendor`, `fw`; an Axis camera also registers `_axis-video._tcp.local.` with
//! `macaddress=<12 upper-case hex digits>`, as AXIS OS does. The instance name is
//! `<manufacturer> <model> - <serial tail>`, the host `cam-<mac hex>.local.` (one per camera,
//! all on the fleet's address), the port the camera's HTTP port.
//!
//! A camera is announced while [`crate::CameraState::mdns`] is on and it is not rebooting: a
//! reconciler compares every [`RECONCILE`] what is registered with what should be, so turning
//! mDNS off (Axis `param.cgi?action=update&Network.Bonjour.Enabled=no`, see [`crate::vapix`])
//! sends goodbyes (RFC 6762 §10.1, TTL 0) and the camera stops answering queries; a reboot makes
//! it vanish until it is back, like real firmware. Stopping the fleet says goodbye for all.
//!
//! Queries sent by unicast to the fleet's address on port 5353 are answered too, as real
//! responders do (RFC 6762 §5.5, §6.7): the daemon's socket is bound to the wildcard address, and
//! `mdns-sd` answers a query from a port other than 5353 (a "legacy" one-shot querier, such as the
//! hardening audit's mdns-off check) by unicast to that address and port, with the question
//! echoed. A camera whose mDNS is off has nothing registered, so it answers nothing.
//!
//! Written independently of Camward's mDNS client, so the two meet only on the wire. Off unless
//! asked for ([`crate::FleetConfig::mdns`]): multicast belongs in a test's own network namespace.
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

use mdns_sd::{IfKind, ServiceDaemon, ServiceInfo};

use crate::server::Camera;
use crate::{CameraInfo, Flavour};

/// How often each camera's registration is reconciled with its state.
pub const RECONCILE: Duration = Duration::from_millis(250);

/// The type every camera registers.
pub const HTTP: &str = "_http._tcp.local.";
/// The type Axis cameras add.
pub const AXIS_VIDEO: &str = "_axis-video._tcp.local.";

/// How long stopping waits for the daemon to have sent its goodbyes.
const GOODBYE_WAIT: Duration = Duration::from_secs(1);

/// One service a camera registers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Announcement {
    /// Service type with domain.
    pub ty_domain: &'static str,
    /// Instance name (unescaped).
    pub instance: String,
    /// Host name, `cam-<mac hex>.local.`.
    pub host: String,
    /// TXT `key=value` strings.
    pub txt: Vec<(&'static str, String)>,
}

/// `<manufacturer> <model> - <last 6 characters of the serial>`.
pub(crate) fn instance_name(info: &CameraInfo) -> String {
    let chars: Vec<char> = info.serial.chars().collect();
    let tail: String = chars[chars.len().saturating_sub(6)..].iter().collect();
    format!("{} {} - {tail}", info.manufacturer, info.model)
}

/// The MAC as 12 hex digits, upper-case, no separators (AXIS OS `macaddress`).
fn mac_hex(mac: &str) -> String {
    mac.chars()
        .filter(char::is_ascii_hexdigit)
        .collect::<String>()
        .to_ascii_uppercase()
}

/// What camera `info` announces.
pub(crate) fn announcements(info: &CameraInfo) -> Vec<Announcement> {
    let instance = instance_name(info);
    let host = format!("cam-{}.local.", mac_hex(&info.mac).to_ascii_lowercase());
    let mut out = vec![Announcement {
        ty_domain: HTTP,
        instance: instance.clone(),
        host: host.clone(),
        txt: vec![
            ("mac", info.mac.clone()),
            ("serial", info.serial.clone()),
            ("model", info.model.clone()),
            ("vendor", info.manufacturer.clone()),
            ("fw", info.firmware.clone()),
            ("path", "/".into()),
        ],
    }];
    if info.flavour == Flavour::Axis.name() {
        out.push(Announcement {
            ty_domain: AXIS_VIDEO,
            instance,
            host,
            txt: vec![("macaddress", mac_hex(&info.mac))],
        });
    }
    out
}

/// The records of `a` for a camera reachable at `address:port`.
fn service_info(
    a: &Announcement,
    address: Ipv4Addr,
    port: u16,
) -> Result<ServiceInfo, mdns_sd::Error> {
    ServiceInfo::new(
        a.ty_domain,
        &a.instance,
        &a.host,
        IpAddr::V4(address),
        port,
        &a.txt[..],
    )
}

/// The fleet's daemon; dropping it (the task aborted by [`crate::Fleet::shutdown`]) shuts it down,
/// which sends a goodbye for every registered service, and waits briefly for that to be done.
struct Daemon(ServiceDaemon);

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(status) = self.0.shutdown() {
            // Blocking, but for a moment only: the daemon thread sends the goodbyes and exits.
            let _ = status.recv_timeout(GOODBYE_WAIT);
        }
    }
}

/// Starts announcing `cameras` on the interface that holds `bind`; the task runs until aborted.
pub(crate) fn start(
    cameras: Vec<Arc<Camera>>,
    bind: Ipv4Addr,
) -> Result<tokio::task::JoinHandle<()>, mdns_sd::Error> {
    let daemon = Daemon(ServiceDaemon::new()?);
    // Selections apply in order: every interface off, then the IPv4 side of the bind address's.
    daemon.0.disable_interface(IfKind::All)?;
    daemon.0.enable_interface(IfKind::Addr(IpAddr::V4(bind)))?;
    let mut registered: Vec<Vec<String>> = vec![Vec::new(); cameras.len()];
    Ok(tokio::spawn(async move {
        let daemon = daemon;
        let mut tick = tokio::time::interval(RECONCILE);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            for (camera, names) in cameras.iter().zip(registered.iter_mut()) {
                let wanted = !camera.is_rebooting() && camera.snapshot().mdns;
                if wanted && names.is_empty() {
                    let info = camera.info();
                    for a in announcements(&info) {
                        match service_info(&a, bind, camera.http_port).and_then(|s| {
                            let name = s.get_fullname().to_owned();
                            daemon.0.register(s).map(|()| name)
                        }) {
                            Ok(name) => names.push(name),
                            Err(e) => {
                                tracing::warn!(camera = %info.id, error = %e, "mDNS registration failed")
                            }
                        }
                    }
                    tracing::debug!(camera = %info.id, services = names.len(), "mDNS on");
                } else if !wanted && !names.is_empty() {
                    for name in names.drain(..) {
                        if let Err(e) = daemon.0.unregister(&name) {
                            tracing::warn!(service = %name, error = %e, "mDNS goodbye failed");
                        }
                    }
                    tracing::debug!(camera = %camera.info().id, "mDNS off");
                }
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(flavour: Flavour) -> CameraInfo {
        CameraInfo {
            id: "camsim-00ab12".into(),
            device_url: "http://169.254.40.2:8000/onvif/device_service".into(),
            https_url: None,
            mac: "02:ca:5e:00:ab:12".into(),
            serial: "CS2K1234ABCD".into(),
            flavour: flavour.name().into(),
            manufacturer: "Camsim".into(),
            model: "CS-2000".into(),
            firmware: "1.4.2".into(),
            ..Default::default()
        }
    }

    #[test]
    fn an_axis_camera_announces_http_and_axis_video() {
        let all = announcements(&info(Flavour::Axis));
        assert_eq!(all.len(), 2);
        let axis = &all[1];
        assert_eq!(axis.ty_domain, AXIS_VIDEO);
        assert_eq!(axis.instance, "Camsim CS-2000 - 34ABCD");
        assert_eq!(axis.host, "cam-02ca5e00ab12.local.");
        assert_eq!(axis.txt, [("macaddress", "02CA5E00AB12".to_owned())]);
        let s = service_info(axis, Ipv4Addr::new(169, 254, 40, 2), 8000).unwrap();
        assert_eq!(
            s.get_fullname(),
            "Camsim CS-2000 - 34ABCD._axis-video._tcp.local."
        );
        assert_eq!(s.get_property_val_str("macaddress"), Some("02CA5E00AB12"));
        assert_eq!(s.get_port(), 8000);
    }

    #[test]
    fn every_camera_announces_http_with_its_identity() {
        for flavour in [
            Flavour::Generic,
            Flavour::Hikvision,
            Flavour::Canon,
            Flavour::IPro,
        ] {
            let all = announcements(&info(flavour));
            assert_eq!(all.len(), 1, "{flavour:?}");
            let http = &all[0];
            assert_eq!(http.ty_domain, HTTP);
            let s = service_info(http, Ipv4Addr::new(169, 254, 40, 2), 80).unwrap();
            for (key, value) in [
                ("mac", "02:ca:5e:00:ab:12"),
                ("serial", "CS2K1234ABCD"),
                ("model", "CS-2000"),
                ("vendor", "Camsim"),
                ("fw", "1.4.2"),
            ] {
                assert_eq!(s.get_property_val_str(key), Some(value), "{key}");
            }
            assert_eq!(s.get_hostname(), "cam-02ca5e00ab12.local.");
        }
    }

    #[test]
    fn a_short_serial_is_its_own_tail() {
        let mut i = info(Flavour::Generic);
        i.serial = "AB".into();
        assert_eq!(instance_name(&i), "Camsim CS-2000 - AB");
    }
}
