//! Errors of a conversation with a camera.
//!
//! The split that matters to the rest of Camward (ARCHITECTURE.md, "The camera said no is not we
//! could not talk to it"): a [`DeviceRefusal`] means the camera answered and said no (SOAP fault,
//! 401, lock-out, unsupported); a [`TransportError`] means no usable answer came (timeout, reset, TLS,
//! malformed or oversized reply). Only the second is worth a retry.

use std::fmt;

/// A qualified name as it appears in a SOAP fault code, e.g. `ter:NotAuthorized`, kept with the
/// namespace URI it resolved to so callers can match without caring about prefixes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct QName {
    /// Namespace URI the prefix resolved to (empty when unqualified or unresolvable).
    pub ns: String,
    /// Local part.
    pub local: String,
}

impl QName {
    /// Builds a name from a namespace URI and a local part.
    pub fn new(ns: &str, local: &str) -> Self {
        Self {
            ns: ns.to_owned(),
            local: local.to_owned(),
        }
    }

    /// True when this is the ONVIF error code `ter:{local}`.
    pub fn is_ter(&self, local: &str) -> bool {
        self.ns == crate::ns::TER && self.local == local
    }
}

impl fmt::Display for QName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = match self.ns.as_str() {
            crate::ns::TER => "ter:",
            crate::ns::SOAP_ENV => "env:",
            "" => "",
            _ => "",
        };
        write!(f, "{prefix}{}", self.local)
    }
}

/// A SOAP 1.2 fault (SOAP 1.2 Part 1, §5.4): code, the chain of subcodes, and the reason text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SoapFault {
    /// `env:Sender` or `env:Receiver` (or another env code).
    pub code: QName,
    /// Subcodes from outermost to innermost, e.g. `[ter:InvalidArgVal, ter:NoProfile]`.
    pub subcodes: Vec<QName>,
    /// The first `env:Reason/env:Text`, if any.
    pub reason: String,
}

impl SoapFault {
    /// True when any subcode in the chain is `ter:{local}`.
    pub fn has_subcode(&self, local: &str) -> bool {
        self.subcodes.iter().any(|q| q.is_ter(local))
    }
}

impl fmt::Display for SoapFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code)?;
        for s in &self.subcodes {
            write!(f, "/{s}")?;
        }
        if !self.reason.is_empty() {
            write!(f, ": {}", self.reason)?;
        }
        Ok(())
    }
}

/// The camera answered and refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DeviceRefusal {
    /// Credentials were rejected (HTTP 401 after our answer to the challenge, or `ter:NotAuthorized`).
    #[error("the camera rejected the credentials")]
    NotAuthorized,
    /// The camera refuses every login for a while after too many failures.
    #[error("the camera has locked out logins after repeated failures")]
    LockedOut,
    /// The operation or service is not implemented by this camera (`ter:ActionNotSupported`, HTTP 404/405).
    #[error("the camera does not support this operation")]
    NotSupported,
    /// Any other SOAP fault.
    #[error("the camera returned a SOAP fault: {0}")]
    Fault(SoapFault),
    /// An HTTP error status without a SOAP fault body.
    #[error("the camera answered HTTP {0}")]
    HttpStatus(u16),
}

/// No usable answer came back.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// Connect or request timeout.
    #[error("timed out")]
    Timeout,
    /// Could not connect (refused, unreachable, DNS).
    #[error("could not connect: {0}")]
    Connect(String),
    /// The connection broke before a reply head arrived (reset, closed).
    #[error("connection broken: {0}")]
    Broken(String),
    /// The reply head arrived but the body was cut short (connection closed or reset mid-body,
    /// or fewer bytes than its Content-Length).
    #[error("reply cut short after {received} bytes of its body: {message}")]
    Truncated {
        /// Body bytes that did arrive.
        received: usize,
        /// What the connection reported.
        message: String,
    },
    /// TLS failed: unknown issuer, pin mismatch, handshake error.
    #[error("TLS failure: {0}")]
    Tls(String),
    /// The reply body exceeded the size cap.
    #[error("reply larger than the {limit}-byte cap")]
    ResponseTooLarge {
        /// The cap that was exceeded, in bytes.
        limit: usize,
    },
    /// The reply was not well-formed XML or not a SOAP envelope we can read.
    #[error("malformed reply: {0}")]
    Malformed(String),
    /// The URL could not be used.
    #[error("invalid URL: {0}")]
    InvalidUrl(String),
}

/// Every failure of an ONVIF call.
#[derive(Debug, thiserror::Error)]
pub enum OnvifError {
    /// The camera answered and said no.
    #[error(transparent)]
    Refused(#[from] DeviceRefusal),
    /// We could not talk to it.
    #[error(transparent)]
    Transport(#[from] TransportError),
}

impl OnvifError {
    /// Stable machine-readable code for the UI and CLI (never switch on message text).
    pub fn code(&self) -> &'static str {
        match self {
            OnvifError::Refused(DeviceRefusal::NotAuthorized) => "not_authorized",
            OnvifError::Refused(DeviceRefusal::LockedOut) => "locked_out",
            OnvifError::Refused(DeviceRefusal::NotSupported) => "not_supported",
            OnvifError::Refused(DeviceRefusal::Fault(_)) => "device_fault",
            OnvifError::Refused(DeviceRefusal::HttpStatus(_)) => "http_status",
            OnvifError::Transport(TransportError::Timeout) => "timeout",
            OnvifError::Transport(TransportError::Connect(_)) => "unreachable",
            OnvifError::Transport(TransportError::Broken(_)) => "connection_broken",
            OnvifError::Transport(TransportError::Truncated { .. }) => "reply_truncated",
            OnvifError::Transport(TransportError::Tls(_)) => "tls",
            OnvifError::Transport(TransportError::ResponseTooLarge { .. }) => "response_too_large",
            OnvifError::Transport(TransportError::Malformed(_)) => "malformed_reply",
            OnvifError::Transport(TransportError::InvalidUrl(_)) => "invalid_url",
        }
    }

    /// True for failures where trying again may help (transport only, never a refusal).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            OnvifError::Transport(
                TransportError::Timeout
                    | TransportError::Connect(_)
                    | TransportError::Broken(_)
                    | TransportError::Truncated { .. }
            )
        )
    }
}

/// Shorthand for a malformed-reply error.
pub(crate) fn malformed(msg: impl Into<String>) -> OnvifError {
    OnvifError::Transport(TransportError::Malformed(msg.into()))
}
