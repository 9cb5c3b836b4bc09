//! The link-local sweep: finding hosts on 169.254.0.0/16 (RFC 3927 AutoIP), where factory-fresh
//! cameras sit when no DHCP server answered them.
//!
//! Three steps, cheapest first:
//! 1. **The OS neighbour table** (`/proc/net/arp` on Linux): hosts the laptop already knows on the
//!    interface, listed at once.
//! 2. **An ARP sweep** of the range: one ARP request per address, at a bounded rate, out of the
//!    chosen interface only; every ARP reply (and every ARP announcement a host makes while the
//!    sweep runs) names a live host and its MAC. This needs a raw link-layer socket (root, or
//!    `CAP_NET_RAW`).
//! 3. **TCP connect** to the camera ports (80, 443, 554) of each live host ([`open_ports`]); the
//!    caller then identifies it with the unauthenticated ONVIF calls.
//!
//! Why ARP and not a TCP connect to every address: each connect to an address with no host makes
//! the kernel hold an *incomplete* neighbour entry for about 3 s (three ARP tries), and Linux keeps
//! at most `gc_thresh3` (1024 by default, machine-wide) entries, so a connect sweep cannot go
//! faster than about 340 addresses a second — over three minutes for a /16 — and while it runs
//! the laptop's other traffic meets "neighbour table overflow". ARP requests sent from a raw
//! socket never enter the neighbour table.
//!
//! The sweep needs an address of the laptop's own on 169.254.0.0/16 on that interface: it is the
//! ARP sender address, and without it (and the route it brings) no TCP connection to a
//! link-local camera can be made. [`own_link_local`] finds it; [`fix_for_missing_address`] says
//! exactly how to add one.
use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ipnet::Ipv4Net;
use pnet_datalink::{Channel, MacAddr, NetworkInterface};
use pnet_packet::arp::{ArpHardwareTypes, ArpOperations, ArpPacket, MutableArpPacket};
use pnet_packet::ethernet::{EtherTypes, EthernetPacket, MutableEthernetPacket};
use pnet_packet::{MutablePacket, Packet};
use serde::Serialize;

/// 169.254.0.0/16.
pub const LINK_LOCAL: Ipv4Net = match Ipv4Net::new(Ipv4Addr::new(169, 254, 0, 0), 16) {
    Ok(net) => net,
    Err(_) => panic!("169.254.0.0/16 is a valid prefix"),
};

/// The TCP ports a camera listens on: HTTP, HTTPS, RTSP.
pub const CAMERA_PORTS: [u16; 3] = [80, 443, 554];

/// ARP requests per second by default: a /16 in about 11 s, about 3 Mbit/s of broadcast.
pub const DEFAULT_RATE: u32 = 6_000;

/// How long to keep listening after the last request.
pub const LINGER: Duration = Duration::from_millis(600);

const ETHERNET_HEADER: usize = 14;
const ARP_LEN: usize = 28;

/// True for an address in 169.254.0.0/16.
pub fn is_link_local(ip: Ipv4Addr) -> bool {
    LINK_LOCAL.contains(&ip)
}

/// Where a live host was learnt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HostSource {
    /// The OS neighbour table.
    NeighbourTable,
    /// An ARP reply to the sweep, or an announcement heard during it.
    Arp,
}

/// A live host on the link.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Host {
    /// Its address.
    pub ip: Ipv4Addr,
    /// Its MAC, lower-case with colons.
    pub mac: String,
    /// How it was found.
    pub source: HostSource,
}

/// Why the sweep could not run.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// The interface has no 169.254.0.0/16 address (so no route to link-local cameras).
    #[error("{interface} has no link-local (169.254.0.0/16) address: {fix}")]
    NoLinkLocalAddress {
        /// The interface.
        interface: String,
        /// What to do, word for word ([`fix_for_missing_address`]).
        fix: String,
    },
    /// No raw link-layer socket: not root and no `CAP_NET_RAW`.
    #[error("the ARP sweep on {interface} needs a raw socket ({detail}); run Camward as root, or give it the capability once: sudo setcap cap_net_raw+ep <path to camward>")]
    NoPrivilege {
        /// The interface.
        interface: String,
        /// What the OS said.
        detail: String,
    },
    /// No such interface, or one without a MAC (not Ethernet-like).
    #[error("interface {0} cannot be swept (not found, or not an Ethernet interface)")]
    NoInterface(String),
    /// Any other socket error.
    #[error("ARP sweep on {interface}: {source}")]
    Io {
        /// The interface.
        interface: String,
        /// The error.
        source: std::io::Error,
    },
}

impl SweepError {
    /// A stable code for logs, JSON and tests.
    pub fn code(&self) -> &'static str {
        match self {
            SweepError::NoLinkLocalAddress { .. } => "no_link_local_address",
            SweepError::NoPrivilege { .. } => "no_raw_socket",
            SweepError::NoInterface(_) => "no_interface",
            SweepError::Io { .. } => "sweep_io",
        }
    }
}

/// The laptop's own link-local address among `addresses`, if it has one.
pub fn own_link_local(addresses: &[Ipv4Addr]) -> Option<Ipv4Addr> {
    addresses.iter().copied().find(|a| is_link_local(*a))
}

/// An address for the laptop, RFC 3927 style: 169.254.1.0 – 169.254.254.255, picked from a seed
/// (the interface's MAC, so the same laptop suggests the same address each time).
pub fn suggested_address(seed: &[u8]) -> Ipv4Addr {
    // FNV-1a over the seed: stable across runs and platforms.
    let hash = seed.iter().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(*b)).wrapping_mul(0x0100_0193)
    });
    let third = 1 + (hash >> 8) % 254;
    let fourth = hash & 0xff;
    Ipv4Addr::new(169, 254, third as u8, fourth as u8)
}

/// The exact commands that give `interface` the link-local address `address`, for this OS.
pub fn fix_for_missing_address(interface: &str, address: Ipv4Addr) -> String {
    if cfg!(target_os = "macos") {
        format!("add one with: sudo ipconfig set {interface} AUTOMATIC-V6 && sudo ifconfig {interface} alias {address} netmask 255.255.0.0 (or run camward discover --add-link-local as root)")
    } else if cfg!(windows) {
        format!("add one with: netsh interface ipv4 add address \"{interface}\" {address} 255.255.0.0 (in an administrator prompt)")
    } else {
        format!("add one with: sudo ip addr add {address}/16 dev {interface} (or run camward discover --add-link-local as root)")
    }
}

/// Reads `/proc/net/arp` text: the complete entries on `interface` inside 169.254.0.0/16.
pub fn parse_neighbour_table(text: &str, interface: &str) -> Vec<Host> {
    const COMPLETE: u32 = 0x2;
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let [ip, _hw_type, flags, mac, _mask, device] = fields.as_slice() else {
                return None;
            };
            let ip: Ipv4Addr = ip.parse().ok()?;
            let flags = u32::from_str_radix(flags.trim_start_matches("0x"), 16).ok()?;
            let mac = crate::scopes::normalise_mac(mac)?;
            (*device == interface
                && flags & COMPLETE != 0
                && is_link_local(ip)
                && mac != "00:00:00:00:00:00")
                .then_some(Host {
                    ip,
                    mac,
                    source: HostSource::NeighbourTable,
                })
        })
        .collect()
}

/// The link-local hosts the OS already knows on `interface` (empty where there is no
/// `/proc/net/arp`).
pub fn neighbour_table(interface: &str) -> Vec<Host> {
    std::fs::read_to_string("/proc/net/arp")
        .map(|t| parse_neighbour_table(&t, interface))
        .unwrap_or_default()
}

/// The Ethernet frame of an ARP request for `target`.
pub fn request_frame(our_mac: MacAddr, our_ip: Ipv4Addr, target: Ipv4Addr) -> Vec<u8> {
    let mut frame = vec![0u8; ETHERNET_HEADER + ARP_LEN];
    if let Some(mut eth) = MutableEthernetPacket::new(&mut frame) {
        eth.set_destination(MacAddr::broadcast());
        eth.set_source(our_mac);
        eth.set_ethertype(EtherTypes::Arp);
        if let Some(mut arp) = MutableArpPacket::new(eth.payload_mut()) {
            arp.set_hardware_type(ArpHardwareTypes::Ethernet);
            arp.set_protocol_type(EtherTypes::Ipv4);
            arp.set_hw_addr_len(6);
            arp.set_proto_addr_len(4);
            arp.set_operation(ArpOperations::Request);
            arp.set_sender_hw_addr(our_mac);
            arp.set_sender_proto_addr(our_ip);
            arp.set_target_hw_addr(MacAddr::zero());
            arp.set_target_proto_addr(target);
        }
    }
    frame
}

/// Reads one received frame: the host it shows alive, if it is an ARP reply to us or an ARP
/// announcement (a host claiming its address), from a link-local sender that is not us.
/// Anything else — other protocols, short or malformed frames, our own requests — is `None`.
pub fn read_frame(frame: &[u8], our_mac: MacAddr, our_ip: Ipv4Addr) -> Option<(Ipv4Addr, MacAddr)> {
    let eth = EthernetPacket::new(frame)?;
    if eth.get_ethertype() != EtherTypes::Arp {
        return None;
    }
    let payload = eth.payload();
    if payload.len() < ARP_LEN {
        return None;
    }
    let arp = ArpPacket::new(payload)?;
    if arp.get_hardware_type() != ArpHardwareTypes::Ethernet
        || arp.get_protocol_type() != EtherTypes::Ipv4
        || arp.get_hw_addr_len() != 6
        || arp.get_proto_addr_len() != 4
    {
        return None;
    }
    let sender_mac = arp.get_sender_hw_addr();
    let sender_ip = arp.get_sender_proto_addr();
    let target_ip = arp.get_target_proto_addr();
    if sender_mac == our_mac
        || sender_ip == our_ip
        || !is_link_local(sender_ip)
        || sender_mac == MacAddr::zero()
        || sender_mac == MacAddr::broadcast()
    {
        return None;
    }
    let op = arp.get_operation();
    let reply_to_us = op == ArpOperations::Reply && target_ip == our_ip;
    let announcement = op == ArpOperations::Request && target_ip == sender_ip;
    (reply_to_us || announcement).then_some((sender_ip, sender_mac))
}

/// Settings of one sweep.
#[derive(Clone, Debug)]
pub struct SweepConfig {
    /// The addresses to ask for (169.254.0.0/16 by default).
    pub range: Ipv4Net,
    /// ARP requests per second.
    pub rate: u32,
    /// Listening time after the last request.
    pub linger: Duration,
}

impl Default for SweepConfig {
    fn default() -> Self {
        SweepConfig {
            range: LINK_LOCAL,
            rate: DEFAULT_RATE,
            linger: LINGER,
        }
    }
}

/// Counters of a sweep, readable while it runs (for a progress line).
#[derive(Debug, Default)]
pub struct SweepProgress {
    /// Requests sent so far.
    pub sent: AtomicUsize,
    /// Requests the whole sweep sends.
    pub total: AtomicUsize,
    /// Live hosts found so far.
    pub hosts: AtomicUsize,
}

fn interface_named(name: &str) -> Result<(NetworkInterface, MacAddr), SweepError> {
    let interface = pnet_datalink::interfaces()
        .into_iter()
        .find(|i| i.name == name)
        .ok_or_else(|| SweepError::NoInterface(name.to_owned()))?;
    let mac = interface
        .mac
        .filter(|m| *m != MacAddr::zero())
        .ok_or_else(|| SweepError::NoInterface(name.to_owned()))?;
    Ok((interface, mac))
}

/// ARP-sweeps `config.range` on `interface` from `our_ip` (the laptop's link-local address),
/// sending each live host to `found` once, as it answers. Stops early when `found` is closed.
pub async fn arp_sweep(
    interface: &str,
    our_ip: Ipv4Addr,
    config: SweepConfig,
    found: tokio::sync::mpsc::UnboundedSender<Host>,
    progress: Arc<SweepProgress>,
) -> Result<(), SweepError> {
    let (netif, our_mac) = interface_named(interface)?;
    let channel = pnet_datalink::channel(
        &netif,
        pnet_datalink::Config {
            read_timeout: Some(Duration::from_millis(50)),
            read_buffer_size: 1 << 16,
            write_buffer_size: 1 << 16,
            ..Default::default()
        },
    );
    let (mut tx, mut rx) = match channel {
        Ok(Channel::Ethernet(tx, rx)) => (tx, rx),
        Ok(_) => return Err(SweepError::NoInterface(interface.to_owned())),
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            return Err(SweepError::NoPrivilege {
                interface: interface.to_owned(),
                detail: e.to_string(),
            })
        }
        Err(source) => {
            return Err(SweepError::Io {
                interface: interface.to_owned(),
                source,
            })
        }
    };
    let targets: Vec<Ipv4Addr> = config.range.hosts().filter(|ip| *ip != our_ip).collect();
    progress.total.store(targets.len(), Ordering::Relaxed);
    let stop = Arc::new(AtomicBool::new(false));
    // Stops the listening thread however this future ends, cancelled (dropped) included.
    struct StopOnDrop(Arc<AtomicBool>);
    impl Drop for StopOnDrop {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }
    let _stop_guard = StopOnDrop(Arc::clone(&stop));

    // The receiver runs on a thread of its own (the datalink read blocks, with a short timeout).
    let listening = {
        let stop = Arc::clone(&stop);
        let progress = Arc::clone(&progress);
        let found = found.clone();
        std::thread::spawn(move || {
            let mut seen = BTreeSet::new();
            while !stop.load(Ordering::Relaxed) {
                let Ok(frame) = rx.next() else { continue };
                if let Some((ip, mac)) = read_frame(frame, our_mac, our_ip) {
                    if seen.insert(ip) {
                        progress.hosts.fetch_add(1, Ordering::Relaxed);
                        let host = Host {
                            ip,
                            mac: mac.to_string().to_ascii_lowercase(),
                            source: HostSource::Arp,
                        };
                        if found.send(host).is_err() {
                            break;
                        }
                    }
                }
            }
        })
    };

    // Send in batches of 1/100 s, paced against the clock so the rate holds on average.
    let rate = config.rate.max(1) as usize;
    let batch = (rate / 100).max(1);
    let started = tokio::time::Instant::now();
    for (i, chunk) in targets.chunks(batch).enumerate() {
        if found.is_closed() {
            break;
        }
        for target in chunk {
            let frame = request_frame(our_mac, our_ip, *target);
            if let Some(Err(e)) = tx.send_to(&frame, None) {
                // A full transmit queue: wait a little and go on; the host may answer a later sweep.
                tracing::debug!(error = %e, %target, "ARP request not sent");
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
        let sent = (i * batch + chunk.len()).min(targets.len());
        progress.sent.store(sent, Ordering::Relaxed);
        let due = started + Duration::from_secs_f64(sent as f64 / rate as f64);
        tokio::time::sleep_until(due).await;
    }
    tokio::time::sleep(config.linger).await;
    stop.store(true, Ordering::Relaxed);
    let _ = tokio::task::spawn_blocking(move || listening.join()).await;
    Ok(())
}

/// The ports of `ports` that accept a TCP connection on `ip` within `timeout`, tried together.
pub async fn open_ports(ip: Ipv4Addr, ports: &[u16], timeout: Duration) -> Vec<u16> {
    let mut attempts = tokio::task::JoinSet::new();
    for port in ports.iter().copied() {
        attempts.spawn(async move {
            let connect = tokio::net::TcpStream::connect((ip, port));
            matches!(tokio::time::timeout(timeout, connect).await, Ok(Ok(_))).then_some(port)
        });
    }
    let mut open: Vec<u16> = attempts.join_all().await.into_iter().flatten().collect();
    open.sort_unstable();
    open
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUR_MAC: MacAddr = MacAddr(0x02, 0, 0, 0, 0, 1);
    const OUR_IP: Ipv4Addr = Ipv4Addr::new(169, 254, 10, 1);

    fn reply(op: pnet_packet::arp::ArpOperation, from: Ipv4Addr, to: Ipv4Addr) -> Vec<u8> {
        let mut frame = request_frame(MacAddr(0xac, 0xcc, 0x8e, 1, 2, 3), from, to);
        let mut eth = MutableEthernetPacket::new(&mut frame).unwrap();
        let mut arp = MutableArpPacket::new(eth.payload_mut()).unwrap();
        arp.set_operation(op);
        frame
    }

    #[test]
    fn replies_and_announcements_name_hosts_and_nothing_else_does() {
        let cam = Ipv4Addr::new(169, 254, 77, 9);
        let host = read_frame(&reply(ArpOperations::Reply, cam, OUR_IP), OUR_MAC, OUR_IP);
        assert_eq!(host, Some((cam, MacAddr(0xac, 0xcc, 0x8e, 1, 2, 3))));
        // An announcement: a host claiming its own address.
        assert!(read_frame(&reply(ArpOperations::Request, cam, cam), OUR_MAC, OUR_IP).is_some());
        // Someone else's reply, an ordinary request, a routed sender, our own request, junk.
        let other = Ipv4Addr::new(169, 254, 3, 3);
        assert!(read_frame(&reply(ArpOperations::Reply, cam, other), OUR_MAC, OUR_IP).is_none());
        assert!(read_frame(&reply(ArpOperations::Request, cam, other), OUR_MAC, OUR_IP).is_none());
        let routed = Ipv4Addr::new(192, 168, 1, 9);
        assert!(read_frame(
            &reply(ArpOperations::Reply, routed, OUR_IP),
            OUR_MAC,
            OUR_IP
        )
        .is_none());
        assert!(read_frame(&request_frame(OUR_MAC, OUR_IP, cam), OUR_MAC, OUR_IP).is_none());
        let frame = reply(ArpOperations::Reply, cam, OUR_IP);
        for cut in 0..frame.len() {
            assert!(
                read_frame(&frame[..cut], OUR_MAC, OUR_IP).is_none(),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn the_neighbour_table_gives_complete_link_local_entries_of_the_interface() {
        let table = "IP address       HW type     Flags       HW address            Mask     Device\n\
                     169.254.20.7     0x1         0x2         ac:cc:8e:01:02:03     *        eth0\n\
                     169.254.20.8     0x1         0x0         00:00:00:00:00:00     *        eth0\n\
                     192.168.1.1      0x1         0x2         11:22:33:44:55:66     *        eth0\n\
                     169.254.20.9     0x1         0x2         ac:cc:8e:01:02:04     *        wlan0\n\
                     garbage line\n";
        let hosts = parse_neighbour_table(table, "eth0");
        assert_eq!(
            hosts,
            [Host {
                ip: Ipv4Addr::new(169, 254, 20, 7),
                mac: "ac:cc:8e:01:02:03".into(),
                source: HostSource::NeighbourTable
            }]
        );
    }

    #[test]
    fn a_suggested_address_is_in_the_rfc_3927_range_and_stable() {
        for seed in [&b""[..], b"\x02\0\0\0\0\x01", b"eth0", &[0xff; 6]] {
            let a = suggested_address(seed);
            assert!(is_link_local(a));
            assert!((1..=254).contains(&a.octets()[2]), "{a}");
            assert_eq!(a, suggested_address(seed));
        }
        assert_eq!(
            own_link_local(&[Ipv4Addr::new(10, 0, 0, 2), OUR_IP]),
            Some(OUR_IP)
        );
        assert_eq!(own_link_local(&[Ipv4Addr::new(10, 0, 0, 2)]), None);
        assert!(fix_for_missing_address("eth0", OUR_IP).contains("169.254.10.1"));
    }
}
