//! AutoIP (RFC 3927): a camera that got no address picks one in 169.254.1.0 – 169.254.254.255
//! itself, checks with ARP probes that nobody holds it, takes it, and announces it.
//!
//! camsim does this for real on an interface of the network namespace it runs in (it must be
//! root there): it gives the interface the camera's MAC (a real camera's link-local address is
//! claimed with its own MAC), picks candidates from a generator seeded by that MAC (§2.1, so a
//! camera asks for the same address after every boot), sends `PROBE_NUM` ARP probes (sender
//! address 0.0.0.0) for each and listens for a conflict — an ARP packet whose sender is the
//! candidate, or another host's probe for it (§2.2.1) — then adds the address with `ip addr add`
//! and sends `ANNOUNCE_NUM` announcements (§2.3). The RFC's waits (1–2 s between probes) are
//! shortened to 100 ms, which a simulator on one veth can afford.
//!
//! Only ever used inside a test's own network namespace: it broadcasts on the interface given.
use std::net::Ipv4Addr;
use std::process::Command;
use std::time::{Duration, Instant};

use pnet_datalink::{Channel, MacAddr};
use pnet_packet::arp::{ArpHardwareTypes, ArpOperations, ArpPacket, MutableArpPacket};
use pnet_packet::ethernet::{EtherTypes, EthernetPacket, MutableEthernetPacket};
use pnet_packet::{MutablePacket, Packet};

use crate::SimError;

/// Probes sent per candidate (RFC 3927 §9: PROBE_NUM).
pub const PROBE_NUM: usize = 3;
/// Announcements sent once the address is taken (ANNOUNCE_NUM).
pub const ANNOUNCE_NUM: usize = 2;
/// Candidates tried before giving up (the RFC's MAX_CONFLICTS is 10, then it slows down).
pub const MAX_CONFLICTS: usize = 10;
const PROBE_INTERVAL: Duration = Duration::from_millis(100);

fn err(message: impl Into<String>) -> SimError {
    SimError::Config(format!("AutoIP: {}", message.into()))
}

/// The `attempt`-th candidate address of a camera with `mac` (attempt 0 first).
pub fn candidate(mac: &str, attempt: usize) -> Ipv4Addr {
    let mut h = 0xcbf2_9ce4_8422_2325_u64;
    for b in mac.bytes().chain((attempt as u64).to_le_bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    // 169.254.1.0 – 169.254.254.255: 254 × 256 addresses.
    let n = (h % (254 * 256)) as u32;
    Ipv4Addr::new(169, 254, (1 + n / 256) as u8, (n % 256) as u8)
}

fn parse_mac(mac: &str) -> Result<MacAddr, SimError> {
    mac.parse::<MacAddr>()
        .map_err(|_| err(format!("{mac} is not a MAC address")))
}

fn arp_frame(mac: MacAddr, sender: Ipv4Addr, target: Ipv4Addr) -> Vec<u8> {
    let mut frame = vec![0u8; 42];
    if let Some(mut eth) = MutableEthernetPacket::new(&mut frame) {
        eth.set_destination(MacAddr::broadcast());
        eth.set_source(mac);
        eth.set_ethertype(EtherTypes::Arp);
        if let Some(mut arp) = MutableArpPacket::new(eth.payload_mut()) {
            arp.set_hardware_type(ArpHardwareTypes::Ethernet);
            arp.set_protocol_type(EtherTypes::Ipv4);
            arp.set_hw_addr_len(6);
            arp.set_proto_addr_len(4);
            arp.set_operation(ArpOperations::Request);
            arp.set_sender_hw_addr(mac);
            arp.set_sender_proto_addr(sender);
            arp.set_target_hw_addr(MacAddr::zero());
            arp.set_target_proto_addr(target);
        }
    }
    frame
}

/// True when `frame` shows someone else holds or wants `candidate` (RFC 3927 §2.2.1).
fn conflicts(frame: &[u8], ours: MacAddr, candidate: Ipv4Addr) -> bool {
    let Some(eth) = EthernetPacket::new(frame) else {
        return false;
    };
    if eth.get_ethertype() != EtherTypes::Arp {
        return false;
    }
    let Some(arp) = ArpPacket::new(eth.payload()) else {
        return false;
    };
    let sender = arp.get_sender_hw_addr();
    sender != ours
        && (arp.get_sender_proto_addr() == candidate
            || (arp.get_operation() == ArpOperations::Request
                && arp.get_sender_proto_addr() == Ipv4Addr::UNSPECIFIED
                && arp.get_target_proto_addr() == candidate))
}

fn ip(args: &[&str]) -> Result<(), SimError> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| err(format!("ip {}: {e}", args.join(" "))))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// Removes every IPv4 address from `interface`: what a hard factory reset does to a camera's
/// static network settings (it then comes back on DHCP or, without it, on AutoIP).
pub fn forget_addresses(interface: &str) -> Result<(), SimError> {
    ip(&["-4", "addr", "flush", "dev", interface])
}

/// True when `address` is one of `interface`'s own: the camera was given a static address there.
pub fn holds(interface: &str, address: std::net::IpAddr) -> bool {
    pnet_datalink::interfaces()
        .into_iter()
        .filter(|i| i.name == interface)
        .any(|i| i.ips.iter().any(|n| n.ip() == address))
}

/// Claims a link-local address on `interface` for the camera with `mac`, as RFC 3927 has a
/// device do, and returns it. Blocks for the probes (a few hundred milliseconds).
pub fn claim(interface: &str, mac: &str) -> Result<Ipv4Addr, SimError> {
    let ours = parse_mac(mac)?;
    ip(&["link", "set", "dev", interface, "address", mac])?;
    ip(&["link", "set", "dev", interface, "up"])?;
    let netif = pnet_datalink::interfaces()
        .into_iter()
        .find(|i| i.name == interface)
        .ok_or_else(|| err(format!("no interface {interface}")))?;
    let config = pnet_datalink::Config {
        read_timeout: Some(Duration::from_millis(20)),
        ..Default::default()
    };
    let (mut tx, mut rx) = match pnet_datalink::channel(&netif, config) {
        Ok(Channel::Ethernet(tx, rx)) => (tx, rx),
        Ok(_) => return Err(err(format!("{interface} is not an Ethernet interface"))),
        Err(e) => return Err(err(format!("raw socket on {interface}: {e} (needs root)"))),
    };
    for attempt in 0..MAX_CONFLICTS {
        let address = candidate(mac, attempt);
        let mut conflict = false;
        'probing: for _ in 0..PROBE_NUM {
            let probe = arp_frame(ours, Ipv4Addr::UNSPECIFIED, address);
            if let Some(Err(e)) = tx.send_to(&probe, None) {
                return Err(err(format!("ARP probe on {interface}: {e}")));
            }
            let until = Instant::now() + PROBE_INTERVAL;
            while Instant::now() < until {
                if let Ok(frame) = rx.next() {
                    if conflicts(frame, ours, address) {
                        conflict = true;
                        break 'probing;
                    }
                }
            }
        }
        if conflict {
            tracing::info!(%address, "AutoIP: address in use, trying another");
            continue;
        }
        ip(&["addr", "add", &format!("{address}/16"), "dev", interface])?;
        for _ in 0..ANNOUNCE_NUM {
            let _ = tx.send_to(&arp_frame(ours, address, address), None);
            std::thread::sleep(PROBE_INTERVAL);
        }
        return Ok(address);
    }
    Err(err(format!(
        "{MAX_CONFLICTS} candidate addresses on {interface} were all in use"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_are_in_range_stable_and_differ_per_attempt_and_camera() {
        let a = candidate("02:ca:5e:00:00:01", 0);
        assert_eq!(a, candidate("02:ca:5e:00:00:01", 0));
        assert_ne!(a, candidate("02:ca:5e:00:00:01", 1));
        assert_ne!(a, candidate("02:ca:5e:00:00:02", 0));
        for attempt in 0..500 {
            let c = candidate("02:ca:5e:12:34:56", attempt).octets();
            assert_eq!(&c[..2], &[169, 254]);
            assert!((1..=254).contains(&c[2]));
        }
    }

    #[test]
    fn a_probe_or_a_holder_of_the_candidate_is_a_conflict_and_our_own_probe_is_not() {
        let ours = MacAddr(2, 0xca, 0x5e, 0, 0, 1);
        let theirs = MacAddr(2, 0xca, 0x5e, 0, 0, 2);
        let want = Ipv4Addr::new(169, 254, 5, 5);
        let zero = Ipv4Addr::UNSPECIFIED;
        assert!(!conflicts(&arp_frame(ours, zero, want), ours, want));
        assert!(conflicts(&arp_frame(theirs, zero, want), ours, want));
        assert!(conflicts(&arp_frame(theirs, want, want), ours, want));
        let other = Ipv4Addr::new(169, 254, 5, 6);
        assert!(!conflicts(&arp_frame(theirs, other, other), ours, want));
        assert!(!conflicts(&[0u8; 10], ours, want));
    }
}
