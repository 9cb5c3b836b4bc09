//! The camera's UPnP presence: SSDP announcements and search answers (UPnP Device Architecture
//! 1.1 §1, "Discovery") and its device description (§2).
//!
//! Glossary: *NT* notification type and *ST* search target (what a message is about:
//! `upnp:rootdevice`, `uuid:<device UUID>`, or a device type URN); *USN* unique service name,
//! `uuid:<device UUID>` optionally followed by `::<type>`; *NTS* `ssdp:alive` or `ssdp:byebye`;
//! *MX* how many seconds a searcher waits, over which answers are spread.
//!
//! While UPnP is on ([`crate::CameraState::upnp`]: i-PRO's default; the hardening control
//! upnp-off turns it off) and the camera is not rebooting, the camera
//! - multicasts `NOTIFY * HTTP/1.1` with `NTS: ssdp:alive` for each of its three NTs when it comes
//!   up and again every [`ALIVE_EVERY`] (§1.2.2), from the fleet's address, TTL [`TTL`];
//! - answers an `M-SEARCH` (`MAN: "ssdp:discover"`) for `ssdp:all`, `upnp:rootdevice`, its UUID or
//!   its device type by unicast `HTTP/1.1 200 OK` with `ST`, `USN`, `LOCATION`
//!   (`http://<host>:<http port>`[`DEVICE_DESCRIPTION`]), `SERVER`, `CACHE-CONTROL` and `EXT`,
//!   after a random delay within `MX` (at most 5 s, §1.3.3); `ssdp:all` gets one answer per NT;
//!   a unicast search (sent to the camera's address: its `HOST` names that address, not the group,
//!   and it has no `MX`, §1.3.2) arrives on the same socket and is answered the same way, at once;
//! - and says `ssdp:byebye` for each NT when UPnP is turned off, before a reboot, and when the
//!   fleet stops (§1.2.3).
//!
//! Multicast needs a real interface: [`crate::services`] starts this only on a non-loopback IPv4
//! address, which tests have only inside a network namespace of their own. A unicast search is
//! faithful for a camera alone on its address (a lab camera in a namespace of its own): in a fleet
//! whose cameras share one address, the kernel hands a unicast datagram to one camera's socket of
//! the shared port, so one camera of the fleet answers it.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::server::Camera;

/// The SSDP multicast group.
pub const GROUP: Ipv4Addr = Ipv4Addr::new(239, 255, 255, 250);
/// The SSDP port.
pub const PORT: u16 = 1900;
/// The device type the camera announces.
pub const DEVICE_TYPE: &str = "urn:schemas-upnp-org:device:Basic:1";
/// Where the device description is served on the camera's HTTP port.
pub const DEVICE_DESCRIPTION: &str = "/upnp/device.xml";
/// How often an alive camera re-announces itself (well inside [`MAX_AGE_S`]).
pub const ALIVE_EVERY: Duration = Duration::from_secs(30);
/// `CACHE-CONTROL: max-age` of announcements and answers.
pub const MAX_AGE_S: u32 = 1800;
/// The multicast TTL (UPnP Device Architecture 1.1 §1.1.2 recommends 2).
pub const TTL: u32 = 2;
/// The largest datagram read.
const MAX_DATAGRAM: usize = 2048;
/// How often UPnP on/off is reconciled with what was last announced.
const RECONCILE: Duration = Duration::from_millis(250);

/// An `M-SEARCH` as a device reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Search {
    /// The search target.
    pub st: String,
    /// Seconds to spread the answer over (1 when absent or nonsense, at most 5).
    pub mx: u64,
    /// Sent to the device's own address (`HOST` is not the group): answered at once.
    pub unicast: bool,
}

/// Reads an `M-SEARCH`; anything else is `None` and ignored.
pub(crate) fn parse_search(datagram: &[u8]) -> Option<Search> {
    if datagram.len() > MAX_DATAGRAM {
        return None;
    }
    let text = std::str::from_utf8(datagram).ok()?;
    let mut lines = text.split("\r\n");
    if lines.next()?.trim() != "M-SEARCH * HTTP/1.1" {
        return None;
    }
    let (mut st, mut man, mut mx, mut host) = (None, None, 1, None);
    for line in lines.take(64) {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match name.trim().to_ascii_uppercase().as_str() {
            "ST" => st = Some(value.to_owned()),
            "MAN" => man = Some(value.trim_matches('"').to_owned()),
            "MX" => mx = value.parse::<u64>().unwrap_or(1).clamp(1, 5),
            "HOST" => host = Some(value.to_owned()),
            _ => {}
        }
    }
    // §1.3.2: MAN must be "ssdp:discover"; a search without it is not one.
    (man.as_deref() == Some("ssdp:discover")).then_some(())?;
    let group = format!("{GROUP}:{PORT}");
    let unicast = host.is_some_and(|h| h != group && h != GROUP.to_string());
    Some(Search {
        st: st?,
        mx,
        unicast,
    })
}

/// The (NT, USN) pairs a device with UUID `guid` announces (§1.2.2, for a root device without
/// embedded devices or services).
pub(crate) fn notification_types(guid: &str) -> Vec<(String, String)> {
    vec![
        (
            "upnp:rootdevice".to_owned(),
            format!("uuid:{guid}::upnp:rootdevice"),
        ),
        (format!("uuid:{guid}"), format!("uuid:{guid}")),
        (
            DEVICE_TYPE.to_owned(),
            format!("uuid:{guid}::{DEVICE_TYPE}"),
        ),
    ]
}

/// The (ST, USN) pairs answering a search for `st`.
pub(crate) fn answers_to(st: &str, guid: &str) -> Vec<(String, String)> {
    let all = notification_types(guid);
    if st == "ssdp:all" {
        return all;
    }
    all.into_iter()
        .filter(|(nt, _)| nt.eq_ignore_ascii_case(st))
        .collect()
}

/// An answer to a search (§1.3.3).
pub(crate) fn response(st: &str, usn: &str, location: &str, server: &str) -> String {
    format!(
        "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age={MAX_AGE_S}\r\nEXT:\r\nLOCATION: {location}\r\n\
         SERVER: {server}\r\nST: {st}\r\nUSN: {usn}\r\n\r\n"
    )
}

/// A `NOTIFY` (§1.2.2 alive, §1.2.3 byebye).
pub(crate) fn notify(nt: &str, usn: &str, location: &str, server: &str, alive: bool) -> String {
    if alive {
        format!(
            "NOTIFY * HTTP/1.1\r\nHOST: {GROUP}:{PORT}\r\nCACHE-CONTROL: max-age={MAX_AGE_S}\r\n\
             LOCATION: {location}\r\nNT: {nt}\r\nNTS: ssdp:alive\r\nSERVER: {server}\r\nUSN: {usn}\r\n\r\n"
        )
    } else {
        format!(
            "NOTIFY * HTTP/1.1\r\nHOST: {GROUP}:{PORT}\r\nNT: {nt}\r\nNTS: ssdp:byebye\r\nUSN: {usn}\r\n\r\n"
        )
    }
}

/// The device description served at [`DEVICE_DESCRIPTION`] (§2.3).
pub(crate) fn device_description(
    guid: &str,
    manufacturer: &str,
    model: &str,
    serial: &str,
    presentation: &str,
) -> String {
    let e = |s: &str| quick_xml::escape::escape(s).into_owned();
    format!(
        "<?xml version=\"1.0\"?>\n<root xmlns=\"urn:schemas-upnp-org:device-1-0\">\
         <specVersion><major>1</major><minor>1</minor></specVersion><device>\
         <deviceType>{DEVICE_TYPE}</deviceType><friendlyName>{} {}</friendlyName>\
         <manufacturer>{}</manufacturer><modelName>{}</modelName><serialNumber>{}</serialNumber>\
         <UDN>uuid:{}</UDN><presentationURL>{}</presentationURL></device></root>",
        e(manufacturer),
        e(model),
        e(manufacturer),
        e(model),
        e(serial),
        e(guid),
        e(presentation)
    )
}

/// The camera's `SERVER` header: OS, UPnP version, product (§1.2.2).
fn server_header(firmware: &str) -> String {
    format!("Linux/5.10 UPnP/1.1 camsim/{firmware}")
}

/// One camera's SSDP sockets: searches arrive on the group port, everything leaves from the
/// camera's own address.
#[derive(Debug)]
pub(crate) struct Sockets {
    group: tokio::net::UdpSocket,
    out: Arc<tokio::net::UdpSocket>,
}

fn udp() -> std::io::Result<socket2::Socket> {
    socket2::Socket::new(
        socket2::Domain::IPV4,
        socket2::Type::DGRAM,
        Some(socket2::Protocol::UDP),
    )
}

/// Opens the sockets on the interface that holds `bind`.
pub(crate) fn sockets(bind: Ipv4Addr) -> std::io::Result<Sockets> {
    let group = udp()?;
    // Shared with every other camera of the fleet and any control point on the host: each joined
    // socket gets its own copy of a multicast datagram.
    group.set_reuse_address(true)?;
    group.set_reuse_port(true)?;
    group.bind(&SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, PORT)).into())?;
    group.join_multicast_v4(&GROUP, &bind)?;
    group.set_nonblocking(true)?;
    let out = udp()?;
    out.bind(&SocketAddr::V4(SocketAddrV4::new(bind, 0)).into())?;
    out.set_multicast_if_v4(&bind)?;
    out.set_multicast_ttl_v4(TTL)?;
    out.set_nonblocking(true)?;
    Ok(Sockets {
        group: tokio::net::UdpSocket::from_std(group.into())?,
        out: Arc::new(tokio::net::UdpSocket::from_std(out.into())?),
    })
}

/// What the camera announces, and whether it is announced; dropping it (the fleet stopping, the
/// task aborted) says byebye for what is still alive.
struct Presence {
    out: Arc<tokio::net::UdpSocket>,
    types: Vec<(String, String)>,
    alive: bool,
}

impl Presence {
    /// Sends one NOTIFY per NT; without waiting, so that it also works from `drop`.
    fn announce(&mut self, alive: bool, location: &str, server: &str) {
        for (nt, usn) in &self.types {
            let message = notify(nt, usn, location, server, alive);
            if let Err(e) = self.out.try_send_to(
                message.as_bytes(),
                SocketAddr::V4(SocketAddrV4::new(GROUP, PORT)),
            ) {
                tracing::debug!(error = %e, "SSDP NOTIFY not sent");
            }
        }
        self.alive = alive;
    }
}

impl Drop for Presence {
    fn drop(&mut self) {
        if self.alive {
            self.announce(false, "", "");
        }
    }
}

/// Announces and answers for `camera` until the task is aborted.
pub(crate) async fn run(camera: Arc<Camera>, sockets: Sockets) {
    let info = camera.info();
    let guid = camera.guid().to_owned();
    let location = format!(
        "http://{}:{}{DEVICE_DESCRIPTION}",
        camera.host(),
        camera.http_port
    );
    let server = server_header(&info.firmware);
    let mut presence = Presence {
        out: sockets.out.clone(),
        types: notification_types(&guid),
        alive: false,
    };
    let mut last_alive = Instant::now();
    let mut tick = tokio::time::interval(RECONCILE);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut buf = vec![0u8; MAX_DATAGRAM + 1];
    let wanted = |camera: &Camera| {
        !camera.is_stopped() && !camera.is_rebooting() && camera.with_state(|s| s.upnp)
    };
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let wanted = wanted(&camera);
                if wanted && (!presence.alive || last_alive.elapsed() >= ALIVE_EVERY) {
                    presence.announce(true, &location, &server);
                    last_alive = Instant::now();
                } else if !wanted && presence.alive {
                    presence.announce(false, &location, &server);
                }
                if camera.is_stopped() {
                    return;
                }
            }
            received = sockets.group.recv_from(&mut buf) => {
                let Ok((n, from)) = received else { continue };
                if n > MAX_DATAGRAM || !presence.alive || !wanted(&camera) || !camera.admits(from.ip()) {
                    continue;
                }
                let Some(search) = parse_search(&buf[..n]) else { continue };
                for (st, usn) in answers_to(&search.st, &guid) {
                    let answer = response(&st, &usn, &location, &server);
                    let delay = if search.unicast {
                        0
                    } else {
                        rand::Rng::gen_range(&mut rand::thread_rng(), 0..search.mx * 1000)
                    };
                    let out = sockets.out.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(Duration::from_millis(delay)).await;
                        if let Err(e) = out.send_to(answer.as_bytes(), from).await {
                            tracing::debug!(error = %e, "SSDP answer not sent");
                        }
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GUID: &str = "00000000-0000-0001-0000-000000000000";

    #[test]
    fn searches_need_man_and_answer_each_matching_type() {
        let search = b"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 9\r\nST: ssdp:all\r\n\r\n";
        assert_eq!(
            parse_search(search),
            Some(Search {
                st: "ssdp:all".into(),
                mx: 5,
                unicast: false,
            })
        );
        let unicast = b"M-SEARCH * HTTP/1.1\r\nHOST: 10.77.0.30:1900\r\nMAN: \"ssdp:discover\"\r\nST: upnp:rootdevice\r\n\r\n";
        assert_eq!(
            parse_search(unicast),
            Some(Search {
                st: "upnp:rootdevice".into(),
                mx: 1,
                unicast: true,
            })
        );
        let no_man = b"M-SEARCH * HTTP/1.1\r\nST: ssdp:all\r\n\r\n";
        assert_eq!(parse_search(no_man), None);
        assert_eq!(parse_search(b"NOTIFY * HTTP/1.1\r\n\r\n"), None);
        assert_eq!(answers_to("ssdp:all", GUID).len(), 3);
        let root = answers_to("upnp:rootdevice", GUID);
        assert_eq!(
            root,
            vec![(
                "upnp:rootdevice".to_owned(),
                format!("uuid:{GUID}::upnp:rootdevice")
            )]
        );
        assert_eq!(answers_to(DEVICE_TYPE, GUID).len(), 1);
        assert!(answers_to("urn:schemas-upnp-org:device:MediaServer:1", GUID).is_empty());
        let answer = response(
            &root[0].0,
            &root[0].1,
            "http://10.0.0.2:80/upnp/device.xml",
            "x",
        );
        assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"));
        assert!(answer
            .contains("\r\nUSN: uuid:00000000-0000-0001-0000-000000000000::upnp:rootdevice\r\n"));
        assert!(notify("upnp:rootdevice", "u", "l", "s", false).contains("NTS: ssdp:byebye"));
    }
}
