//! Failures of vendor API calls.
use camward_onvif::TransportError;

/// The camera answered and refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VendorRefusal {
    /// The credentials were rejected.
    #[error("the camera rejected the credentials")]
    NotAuthorized,
    /// The camera blocks logins from this address after repeated failures.
    #[error("the camera has locked out logins from this address after repeated failures")]
    LockedOut,
    /// The camera already has its administrator (Axis root password set, Hikvision activated).
    #[error("the camera already has an administrator")]
    AlreadyConfigured,
    /// The camera does not offer this API (HTTP 404).
    #[error("the camera does not offer this API")]
    NotSupported,
    /// The camera refused the password under its password rules.
    #[error("the camera refused the password under its password rules")]
    WeakPassword,
    /// Any other refusal: HTTP status and the vendor's status text (never a secret).
    #[error("the camera refused the request: HTTP {status} {reason}")]
    Rejected {
        /// HTTP status.
        status: u16,
        /// The vendor's short status (ISAPI `subStatusCode`, VAPIX error line).
        reason: String,
    },
}

/// Every failure of a vendor API call.
#[derive(Debug, thiserror::Error)]
pub enum VendorError {
    /// The camera answered and said no.
    #[error(transparent)]
    Refused(#[from] VendorRefusal),
    /// We could not talk to it, or could not read what it said.
    #[error(transparent)]
    Transport(#[from] TransportError),
}

impl VendorError {
    /// Stable machine-readable code for the UI and CLI; shared with the ONVIF codes where the
    /// meaning is the same.
    pub fn code(&self) -> &'static str {
        match self {
            VendorError::Refused(VendorRefusal::NotAuthorized) => "not_authorized",
            VendorError::Refused(VendorRefusal::LockedOut) => "locked_out",
            VendorError::Refused(VendorRefusal::AlreadyConfigured) => "already_configured",
            VendorError::Refused(VendorRefusal::NotSupported) => "not_supported",
            VendorError::Refused(VendorRefusal::WeakPassword) => "weak_password",
            VendorError::Refused(VendorRefusal::Rejected { .. }) => "device_refused",
            VendorError::Transport(TransportError::Timeout) => "timeout",
            VendorError::Transport(TransportError::Connect(_)) => "unreachable",
            VendorError::Transport(TransportError::Broken(_)) => "connection_broken",
            VendorError::Transport(TransportError::Truncated { .. }) => "reply_truncated",
            VendorError::Transport(TransportError::Tls(_)) => "tls",
            VendorError::Transport(TransportError::ResponseTooLarge { .. }) => "response_too_large",
            VendorError::Transport(TransportError::Malformed(_)) => "malformed_reply",
            VendorError::Transport(TransportError::InvalidUrl(_)) => "invalid_url",
        }
    }
}

/// Shorthand for an unreadable reply.
pub(crate) fn malformed(msg: impl Into<String>) -> VendorError {
    VendorError::Transport(TransportError::Malformed(msg.into()))
}
