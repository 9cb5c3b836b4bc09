//! Checks a hardening audit makes from outside a camera, without credentials: is a port open, does
//! an FTP server greet, which authentication schemes do the RTSP and HTTP servers offer, does the
//! SNMP agent answer a v2c community, does anything answer an SSDP search or an mDNS query.
//!
//! The hardening catalog turns the Canon and i-PRO items that have no API ("web page") into guided
//! steps that are verified from outside: ftp-server-off (TCP 21 closed), digest-auth (a 401 offers
//! Digest and no Basic, on HTTP and on RTSP DESCRIBE), guest-off (an unauthenticated snapshot is
//! refused), snmp-v3 (no answer to a v2c get), upnp-off (no SSDP answers), mdns-off (no answer
//! to an mDNS query). These functions are those verifications; deciding what a result means is the
//! caller's.
//!
//! A hardening audit sends only unicast, to the camera's own address: [`ssdp_unicast_search`]
//! (UPnP DA 1.1 §1.3.2 allows an M-SEARCH sent to the device's address) and
//! [`mdns_unicast_answers`] (RFC 6762 §5.5 direct unicast query to port 5353, from an ephemeral
//! port so that §6.7 makes the responder answer by unicast to that port). [`ssdp_search`]
//! multicasts and belongs to discovery, not to an audit.
//!
//! Specs: FTP replies RFC 959 §4.2; RTSP 1.0 RFC 2326 (§10.2 DESCRIBE, §12.17 CSeq); challenges
//! RFC 7235 §4.1 (`WWW-Authenticate`, several challenges per header allowed); SNMPv2c RFC 1901
//! with the PDUs of RFC 3416, BER-encoded (`rasn-snmp`); SSDP UPnP Device Architecture 1.1 §1.3;
//! mDNS RFC 6762 with DNS-SD RFC 6763 (messages encoded and decoded by `simple-dns`).
//!
//! Glossary: *scheme* the first token of a challenge (`Digest`, `Basic`, …); *community* the
//! clear-text password of SNMPv1/v2c; *sysDescr.0* `1.3.6.1.2.1.1.1.0`, the device's description;
//! *ST* / *USN* an SSDP search target and unique service name.
//!
//! Everything read is hostile input: every read is bounded ([`MAX_BANNER`], [`MAX_RTSP_HEAD`],
//! [`MAX_HTTP_BODY`], [`MAX_DATAGRAM`]), every parser returns a typed refusal instead of
//! panicking (property-tested in `tests/outside_props.rs`), and no check sends credentials.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::Duration;

use camward_onvif::http::{HttpConfig, ReqwestTransport, TlsTrust};
use camward_onvif::transport::HttpRequest;
use camward_onvif::TransportError;
use rasn::types::{Integer, ObjectIdentifier, OctetString};
use rasn_snmp::v2::{self, Pdu, Pdus, VarBind, VarBindValue};
use rasn_snmp::v2c::Message;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpStream, UdpSocket};

/// The longest FTP greeting read, in bytes.
pub const MAX_BANNER: usize = 512;
/// The longest RTSP response head read, in bytes.
pub const MAX_RTSP_HEAD: usize = 16 * 1024;
/// The most header lines read from an RTSP head or an SSDP datagram.
pub const MAX_HEADERS: usize = 100;
/// The largest HTTP reply body read (a 401 page is small).
pub const MAX_HTTP_BODY: usize = 64 * 1024;
/// The largest SNMP or SSDP datagram read; larger ones are dropped.
pub const MAX_DATAGRAM: usize = 8192;
/// The longest text value kept (a sysDescr, an SSDP header), in bytes; longer ones are cut.
pub const MAX_VALUE: usize = 1024;
/// `sysDescr.0` (RFC 3418).
pub const SYS_DESCR: [u32; 9] = [1, 3, 6, 1, 2, 1, 1, 1, 0];
/// The SSDP multicast group and port.
pub const SSDP_GROUP: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(239, 255, 255, 250), 1900);
/// The SSDP port, on which a device also takes unicast searches.
pub const SSDP_PORT: u16 = 1900;
/// The mDNS port (RFC 6762 §3).
pub const MDNS_PORT: u16 = 5353;
/// How long a unicast exchange keeps listening after the first answer, for the ones that follow
/// it (an SSDP device sends one answer per search target).
pub const SETTLE: Duration = Duration::from_millis(200);
/// At most this many names are kept from one mDNS response.
pub const MAX_MDNS_NAMES: usize = 32;

/// Why an outside check could not say anything about the service.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OutsideError {
    /// No (complete) answer within the time allowed.
    #[error("no answer in time")]
    Timeout,
    /// The port is closed: the connection was refused.
    #[error("connection refused")]
    Refused,
    /// Could not connect for another reason (unreachable, DNS, …).
    #[error("could not connect: {0}")]
    Connect(String),
    /// The connection broke or closed before a complete answer.
    #[error("connection broken: {0}")]
    Broken(String),
    /// What came back is not an RTSP response.
    #[error("not an RTSP response: {0}")]
    NotRtsp(&'static str),
    /// What came back is not an SNMP response.
    #[error("not an SNMP response: {0}")]
    NotSnmp(&'static str),
    /// What came back is not a DNS response to the query.
    #[error("not a DNS response: {0}")]
    NotDns(&'static str),
    /// The answer exceeded a size cap.
    #[error("answer larger than {limit} bytes")]
    TooLarge {
        /// The cap, in bytes.
        limit: usize,
    },
    /// TLS failed (an `https` URL needs a trust setting).
    #[error("TLS failure: {0}")]
    Tls(String),
    /// The URL could not be used.
    #[error("invalid URL: {0}")]
    InvalidUrl(String),
    /// A local socket could not be set up.
    #[error("socket error: {0}")]
    Io(String),
}

impl OutsideError {
    /// A stable code for logs, reports and the UI.
    pub fn code(&self) -> &'static str {
        match self {
            OutsideError::Timeout => "outside_timeout",
            OutsideError::Refused => "outside_refused",
            OutsideError::Connect(_) => "outside_connect",
            OutsideError::Broken(_) => "outside_broken",
            OutsideError::NotRtsp(_) => "outside_not_rtsp",
            OutsideError::NotSnmp(_) => "outside_not_snmp",
            OutsideError::NotDns(_) => "outside_not_dns",
            OutsideError::TooLarge { .. } => "outside_too_large",
            OutsideError::Tls(_) => "outside_tls",
            OutsideError::InvalidUrl(_) => "outside_invalid_url",
            OutsideError::Io(_) => "outside_io",
        }
    }

    fn connect(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::ConnectionRefused {
            OutsideError::Refused
        } else {
            OutsideError::Connect(e.to_string())
        }
    }
}

impl From<TransportError> for OutsideError {
    fn from(e: TransportError) -> Self {
        match e {
            TransportError::Timeout => OutsideError::Timeout,
            TransportError::Connect(m) => OutsideError::Connect(m),
            TransportError::Broken(m) | TransportError::Malformed(m) => OutsideError::Broken(m),
            TransportError::Truncated { message, .. } => OutsideError::Broken(message),
            TransportError::Tls(m) => OutsideError::Tls(m),
            TransportError::ResponseTooLarge { limit } => OutsideError::TooLarge { limit },
            TransportError::InvalidUrl(m) => OutsideError::InvalidUrl(m),
        }
    }
}

/// Text from the wire, for reports: invalid UTF-8 replaced, control characters shown as `?`, at
/// most [`MAX_VALUE`] bytes.
fn printable(bytes: &[u8]) -> String {
    let mut text: String = String::from_utf8_lossy(bytes)
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if text.len() > MAX_VALUE {
        let mut cut = MAX_VALUE;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
    text
}

/// Whether a TCP connection to `ip:port` is accepted within `timeout`.
pub async fn tcp_open(ip: IpAddr, port: u16, timeout: Duration) -> bool {
    matches!(
        tokio::time::timeout(timeout, TcpStream::connect((ip, port))).await,
        Ok(Ok(_))
    )
}

/// The first line an FTP server sends on connect (normally `220 …`, RFC 959 §4.2), without its
/// CR LF; `None` when nothing that looks like an FTP reply arrives within `timeout` (port closed,
/// silent, or another protocol). Says `QUIT` politely afterwards.
pub async fn ftp_banner(ip: IpAddr, port: u16, timeout: Duration) -> Option<String> {
    let greet = async {
        let mut stream = TcpStream::connect((ip, port)).await.ok()?;
        let mut line = Vec::with_capacity(128);
        let mut buf = [0u8; 256];
        while !line.contains(&b'\n') && line.len() < MAX_BANNER {
            let n = stream.read(&mut buf).await.ok()?;
            if n == 0 {
                break;
            }
            line.extend_from_slice(&buf[..n]);
        }
        let end = line
            .iter()
            .position(|b| *b == b'\n')
            .unwrap_or(line.len())
            .min(MAX_BANNER);
        let first = line[..end].strip_suffix(b"\r").unwrap_or(&line[..end]);
        let _ = stream.write_all(b"QUIT\r\n").await;
        is_ftp_reply(first).then(|| printable(first))
    };
    tokio::time::timeout(timeout, greet).await.ok().flatten()
}

/// `NNN text` or `NNN-text` (RFC 959 §4.2), with a first digit 1–5.
fn is_ftp_reply(line: &[u8]) -> bool {
    matches!(line, [a, b, c, rest @ ..]
        if (b'1'..=b'5').contains(a) && b.is_ascii_digit() && c.is_ascii_digit()
            && matches!(rest.first(), None | Some(b' ' | b'-')))
}

/// An RTSP response head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RtspResponse {
    /// Status code.
    pub status: u16,
    /// Reason phrase.
    pub reason: String,
    /// The `CSeq` echoed, when it is a number.
    pub cseq: Option<u32>,
    /// Header name/value pairs in order (folded lines joined).
    pub headers: Vec<(String, String)>,
}

impl RtspResponse {
    /// All values of a header, case-insensitively, in order.
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The schemes its `WWW-Authenticate` headers offer.
    pub fn auth_schemes(&self) -> Vec<String> {
        auth_schemes(self.header_values("WWW-Authenticate"))
    }
}

/// Reads an RTSP response head (status line and headers, up to the empty line; anything after it
/// is ignored). Bare LF line ends are accepted; folded header lines are joined.
pub fn parse_rtsp_head(head: &[u8]) -> Result<RtspResponse, OutsideError> {
    let end = find(head, b"\r\n\r\n")
        .map(|i| i + 4)
        .or_else(|| find(head, b"\n\n").map(|i| i + 2))
        .unwrap_or(head.len());
    if end > MAX_RTSP_HEAD {
        return Err(OutsideError::TooLarge {
            limit: MAX_RTSP_HEAD,
        });
    }
    let text = std::str::from_utf8(&head[..end])
        .map_err(|_| OutsideError::NotRtsp("head is not UTF-8"))?;
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let status_line = lines.next().unwrap_or_default();
    let rest = status_line
        .strip_prefix("RTSP/1.")
        .ok_or(OutsideError::NotRtsp("status line"))?;
    let mut parts = rest.splitn(3, ' ');
    let minor = parts.next().unwrap_or_default();
    let code = parts.next().unwrap_or_default();
    if minor.len() != 1 || !minor.bytes().all(|b| b.is_ascii_digit()) {
        return Err(OutsideError::NotRtsp("version"));
    }
    let status = match code.as_bytes() {
        [a, b, c] if [a, b, c].iter().all(|d| d.is_ascii_digit()) => code
            .parse::<u16>()
            .map_err(|_| OutsideError::NotRtsp("status code"))?,
        _ => return Err(OutsideError::NotRtsp("status code")),
    };
    let reason = printable(parts.next().unwrap_or_default().as_bytes());
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in lines {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            // RFC 2326 §4.2 / RFC 2616 §2.2: a continuation of the previous header's value.
            let Some((_, value)) = headers.last_mut() else {
                return Err(OutsideError::NotRtsp("continuation before any header"));
            };
            value.push(' ');
            value.push_str(line.trim());
            continue;
        }
        if headers.len() >= MAX_HEADERS {
            return Err(OutsideError::NotRtsp("too many headers"));
        }
        let (name, value) = line
            .split_once(':')
            .ok_or(OutsideError::NotRtsp("header line"))?;
        let name = name.trim();
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(OutsideError::NotRtsp("header name"));
        }
        headers.push((name.to_owned(), value.trim().to_owned()));
    }
    let cseq = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("CSeq"))
        .and_then(|(_, v)| v.parse().ok());
    Ok(RtspResponse {
        status,
        reason,
        cseq,
        headers,
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The schemes offered by `WWW-Authenticate` values, in order, each once (case-insensitively;
/// `Digest` and `Basic` spelled so). A value may hold several challenges (RFC 7235 §4.1): a
/// comma-separated element that begins with a token not followed by `=` starts a new challenge.
pub fn auth_schemes<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for value in values {
        for scheme in challenge_schemes(value) {
            if !out.iter().any(|s| s.eq_ignore_ascii_case(&scheme)) {
                out.push(scheme);
            }
        }
    }
    out
}

/// The schemes of the challenges in one `WWW-Authenticate` value.
pub fn challenge_schemes(value: &str) -> Vec<String> {
    let mut schemes = Vec::new();
    // Split on commas outside quoted strings.
    let mut elements = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in value.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ',' if !quoted => {
                elements.push(&value[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    elements.push(&value[start..]);
    for element in elements {
        let element = element.trim();
        let token_end = element
            .find(|c: char| !is_token_char(c))
            .unwrap_or(element.len());
        if token_end == 0 {
            continue;
        }
        // `name = value` (an auth-param, BWS allowed around `=`) continues the current
        // challenge; `Scheme`, `Scheme param=…` or `Scheme token68` starts one.
        if element[token_end..].trim_start().starts_with('=') {
            continue;
        }
        let scheme = &element[..token_end];
        let scheme = if scheme.eq_ignore_ascii_case("Digest") {
            "Digest".to_owned()
        } else if scheme.eq_ignore_ascii_case("Basic") {
            "Basic".to_owned()
        } else {
            printable(scheme.as_bytes())
        };
        schemes.push(scheme);
    }
    schemes
}

/// RFC 7230 §3.2.6 `tchar`.
fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// The `DESCRIBE` request sent to `ip:port`.
pub fn rtsp_describe(ip: IpAddr, port: u16) -> String {
    let host = match ip {
        IpAddr::V6(v6) => format!("[{v6}]"),
        v4 => v4.to_string(),
    };
    format!(
        "DESCRIBE rtsp://{host}:{port}/ RTSP/1.0\r\nCSeq: 1\r\nAccept: application/sdp\r\n\
         User-Agent: camward/{}\r\n\r\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// Sends `DESCRIBE rtsp://ip:port/` without credentials and returns the authentication schemes
/// the server's `WWW-Authenticate` headers offer (`["Digest"]`, `["Digest", "Basic"]`, …); empty
/// when it asks for none (it described the stream to anyone, or refused otherwise).
pub async fn rtsp_auth_schemes(
    ip: IpAddr,
    port: u16,
    timeout: Duration,
) -> Result<Vec<String>, OutsideError> {
    let exchange = async {
        let mut stream = TcpStream::connect((ip, port))
            .await
            .map_err(OutsideError::connect)?;
        stream
            .write_all(rtsp_describe(ip, port).as_bytes())
            .await
            .map_err(|e| OutsideError::Broken(e.to_string()))?;
        let mut head = Vec::with_capacity(1024);
        let mut buf = [0u8; 2048];
        loop {
            if find(&head, b"\r\n\r\n").is_some() || find(&head, b"\n\n").is_some() {
                break;
            }
            if head.len() > MAX_RTSP_HEAD {
                return Err(OutsideError::TooLarge {
                    limit: MAX_RTSP_HEAD,
                });
            }
            let n = stream
                .read(&mut buf)
                .await
                .map_err(|e| OutsideError::Broken(e.to_string()))?;
            if n == 0 {
                if head.is_empty() {
                    return Err(OutsideError::Broken("closed without an answer".into()));
                }
                return Err(OutsideError::NotRtsp("closed before the end of the head"));
            }
            head.extend_from_slice(&buf[..n]);
        }
        parse_rtsp_head(&head)
    };
    let response = tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| OutsideError::Timeout)??;
    Ok(response.auth_schemes())
}

/// Sends `GET url` without credentials and returns the schemes the 401's `WWW-Authenticate`
/// headers offer; `Ok(vec![])` when the answer is not a 401. Plain `http` only: an `https` URL
/// needs [`https_auth_schemes`].
pub async fn http_auth_schemes(url: &str, timeout: Duration) -> Result<Vec<String>, OutsideError> {
    get_auth_schemes(url, timeout, None).await
}

/// [`http_auth_schemes`] for an `https` URL, trusting the camera as `trust` says.
pub async fn https_auth_schemes(
    url: &str,
    timeout: Duration,
    trust: TlsTrust,
) -> Result<Vec<String>, OutsideError> {
    get_auth_schemes(url, timeout, Some(trust)).await
}

/// Sends an ONVIF `GetUsers` (READ_SYSTEM_SECRET: never anonymous) to the device service at
/// `url` without credentials and returns the schemes its 401 offers: how an HTTP-Digest camera
/// challenges an ONVIF client. `Ok(vec![])` when the answer is not a 401 (a camera that answers
/// with a SOAP fault, or that uses WS-UsernameToken only).
pub async fn onvif_auth_schemes(url: &str, timeout: Duration) -> Result<Vec<String>, OutsideError> {
    onvif_auth_schemes_with(url, timeout, None).await
}

/// [`onvif_auth_schemes`] for an `https` device service, trusting `trust`.
pub async fn onvif_auth_schemes_with(
    url: &str,
    timeout: Duration,
    trust: Option<TlsTrust>,
) -> Result<Vec<String>, OutsideError> {
    const GET_USERS: &str = concat!(
        r#"<?xml version="1.0" encoding="UTF-8"?>"#,
        r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope">"#,
        r#"<s:Body><GetUsers xmlns="http://www.onvif.org/ver10/device/wsdl"/></s:Body>"#,
        r#"</s:Envelope>"#
    );
    request_auth_schemes(
        "POST",
        url,
        timeout,
        trust,
        vec![(
            "content-type".to_owned(),
            "application/soap+xml; charset=utf-8".to_owned(),
        )],
        GET_USERS.as_bytes().to_vec(),
    )
    .await
}

/// Sends `GET url` without credentials and returns the status: 200 means anyone may fetch it
/// (a snapshot a guest can see), 401 / 403 that it is refused.
pub async fn anonymous_get_status(url: &str, timeout: Duration) -> Result<u16, OutsideError> {
    let transport = ReqwestTransport::new(&HttpConfig {
        connect_timeout: timeout,
        request_timeout: timeout,
        max_response_bytes: MAX_HTTP_BODY,
        trust: None,
    })?;
    let response = transport
        .request(
            "GET",
            HttpRequest {
                url: url.to_owned(),
                headers: Vec::new(),
                body: Vec::new(),
            },
        )
        .await?;
    Ok(response.status)
}

async fn get_auth_schemes(
    url: &str,
    timeout: Duration,
    trust: Option<TlsTrust>,
) -> Result<Vec<String>, OutsideError> {
    request_auth_schemes("GET", url, timeout, trust, Vec::new(), Vec::new()).await
}

async fn request_auth_schemes(
    method: &str,
    url: &str,
    timeout: Duration,
    trust: Option<TlsTrust>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
) -> Result<Vec<String>, OutsideError> {
    let transport = ReqwestTransport::new(&HttpConfig {
        connect_timeout: timeout,
        request_timeout: timeout,
        max_response_bytes: MAX_HTTP_BODY,
        trust,
    })?;
    let response = transport
        .request(
            method,
            HttpRequest {
                url: url.to_owned(),
                headers,
                body,
            },
        )
        .await?;
    if response.status != 401 {
        return Ok(Vec::new());
    }
    Ok(auth_schemes(response.header_values("www-authenticate")))
}

/// One value of an SNMP varbind, as far as an audit reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SnmpValue {
    /// An OCTET STRING, as text (see [`MAX_VALUE`]).
    Text(String),
    /// Any other value.
    Other,
    /// `noSuchObject`.
    NoSuchObject,
    /// `noSuchInstance`.
    NoSuchInstance,
    /// `endOfMibView`.
    EndOfMibView,
    /// `NULL` (`unSpecified`).
    Null,
}

/// One varbind of a response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnmpBinding {
    /// The object's OID.
    pub oid: Vec<u32>,
    /// Its value.
    pub value: SnmpValue,
}

/// An SNMPv1/v2c response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnmpResponse {
    /// 0 for SNMPv1, 1 for SNMPv2c.
    pub version: u8,
    /// The community, as sent back.
    pub community: Vec<u8>,
    /// The request it answers.
    pub request_id: i32,
    /// 0 when no error.
    pub error_status: u32,
    /// The varbinds, in order.
    pub bindings: Vec<SnmpBinding>,
}

/// The SNMPv2c `GetRequest` for sysDescr.0 with `community` and `request_id`.
pub fn snmp_get_request(community: &str, request_id: i32) -> Vec<u8> {
    let name = ObjectIdentifier::new(SYS_DESCR.to_vec());
    let message = Message {
        version: Integer::from(1),
        community: OctetString::from_slice(community.as_bytes()),
        data: Pdus::GetRequest(v2::GetRequest(Pdu {
            request_id,
            error_status: Pdu::ERROR_STATUS_NO_ERROR,
            error_index: 0,
            variable_bindings: name
                .into_iter()
                .map(|name| VarBind {
                    name,
                    value: VarBindValue::Unspecified,
                })
                .collect(),
        })),
    };
    // Encoding a message built from valid parts does not fail; an empty datagram would simply
    // get no answer.
    rasn::ber::encode(&message).unwrap_or_default()
}

/// Reads an SNMPv1/v2c response datagram.
pub fn parse_snmp_response(datagram: &[u8]) -> Result<SnmpResponse, OutsideError> {
    use rasn_smi::v2::{ObjectSyntax, SimpleSyntax};
    if datagram.len() > MAX_DATAGRAM {
        return Err(OutsideError::TooLarge {
            limit: MAX_DATAGRAM,
        });
    }
    let message: Message<Pdus> =
        rasn::ber::decode(datagram).map_err(|_| OutsideError::NotSnmp("not a BER message"))?;
    let version = match u8::try_from(&message.version) {
        Ok(v @ (0 | 1)) => v,
        _ => return Err(OutsideError::NotSnmp("not SNMPv1 or v2c")),
    };
    let Pdus::Response(v2::Response(pdu)) = message.data else {
        return Err(OutsideError::NotSnmp("not a response PDU"));
    };
    let bindings = pdu
        .variable_bindings
        .into_iter()
        .take(MAX_HEADERS)
        .map(|b| SnmpBinding {
            oid: b.name.to_vec(),
            value: match b.value {
                VarBindValue::Value(ObjectSyntax::Simple(SimpleSyntax::String(s))) => {
                    SnmpValue::Text(printable(&s))
                }
                VarBindValue::Value(_) => SnmpValue::Other,
                VarBindValue::Unspecified => SnmpValue::Null,
                VarBindValue::NoSuchObject => SnmpValue::NoSuchObject,
                VarBindValue::NoSuchInstance => SnmpValue::NoSuchInstance,
                VarBindValue::EndOfMibView => SnmpValue::EndOfMibView,
            },
        })
        .collect();
    Ok(SnmpResponse {
        version,
        community: message.community.to_vec(),
        request_id: pdu.request_id,
        error_status: pdu.error_status,
        bindings,
    })
}

/// Sends an SNMPv2c `GetRequest` for sysDescr.0 with `community` (twice, the second time halfway
/// through `timeout`, as UDP may lose one) and returns sysDescr when the agent answers: the text,
/// or an empty string when it answered without one (an error status, another type). `Ok(None)`
/// when no answer to this request arrives in time or the port is closed (ICMP port unreachable):
/// either way nobody grants v2c access with that community.
pub async fn snmp_v2c_answers(
    ip: IpAddr,
    port: u16,
    community: &str,
    timeout: Duration,
) -> Result<Option<String>, OutsideError> {
    let local: SocketAddr = match ip {
        IpAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        IpAddr::V6(_) => (std::net::Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let io = |e: std::io::Error| OutsideError::Io(e.to_string());
    let socket = UdpSocket::bind(local).await.map_err(io)?;
    socket
        .connect((ip, port))
        .await
        .map_err(OutsideError::connect)?;
    let request_id = (uuid::Uuid::new_v4().as_u128() as i32) & i32::MAX;
    let request = snmp_get_request(community, request_id);
    let deadline = tokio::time::Instant::now() + timeout;
    let resend = tokio::time::Instant::now() + timeout / 2;
    let mut resent = false;
    let mut buf = vec![0u8; MAX_DATAGRAM + 1];
    socket.send(&request).await.map_err(io)?;
    loop {
        let until = if resent {
            deadline
        } else {
            resend.min(deadline)
        };
        let received = match tokio::time::timeout_at(until, socket.recv(&mut buf)).await {
            Err(_) if !resent && until < deadline => {
                resent = true;
                socket.send(&request).await.map_err(io)?;
                continue;
            }
            Err(_) => return Ok(None),
            Ok(received) => received,
        };
        let n = match received {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => return Ok(None),
            Err(e) => return Err(io(e)),
        };
        let Ok(response) = parse_snmp_response(&buf[..n]) else {
            continue;
        };
        if response.request_id != request_id || response.community != community.as_bytes() {
            continue;
        }
        let text = response
            .bindings
            .iter()
            .find(|b| b.oid == SYS_DESCR)
            .and_then(|b| match &b.value {
                SnmpValue::Text(t) => Some(t.clone()),
                _ => None,
            });
        return Ok(Some(text.unwrap_or_default()));
    }
}

/// One answer to an SSDP search.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SsdpAnswer {
    /// Who sent it ([`parse_ssdp`] leaves `0.0.0.0:0`; [`ssdp_search`] fills it in).
    pub from: SocketAddr,
    /// `ST`: what it answers for.
    pub st: String,
    /// `USN`: the device (and type) answering.
    pub usn: String,
    /// `LOCATION`: the device description URL.
    pub location: Option<String>,
    /// `SERVER`: OS, UPnP version, product.
    pub server: Option<String>,
}

/// Reads an answer to an M-SEARCH (`HTTP/1.1 200 OK` with `ST` and `USN`, UPnP DA 1.1 §1.3.3);
/// anything else is `None`. Header names are matched case-insensitively; values are cut at
/// [`MAX_VALUE`] bytes.
pub fn parse_ssdp(datagram: &[u8]) -> Option<SsdpAnswer> {
    if datagram.len() > MAX_DATAGRAM {
        return None;
    }
    let text = String::from_utf8_lossy(datagram);
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let mut status = lines.next()?.split(' ');
    let (Some("HTTP/1.1" | "HTTP/1.0"), Some("200")) = (status.next(), status.next()) else {
        return None;
    };
    let (mut st, mut usn, mut location, mut server) = (None, None, None, None);
    for line in lines.take(MAX_HEADERS) {
        if line.is_empty() {
            break;
        }
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = Some(printable(value.trim().as_bytes()));
        match name.trim().to_ascii_uppercase().as_str() {
            "ST" => st = value,
            "USN" => usn = value,
            "LOCATION" => location = value,
            "SERVER" => server = value,
            _ => {}
        }
    }
    Some(SsdpAnswer {
        from: SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)),
        st: st.filter(|s| !s.is_empty())?,
        usn: usn.filter(|s| !s.is_empty())?,
        location,
        server,
    })
}

/// The M-SEARCH sent (UPnP DA 1.1 §1.3.2): every device and service, answers within `mx` seconds.
pub fn m_search(mx: u8) -> String {
    format!(
        "M-SEARCH * HTTP/1.1\r\nHOST: {SSDP_GROUP}\r\nMAN: \"ssdp:discover\"\r\nMX: {mx}\r\n\
         ST: ssdp:all\r\nUSER-AGENT: camward/{} UPnP/1.1\r\n\r\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// Multicasts an M-SEARCH for `ssdp:all` (MX 1) out of `interface` alone, TTL 1, twice (UDP may
/// lose one), and collects the unicast answers that arrive within `wait`, each distinct answer
/// once. Multicast: run it on a real interface only in a network namespace of the test's own.
pub async fn ssdp_search(interface: Ipv4Addr, wait: Duration) -> std::io::Result<Vec<SsdpAnswer>> {
    let socket = socket2::Socket::new(
        socket2::Domain::IPV4,
        socket2::Type::DGRAM,
        Some(socket2::Protocol::UDP),
    )?;
    socket.bind(&SocketAddr::V4(SocketAddrV4::new(interface, 0)).into())?;
    socket.set_multicast_if_v4(&interface)?;
    socket.set_multicast_ttl_v4(1)?;
    socket.set_nonblocking(true)?;
    let socket = UdpSocket::from_std(socket.into())?;
    let search = m_search(1);
    socket.send_to(search.as_bytes(), SSDP_GROUP).await?;
    let mut answers: Vec<SsdpAnswer> = Vec::new();
    let deadline = tokio::time::Instant::now() + wait;
    let second = tokio::time::Instant::now() + Duration::from_millis(100).min(wait / 2);
    let mut resent = false;
    let mut buf = vec![0u8; MAX_DATAGRAM + 1];
    loop {
        let until = if resent { deadline } else { second };
        match tokio::time::timeout_at(until, socket.recv_from(&mut buf)).await {
            Err(_) if !resent => {
                resent = true;
                socket.send_to(search.as_bytes(), SSDP_GROUP).await?;
            }
            Err(_) => return Ok(answers),
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "SSDP receive failed");
            }
            Ok(Ok((n, from))) => {
                if n > MAX_DATAGRAM {
                    continue;
                }
                if let Some(mut answer) = parse_ssdp(&buf[..n]) {
                    answer.from = from;
                    if !answers.contains(&answer) {
                        answers.push(answer);
                    }
                }
            }
        }
    }
}

/// Sends `request` to `ip:port` from an ephemeral port, again halfway through `timeout` while
/// nothing was accepted (UDP may lose one), and returns what `accept` makes of each datagram that
/// comes back from `ip` (from any of its ports: a UPnP device may answer from another socket than
/// the one the search reached), in order: until `timeout`, or [`SETTLE`] after the first accepted
/// one. Empty when nothing answered in time.
async fn unicast_exchange<T>(
    ip: IpAddr,
    port: u16,
    request: &[u8],
    timeout: Duration,
    mut accept: impl FnMut(&[u8], SocketAddr) -> Option<T>,
) -> Result<Vec<T>, OutsideError> {
    let local: SocketAddr = match ip {
        IpAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        IpAddr::V6(_) => (std::net::Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let io = |e: std::io::Error| OutsideError::Io(e.to_string());
    let socket = UdpSocket::bind(local).await.map_err(io)?;
    let to = SocketAddr::new(ip, port);
    let mut deadline = tokio::time::Instant::now() + timeout;
    let mut resend = Some(tokio::time::Instant::now() + timeout / 2);
    let mut buf = vec![0u8; MAX_DATAGRAM + 1];
    let mut out = Vec::new();
    socket
        .send_to(request, to)
        .await
        .map_err(OutsideError::connect)?;
    loop {
        let until = resend.map_or(deadline, |r| r.min(deadline));
        let received = match tokio::time::timeout_at(until, socket.recv_from(&mut buf)).await {
            Err(_) if resend == Some(until) && until < deadline => {
                resend = None;
                socket
                    .send_to(request, to)
                    .await
                    .map_err(OutsideError::connect)?;
                continue;
            }
            Err(_) => return Ok(out),
            Ok(received) => received,
        };
        let (n, from) = match received {
            Ok(r) => r,
            // Reported by some systems for an earlier datagram (ICMP port unreachable).
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => continue,
            Err(e) => return Err(io(e)),
        };
        if n > MAX_DATAGRAM || from.ip() != ip {
            continue;
        }
        if let Some(answer) = accept(&buf[..n], from) {
            if out.is_empty() {
                resend = None;
                deadline = deadline.min(tokio::time::Instant::now() + SETTLE);
            }
            out.push(answer);
        }
    }
}

/// The M-SEARCH sent to one device at `ip:port` (UPnP DA 1.1 §1.3.2, unicast search): `HOST` is
/// the device's address and port, there is no `MX` (a device answers a unicast search at once), `ST` every device and
/// service.
pub fn m_search_unicast(ip: IpAddr, port: u16) -> String {
    let host = match ip {
        IpAddr::V6(v6) => format!("[{v6}]"),
        v4 => v4.to_string(),
    };
    format!(
        "M-SEARCH * HTTP/1.1\r\nHOST: {host}:{port}\r\nMAN: \"ssdp:discover\"\r\n\
         ST: ssdp:all\r\nUSER-AGENT: camward/{} UPnP/1.1\r\n\r\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// Sends a unicast M-SEARCH for `ssdp:all` to `ip:port` (normally [`SSDP_PORT`]) and returns the
/// answers that come back from `ip` within `timeout`, each distinct one once (empty: UPnP is
/// silent, or the port is closed). Unicast to the camera alone: safe for an audit on any network.
pub async fn ssdp_unicast_search(
    ip: IpAddr,
    port: u16,
    timeout: Duration,
) -> Result<Vec<SsdpAnswer>, OutsideError> {
    let mut answers: Vec<SsdpAnswer> = Vec::new();
    let all = unicast_exchange(
        ip,
        port,
        m_search_unicast(ip, port).as_bytes(),
        timeout,
        |datagram, from| {
            let mut answer = parse_ssdp(datagram)?;
            answer.from = from;
            Some(answer)
        },
    )
    .await?;
    for answer in all {
        if !answers.contains(&answer) {
            answers.push(answer);
        }
    }
    Ok(answers)
}

/// The mDNS query an audit sends (RFC 6762 §5.5 / §6.7, RFC 6763 §9): message `id`, one PTR
/// question (class IN, unicast-response bit set) for the DNS-SD meta-query
/// `_services._dns-sd._udp.local` and one for each camera service type discovery browses
/// ([`crate::mdns::SERVICE_TYPES`]).
pub fn mdns_query(id: u16) -> Vec<u8> {
    use simple_dns::{Name, Packet, Question, CLASS, TYPE};
    let mut packet = Packet::new_query(id);
    for name in std::iter::once(crate::mdns::META_QUERY).chain(crate::mdns::SERVICE_TYPES) {
        let name = name.trim_end_matches('.');
        packet.questions.push(Question::new(
            Name::new_unchecked(name),
            TYPE::PTR.into(),
            CLASS::IN.into(),
            true,
        ));
    }
    // Encoding a packet built from valid names does not fail; an empty datagram would simply get
    // no answer.
    packet.build_bytes_vec().unwrap_or_default()
}

/// Reads a response to the mDNS query `id` and returns the names it points to: the targets of
/// its PTR answers (service types, service instances), else the owner names of its other answers,
/// each once, printable, at most [`MAX_MDNS_NAMES`]. A response is accepted with or without the
/// id echoed (RFC 6762 §18.1: a multicast response carries 0), but never a query.
pub fn parse_mdns_response(datagram: &[u8], id: u16) -> Result<Vec<String>, OutsideError> {
    use simple_dns::rdata::RData;
    use simple_dns::{Packet, PacketFlag};
    if datagram.len() > MAX_DATAGRAM {
        return Err(OutsideError::TooLarge {
            limit: MAX_DATAGRAM,
        });
    }
    let packet = Packet::parse(datagram).map_err(|_| OutsideError::NotDns("not a DNS message"))?;
    if !packet.has_flags(PacketFlag::RESPONSE) {
        return Err(OutsideError::NotDns("a query, not a response"));
    }
    if packet.id() != id && packet.id() != 0 {
        return Err(OutsideError::NotDns("answers another query"));
    }
    if packet.answers.is_empty() {
        return Err(OutsideError::NotDns("no answer records"));
    }
    let mut names: Vec<String> = Vec::new();
    let mut add = |name: String| {
        let name = printable(name.as_bytes());
        if names.len() < MAX_MDNS_NAMES && !names.contains(&name) {
            names.push(name);
        }
    };
    let pointers: Vec<String> = packet
        .answers
        .iter()
        .filter_map(|rr| match &rr.rdata {
            RData::PTR(ptr) => Some(ptr.0.to_string()),
            _ => None,
        })
        .collect();
    if pointers.is_empty() {
        for rr in &packet.answers {
            add(rr.name.to_string());
        }
    } else {
        for name in pointers {
            add(name);
        }
    }
    Ok(names)
}

/// Sends [`mdns_query`] by unicast to `ip:port` (normally [`MDNS_PORT`]) from an ephemeral port and
/// returns `Some(names)` when the camera answers (the service types and instances it names, see
/// [`parse_mdns_response`]), `None` when nothing answers within `timeout` or the port is closed:
/// mDNS is off. Unicast to the camera alone: safe for an audit on any network.
pub async fn mdns_unicast_answers(
    ip: IpAddr,
    port: u16,
    timeout: Duration,
) -> Result<Option<Vec<String>>, OutsideError> {
    let id = (uuid::Uuid::new_v4().as_u128() as u16).max(1);
    let query = mdns_query(id);
    let responses = unicast_exchange(ip, port, &query, timeout, |datagram, _| {
        parse_mdns_response(datagram, id).ok()
    })
    .await?;
    if responses.is_empty() {
        return Ok(None);
    }
    let mut names: Vec<String> = Vec::new();
    for name in responses.into_iter().flatten() {
        if names.len() < MAX_MDNS_NAMES && !names.contains(&name) {
            names.push(name);
        }
    }
    Ok(Some(names))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_of_one_or_several_challenges() {
        assert_eq!(
            challenge_schemes(r#"Digest realm="camsim", nonce="a,b", algorithm=MD5"#),
            ["Digest"]
        );
        assert_eq!(
            challenge_schemes(r#"Digest realm="x", qop="auth, auth-int", Basic realm="y""#),
            ["Digest", "Basic"]
        );
        assert_eq!(challenge_schemes("Negotiate abc123=="), ["Negotiate"]);
        assert_eq!(challenge_schemes("basic realm=y, NTLM"), ["Basic", "NTLM"]);
        assert!(challenge_schemes(", ,").is_empty());
        assert_eq!(
            auth_schemes([
                "Digest realm=\"camsim\", algorithm=SHA-256",
                "digest realm=\"camsim\", algorithm=MD5",
                "Basic realm=\"camsim\""
            ]),
            ["Digest", "Basic"]
        );
    }

    #[test]
    fn rtsp_heads_are_read_strictly() {
        let head = b"RTSP/1.0 401 Unauthorized\r\nCSeq: 1\r\nWWW-Authenticate: Digest realm=\"c\",\r\n nonce=\"n\"\r\nWWW-Authenticate: Basic realm=\"c\"\r\n\r\nbody";
        let r = parse_rtsp_head(head).unwrap();
        assert_eq!((r.status, r.cseq), (401, Some(1)));
        assert_eq!(r.auth_schemes(), ["Digest", "Basic"]);
        assert_eq!(
            r.header_values("www-authenticate").next(),
            Some("Digest realm=\"c\", nonce=\"n\"")
        );
        assert_eq!(
            parse_rtsp_head(b"HTTP/1.1 401 Unauthorized\r\n\r\n"),
            Err(OutsideError::NotRtsp("status line"))
        );
        assert_eq!(
            parse_rtsp_head(b"RTSP/1.0 4x1 Nope\r\n\r\n"),
            Err(OutsideError::NotRtsp("status code"))
        );
        assert!(matches!(
            parse_rtsp_head(&[b'a'; MAX_RTSP_HEAD + 1]),
            Err(OutsideError::TooLarge { .. })
        ));
    }

    #[test]
    fn ftp_replies_are_recognised() {
        assert!(is_ftp_reply(b"220 camsim FTP server ready"));
        assert!(is_ftp_reply(b"220-Welcome"));
        assert!(is_ftp_reply(b"421"));
        assert!(!is_ftp_reply(b"SSH-2.0-OpenSSH"));
        assert!(!is_ftp_reply(b"2200 x"));
        assert!(!is_ftp_reply(b"HTTP/1.1 400"));
    }

    #[test]
    fn ssdp_answers_need_st_and_usn() {
        let answer = b"HTTP/1.1 200 OK\r\ncache-control: max-age=1800\r\nEXT:\r\nLocation: http://10.9.0.2:80/upnp/device.xml\r\nserver: Linux UPnP/1.1 camsim/1.4.2\r\nst: upnp:rootdevice\r\nUSN: uuid:abc::upnp:rootdevice\r\n\r\n";
        let a = parse_ssdp(answer).unwrap();
        assert_eq!(a.st, "upnp:rootdevice");
        assert_eq!(a.usn, "uuid:abc::upnp:rootdevice");
        assert_eq!(
            a.location.as_deref(),
            Some("http://10.9.0.2:80/upnp/device.xml")
        );
        assert!(a.server.unwrap().contains("camsim"));
        assert_eq!(parse_ssdp(b"HTTP/1.1 200 OK\r\nST: x\r\n\r\n"), None);
        assert_eq!(
            parse_ssdp(b"NOTIFY * HTTP/1.1\r\nNT: x\r\nUSN: y\r\n\r\n"),
            None
        );
        assert!(m_search(1).contains("MAN: \"ssdp:discover\"\r\n"));
    }

    /// A loopback responder on 127.0.0.1: answers each datagram with the datagrams `reply` makes
    /// of it (none: silent), to the sender's address and port, until the test ends.
    async fn responder(
        reply: impl Fn(&[u8]) -> Vec<Vec<u8>> + Send + 'static,
    ) -> (u16, tokio::task::JoinHandle<Vec<Vec<u8>>>) {
        let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let port = socket.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            let mut seen = Vec::new();
            let mut buf = vec![0u8; 4096];
            while let Ok(Ok((n, from))) =
                tokio::time::timeout(Duration::from_secs(3), socket.recv_from(&mut buf)).await
            {
                seen.push(buf[..n].to_vec());
                for answer in reply(&buf[..n]) {
                    socket.send_to(&answer, from).await.unwrap();
                }
            }
            seen
        });
        (port, task)
    }

    /// A DNS-SD responder's legacy-unicast answer to `query`: the question echoed, one PTR per
    /// service type asked that it "has".
    fn dns_sd_answer(query: &[u8]) -> Option<Vec<u8>> {
        use simple_dns::rdata::{RData, PTR};
        use simple_dns::{Name, Packet, PacketFlag, ResourceRecord, CLASS};
        let asked = Packet::parse(query).ok()?;
        let mut reply = Packet::new_reply(asked.id());
        reply.set_flags(PacketFlag::AUTHORITATIVE_ANSWER);
        for q in &asked.questions {
            let name = q.qname.to_string();
            let target = match name.as_str() {
                "_services._dns-sd._udp.local" => "_http._tcp.local",
                "_http._tcp.local" => "Camsim CS-2000 - 000005._http._tcp.local",
                _ => continue,
            };
            reply.answers.push(ResourceRecord::new(
                Name::new_unchecked(&name).into_owned(),
                CLASS::IN,
                10,
                RData::PTR(PTR(Name::new_unchecked(target).into_owned())),
            ));
        }
        reply.build_bytes_vec().ok()
    }

    #[test]
    fn the_mdns_query_asks_the_meta_query_and_each_camera_type_by_ptr() {
        use simple_dns::{Packet, PacketFlag, QCLASS, QTYPE, TYPE};
        let bytes = mdns_query(0x1234);
        let q = Packet::parse(&bytes).unwrap();
        assert_eq!(q.id(), 0x1234);
        assert!(!q.has_flags(PacketFlag::RESPONSE));
        let names: Vec<String> = q.questions.iter().map(|q| q.qname.to_string()).collect();
        assert_eq!(names[0], "_services._dns-sd._udp.local");
        assert!(
            names.contains(&"_axis-video._tcp.local".to_owned()),
            "{names:?}"
        );
        assert_eq!(names.len(), 1 + crate::mdns::SERVICE_TYPES.len());
        for question in &q.questions {
            assert_eq!(question.qtype, QTYPE::TYPE(TYPE::PTR));
            assert!(matches!(
                question.qclass,
                QCLASS::CLASS(simple_dns::CLASS::IN)
            ));
            assert!(question.unicast_response);
        }
        // A query is not an answer to itself; garbage is no answer either.
        assert_eq!(
            parse_mdns_response(&bytes, 0x1234),
            Err(OutsideError::NotDns("a query, not a response"))
        );
        assert!(parse_mdns_response(b"\x00\x01junk", 1).is_err());
        let answer = dns_sd_answer(&bytes).unwrap();
        assert_eq!(
            parse_mdns_response(&answer, 0x4321),
            Err(OutsideError::NotDns("answers another query"))
        );
        assert_eq!(
            parse_mdns_response(&answer, 0x1234).unwrap(),
            [
                "_http._tcp.local",
                "Camsim CS-2000 - 000005._http._tcp.local"
            ]
        );
    }

    #[tokio::test]
    async fn a_unicast_mdns_query_reads_who_answers_and_hears_silence_as_none() {
        let (port, task) = responder(|q| dns_sd_answer(q).into_iter().collect()).await;
        let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let names = mdns_unicast_answers(ip, port, Duration::from_secs(2))
            .await
            .unwrap()
            .expect("the responder answers");
        assert!(names.contains(&"_http._tcp.local".to_owned()), "{names:?}");
        // A responder that stays silent (mDNS off), and a closed port.
        let (quiet, quiet_task) = responder(|_| Vec::new()).await;
        let started = std::time::Instant::now();
        assert_eq!(
            mdns_unicast_answers(ip, quiet, Duration::from_millis(400)).await,
            Ok(None)
        );
        assert!(started.elapsed() >= Duration::from_millis(400));
        // Asked twice: UDP may lose the first.
        quiet_task.abort();
        let closed = std::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        assert_eq!(
            mdns_unicast_answers(ip, closed, Duration::from_millis(400)).await,
            Ok(None)
        );
        task.abort();
    }

    #[tokio::test]
    async fn a_unicast_m_search_is_addressed_to_the_device_and_collects_its_answers() {
        let answer = |st: &str| {
            format!("HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nEXT:\r\nLOCATION: http://127.0.0.1:80/upnp/device.xml\r\nSERVER: Linux UPnP/1.1 test/1\r\nST: {st}\r\nUSN: uuid:abc::{st}\r\n\r\n")
        };
        let (port, task) = responder(move |search| {
            let text = String::from_utf8_lossy(search);
            // A unicast search names the device, not the group, and carries no MX.
            let unicast = text.starts_with("M-SEARCH * HTTP/1.1\r\n")
                && text.contains("\r\nHOST: 127.0.0.1:")
                && text.contains("\r\nMAN: \"ssdp:discover\"\r\n")
                && !text.contains("MX:");
            if !unicast {
                return Vec::new();
            }
            // The same answer twice (counted once), then another search target.
            [
                answer("upnp:rootdevice"),
                answer("upnp:rootdevice"),
                answer("urn:schemas-upnp-org:device:Basic:1"),
            ]
            .map(String::into_bytes)
            .to_vec()
        })
        .await;
        let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let started = std::time::Instant::now();
        let answers = ssdp_unicast_search(ip, port, Duration::from_secs(3))
            .await
            .unwrap();
        assert_eq!(answers.len(), 2, "{answers:?}");
        assert_eq!(answers[0].st, "upnp:rootdevice");
        assert_eq!(answers[1].st, "urn:schemas-upnp-org:device:Basic:1");
        assert_eq!(answers[0].from, SocketAddr::new(ip, port));
        assert!(answers[0].server.as_deref().unwrap().contains("UPnP/1.1"));
        // It stops listening shortly after the answers, not at the timeout.
        assert!(started.elapsed() < Duration::from_secs(2));
        // A device that answers from another socket than the one the search reached.
        let (search_port, elsewhere) = {
            let searched = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
            let port = searched.local_addr().unwrap().port();
            let out = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
            let reply = answer("upnp:rootdevice");
            let task = tokio::spawn(async move {
                let mut buf = vec![0u8; 2048];
                let (_, from) = searched.recv_from(&mut buf).await.unwrap();
                out.send_to(reply.as_bytes(), from).await.unwrap();
                out.local_addr().unwrap()
            });
            (port, task)
        };
        let answers = ssdp_unicast_search(ip, search_port, Duration::from_secs(2))
            .await
            .unwrap();
        let sender = elsewhere.await.unwrap();
        assert_eq!(answers.len(), 1, "{answers:?}");
        assert_eq!(answers[0].from, sender);
        let (quiet, quiet_task) = responder(|_| Vec::new()).await;
        assert_eq!(
            ssdp_unicast_search(ip, quiet, Duration::from_millis(300)).await,
            Ok(vec![])
        );
        quiet_task.abort();
        task.abort();
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// Anyone on the link can answer with anything: no datagram makes the reader panic, and
        /// what it keeps stays within its caps.
        #[test]
        fn arbitrary_mdns_datagrams_never_panic(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2048),
            id in proptest::prelude::any::<u16>(),
        ) {
            if let Ok(names) = parse_mdns_response(&bytes, id) {
                proptest::prop_assert!(names.len() <= MAX_MDNS_NAMES);
                proptest::prop_assert!(names.iter().all(|n| n.len() <= MAX_VALUE));
            }
        }

        /// A response's header bits flipped at random: still no panic, and a query never passes.
        #[test]
        fn mutated_mdns_answers_never_panic(at in 0usize..64, value in proptest::prelude::any::<u8>()) {
            let mut bytes = dns_sd_answer(&mdns_query(7)).unwrap_or_default();
            if at < bytes.len() {
                bytes[at] = value;
            }
            if let Ok(names) = parse_mdns_response(&bytes, 7) {
                proptest::prop_assert!(names.len() <= MAX_MDNS_NAMES);
            }
            proptest::prop_assert!(parse_mdns_response(&mdns_query(7), 7).is_err());
        }
    }
}
