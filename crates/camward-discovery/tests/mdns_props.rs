//! Property tests: no resolved mDNS service (arbitrary names, addresses, TXT keys and values)
//! makes the mapping to a sighting panic, and what a camera publishes comes back intact.
use std::net::Ipv4Addr;

use camward_discovery::mdns::{ServiceInstance, MAX_TXT_VALUE};
use camward_discovery::Method;
use proptest::prelude::*;

const HERE: Ipv4Addr = Ipv4Addr::new(169, 254, 40, 1);

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,40}",
        "(mac|macaddress|serial|sn|model|hardware|vendor|manufacturer|fw|firmware|MAC|Serial)",
        "[0-9A-Fa-f:-]{0,20}",
        (0usize..2000).prop_map(|n| "é".repeat(n)),
    ]
}

/// A value as a camera writes it: printable, no surrounding blanks, within the TXT limit.
fn value() -> impl Strategy<Value = String> {
    "[A-Za-z0-9][A-Za-z0-9 ._-]{0,30}[A-Za-z0-9]"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_services_never_panic(
        fullname in any_text(),
        ty_domain in prop_oneof![any_text(), Just("_http._tcp.local.".to_owned())],
        addresses in proptest::collection::vec(any::<u32>().prop_map(Ipv4Addr::from), 0..8),
        port in any::<u16>(),
        txt in proptest::collection::vec((any_text(), any_text()), 0..24),
        interface in any::<u32>().prop_map(Ipv4Addr::from),
    ) {
        let instance = ServiceInstance { fullname, ty_domain, addresses, port, txt };
        if let Some(s) = instance.sighting(interface) {
            prop_assert_eq!(s.method, Method::Mdns);
            prop_assert!(s.ip.is_some_and(|ip| instance.addresses.contains(&ip)));
            for field in [&s.mac, &s.serial, &s.model, &s.vendor, &s.firmware].into_iter().flatten() {
                prop_assert!(field.len() <= MAX_TXT_VALUE);
                prop_assert!(!field.chars().any(char::is_control));
            }
        }
        let _ = instance.instance_name();
    }

    #[test]
    fn a_cameras_announcement_round_trips(
        mac in proptest::array::uniform6(any::<u8>()),
        upper in any::<bool>(),
        serial in value(),
        model in value(),
        vendor in value(),
        firmware in value(),
        name in "[A-Za-z0-9][A-Za-z0-9 .()-]{0,40}[A-Za-z0-9]",
        last in 1u8..255,
        port in 1u16..,
        https in any::<bool>(),
    ) {
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        let colons = mac.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":");
        let written = if upper { hex.to_ascii_uppercase() } else { colons.clone() };
        let ty_domain = if https { "_https._tcp.local." } else { "_http._tcp.local." };
        let escaped = name.replace('.', "\\.");
        let ip = Ipv4Addr::new(169, 254, 40, last);
        let instance = ServiceInstance {
            fullname: format!("{escaped}.{ty_domain}"),
            ty_domain: ty_domain.to_owned(),
            addresses: vec![Ipv4Addr::new(10, 9, 8, 7), ip],
            port,
            txt: vec![
                ("mac".to_owned(), written),
                ("serial".to_owned(), serial.clone()),
                ("model".to_owned(), model.clone()),
                ("vendor".to_owned(), vendor.clone()),
                ("fw".to_owned(), firmware.clone()),
            ],
        };
        let s = instance.sighting(HERE).expect("a sighting");
        let scheme = if https { "https" } else { "http" };
        prop_assert_eq!(s.ip, Some(ip), "the address in the interface's subnet");
        prop_assert_eq!(s.urls, vec![format!("{scheme}://{ip}:{port}/")]);
        prop_assert_eq!(s.mac, Some(colons));
        prop_assert_eq!(s.serial, Some(serial));
        prop_assert_eq!(s.model, Some(model));
        prop_assert_eq!(s.vendor, Some(vendor));
        prop_assert_eq!(s.firmware, Some(firmware));
        prop_assert_eq!(s.name, Some(name));
        prop_assert!(!s.gone);
    }
}
