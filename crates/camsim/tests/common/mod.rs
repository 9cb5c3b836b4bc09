//! A tiny test-only ONVIF client: raw HTTP/1.1 over a TcpStream, HTTP Digest (RFC 7616) and
//! WS-Security UsernameToken, written by hand so the tests check camsim against the specs rather than
//! against another implementation.
#![allow(dead_code)]

use std::time::Duration;

use base64::Engine as _;
use md5::Digest as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub const TDS: &str = "http://www.onvif.org/ver10/device/wsdl";
pub const TT: &str = "http://www.onvif.org/ver10/schema";

/// A parsed HTTP reply.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header_all(&self, name: &str) -> Vec<String> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .collect()
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.header_all(name).into_iter().next()
    }
}

/// `host:port` and path of an `http://` URL.
pub fn split_url(url: &str) -> (String, String) {
    let rest = url.strip_prefix("http://").expect("http URL");
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    (
        host.to_owned(),
        if path.is_empty() {
            "/".into()
        } else {
            path.to_owned()
        },
    )
}

/// Sends raw bytes and reads until the server closes. `Err` when the connection is refused, reset,
/// or closed without a complete reply.
pub async fn raw(url: &str, request: Vec<u8>) -> std::io::Result<Vec<u8>> {
    let (host, _) = split_url(url);
    let mut stream = tokio::time::timeout(
        Duration::from_secs(5),
        tokio::net::TcpStream::connect(&host),
    )
    .await
    .map_err(|_| std::io::Error::other("connect timeout"))??;
    stream.write_all(&request).await?;
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(60), stream.read_to_end(&mut out))
        .await
        .map_err(|_| std::io::Error::other("read timeout"))??;
    Ok(out)
}

pub fn request_bytes(url: &str, body: &str, authorization: Option<&str>) -> Vec<u8> {
    let (host, path) = split_url(url);
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/soap+xml; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if let Some(a) = authorization {
        req.push_str(&format!("Authorization: {a}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    req.into_bytes()
}

/// Parses a complete reply; `Err` if it is not complete (e.g. truncated).
pub fn parse_reply(bytes: &[u8]) -> std::io::Result<Reply> {
    let text = String::from_utf8_lossy(bytes).into_owned();
    let Some(split) = text.find("\r\n\r\n") else {
        return Err(std::io::Error::other(format!(
            "no complete head ({} bytes)",
            bytes.len()
        )));
    };
    let head = &text[..split];
    let body = text[split + 4..].to_owned();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("bad status line"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    if let Some(len) = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
    {
        let want: usize = len.1.parse().unwrap_or(0);
        if body.len() < want {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "body shorter than Content-Length",
            ));
        }
    }
    Ok(Reply {
        status,
        headers,
        body,
    })
}

pub async fn post(url: &str, body: &str, authorization: Option<&str>) -> std::io::Result<Reply> {
    parse_reply(&raw(url, request_bytes(url, body, authorization)).await?)
}

/// A SOAP 1.2 envelope around `payload`, with an optional security header.
pub fn envelope(payload: &str, security: Option<&str>) -> String {
    let header = security
        .map(|s| format!("<s:Header>{s}</s:Header>"))
        .unwrap_or_default();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" \
         xmlns:tds=\"{TDS}\" xmlns:tt=\"{TT}\">{header}<s:Body>{payload}</s:Body></s:Envelope>"
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn hash(alg: &str, input: &str) -> String {
    if alg == "SHA-256" {
        hex(&sha2::Sha256::digest(input.as_bytes()))
    } else {
        hex(&md5::Md5::digest(input.as_bytes()))
    }
}

pub fn param(challenge: &str, name: &str) -> Option<String> {
    let at = challenge.find(&format!("{name}="))?;
    let rest = &challenge[at + name.len() + 1..];
    if let Some(stripped) = rest.strip_prefix('"') {
        stripped.split('"').next().map(str::to_owned)
    } else {
        rest.split(',').next().map(|s| s.trim().to_owned())
    }
}

/// The `Authorization` value answering `challenge` for `nc`.
pub fn digest_authorization(
    challenge: &str,
    user: &str,
    password: &str,
    uri: &str,
    nc: u32,
) -> String {
    let alg = param(challenge, "algorithm").unwrap_or_else(|| "MD5".into());
    let realm = param(challenge, "realm").expect("realm");
    let nonce = param(challenge, "nonce").expect("nonce");
    let opaque = param(challenge, "opaque").expect("opaque");
    let cnonce = "0a4f113b";
    let nc = format!("{nc:08x}");
    let ha1 = hash(&alg, &format!("{user}:{realm}:{password}"));
    let ha2 = hash(&alg, &format!("POST:{uri}"));
    let response = hash(&alg, &format!("{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}"));
    format!(
        "Digest username=\"{user}\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"{uri}\", algorithm={alg}, \
         qop=auth, nc={nc}, cnonce=\"{cnonce}\", response=\"{response}\", opaque=\"{opaque}\""
    )
}

/// First challenge of a 401 using `alg`.
pub async fn challenge(url: &str, body: &str, alg: &str) -> String {
    let first = post(url, body, None).await.expect("reachable");
    assert_eq!(first.status, 401, "{}", first.body);
    first
        .header_all("www-authenticate")
        .into_iter()
        .find(|c| param(c, "algorithm").as_deref() == Some(alg))
        .unwrap_or_else(|| panic!("no {alg} challenge in {:?}", first.headers))
}

/// One Digest-authenticated call (challenge, then answer).
pub async fn digest_call(url: &str, payload: &str, user: &str, password: &str) -> Reply {
    let body = envelope(payload, None);
    let c = challenge(url, &body, "MD5").await;
    let (_, path) = split_url(url);
    post(
        url,
        &body,
        Some(&digest_authorization(&c, user, password, &path, 1)),
    )
    .await
    .expect("reachable")
}

/// A UsernameToken security header created at `created`.
pub fn username_token(user: &str, password: &str, created: time::OffsetDateTime) -> String {
    let nonce: [u8; 16] = rand::random();
    let created = created
        .format(&time::format_description::well_known::Rfc3339)
        .expect("format");
    let mut sha = sha1::Sha1::new();
    sha.update(nonce);
    sha.update(created.as_bytes());
    sha.update(password.as_bytes());
    let digest = base64::engine::general_purpose::STANDARD.encode(sha.finalize());
    let nonce = base64::engine::general_purpose::STANDARD.encode(nonce);
    format!(
        "<wsse:Security xmlns:wsse=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd\" \
         xmlns:wsu=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd\"><wsse:UsernameToken>\
         <wsse:Username>{user}</wsse:Username><wsse:Password Type=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest\">{digest}</wsse:Password>\
         <wsse:Nonce EncodingType=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary\">{nonce}</wsse:Nonce>\
         <wsu:Created>{created}</wsu:Created></wsse:UsernameToken></wsse:Security>"
    )
}

/// One UsernameToken call with `Created` = host time + `skew_s`.
pub async fn ut_call(url: &str, payload: &str, user: &str, password: &str, skew_s: i64) -> Reply {
    let created = time::OffsetDateTime::now_utc() + time::Duration::seconds(skew_s);
    post(
        url,
        &envelope(payload, Some(&username_token(user, password, created))),
        None,
    )
    .await
    .expect("reachable")
}

/// Fault subcode values in a reply body, e.g. `["ter:OperationProhibited", "ter:UsernameClash"]`.
pub fn subcodes(body: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(body).expect("XML reply");
    doc.descendants()
        .filter(|n| n.tag_name().name() == "Subcode")
        .filter_map(|n| n.children().find(|c| c.tag_name().name() == "Value"))
        .filter_map(|v| v.text().map(str::to_owned))
        .collect()
}
