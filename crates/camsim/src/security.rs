//! Advanced Security keystore (advancedsecurity.wsdl): real RSA keys, real PKCS#10 CSRs, certificates,
//! certification paths and the server certificate assignment that the HTTPS listener serves.
//!
//! INTERFACE CONTRACT (fixed signatures; bodies by the security helper).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::access::AccessClass;
use crate::fault::SimFault;

/// The camera's keystore. Persisted with the rest of the camera state.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Keystore {}

/// The certificate chain and private key the HTTPS listener should present.
#[derive(Clone)]
pub struct ServerIdentity {
    /// Certificate chain, leaf first, DER.
    pub chain_der: Vec<Vec<u8>>,
    /// The leaf's private key, PKCS#8 DER.
    pub key_pkcs8_der: Vec<u8>,
}

impl std::fmt::Debug for ServerIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerIdentity").field("certs", &self.chain_der.len()).finish_non_exhaustive()
    }
}

impl Keystore {
    /// What the HTTPS listener should serve now, if a certification path is assigned.
    pub fn assigned_server_identity(&self) -> Option<ServerIdentity> {
        todo!("security helper")
    }
}

/// Access class of an Advanced Security operation by local name; `None` if unknown.
pub fn access_class(op: &str) -> Option<AccessClass> {
    let _ = op;
    todo!("security helper")
}

/// Handles one Advanced Security request. `payload` is the body's first element; the return value is
/// the response payload element, serialized, declaring its own namespaces. `now` is the camera's clock.
/// May take a while (RSA key generation): callers run it off the async executor.
pub fn handle(
    keystore: &mut Keystore,
    op: &str,
    payload: roxmltree::Node<'_, '_>,
    now: OffsetDateTime,
) -> Result<String, SimFault> {
    let _ = (keystore, op, payload, now);
    todo!("security helper")
}
