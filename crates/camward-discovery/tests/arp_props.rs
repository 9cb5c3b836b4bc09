//! The link-local sweep reads raw Ethernet frames and the OS neighbour table: whatever arrives,
//! nothing panics, and only an ARP reply to us (or an announcement) from a link-local sender is a
//! host.
use std::net::Ipv4Addr;

use camward_discovery::linklocal::{self, is_link_local, read_frame, request_frame};
use pnet_datalink::MacAddr;
use proptest::prelude::*;

const OUR_MAC: MacAddr = MacAddr(0x02, 0, 0, 0, 0, 1);
const OUR_IP: Ipv4Addr = Ipv4Addr::new(169, 254, 10, 1);

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_frames_never_panic(frame in proptest::collection::vec(any::<u8>(), 0..128)) {
        if let Some((ip, mac)) = read_frame(&frame, OUR_MAC, OUR_IP) {
            prop_assert!(is_link_local(ip));
            prop_assert_ne!(mac, OUR_MAC);
        }
    }

    #[test]
    fn a_flipped_byte_never_panics_and_never_names_a_routed_host(at in 0usize..42, b in any::<u8>(), host in any::<u16>()) {
        let target = Ipv4Addr::new(169, 254, (host >> 8) as u8, host as u8);
        let mut frame = request_frame(MacAddr(0xac, 0xcc, 0x8e, 1, 2, 3), target, target);
        frame[at] = b;
        if let Some((ip, _)) = read_frame(&frame, OUR_MAC, OUR_IP) {
            prop_assert!(is_link_local(ip));
        }
    }

    #[test]
    fn an_arbitrary_neighbour_table_never_panics(text in "[0-9a-fx.: *A-Za-z\n]{0,400}") {
        for host in linklocal::parse_neighbour_table(&text, "eth0") {
            prop_assert!(is_link_local(host.ip));
        }
    }
}
