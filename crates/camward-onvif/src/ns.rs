//! XML namespaces used on the wire. Replies are matched by namespace URI + local name, never by
//! prefix: vendors use any prefix they like.

/// SOAP 1.2 envelope (W3C SOAP 1.2 Part 1, §5).
pub const SOAP_ENV: &str = "http://www.w3.org/2003/05/soap-envelope";
/// ONVIF schema types (onvif.xsd).
pub const TT: &str = "http://www.onvif.org/ver10/schema";
/// Device Management service (devicemgmt.wsdl).
pub const TDS: &str = "http://www.onvif.org/ver10/device/wsdl";
/// Advanced Security service (advancedsecurity.wsdl).
pub const TAS: &str = "http://www.onvif.org/ver10/advancedsecurity/wsdl";
/// Media2 service (media2.wsdl).
pub const TR2: &str = "http://www.onvif.org/ver20/media/wsdl";
/// Media (ver10) service, only named in GetServices answers.
pub const TRT: &str = "http://www.onvif.org/ver10/media/wsdl";
/// ONVIF error codes used in SOAP fault subcodes (ONVIF Core §5.11.2).
pub const TER: &str = "http://www.onvif.org/ver10/error";
/// WS-Security 1.0 secext.
pub const WSSE: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
/// WS-Security 1.0 utility (wsu:Created).
pub const WSU: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd";
/// UsernameToken profile: PasswordDigest type URI.
pub const PASSWORD_DIGEST: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest";
/// SOAP message security: Base64 encoding type URI for the nonce.
pub const BASE64_BINARY: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary";
