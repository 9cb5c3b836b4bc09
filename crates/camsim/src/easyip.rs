//! The i-PRO cameras' Easy IP Setup responder.
//!
//! i-PRO's real datagrams are proprietary; camsim speaks the binary format Camward documents for
//! them (`camward_discovery::easyip`), implemented here separately so the two meet only on the
//! wire:
//!
//! ```text
//! "EIPS" | version 1 | opcode (1 search, 2 answer) | transaction u32 BE | TLVs…, END (0, 0)
//! TLV: type u16 BE | length u16 BE | value
//! answer TLVs: 1 MAC (6) · 2 IPv4 (4) · 3 netmask (4) · 4 gateway (4) · 5 HTTP port (u16) ·
//!              6 model · 7 serial · 8 firmware · 9 camera name (UTF-8) · 10 DHCP (u8) ·
//!              11 administrator registered (u8) · 12 valid period (u32 BE seconds, 0 unlimited)
//! ```
//!
//! One socket per fleet receives searches on UDP port 10670 (any address: they are broadcast).
//! Each i-PRO camera that is not rebooting, and whose uptime is still within its "Easy IP Setup
//! valid period" ([`crate::CameraState::easy_ip_period_s`], 20 minutes out of the box; the
//! hardening control `easy-ip-setup-limited`), answers after a random delay of up to
//! [`MAX_DELAY_MS`] by broadcast to 255.255.255.255:10669, sent from the fleet's bind address so
//! it leaves through that interface: a camera fresh from the box may sit on another subnet than
//! the client, so it cannot answer by unicast. "Administrator registered" says whether the
//! first-access page has created the administrator ([`crate::first_access`]); "valid period" what
//! the camera's page says for "Easy IP Setup valid period" (20 minutes, or 0 for unlimited).
//!
//! A search sent to the fleet's own address (the unicast query of a hardening audit, which knows
//! where the camera is) arrives on a second socket bound to that address and port 10670 (the
//! kernel prefers it over the wildcard one for unicast, and never gives it a broadcast); it is
//! answered, under the same conditions, by unicast to the address and port it came from.
//!
//! Off unless asked for ([`crate::FleetConfig::vendor_discovery`]): broadcast belongs in a test's
//! own network namespace, never on a real interface.
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::Arc;

use crate::server::{Camera, SetupIdentity};

/// Cameras listen for searches on this port.
pub const SEARCH_PORT: u16 = 10670;
/// Clients listen for answers on this port.
pub const ANSWER_PORT: u16 = 10669;
/// A camera answers after a random delay of up to this.
pub const MAX_DELAY_MS: u64 = 300;
/// The factory "Easy IP Setup valid period" of i-PRO cameras: 20 minutes.
pub const DEFAULT_PERIOD_S: u64 = 20 * 60;

const MAGIC: &[u8; 4] = b"EIPS";
const VERSION: u8 = 1;
const SEARCH: u8 = 1;
const ANSWER: u8 = 2;
const END: u16 = 0;

/// Reads a search and returns its transaction; anything else (an answer, another version,
/// anything short) is `None` and ignored, as firmware does.
pub(crate) fn parse_search(datagram: &[u8]) -> Option<u32> {
    match datagram {
        [m0, m1, m2, m3, VERSION, SEARCH, t0, t1, t2, t3, ..] if [*m0, *m1, *m2, *m3] == *MAGIC => {
            Some(u32::from_be_bytes([*t0, *t1, *t2, *t3]))
        }
        _ => None,
    }
}

fn tlv(out: &mut Vec<u8>, kind: u16, value: &[u8]) {
    let value = &value[..value.len().min(usize::from(u16::MAX))];
    out.extend_from_slice(&kind.to_be_bytes());
    out.extend_from_slice(&(value.len() as u16).to_be_bytes());
    out.extend_from_slice(value);
}

fn mac_octets(mac: &str) -> Vec<u8> {
    mac.split(':')
        .filter_map(|h| u8::from_str_radix(h, 16).ok())
        .collect()
}

/// The answer a camera broadcasts to the search `transaction`.
pub(crate) fn answer(transaction: u32, camera: &SetupIdentity) -> Vec<u8> {
    let mut out = Vec::with_capacity(160);
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    out.push(ANSWER);
    out.extend_from_slice(&transaction.to_be_bytes());
    tlv(&mut out, 1, &mac_octets(&camera.info.mac));
    tlv(&mut out, 2, &camera.ip.octets());
    tlv(&mut out, 3, &camera.netmask.octets());
    tlv(&mut out, 4, &camera.gateway.octets());
    tlv(&mut out, 5, &camera.http_port.to_be_bytes());
    tlv(&mut out, 6, camera.info.model.as_bytes());
    tlv(&mut out, 7, camera.info.serial.as_bytes());
    tlv(&mut out, 8, camera.info.firmware.as_bytes());
    tlv(&mut out, 9, camera.name.as_bytes());
    tlv(&mut out, 10, &[u8::from(camera.dhcp)]);
    tlv(&mut out, 11, &[u8::from(camera.admin_registered)]);
    // 0 says unlimited; a limited period is at least a second.
    let period = camera
        .easy_ip_period_s
        .map_or(0, |s| u32::try_from(s).unwrap_or(u32::MAX).max(1));
    tlv(&mut out, 12, &period.to_be_bytes());
    tlv(&mut out, END, &[]);
    out
}

/// Whether a camera answers Easy IP Setup now: only within its valid period after (re)boot.
pub(crate) fn answers(camera: &SetupIdentity) -> bool {
    camera
        .easy_ip_period_s
        .is_none_or(|period| camera.uptime.as_secs() < period)
}

fn udp() -> std::io::Result<socket2::Socket> {
    socket2::Socket::new(
        socket2::Domain::IPV4,
        socket2::Type::DGRAM,
        Some(socket2::Protocol::UDP),
    )
}

/// The socket searches arrive on: port 10670 on the wildcard address (a socket bound to a unicast
/// address never receives a datagram sent to 255.255.255.255), shared with other fleets.
fn search_socket() -> std::io::Result<tokio::net::UdpSocket> {
    let socket = udp()?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    socket.bind(&SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, SEARCH_PORT)).into())?;
    socket.set_nonblocking(true)?;
    tokio::net::UdpSocket::from_std(socket.into())
}

/// The socket unicast searches arrive on and are answered from: the fleet's own address, port
/// 10670.
fn unicast_socket(bind: Ipv4Addr) -> std::io::Result<tokio::net::UdpSocket> {
    let socket = udp()?;
    // Beside the wildcard socket of this and other fleets.
    socket.set_reuse_address(true)?;
    socket.bind(&SocketAddr::V4(SocketAddrV4::new(bind, SEARCH_PORT)).into())?;
    socket.set_nonblocking(true)?;
    tokio::net::UdpSocket::from_std(socket.into())
}

/// The socket answers leave from: bound to the fleet's address, so the kernel sends the limited
/// broadcast out of that interface alone.
fn answer_socket(bind: Ipv4Addr) -> std::io::Result<tokio::net::UdpSocket> {
    let socket = udp()?;
    socket.set_broadcast(true)?;
    socket.bind(&SocketAddr::V4(SocketAddrV4::new(bind, 0)).into())?;
    socket.set_nonblocking(true)?;
    tokio::net::UdpSocket::from_std(socket.into())
}

/// Has each camera of `cameras` that answers now send its answer to `transaction`, after a random
/// delay, from `socket` to `to`.
fn respond(
    cameras: &[Arc<Camera>],
    transaction: u32,
    socket: &Arc<tokio::net::UdpSocket>,
    to: SocketAddr,
) {
    for camera in cameras {
        // Silent while rebooting, and once the valid period is over.
        let Some(identity) = camera.setup_identity().filter(answers) else {
            continue;
        };
        let reply = answer(transaction, &identity);
        let delay = rand::Rng::gen_range(&mut rand::thread_rng(), 0..=MAX_DELAY_MS);
        let socket = Arc::clone(socket);
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
            if let Err(e) = socket.send_to(&reply, to).await {
                tracing::debug!(error = %e, "Easy IP Setup answer not sent");
            }
        });
    }
}

/// The next datagram on the unicast socket; never, without one.
async fn recv_unicast(
    socket: Option<&tokio::net::UdpSocket>,
    buf: &mut [u8],
) -> std::io::Result<(usize, SocketAddr)> {
    match socket {
        Some(socket) => socket.recv_from(buf).await,
        None => std::future::pending().await,
    }
}

/// Starts answering searches for `cameras` (the fleet's i-PRO cameras) until the task is aborted:
/// broadcast searches by broadcast, searches sent to `bind` by unicast.
pub(crate) fn start(
    cameras: Vec<Arc<Camera>>,
    bind: Ipv4Addr,
) -> std::io::Result<tokio::task::JoinHandle<()>> {
    let searches = search_socket()?;
    // A fleet on the wildcard address takes unicast searches on the wildcard socket already (and
    // answers them by broadcast, as before).
    let unicast = if bind.is_unspecified() {
        None
    } else {
        Some(Arc::new(unicast_socket(bind)?))
    };
    let answers_out = Arc::new(answer_socket(bind)?);
    let broadcast = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::BROADCAST, ANSWER_PORT));
    Ok(tokio::spawn(async move {
        let mut buf = vec![0u8; 2048];
        let mut direct = vec![0u8; 2048];
        loop {
            tokio::select! {
                received = searches.recv_from(&mut buf) => {
                    let Ok((n, _)) = received else { continue };
                    if let Some(transaction) = parse_search(&buf[..n]) {
                        respond(&cameras, transaction, &answers_out, broadcast);
                    }
                }
                received = recv_unicast(unicast.as_deref(), &mut direct) => {
                    let Ok((n, from)) = received else { continue };
                    if let (Some(transaction), Some(socket)) = (parse_search(&direct[..n]), &unicast) {
                        respond(&cameras, transaction, socket, from);
                    }
                }
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use super::*;

    fn identity() -> SetupIdentity {
        SetupIdentity {
            info: crate::CameraInfo {
                id: "camsim-000005".into(),
                device_url: "http://169.254.30.2:8084/onvif/device_service".into(),
                https_url: None,
                mac: "02:ca:5e:00:00:05".into(),
                serial: "CS2K00000005".into(),
                flavour: "i-pro".into(),
                manufacturer: "Camsim".into(),
                model: "CS-2000".into(),
                firmware: "1.4.2".into(),
                ..Default::default()
            },
            ip: Ipv4Addr::new(169, 254, 30, 2),
            http_port: 8084,
            netmask: Ipv4Addr::new(255, 255, 0, 0),
            gateway: Ipv4Addr::new(169, 254, 0, 1),
            dhcp: true,
            name: "Lobby".into(),
            activated: false,
            admin_registered: false,
            uptime: Duration::from_secs(60),
            easy_ip_period_s: Some(DEFAULT_PERIOD_S),
        }
    }

    /// Reads an answer the long way round, TLV by TLV, as a client would.
    fn tlvs(datagram: &[u8]) -> (u32, BTreeMap<u16, Vec<u8>>) {
        assert_eq!(&datagram[..6], b"EIPS\x01\x02");
        let transaction = u32::from_be_bytes(datagram[6..10].try_into().unwrap());
        let mut rest = &datagram[10..];
        let mut out = BTreeMap::new();
        loop {
            let kind = u16::from_be_bytes([rest[0], rest[1]]);
            let len = usize::from(u16::from_be_bytes([rest[2], rest[3]]));
            let value = rest[4..4 + len].to_vec();
            rest = &rest[4 + len..];
            if kind == END {
                assert!(rest.is_empty(), "nothing after END");
                return (transaction, out);
            }
            out.insert(kind, value);
        }
    }

    #[test]
    fn a_search_is_answered_with_its_transaction_and_the_first_access_state() {
        let search = b"EIPS\x01\x01\xde\xad\xbe\xef\x00\x00\x00\x00";
        let transaction = parse_search(search).unwrap();
        assert_eq!(transaction, 0xdead_beef);
        let reply = answer(transaction, &identity());
        let (echoed, fields) = tlvs(&reply);
        assert_eq!(echoed, 0xdead_beef);
        assert_eq!(fields[&1], [0x02, 0xca, 0x5e, 0, 0, 5]);
        assert_eq!(fields[&2], [169, 254, 30, 2]);
        assert_eq!(fields[&3], [255, 255, 0, 0]);
        assert_eq!(fields[&5], 8084u16.to_be_bytes());
        assert_eq!(fields[&7], b"CS2K00000005");
        assert_eq!(fields[&9], b"Lobby");
        assert_eq!(fields[&10], [1]);
        assert_eq!(fields[&11], [0]);
        assert_eq!(fields[&12], 1200u32.to_be_bytes());
        let unlimited = SetupIdentity {
            easy_ip_period_s: None,
            ..identity()
        };
        assert_eq!(tlvs(&answer(1, &unlimited)).1[&12], [0, 0, 0, 0]);
        let registered = SetupIdentity {
            admin_registered: true,
            ..identity()
        };
        assert_eq!(tlvs(&answer(1, &registered)).1[&11], [1]);
        // An answer (ours, looping back) is not a search; neither is a short or foreign datagram.
        assert_eq!(parse_search(&reply), None);
        assert_eq!(parse_search(b"EIPS\x01\x01\x00"), None);
        assert_eq!(
            parse_search(b"EIPS\x02\x01\x00\x00\x00\x01\x00\x00\x00\x00"),
            None
        );
        assert_eq!(
            parse_search(b"XIPS\x01\x01\x00\x00\x00\x01\x00\x00\x00\x00"),
            None
        );
    }

    #[test]
    fn the_valid_period_limits_answers() {
        assert!(answers(&identity()));
        let late = SetupIdentity {
            uptime: Duration::from_secs(DEFAULT_PERIOD_S),
            ..identity()
        };
        assert!(!answers(&late));
        let unlimited = SetupIdentity {
            easy_ip_period_s: None,
            ..late
        };
        assert!(answers(&unlimited));
    }
}
