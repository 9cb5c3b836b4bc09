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

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    use tokio::net::{TcpListener, TcpStream};

    fn identity_signed_by(
        issuer: &Issuer<'_, KeyPair>,
        ca_der: &[u8],
        name: &str,
    ) -> ServerIdentity {
        let key = KeyPair::generate().expect("ECDSA key");
        let mut params = CertificateParams::new(vec!["camera.local".to_string()]).expect("SAN");
        params.distinguished_name.push(DnType::CommonName, name);
        let cert = params.signed_by(&key, issuer).expect("leaf");
        ServerIdentity {
            chain_der: vec![cert.der().to_vec(), ca_der.to_vec()],
            key_pkcs8_der: key.serialize_der(),
        }
    }

    /// Connects to `addr` trusting only `ca_der`; returns the leaf certificate the server presented.
    async fn handshake(
        addr: std::net::SocketAddr,
        ca_der: &[u8],
    ) -> Result<Vec<u8>, std::io::Error> {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from(ca_der.to_vec()))
            .expect("CA is a valid trust anchor");
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("ring supports the defaults")
        .with_root_certificates(roots)
        .with_no_client_auth();
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let tcp = TcpStream::connect(addr).await?;
        let name = rustls_pki_types::ServerName::try_from("camera.local").expect("valid name");
        let stream = connector.connect(name, tcp).await?;
        let leaf = stream
            .get_ref()
            .1
            .peer_certificates()
            .and_then(|c| c.first())
            .expect("server sent a chain");
        Ok(leaf.to_vec())
    }

    #[tokio::test]
    async fn handshakes_see_exactly_the_assigned_certificate_and_follow_swaps() {
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca_params = CertificateParams::default();
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "Camward Test CA");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_der = ca_params.self_signed(&ca_key).expect("CA").der().to_vec();
        let issuer = Issuer::new(ca_params, ca_key);
        let first = identity_signed_by(&issuer, &ca_der, "first");
        let second = identity_signed_by(&issuer, &ca_der, "second");

        let slot = Arc::new(CertSlot::default());
        let tls = acceptor(slot.clone());
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let server = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let tls = tls.clone();
                tokio::spawn(async move {
                    // Failed handshakes are the expected outcome while the slot is empty.
                    let _ = tls.accept(tcp).await;
                });
            }
        });

        assert!(
            handshake(addr, &ca_der).await.is_err(),
            "no certificate assigned: handshake must fail"
        );
        slot.set(Some(first.clone()));
        assert_eq!(
            handshake(addr, &ca_der).await.expect("handshake"),
            first.chain_der[0]
        );
        slot.set(None);
        assert!(
            handshake(addr, &ca_der).await.is_err(),
            "cleared slot: handshake must fail"
        );
        slot.set(Some(second.clone()));
        assert_eq!(
            handshake(addr, &ca_der).await.expect("handshake"),
            second.chain_der[0]
        );
        assert!(
            !format!("{slot:?}").contains("key"),
            "Debug must not show key material"
        );
        server.abort();
    }

    #[tokio::test]
    async fn keystore_rsa_identity_is_servable() {
        // The keystore keeps RSA keys as rsa-crate PKCS#8; ring must accept that encoding.
        use rsa::pkcs8::EncodePrivateKey as _;
        let rsa_key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).expect("RSA key");
        let der = rsa_key.to_pkcs8_der().expect("PKCS#8").as_bytes().to_vec();
        let key =
            KeyPair::from_pkcs8_der_and_sign_algo(&der.as_slice().into(), &rcgen::PKCS_RSA_SHA256)
                .expect("rcgen loads it");
        let cert = CertificateParams::new(vec!["camera.local".to_string()])
            .expect("SAN")
            .self_signed(&key)
            .expect("cert");
        let identity = ServerIdentity {
            chain_der: vec![cert.der().to_vec()],
            key_pkcs8_der: der,
        };
        let slot = CertSlot::default();
        slot.set(Some(identity));
        assert!(
            slot.current.read().expect("not poisoned").is_some(),
            "ring accepted the RSA key"
        );
    }
}
