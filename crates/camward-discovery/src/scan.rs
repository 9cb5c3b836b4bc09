//! A WS-Discovery scan on one interface: multicast a Probe (TTL 1, out of that interface only),
//! read the unicast ProbeMatches that answer it, and, for as long as the scan runs, listen to the
//! group for the Hello a device multicasts when it joins and the Bye when it leaves.
//!
//! The Probe is sent twice, 100 ms apart: WS-Discovery runs over UDP, and SOAP-over-UDP (§3.4)
//! has senders repeat multicast messages because a datagram can be lost. Replies to other
//! clients' probes, Probes, and anything unreadable are dropped (and counted). Every device is
//! reported as a [`Sighting`] as soon as its answer arrives; dropping the future stops the scan.
use std::collections::BTreeSet;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::Duration;

use crate::scopes::ScopeInfo;
use crate::sighting::{Method, ScanStats, Sighting, Sightings};
use crate::wsd::{Endpoint, Probe, WsdMessage, MAX_DATAGRAM};

/// The WS-Discovery multicast group (IPv4) and port.
pub const GROUP: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(239, 255, 255, 250), 3702);

/// The receive buffer asked for.
const RECEIVE_BUFFER: usize = 4 << 20;

fn udp() -> std::io::Result<socket2::Socket> {
    socket2::Socket::new(
        socket2::Domain::IPV4,
        socket2::Type::DGRAM,
        Some(socket2::Protocol::UDP),
    )
}

/// The socket the Probe leaves from and its answers come back to.
fn probe_socket(interface: Ipv4Addr) -> std::io::Result<tokio::net::UdpSocket> {
    let socket = udp()?;
    // Bound to the interface's address, so answers come back to this interface only, and the
    // probe leaves through it alone with a TTL of 1: it never crosses a router.
    socket.bind(&SocketAddr::V4(SocketAddrV4::new(interface, 0)).into())?;
    socket.set_multicast_if_v4(&interface)?;
    socket.set_multicast_ttl_v4(1)?;
    // Dozens of cameras answer within APP_MAX_DELAY (500 ms) of each other; a larger receive
    // buffer (the kernel caps it at net.core.rmem_max) keeps a burst from being dropped.
    let _ = socket.set_recv_buffer_size(RECEIVE_BUFFER);
    socket.set_nonblocking(true)?;
    tokio::net::UdpSocket::from_std(socket.into())
}

/// The socket that hears the group on `interface`: Hello and Bye are multicast to it. Shared with
/// anything else listening on 3702 (another client, a camera on this machine).
fn group_socket(interface: Ipv4Addr) -> std::io::Result<tokio::net::UdpSocket> {
    let socket = udp()?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    socket.bind(&SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, GROUP.port())).into())?;
    socket.join_multicast_v4(GROUP.ip(), &interface)?;
    let _ = socket.set_recv_buffer_size(RECEIVE_BUFFER);
    socket.set_nonblocking(true)?;
    tokio::net::UdpSocket::from_std(socket.into())
}

/// The sighting one endpoint makes.
pub fn sighting(endpoint: &Endpoint, from: SocketAddr) -> Sighting {
    let scopes = ScopeInfo::from_scopes(&endpoint.scopes);
    let mut s = Sighting::new(Method::WsDiscovery);
    // The address the device gives in its XAddrs, else where the datagram came from (a device
    // with several addresses may answer from another one).
    let from_xaddrs = endpoint.xaddrs.iter().find_map(|x| {
        let rest = x.split_once("://")?.1;
        let authority = rest.split('/').next()?;
        authority.split(':').next()?.parse::<Ipv4Addr>().ok()
    });
    s.ip = from_xaddrs.or(match from {
        SocketAddr::V4(v4) => Some(*v4.ip()),
        SocketAddr::V6(_) => None,
    });
    s.urls.clone_from(&endpoint.xaddrs);
    s.endpoint = Some(endpoint.address.clone());
    s.model = scopes.hardware;
    s.name = scopes.name;
    s.mac = scopes.mac;
    s.serial = scopes.serial;
    // Profile Q: FactoryDefault or Operational. A device without Profile Q says neither.
    s.factory_fresh = if scopes.factory_default {
        Some(true)
    } else if scopes.profiles.iter().any(|p| p == "Q") {
        Some(false)
    } else {
        None
    };
    s
}

/// Probes for ONVIF devices on the interface that holds `interface`, and listens for answers,
/// Hellos and Byes for `wait`; each device goes to `found` once (a Bye as a `gone` sighting).
pub async fn scan(
    interface: Ipv4Addr,
    wait: Duration,
    found: Sightings,
) -> std::io::Result<ScanStats> {
    let socket = probe_socket(interface)?;
    // Hello/Bye need port 3702 (shared); if something holds it exclusively, probe without them.
    let group = match group_socket(interface) {
        Ok(g) => Some(g),
        Err(e) => {
            tracing::warn!(%interface, error = %e, "WS-Discovery: cannot listen for Hello/Bye; probing only");
            None
        }
    };
    let probe = Probe::new();
    let message = probe.to_xml();
    let mut stats = ScanStats::default();
    socket.send_to(message.as_bytes(), GROUP).await?;
    stats.sent += 1;
    let deadline = tokio::time::Instant::now() + wait;
    let mut resend = Some(tokio::time::Instant::now() + Duration::from_millis(100));
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut buf = vec![0u8; MAX_DATAGRAM + 1];
    let mut gbuf = vec![0u8; MAX_DATAGRAM + 1];
    loop {
        let until = resend.map_or(deadline, |r| r.min(deadline));
        let received = tokio::select! {
            r = socket.recv_from(&mut buf) => r.map(|(n, from)| (&buf[..n], from, false)),
            r = async {
                match &group {
                    Some(g) => g.recv_from(&mut gbuf).await,
                    None => std::future::pending().await,
                }
            } => r.map(|(n, from)| (&gbuf[..n], from, true)),
            () = tokio::time::sleep_until(until) => {
                if Some(until) == resend {
                    socket.send_to(message.as_bytes(), GROUP).await?;
                    stats.sent += 1;
                    resend = None;
                    continue;
                }
                break;
            }
        };
        let (datagram, from, multicast) = received?;
        let sightings: Vec<Sighting> = match WsdMessage::parse(datagram) {
            Ok(WsdMessage::Hello(endpoint)) if multicast && endpoint.is_onvif() => {
                vec![sighting(&endpoint, from)]
            }
            Ok(WsdMessage::Bye { address }) if multicast => {
                seen.remove(&address);
                let mut s = Sighting::new(Method::WsDiscovery);
                s.endpoint = Some(address);
                s.gone = true;
                vec![s]
            }
            Ok(message) if !multicast => message
                .answers(&probe)
                .map(|matches| matches.iter().map(|e| sighting(e, from)).collect())
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        if sightings.is_empty() {
            stats.dropped += 1;
            continue;
        }
        for s in sightings {
            let fresh = s.gone || s.endpoint.as_ref().is_some_and(|e| seen.insert(e.clone()));
            if fresh {
                stats.accepted += 1;
                if found.send(s).is_err() {
                    return Ok(stats);
                }
            }
        }
    }
    Ok(stats)
}
