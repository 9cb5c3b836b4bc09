//! Reply parsing must never panic, whatever a camera (or an attacker on the wire) sends.

use camward_onvif::xml::Reply;
use proptest::prelude::*;

const VALID: &[&str] = &[
    r#"<?xml version="1.0"?><env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body><tds:GetHostnameResponse xmlns:tds="http://www.onvif.org/ver10/device/wsdl"><tds:HostnameInformation><tt:FromDHCP xmlns:tt="http://www.onvif.org/ver10/schema">false</tt:FromDHCP></tds:HostnameInformation></tds:GetHostnameResponse></env:Body></env:Envelope>"#,
    r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:ter="http://www.onvif.org/ver10/error"><s:Body><s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>ter:InvalidArgVal</s:Value><s:Subcode><s:Value>ter:NoProfile</s:Value></s:Subcode></s:Subcode></s:Code><s:Reason><s:Text xml:lang="en">no</s:Text></s:Reason></s:Fault></s:Body></s:Envelope>"#,
];

fn exercise(text: String) {
    if let Ok(reply) = Reply::parse(text) {
        // A parsed reply must also yield its payload.
        let name = reply.with_payload(|p| Ok(p.tag_name().name().to_owned()));
        assert!(name.is_ok());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        exercise(String::from_utf8_lossy(&bytes).into_owned());
    }

    #[test]
    fn mutated_envelopes_never_panic(
        which in 0..VALID.len(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..4, any::<char>()), 1..8),
    ) {
        let mut chars: Vec<char> = VALID[which].chars().collect();
        for (at, op, c) in edits {
            if chars.is_empty() { break; }
            let i = at.index(chars.len());
            match op {
                0 => { chars.remove(i); }
                1 => chars.insert(i, c),
                2 => chars[i] = c,
                _ => { chars.truncate(i); }
            }
        }
        exercise(chars.into_iter().collect());
    }

    #[test]
    fn deep_nesting_is_bounded(depth in 1usize..5000) {
        let mut s = String::from(r#"<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body>"#);
        s.push_str(&"<a>".repeat(depth));
        s.push_str(&"</a>".repeat(depth));
        s.push_str("</env:Body></env:Envelope>");
        exercise(s);
    }
}
