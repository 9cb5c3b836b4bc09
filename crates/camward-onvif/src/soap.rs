//! SOAP 1.2 envelopes (W3C SOAP 1.2 Part 1, §5) as ONVIF uses them.
//!
//! Glossary:
//! - *envelope*: `env:Envelope` with an optional `env:Header` and one `env:Body`.
//! - *payload*: the single element inside `env:Body`, e.g. `tds:GetSystemDateAndTime`.
//! - *fault*: `env:Fault` in the body (§5.4): `env:Code/env:Value`, nested `env:Subcode/env:Value`
//!   (QNames whose prefixes are resolved against the fault's in-scope namespaces), `env:Reason/env:Text`.
//! - *action*: the SOAP action URI `{service namespace}/{operation}`, carried in the `action`
//!   parameter of the `application/soap+xml` media type (RFC 3902), since SOAP 1.2 has no SOAPAction header.
//!
//! Envelopes are written with quick-xml; replies are read with roxmltree by namespace URI and local
//! name, never by prefix, because vendors use any prefix they like.

use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

use crate::auth::UsernameToken;
use crate::error::{DeviceRefusal, QName, SoapFault};
use crate::ns;

/// Upper bound on the number of XML nodes read from one reply. Real ONVIF replies are a few
/// thousand nodes at most; the bound keeps a hostile reply from costing unbounded memory.
pub const MAX_REPLY_NODES: u32 = 200_000;

/// A SOAP 1.2 request envelope: an optional WS-Security header and the payload.
#[derive(Debug)]
pub struct Envelope<'a> {
    /// WS-Security UsernameToken for the `wsse:Security` header, if the request carries one.
    pub security: Option<&'a UsernameToken>,
    /// The payload element, serialized, declaring its own namespaces.
    pub payload: &'a str,
}

impl Envelope<'_> {
    /// Serializes the envelope.
    pub fn to_xml(&self) -> String {
        let mut w = Writer::new(Vec::with_capacity(self.payload.len() + 1024));
        // Writing into a Vec cannot fail, so the io results below are infallible in practice; they
        // are still propagated into a single check rather than unwrapped one by one.
        let result = (|| -> std::io::Result<()> {
            w.write_event(Event::Decl(quick_xml::events::BytesDecl::new(
                "1.0",
                Some("UTF-8"),
                None,
            )))?;
            let mut env = BytesStart::new("env:Envelope");
            env.push_attribute(("xmlns:env", ns::SOAP_ENV));
            w.write_event(Event::Start(env))?;
            if let Some(token) = self.security {
                w.write_event(Event::Start(BytesStart::new("env:Header")))?;
                token.write(&mut w)?;
                w.write_event(Event::End(BytesEnd::new("env:Header")))?;
            }
            w.write_event(Event::Start(BytesStart::new("env:Body")))?;
            // The payload is already serialized XML built by the typed operations; it is copied
            // verbatim so its namespace declarations stay where its author put them.
            std::io::Write::write_all(w.get_mut(), self.payload.as_bytes())?;
            w.write_event(Event::End(BytesEnd::new("env:Body")))?;
            w.write_event(Event::End(BytesEnd::new("env:Envelope")))?;
            Ok(())
        })();
        debug_assert!(result.is_ok(), "writing to a Vec cannot fail");
        String::from_utf8(w.into_inner()).unwrap_or_default()
    }
}

/// Writes `<prefix:local attrs>text</prefix:local>` — a small convenience for header elements.
pub(crate) fn write_text_element<W: std::io::Write>(
    w: &mut Writer<W>,
    name: &str,
    attrs: &[(&str, &str)],
    text: &str,
) -> std::io::Result<()> {
    let mut start = BytesStart::new(name);
    for a in attrs {
        start.push_attribute(*a);
    }
    w.write_event(Event::Start(start))?;
    w.write_event(Event::Text(BytesText::new(text)))?;
    w.write_event(Event::End(BytesEnd::new(name)))?;
    Ok(())
}

/// The `Content-Type` of a request with SOAP action `{namespace}/{action}` (RFC 3902 `action` parameter).
pub fn content_type(namespace: &str, action: &str) -> String {
    format!("application/soap+xml; charset=utf-8; action=\"{namespace}/{action}\"")
}

/// Parses XML with the project's limits: no DTD, bounded node count.
pub(crate) fn parse_document(text: &str) -> Result<roxmltree::Document<'_>, roxmltree::Error> {
    let opts = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_REPLY_NODES,
        ..roxmltree::ParsingOptions::default()
    };
    roxmltree::Document::parse_with_options(text, opts)
}

/// What an envelope's body holds.
#[derive(Debug)]
pub(crate) enum BodyContent<'a, 'i> {
    /// An ordinary payload element.
    Payload(roxmltree::Node<'a, 'i>),
    /// A SOAP fault.
    Fault(SoapFault),
}

/// Finds the body content of a parsed envelope; `Err` names what is wrong with it.
pub(crate) fn body_content<'a, 'i>(
    doc: &'a roxmltree::Document<'i>,
) -> Result<BodyContent<'a, 'i>, String> {
    let root = doc.root_element();
    if root.tag_name().namespace() != Some(ns::SOAP_ENV) || root.tag_name().name() != "Envelope" {
        return Err(format!(
            "root element is {:?}, not a SOAP 1.2 Envelope",
            root.tag_name().name()
        ));
    }
    let body = crate::xml::child(root, ns::SOAP_ENV, "Body").ok_or("envelope has no Body")?;
    let payload = body
        .children()
        .find(|c| c.is_element())
        .ok_or("Body is empty")?;
    if payload.tag_name().namespace() == Some(ns::SOAP_ENV) && payload.tag_name().name() == "Fault"
    {
        return Ok(BodyContent::Fault(parse_fault(payload)));
    }
    Ok(BodyContent::Payload(payload))
}

/// Reads an `env:Fault` element (SOAP 1.2 Part 1, §5.4). Missing parts are left empty rather than
/// failing: a half-formed fault is still a refusal, not a transport failure.
pub fn parse_fault(fault: roxmltree::Node<'_, '_>) -> SoapFault {
    let mut code = QName::new("", "");
    let mut subcodes = Vec::new();
    if let Some(code_el) = crate::xml::child(fault, ns::SOAP_ENV, "Code") {
        if let Some(v) = crate::xml::child(code_el, ns::SOAP_ENV, "Value") {
            code = resolve_qname(v);
        }
        // Subcodes nest (§5.4.1.3); walk down the chain. The node limit bounds the depth.
        let mut cur = crate::xml::child(code_el, ns::SOAP_ENV, "Subcode");
        while let Some(sub) = cur {
            if let Some(v) = crate::xml::child(sub, ns::SOAP_ENV, "Value") {
                subcodes.push(resolve_qname(v));
            }
            cur = crate::xml::child(sub, ns::SOAP_ENV, "Subcode");
        }
    }
    let reason = crate::xml::child(fault, ns::SOAP_ENV, "Reason")
        .and_then(|r| crate::xml::child(r, ns::SOAP_ENV, "Text"))
        .map(crate::xml::text)
        .unwrap_or_default();
    SoapFault {
        code,
        subcodes,
        reason,
    }
}

/// Resolves the QName text of a `Value` element against the namespaces in scope at that element.
fn resolve_qname(value: roxmltree::Node<'_, '_>) -> QName {
    let text = crate::xml::text(value);
    let (prefix, local) = match text.split_once(':') {
        Some((p, l)) => (Some(p), l),
        None => (None, text.as_str()),
    };
    let ns = value.lookup_namespace_uri(prefix).unwrap_or_default();
    QName::new(ns, local)
}

/// How a fault is reported to callers (ONVIF Core §5.11.2 names the `ter:` codes).
pub fn classify_fault(fault: SoapFault) -> DeviceRefusal {
    if fault.has_subcode("AccountLocked") || fault.has_subcode("LockedOut") {
        return DeviceRefusal::LockedOut;
    }
    if fault.has_subcode("NotAuthorized") {
        // Cameras (camsim among them) say "locked" only in the reason text of a NotAuthorized
        // fault; a lock-out must not be mistaken for a wrong password, or the user retries into it.
        if fault.reason.to_ascii_lowercase().contains("locked") {
            return DeviceRefusal::LockedOut;
        }
        return DeviceRefusal::NotAuthorized;
    }
    if fault.has_subcode("ActionNotSupported") {
        return DeviceRefusal::NotSupported;
    }
    DeviceRefusal::Fault(fault)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fault_of(xml: &str) -> SoapFault {
        let doc = parse_document(xml).unwrap();
        match body_content(&doc).unwrap() {
            BodyContent::Fault(f) => f,
            BodyContent::Payload(p) => panic!("expected a fault, got {:?}", p.tag_name()),
        }
    }

    #[test]
    fn fault_with_unusual_prefixes_and_nested_subcodes() {
        let xml = r#"<?xml version="1.0"?>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:e="http://www.onvif.org/ver10/error">
 <s:Body><s:Fault>
  <s:Code><s:Value>s:Sender</s:Value>
   <s:Subcode><s:Value>e:InvalidArgVal</s:Value>
    <s:Subcode><s:Value xmlns:x="http://www.onvif.org/ver10/error">x:NoProfile</s:Value></s:Subcode>
   </s:Subcode>
  </s:Code>
  <s:Reason><s:Text xml:lang="en">No such profile</s:Text></s:Reason>
 </s:Fault></s:Body></s:Envelope>"#;
        let f = fault_of(xml);
        assert_eq!(f.code, QName::new(ns::SOAP_ENV, "Sender"));
        assert_eq!(
            f.subcodes,
            vec![
                QName::new(ns::TER, "InvalidArgVal"),
                QName::new(ns::TER, "NoProfile")
            ]
        );
        assert_eq!(f.reason, "No such profile");
        assert_eq!(
            f.to_string(),
            "env:Sender/ter:InvalidArgVal/ter:NoProfile: No such profile"
        );
        assert!(matches!(classify_fault(f), DeviceRefusal::Fault(_)));
    }

    #[test]
    fn not_authorized_not_supported_and_locked_are_classified() {
        let tpl = |sub: &str, reason: &str| {
            format!(
                r#"<Envelope xmlns="http://www.w3.org/2003/05/soap-envelope"><Body><Fault><Code><Value>Sender</Value>
<Subcode><Value xmlns:t="http://www.onvif.org/ver10/error">t:{sub}</Value></Subcode></Code>
<Reason><Text>{reason}</Text></Reason></Fault></Body></Envelope>"#
            )
        };
        // Default namespace: the unprefixed code resolves to the envelope namespace.
        let f = fault_of(&tpl("NotAuthorized", "Sender not authorized"));
        assert_eq!(f.code, QName::new(ns::SOAP_ENV, "Sender"));
        assert_eq!(classify_fault(f), DeviceRefusal::NotAuthorized);
        let f = fault_of(&tpl("NotAuthorized", "Account locked out"));
        assert_eq!(classify_fault(f), DeviceRefusal::LockedOut);
        let f = fault_of(&tpl("ActionNotSupported", "no"));
        assert_eq!(classify_fault(f), DeviceRefusal::NotSupported);
        let f = fault_of(&tpl("AccountLocked", "x"));
        assert_eq!(classify_fault(f), DeviceRefusal::LockedOut);
    }

    #[test]
    fn subcode_in_a_foreign_namespace_is_not_ter() {
        let xml = r#"<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" xmlns:ter="urn:not-onvif"><env:Body><env:Fault>
<env:Code><env:Value>env:Sender</env:Value><env:Subcode><env:Value>ter:NotAuthorized</env:Value></env:Subcode></env:Code>
</env:Fault></env:Body></env:Envelope>"#;
        let f = fault_of(xml);
        assert!(matches!(classify_fault(f), DeviceRefusal::Fault(_)));
    }

    #[test]
    fn envelope_without_security_validates_against_the_schema() {
        let payload =
            r#"<tds:GetSystemDateAndTime xmlns:tds="http://www.onvif.org/ver10/device/wsdl"/>"#;
        let xml = Envelope {
            security: None,
            payload,
        }
        .to_xml();
        assert!(xml.contains(payload));
        crate::test_support::assert_schema_valid(&xml);
    }

    #[test]
    fn content_type_carries_the_action() {
        assert_eq!(
            content_type(ns::TDS, "GetSystemDateAndTime"),
            "application/soap+xml; charset=utf-8; action=\"http://www.onvif.org/ver10/device/wsdl/GetSystemDateAndTime\""
        );
    }
}
