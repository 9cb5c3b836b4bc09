//! Reading replies (roxmltree, by namespace URI + local name) and small writing helpers (quick-xml).
//!
//! INTERFACE CONTRACT: signatures fixed; bodies filled by the core helper.

use crate::error::OnvifError;

/// A reply document, owned. The payload is the first element child of `env:Body`.
pub struct Reply {
    parsed: Parsed,
}

/// roxmltree's document borrows the text it was parsed from; the two live together.
type Document<'a> = roxmltree::Document<'a>;

self_cell::self_cell!(
    /// A reply's text and its parsed document, parsed once.
    struct Parsed {
        owner: String,
        #[covariant]
        dependent: Document,
    }
);

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reply")
            .field("bytes", &self.text().len())
            .finish()
    }
}

impl Reply {
    /// Checks that `text` is a SOAP 1.2 envelope with a body payload.
    ///
    /// A SOAP fault becomes `OnvifError::Refused` (classified by [`crate::soap::classify_fault`]);
    /// anything that is not well-formed XML, not a SOAP 1.2 envelope, or has an empty body is
    /// `TransportError::Malformed`. Parsing is bounded by [`crate::soap::MAX_REPLY_NODES`].
    pub fn parse(text: String) -> Result<Self, OnvifError> {
        let parsed = Parsed::try_new(text, |text| {
            crate::soap::parse_document(text)
                .map_err(|e| crate::error::malformed(format!("not well-formed XML: {e}")))
        })?;
        let reply = Self { parsed };
        reply.with_payload(|_| Ok(()))?;
        Ok(reply)
    }

    /// The raw XML text, for capture and schema validation in tests.
    pub fn text(&self) -> &str {
        self.parsed.borrow_owner()
    }

    /// Runs `f` on the payload element (first child of Body).
    pub fn with_payload<R>(
        &self,
        f: impl FnOnce(roxmltree::Node<'_, '_>) -> Result<R, OnvifError>,
    ) -> Result<R, OnvifError> {
        let doc = self.parsed.borrow_dependent();
        match crate::soap::body_content(doc).map_err(crate::error::malformed)? {
            crate::soap::BodyContent::Payload(p) => f(p),
            crate::soap::BodyContent::Fault(fault) => {
                Err(OnvifError::Refused(crate::soap::classify_fault(fault)))
            }
        }
    }
}

/// First child element with namespace `ns` and local name `local`.
pub fn child<'a, 'i>(
    node: roxmltree::Node<'a, 'i>,
    ns: &str,
    local: &str,
) -> Option<roxmltree::Node<'a, 'i>> {
    node.children().find(|c| {
        c.is_element() && c.tag_name().name() == local && c.tag_name().namespace() == Some(ns)
    })
}

/// All child elements with namespace `ns` and local name `local`.
pub fn children<'a, 'i: 'a>(
    node: roxmltree::Node<'a, 'i>,
    ns: &'a str,
    local: &'a str,
) -> impl Iterator<Item = roxmltree::Node<'a, 'i>> + 'a {
    node.children().filter(move |c| {
        c.is_element() && c.tag_name().name() == local && c.tag_name().namespace() == Some(ns)
    })
}

/// Like [`child`], but a missing element is a malformed reply naming what was missing.
pub fn req_child<'a, 'i>(
    node: roxmltree::Node<'a, 'i>,
    ns: &str,
    local: &str,
) -> Result<roxmltree::Node<'a, 'i>, OnvifError> {
    child(node, ns, local).ok_or_else(|| {
        crate::error::malformed(format!("{} has no {local}", node.tag_name().name()))
    })
}

/// The trimmed text content of an element (empty when none).
pub fn text(node: roxmltree::Node<'_, '_>) -> String {
    node.text().map(str::trim).unwrap_or_default().to_owned()
}

/// Text of a required child element.
pub fn req_text(
    node: roxmltree::Node<'_, '_>,
    ns: &str,
    local: &str,
) -> Result<String, OnvifError> {
    req_child(node, ns, local).map(text)
}

/// Text of an optional child element.
pub fn opt_text(node: roxmltree::Node<'_, '_>, ns: &str, local: &str) -> Option<String> {
    child(node, ns, local).map(text)
}

/// Parses an `xs:boolean` ("true", "false", "1", "0").
pub fn parse_bool(s: &str) -> Result<bool, OnvifError> {
    match s.trim() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        other => Err(crate::error::malformed(format!("not a boolean: {other:?}"))),
    }
}

/// Parses an integer field.
pub fn parse_num<N: std::str::FromStr>(s: &str) -> Result<N, OnvifError> {
    s.trim()
        .parse()
        .map_err(|_| crate::error::malformed(format!("not a number: {s:?}")))
}

/// Escapes text for use in element content or attribute values.
pub fn escape(s: &str) -> std::borrow::Cow<'_, str> {
    quick_xml::escape::escape(s)
}

/// Formats an `xs:dateTime` in UTC with seconds precision and a `Z` suffix. Written by hand because
/// it cannot fail, unlike RFC 3339 formatting, which rejects years outside 0..=9999.
pub fn xs_date_time(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}
