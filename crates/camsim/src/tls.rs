//! The HTTPS listener's certificate: whatever the keystore has assigned, swapped live.
//!
//! INTERFACE CONTRACT (fixed signatures; bodies by the security helper).

use std::sync::Arc;

use crate::security::ServerIdentity;

/// Holds the identity the HTTPS listener presents; implements rustls' certificate resolver so a new
/// assignment takes effect on the next handshake. With nothing assigned, handshakes fail.
#[derive(Debug, Default)]
pub struct CertSlot {}

impl CertSlot {
    /// Replaces (or clears, with `None`) the served identity.
    pub fn set(&self, identity: Option<ServerIdentity>) {
        let _ = identity;
        todo!("security helper")
    }
}

/// A TLS acceptor that resolves its certificate from `slot` at every handshake.
pub fn acceptor(slot: Arc<CertSlot>) -> tokio_rustls::TlsAcceptor {
    let _ = slot;
    todo!("security helper")
}
