//! A session with one camera: where it is, who we are, which authentication worked, and how far its
//! clock is from ours. The typed operations in [`crate::device`], [`crate::security`] and
//! [`crate::media2`] are methods on [`Camera`] built on [`Camera::call`].
//!
//!
//! Authentication in [`AuthMode::Auto`] (ONVIF Core §5.12.1 lets a device use HTTP Digest or
//! WS-UsernameToken): the request goes out; a 401 with a Digest challenge is answered with Digest;
//! a 400 or `ter:NotAuthorized` without a challenge is retried with a UsernameToken. One request
//! never carries both. What worked is kept in an [`AuthState`] and used directly next time. After
//! an answered challenge or a token is refused, the call fails at once: cameras lock accounts out
//! after a few failures, so a wrong password costs exactly one failed attempt per call.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use time::OffsetDateTime;
use tracing::Instrument as _;

use crate::auth::{AuthState, DigestChallenge, UsernameToken};
use crate::clock::Clock;
use crate::error::{DeviceRefusal, OnvifError, TransportError};
use crate::soap::Envelope;
use crate::transport::{HttpRequest, HttpResponse, Transport};
use crate::xml::Reply;

/// An ONVIF service of the camera; its URL comes from GetServices (or defaults to the device URL).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Service {
    /// Device Management, `tds`.
    Device,
    /// Advanced Security, `tas`.
    AdvancedSecurity,
    /// Media2, `tr2`.
    Media2,
}

impl Service {
    /// The service's namespace, which is also the prefix of its SOAP action URIs.
    pub fn namespace(self) -> &'static str {
        match self {
            Service::Device => crate::ns::TDS,
            Service::AdvancedSecurity => crate::ns::TAS,
            Service::Media2 => crate::ns::TR2,
        }
    }
}

/// A user name and password. The password never appears in `Debug` output.
#[derive(Clone)]
pub struct Credentials {
    user: String,
    password: String,
}

impl Credentials {
    /// Pairs a user name with a password.
    pub fn new(user: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            user: user.into(),
            password: password.into(),
        }
    }
    /// The user name.
    pub fn user(&self) -> &str {
        &self.user
    }
    /// The password; only authentication code should read it.
    pub fn password(&self) -> &str {
        &self.password
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Which authentication to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum AuthMode {
    /// HTTP Digest first; fall back to UsernameToken when the camera answers 400 or
    /// `ter:NotAuthorized` without a challenge. Never both in one request. What worked is remembered.
    Auto,
    /// HTTP Digest only (RFC 7616).
    Digest,
    /// WS-Security UsernameToken PasswordDigest only.
    UsernameToken,
    /// No credentials (factory state, or pre-authentication operations).
    Anonymous,
}

/// Lower bound on how much the camera clock must have moved, after a UsernameToken refusal, for
/// the token to be sent once more. Below it the refusal is the password's fault, and retrying
/// would spend another of the camera's few allowed failures.
const CLOCK_JUMP_FOR_RETRY: time::Duration = time::Duration::seconds(5);

/// A session with one camera. Cheap to share behind an `Arc`; methods take `&self`.
pub struct Camera<T: Transport> {
    transport: T,
    clock: Arc<dyn Clock>,
    device_url: String,
    service_urls: Mutex<HashMap<Service, String>>,
    credentials: Mutex<Option<Credentials>>,
    mode: Mutex<AuthMode>,
    state: Mutex<AuthState>,
    offset: Mutex<Option<time::Duration>>,
}

impl<T: Transport> fmt::Debug for Camera<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Camera")
            .field("device_url", &self.device_url)
            .field("working_auth", &self.working_auth())
            .field("clock_offset", &self.clock_offset())
            .finish_non_exhaustive()
    }
}

/// Locks a mutex, recovering from poisoning: every value guarded here stays consistent even if
/// a holder panicked, since each is replaced whole.
fn lock<V>(m: &Mutex<V>) -> MutexGuard<'_, V> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// How one request is authenticated.
enum Proof {
    None,
    Digest(String),
    Token(UsernameToken),
}

impl<T: Transport> Camera<T> {
    /// A session with the camera whose device service is at `device_url`
    /// (e.g. `http://192.0.2.10/onvif/device_service`).
    pub fn new(transport: T, device_url: &str, clock: Arc<dyn Clock>) -> Result<Self, OnvifError> {
        let url = reqwest::Url::parse(device_url)
            .map_err(|e| TransportError::InvalidUrl(format!("{device_url}: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(
                TransportError::InvalidUrl(format!("{device_url}: not an http(s) URL")).into(),
            );
        }
        Ok(Self {
            transport,
            clock,
            device_url: device_url.to_owned(),
            service_urls: Mutex::new(HashMap::new()),
            credentials: Mutex::new(None),
            mode: Mutex::new(AuthMode::Auto),
            state: Mutex::new(AuthState::Unknown),
            offset: Mutex::new(None),
        })
    }

    /// Sets (or replaces) the credentials and the authentication mode. What was learned about
    /// authentication is forgotten, since it belonged to the old credentials.
    pub fn set_credentials(&self, credentials: Option<Credentials>, mode: AuthMode) {
        *lock(&self.credentials) = credentials;
        *lock(&self.mode) = mode;
        *lock(&self.state) = AuthState::Unknown;
    }

    /// The device service URL.
    pub fn device_url(&self) -> &str {
        &self.device_url
    }

    /// The transport (tests read a recording transport through it).
    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// Sends `payload` — one element, serialized, declaring its own namespaces — as the body of a
    /// SOAP 1.2 request to `service`, with SOAP action `{service namespace}/{action}`.
    /// `pre_auth` requests go without credentials (ONVIF PRE_AUTH access class). A SOAP fault in
    /// the reply becomes `OnvifError::Refused`.
    pub async fn call(
        &self,
        service: Service,
        action: &str,
        payload: &str,
        pre_auth: bool,
    ) -> Result<Reply, OnvifError> {
        let url = self.service_url(service);
        // Only the URL and the action are recorded: never headers, bodies or credentials.
        let span = tracing::info_span!("onvif_call", camera = %url, action);
        async {
            let resp = self
                .exchange(&url, service, action, payload, pre_auth)
                .await?;
            let reply = reply_of(resp);
            if let Err(e) = &reply {
                tracing::debug!(code = e.code(), "call failed");
            }
            reply
        }
        .instrument(span)
        .await
    }

    /// Reads the camera clock without credentials (GetSystemDateAndTime), falling back to the HTTP
    /// `Date` header, and stores the offset (half the round trip corrected) used in every `Created`.
    pub async fn sync_clock(&self) -> Result<time::Duration, OnvifError> {
        let url = self.service_url(Service::Device);
        let span = tracing::info_span!("onvif_sync_clock", camera = %url);
        async {
            let payload = format!(
                r#"<tds:GetSystemDateAndTime xmlns:tds="{}"/>"#,
                crate::ns::TDS
            );
            let sent = self.clock.now();
            let resp = self
                .send(
                    &url,
                    Service::Device,
                    "GetSystemDateAndTime",
                    &payload,
                    Proof::None,
                )
                .await?;
            let received = self.clock.now();
            let date_header = resp.header_values("date").next().map(str::to_owned);
            let reply = reply_of(resp)?;
            // A reply without UTCDateTime (optional in the schema), or one this camera got subtly
            // wrong, still leaves the HTTP Date header to go by.
            let utc = reply.with_payload(|p| {
                Ok(crate::device::parse_system_date_and_time(p)
                    .ok()
                    .and_then(|d| d.utc))
            })?;
            let camera_utc = match utc {
                Some(t) => t,
                None => date_header
                    .as_deref()
                    .and_then(parse_http_date)
                    .ok_or_else(|| {
                        crate::error::malformed("no UTCDateTime and no usable Date header")
                    })?,
            };
            // The camera read its clock somewhere during the round trip; the middle is the best
            // guess (the same estimate NTP makes, RFC 5905 §8).
            let offset = camera_utc - (sent + (received - sent) / 2);
            *lock(&self.offset) = Some(offset);
            tracing::debug!(offset_s = offset.whole_seconds(), "camera clock offset");
            Ok(offset)
        }
        .instrument(span)
        .await
    }

    /// The last measured offset camera − laptop, if any.
    pub fn clock_offset(&self) -> Option<time::Duration> {
        *lock(&self.offset)
    }

    /// The authentication mode that last worked with this camera, if any.
    pub fn working_auth(&self) -> Option<AuthMode> {
        match &*lock(&self.state) {
            AuthState::Unknown => None,
            AuthState::Digest(_) => Some(AuthMode::Digest),
            AuthState::UsernameToken => Some(AuthMode::UsernameToken),
        }
    }

    /// Records the URL of a service (from GetServices) so later calls go there.
    pub fn set_service_url(&self, service: Service, url: &str) {
        lock(&self.service_urls).insert(service, url.to_owned());
    }

    fn service_url(&self, service: Service) -> String {
        lock(&self.service_urls)
            .get(&service)
            .cloned()
            .unwrap_or_else(|| self.device_url.clone())
    }

    /// The camera's idea of now: the laptop clock plus the measured offset.
    fn camera_now(&self) -> OffsetDateTime {
        self.clock.now() + self.clock_offset().unwrap_or(time::Duration::ZERO)
    }

    /// Runs the authentication state machine for one call and returns the final HTTP response.
    async fn exchange(
        &self,
        url: &str,
        service: Service,
        action: &str,
        payload: &str,
        pre_auth: bool,
    ) -> Result<HttpResponse, OnvifError> {
        let credentials = lock(&self.credentials).clone();
        let mode = *lock(&self.mode);
        let credentials = match credentials {
            Some(c) if !pre_auth && mode != AuthMode::Anonymous => c,
            _ => return self.send(url, service, action, payload, Proof::None).await,
        };
        if mode == AuthMode::UsernameToken {
            return self
                .send_token(url, service, action, payload, &credentials)
                .await;
        }
        let state = lock(&self.state).clone();
        let answered_remembered = matches!(state, AuthState::Digest(_));
        let first = match state {
            AuthState::UsernameToken if mode == AuthMode::Auto => {
                return self
                    .send_token(url, service, action, payload, &credentials)
                    .await;
            }
            AuthState::Digest(_) => {
                // Reuse the remembered challenge with nc + 1 (RFC 7616 §3.4), saving a round trip.
                let proof = self.answer_remembered(url, &credentials)?;
                self.send(url, service, action, payload, proof).await?
            }
            _ => {
                self.send(url, service, action, payload, Proof::None)
                    .await?
            }
        };
        if first.status != 401 {
            if (200..300).contains(&first.status) {
                return Ok(first);
            }
            if mode == AuthMode::Auto && !answered_remembered && asks_for_token(&first) {
                return self
                    .send_token(url, service, action, payload, &credentials)
                    .await;
            }
            return Ok(first);
        }
        let challenge = DigestChallenge::choose(first.header_values("www-authenticate"));
        let mut challenge = match challenge {
            Some(c) => c,
            None if mode == AuthMode::Auto && !answered_remembered => {
                // A 401 that offers no Digest challenge: the camera wants a token.
                return self
                    .send_token(url, service, action, payload, &credentials)
                    .await;
            }
            None => return Ok(first),
        };
        if answered_remembered && !challenge.is_stale() {
            // The remembered challenge was answered and refused without `stale`: the password is
            // wrong now. One failed attempt, not two.
            *lock(&self.state) = AuthState::Unknown;
            return Ok(first);
        }
        // Either the first challenge, or a stale nonce (RFC 7616 §3.3): answer it, once.
        let resp = self
            .send_digest(url, service, action, payload, &credentials, &mut challenge)
            .await?;
        if resp.status == 401 {
            if let Some(mut again) = DigestChallenge::choose(resp.header_values("www-authenticate"))
            {
                if again.is_stale() && !challenge.is_stale() {
                    let resp = self
                        .send_digest(url, service, action, payload, &credentials, &mut again)
                        .await?;
                    return Ok(self.remember_digest(resp, again));
                }
            }
            *lock(&self.state) = AuthState::Unknown;
            return Ok(resp);
        }
        Ok(self.remember_digest(resp, challenge))
    }

    fn remember_digest(&self, resp: HttpResponse, challenge: DigestChallenge) -> HttpResponse {
        if (200..300).contains(&resp.status) {
            *lock(&self.state) = AuthState::Digest(challenge);
        }
        resp
    }

    fn answer_remembered(&self, url: &str, credentials: &Credentials) -> Result<Proof, OnvifError> {
        let mut state = lock(&self.state);
        match &mut *state {
            AuthState::Digest(ch) => Ok(Proof::Digest(answer(ch, credentials, url)?)),
            _ => Ok(Proof::None),
        }
    }

    async fn send_digest(
        &self,
        url: &str,
        service: Service,
        action: &str,
        payload: &str,
        credentials: &Credentials,
        challenge: &mut DigestChallenge,
    ) -> Result<HttpResponse, OnvifError> {
        let header = answer(challenge, credentials, url)?;
        self.send(url, service, action, payload, Proof::Digest(header))
            .await
    }

    /// Sends with a UsernameToken, syncing the clock first when it never was, and once more when
    /// the token is refused and the camera clock turns out to have moved.
    async fn send_token(
        &self,
        url: &str,
        service: Service,
        action: &str,
        payload: &str,
        credentials: &Credentials,
    ) -> Result<HttpResponse, OnvifError> {
        let mut synced_now = false;
        if self.clock_offset().is_none() {
            self.sync_clock().await?;
            synced_now = true;
        }
        let token = UsernameToken::new(credentials, self.camera_now());
        let resp = self
            .send(url, service, action, payload, Proof::Token(token))
            .await?;
        if !token_refused(&resp) {
            if (200..300).contains(&resp.status) {
                *lock(&self.state) = AuthState::UsernameToken;
            }
            return Ok(resp);
        }
        if !synced_now {
            let before = self.clock_offset().unwrap_or(time::Duration::ZERO);
            // A refused token may mean the camera clock was changed since the last sync (its
            // replay window is a few seconds, Core §5.12.2); re-read it before blaming the password.
            if let Ok(after) = self.sync_clock().await {
                if (after - before).abs() >= CLOCK_JUMP_FOR_RETRY {
                    let token = UsernameToken::new(credentials, self.camera_now());
                    let resp = self
                        .send(url, service, action, payload, Proof::Token(token))
                        .await?;
                    if (200..300).contains(&resp.status) {
                        *lock(&self.state) = AuthState::UsernameToken;
                    }
                    return Ok(resp);
                }
            }
        }
        Ok(resp)
    }

    async fn send(
        &self,
        url: &str,
        service: Service,
        action: &str,
        payload: &str,
        proof: Proof,
    ) -> Result<HttpResponse, OnvifError> {
        let mut headers = vec![(
            "content-type".to_owned(),
            crate::soap::content_type(service.namespace(), action),
        )];
        let token = match proof {
            Proof::None => None,
            Proof::Digest(h) => {
                headers.push(("authorization".to_owned(), h));
                None
            }
            Proof::Token(t) => Some(t),
        };
        let body = Envelope {
            security: token.as_ref(),
            payload,
        }
        .to_xml()
        .into_bytes();
        let resp = self
            .transport
            .post(HttpRequest {
                url: url.to_owned(),
                headers,
                body,
            })
            .await?;
        Ok(resp)
    }
}

/// The Digest answer for a POST to `url`; the digest URI is the request-target (RFC 7616 §3.4.6).
fn answer(
    challenge: &mut DigestChallenge,
    credentials: &Credentials,
    url: &str,
) -> Result<String, OnvifError> {
    let parsed = reqwest::Url::parse(url).map_err(|e| TransportError::InvalidUrl(e.to_string()))?;
    let uri = match parsed.query() {
        Some(q) => format!("{}?{q}", parsed.path()),
        None => parsed.path().to_owned(),
    };
    challenge
        .answer(credentials, "POST", &uri, None)
        .ok_or(OnvifError::Refused(DeviceRefusal::NotAuthorized))
}

/// True when a non-401 answer means "authenticate with a token": HTTP 400, or a
/// `ter:NotAuthorized` fault, without a Digest challenge.
fn asks_for_token(resp: &HttpResponse) -> bool {
    if DigestChallenge::choose(resp.header_values("www-authenticate")).is_some() {
        return false;
    }
    resp.status == 400 || matches!(fault_refusal(resp), Some(DeviceRefusal::NotAuthorized))
}

/// True when a token was refused as credentials (not locked out, not some other fault).
fn token_refused(resp: &HttpResponse) -> bool {
    if resp.status == 403 {
        return false;
    }
    resp.status == 401 || matches!(fault_refusal(resp), Some(DeviceRefusal::NotAuthorized))
}

/// The refusal a fault in the body says, if the body is a fault.
fn fault_refusal(resp: &HttpResponse) -> Option<DeviceRefusal> {
    let text = std::str::from_utf8(&resp.body).ok()?;
    match Reply::parse(text.to_owned()) {
        Err(OnvifError::Refused(r)) => Some(r),
        _ => None,
    }
}

/// Turns the final HTTP response of a call into a reply or an error.
fn reply_of(resp: HttpResponse) -> Result<Reply, OnvifError> {
    let status = resp.status;
    if status == 403 {
        // camsim and real cameras answer a locked-out account with 403 (with or without a fault).
        return Err(DeviceRefusal::LockedOut.into());
    }
    if status == 401 {
        return Err(DeviceRefusal::NotAuthorized.into());
    }
    let text = String::from_utf8(resp.body.to_vec())
        .map_err(|_| crate::error::malformed("reply is not UTF-8"));
    if (200..300).contains(&status) {
        return Reply::parse(text?);
    }
    // SOAP 1.2 over HTTP sends faults with 400 (Sender) or 500 (Receiver) (SOAP 1.2 Part 2, §7.5.2).
    if let Ok(text) = text {
        if let Err(OnvifError::Refused(r)) = Reply::parse(text) {
            return Err(r.into());
        }
    }
    match status {
        404 | 405 => Err(DeviceRefusal::NotSupported.into()),
        s => Err(DeviceRefusal::HttpStatus(s).into()),
    }
}

/// An HTTP `Date` header (IMF-fixdate, RFC 9110 §5.6.7).
fn parse_http_date(value: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(value.trim(), &time::format_description::well_known::Rfc2822).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::RecordingTransport;
    use bytes::Bytes;

    #[derive(Debug)]
    struct TestClock(Mutex<OffsetDateTime>);
    impl Clock for TestClock {
        fn now(&self) -> OffsetDateTime {
            *self.0.lock().unwrap()
        }
    }

    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Scheme {
        Digest { md5: bool, sha256: bool },
        Token,
    }

    /// A camera in a few dozen lines: checks Digest or UsernameToken like a real one, counts
    /// failed logins, locks out after five, and reports its own (skewable) clock.
    struct FakeCamera {
        scheme: Scheme,
        password: &'static str,
        laptop: Arc<TestClock>,
        skew: Mutex<time::Duration>,
        nonce: Mutex<String>,
        failures: Mutex<u32>,
        requests: Mutex<Vec<HttpRequest>>,
        utc_in_reply: bool,
    }

    impl FakeCamera {
        fn new(scheme: Scheme, laptop: Arc<TestClock>) -> Self {
            Self {
                scheme,
                password: "right",
                laptop,
                skew: Mutex::new(time::Duration::ZERO),
                nonce: Mutex::new("nonce-1".into()),
                failures: Mutex::new(0),
                requests: Mutex::new(Vec::new()),
                utc_in_reply: true,
            }
        }
        fn now(&self) -> OffsetDateTime {
            self.laptop.now() + *self.skew.lock().unwrap()
        }
        fn challenges(&self, stale: bool) -> Vec<(String, String)> {
            let Scheme::Digest { md5, sha256 } = self.scheme else {
                return vec![];
            };
            let nonce = self.nonce.lock().unwrap().clone();
            let mut v = vec![(
                "www-authenticate".to_owned(),
                "Basic realm=\"cam\"".to_owned(),
            )];
            for (on, alg) in [(md5, "MD5"), (sha256, "SHA-256")] {
                if on {
                    v.push((
                        "www-authenticate".into(),
                        format!(r#"Digest realm="cam", qop="auth", algorithm={alg}, nonce="{nonce}", opaque="op", stale={stale}"#),
                    ));
                }
            }
            v
        }
        fn fault(status: u16, sub: &str, reason: &str) -> HttpResponse {
            let body = format!(
                r#"<?xml version="1.0"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope" xmlns:ter="http://www.onvif.org/ver10/error"><SOAP-ENV:Body><SOAP-ENV:Fault><SOAP-ENV:Code><SOAP-ENV:Value>SOAP-ENV:Sender</SOAP-ENV:Value><SOAP-ENV:Subcode><SOAP-ENV:Value>ter:{sub}</SOAP-ENV:Value></SOAP-ENV:Subcode></SOAP-ENV:Code><SOAP-ENV:Reason><SOAP-ENV:Text xml:lang="en">{reason}</SOAP-ENV:Text></SOAP-ENV:Reason></SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>"#
            );
            HttpResponse {
                status,
                headers: vec![],
                body: Bytes::from(body),
            }
        }
        fn ok(payload: &str) -> HttpResponse {
            let body = format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body>{payload}</env:Body></env:Envelope>"#
            );
            HttpResponse {
                status: 200,
                headers: vec![],
                body: Bytes::from(body),
            }
        }
        fn date_time_reply(&self) -> HttpResponse {
            let t = self.now();
            let utc = if self.utc_in_reply {
                format!(
                    "<tt:UTCDateTime><tt:Time><tt:Hour>{}</tt:Hour><tt:Minute>{}</tt:Minute><tt:Second>{}</tt:Second></tt:Time><tt:Date><tt:Year>{}</tt:Year><tt:Month>{}</tt:Month><tt:Day>{}</tt:Day></tt:Date></tt:UTCDateTime>",
                    t.hour(), t.minute(), t.second(), t.year(), u8::from(t.month()), t.day()
                )
            } else {
                String::new()
            };
            let mut r = Self::ok(&format!(
                r#"<tds:GetSystemDateAndTimeResponse xmlns:tds="http://www.onvif.org/ver10/device/wsdl" xmlns:tt="http://www.onvif.org/ver10/schema"><tds:SystemDateAndTime><tt:DateTimeType>Manual</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings>{utc}</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>"#
            ));
            let date = t
                .format(&time::format_description::well_known::Rfc2822)
                .unwrap();
            r.headers
                .push(("date".into(), date.replace("+0000", "GMT")));
            r
        }
        fn fail(&self) -> HttpResponse {
            *self.failures.lock().unwrap() += 1;
            match self.scheme {
                Scheme::Digest { .. } => HttpResponse {
                    status: 401,
                    headers: self.challenges(false),
                    body: Bytes::new(),
                },
                Scheme::Token => Self::fault(400, "NotAuthorized", "Sender not authorized"),
            }
        }
        fn answer(&self, req: &HttpRequest) -> HttpResponse {
            let body = std::str::from_utf8(&req.body).unwrap().to_owned();
            let doc = roxmltree::Document::parse(&body).unwrap();
            if body.contains("GetSystemDateAndTime") {
                return self.date_time_reply();
            }
            if *self.failures.lock().unwrap() >= 5 {
                let mut r = Self::fault(403, "NotAuthorized", "Account locked out");
                r.status = 403;
                return r;
            }
            let auth = req
                .headers
                .iter()
                .find(|(n, _)| n == "authorization")
                .map(|(_, v)| v.clone());
            let token = doc
                .descendants()
                .find(|n| n.has_tag_name((crate::ns::WSSE, "UsernameToken")));
            assert!(
                !(auth.is_some() && token.is_some()),
                "never both schemes in one request"
            );
            let granted = || {
                Self::ok(
                    r#"<tds:GetHostnameResponse xmlns:tds="http://www.onvif.org/ver10/device/wsdl"><tds:HostnameInformation><tt:FromDHCP xmlns:tt="http://www.onvif.org/ver10/schema">false</tt:FromDHCP></tds:HostnameInformation></tds:GetHostnameResponse>"#,
                )
            };
            match self.scheme {
                Scheme::Digest { .. } => {
                    let Some(auth) = auth else {
                        return HttpResponse {
                            status: 401,
                            headers: self.challenges(false),
                            body: Bytes::new(),
                        };
                    };
                    let hdr =
                        digest_auth::AuthorizationHeader::parse(auth.trim_start_matches("Digest "))
                            .unwrap();
                    if hdr.nonce != *self.nonce.lock().unwrap() {
                        return HttpResponse {
                            status: 401,
                            headers: self.challenges(true),
                            body: Bytes::new(),
                        };
                    }
                    let ctx = digest_auth::AuthContext::new_with_method(
                        hdr.username.clone(),
                        self.password,
                        hdr.uri.clone(),
                        Option::<&[u8]>::None,
                        digest_auth::HttpMethod::POST,
                    );
                    let mut expect = hdr.clone();
                    expect.digest(&ctx);
                    if expect.response == hdr.response && hdr.uri == "/onvif/device_service" {
                        granted()
                    } else {
                        self.fail()
                    }
                }
                Scheme::Token => {
                    let Some(token) = token else {
                        return Self::fault(400, "NotAuthorized", "Sender not authorized");
                    };
                    let field = |ns: &str, l: &str| {
                        token
                            .descendants()
                            .find(|n| n.has_tag_name((ns, l)))
                            .and_then(|n| n.text())
                            .unwrap()
                            .to_owned()
                    };
                    use base64::Engine as _;
                    let nonce = base64::engine::general_purpose::STANDARD
                        .decode(field(crate::ns::WSSE, "Nonce"))
                        .unwrap();
                    let created = field(crate::ns::WSU, "Created");
                    let at = OffsetDateTime::parse(
                        &created,
                        &time::format_description::well_known::Rfc3339,
                    )
                    .unwrap();
                    let fresh = (at - self.now()).abs() <= time::Duration::seconds(5);
                    let right = crate::auth::password_digest(&nonce, &created, self.password)
                        == field(crate::ns::WSSE, "Password");
                    if fresh && right {
                        granted()
                    } else {
                        self.fail()
                    }
                }
            }
        }
    }

    impl Transport for FakeCamera {
        async fn post(&self, req: HttpRequest) -> Result<HttpResponse, TransportError> {
            let resp = self.answer(&req);
            self.requests.lock().unwrap().push(req);
            Ok(resp)
        }
    }

    type Fixture = (
        Camera<Arc<RecordingTransport<FakeCamera>>>,
        Arc<RecordingTransport<FakeCamera>>,
        Arc<TestClock>,
    );

    fn fixture(scheme: Scheme, password: &str, tune: impl FnOnce(&mut FakeCamera)) -> Fixture {
        let laptop = Arc::new(TestClock(Mutex::new(
            time::macros::datetime!(2026-11-22 15:00:00 UTC),
        )));
        let mut fake = FakeCamera::new(scheme, laptop.clone());
        tune(&mut fake);
        let wire = Arc::new(RecordingTransport::new(fake));
        let cam = Camera::new(
            wire.clone(),
            "http://127.0.0.1:8080/onvif/device_service",
            laptop.clone(),
        )
        .unwrap();
        cam.set_credentials(Some(Credentials::new("admin", password)), AuthMode::Auto);
        (cam, wire, laptop)
    }

    const GET_HOSTNAME: &str =
        r#"<tds:GetHostname xmlns:tds="http://www.onvif.org/ver10/device/wsdl"/>"#;

    async fn get_hostname<T: Transport>(cam: &Camera<T>) -> Result<Reply, OnvifError> {
        cam.call(Service::Device, "GetHostname", GET_HOSTNAME, false)
            .await
    }

    fn auth_headers(wire: &RecordingTransport<FakeCamera>) -> Vec<Option<String>> {
        wire.inner()
            .requests
            .lock()
            .unwrap()
            .iter()
            .map(|r| {
                r.headers
                    .iter()
                    .find(|(n, _)| n == "authorization")
                    .map(|(_, v)| v.clone())
            })
            .collect()
    }

    #[tokio::test]
    async fn digest_md5_then_remembered_with_next_nc() {
        let (cam, wire, _) = fixture(
            Scheme::Digest {
                md5: true,
                sha256: false,
            },
            "right",
            |_| {},
        );
        let reply = get_hostname(&cam).await.unwrap();
        assert!(reply.text().contains("GetHostnameResponse"));
        assert_eq!(cam.working_auth(), Some(AuthMode::Digest));
        get_hostname(&cam).await.unwrap();
        let auth = auth_headers(&wire);
        assert_eq!(auth.len(), 3, "challenge round trip once, then direct");
        assert!(auth[0].is_none());
        assert!(auth[1].as_deref().unwrap().contains("nc=00000001"));
        assert!(auth[1].as_deref().unwrap().contains("algorithm=MD5"));
        assert!(auth[2].as_deref().unwrap().contains("nc=00000002"));
        assert!(auth[2].as_deref().unwrap().contains("opaque=\"op\""));
        // Every request is one SOAP 1.2 envelope with the action in the content type.
        let first = &wire.inner().requests.lock().unwrap()[0];
        assert!(first.headers.iter().any(|(n, v)| n == "content-type"
            && v.ends_with("action=\"http://www.onvif.org/ver10/device/wsdl/GetHostname\"")));
        for ex in wire.exchanges() {
            crate::test_support::assert_schema_valid(&ex.request);
        }
    }

    #[tokio::test]
    async fn digest_sha256_is_preferred_when_both_are_offered() {
        let (cam, wire, _) = fixture(
            Scheme::Digest {
                md5: true,
                sha256: true,
            },
            "right",
            |_| {},
        );
        get_hostname(&cam).await.unwrap();
        let auth = auth_headers(&wire);
        assert!(auth[1].as_deref().unwrap().contains("algorithm=SHA-256"));
    }

    #[tokio::test]
    async fn stale_nonce_is_answered_again_once() {
        let (cam, wire, _) = fixture(
            Scheme::Digest {
                md5: false,
                sha256: true,
            },
            "right",
            |_| {},
        );
        get_hostname(&cam).await.unwrap();
        *wire.inner().nonce.lock().unwrap() = "nonce-2".into();
        get_hostname(&cam).await.unwrap();
        let auth = auth_headers(&wire);
        assert_eq!(auth.len(), 4);
        assert!(auth[2].as_deref().unwrap().contains("nonce=\"nonce-1\""));
        assert!(auth[3].as_deref().unwrap().contains("nonce=\"nonce-2\""));
        assert!(auth[3].as_deref().unwrap().contains("nc=00000001"));
        assert_eq!(*wire.inner().failures.lock().unwrap(), 0);
    }

    #[tokio::test]
    async fn wrong_password_costs_one_attempt_per_call_with_digest() {
        let (cam, wire, _) = fixture(
            Scheme::Digest {
                md5: true,
                sha256: false,
            },
            "wrong",
            |_| {},
        );
        let err = get_hostname(&cam).await.unwrap_err();
        assert!(
            matches!(err, OnvifError::Refused(DeviceRefusal::NotAuthorized)),
            "{err:?}"
        );
        assert_eq!(*wire.inner().failures.lock().unwrap(), 1);
        assert_eq!(
            wire.exchanges().len(),
            2,
            "no UsernameToken retry after a refused digest"
        );
        assert_eq!(cam.working_auth(), None);
    }

    #[tokio::test]
    async fn remembered_digest_then_password_changed_costs_one_attempt() {
        let (cam, wire, _) = fixture(
            Scheme::Digest {
                md5: true,
                sha256: false,
            },
            "right",
            |_| {},
        );
        get_hostname(&cam).await.unwrap();
        wire.inner().requests.lock().unwrap().clear();
        // The remembered challenge survives a credentials change only within set_credentials'
        // reset; simulate the camera's password changing underneath instead.
        let mut state = lock(&cam.state).clone();
        cam.set_credentials(Some(Credentials::new("admin", "wrong")), AuthMode::Auto);
        if let AuthState::Digest(_) = &mut state {
            *lock(&cam.state) = state;
        }
        let err = get_hostname(&cam).await.unwrap_err();
        assert!(
            matches!(err, OnvifError::Refused(DeviceRefusal::NotAuthorized)),
            "{err:?}"
        );
        assert_eq!(*wire.inner().failures.lock().unwrap(), 1);
        assert_eq!(wire.inner().requests.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn username_token_fallback_with_two_hours_skew_and_remembered() {
        let (cam, wire, _) = fixture(Scheme::Token, "right", |f| {
            *f.skew.get_mut().unwrap() = time::Duration::hours(2);
        });
        get_hostname(&cam).await.unwrap();
        assert_eq!(cam.working_auth(), Some(AuthMode::UsernameToken));
        assert_eq!(cam.clock_offset(), Some(time::Duration::hours(2)));
        let n = wire.exchanges().len();
        assert_eq!(n, 3, "plain, GetSystemDateAndTime, token");
        get_hostname(&cam).await.unwrap();
        assert_eq!(
            wire.exchanges().len(),
            n + 1,
            "token sent directly next time"
        );
        let last = wire.exchanges().pop().unwrap();
        assert!(
            last.request
                .contains("<wsu:Created>2026-11-22T17:00:00Z</wsu:Created>"),
            "{}",
            last.request
        );
        assert!(auth_headers(&wire).iter().all(Option::is_none));
        for ex in wire.exchanges() {
            crate::test_support::assert_schema_valid(&ex.request);
        }
    }

    #[tokio::test]
    async fn wrong_password_with_token_costs_one_attempt() {
        let (cam, wire, _) = fixture(Scheme::Token, "wrong", |_| {});
        cam.sync_clock().await.unwrap();
        let err = get_hostname(&cam).await.unwrap_err();
        assert!(
            matches!(err, OnvifError::Refused(DeviceRefusal::NotAuthorized)),
            "{err:?}"
        );
        assert_eq!(*wire.inner().failures.lock().unwrap(), 1);
    }

    #[tokio::test]
    async fn camera_clock_change_is_resynced_once() {
        let (cam, wire, _) = fixture(Scheme::Token, "right", |_| {});
        get_hostname(&cam).await.unwrap();
        *wire.inner().skew.lock().unwrap() = time::Duration::minutes(-30);
        get_hostname(&cam).await.unwrap();
        assert_eq!(cam.clock_offset(), Some(time::Duration::minutes(-30)));
        assert_eq!(*wire.inner().failures.lock().unwrap(), 1);
    }

    #[tokio::test]
    async fn lock_out_is_reported_as_such() {
        let (cam, wire, _) = fixture(
            Scheme::Digest {
                md5: true,
                sha256: false,
            },
            "wrong",
            |_| {},
        );
        for _ in 0..5 {
            let e = get_hostname(&cam).await.unwrap_err();
            assert!(matches!(
                e,
                OnvifError::Refused(DeviceRefusal::NotAuthorized)
            ));
        }
        assert_eq!(*wire.inner().failures.lock().unwrap(), 5);
        let e = get_hostname(&cam).await.unwrap_err();
        assert!(
            matches!(e, OnvifError::Refused(DeviceRefusal::LockedOut)),
            "{e:?}"
        );
        assert_eq!(e.code(), "locked_out");
    }

    #[tokio::test]
    async fn clock_falls_back_to_the_date_header() {
        let (cam, _, _) = fixture(Scheme::Token, "right", |f| {
            f.utc_in_reply = false;
            *f.skew.get_mut().unwrap() = time::Duration::hours(-2);
        });
        assert_eq!(cam.sync_clock().await.unwrap(), time::Duration::hours(-2));
    }

    #[tokio::test]
    async fn pre_auth_and_anonymous_send_no_credentials() {
        let (cam, wire, _) = fixture(
            Scheme::Digest {
                md5: true,
                sha256: false,
            },
            "right",
            |_| {},
        );
        let e = cam
            .call(Service::Device, "GetHostname", GET_HOSTNAME, true)
            .await
            .unwrap_err();
        assert!(matches!(
            e,
            OnvifError::Refused(DeviceRefusal::NotAuthorized)
        ));
        assert_eq!(auth_headers(&wire), vec![None]);
        assert!(!format!("{cam:?}").contains("right"));
    }

    #[test]
    fn bad_urls_are_refused() {
        let clock: Arc<dyn Clock> = Arc::new(crate::clock::SystemClock);
        let e = Camera::new(
            crate::transport::RecordingTransport::new(FakeCamera::new(
                Scheme::Token,
                Arc::new(TestClock(Mutex::new(OffsetDateTime::UNIX_EPOCH))),
            )),
            "not a url",
            clock,
        )
        .unwrap_err();
        assert_eq!(e.code(), "invalid_url");
    }
}
