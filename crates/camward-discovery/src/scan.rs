//! A WS-Discovery scan on one interface: multicast a Probe (TTL 1, out of that interface only),
//! collect the unicast ProbeMatches that answer it, one entry per endpoint reference.
//!
//! The Probe is sent twice, 100 ms apart: WS-Discovery runs over UDP, and SOAP-over-UDP (§3.4)
//! has senders repeat multicast messages because a datagram can be lost. Replies to other
//! clients' probes, Hellos, Byes and anything unreadable are dropped (and counted).
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::Duration;

use serde::Serialize;

use crate::scopes::ScopeInfo;
use crate::wsd::{Endpoint, Probe, WsdMessage, MAX_DATAGRAM};

/// The WS-Discovery multicast group (IPv4) and port.
pub const GROUP: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(239, 255, 255, 250), 3702);

/// The receive buffer asked for.
const RECEIVE_BUFFER: usize = 4 << 20;

/// One device that answered.
#[derive(Clone, Debug, Serialize)]
pub struct Found {
    /// What it said about itself.
    pub endpoint: Endpoint,
    /// Its scopes, read.
    pub scopes: ScopeInfo,
    /// Where its answer came from.
    pub from: SocketAddr,
}

/// What a scan saw.
#[derive(Debug, Default, Serialize)]
pub struct ScanReport {
    /// Devices, by endpoint reference address.
    pub found: Vec<Found>,
    /// Datagrams dropped (not an answer to this probe, or unreadable).
    pub dropped: usize,
}

fn socket(interface: Ipv4Addr) -> std::io::Result<tokio::net::UdpSocket> {
    let socket = socket2::Socket::new(
        socket2::Domain::IPV4,
        socket2::Type::DGRAM,
        Some(socket2::Protocol::UDP),
    )?;
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

/// Probes for ONVIF devices on the interface that holds `interface` and listens for `wait`.
pub async fn probe(interface: Ipv4Addr, wait: Duration) -> std::io::Result<ScanReport> {
    let socket = socket(interface)?;
    let probe = Probe::new();
    let message = probe.to_xml();
    socket.send_to(message.as_bytes(), GROUP).await?;
    let deadline = tokio::time::Instant::now() + wait;
    let mut resend = Some(tokio::time::Instant::now() + Duration::from_millis(100));
    let mut found: BTreeMap<String, Found> = BTreeMap::new();
    let mut dropped = 0;
    let mut buf = vec![0u8; MAX_DATAGRAM + 1];
    loop {
        let until = resend.map_or(deadline, |r| r.min(deadline));
        match tokio::time::timeout_at(until, socket.recv_from(&mut buf)).await {
            Err(_) if Some(until) == resend => {
                socket.send_to(message.as_bytes(), GROUP).await?;
                resend = None;
            }
            Err(_) => break,
            Ok(Err(e)) => return Err(e),
            Ok(Ok((n, from))) => {
                let answers = WsdMessage::parse(&buf[..n]).ok();
                match answers.as_ref().and_then(|m| m.answers(&probe)) {
                    Some(matches) => {
                        for endpoint in matches {
                            found
                                .entry(endpoint.address.clone())
                                .or_insert_with(|| Found {
                                    scopes: ScopeInfo::from_scopes(&endpoint.scopes),
                                    endpoint: endpoint.clone(),
                                    from,
                                });
                        }
                    }
                    None => dropped += 1,
                }
            }
        }
    }
    Ok(ScanReport {
        found: found.into_values().collect(),
        dropped,
    })
}
