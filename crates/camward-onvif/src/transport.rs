//! One HTTP POST, behind a trait so tests can record or swap the wire.
//!
//! The real implementation, [`ReqwestTransport`], uses a client from [`crate::http`]; it enforces
//! the response size cap while streaming, so a hostile camera cannot make us buffer gigabytes.

use std::future::Future;

use bytes::Bytes;

use crate::error::TransportError;

/// An HTTP request as the ONVIF layer sees it.
#[derive(Clone, Debug)]
pub struct HttpRequest {
    /// Absolute URL.
    pub url: String,
    /// Header name/value pairs (names lower-case). Never logged: they can carry credentials.
    pub headers: Vec<(String, String)>,
    /// Request body.
    pub body: Vec<u8>,
}

/// An HTTP response as the ONVIF layer sees it.
#[derive(Clone, Debug)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Header name/value pairs (names lower-case), repeated headers kept in order.
    pub headers: Vec<(String, String)>,
    /// Body, at most the configured cap.
    pub body: Bytes,
}

impl HttpResponse {
    /// All values of a header, case-insensitively, in the order received.
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends one HTTP POST and returns the whole (capped) response.
pub trait Transport: Send + Sync + 'static {
    /// Performs the request.
    fn post(
        &self,
        req: HttpRequest,
    ) -> impl Future<Output = Result<HttpResponse, TransportError>> + Send;
}

pub use crate::http::ReqwestTransport;

impl<T: Transport> Transport for std::sync::Arc<T> {
    fn post(
        &self,
        req: HttpRequest,
    ) -> impl Future<Output = Result<HttpResponse, TransportError>> + Send {
        T::post(self, req)
    }
}

/// One request/response pair seen by a [`RecordingTransport`]. Bodies are kept as text; headers
/// are not kept, since they can carry credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exchange {
    /// Request URL.
    pub url: String,
    /// Request body (a SOAP envelope).
    pub request: String,
    /// Response status, `None` when the transport failed.
    pub status: Option<u16>,
    /// Response body, empty when the transport failed.
    pub response: String,
}

/// Wraps a transport and keeps every exchange, so tests can schema-validate all that was sent and
/// received.
#[derive(Debug, Default)]
pub struct RecordingTransport<T> {
    inner: T,
    exchanges: std::sync::Mutex<Vec<Exchange>>,
}

impl<T> RecordingTransport<T> {
    /// Wraps `inner`.
    pub fn new(inner: T) -> Self {
        Self {
            inner,
            exchanges: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// A copy of every exchange so far, oldest first.
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.exchanges
            .lock()
            .map(|v| v.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    /// The wrapped transport.
    pub fn inner(&self) -> &T {
        &self.inner
    }
}

impl<T: Transport> Transport for RecordingTransport<T> {
    async fn post(&self, req: HttpRequest) -> Result<HttpResponse, TransportError> {
        let url = req.url.clone();
        let request = String::from_utf8_lossy(&req.body).into_owned();
        let result = self.inner.post(req).await;
        let (status, response) = match &result {
            Ok(r) => (
                Some(r.status),
                String::from_utf8_lossy(&r.body).into_owned(),
            ),
            Err(_) => (None, String::new()),
        };
        let ex = Exchange {
            url,
            request,
            status,
            response,
        };
        match self.exchanges.lock() {
            Ok(mut v) => v.push(ex),
            Err(p) => p.into_inner().push(ex),
        }
        result
    }
}
