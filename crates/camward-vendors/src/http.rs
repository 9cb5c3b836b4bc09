//! One camera's vendor API endpoint: plain requests, and requests answered with HTTP Digest
//! (RFC 7616) whose challenge is remembered so later requests reuse it with `nc + 1`.
use std::sync::{Mutex, MutexGuard};

use camward_onvif::auth::DigestChallenge;
use camward_onvif::http::{HttpConfig, ReqwestTransport};
use camward_onvif::transport::{HttpRequest, HttpResponse};
use camward_onvif::{Credentials, TransportError};

use crate::VendorError;

/// The vendor API of one camera, at `scheme://host:port`.
#[derive(Debug)]
pub struct VendorHttp {
    transport: ReqwestTransport,
    base: String,
    credentials: Option<Credentials>,
    challenge: Mutex<Option<DigestChallenge>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// `scheme://authority` of any camera URL (`http://10.0.0.5/onvif/device_service` →
/// `http://10.0.0.5`).
pub fn origin(url: &str) -> Result<String, VendorError> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| TransportError::InvalidUrl(format!("not a URL: {url}")))?;
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return Err(TransportError::InvalidUrl(format!("unsupported scheme {scheme:?}")).into());
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() {
        return Err(TransportError::InvalidUrl(format!("no host in {url}")).into());
    }
    Ok(format!("{}://{authority}", scheme.to_ascii_lowercase()))
}

impl VendorHttp {
    /// The vendor API of the camera at `url` (any URL of the camera; only its origin is kept),
    /// over the project's default HTTP client configuration.
    pub fn new(url: &str) -> Result<Self, VendorError> {
        Self::with_transport(ReqwestTransport::new(&HttpConfig::default())?, url)
    }

    /// Like [`VendorHttp::new`] with a given transport (for HTTPS trust settings).
    pub fn with_transport(transport: ReqwestTransport, url: &str) -> Result<Self, VendorError> {
        Ok(Self {
            transport,
            base: origin(url)?,
            credentials: None,
            challenge: Mutex::new(None),
        })
    }

    /// The same endpoint, logging in as `credentials`.
    pub fn login(&self, credentials: Credentials) -> Self {
        Self {
            transport: self.transport.clone(),
            base: self.base.clone(),
            credentials: Some(credentials),
            challenge: Mutex::new(None),
        }
    }

    /// `scheme://host:port`.
    pub fn origin(&self) -> &str {
        &self.base
    }

    /// Sends a request without credentials. `target` is the path and query.
    pub async fn send(
        &self,
        method: &str,
        target: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Result<HttpResponse, VendorError> {
        self.send_with(method, target, content_type, body, None)
            .await
    }

    async fn send_with(
        &self,
        method: &str,
        target: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
        authorization: Option<String>,
    ) -> Result<HttpResponse, VendorError> {
        let mut headers = Vec::new();
        if let Some(ct) = content_type {
            headers.push(("content-type".to_owned(), ct.to_owned()));
        }
        if let Some(a) = authorization {
            headers.push(("authorization".to_owned(), a));
        }
        let req = HttpRequest {
            url: format!("{}{target}", self.base),
            headers,
            body,
        };
        Ok(self.transport.request(method, req).await?)
    }

    /// Sends a request answered with HTTP Digest as the logged-in user. A remembered challenge is
    /// answered first; on 401 the fresh challenge is answered once (RFC 7616 §3.3). The final
    /// response is returned as is, so the vendor module can read its refusal.
    pub async fn send_authenticated(
        &self,
        method: &str,
        target: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Result<HttpResponse, VendorError> {
        let Some(credentials) = &self.credentials else {
            return self.send(method, target, content_type, body).await;
        };
        let first = {
            let mut slot = lock(&self.challenge);
            slot.as_mut()
                .and_then(|c| c.answer(credentials, method, target, None))
        };
        let response = self
            .send_with(method, target, content_type, body.clone(), first)
            .await?;
        if response.status != 401 {
            return Ok(response);
        }
        let Some(mut challenge) =
            DigestChallenge::choose(response.header_values("www-authenticate"))
        else {
            // A 401 without a Digest challenge (a lock-out answer): nothing to retry with.
            *lock(&self.challenge) = None;
            return Ok(response);
        };
        let answer = challenge.answer(credentials, method, target, None);
        *lock(&self.challenge) = Some(challenge);
        let Some(answer) = answer else {
            return Ok(response);
        };
        let retry = self
            .send_with(method, target, content_type, body, Some(answer))
            .await?;
        if retry.status == 401 {
            *lock(&self.challenge) = None;
        }
        Ok(retry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_keeps_scheme_and_authority() {
        assert_eq!(
            origin("http://127.0.0.1:8080/onvif/device_service").expect("valid"),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            origin("HTTPS://[::1]:443").expect("valid"),
            "https://[::1]:443"
        );
        assert!(origin("ftp://x/").is_err());
        assert!(origin("http:///x").is_err());
    }
}
