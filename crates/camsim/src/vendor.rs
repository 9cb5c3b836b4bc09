//! What the two vendor APIs (Axis VAPIX in [`crate::vapix`], Hikvision ISAPI in [`crate::isapi`])
//! share: a plain request/reply shape, HTTP Digest against the vendor's own account list, and a
//! lock-out per client address.
//!
//! Both vendors block the *address* that keeps failing, not the whole camera: Hikvision's
//! "illegal login lock" (ISAPI `SecurityCap/issupIllegalLoginLock`) and AXIS OS "brute-force
//! delay protection". That is what [`PeerLockout`] models.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::auth::{Algorithm, Authenticator, Verdict};
use crate::state::User;

/// One HTTP request to a vendor API, already read in full.
#[derive(Clone, Copy, Debug)]
pub struct VendorRequest<'a> {
    /// `GET`, `POST`, `PUT`.
    pub method: &'a str,
    /// Path without the query.
    pub path: &'a str,
    /// Query string without `?` (empty when absent).
    pub query: &'a str,
    /// Path and query as sent, for the Digest `uri` check.
    pub target: &'a str,
    /// The `Authorization` header.
    pub authorization: Option<&'a str>,
    /// The body.
    pub body: &'a [u8],
    /// Who is asking.
    pub peer: IpAddr,
}

/// A vendor API reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VendorReply {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// Extra headers (`WWW-Authenticate`).
    pub headers: Vec<(&'static str, String)>,
    /// Body.
    pub body: String,
    /// Whether persisted state changed (the server then writes the state file).
    pub changed: bool,
    /// A factory reset to run once the reply is out (`Some(hard)`), then a reboot.
    pub factory_reset: Option<bool>,
}

impl VendorReply {
    /// A reply with no extra headers that changed nothing.
    pub fn new(status: u16, content_type: &'static str, body: impl Into<String>) -> Self {
        Self {
            status,
            content_type,
            headers: Vec::new(),
            body: body.into(),
            changed: false,
            factory_reset: None,
        }
    }

    /// Asks for a factory reset (hard: network settings too) and a reboot after the reply.
    pub fn resets(mut self, hard: bool) -> Self {
        self.factory_reset = Some(hard);
        self
    }

    /// Marks the reply as having changed persisted state.
    pub fn changed(mut self) -> Self {
        self.changed = true;
        self
    }
}

/// Consecutive failures per client address, and the addresses locked out.
#[derive(Debug)]
pub struct PeerLockout {
    limit: u32,
    duration: Duration,
    peers: HashMap<IpAddr, (u32, Option<Instant>)>,
}

impl PeerLockout {
    /// Locks an address for `duration` after `limit` consecutive failures.
    pub fn new(limit: u32, duration: Duration) -> Self {
        Self {
            limit,
            duration,
            peers: HashMap::new(),
        }
    }

    /// How long `peer` stays locked, if it is; an expired lock is forgotten with its count.
    pub fn remaining(&mut self, peer: IpAddr) -> Option<Duration> {
        let now = Instant::now();
        match self.peers.get(&peer) {
            Some((_, Some(until))) if now < *until => Some(*until - now),
            Some((_, Some(_))) => {
                self.peers.remove(&peer);
                None
            }
            _ => None,
        }
    }

    /// Counts a failed login; true when it locks `peer` out.
    pub fn failure(&mut self, peer: IpAddr) -> bool {
        let entry = self.peers.entry(peer).or_insert((0, None));
        entry.0 += 1;
        if entry.0 >= self.limit {
            entry.1 = Some(Instant::now() + self.duration);
            return true;
        }
        false
    }

    /// A successful login clears the count.
    pub fn success(&mut self, peer: IpAddr) {
        self.peers.remove(&peer);
    }

    /// Forgets everything (a reboot).
    pub fn clear(&mut self) {
        self.peers.clear();
    }
}

/// A Hikvision activation key exchange in progress: the random key the camera sent, encrypted,
/// to the client's RSA key.
#[derive(Clone)]
pub struct PendingActivation {
    /// 32 hex characters; never logged.
    pub random_key: String,
    /// When it was issued; it expires after [`crate::isapi::CHALLENGE_LIFETIME`].
    pub issued: Instant,
}

impl std::fmt::Debug for PendingActivation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingActivation")
            .field("issued", &self.issued)
            .finish_non_exhaustive()
    }
}

/// Runtime (not persisted) state of a camera's vendor API.
#[derive(Debug)]
pub struct VendorRuntime {
    /// Digest nonces of the vendor API.
    pub auth: Authenticator,
    /// Failed logins per address.
    pub lockout: PeerLockout,
    /// Hikvision: the activation key exchange in progress.
    pub activation: Option<PendingActivation>,
}

impl VendorRuntime {
    /// Fresh runtime state.
    pub fn new(nonce_lifetime: Duration, lockout_failures: u32, lockout: Duration) -> Self {
        Self {
            auth: Authenticator::new(nonce_lifetime),
            lockout: PeerLockout::new(lockout_failures.max(1), lockout),
            activation: None,
        }
    }

    /// Forgets nonces, lock-outs and pending exchanges (a reboot).
    pub fn clear(&mut self) {
        self.auth.clear();
        self.lockout.clear();
        self.activation = None;
    }
}

/// What a Digest check of a vendor request decided.
#[derive(Debug)]
pub enum Gate {
    /// The named user proved their password.
    Allowed(String),
    /// No valid credentials: send this reply (a challenge, or the lock-out answer).
    Refused(VendorReply),
    /// The address is locked out for this long.
    Locked(Duration),
}

/// Checks the request's Digest credentials (RFC 7616) against `users`, counting failures per
/// address. A missing or stale answer gets a fresh challenge without counting as a failure.
pub fn digest_gate(
    rt: &mut VendorRuntime,
    req: &VendorRequest<'_>,
    users: &[User],
    algorithms: &[Algorithm],
) -> Gate {
    if let Some(left) = rt.lockout.remaining(req.peer) {
        return Gate::Locked(left);
    }
    let header = req
        .authorization
        .filter(|h| h.trim_start().to_ascii_lowercase().starts_with("digest"));
    let verdict = match header {
        Some(h) => rt
            .auth
            .verify_digest(h, req.method, req.target, algorithms, users),
        None => Verdict::Refused("no credentials"),
    };
    let stale = match verdict {
        Verdict::Authenticated(name) => {
            rt.lockout.success(req.peer);
            return Gate::Allowed(name);
        }
        Verdict::WrongCredentials(_) => {
            if rt.lockout.failure(req.peer) {
                if let Some(left) = rt.lockout.remaining(req.peer) {
                    return Gate::Locked(left);
                }
            }
            false
        }
        Verdict::Stale => true,
        Verdict::Refused(_) => false,
    };
    let mut reply = VendorReply::new(401, "text/plain", "Unauthorized");
    for c in rt.auth.challenges(algorithms, stale) {
        reply.headers.push(("www-authenticate", c));
    }
    Gate::Refused(reply)
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// Decodes hex (either case); `None` when malformed.
pub fn unhex(text: &str) -> Option<Vec<u8>> {
    let pairs = text.trim().as_bytes().chunks_exact(2);
    if !pairs.remainder().is_empty() {
        return None;
    }
    pairs
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockout_counts_per_address_and_success_clears() {
        let a: IpAddr = [127, 0, 0, 1].into();
        let b: IpAddr = [127, 0, 0, 2].into();
        let mut l = PeerLockout::new(3, Duration::from_secs(60));
        assert!(!l.failure(a));
        assert!(!l.failure(a));
        l.success(a);
        assert!(!l.failure(a));
        assert!(!l.failure(a));
        assert!(l.failure(a));
        assert!(l.remaining(a).is_some());
        assert!(l.remaining(b).is_none());
    }

    #[test]
    fn hex_round_trip() {
        assert_eq!(
            unhex(&hex(&[0, 1, 0xab, 0xff])),
            Some(vec![0, 1, 0xab, 0xff])
        );
        assert_eq!(unhex("abc"), None);
        assert_eq!(unhex("zz"), None);
    }
}
