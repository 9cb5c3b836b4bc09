//! Property tests for the outside checks' parsers: no bytes make the RTSP head, SNMP response or
//! SSDP answer parsers (or the challenge reader) panic; valid heads, responses and answers with any
//! field values read back as sent, whatever the case of header names; a valid SNMP response cut at
//! any byte is refused.
use camward_discovery::outside::{
    self, auth_schemes, parse_rtsp_head, parse_snmp_response, parse_ssdp, snmp_get_request,
    SnmpValue, SYS_DESCR,
};
use proptest::prelude::*;
use rasn::types::{Integer, ObjectIdentifier, OctetString};
use rasn_snmp::v2::{self, Pdu, Pdus, VarBind, VarBindValue};
use rasn_snmp::v2c::Message;

/// Header-safe text: printable ASCII without leading or trailing spaces.
const VALUE: &str = "[!-~]([ -~]{0,60}[!-~])?";

fn cased(name: &str, upper: Vec<bool>) -> String {
    name.chars()
        .zip(upper.into_iter().chain(std::iter::repeat(false)))
        .map(|(c, up)| {
            if up {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

fn response(version: i64, community: &[u8], request_id: i32, descr: &[u8]) -> Vec<u8> {
    rasn::ber::encode(&Message {
        version: Integer::from(version),
        community: OctetString::from_slice(community),
        data: Pdus::Response(v2::Response(Pdu {
            request_id,
            error_status: 0,
            error_index: 0,
            variable_bindings: vec![VarBind {
                name: ObjectIdentifier::new(SYS_DESCR.to_vec()).expect("an OID"),
                value: VarBindValue::Value(rasn_smi::v2::ObjectSyntax::Simple(
                    rasn_smi::v2::SimpleSyntax::String(OctetString::from_slice(descr)),
                )),
            }],
        })),
    })
    .expect("encodes")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn no_bytes_make_a_parser_panic(bytes in proptest::collection::vec(any::<u8>(), 0..20_000)) {
        let _ = parse_rtsp_head(&bytes);
        let _ = parse_snmp_response(&bytes);
        let _ = parse_ssdp(&bytes);
        let text = String::from_utf8_lossy(&bytes);
        let _ = auth_schemes([text.as_ref()]);
    }

    #[test]
    fn no_text_makes_a_parser_panic(text in "(RTSP/1\\.0 |HTTP/1\\.1 200 |[A-Za-z]+: |[ ,=\"\\\\\r\n]|[a-z]{1,5}){0,200}") {
        let _ = parse_rtsp_head(text.as_bytes());
        let _ = parse_ssdp(text.as_bytes());
        let _ = auth_schemes([text.as_str()]);
    }

    #[test]
    fn mutated_snmp_responses_never_panic(
        descr in proptest::collection::vec(any::<u8>(), 0..300),
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        cut in any::<usize>(),
    ) {
        let mut bytes = response(1, b"public", 7, &descr);
        for (at, byte) in flips {
            let len = bytes.len();
            bytes[at % len] = byte;
        }
        let _ = parse_snmp_response(&bytes);
        let _ = parse_snmp_response(&bytes[..cut % (bytes.len() + 1)]);
    }

    #[test]
    fn rtsp_heads_round_trip(
        status in 100u16..600,
        reason in "[A-Za-z][A-Za-z ]{0,30}",
        cseq in any::<u32>(),
        schemes in proptest::collection::vec(prop_oneof![Just("Digest"), Just("Basic"), Just("Negotiate")], 0..4),
        params in VALUE,
        upper in proptest::collection::vec(any::<bool>(), 16),
        extra in proptest::collection::vec(("[A-Za-z][A-Za-z-]{0,20}", VALUE), 0..10),
    ) {
        let mut head = format!("RTSP/1.0 {status} {reason}\r\n{}: {cseq}\r\n", cased("cseq", upper.clone()));
        for (name, value) in &extra {
            if !name.eq_ignore_ascii_case("cseq") && !name.eq_ignore_ascii_case("www-authenticate") {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
        }
        for scheme in &schemes {
            let escaped = params.replace('\\', "\\\\").replace('"', "\\\"");
            head.push_str(&format!("{}: {scheme} realm=\"{escaped}\"\r\n", cased("www-authenticate", upper.clone())));
        }
        head.push_str("\r\n");
        let parsed = parse_rtsp_head(head.as_bytes()).expect("a valid head");
        prop_assert_eq!(parsed.status, status);
        prop_assert_eq!(&parsed.reason, &reason);
        prop_assert_eq!(parsed.cseq, Some(cseq));
        let mut want: Vec<String> = Vec::new();
        for s in &schemes {
            if !want.iter().any(|w| w == s) {
                want.push((*s).to_owned());
            }
        }
        prop_assert_eq!(parsed.auth_schemes(), want);
    }

    #[test]
    fn snmp_responses_round_trip(
        version in 0i64..=1,
        community in proptest::collection::vec(any::<u8>(), 0..64),
        request_id in any::<i32>(),
        descr in "[ -~]{0,255}",
    ) {
        let bytes = response(version, &community, request_id, descr.as_bytes());
        let parsed = parse_snmp_response(&bytes).expect("a valid response");
        prop_assert_eq!(i64::from(parsed.version), version);
        prop_assert_eq!(&parsed.community, &community);
        prop_assert_eq!(parsed.request_id, request_id);
        prop_assert_eq!(&parsed.bindings[0].oid, &SYS_DESCR.to_vec());
        prop_assert_eq!(&parsed.bindings[0].value, &SnmpValue::Text(descr));
        for cut in 0..bytes.len() {
            prop_assert!(parse_snmp_response(&bytes[..cut]).is_err());
        }
    }

    #[test]
    fn snmp_requests_decode_as_sent(community in "[ -~]{0,64}", request_id in any::<i32>()) {
        let bytes = snmp_get_request(&community, request_id);
        let message: Message<Pdus> = rasn::ber::decode(&bytes).expect("decodes");
        prop_assert_eq!(message.community.as_ref(), community.as_bytes());
        let Pdus::GetRequest(v2::GetRequest(pdu)) = message.data else {
            return Err(TestCaseError::fail("not a GetRequest"));
        };
        prop_assert_eq!(pdu.request_id, request_id);
        prop_assert_eq!(&*pdu.variable_bindings[0].name, &SYS_DESCR[..]);
    }

    #[test]
    fn ssdp_answers_round_trip(
        st in VALUE,
        usn in VALUE,
        location in proptest::option::of(VALUE),
        server in proptest::option::of(VALUE),
        upper in proptest::collection::vec(any::<bool>(), 16),
        extra in proptest::collection::vec(("X-[A-Za-z]{1,10}", VALUE), 0..10),
        bare_lf in any::<bool>(),
    ) {
        let eol = if bare_lf { "\n" } else { "\r\n" };
        let mut text = format!("HTTP/1.1 200 OK{eol}{}: max-age=1800{eol}EXT:{eol}", cased("cache-control", upper.clone()));
        for (name, value) in &extra {
            text.push_str(&format!("{name}: {value}{eol}"));
        }
        text.push_str(&format!("{}: {st}{eol}{}:{usn}{eol}", cased("st", upper.clone()), cased("usn", upper.clone())));
        if let Some(location) = &location {
            text.push_str(&format!("{}: {location}{eol}", cased("location", upper.clone())));
        }
        if let Some(server) = &server {
            text.push_str(&format!("{}: {server}{eol}", cased("server", upper.clone())));
        }
        text.push_str(eol);
        let answer = parse_ssdp(text.as_bytes()).expect("a valid answer");
        prop_assert_eq!(answer.st, st);
        prop_assert_eq!(answer.usn, usn);
        prop_assert_eq!(answer.location, location);
        prop_assert_eq!(answer.server, server);
        prop_assert_eq!(answer.from, std::net::SocketAddr::from(([0, 0, 0, 0], 0)));
    }
}

#[test]
fn oversized_datagrams_are_refused_unread() {
    let big = vec![0x30; outside::MAX_DATAGRAM + 1];
    assert!(matches!(
        parse_snmp_response(&big),
        Err(outside::OutsideError::TooLarge { .. })
    ));
    assert_eq!(parse_ssdp(&big), None);
}
