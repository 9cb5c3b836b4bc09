//! Property tests: no datagram makes the WS-Discovery or scope parsers panic, and mutations of a
//! valid ProbeMatches (cut, flipped bytes, spliced garbage) are either read or dropped with a reason.
use camward_discovery::wsd::{WsdMessage, ANONYMOUS, DN, SOAP_ENV, TDS, WSA, WSD};
use camward_discovery::ScopeInfo;
use proptest::prelude::*;

fn valid() -> String {
    format!(
        r#"<e:Envelope xmlns:e="{SOAP_ENV}" xmlns:a="{WSA}" xmlns:d="{WSD}" xmlns:n="{DN}" xmlns:t="{TDS}"><e:Header><a:Action>{WSD}/ProbeMatches</a:Action><a:RelatesTo>urn:uuid:1</a:RelatesTo><a:To>{ANONYMOUS}</a:To></e:Header><e:Body><d:ProbeMatches><d:ProbeMatch><a:EndpointReference><a:Address>urn:uuid:2</a:Address></a:EndpointReference><d:Types>n:NetworkVideoTransmitter t:Device</d:Types><d:Scopes>onvif://www.onvif.org/hardware/X onvif://www.onvif.org/MacAddress/00:11:22:33:44:55</d:Scopes><d:XAddrs>http://169.254.1.2/onvif/device_service</d:XAddrs><d:MetadataVersion>1</d:MetadataVersion></d:ProbeMatch></d:ProbeMatches></e:Body></e:Envelope>"#
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let _ = WsdMessage::parse(&bytes);
    }

    #[test]
    fn mutated_probe_matches_never_panic(cut in 0usize..2000, flips in proptest::collection::vec((0usize..2000, any::<u8>()), 0..8), splice in ".{0,64}") {
        let mut bytes = valid().into_bytes();
        for (at, b) in flips {
            let n = bytes.len();
            bytes[at % n] = b;
        }
        let at = cut % bytes.len();
        bytes.splice(at..at, splice.bytes());
        let _ = WsdMessage::parse(&bytes);
        bytes.truncate(cut % (bytes.len() + 1));
        let _ = WsdMessage::parse(&bytes);
    }

    #[test]
    fn arbitrary_scopes_never_panic(scopes in proptest::collection::vec("(onvif://www\\.onvif\\.org/)?[A-Za-z/%0-9+:.-]{0,40}", 0..16)) {
        let _ = ScopeInfo::from_scopes(&scopes);
    }
}

#[test]
fn the_valid_sample_reads() {
    let msg = WsdMessage::parse(valid().as_bytes()).expect("valid");
    match msg {
        WsdMessage::ProbeMatches { matches, .. } => {
            assert!(matches[0].is_onvif());
            let info = ScopeInfo::from_scopes(&matches[0].scopes);
            assert_eq!(info.mac.as_deref(), Some("00:11:22:33:44:55"));
        }
        other => panic!("{other:?}"),
    }
}
