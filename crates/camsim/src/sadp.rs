//! The Hikvision cameras' SADP responder (Search Active Devices Protocol, Hikvision's own; no
//! published specification, so this follows what the SADP Tool and the firmware put on the wire).
//!
//! One UDP socket per fleet on port 37020 joins 239.255.255.250 on the interface of the fleet's
//! bind address. An inquiry, `<Probe><Uuid>…</Uuid><Types>inquiry</Types></Probe>`, is answered
//! by every Hikvision camera that is not rebooting, after a random delay of up to
//! [`MAX_DELAY_MS`], with a `ProbeMatch` multicast back to the group (TTL 1): the inquiry's
//! `Uuid`, the camera's model, serial, MAC, address, ports, firmware, and `Activated` — `false`
//! until ISAPI activation has set the `admin` password ([`crate::isapi`]).
//!
//! This is written independently of Camward's own discovery client, so the two meet only on the
//! wire. It is off unless asked for ([`crate::FleetConfig::vendor_discovery`]): multicast belongs
//! in a test's own network namespace, never on a real interface.
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::Arc;

use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;
use sha2::Digest as _;

use crate::server::{Camera, SetupIdentity};

/// The SADP multicast group.
pub const GROUP: Ipv4Addr = Ipv4Addr::new(239, 255, 255, 250);
/// The SADP port.
pub const PORT: u16 = 37020;
/// A camera answers after a random delay of up to this, so that a segment full of cameras does
/// not answer in one burst.
pub const MAX_DELAY_MS: u64 = 300;
/// The longest inquiry read; an inquiry is about 130 bytes.
const MAX_INQUIRY: usize = 4096;
/// The longest `Uuid` echoed back.
const MAX_UUID: usize = 64;
/// The SDK ("command") port of Hikvision firmware.
const COMMAND_PORT: u16 = 8000;

/// Reads an inquiry and returns its `Uuid`; anything else (a ProbeMatch, another request type,
/// anything malformed) is `None` and ignored, as firmware does.
pub(crate) fn parse_inquiry(datagram: &[u8]) -> Option<String> {
    if datagram.len() > MAX_INQUIRY {
        return None;
    }
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: 256,
        ..Default::default()
    };
    let doc = roxmltree::Document::parse_with_options(std::str::from_utf8(datagram).ok()?, options)
        .ok()?;
    let root = doc.root_element();
    if root.tag_name().name() != "Probe" {
        return None;
    }
    let text = |name: &str| {
        root.children()
            .find(|c| c.is_element() && c.tag_name().name() == name)
            .and_then(|c| c.text())
            .map(str::trim)
    };
    if !text("Types")?.eq_ignore_ascii_case("inquiry") {
        return None;
    }
    let uuid = text("Uuid")?;
    (!uuid.is_empty() && uuid.len() <= MAX_UUID).then(|| uuid.to_owned())
}

fn element(w: &mut Writer<Vec<u8>>, name: &str, value: &str) {
    // Writing into a Vec cannot fail; the results are ignored for that reason only.
    let _ = w.write_event(Event::Start(BytesStart::new(name)));
    let _ = w.write_event(Event::Text(BytesText::new(value)));
    let _ = w.write_event(Event::End(BytesEnd::new(name)));
}

fn flag(value: bool) -> &'static str {
    if value {
        "true"
    } else {
        "false"
    }
}

/// The ProbeMatch a camera multicasts in answer to the inquiry `uuid`.
pub(crate) fn probe_match(uuid: &str, camera: &SetupIdentity) -> String {
    let mut w = Writer::new(Vec::new());
    let _ = w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
    let _ = w.write_event(Event::Start(BytesStart::new("ProbeMatch")));
    let boot = time::OffsetDateTime::now_utc()
        - time::Duration::try_from(camera.uptime).unwrap_or_default();
    let boot = boot
        .format(time::macros::format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second]"
        ))
        .unwrap_or_default();
    // The salt of SADP's password-reset exchange is per device; a hash of the serial stands in.
    let salt = hex::encode(sha2::Sha256::digest(camera.info.serial.as_bytes()));
    let fields: [(&str, String); 34] = [
        ("Uuid", uuid.to_owned()),
        ("Types", "inquiry".into()),
        ("DeviceType", "138153".into()),
        ("DeviceDescription", camera.info.model.clone()),
        ("DeviceSN", camera.info.serial.clone()),
        ("CommandPort", COMMAND_PORT.to_string()),
        ("HttpPort", camera.http_port.to_string()),
        // Hikvision writes the MAC with dashes.
        ("MAC", camera.info.mac.replace(':', "-")),
        ("IPv4Address", camera.ip.to_string()),
        ("IPv4SubnetMask", camera.netmask.to_string()),
        ("IPv4Gateway", camera.gateway.to_string()),
        ("IPv6Address", "::".into()),
        ("IPv6Gateway", "::".into()),
        ("IPv6MaskLen", "64".into()),
        ("DHCP", flag(camera.dhcp).into()),
        ("AnalogChannelNum", "0".into()),
        ("DigitalChannelNum", "1".into()),
        ("SoftwareVersion", camera.info.firmware.clone()),
        ("DSPVersion", "V7.3 build 220112".into()),
        ("BootTime", boot),
        ("Encrypt", "true".into()),
        ("ResetAbility", "false".into()),
        ("DiskNumber", "0".into()),
        ("Activated", flag(camera.activated).into()),
        ("PasswordResetAbility", "true".into()),
        ("PasswordResetModeSecond", "true".into()),
        ("SupportSecurityQuestion", "true".into()),
        ("SupportHCPlatform", "true".into()),
        ("HCPlatformEnable", "false".into()),
        ("IsModifyVerificationCode", "false".into()),
        ("Salt", salt),
        ("DeviceLock", "false".into()),
        ("SDKServerStatus", "true".into()),
        ("SDKOverTLSPort", "8443".into()),
    ];
    for (name, value) in &fields {
        element(&mut w, name, value);
    }
    let _ = w.write_event(Event::End(BytesEnd::new("ProbeMatch")));
    String::from_utf8_lossy(&w.into_inner()).into_owned()
}

/// Binds the fleet's responder: port 37020 (shared, so several fleets, or a client, in one
/// namespace can each hold it), joined to the group on the interface that holds `bind`, sending
/// out of that interface only with a TTL of 1.
fn socket(bind: Ipv4Addr) -> std::io::Result<tokio::net::UdpSocket> {
    let socket = socket2::Socket::new(
        socket2::Domain::IPV4,
        socket2::Type::DGRAM,
        Some(socket2::Protocol::UDP),
    )?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    socket.bind(&SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, PORT)).into())?;
    socket.join_multicast_v4(&GROUP, &bind)?;
    socket.set_multicast_if_v4(&bind)?;
    socket.set_multicast_ttl_v4(1)?;
    socket.set_nonblocking(true)?;
    tokio::net::UdpSocket::from_std(socket.into())
}

/// Starts answering inquiries for `cameras` (the fleet's Hikvision cameras) until the task is
/// aborted.
pub(crate) fn start(
    cameras: Vec<Arc<Camera>>,
    bind: Ipv4Addr,
) -> std::io::Result<tokio::task::JoinHandle<()>> {
    let socket = Arc::new(socket(bind)?);
    Ok(tokio::spawn(async move {
        let mut buf = vec![0u8; 65_536];
        loop {
            let Ok((n, _)) = socket.recv_from(&mut buf).await else {
                continue;
            };
            let Some(uuid) = parse_inquiry(&buf[..n]) else {
                continue;
            };
            for camera in &cameras {
                // Silent while rebooting.
                let Some(identity) = camera.setup_identity() else {
                    continue;
                };
                let reply = probe_match(&uuid, &identity);
                let delay = rand::Rng::gen_range(&mut rand::thread_rng(), 0..=MAX_DELAY_MS);
                let socket = Arc::clone(&socket);
                tokio::spawn(async move {
                    tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
                    let group = SocketAddrV4::new(GROUP, PORT);
                    if let Err(e) = socket.send_to(reply.as_bytes(), group).await {
                        tracing::debug!(error = %e, "SADP ProbeMatch not sent");
                    }
                });
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> SetupIdentity {
        SetupIdentity {
            info: crate::CameraInfo {
                id: "camsim-000001".into(),
                device_url: "http://169.254.30.2:8080/onvif/device_service".into(),
                https_url: None,
                mac: "02:ca:5e:00:00:01".into(),
                serial: "CS2K00000001".into(),
                flavour: "hikvision".into(),
                manufacturer: "Camsim".into(),
                model: "CS-2000".into(),
                firmware: "1.4.2".into(),
                ..Default::default()
            },
            ip: Ipv4Addr::new(169, 254, 30, 2),
            http_port: 8080,
            netmask: Ipv4Addr::new(255, 255, 0, 0),
            gateway: Ipv4Addr::UNSPECIFIED,
            dhcp: false,
            name: "camsim-000001".into(),
            activated: false,
            admin_registered: false,
            uptime: std::time::Duration::from_secs(60),
            easy_ip_period_s: Some(1200),
        }
    }

    #[test]
    fn an_inquiry_is_answered_with_its_uuid_and_the_activation_state() {
        let uuid = parse_inquiry(
            br#"<?xml version="1.0" encoding="utf-8"?><Probe><Uuid>6A1B2C3D-0000-4000-8000-000000000001</Uuid><Types>inquiry</Types></Probe>"#,
        )
        .unwrap();
        assert_eq!(uuid, "6A1B2C3D-0000-4000-8000-000000000001");
        let xml = probe_match(&uuid, &identity());
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "ProbeMatch");
        let text = |name: &str| {
            root.children()
                .find(|c| c.tag_name().name() == name)
                .and_then(|c| c.text())
                .map(str::to_owned)
        };
        assert_eq!(text("Uuid").as_deref(), Some(uuid.as_str()));
        assert_eq!(text("MAC").as_deref(), Some("02-ca-5e-00-00-01"));
        assert_eq!(text("IPv4Address").as_deref(), Some("169.254.30.2"));
        assert_eq!(text("HttpPort").as_deref(), Some("8080"));
        assert_eq!(text("DeviceSN").as_deref(), Some("CS2K00000001"));
        assert_eq!(text("Activated").as_deref(), Some("false"));
        assert_eq!(text("Salt").map(|s| s.len()), Some(64));
        let activated = SetupIdentity {
            activated: true,
            ..identity()
        };
        assert!(probe_match(&uuid, &activated).contains("<Activated>true</Activated>"));
        // A ProbeMatch (ours, looping back) is not an inquiry.
        assert_eq!(parse_inquiry(xml.as_bytes()), None);
    }

    #[test]
    fn anything_but_an_inquiry_is_ignored() {
        assert_eq!(
            parse_inquiry(b"<Probe><Uuid>X</Uuid><Types>update</Types></Probe>"),
            None
        );
        assert_eq!(
            parse_inquiry(b"<Probe><Types>inquiry</Types></Probe>"),
            None
        );
        assert_eq!(parse_inquiry(b"<Probe><Uuid>"), None);
        let long = format!(
            "<Probe><Uuid>{}</Uuid><Types>inquiry</Types></Probe>",
            "A".repeat(MAX_UUID + 1)
        );
        assert_eq!(parse_inquiry(long.as_bytes()), None);
        // Whatever the Uuid holds is escaped on the way back.
        let hostile =
            parse_inquiry(b"<Probe><Uuid>a&lt;b&gt;&amp;</Uuid><Types>inquiry</Types></Probe>")
                .unwrap();
        let xml = probe_match(&hostile, &identity());
        assert!(roxmltree::Document::parse(&xml).is_ok());
    }
}
