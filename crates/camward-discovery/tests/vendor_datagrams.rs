//! Property tests for the vendor set-up protocols: no datagram makes the SADP or Easy IP Setup
//! parsers panic; valid answers with any field values read back as sent; an Easy IP Setup answer
//! cut at any byte, or with a TLV claiming more bytes than there are, is dropped with a reason;
//! SADP answers to another inquiry, or oversized, are dropped with the right code.
use std::net::Ipv4Addr;

use camward_discovery::easyip::{self, Answer};
use camward_discovery::sadp::{self, Inquiry, ProbeMatch};
use proptest::prelude::*;

/// A ProbeMatch with these values, as firmware lays it out.
fn probe_match(
    uuid: &str,
    model: &str,
    serial: &str,
    mac: [u8; 6],
    ip: Ipv4Addr,
    http_port: u16,
    activated: bool,
) -> String {
    let mac = mac.map(|b| format!("{b:02x}")).join("-");
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><ProbeMatch><Uuid>{uuid}</Uuid><Types>inquiry</Types><DeviceType>138153</DeviceType><DeviceDescription>{model}</DeviceDescription><DeviceSN>{serial}</DeviceSN><CommandPort>8000</CommandPort><HttpPort>{http_port}</HttpPort><MAC>{mac}</MAC><IPv4Address>{ip}</IPv4Address><IPv4SubnetMask>255.255.0.0</IPv4SubnetMask><IPv4Gateway>0.0.0.0</IPv4Gateway><DHCP>false</DHCP><SoftwareVersion>V5.7.3build 220112</SoftwareVersion><Activated>{activated}</Activated><Salt>abc</Salt></ProbeMatch>"#
    )
}

/// XML-safe text that survives trimming.
const TEXT: &str = "[A-Za-z0-9][A-Za-z0-9 ._-]{0,40}[A-Za-z0-9]";

fn from() -> std::net::SocketAddr {
    "169.254.99.1:37020".parse().expect("an address")
}

fn any_answer() -> impl Strategy<Value = Answer> {
    (
        (
            any::<u32>(),
            any::<[u8; 6]>(),
            proptest::option::of(any::<[u8; 4]>()),
        ),
        (
            proptest::option::of(any::<[u8; 4]>()),
            proptest::option::of(any::<[u8; 4]>()),
            proptest::option::of(any::<u16>()),
        ),
        (
            proptest::option::of("\\PC{0,40}"),
            proptest::option::of("\\PC{0,40}"),
            proptest::option::of("\\PC{0,40}"),
            proptest::option::of("\\PC{0,40}"),
        ),
        (
            proptest::option::of(any::<bool>()),
            proptest::option::of(any::<bool>()),
        ),
    )
        .prop_map(
            |(
                (transaction, mac, ipv4),
                (netmask, gateway, http_port),
                (model, serial, firmware, name),
                (dhcp, admin),
            )| {
                let mac = mac.map(|b| format!("{b:02x}")).join(":");
                Answer {
                    ipv4: ipv4.map(Ipv4Addr::from),
                    netmask: netmask.map(Ipv4Addr::from),
                    gateway: gateway.map(Ipv4Addr::from),
                    http_port,
                    model,
                    serial,
                    firmware,
                    name,
                    dhcp,
                    admin_registered: admin,
                    ..Answer::new(transaction, &mac)
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic_sadp(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let _ = ProbeMatch::parse(&bytes, &Inquiry::new());
    }

    #[test]
    fn arbitrary_bytes_never_panic_easy_ip(bytes in proptest::collection::vec(any::<u8>(), 0..2000), transaction in any::<u32>()) {
        let _ = Answer::parse(&bytes, transaction);
        // With a valid header, the TLV walk itself gets the random bytes.
        let mut framed = b"EIPS\x01\x02".to_vec();
        framed.extend_from_slice(&transaction.to_be_bytes());
        framed.extend_from_slice(&bytes);
        let _ = Answer::parse(&framed, transaction);
    }

    #[test]
    fn mutated_probe_matches_never_panic(cut in 0usize..2000, flips in proptest::collection::vec((0usize..2000, any::<u8>()), 0..8), splice in ".{0,64}") {
        let inquiry = Inquiry::new();
        let mut bytes = probe_match(&inquiry.uuid, "DS-2CD2143G2-I", "SN1", [0x44, 0x19, 0xb6, 1, 2, 3], Ipv4Addr::new(169, 254, 1, 2), 80, false).into_bytes();
        for (at, b) in flips {
            let n = bytes.len();
            bytes[at % n] = b;
        }
        let at = cut % bytes.len();
        bytes.splice(at..at, splice.bytes());
        let _ = ProbeMatch::parse(&bytes, &inquiry);
        bytes.truncate(cut % (bytes.len() + 1));
        let _ = ProbeMatch::parse(&bytes, &inquiry);
    }

    #[test]
    fn probe_matches_round_trip(model in TEXT, serial in TEXT, mac in any::<[u8; 6]>(), ip in any::<[u8; 4]>(), http_port in 1u16.., activated in any::<bool>(), lower in any::<bool>()) {
        let inquiry = Inquiry::new();
        let ip = Ipv4Addr::from(ip);
        // Firmware may echo the Uuid in either case.
        let uuid = if lower { inquiry.uuid.to_ascii_lowercase() } else { inquiry.uuid.clone() };
        let xml = probe_match(&uuid, &model, &serial, mac, ip, http_port, activated);
        let m = ProbeMatch::parse(xml.as_bytes(), &inquiry).expect("valid");
        let s = m.to_sighting(from());
        let stated = if ip.is_unspecified() {
            Ipv4Addr::new(169, 254, 99, 1)
        } else {
            ip
        };
        prop_assert_eq!(s.ip, Some(stated));
        prop_assert_eq!(s.urls, vec![format!("http://{stated}:{http_port}/")]);
        prop_assert_eq!(s.mac, Some(mac.map(|b| format!("{b:02x}")).join(":")));
        prop_assert_eq!(s.model, Some(model));
        prop_assert_eq!(s.serial, Some(serial));
        prop_assert_eq!(s.vendor.as_deref(), Some("Hikvision"));
        prop_assert_eq!(s.factory_fresh, Some(!activated));
    }

    #[test]
    fn probe_matches_for_another_inquiry_are_dropped(mac in any::<[u8; 6]>()) {
        let ours = Inquiry::new();
        let theirs = Inquiry::new();
        let xml = probe_match(&theirs.uuid, "M", "S", mac, Ipv4Addr::new(169, 254, 1, 2), 80, true);
        let error = ProbeMatch::parse(xml.as_bytes(), &ours).expect_err("not ours");
        prop_assert_eq!(error.code(), "sadp_other_inquiry");
        prop_assert!(ProbeMatch::parse(xml.as_bytes(), &theirs).is_ok());
    }

    #[test]
    fn oversized_probe_matches_are_dropped(padding in sadp::MAX_DATAGRAM..sadp::MAX_DATAGRAM * 2) {
        let inquiry = Inquiry::new();
        let xml = probe_match(&inquiry.uuid, "M", "S", [1; 6], Ipv4Addr::new(169, 254, 1, 2), 80, true)
            .replace("<Salt>abc</Salt>", &format!("<Salt>{}</Salt>", "a".repeat(padding)));
        let error = ProbeMatch::parse(xml.as_bytes(), &inquiry).expect_err("oversized");
        prop_assert_eq!(error.code(), "sadp_too_large");
    }

    #[test]
    fn easy_ip_answers_round_trip(answer in any_answer()) {
        let bytes = answer.to_bytes();
        prop_assume!(bytes.len() <= easyip::MAX_DATAGRAM);
        let read = Answer::parse(&bytes, answer.transaction).expect("valid");
        prop_assert_eq!(&read, &answer);
        let s = read.to_sighting("169.254.99.1:10670".parse().unwrap());
        prop_assert_eq!(s.factory_fresh, answer.admin_registered.map(|r| !r));
        prop_assert_eq!(s.vendor.as_deref(), Some("i-PRO"));
        prop_assert!(s.ip.is_some());
    }

    #[test]
    fn a_truncated_easy_ip_answer_is_an_error(answer in any_answer(), cut in any::<usize>()) {
        let bytes = answer.to_bytes();
        prop_assume!(bytes.len() <= easyip::MAX_DATAGRAM);
        let cut = cut % bytes.len();
        prop_assert!(Answer::parse(&bytes[..cut], answer.transaction).is_err());
    }

    #[test]
    fn a_tlv_running_past_the_end_is_refused(answer in any_answer(), which in any::<usize>(), excess in 1usize..2000) {
        let bytes = answer.to_bytes();
        prop_assume!(bytes.len() <= easyip::MAX_DATAGRAM);
        // Walk to the TLVs, pick one, and make it claim more bytes than are left after it.
        let mut starts = Vec::new();
        let mut at = easyip::HEADER_LEN;
        while at < bytes.len() {
            starts.push(at);
            at += 4 + usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
        }
        let at = starts[which % starts.len()];
        let left = bytes.len() - at - 4;
        let Ok(len) = u16::try_from(left + excess) else { return Ok(()) };
        let mut bad = bytes.clone();
        bad[at + 2..at + 4].copy_from_slice(&len.to_be_bytes());
        let error = Answer::parse(&bad, answer.transaction).expect_err("past the end");
        // Unless an earlier TLV fails first, which it cannot: they are unchanged and valid.
        prop_assert_eq!(error.code(), "easyip_tlv_past_end");
    }

    #[test]
    fn easy_ip_answers_to_another_transaction_are_dropped(answer in any_answer(), other in any::<u32>()) {
        prop_assume!(other != answer.transaction);
        let error = Answer::parse(&answer.to_bytes(), other).expect_err("not ours");
        prop_assert_eq!(error.code(), "easyip_other_transaction");
    }
}

#[test]
fn oversized_easy_ip_datagrams_are_dropped() {
    let mut bytes = Answer::new(1, "00:80:45:00:00:01").to_bytes();
    bytes.resize(easyip::MAX_DATAGRAM + 1, 0);
    assert_eq!(
        Answer::parse(&bytes, 1).map_err(|e| e.code()),
        Err("easyip_too_large")
    );
}
