//! Server side of the two ONVIF authentication schemes (ONVIF Core §5.9.1 "Authentication"):
//!
//! - HTTP Digest, RFC 7616: `qop=auth`, server nonces that expire (an expired or unknown nonce gets a
//!   fresh challenge with `stale=true`), an `opaque` value, and a nonce count that must grow for each
//!   nonce so a replayed request is refused. Algorithms `MD5` and `SHA-256`.
//! - WS-Security UsernameToken Profile 1.0 §3.1: `PasswordDigest = Base64(SHA-1(nonce + created +
//!   password))`, with `Created` checked against the camera's own clock (±5 s) and every nonce
//!   remembered long enough that it cannot be used twice inside the window.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine as _;
use md5::Digest as _;
use rand::Rng as _;
use time::OffsetDateTime;

use crate::state::User;

/// Realm of every challenge.
pub const REALM: &str = "camsim";
/// How far `Created` may be from the camera clock (ONVIF Core §5.12.2 asks for a small window).
pub const CREATED_WINDOW_S: i64 = 5;
/// How long UsernameToken nonces are remembered; longer than twice the `Created` window, so a
/// replay can never slip in after the nonce was forgotten.
const UT_NONCE_MEMORY: Duration = Duration::from_secs(60);
/// Upper bound on remembered nonces of each kind, so a flood cannot exhaust memory.
const NONCE_CAP: usize = 10_000;

/// Digest hash algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    /// `MD5`.
    Md5,
    /// `SHA-256`.
    Sha256,
}

impl Algorithm {
    fn name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Sha256 => "SHA-256",
        }
    }

    fn hash(self, input: &str) -> String {
        match self {
            Algorithm::Md5 => hex::encode(md5::Md5::digest(input.as_bytes())),
            Algorithm::Sha256 => hex::encode(sha2::Sha256::digest(input.as_bytes())),
        }
    }
}

/// Outcome of checking credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The user proved their password.
    Authenticated(String),
    /// Wrong password or unknown user: a failed login that counts towards lock-out.
    WrongCredentials(Option<String>),
    /// The digest nonce expired or is unknown: challenge again with `stale=true`.
    Stale,
    /// Refused without being a password failure (replayed nonce or nc, clock window, malformed).
    Refused(&'static str),
}

struct DigestNonce {
    issued: Instant,
    last_nc: u64,
}

/// Nonce bookkeeping of one camera.
pub struct Authenticator {
    digest_nonces: HashMap<String, DigestNonce>,
    ut_nonces: HashMap<String, Instant>,
    opaque: String,
    nonce_lifetime: Duration,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("digest_nonces", &self.digest_nonces.len())
            .field("ut_nonces", &self.ut_nonces.len())
            .finish()
    }
}

fn random_hex(bytes: usize) -> String {
    let mut raw = vec![0u8; bytes];
    rand::thread_rng().fill(&mut raw[..]);
    hex::encode(raw)
}

impl Authenticator {
    /// A fresh authenticator whose digest nonces live `nonce_lifetime`.
    pub fn new(nonce_lifetime: Duration) -> Self {
        Self {
            digest_nonces: HashMap::new(),
            ut_nonces: HashMap::new(),
            opaque: random_hex(16),
            nonce_lifetime,
        }
    }

    /// Forgets every nonce (a reboot).
    pub fn clear(&mut self) {
        self.digest_nonces.clear();
        self.ut_nonces.clear();
        self.opaque = random_hex(16);
    }

    fn prune(&mut self) {
        let now = Instant::now();
        let lifetime = self.nonce_lifetime;
        self.digest_nonces
            .retain(|_, n| now.duration_since(n.issued) < lifetime);
        self.ut_nonces
            .retain(|_, t| now.duration_since(*t) < UT_NONCE_MEMORY);
        if self.digest_nonces.len() >= NONCE_CAP {
            // Drop the oldest half; their holders get `stale=true` and simply retry.
            let mut ages: Vec<Instant> = self.digest_nonces.values().map(|n| n.issued).collect();
            ages.sort();
            let cut = ages[ages.len() / 2];
            self.digest_nonces.retain(|_, n| n.issued > cut);
        }
    }

    /// `WWW-Authenticate` values for a 401, in the order sent (RFC 7616 §3.7: preferred first).
    pub fn challenges(&mut self, algorithms: &[Algorithm], stale: bool) -> Vec<String> {
        self.prune();
        algorithms
            .iter()
            .map(|alg| {
                let nonce = random_hex(16);
                self.digest_nonces
                    .insert(nonce.clone(), DigestNonce { issued: Instant::now(), last_nc: 0 });
                format!(
                    "Digest realm=\"{REALM}\", qop=\"auth\", algorithm={}, nonce=\"{nonce}\", opaque=\"{}\"{}",
                    alg.name(),
                    self.opaque,
                    if stale { ", stale=true" } else { "" }
                )
            })
            .collect()
    }

    /// Checks an `Authorization: Digest ...` header for a request `method target`.
    pub fn verify_digest(
        &mut self,
        header: &str,
        method: &str,
        target: &str,
        algorithms: &[Algorithm],
        users: &[User],
    ) -> Verdict {
        let params = parse_digest_params(header);
        let get = |k: &str| {
            params
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(k))
                .map(|(_, v)| v.as_str())
        };
        let (Some(username), Some(nonce), Some(uri), Some(response)) =
            (get("username"), get("nonce"), get("uri"), get("response"))
        else {
            return Verdict::Refused("incomplete digest credentials");
        };
        let algorithm = match get("algorithm").unwrap_or("MD5") {
            a if a.eq_ignore_ascii_case("MD5") => Algorithm::Md5,
            a if a.eq_ignore_ascii_case("SHA-256") => Algorithm::Sha256,
            _ => return Verdict::Refused("unsupported digest algorithm"),
        };
        // RFC 7616 §3.4: the digest-uri must name the request target, or the answer could be
        // replayed against another resource.
        if uri != target && !uri.ends_with(target) {
            return Verdict::Refused("digest uri does not match the request");
        }
        if !algorithms.contains(&algorithm) {
            return Verdict::Refused("digest algorithm not offered");
        }
        if get("qop") != Some("auth") {
            return Verdict::Refused("qop=auth required");
        }
        if get("realm") != Some(REALM) || get("opaque") != Some(self.opaque.as_str()) {
            return Verdict::Stale;
        }
        let (Some(nc), Some(cnonce)) = (get("nc"), get("cnonce")) else {
            return Verdict::Refused("nc and cnonce required");
        };
        let Ok(nc_value) = u64::from_str_radix(nc, 16) else {
            return Verdict::Refused("malformed nc");
        };
        self.prune();
        let Some(entry) = self.digest_nonces.get(nonce) else {
            return Verdict::Stale;
        };
        let last_nc = entry.last_nc;
        let Some(user) = users.iter().find(|u| u.name == username) else {
            return Verdict::WrongCredentials(Some(username.to_owned()));
        };
        let ha1 = algorithm.hash(&format!("{}:{REALM}:{}", user.name, user.password));
        let ha2 = algorithm.hash(&format!("{method}:{uri}"));
        let expected = algorithm.hash(&format!("{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}"));
        if !constant_time_eq(
            expected.as_bytes(),
            response.to_ascii_lowercase().as_bytes(),
        ) {
            return Verdict::WrongCredentials(Some(username.to_owned()));
        }
        // RFC 7616 §3.4: the nonce count lets the server detect a replayed request.
        if nc_value <= last_nc {
            return Verdict::Refused("replayed nonce count");
        }
        if let Some(entry) = self.digest_nonces.get_mut(nonce) {
            entry.last_nc = nc_value;
        }
        Verdict::Authenticated(user.name.clone())
    }

    /// Checks a WS-Security UsernameToken against the camera clock `now`.
    pub fn verify_username_token(
        &mut self,
        token: &UsernameToken,
        now: OffsetDateTime,
        users: &[User],
    ) -> Verdict {
        if !token.password_is_digest {
            return Verdict::Refused("only PasswordDigest is accepted");
        }
        let Ok(created) = OffsetDateTime::parse(
            &token.created,
            &time::format_description::well_known::Rfc3339,
        ) else {
            return Verdict::Refused("malformed Created");
        };
        if (created - now).whole_seconds().abs() > CREATED_WINDOW_S {
            return Verdict::Refused("Created outside the camera's time window");
        }
        let Ok(nonce) = base64::engine::general_purpose::STANDARD.decode(token.nonce.trim()) else {
            return Verdict::Refused("malformed Nonce");
        };
        self.prune();
        if self.ut_nonces.contains_key(&token.nonce) {
            return Verdict::Refused("nonce already used");
        }
        if self.ut_nonces.len() >= NONCE_CAP {
            return Verdict::Refused("too many recent nonces");
        }
        let Some(user) = users.iter().find(|u| u.name == token.username) else {
            self.ut_nonces.insert(token.nonce.clone(), Instant::now());
            return Verdict::WrongCredentials(Some(token.username.clone()));
        };
        let expected = password_digest(&nonce, &token.created, &user.password);
        self.ut_nonces.insert(token.nonce.clone(), Instant::now());
        if constant_time_eq(expected.as_bytes(), token.password.trim().as_bytes()) {
            Verdict::Authenticated(user.name.clone())
        } else {
            Verdict::WrongCredentials(Some(token.username.clone()))
        }
    }
}

/// `Base64(SHA-1(nonce + created + password))`, WS-Security UsernameToken Profile 1.0 §3.1.
pub fn password_digest(nonce: &[u8], created: &str, password: &str) -> String {
    let mut sha = sha1::Sha1::new();
    sha.update(nonce);
    sha.update(created.as_bytes());
    sha.update(password.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(sha.finalize())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A parsed `wsse:UsernameToken`.
#[derive(Clone)]
pub struct UsernameToken {
    /// Username.
    pub username: String,
    /// The password digest (or text).
    pub password: String,
    /// Whether `Password/@Type` is PasswordDigest.
    pub password_is_digest: bool,
    /// Base64 nonce.
    pub nonce: String,
    /// `wsu:Created`.
    pub created: String,
}

impl std::fmt::Debug for UsernameToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UsernameToken")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// Finds a UsernameToken in the SOAP header, by local names (any prefix).
pub fn username_token(envelope: roxmltree::Node<'_, '_>) -> Option<UsernameToken> {
    let token = envelope
        .descendants()
        .find(|n| n.tag_name().name() == "UsernameToken")?;
    let child = |name: &str| token.children().find(|n| n.tag_name().name() == name);
    let password = child("Password")?;
    Some(UsernameToken {
        username: child("Username")?
            .text()
            .unwrap_or_default()
            .trim()
            .to_owned(),
        password: password.text().unwrap_or_default().to_owned(),
        password_is_digest: password
            .attribute("Type")
            .is_some_and(|t| t.ends_with("#PasswordDigest")),
        nonce: child("Nonce")
            .and_then(|n| n.text())
            .unwrap_or_default()
            .to_owned(),
        created: child("Created")
            .and_then(|n| n.text())
            .unwrap_or_default()
            .trim()
            .to_owned(),
    })
}

/// Splits `Digest k=v, k="v", ...` into pairs (RFC 7616 §3.4 grammar, quoted strings unescaped).
pub fn parse_digest_params(header: &str) -> Vec<(String, String)> {
    let rest = header.trim();
    let rest = rest
        .strip_prefix("Digest")
        .or_else(|| rest.strip_prefix("digest"))
        .unwrap_or(rest);
    let mut out = Vec::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let mut key = String::new();
        while let Some(c) = chars.peek().copied() {
            if c == '=' || c == ',' {
                break;
            }
            key.push(c);
            chars.next();
        }
        if key.is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'=') {
            chars.next();
            if chars.peek() == Some(&'"') {
                chars.next();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            if let Some(n) = chars.next() {
                                value.push(n);
                            }
                        }
                        '"' => break,
                        c => value.push(c),
                    }
                }
            } else {
                while let Some(c) = chars.peek().copied() {
                    if c == ',' {
                        break;
                    }
                    value.push(c);
                    chars.next();
                }
            }
        }
        out.push((key.trim().to_owned(), value.trim().to_owned()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn username_token_vector_from_the_architecture_notes() {
        let nonce = base64::engine::general_purpose::STANDARD
            .decode("LKqI6G/AikKCQrN0zqZFlg==")
            .expect("valid base64");
        assert_eq!(
            password_digest(&nonce, "2010-09-16T07:50:45Z", "userpassword"),
            "tuOSpGlFlIXsozq4HFNeeGeFLEI="
        );
    }

    #[test]
    fn rfc7616_md5_and_sha256_vectors() {
        // RFC 7616 §3.9.1: Mufasa / Circle of Life.
        let nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
        let cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
        for (alg, want) in [
            (Algorithm::Md5, "8ca523f5e9506fed4657c9700eebdbec"),
            (
                Algorithm::Sha256,
                "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
            ),
        ] {
            let ha1 = alg.hash("Mufasa:http-auth@example.org:Circle of Life");
            let ha2 = alg.hash("GET:/dir/index.html");
            assert_eq!(
                alg.hash(&format!("{ha1}:{nonce}:00000001:{cnonce}:auth:{ha2}")),
                want
            );
        }
    }

    #[test]
    fn digest_params_with_quotes_and_commas() {
        let p = parse_digest_params(r#"Digest username="a,b", nc=00000001, qop=auth"#);
        assert_eq!(p[0], ("username".into(), "a,b".into()));
        assert_eq!(p[1], ("nc".into(), "00000001".into()));
        assert_eq!(p[2], ("qop".into(), "auth".into()));
    }
}
