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
