//! WS-Discovery messages, as ONVIF uses them.
//!
//! ONVIF Core §7.3 ("Device discovery") builds on WS-Discovery of April 2005 with WS-Addressing of
//! August 2004, in SOAP 1.2 envelopes sent over UDP to 239.255.255.250:3702:
//!
//! - A client multicasts a **Probe** (`d:Probe/d:Types`, here `dn:NetworkVideoTransmitter
//!   tds:Device`) with a fresh `a:MessageID`.
//! - Each matching device answers by unicast with **ProbeMatches** whose `a:RelatesTo` is that
//!   MessageID; each `d:ProbeMatch` carries the device's endpoint reference (`a:EndpointReference/
//!   a:Address`, usually `urn:uuid:…`), its `d:Types`, `d:Scopes` and `d:XAddrs` (the device
//!   service URLs) and `d:MetadataVersion`.
//! - A device multicasts **Hello** when it joins the network and **Bye** when it leaves
//!   (ONVIF Core §7.3.2.2).
//!
//! Glossary: *EPR* endpoint reference, the device's stable identity (survives address changes);
//! *XAddrs* transport addresses; *scopes* URIs such as `onvif://www.onvif.org/hardware/M3045`
//! (see [`crate::scopes`]).
//!
//! Datagrams are hostile input: anyone on the segment can send one. [`WsdMessage::parse`] caps the
//! size, refuses DTDs (roxmltree does), matches names by namespace URI + local name (vendors use
//! any prefix), resolves the prefixed names in `d:Types` against the namespaces in scope where
//! they stand, and caps how many matches, scopes and addresses one datagram may carry.
use std::fmt;

use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;
use serde::Serialize;

/// SOAP 1.2 envelope.
pub const SOAP_ENV: &str = "http://www.w3.org/2003/05/soap-envelope";
/// WS-Addressing, August 2004 (the version WS-Discovery 2005/04 uses).
pub const WSA: &str = "http://schemas.xmlsoap.org/ws/2004/08/addressing";
/// WS-Discovery, April 2005.
pub const WSD: &str = "http://schemas.xmlsoap.org/ws/2005/04/discovery";
/// ONVIF Device Management (`tds:Device`).
pub const TDS: &str = "http://www.onvif.org/ver10/device/wsdl";
/// ONVIF network (`dn:NetworkVideoTransmitter`).
pub const DN: &str = "http://www.onvif.org/ver10/network/wsdl";
/// The `a:To` of a multicast discovery message (WS-Discovery 2005/04 §2.4).
pub const DISCOVERY_URN: &str = "urn:schemas-xmlsoap-org:ws:2005:04:discovery";
/// The anonymous reply-to address (WS-Addressing 2004/08 §2.1).
pub const ANONYMOUS: &str = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous";

/// The largest datagram read: a UDP payload cannot be larger.
pub const MAX_DATAGRAM: usize = 65_507;
/// At most this many matches, scopes or addresses are kept from one datagram.
pub const MAX_ITEMS: usize = 64;

fn action(name: &str) -> String {
    format!("{WSD}/{name}")
}

/// A qualified name, resolved to its namespace URI.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct QName {
    /// Namespace URI (empty when the prefix did not resolve).
    pub ns: String,
    /// Local part.
    pub local: String,
}

impl QName {
    /// True for `ns:local`.
    pub fn is(&self, ns: &str, local: &str) -> bool {
        self.ns == ns && self.local == local
    }
}

/// A WS-Discovery Probe, ready to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Probe {
    /// `urn:uuid:…`; the ProbeMatches answering it carry it in `a:RelatesTo`.
    pub message_id: String,
}

impl Probe {
    /// A Probe with a fresh random MessageID.
    pub fn new() -> Self {
        Self {
            message_id: format!("urn:uuid:{}", uuid::Uuid::new_v4()),
        }
    }

    /// The SOAP 1.2 envelope probing for ONVIF video transmitters and devices.
    pub fn to_xml(&self) -> String {
        let mut w = Writer::new(Vec::new());
        // Writing into a Vec cannot fail; the results are ignored for that reason only.
        let _ = w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
        let envelope = BytesStart::new("s:Envelope").with_attributes([
            ("xmlns:s", SOAP_ENV),
            ("xmlns:a", WSA),
            ("xmlns:d", WSD),
            ("xmlns:dn", DN),
            ("xmlns:tds", TDS),
        ]);
        let _ = w.write_event(Event::Start(envelope));
        let _ = w.write_event(Event::Start(BytesStart::new("s:Header")));
        text_element(
            &mut w,
            "a:Action",
            &[("s:mustUnderstand", "1")],
            &action("Probe"),
        );
        text_element(&mut w, "a:MessageID", &[], &self.message_id);
        let _ = w.write_event(Event::Start(BytesStart::new("a:ReplyTo")));
        text_element(&mut w, "a:Address", &[], ANONYMOUS);
        let _ = w.write_event(Event::End(BytesEnd::new("a:ReplyTo")));
        text_element(&mut w, "a:To", &[("s:mustUnderstand", "1")], DISCOVERY_URN);
        let _ = w.write_event(Event::End(BytesEnd::new("s:Header")));
        let _ = w.write_event(Event::Start(BytesStart::new("s:Body")));
        let _ = w.write_event(Event::Start(BytesStart::new("d:Probe")));
        text_element(
            &mut w,
            "d:Types",
            &[],
            "dn:NetworkVideoTransmitter tds:Device",
        );
        let _ = w.write_event(Event::End(BytesEnd::new("d:Probe")));
        let _ = w.write_event(Event::End(BytesEnd::new("s:Body")));
        let _ = w.write_event(Event::End(BytesEnd::new("s:Envelope")));
        String::from_utf8_lossy(&w.into_inner()).into_owned()
    }
}

impl Default for Probe {
    fn default() -> Self {
        Self::new()
    }
}

fn text_element(w: &mut Writer<Vec<u8>>, name: &str, attrs: &[(&str, &str)], text: &str) {
    let start = BytesStart::new(name).with_attributes(attrs.iter().copied());
    let _ = w.write_event(Event::Start(start));
    let _ = w.write_event(Event::Text(BytesText::new(text)));
    let _ = w.write_event(Event::End(BytesEnd::new(name)));
}

/// What one device says about itself in a ProbeMatch or a Hello.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Endpoint {
    /// The endpoint reference address, the device's stable identity (`urn:uuid:…`).
    pub address: String,
    /// `d:Types`, resolved.
    pub types: Vec<QName>,
    /// `d:Scopes`, as sent.
    pub scopes: Vec<String>,
    /// `d:XAddrs`: device service URLs.
    pub xaddrs: Vec<String>,
    /// `d:MetadataVersion`.
    pub metadata_version: Option<u32>,
}

impl Endpoint {
    /// True when the device says it is an ONVIF video transmitter or device.
    pub fn is_onvif(&self) -> bool {
        self.types
            .iter()
            .any(|t| t.is(DN, "NetworkVideoTransmitter") || t.is(TDS, "Device"))
    }
}

/// A WS-Discovery datagram Camward understands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WsdMessage {
    /// The answer to a Probe.
    ProbeMatches {
        /// The MessageID of the Probe answered.
        relates_to: String,
        /// One per matching endpoint (devices send one).
        matches: Vec<Endpoint>,
    },
    /// A device joined.
    Hello(Endpoint),
    /// A device leaves.
    Bye {
        /// Its endpoint reference address.
        address: String,
    },
}

/// Why a datagram was dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DatagramError {
    /// Larger than a UDP payload can be.
    #[error("datagram of {0} bytes is larger than any UDP payload")]
    TooLarge(usize),
    /// Not well-formed XML (or not UTF-8, or with a DTD).
    #[error("not well-formed XML: {0}")]
    NotXml(String),
    /// Well-formed, but not a SOAP 1.2 envelope with a header and a body.
    #[error("not a SOAP 1.2 envelope")]
    NotSoap,
    /// A WS-Discovery action Camward does not use (a Probe from another client, Resolve, …).
    #[error("WS-Discovery action {0:?} is not one Camward reads")]
    OtherAction(String),
    /// A required element is missing or empty.
    #[error("{0} is missing")]
    Missing(&'static str),
}

impl DatagramError {
    /// Stable code for logs and the UI.
    pub fn code(&self) -> &'static str {
        match self {
            DatagramError::TooLarge(_) => "datagram_too_large",
            DatagramError::NotXml(_) => "datagram_not_xml",
            DatagramError::NotSoap => "datagram_not_soap",
            DatagramError::OtherAction(_) => "datagram_other_action",
            DatagramError::Missing(_) => "datagram_incomplete",
        }
    }
}

type Node<'a, 'input> = roxmltree::Node<'a, 'input>;

fn child<'a, 'input>(node: Node<'a, 'input>, ns: &str, local: &str) -> Option<Node<'a, 'input>> {
    node.children().find(|c| {
        c.is_element() && c.tag_name().namespace() == Some(ns) && c.tag_name().name() == local
    })
}

fn children<'a, 'input>(
    node: Node<'a, 'input>,
    ns: &'a str,
    local: &'a str,
) -> impl Iterator<Item = Node<'a, 'input>> + 'a {
    node.children().filter(move |c| {
        c.is_element() && c.tag_name().namespace() == Some(ns) && c.tag_name().name() == local
    })
}

fn text_of(node: Option<Node<'_, '_>>) -> Option<String> {
    node.and_then(|n| n.text())
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

fn list(node: Option<Node<'_, '_>>) -> Vec<String> {
    node.and_then(|n| n.text())
        .map(|t| {
            t.split_whitespace()
                .take(MAX_ITEMS)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// `d:Types` holds QNames whose prefixes are declared in the XML around them.
fn types(node: Option<Node<'_, '_>>) -> Vec<QName> {
    let Some(node) = node else {
        return Vec::new();
    };
    list(Some(node))
        .into_iter()
        .map(|qname| {
            let (prefix, local) = match qname.split_once(':') {
                Some((p, l)) => (Some(p), l),
                None => (None, qname.as_str()),
            };
            QName {
                ns: node
                    .lookup_namespace_uri(prefix)
                    .unwrap_or_default()
                    .to_owned(),
                local: local.to_owned(),
            }
        })
        .collect()
}

fn endpoint(node: Node<'_, '_>) -> Result<Endpoint, DatagramError> {
    let address =
        text_of(child(node, WSA, "EndpointReference").and_then(|e| child(e, WSA, "Address")))
            .ok_or(DatagramError::Missing("a:EndpointReference/a:Address"))?;
    Ok(Endpoint {
        address,
        types: types(child(node, WSD, "Types")),
        scopes: list(child(node, WSD, "Scopes")),
        xaddrs: list(child(node, WSD, "XAddrs")),
        metadata_version: text_of(child(node, WSD, "MetadataVersion")).and_then(|v| v.parse().ok()),
    })
}

impl WsdMessage {
    /// Reads one datagram. Anything else than a ProbeMatches, Hello or Bye is an error the caller
    /// drops (and may count); nothing here panics on any input.
    pub fn parse(datagram: &[u8]) -> Result<Self, DatagramError> {
        if datagram.len() > MAX_DATAGRAM {
            return Err(DatagramError::TooLarge(datagram.len()));
        }
        let text =
            std::str::from_utf8(datagram).map_err(|e| DatagramError::NotXml(e.to_string()))?;
        let doc =
            roxmltree::Document::parse(text).map_err(|e| DatagramError::NotXml(e.to_string()))?;
        let root = doc.root_element();
        if root.tag_name().namespace() != Some(SOAP_ENV) || root.tag_name().name() != "Envelope" {
            return Err(DatagramError::NotSoap);
        }
        let header = child(root, SOAP_ENV, "Header").ok_or(DatagramError::NotSoap)?;
        let body = child(root, SOAP_ENV, "Body").ok_or(DatagramError::NotSoap)?;
        let action_uri =
            text_of(child(header, WSA, "Action")).ok_or(DatagramError::Missing("a:Action"))?;
        match action_uri
            .strip_prefix(WSD)
            .and_then(|a| a.strip_prefix('/'))
        {
            Some("ProbeMatches") => {
                let relates_to = text_of(child(header, WSA, "RelatesTo"))
                    .ok_or(DatagramError::Missing("a:RelatesTo"))?;
                let matches_node = child(body, WSD, "ProbeMatches")
                    .ok_or(DatagramError::Missing("d:ProbeMatches"))?;
                let matches = children(matches_node, WSD, "ProbeMatch")
                    .take(MAX_ITEMS)
                    .map(endpoint)
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(WsdMessage::ProbeMatches {
                    relates_to,
                    matches,
                })
            }
            Some("Hello") => {
                let hello = child(body, WSD, "Hello").ok_or(DatagramError::Missing("d:Hello"))?;
                Ok(WsdMessage::Hello(endpoint(hello)?))
            }
            Some("Bye") => {
                let bye = child(body, WSD, "Bye").ok_or(DatagramError::Missing("d:Bye"))?;
                Ok(WsdMessage::Bye {
                    address: endpoint(bye)?.address,
                })
            }
            _ => Err(DatagramError::OtherAction(action_uri)),
        }
    }

    /// The ProbeMatches answering `probe`, or `None` for any other message (a reply to someone
    /// else's probe, a Hello, a Bye): replies are matched by `a:RelatesTo`, never by sender.
    pub fn answers(&self, probe: &Probe) -> Option<&[Endpoint]> {
        match self {
            WsdMessage::ProbeMatches {
                relates_to,
                matches,
            } if *relates_to == probe.message_id => Some(matches),
            _ => None,
        }
    }
}

impl fmt::Display for QName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{{}}}{}", self.ns, self.local)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ProbeMatches as cameras send it, with other prefixes than ours.
    fn probe_matches(relates_to: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="{SOAP_ENV}" xmlns:wsa="{WSA}" xmlns:wsdd="{WSD}"
    xmlns:tdn="{DN}" xmlns:dev="{TDS}">
  <SOAP-ENV:Header>
    <wsa:MessageID>urn:uuid:3f1b6c2e-0000-4000-8000-00000000beef</wsa:MessageID>
    <wsa:RelatesTo>{relates_to}</wsa:RelatesTo>
    <wsa:To>{ANONYMOUS}</wsa:To>
    <wsa:Action>{WSD}/ProbeMatches</wsa:Action>
    <wsdd:AppSequence InstanceId="7" MessageNumber="3"/>
  </SOAP-ENV:Header>
  <SOAP-ENV:Body>
    <wsdd:ProbeMatches>
      <wsdd:ProbeMatch>
        <wsa:EndpointReference><wsa:Address>urn:uuid:1419d68a-1dd2-11b2-a105-ACCC8E000001</wsa:Address></wsa:EndpointReference>
        <wsdd:Types>tdn:NetworkVideoTransmitter dev:Device</wsdd:Types>
        <wsdd:Scopes>onvif://www.onvif.org/hardware/M3045 onvif://www.onvif.org/name/Lobby%20cam onvif://www.onvif.org/Profile/Q/FactoryDefault</wsdd:Scopes>
        <wsdd:XAddrs>http://169.254.12.34/onvif/device_service http://[fe80::1]/onvif/device_service</wsdd:XAddrs>
        <wsdd:MetadataVersion>2</wsdd:MetadataVersion>
      </wsdd:ProbeMatch>
    </wsdd:ProbeMatches>
  </SOAP-ENV:Body>
</SOAP-ENV:Envelope>"#
        )
    }

    #[test]
    fn a_probe_match_is_read_by_namespace_and_matched_by_relates_to() {
        let probe = Probe::new();
        let msg = WsdMessage::parse(probe_matches(&probe.message_id).as_bytes()).unwrap();
        let matches = msg.answers(&probe).expect("answers our probe");
        assert_eq!(matches.len(), 1);
        let m = &matches[0];
        assert_eq!(m.address, "urn:uuid:1419d68a-1dd2-11b2-a105-ACCC8E000001");
        assert!(m.is_onvif());
        assert!(m.types[0].is(DN, "NetworkVideoTransmitter"));
        assert_eq!(m.xaddrs.len(), 2);
        assert_eq!(m.scopes.len(), 3);
        assert_eq!(m.metadata_version, Some(2));
        // Someone else's probe: not ours.
        assert!(msg.answers(&Probe::new()).is_none());
    }

    #[test]
    fn our_probe_is_well_formed_and_asks_for_onvif_types() {
        let probe = Probe::new();
        let xml = probe.to_xml();
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let root = doc.root_element();
        let header = child(root, SOAP_ENV, "Header").unwrap();
        assert_eq!(
            text_of(child(header, WSA, "MessageID")),
            Some(probe.message_id.clone())
        );
        assert_eq!(text_of(child(header, WSA, "Action")), Some(action("Probe")));
        assert_eq!(
            text_of(child(header, WSA, "To")).as_deref(),
            Some(DISCOVERY_URN)
        );
        let probe_node = child(child(root, SOAP_ENV, "Body").unwrap(), WSD, "Probe").unwrap();
        let t = types(child(probe_node, WSD, "Types"));
        assert!(t.iter().any(|q| q.is(DN, "NetworkVideoTransmitter")));
        assert!(t.iter().any(|q| q.is(TDS, "Device")));
        // A Probe (ours or another client's) is not something a scan reads.
        assert!(matches!(
            WsdMessage::parse(xml.as_bytes()),
            Err(DatagramError::OtherAction(_))
        ));
    }

    #[test]
    fn hostile_datagrams_are_dropped_with_a_reason() {
        let probe = Probe::new();
        let good = probe_matches(&probe.message_id);
        let oversized = vec![b' '; MAX_DATAGRAM + 1];
        assert!(matches!(
            WsdMessage::parse(&oversized),
            Err(DatagramError::TooLarge(_))
        ));
        assert!(matches!(
            WsdMessage::parse(b"<a>"),
            Err(DatagramError::NotXml(_))
        ));
        assert!(matches!(
            WsdMessage::parse(&[0xff, 0xfe]),
            Err(DatagramError::NotXml(_))
        ));
        let dtd = format!(
            "<!DOCTYPE x [<!ENTITY e \"boom\">]>{}",
            &good[good.find("<SOAP-ENV:Envelope").unwrap()..]
        );
        assert!(
            WsdMessage::parse(dtd.as_bytes()).is_err(),
            "DTDs are refused"
        );
        assert!(matches!(
            WsdMessage::parse(b"<Envelope/>"),
            Err(DatagramError::NotSoap)
        ));
        let no_relates = good.replace(
            &format!("<wsa:RelatesTo>{}</wsa:RelatesTo>", probe.message_id),
            "",
        );
        assert_eq!(
            WsdMessage::parse(no_relates.as_bytes()),
            Err(DatagramError::Missing("a:RelatesTo"))
        );
        let no_epr = good.replace(
            "<wsa:Address>urn:uuid:1419d68a-1dd2-11b2-a105-ACCC8E000001</wsa:Address>",
            "",
        );
        assert_eq!(
            WsdMessage::parse(no_epr.as_bytes()),
            Err(DatagramError::Missing("a:EndpointReference/a:Address"))
        );
        // Thousands of scopes: only the first MAX_ITEMS are kept.
        let many = good.replace(
            "onvif://www.onvif.org/hardware/M3045",
            &"onvif://www.onvif.org/x ".repeat(2000),
        );
        let msg = WsdMessage::parse(many.as_bytes()).unwrap();
        assert_eq!(msg.answers(&probe).unwrap()[0].scopes.len(), MAX_ITEMS);
    }

    #[test]
    fn hello_and_bye() {
        let hello = probe_matches("x")
            .replace("/ProbeMatches</wsa:Action>", "/Hello</wsa:Action>")
            .replace(
                "<wsdd:ProbeMatches>\n      <wsdd:ProbeMatch>",
                "<wsdd:Hello>",
            )
            .replace(
                "</wsdd:ProbeMatch>\n    </wsdd:ProbeMatches>",
                "</wsdd:Hello>",
            );
        match WsdMessage::parse(hello.as_bytes()).unwrap() {
            WsdMessage::Hello(e) => assert_eq!(e.xaddrs.len(), 2),
            other => panic!("{other:?}"),
        }
        let bye = hello
            .replace("/Hello</wsa:Action>", "/Bye</wsa:Action>")
            .replace("wsdd:Hello>", "wsdd:Bye>");
        assert_eq!(
            WsdMessage::parse(bye.as_bytes()).unwrap(),
            WsdMessage::Bye {
                address: "urn:uuid:1419d68a-1dd2-11b2-a105-ACCC8E000001".into()
            }
        );
    }
}
