//! SOAP faults camsim answers with (ONVIF Core §5.11.2 "Specific faults").

/// A SOAP 1.2 fault to send: `env:Sender`/`env:Receiver`, a chain of `ter:` subcodes, a reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimFault {
    /// True for `env:Receiver`, false for `env:Sender`.
    pub receiver: bool,
    /// Subcodes, outermost first, local names in the `ter:` namespace (e.g. `["InvalidArgVal", "NoProfile"]`).
    pub subcodes: Vec<&'static str>,
    /// Human-readable reason.
    pub reason: String,
    /// HTTP status to send with it (400 for Sender faults, 500 for Receiver faults, per SOAP 1.2 HTTP binding).
    pub http_status: u16,
}

impl SimFault {
    /// A Sender fault with `ter:` subcodes.
    pub fn sender(subcodes: &[&'static str], reason: impl Into<String>) -> Self {
        Self {
            receiver: false,
            subcodes: subcodes.to_vec(),
            reason: reason.into(),
            http_status: 400,
        }
    }
    /// A Receiver fault with `ter:` subcodes.
    pub fn receiver(subcodes: &[&'static str], reason: impl Into<String>) -> Self {
        Self {
            receiver: true,
            subcodes: subcodes.to_vec(),
            reason: reason.into(),
            http_status: 500,
        }
    }
    /// `env:Sender/ter:NotAuthorized`.
    pub fn not_authorized() -> Self {
        Self::sender(&["NotAuthorized"], "Sender not Authorized")
    }
    /// `env:Receiver/ter:ActionNotSupported`.
    pub fn action_not_supported() -> Self {
        Self::receiver(&["ActionNotSupported"], "Optional Action Not Implemented")
    }
    /// `env:Sender/ter:InvalidArgVal/ter:{sub}`.
    pub fn invalid_arg(sub: &'static str, reason: impl Into<String>) -> Self {
        Self::sender(&["InvalidArgVal", sub], reason)
    }
}
