//! The camera's RTSP server (RFC 2326, RTSP 1.0), as far as the hardening audit and a stream
//! client's first steps go.
//!
//! What is modelled:
//!
//! - `OPTIONS` → `200` with `Public` (RFC 2326 §10.1), no credentials needed.
//! - `DESCRIBE` without valid credentials → `401 Unauthorized` with
//!   `WWW-Authenticate: Digest realm="camsim", nonce="…", algorithm=MD5` and, while the camera
//!   also offers Basic ([`crate::CameraState::rtsp_basic`], the Canon default that the hardening
//!   control digest-auth turns off), a second `WWW-Authenticate: Basic realm="camsim"`. With
//!   valid credentials (any of the camera's accounts) → `200` with a one-track H.264 SDP
//!   (RFC 4566). A generic ONVIF camera without accounts (factory state) streams to anyone.
//! - Digest answers as RTSP clients send them: RFC 2069 style (no `qop`) or RFC 2617 `qop=auth`,
//!   MD5 only, against a nonce this server issued within [`NONCE_LIFETIME`]; Basic (RFC 7617) only
//!   while it is offered.
//! - `SETUP`, `PLAY`, `TEARDOWN`, … → `501 Not Implemented`: no media is ever sent.
//! - Every reply echoes `CSeq` (RFC 2326 §12.17); a request without one gets `400`. A request
//!   head over [`MAX_HEAD`] bytes gets `400`, a body over [`MAX_BODY`] bytes `413`, and the
//!   connection closes; so it does after [`IDLE`] without a request.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use md5::Digest as _;
use rand::Rng as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpStream;

use crate::auth::REALM;
use crate::server::Camera;
use crate::services::{read_line, Line};
use crate::state::User;

/// The largest request head read, in bytes.
pub const MAX_HEAD: usize = 8192;
/// The largest request body accepted (and skipped), in bytes.
pub const MAX_BODY: usize = 8192;
/// How long a connection may stay without a request.
pub const IDLE: Duration = Duration::from_secs(30);
/// How long an issued Digest nonce is accepted.
pub const NONCE_LIFETIME: Duration = Duration::from_secs(300);
/// Upper bound on remembered nonces, so that a flood of DESCRIBEs cannot exhaust memory.
const NONCE_CAP: usize = 1024;
/// What `OPTIONS` lists.
const PUBLIC: &str = "OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER";

/// The Digest nonces one camera's RTSP server has issued.
#[derive(Debug, Default)]
pub struct Nonces {
    issued: HashMap<String, Instant>,
}

impl Nonces {
    /// A fresh nonce, remembered for [`NONCE_LIFETIME`].
    pub(crate) fn issue(&mut self) -> String {
        let now = Instant::now();
        self.issued
            .retain(|_, t| now.duration_since(*t) < NONCE_LIFETIME);
        if self.issued.len() >= NONCE_CAP {
            // The oldest go first; their holders get a fresh challenge and retry.
            let mut ages: Vec<Instant> = self.issued.values().copied().collect();
            ages.sort();
            let cut = ages[ages.len() / 2];
            self.issued.retain(|_, t| *t > cut);
        }
        let mut rng = rand::thread_rng();
        let nonce = hex::encode(rng.gen::<[u8; 16]>());
        self.issued.insert(nonce.clone(), now);
        nonce
    }

    fn known(&self, nonce: &str) -> bool {
        self.issued
            .get(nonce)
            .is_some_and(|t| t.elapsed() < NONCE_LIFETIME)
    }
}

/// An RTSP request head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Request {
    /// `OPTIONS`, `DESCRIBE`, …
    pub method: String,
    /// The request URI as sent.
    pub uri: String,
    /// Header name/value pairs in order.
    pub headers: Vec<(String, String)>,
}

impl Request {
    /// The first value of a header, case-insensitively.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Reads a request line and header lines (RFC 2326 §6); `Err` carries the status to refuse with.
pub(crate) fn parse_request(lines: &[String]) -> Result<Request, (u16, &'static str)> {
    let bad = (400, "Bad Request");
    let (first, rest) = lines.split_first().ok_or(bad)?;
    let mut parts = first.split(' ');
    let (Some(method), Some(uri), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad);
    };
    if method.is_empty()
        || uri.is_empty()
        || !method.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
    {
        return Err(bad);
    }
    if version != "RTSP/1.0" {
        return Err((505, "RTSP Version Not Supported"));
    }
    let mut headers = Vec::new();
    for line in rest {
        let (name, value) = line.split_once(':').ok_or(bad)?;
        let name = name.trim();
        if name.is_empty() || name.contains(' ') {
            return Err(bad);
        }
        headers.push((name.to_owned(), value.trim().to_owned()));
    }
    Ok(Request {
        method: method.to_owned(),
        uri: uri.to_owned(),
        headers,
    })
}

/// What the server needs to know about the camera to answer.
#[derive(Clone, Debug)]
pub(crate) struct Context {
    /// Accounts that may stream.
    pub users: Vec<User>,
    /// Anyone may stream (a generic camera without accounts).
    pub open: bool,
    /// Basic authentication is offered beside Digest.
    pub basic: bool,
    /// The host named in the SDP origin line.
    pub host: String,
}

fn md5_hex(input: &str) -> String {
    hex::encode(md5::Md5::digest(input.as_bytes()))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Checks a Digest answer (RFC 2069, or RFC 2617 with `qop=auth`; MD5) for `method` on `uri`.
fn digest_valid(header: &str, method: &str, uri: &str, users: &[User], nonces: &Nonces) -> bool {
    let params = crate::auth::parse_digest_params(header);
    let get = |k: &str| {
        params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(k))
            .map(|(_, v)| v.as_str())
    };
    let (Some(username), Some(nonce), Some(digest_uri), Some(response)) =
        (get("username"), get("nonce"), get("uri"), get("response"))
    else {
        return false;
    };
    if get("realm") != Some(REALM)
        || !get("algorithm").is_none_or(|a| a.eq_ignore_ascii_case("MD5"))
        || digest_uri != uri
        || !nonces.known(nonce)
    {
        return false;
    }
    let Some(user) = users.iter().find(|u| u.name == username) else {
        return false;
    };
    let ha1 = md5_hex(&format!("{username}:{REALM}:{}", user.password));
    let ha2 = md5_hex(&format!("{method}:{digest_uri}"));
    let expected = match get("qop") {
        None => md5_hex(&format!("{ha1}:{nonce}:{ha2}")),
        Some("auth") => {
            let (Some(nc), Some(cnonce)) = (get("nc"), get("cnonce")) else {
                return false;
            };
            md5_hex(&format!("{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}"))
        }
        Some(_) => return false,
    };
    constant_time_eq(
        expected.as_bytes(),
        response.to_ascii_lowercase().as_bytes(),
    )
}

/// Checks `Authorization: Basic …` (RFC 7617).
fn basic_valid(credentials: &str, users: &[User]) -> bool {
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(credentials.trim()) else {
        return false;
    };
    let Ok(decoded) = String::from_utf8(decoded) else {
        return false;
    };
    let Some((name, password)) = decoded.split_once(':') else {
        return false;
    };
    users
        .iter()
        .any(|u| u.name == name && constant_time_eq(u.password.as_bytes(), password.as_bytes()))
}

fn authorized(req: &Request, ctx: &Context, nonces: &Nonces) -> bool {
    if ctx.open {
        return true;
    }
    let Some(header) = req.header("Authorization") else {
        return false;
    };
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    if scheme.eq_ignore_ascii_case("Digest") {
        digest_valid(header, &req.method, &req.uri, &ctx.users, nonces)
    } else if scheme.eq_ignore_ascii_case("Basic") {
        ctx.basic && basic_valid(rest, &ctx.users)
    } else {
        false
    }
}

/// A reply: status line, `CSeq`, `Server`, extra headers, then the body.
fn reply(status: u16, reason: &str, cseq: Option<&str>, extra: &[String], body: &str) -> String {
    let mut out = format!("RTSP/1.0 {status} {reason}\r\n");
    if let Some(cseq) = cseq {
        out.push_str(&format!("CSeq: {cseq}\r\n"));
    }
    out.push_str(concat!(
        "Server: camsim/",
        env!("CARGO_PKG_VERSION"),
        "\r\n"
    ));
    for header in extra {
        out.push_str(header);
        out.push_str("\r\n");
    }
    if !body.is_empty() {
        out.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    out.push_str("\r\n");
    out.push_str(body);
    out
}

/// The session description of the one stream (RFC 4566).
fn sdp(host: &str) -> String {
    let address = if host.starts_with('[') { "IP6" } else { "IP4" };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    format!(
        "v=0\r\no=- 1 1 IN {address} {host}\r\ns=camsim\r\nc=IN {address} {host}\r\nt=0 0\r\n\
         m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:trackID=1\r\n"
    )
}

/// The answer to one request.
pub(crate) fn respond(req: &Request, ctx: &Context, nonces: &Mutex<Nonces>) -> String {
    let Some(cseq) = req
        .header("CSeq")
        .filter(|c| !c.is_empty() && c.len() <= 10 && c.bytes().all(|b| b.is_ascii_digit()))
    else {
        return reply(400, "Bad Request", None, &[], "");
    };
    let cseq = Some(cseq);
    match req.method.as_str() {
        "OPTIONS" => reply(200, "OK", cseq, &[format!("Public: {PUBLIC}")], ""),
        "DESCRIBE" => {
            let mut nonces = nonces.lock().unwrap_or_else(|p| p.into_inner());
            if !authorized(req, ctx, &nonces) {
                let mut challenges = vec![format!(
                    "WWW-Authenticate: Digest realm=\"{REALM}\", nonce=\"{}\", algorithm=MD5",
                    nonces.issue()
                )];
                if ctx.basic {
                    challenges.push(format!("WWW-Authenticate: Basic realm=\"{REALM}\""));
                }
                return reply(401, "Unauthorized", cseq, &challenges, "");
            }
            let base = if req.uri.ends_with('/') {
                req.uri.clone()
            } else {
                format!("{}/", req.uri)
            };
            reply(
                200,
                "OK",
                cseq,
                &[
                    format!("Content-Base: {base}"),
                    "Content-Type: application/sdp".into(),
                ],
                &sdp(&ctx.host),
            )
        }
        _ => reply(501, "Not Implemented", cseq, &[], ""),
    }
}

/// Reads one request head: `Ok(None)` when the peer closed, `Err(status)` when it must be refused.
async fn read_head<R: tokio::io::AsyncBufRead + Unpin>(
    reader: &mut R,
) -> std::io::Result<Result<Option<Vec<String>>, (u16, &'static str)>> {
    let mut lines = Vec::new();
    let mut size = 0;
    loop {
        let left = MAX_HEAD.saturating_sub(size);
        match read_line(reader, left).await? {
            Line::Eof => return Ok(Ok(None)),
            Line::TooLong => return Ok(Err((400, "Bad Request"))),
            // RFC 2326 §4 lets a client send empty lines between requests.
            Line::Text(line) if line.is_empty() && lines.is_empty() => size += 2,
            Line::Text(line) if line.is_empty() => return Ok(Ok(Some(lines))),
            Line::Text(line) => {
                size += line.len() + 2;
                lines.push(line);
            }
        }
    }
}

/// Serves one connection until it closes.
pub(crate) async fn serve(
    camera: &Camera,
    stream: TcpStream,
    nonces: &Mutex<Nonces>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    loop {
        let head = match tokio::time::timeout(IDLE, read_head(&mut read)).await {
            Err(_) => return Ok(()),
            Ok(head) => head?,
        };
        let lines = match head {
            Ok(Some(lines)) => lines,
            Ok(None) => return Ok(()),
            Err((status, reason)) => {
                write
                    .write_all(reply(status, reason, None, &[], "").as_bytes())
                    .await?;
                return Ok(());
            }
        };
        let request = match parse_request(&lines) {
            Ok(request) => request,
            Err((status, reason)) => {
                write
                    .write_all(reply(status, reason, None, &[], "").as_bytes())
                    .await?;
                return Ok(());
            }
        };
        let length = request
            .header("Content-Length")
            .map(|v| v.parse::<usize>().unwrap_or(usize::MAX))
            .unwrap_or(0);
        if length > MAX_BODY {
            let cseq = request.header("CSeq");
            write
                .write_all(reply(413, "Request Entity Too Large", cseq, &[], "").as_bytes())
                .await?;
            return Ok(());
        }
        let mut body = vec![0u8; length];
        tokio::time::timeout(IDLE, read.read_exact(&mut body))
            .await
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
        let ctx = camera.with_state(|s| Context {
            users: crate::services::accounts(s, camera.flavour()),
            open: crate::services::open_to_anonymous(s, camera.flavour()),
            basic: s.rtsp_basic,
            host: camera.host(),
        });
        let answer = respond(&request, &ctx, nonces);
        write.write_all(answer.as_bytes()).await?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::UserLevel;

    fn lines(text: &str) -> Vec<String> {
        text.split("\r\n").map(str::to_owned).collect()
    }

    fn ctx(basic: bool) -> Context {
        Context {
            users: vec![User {
                name: "admin".into(),
                password: "Good-pass-42".into(),
                level: UserLevel::Administrator,
            }],
            open: false,
            basic,
            host: "127.0.0.1".into(),
        }
    }

    fn describe(extra: &str) -> Request {
        parse_request(&lines(&format!(
            "DESCRIBE rtsp://127.0.0.1:554/media/profile_1 RTSP/1.0\r\nCSeq: 7{extra}"
        )))
        .unwrap()
    }

    fn nonce_of(answer: &str) -> String {
        let start = answer.find("nonce=\"").unwrap() + 7;
        answer[start..start + 32].to_owned()
    }

    #[test]
    fn requests_are_read_strictly() {
        assert_eq!(
            parse_request(&lines("GET / HTTP/1.1")),
            Err((505, "RTSP Version Not Supported"))
        );
        assert_eq!(
            parse_request(&lines("DESCRIBE  RTSP/1.0")).map(|_| ()),
            Err((400, "Bad Request"))
        );
        assert_eq!(
            parse_request(&lines("OPTIONS * RTSP/1.0\r\nno colon")).map(|_| ()),
            Err((400, "Bad Request"))
        );
        let r = parse_request(&lines("OPTIONS * RTSP/1.0\r\ncseq:  3 ")).unwrap();
        assert_eq!(r.header("CSeq"), Some("3"));
    }

    #[test]
    fn describe_without_credentials_is_challenged_with_digest_and_basic_only_when_offered() {
        let nonces = Mutex::new(Nonces::default());
        let digest_only = respond(&describe(""), &ctx(false), &nonces);
        assert!(digest_only.starts_with("RTSP/1.0 401 Unauthorized\r\nCSeq: 7\r\n"));
        assert!(digest_only.contains("WWW-Authenticate: Digest realm=\"camsim\", nonce=\""));
        assert!(digest_only.contains("algorithm=MD5"));
        assert!(!digest_only.contains("Basic"));
        let both = respond(&describe(""), &ctx(true), &nonces);
        assert!(both.contains("WWW-Authenticate: Digest"));
        assert!(both.contains("WWW-Authenticate: Basic realm=\"camsim\"\r\n"));
        let no_cseq = parse_request(&lines("OPTIONS * RTSP/1.0")).unwrap();
        assert!(respond(&no_cseq, &ctx(false), &nonces).starts_with("RTSP/1.0 400"));
    }

    #[test]
    fn digest_answers_with_and_without_qop_are_accepted_and_basic_only_when_offered() {
        let nonces = Mutex::new(Nonces::default());
        let uri = "rtsp://127.0.0.1:554/media/profile_1";
        let nonce = nonce_of(&respond(&describe(""), &ctx(false), &nonces));
        let ha1 = md5_hex("admin:camsim:Good-pass-42");
        let ha2 = md5_hex(&format!("DESCRIBE:{uri}"));
        let rfc2069 = md5_hex(&format!("{ha1}:{nonce}:{ha2}"));
        let header = format!(
            "\r\nAuthorization: Digest username=\"admin\", realm=\"camsim\", nonce=\"{nonce}\", uri=\"{uri}\", response=\"{rfc2069}\""
        );
        let ok = respond(&describe(&header), &ctx(false), &nonces);
        assert!(ok.starts_with("RTSP/1.0 200 OK\r\nCSeq: 7\r\n"), "{ok}");
        assert!(ok.contains("Content-Type: application/sdp"));
        assert!(ok.contains("m=video 0 RTP/AVP 96"));
        let qop = md5_hex(&format!("{ha1}:{nonce}:00000001:abc:auth:{ha2}"));
        let header = format!(
            "\r\nAuthorization: Digest username=\"admin\", realm=\"camsim\", nonce=\"{nonce}\", uri=\"{uri}\", qop=auth, nc=00000001, cnonce=\"abc\", response=\"{qop}\""
        );
        assert!(respond(&describe(&header), &ctx(false), &nonces).starts_with("RTSP/1.0 200"));
        let wrong = header.replace(&qop, &rfc2069);
        assert!(respond(&describe(&wrong), &ctx(false), &nonces).starts_with("RTSP/1.0 401"));
        let basic = format!(
            "\r\nAuthorization: Basic {}",
            base64::engine::general_purpose::STANDARD.encode("admin:Good-pass-42")
        );
        assert!(respond(&describe(&basic), &ctx(false), &nonces).starts_with("RTSP/1.0 401"));
        assert!(respond(&describe(&basic), &ctx(true), &nonces).starts_with("RTSP/1.0 200"));
    }
}
