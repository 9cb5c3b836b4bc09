//! The HTTPS listener's certificate: whatever the keystore has assigned, swapped live.

use std::sync::{Arc, RwLock};

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::security::ServerIdentity;

/// Holds the identity the HTTPS listener presents; implements rustls' certificate resolver so a new
/// assignment takes effect on the next handshake. With nothing assigned, handshakes fail.
#[derive(Default)]
pub struct CertSlot {
    current: RwLock<Option<Arc<CertifiedKey>>>,
}

impl std::fmt::Debug for CertSlot {
    // The private key must not reach a log line, so only whether a certificate is set is shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = self.current.read().map(|c| c.is_some()).unwrap_or(false);
        f.debug_struct("CertSlot").field("set", &set).finish()
    }
}

impl CertSlot {
    /// Replaces (or clears, with `None`) the served identity.
    ///
    /// An identity whose key rustls cannot use (not RSA/ECDSA/Ed25519 PKCS#8) clears the slot, so
    /// handshakes fail visibly instead of serving a stale certificate; the reason is logged.
    pub fn set(&self, identity: Option<ServerIdentity>) {
        let next = identity.and_then(|identity| match certified_key(identity) {
            Ok(key) => Some(Arc::new(key)),
            Err(e) => {
                tracing::warn!(error = %e, "assigned server identity is unusable for TLS");
                None
            }
        });
        match self.current.write() {
            Ok(mut current) => *current = next,
            // A writer panicked mid-update; the value is a plain Option, so overwriting it is safe.
            Err(poisoned) => *poisoned.into_inner() = next,
        }
    }
}

fn certified_key(identity: ServerIdentity) -> Result<CertifiedKey, rustls::Error> {
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(identity.key_pkcs8_der));
    let signing_key = rustls::crypto::ring::sign::any_supported_type(&key)?;
    let chain = identity
        .chain_der
        .into_iter()
        .map(CertificateDer::from)
        .collect();
    Ok(CertifiedKey::new(chain, signing_key))
}

impl ResolvesServerCert for CertSlot {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        match self.current.read() {
            Ok(current) => current.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

/// A TLS acceptor that resolves its certificate from `slot` at every handshake.
pub fn acceptor(slot: Arc<CertSlot>) -> tokio_rustls::TlsAcceptor {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .expect("the ring provider supports TLS 1.2 and 1.3")
        .with_no_client_auth()
        .with_cert_resolver(slot);
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}
