//! Advanced Security keystore (advancedsecurity.wsdl): real RSA keys, real PKCS#10 CSRs, certificates,
//! certification paths and the server certificate assignment that the HTTPS listener serves.
//!
//! Glossary (ONVIF Advanced Security Service Specification, §5.2 "Keystore", §5.3 "TLS server"):
//! - *key*: an RSA key pair generated on the camera (`CreateRSAKeyPair`), or a bare public key that
//!   arrived with an uploaded certificate whose private key the camera does not hold.
//! - *certificate*: an X.509 certificate in the keystore, always linked to the key of its subject
//!   public key (`KeyID`).
//! - *certification path*: an ordered list of certificates, leaf first, used as the TLS server chain.
//! - *server certificate assignment*: the certification path the HTTPS listener presents. camsim
//!   supports one at a time (`MaximumNumberOfTLSCertificationPaths="1"`), like most real firmware, so
//!   clients must use `ReplaceServerCertificateAssignment` to swap it.
//!
//! Fault subcodes follow the specification's per-operation fault tables where they are known:
//! `InvalidArgVal/KeyID`, `InvalidArgVal/CertificateID`, `InvalidArgVal/CertificationPathID`,
//! `InvalidArgVal/KeyLength`, `InvalidArgVal/BadCertificate`, `InvalidArgVal/NoMatchingPrivateKey`,
//! `Action/ReferenceExists` and `Action/MaximumNumberOfTLSCertificationPathsReached`. Where the
//! specification text was not at hand, descriptive names were chosen and are listed here so clients
//! can match on them: `InvalidArgVal/SignatureAlgorithmNotSupported`, `InvalidArgVal/InvalidDNFormat`,
//! `InvalidArgVal/CSRAttributeNotSupported`, `InvalidArgVal/InvalidCertificateChain`,
//! `InvalidArgVal/NoPrivateKey`, `InvalidArgVal/InvalidDateTime`; for PKCS#12 uploads
//! `InvalidArgVal/DecryptionFailed` (wrong passphrase), `InvalidArgVal/BadPKCS12`,
//! `InvalidArgVal/NoMatchingPrivateKey` and `InvalidArgVal/PassphraseID` (camsim keeps no
//! passphrases); for 802.1X `InvalidArgVal/Dot1XID`, `InvalidArgVal/Dot1XMethodNotSupported`,
//! `InvalidArgVal/CertPathValidationPolicyID`, `InvalidArgVal/InvalidNetworkInterface` and
//! `Action/MaximumNumberOfDot1XConfigurationsReached`; a model without a supplicant answers every
//! 802.1X operation `ActionNotSupported` and reports no Dot1XCapabilities.

use base64::Engine as _;
use rcgen::{
    CertificateParams, CustomExtension, DistinguishedName, DnType, KeyPair, SignatureAlgorithm,
};
use rsa::pkcs1::EncodeRsaPublicKey as _;
use rsa::pkcs8::EncodePrivateKey as _;
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::access::AccessClass;
use crate::fault::SimFault;

/// Namespace of the Advanced Security service (prefix `tas`).
pub const TAS_NS: &str = "http://www.onvif.org/ver10/advancedsecurity/wsdl";

/// How many certification paths may be assigned to the TLS server at once (advertised in
/// `TLSServerCapabilities/@MaximumNumberOfTLSCertificationPaths`).
const MAX_TLS_PATHS: usize = 1;

/// The camera's keystore. Persisted with the rest of the camera state.
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct Keystore {
    keys: Vec<StoredKey>,
    certificates: Vec<StoredCertificate>,
    paths: Vec<StoredPath>,
    /// Certification path IDs assigned to the TLS server.
    assigned: Vec<String>,
    /// Counter behind the short IDs; never reused, so a deleted ID never comes back.
    next_id: u64,
    /// 802.1X configurations, validation policies and the interface's assignment.
    #[serde(default)]
    dot1x: Dot1xState,
}

#[derive(Clone, Serialize, Deserialize)]
struct StoredKey {
    id: String,
    alias: Option<String>,
    /// PKCS#8 DER of the private key; `None` for a public key that came with an uploaded certificate.
    private_pkcs8_der: Option<Vec<u8>>,
    /// The RSAPublicKey (PKCS#1) DER, i.e. the contents of the SPKI bit string, used to match
    /// uploaded certificates to keys independently of how the AlgorithmIdentifier was encoded.
    public_key_der: Vec<u8>,
    externally_generated: bool,
}

#[derive(Clone, Serialize, Deserialize)]
struct StoredCertificate {
    id: String,
    alias: Option<String>,
    key_id: String,
    der: Vec<u8>,
}

#[derive(Clone, Serialize, Deserialize)]
struct StoredPath {
    id: String,
    alias: Option<String>,
    certificate_ids: Vec<String>,
}

impl std::fmt::Debug for Keystore {
    // Hand-written so that private keys never reach a log line: only IDs are shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keystore")
            .field(
                "keys",
                &self.keys.iter().map(|k| k.id.as_str()).collect::<Vec<_>>(),
            )
            .field(
                "certificates",
                &self
                    .certificates
                    .iter()
                    .map(|c| c.id.as_str())
                    .collect::<Vec<_>>(),
            )
            .field(
                "paths",
                &self.paths.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
            )
            .field("assigned", &self.assigned)
            .finish()
    }
}

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
        f.debug_struct("ServerIdentity")
            .field("certs", &self.chain_der.len())
            .finish_non_exhaustive()
    }
}

impl Keystore {
    /// What the HTTPS listener should serve now, if a certification path is assigned.
    pub fn assigned_server_identity(&self) -> Option<ServerIdentity> {
        let path = self.path(self.assigned.first()?)?;
        let chain_der = path
            .certificate_ids
            .iter()
            .map(|id| self.certificate(id).map(|c| c.der.clone()))
            .collect::<Option<Vec<_>>>()?;
        let leaf = self.certificate(path.certificate_ids.first()?)?;
        let key_pkcs8_der = self.key(&leaf.key_id)?.private_pkcs8_der.clone()?;
        Some(ServerIdentity {
            chain_der,
            key_pkcs8_der,
        })
    }

    fn fresh_id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}{}", self.next_id)
    }

    fn key(&self, id: &str) -> Option<&StoredKey> {
        self.keys.iter().find(|k| k.id == id)
    }

    fn certificate(&self, id: &str) -> Option<&StoredCertificate> {
        self.certificates.iter().find(|c| c.id == id)
    }

    fn path(&self, id: &str) -> Option<&StoredPath> {
        self.paths.iter().find(|p| p.id == id)
    }

    fn existing_key(&self, id: &str) -> Result<&StoredKey, SimFault> {
        self.key(id)
            .ok_or_else(|| SimFault::invalid_arg("KeyID", "No key with the requested KeyID exists"))
    }

    fn existing_certificate(&self, id: &str) -> Result<&StoredCertificate, SimFault> {
        self.certificate(id).ok_or_else(|| {
            SimFault::invalid_arg(
                "CertificateID",
                "No certificate with the requested CertificateID exists",
            )
        })
    }

    fn existing_path(&self, id: &str) -> Result<&StoredPath, SimFault> {
        self.path(id).ok_or_else(|| {
            SimFault::invalid_arg(
                "CertificationPathID",
                "No certification path with the requested ID exists",
            )
        })
    }

    /// The signing key pair for a stored key, refusing keys without a private part.
    fn signing_key(
        &self,
        key_id: &str,
        alg: &'static SignatureAlgorithm,
    ) -> Result<KeyPair, SimFault> {
        let key = self.existing_key(key_id)?;
        let der = key
            .private_pkcs8_der
            .as_deref()
            .ok_or_else(|| SimFault::invalid_arg("NoPrivateKey", "The key has no private key"))?;
        KeyPair::from_pkcs8_der_and_sign_algo(&rustls_pki_types::PrivatePkcs8KeyDer::from(der), alg)
            .map_err(|e| {
                SimFault::receiver(
                    &["Action", "KeyUnusable"],
                    format!("Stored key is unusable: {e}"),
                )
            })
    }

    /// Refuses a path whose leaf key has no private part: the TLS server could not use it.
    fn check_path_servable(&self, path_id: &str) -> Result<(), SimFault> {
        let path = self.existing_path(path_id)?;
        let leaf_id = path.certificate_ids.first().ok_or_else(|| {
            SimFault::invalid_arg("CertificationPathID", "Certification path is empty")
        })?;
        let leaf = self.existing_certificate(leaf_id)?;
        let has_private = self
            .key(&leaf.key_id)
            .is_some_and(|k| k.private_pkcs8_der.is_some());
        if has_private {
            Ok(())
        } else {
            Err(SimFault::invalid_arg(
                "NoPrivateKey",
                "The leaf certificate's key has no private key in the keystore",
            ))
        }
    }
}

/// Access class of an Advanced Security operation by local name; `None` if unknown.
///
/// Advanced Security Service Specification, Annex "Access classes": capabilities are readable
/// before authentication, everything that reveals keystore content is READ_SYSTEM_SECRET, and every
/// change is WRITE_SYSTEM.
pub fn access_class(op: &str) -> Option<AccessClass> {
    Some(match op {
        "GetServiceCapabilities" => AccessClass::PreAuth,
        "GetKeyStatus"
        | "GetPrivateKeyStatus"
        | "GetAllKeys"
        | "GetCertificate"
        | "GetAllCertificates"
        | "GetCertificationPath"
        | "GetAllCertificationPaths"
        | "GetAssignedServerCertificates" => AccessClass::ReadSystemSecret,
        "CreateRSAKeyPair"
        | "DeleteKey"
        | "CreatePKCS10CSR"
        | "CreateSelfSignedCertificate"
        | "UploadCertificate"
        | "DeleteCertificate"
        | "CreateCertificationPath"
        | "DeleteCertificationPath"
        | "AddServerCertificateAssignment"
        | "RemoveServerCertificateAssignment"
        | "ReplaceServerCertificateAssignment"
        | "UploadCertificateWithPrivateKeyInPKCS12"
        | "CreateCertPathValidationPolicy"
        | "AddDot1XConfiguration"
        | "DeleteDot1XConfiguration"
        | "SetNetworkInterfaceDot1XConfiguration"
        | "DeleteNetworkInterfaceDot1XConfiguration" => AccessClass::WriteSystem,
        "GetAllDot1XConfigurations"
        | "GetDot1XConfiguration"
        | "GetNetworkInterfaceDot1XConfiguration" => AccessClass::ReadSystemSecret,
        _ => return None,
    })
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
    match op {
        "GetServiceCapabilities" => Ok(respond(op, &capabilities(keystore))),
        "CreateRSAKeyPair" => create_rsa_key_pair(keystore, payload),
        "GetKeyStatus" => {
            keystore.existing_key(&required_text(payload, "KeyID")?)?;
            // Keys are generated synchronously, so a stored key is always ready (tas:KeyStatus "ok").
            Ok(respond(op, "<tas:KeyStatus>ok</tas:KeyStatus>"))
        }
        "GetPrivateKeyStatus" => {
            let key = keystore.existing_key(&required_text(payload, "KeyID")?)?;
            Ok(respond(
                op,
                &format!(
                    "<tas:hasPrivateKey>{}</tas:hasPrivateKey>",
                    key.private_pkcs8_der.is_some()
                ),
            ))
        }
        "GetAllKeys" => {
            let body: String = keystore.keys.iter().map(key_attribute).collect();
            Ok(respond(op, &body))
        }
        "DeleteKey" => {
            let id = required_text(payload, "KeyID")?;
            keystore.existing_key(&id)?;
            if keystore.certificates.iter().any(|c| c.key_id == id) {
                return Err(reference_exists(
                    "A certificate in the keystore refers to this key",
                ));
            }
            keystore.keys.retain(|k| k.id != id);
            Ok(respond(op, ""))
        }
        "CreatePKCS10CSR" => create_csr(keystore, payload),
        "CreateSelfSignedCertificate" => create_self_signed(keystore, payload, now),
        "UploadCertificate" => upload_certificate(keystore, payload),
        "GetCertificate" => {
            let cert = keystore.existing_certificate(&required_text(payload, "CertificateID")?)?;
            let body = x509_certificate(keystore, "Certificate", cert);
            Ok(respond(op, &body))
        }
        "GetAllCertificates" => {
            let body: String = keystore
                .certificates
                .iter()
                .map(|c| x509_certificate(keystore, "Certificate", c))
                .collect();
            Ok(respond(op, &body))
        }
        "DeleteCertificate" => {
            let id = required_text(payload, "CertificateID")?;
            keystore.existing_certificate(&id)?;
            if keystore
                .paths
                .iter()
                .any(|p| p.certificate_ids.contains(&id))
            {
                return Err(reference_exists(
                    "A certification path refers to this certificate",
                ));
            }
            keystore.certificates.retain(|c| c.id != id);
            Ok(respond(op, ""))
        }
        "CreateCertificationPath" => create_path(keystore, payload),
        "GetCertificationPath" => {
            let path = keystore.existing_path(&required_text(payload, "CertificationPathID")?)?;
            let ids: String = path
                .certificate_ids
                .iter()
                .map(|id| element("CertificateID", id))
                .collect();
            let alias = path
                .alias
                .as_deref()
                .map(|a| element("Alias", a))
                .unwrap_or_default();
            let body = format!("<tas:CertificationPath>{ids}{alias}</tas:CertificationPath>");
            Ok(respond(op, &body))
        }
        "GetAllCertificationPaths" => {
            let body: String = keystore
                .paths
                .iter()
                .map(|p| element("CertificationPathID", &p.id))
                .collect();
            Ok(respond(op, &body))
        }
        "DeleteCertificationPath" => {
            let id = required_text(payload, "CertificationPathID")?;
            keystore.existing_path(&id)?;
            if keystore.assigned.contains(&id) {
                return Err(reference_exists(
                    "The certification path is assigned to the TLS server",
                ));
            }
            keystore.paths.retain(|p| p.id != id);
            Ok(respond(op, ""))
        }
        "AddServerCertificateAssignment" => {
            let id = required_text(payload, "CertificationPathID")?;
            keystore.check_path_servable(&id)?;
            if !keystore.assigned.contains(&id) {
                if keystore.assigned.len() >= MAX_TLS_PATHS {
                    return Err(SimFault::receiver(
                        &["Action", "MaximumNumberOfTLSCertificationPathsReached"],
                        "A certification path is already assigned; use ReplaceServerCertificateAssignment",
                    ));
                }
                keystore.assigned.push(id);
            }
            Ok(respond(op, ""))
        }
        "RemoveServerCertificateAssignment" => {
            let id = required_text(payload, "CertificationPathID")?;
            if !keystore.assigned.contains(&id) {
                return Err(SimFault::invalid_arg(
                    "CertificationPathID",
                    "The certification path is not assigned to the TLS server",
                ));
            }
            keystore.assigned.retain(|a| *a != id);
            Ok(respond(op, ""))
        }
        "ReplaceServerCertificateAssignment" => {
            let old = required_text(payload, "OldCertificationPathID")?;
            let new = required_text(payload, "NewCertificationPathID")?;
            if !keystore.assigned.contains(&old) {
                return Err(SimFault::invalid_arg(
                    "CertificationPathID",
                    "The old certification path is not assigned to the TLS server",
                ));
            }
            keystore.check_path_servable(&new)?;
            keystore.assigned.retain(|a| *a != old && *a != new);
            keystore.assigned.push(new);
            Ok(respond(op, ""))
        }
        "GetAssignedServerCertificates" => {
            let body: String = keystore
                .assigned
                .iter()
                .map(|id| element("CertificationPathID", id))
                .collect();
            Ok(respond(op, &body))
        }
        _ => handle_more(keystore, op, payload)
            .unwrap_or_else(|| Err(SimFault::action_not_supported())),
    }
}

fn create_rsa_key_pair(
    keystore: &mut Keystore,
    payload: roxmltree::Node<'_, '_>,
) -> Result<String, SimFault> {
    let bits: usize = match required_text(payload, "KeyLength")?.trim() {
        "2048" => 2048,
        "3072" => 3072,
        "4096" => 4096,
        _ => {
            return Err(SimFault::invalid_arg(
                "KeyLength",
                "Supported key lengths are 2048, 3072 and 4096",
            ))
        }
    };
    let alias = optional_text(payload, "Alias");
    let private = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), bits).map_err(|e| {
        SimFault::receiver(
            &["Action", "KeyGenerationFailed"],
            format!("RSA key generation failed: {e}"),
        )
    })?;
    let pkcs8 = private.to_pkcs8_der().map_err(|e| {
        SimFault::receiver(
            &["Action", "KeyGenerationFailed"],
            format!("PKCS#8 encoding failed: {e}"),
        )
    })?;
    let public = private.to_public_key().to_pkcs1_der().map_err(|e| {
        SimFault::receiver(
            &["Action", "KeyGenerationFailed"],
            format!("public key encoding failed: {e}"),
        )
    })?;
    let id = keystore.fresh_id("key");
    keystore.keys.push(StoredKey {
        id: id.clone(),
        alias,
        private_pkcs8_der: Some(pkcs8.as_bytes().to_vec()),
        public_key_der: public.as_bytes().to_vec(),
        externally_generated: false,
    });
    // Generation already finished, so the estimate is zero (advancedsecurity.wsdl, CreateRSAKeyPairResponse).
    Ok(respond(
        "CreateRSAKeyPair",
        &format!(
            "{}<tas:EstimatedCreationTime>PT0S</tas:EstimatedCreationTime>",
            element("KeyID", &id)
        ),
    ))
}

fn create_csr(keystore: &Keystore, payload: roxmltree::Node<'_, '_>) -> Result<String, SimFault> {
    let key_id = required_text(payload, "KeyID")?;
    let alg = signature_algorithm(payload)?;
    let key_pair = keystore.signing_key(&key_id, alg)?;
    let subject = child(payload, "Subject")
        .ok_or_else(|| SimFault::invalid_arg("InvalidDNFormat", "Subject is missing"))?;
    let mut params = CertificateParams::default();
    params.distinguished_name = distinguished_name(subject)?;
    let mut attributes = Vec::new();
    for attribute in children(payload, "CSRAttribute") {
        if let Some(ext) = child(attribute, "X509v3Extension") {
            params.custom_extensions.push(extension(ext)?);
        } else if let Some(basic) = child(attribute, "BasicRequestAttribute") {
            attributes.push(basic_attribute(basic)?);
        } else {
            return Err(SimFault::invalid_arg(
                "CSRAttributeNotSupported",
                "Unsupported CSR attribute",
            ));
        }
    }
    let csr = params
        .serialize_request_with_attributes(&key_pair, attributes)
        .map_err(|e| {
            SimFault::invalid_arg("InvalidDNFormat", format!("Cannot build the CSR: {e}"))
        })?;
    Ok(respond(
        "CreatePKCS10CSR",
        &element("PKCS10CSR", &b64(csr.der())),
    ))
}

fn create_self_signed(
    keystore: &mut Keystore,
    payload: roxmltree::Node<'_, '_>,
    now: OffsetDateTime,
) -> Result<String, SimFault> {
    let key_id = required_text(payload, "KeyID")?;
    let alg = signature_algorithm(payload)?;
    let key_pair = keystore.signing_key(&key_id, alg)?;
    let subject = child(payload, "Subject")
        .ok_or_else(|| SimFault::invalid_arg("InvalidDNFormat", "Subject is missing"))?;
    let mut params = CertificateParams::default();
    params.distinguished_name = distinguished_name(subject)?;
    params.not_before = optional_date(payload, "notValidBefore")?.unwrap_or(now);
    params.not_after =
        optional_date(payload, "notValidAfter")?.unwrap_or(now + time::Duration::days(365));
    if params.not_after <= params.not_before {
        return Err(SimFault::invalid_arg(
            "InvalidDateTime",
            "notValidAfter must be later than notValidBefore",
        ));
    }
    let mut serial = [0u8; 16];
    rand::Rng::fill(&mut rand::thread_rng(), &mut serial);
    serial[0] &= 0x7f;
    params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
    for ext in children(payload, "Extension") {
        params.custom_extensions.push(extension(ext)?);
    }
    let cert = params.self_signed(&key_pair).map_err(|e| {
        SimFault::invalid_arg(
            "InvalidDNFormat",
            format!("Cannot build the certificate: {e}"),
        )
    })?;
    let id = keystore.fresh_id("cert");
    keystore.certificates.push(StoredCertificate {
        id: id.clone(),
        alias: optional_text(payload, "Alias"),
        key_id,
        der: cert.der().to_vec(),
    });
    Ok(respond(
        "CreateSelfSignedCertificate",
        &element("CertificateID", &id),
    ))
}

fn upload_certificate(
    keystore: &mut Keystore,
    payload: roxmltree::Node<'_, '_>,
) -> Result<String, SimFault> {
    let bad = |why: &str| {
        SimFault::invalid_arg(
            "BadCertificate",
            format!("The certificate cannot be processed: {why}"),
        )
    };
    let text = required_text(payload, "Certificate")?;
    let der = base64::engine::general_purpose::STANDARD
        .decode(text.split_whitespace().collect::<String>())
        .map_err(|_| bad("not base64"))?;
    let public_key_der = {
        let (rest, cert) =
            x509_parser::parse_x509_certificate(&der).map_err(|_| bad("not DER X.509"))?;
        if !rest.is_empty() {
            return Err(bad("trailing data after the certificate"));
        }
        cert.public_key().subject_public_key.data.to_vec()
    };
    let private_key_required =
        optional_text(payload, "PrivateKeyRequired").is_some_and(|v| xs_bool(&v));
    let matching = keystore
        .keys
        .iter()
        .find(|k| k.public_key_der == public_key_der);
    let key_id = match matching {
        Some(key) if key.private_pkcs8_der.is_some() || !private_key_required => key.id.clone(),
        _ if private_key_required => {
            return Err(SimFault::invalid_arg(
                "NoMatchingPrivateKey",
                "No key pair with a private key matching the certificate's public key exists",
            ))
        }
        _ => {
            // §5.2.3 UploadCertificate: without a matching key, the public key is stored as a new key.
            let id = keystore.fresh_id("key");
            keystore.keys.push(StoredKey {
                id: id.clone(),
                alias: optional_text(payload, "KeyAlias"),
                private_pkcs8_der: None,
                public_key_der,
                externally_generated: true,
            });
            id
        }
    };
    let id = keystore.fresh_id("cert");
    keystore.certificates.push(StoredCertificate {
        id: id.clone(),
        alias: optional_text(payload, "Alias"),
        key_id: key_id.clone(),
        der,
    });
    Ok(respond(
        "UploadCertificate",
        &format!(
            "{}{}",
            element("CertificateID", &id),
            element("KeyID", &key_id)
        ),
    ))
}

fn create_path(
    keystore: &mut Keystore,
    payload: roxmltree::Node<'_, '_>,
) -> Result<String, SimFault> {
    let ids: Vec<String> = child(payload, "CertificateIDs")
        .map(|list| children(list, "CertificateID").map(text).collect())
        .unwrap_or_default();
    if ids.is_empty() {
        return Err(SimFault::invalid_arg(
            "CertificateID",
            "A certification path needs at least one certificate",
        ));
    }
    let mut ders = Vec::new();
    for id in &ids {
        ders.push(keystore.existing_certificate(id)?.der.clone());
    }
    // RFC 5280 §6.1: in a path, each certificate's issuer is the subject of the next one.
    for pair in ders.windows(2) {
        let chained = match (
            x509_parser::parse_x509_certificate(&pair[0]),
            x509_parser::parse_x509_certificate(&pair[1]),
        ) {
            (Ok((_, child_cert)), Ok((_, parent))) => {
                child_cert.issuer().as_raw() == parent.subject().as_raw()
            }
            _ => false,
        };
        if !chained {
            return Err(SimFault::invalid_arg(
                "InvalidCertificateChain",
                "Each certificate must be issued by the next one in the path",
            ));
        }
    }
    let id = keystore.fresh_id("path");
    keystore.paths.push(StoredPath {
        id: id.clone(),
        alias: optional_text(payload, "Alias"),
        certificate_ids: ids,
    });
    Ok(respond(
        "CreateCertificationPath",
        &element("CertificationPathID", &id),
    ))
}

/// Maps the request's `SignatureAlgorithm/algorithm` OID to an rcgen algorithm (RFC 4055 §5).
fn signature_algorithm(
    payload: roxmltree::Node<'_, '_>,
) -> Result<&'static SignatureAlgorithm, SimFault> {
    let oid = child(payload, "SignatureAlgorithm")
        .and_then(|a| child(a, "algorithm"))
        .map(text)
        .ok_or_else(|| {
            SimFault::invalid_arg(
                "SignatureAlgorithmNotSupported",
                "SignatureAlgorithm is missing",
            )
        })?;
    match oid.trim() {
        "1.2.840.113549.1.1.11" => Ok(&rcgen::PKCS_RSA_SHA256),
        "1.2.840.113549.1.1.12" => Ok(&rcgen::PKCS_RSA_SHA384),
        "1.2.840.113549.1.1.13" => Ok(&rcgen::PKCS_RSA_SHA512),
        _ => Err(SimFault::invalid_arg(
            "SignatureAlgorithmNotSupported",
            "Supported signature algorithms are sha256/384/512WithRSAEncryption",
        )),
    }
}

/// Builds an X.501 name from a `tas:DistinguishedName`, attribute types per RFC 4519.
fn distinguished_name(subject: roxmltree::Node<'_, '_>) -> Result<DistinguishedName, SimFault> {
    let mut dn = DistinguishedName::new();
    for node in subject.children().filter(|n| n.is_element()) {
        let value = text(node);
        let ty = match node.tag_name().name() {
            "Country" => DnType::CountryName,
            "Organization" => DnType::OrganizationName,
            "OrganizationalUnit" => DnType::OrganizationalUnitName,
            "StateOrProvinceName" => DnType::StateOrProvinceName,
            "CommonName" => DnType::CommonName,
            "Locality" => DnType::LocalityName,
            "DistinguishedNameQualifier" => DnType::CustomDnType(vec![2, 5, 4, 46]),
            "SerialNumber" => DnType::CustomDnType(vec![2, 5, 4, 5]),
            "Title" => DnType::CustomDnType(vec![2, 5, 4, 12]),
            "Surname" => DnType::CustomDnType(vec![2, 5, 4, 4]),
            "GivenName" => DnType::CustomDnType(vec![2, 5, 4, 42]),
            "Initials" => DnType::CustomDnType(vec![2, 5, 4, 43]),
            "Pseudonym" => DnType::CustomDnType(vec![2, 5, 4, 65]),
            "GenerationQualifier" => DnType::CustomDnType(vec![2, 5, 4, 44]),
            "GenericAttribute" => {
                let oid = child(node, "Type").map(text).unwrap_or_default();
                let value = child(node, "Value").map(text).unwrap_or_default();
                dn.push(
                    DnType::from_oid(&parse_oid(&oid, "InvalidDNFormat")?),
                    value,
                );
                continue;
            }
            "anyAttribute" => {
                for dc in children(node, "DomainComponent") {
                    dn.push(
                        DnType::CustomDnType(vec![0, 9, 2342, 19200300, 100, 1, 25]),
                        text(dc),
                    );
                }
                continue;
            }
            other => {
                return Err(SimFault::invalid_arg(
                    "InvalidDNFormat",
                    format!("Distinguished name attribute {other} is not supported"),
                ))
            }
        };
        dn.push(ty, value);
    }
    Ok(dn)
}

/// A `tas:X509v3Extension` as an rcgen extension; `extnValue` is the DER of the extension value.
fn extension(node: roxmltree::Node<'_, '_>) -> Result<CustomExtension, SimFault> {
    let oid = parse_oid(&required_text(node, "extnOID")?, "CSRAttributeNotSupported")?;
    let value = base64::engine::general_purpose::STANDARD
        .decode(
            required_text(node, "extnValue")?
                .split_whitespace()
                .collect::<String>(),
        )
        .map_err(|_| {
            SimFault::invalid_arg("CSRAttributeNotSupported", "extnValue is not base64")
        })?;
    let mut ext = CustomExtension::from_oid_content(&oid, value);
    ext.set_criticality(optional_text(node, "critical").is_some_and(|v| xs_bool(&v)));
    Ok(ext)
}

/// A `tas:BasicRequestAttribute` as a PKCS#10 attribute (RFC 2986 §4.1). rcgen needs a static OID,
/// so the attributes of RFC 2985 §5.4 that make sense in a request are accepted.
fn basic_attribute(node: roxmltree::Node<'_, '_>) -> Result<rcgen::Attribute, SimFault> {
    const KNOWN: &[&[u64]] = &[
        &[1, 2, 840, 113549, 1, 9, 7], // challengePassword
        &[1, 2, 840, 113549, 1, 9, 2], // unstructuredName
    ];
    let oid = parse_oid(&required_text(node, "OID")?, "CSRAttributeNotSupported")?;
    let oid = KNOWN
        .iter()
        .find(|k| **k == oid.as_slice())
        .ok_or_else(|| {
            SimFault::invalid_arg(
                "CSRAttributeNotSupported",
                "Unsupported basic request attribute",
            )
        })?;
    let value = base64::engine::general_purpose::STANDARD
        .decode(
            required_text(node, "value")?
                .split_whitespace()
                .collect::<String>(),
        )
        .map_err(|_| SimFault::invalid_arg("CSRAttributeNotSupported", "value is not base64"))?;
    // The attribute's values are a SET OF; the request carries one value.
    let mut values = vec![0x31];
    values.extend(der_length(value.len()));
    values.extend(value);
    Ok(rcgen::Attribute { oid, values })
}

fn der_length(len: usize) -> Vec<u8> {
    if len < 0x80 {
        return vec![len as u8];
    }
    let bytes: Vec<u8> = len
        .to_be_bytes()
        .into_iter()
        .skip_while(|b| *b == 0)
        .collect();
    let mut out = vec![0x80 | bytes.len() as u8];
    out.extend(bytes);
    out
}

fn parse_oid(dotted: &str, fault: &'static str) -> Result<Vec<u64>, SimFault> {
    let arcs = dotted
        .trim()
        .split('.')
        .map(|arc| arc.parse::<u64>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| SimFault::invalid_arg(fault, format!("Not a dot-decimal OID: {dotted}")))?;
    if arcs.len() < 2 {
        return Err(SimFault::invalid_arg(
            fault,
            format!("Not a dot-decimal OID: {dotted}"),
        ));
    }
    Ok(arcs)
}

fn optional_date(
    payload: roxmltree::Node<'_, '_>,
    name: &'static str,
) -> Result<Option<OffsetDateTime>, SimFault> {
    optional_text(payload, name)
        .map(|v| {
            OffsetDateTime::parse(v.trim(), &Rfc3339).map_err(|_| {
                SimFault::invalid_arg("InvalidDateTime", format!("{name} is not an xs:dateTime"))
            })
        })
        .transpose()
}

fn capabilities(keystore: &Keystore) -> String {
    let dot1x = if keystore.dot1x.unsupported {
        String::new()
    } else {
        format!(
            "<tas:Dot1XCapabilities MaximumNumberOfDot1XConfigurations=\"{MAX_DOT1X}\" Dot1XMethods=\"{}\"/>",
            DOT1X_METHODS.join(" ")
        )
    };
    "<tas:Capabilities>\
     <tas:KeystoreCapabilities MaximumNumberOfKeys=\"32\" MaximumNumberOfCertificates=\"32\" \
     MaximumNumberOfCertificationPaths=\"16\" RSAKeyPairGeneration=\"true\" RSAKeyLengths=\"2048 3072 4096\" \
     PKCS10ExternalCertificationWithRSA=\"true\" PKCS10=\"true\" SelfSignedCertificateCreationWithRSA=\"true\" \
     SelfSignedCertificateCreation=\"true\" X509Versions=\"3\" KeyPairGeneration=\"RSA\">\
     <tas:SignatureAlgorithms><tas:algorithm>1.2.840.113549.1.1.11</tas:algorithm></tas:SignatureAlgorithms>\
     <tas:SignatureAlgorithms><tas:algorithm>1.2.840.113549.1.1.12</tas:algorithm></tas:SignatureAlgorithms>\
     <tas:SignatureAlgorithms><tas:algorithm>1.2.840.113549.1.1.13</tas:algorithm></tas:SignatureAlgorithms>\
     </tas:KeystoreCapabilities>\
     <tas:TLSServerCapabilities TLSServerSupported=\"1.2 1.3\" MaximumNumberOfTLSCertificationPaths=\"1\" \
     TLSClientAuthSupported=\"false\"/>"
        .to_string()
        + &dot1x
        + "</tas:Capabilities>"
}

fn key_attribute(key: &StoredKey) -> String {
    let alias = key
        .alias
        .as_deref()
        .map(|a| element("Alias", a))
        .unwrap_or_default();
    format!(
        "<tas:KeyAttribute>{}{alias}<tas:hasPrivateKey>{}</tas:hasPrivateKey><tas:KeyStatus>ok</tas:KeyStatus>\
         <tas:externallyGenerated>{}</tas:externallyGenerated><tas:securelyStored>false</tas:securelyStored>\
         </tas:KeyAttribute>",
        element("KeyID", &key.id),
        key.private_pkcs8_der.is_some(),
        key.externally_generated,
    )
}

fn x509_certificate(keystore: &Keystore, name: &str, cert: &StoredCertificate) -> String {
    let alias = cert
        .alias
        .as_deref()
        .map(|a| element("Alias", a))
        .unwrap_or_default();
    let has_private = keystore
        .key(&cert.key_id)
        .is_some_and(|k| k.private_pkcs8_der.is_some());
    format!(
        "<tas:{name}>{}{}{alias}{}<tas:HasPrivateKey>{has_private}</tas:HasPrivateKey></tas:{name}>",
        element("CertificateID", &cert.id),
        element("KeyID", &cert.key_id),
        element("CertificateContent", &b64(&cert.der)),
    )
}

fn reference_exists(reason: &str) -> SimFault {
    SimFault::receiver(&["Action", "ReferenceExists"], reason)
}

fn respond(op: &str, body: &str) -> String {
    format!("<tas:{op}Response xmlns:tas=\"{TAS_NS}\">{body}</tas:{op}Response>")
}

fn element(name: &str, value: &str) -> String {
    format!(
        "<tas:{name}>{}</tas:{name}>",
        quick_xml::escape::escape(value)
    )
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn xs_bool(value: &str) -> bool {
    matches!(value.trim(), "true" | "1")
}

fn children<'a, 'i: 'a>(
    node: roxmltree::Node<'a, 'i>,
    name: &'static str,
) -> impl Iterator<Item = roxmltree::Node<'a, 'i>> {
    node.children().filter(move |n| {
        n.is_element() && n.tag_name().name() == name && n.tag_name().namespace() == Some(TAS_NS)
    })
}

fn child<'a, 'i: 'a>(
    node: roxmltree::Node<'a, 'i>,
    name: &'static str,
) -> Option<roxmltree::Node<'a, 'i>> {
    children(node, name).next()
}

fn text(node: roxmltree::Node<'_, '_>) -> String {
    node.text().unwrap_or_default().trim().to_string()
}

fn optional_text(node: roxmltree::Node<'_, '_>, name: &'static str) -> Option<String> {
    child(node, name).map(text)
}

fn required_text(node: roxmltree::Node<'_, '_>, name: &'static str) -> Result<String, SimFault> {
    optional_text(node, name)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| SimFault::sender(&["InvalidArgs"], format!("{name} is missing")))
}

// Keys made elsewhere and 802.1X.

/// One 802.1X configuration (tas:Dot1XConfiguration) as the camera keeps it.
#[derive(Clone, Serialize, Deserialize)]
struct StoredDot1x {
    id: String,
    alias: Option<String>,
    method: String,
    identity: Option<String>,
    /// The client certificate's certification path (EAP-TLS).
    path_id: Option<String>,
    /// The validation policy the RADIUS server's certificate must pass.
    policy_id: Option<String>,
}

/// A certification path validation policy: the trust anchors (stored certificates) a peer's
/// certificate must lead to.
#[derive(Clone, Serialize, Deserialize)]
struct StoredPolicy {
    id: String,
    alias: Option<String>,
    anchors: Vec<String>,
}

/// The 802.1X supplicant's state.
#[derive(Clone, Default, Serialize, Deserialize)]
struct Dot1xState {
    /// A model without an 802.1X supplicant: no Dot1XCapabilities, every 802.1X operation is
    /// ActionNotSupported, as firmware answers.
    #[serde(default)]
    unsupported: bool,
    #[serde(default)]
    configurations: Vec<StoredDot1x>,
    #[serde(default)]
    policies: Vec<StoredPolicy>,
    /// (network interface token, Dot1XID).
    #[serde(default)]
    interfaces: Vec<(String, String)>,
}

/// Methods camsim's supplicant offers (tas:Dot1XCapabilities/@Dot1XMethods).
const DOT1X_METHODS: &[&str] = &["EAP-TLS", "EAP-PEAP/MSCHAPv2"];
const MAX_DOT1X: usize = 4;
/// The camera's one network interface (Device Management GetNetworkInterfaces).
const INTERFACE: &str = "eth0";

impl Keystore {
    /// Whether the camera has an 802.1X supplicant (default: yes).
    pub fn dot1x_supported(&self) -> bool {
        !self.dot1x.unsupported
    }

    /// Makes this camera a model with or without an 802.1X supplicant.
    pub fn set_dot1x_supported(&mut self, supported: bool) {
        self.dot1x.unsupported = !supported;
    }

    /// The method and client certificate chain (DER, leaf first) of the 802.1X configuration
    /// assigned to `interface`, for assertions.
    pub fn dot1x_on(&self, interface: &str) -> Option<(String, Vec<Vec<u8>>)> {
        let (_, id) = self.dot1x.interfaces.iter().find(|(t, _)| t == interface)?;
        let config = self.dot1x.configurations.iter().find(|c| c.id == *id)?;
        let chain = config
            .path_id
            .as_deref()
            .and_then(|p| self.path(p))
            .map(|p| {
                p.certificate_ids
                    .iter()
                    .filter_map(|c| self.certificate(c).map(|c| c.der.clone()))
                    .collect()
            })
            .unwrap_or_default();
        Some((config.method.clone(), chain))
    }
}

/// The 802.1X and PKCS#12 operations; `None` when `op` is not one of them.
fn handle_more(
    keystore: &mut Keystore,
    op: &str,
    payload: roxmltree::Node<'_, '_>,
) -> Option<Result<String, SimFault>> {
    let dot1x_op = matches!(
        op,
        "AddDot1XConfiguration"
            | "GetAllDot1XConfigurations"
            | "GetDot1XConfiguration"
            | "DeleteDot1XConfiguration"
            | "SetNetworkInterfaceDot1XConfiguration"
            | "GetNetworkInterfaceDot1XConfiguration"
            | "DeleteNetworkInterfaceDot1XConfiguration"
    );
    if dot1x_op && keystore.dot1x.unsupported {
        return Some(Err(SimFault::action_not_supported()));
    }
    Some(match op {
        "UploadCertificateWithPrivateKeyInPKCS12" => upload_pkcs12(keystore, payload),
        "CreateCertPathValidationPolicy" => create_policy(keystore, payload),
        "AddDot1XConfiguration" => add_dot1x(keystore, payload),
        "GetAllDot1XConfigurations" => {
            let body: String = keystore
                .dot1x
                .configurations
                .iter()
                .map(|c| dot1x_configuration("Configuration", c))
                .collect();
            Ok(respond(op, &body))
        }
        "GetDot1XConfiguration" => required_text(payload, "Dot1XID").and_then(|id| {
            let config = existing_dot1x(keystore, &id)?;
            Ok(respond(
                op,
                &dot1x_configuration("Dot1XConfiguration", config),
            ))
        }),
        "DeleteDot1XConfiguration" => required_text(payload, "Dot1XID").and_then(|id| {
            existing_dot1x(keystore, &id)?;
            if keystore.dot1x.interfaces.iter().any(|(_, d)| *d == id) {
                return Err(reference_exists(
                    "The 802.1X configuration is in use on a network interface",
                ));
            }
            keystore.dot1x.configurations.retain(|c| c.id != id);
            Ok(respond(op, ""))
        }),
        "SetNetworkInterfaceDot1XConfiguration" => {
            let token = required_text(payload, "token");
            let id = required_text(payload, "Dot1XID");
            token.and_then(|token| {
                let id = id?;
                known_interface(&token)?;
                existing_dot1x(keystore, &id)?;
                keystore.dot1x.interfaces.retain(|(t, _)| *t != token);
                keystore.dot1x.interfaces.push((token, id));
                Ok(respond(op, "<tas:RebootNeeded>false</tas:RebootNeeded>"))
            })
        }
        "GetNetworkInterfaceDot1XConfiguration" => {
            required_text(payload, "token").and_then(|token| {
                known_interface(&token)?;
                let body = keystore
                    .dot1x
                    .interfaces
                    .iter()
                    .find(|(t, _)| *t == token)
                    .map(|(_, id)| element("Dot1XID", id))
                    .unwrap_or_default();
                Ok(respond(op, &body))
            })
        }
        "DeleteNetworkInterfaceDot1XConfiguration" => {
            required_text(payload, "token").and_then(|token| {
                known_interface(&token)?;
                keystore.dot1x.interfaces.retain(|(t, _)| *t != token);
                Ok(respond(op, "<tas:RebootNeeded>false</tas:RebootNeeded>"))
            })
        }
        _ => return None,
    })
}

fn known_interface(token: &str) -> Result<(), SimFault> {
    if token == INTERFACE {
        Ok(())
    } else {
        Err(SimFault::invalid_arg(
            "InvalidNetworkInterface",
            "No network interface with this token exists",
        ))
    }
}

fn existing_dot1x<'k>(keystore: &'k Keystore, id: &str) -> Result<&'k StoredDot1x, SimFault> {
    keystore
        .dot1x
        .configurations
        .iter()
        .find(|c| c.id == id)
        .ok_or_else(|| {
            SimFault::invalid_arg("Dot1XID", "No 802.1X configuration with this ID exists")
        })
}

fn dot1x_configuration(name: &str, c: &StoredDot1x) -> String {
    let policy = c
        .policy_id
        .as_deref()
        .map(|p| {
            format!(
                " CertPathValidationPolicyID=\"{}\"",
                quick_xml::escape::escape(p)
            )
        })
        .unwrap_or_default();
    let opt =
        |name: &str, v: &Option<String>| v.as_deref().map(|v| element(name, v)).unwrap_or_default();
    format!(
        "<tas:{name}>{}{}<tas:Outer Method=\"{}\"{policy}>{}{}</tas:Outer></tas:{name}>",
        element("Dot1XID", &c.id),
        opt("Alias", &c.alias),
        quick_xml::escape::escape(c.method.as_str()),
        opt("Identity", &c.identity),
        opt("CertificationPathID", &c.path_id),
    )
}

fn create_policy(
    keystore: &mut Keystore,
    payload: roxmltree::Node<'_, '_>,
) -> Result<String, SimFault> {
    let mut anchors = Vec::new();
    for anchor in children(payload, "TrustAnchor") {
        let id = required_text(anchor, "CertificateID")?;
        keystore.existing_certificate(&id)?;
        anchors.push(id);
    }
    if anchors.is_empty() {
        return Err(SimFault::sender(&["InvalidArgs"], "TrustAnchor is missing"));
    }
    let id = keystore.fresh_id("policy");
    keystore.dot1x.policies.push(StoredPolicy {
        id: id.clone(),
        alias: optional_text(payload, "Alias"),
        anchors,
    });
    Ok(respond(
        "CreateCertPathValidationPolicy",
        &element("CertPathValidationPolicyID", &id),
    ))
}

fn add_dot1x(
    keystore: &mut Keystore,
    payload: roxmltree::Node<'_, '_>,
) -> Result<String, SimFault> {
    let config = child(payload, "Dot1XConfiguration")
        .ok_or_else(|| SimFault::sender(&["InvalidArgs"], "Dot1XConfiguration is missing"))?;
    let outer = child(config, "Outer")
        .ok_or_else(|| SimFault::sender(&["InvalidArgs"], "Outer is missing"))?;
    let method = outer.attribute("Method").unwrap_or_default().to_owned();
    let offered = DOT1X_METHODS
        .iter()
        .any(|m| m.split('/').next() == Some(method.as_str()));
    if !offered {
        return Err(SimFault::invalid_arg(
            "Dot1XMethodNotSupported",
            format!("802.1X method {method:?} is not supported"),
        ));
    }
    if keystore.dot1x.configurations.len() >= MAX_DOT1X {
        return Err(SimFault::receiver(
            &["Action", "MaximumNumberOfDot1XConfigurationsReached"],
            "No more 802.1X configurations can be stored",
        ));
    }
    let path_id = optional_text(outer, "CertificationPathID");
    let policy_id = outer
        .attribute("CertPathValidationPolicyID")
        .map(str::to_owned);
    let identity = optional_text(outer, "Identity");
    if method == "EAP-TLS" {
        // EAP-TLS proves the camera by its certificate: the path must exist and its leaf's
        // private key must be in the keystore.
        let path = path_id.as_deref().ok_or_else(|| {
            SimFault::invalid_arg(
                "CertificationPathID",
                "EAP-TLS needs the client certificate's CertificationPathID",
            )
        })?;
        keystore.check_path_servable(path)?;
        if identity.is_none() {
            return Err(SimFault::sender(
                &["InvalidArgs"],
                "EAP-TLS needs an Identity",
            ));
        }
    } else if let Some(path) = path_id.as_deref() {
        keystore.existing_path(path)?;
    }
    if let Some(policy) = policy_id.as_deref() {
        if !keystore.dot1x.policies.iter().any(|p| p.id == policy) {
            return Err(SimFault::invalid_arg(
                "CertPathValidationPolicyID",
                "No certification path validation policy with this ID exists",
            ));
        }
    }
    let id = keystore.fresh_id("dot1x");
    keystore.dot1x.configurations.push(StoredDot1x {
        id: id.clone(),
        alias: optional_text(config, "Alias"),
        method,
        identity,
        path_id,
        policy_id,
    });
    Ok(respond("AddDot1XConfiguration", &element("Dot1XID", &id)))
}

/// The public key of a PKCS#8 private key as the contents of an SPKI bit string (RSAPublicKey
/// for RSA, the point for EC), which is how keys are matched in this keystore.
fn public_key_of(pkcs8: &[u8]) -> Option<Vec<u8>> {
    use rsa::pkcs8::DecodePrivateKey as _;
    if let Ok(rsa) = rsa::RsaPrivateKey::from_pkcs8_der(pkcs8) {
        return rsa
            .to_public_key()
            .to_pkcs1_der()
            .ok()
            .map(|d| d.as_bytes().to_vec());
    }
    KeyPair::try_from(pkcs8)
        .ok()
        .map(|k| k.public_key_raw().to_vec())
}

fn upload_pkcs12(
    keystore: &mut Keystore,
    payload: roxmltree::Node<'_, '_>,
) -> Result<String, SimFault> {
    let bad = |why: String| SimFault::invalid_arg("BadPKCS12", why);
    let data = base64::engine::general_purpose::STANDARD
        .decode(
            required_text(payload, "CertWithPrivateKey")?
                .split_whitespace()
                .collect::<String>(),
        )
        .map_err(|_| bad("CertWithPrivateKey is not base64".into()))?;
    if optional_text(payload, "IntegrityPassphraseID").is_some()
        || optional_text(payload, "EncryptionPassphraseID").is_some()
    {
        // camsim keeps no passphrases (MaximumNumberOfPassphrases="0").
        return Err(SimFault::invalid_arg(
            "PassphraseID",
            "No passphrase with the requested ID exists",
        ));
    }
    // An absent Passphrase is the empty one.
    let passphrase = child(payload, "Passphrase")
        .and_then(|n| n.text())
        .unwrap_or_default()
        .to_owned();
    let archive = p12_keystore::Pkcs12Archive::from_pkcs12(&data, &passphrase).map_err(|_| {
        SimFault::invalid_arg(
            "DecryptionFailed",
            "The PKCS#12 data cannot be verified or decrypted with the passphrase",
        )
    })?;
    let mut keys = archive.keys.into_iter();
    let (Some(key), None) = (keys.next(), keys.next()) else {
        return Err(bad(
            "the PKCS#12 data must hold exactly one private key".into()
        ));
    };
    let private = key.key.as_der().to_vec();
    let public =
        public_key_of(&private).ok_or_else(|| bad("the private key is not usable".into()))?;
    let mut certs = Vec::new();
    for bag in &archive.certs {
        let der = bag.cert.as_der().to_vec();
        let (_, cert) = x509_parser::parse_x509_certificate(&der)
            .map_err(|_| bad("a certificate is not DER X.509".into()))?;
        let spki = cert.public_key().subject_public_key.data.to_vec();
        let subject = cert.subject().as_raw().to_vec();
        let issuer = cert.issuer().as_raw().to_vec();
        certs.push((der, spki, subject, issuer));
    }
    let leaf_at = certs
        .iter()
        .position(|(_, spki, _, _)| *spki == public)
        .ok_or_else(|| {
            SimFault::invalid_arg(
                "NoMatchingPrivateKey",
                "No certificate in the PKCS#12 data matches its private key",
            )
        })?;
    let leaf = certs.remove(leaf_at);
    // Leaf first, then each issuer found among the other certificates.
    let mut chain = vec![leaf];
    if !optional_text(payload, "IgnoreAdditionalCertificates").is_some_and(|v| xs_bool(&v)) {
        while let Some(at) = certs.iter().position(|(_, _, subject, _)| {
            let last = &chain[chain.len() - 1];
            *subject == last.3 && last.2 != last.3
        }) {
            chain.push(certs.remove(at));
        }
    }
    let key_id = keystore.fresh_id("key");
    keystore.keys.push(StoredKey {
        id: key_id.clone(),
        alias: optional_text(payload, "KeyAlias"),
        private_pkcs8_der: Some(private),
        public_key_der: public,
        externally_generated: true,
    });
    let mut ids = Vec::new();
    for (i, (der, spki, _, _)) in chain.into_iter().enumerate() {
        if i > 0 {
            // A CA certificate already stored is used again, not stored twice.
            if let Some(existing) = keystore.certificates.iter().find(|c| c.der == der) {
                ids.push(existing.id.clone());
                continue;
            }
        }
        let cert_key = if i == 0 {
            key_id.clone()
        } else if let Some(k) = keystore.keys.iter().find(|k| k.public_key_der == spki) {
            k.id.clone()
        } else {
            let id = keystore.fresh_id("key");
            keystore.keys.push(StoredKey {
                id: id.clone(),
                alias: None,
                private_pkcs8_der: None,
                public_key_der: spki,
                externally_generated: true,
            });
            id
        };
        let id = keystore.fresh_id("cert");
        keystore.certificates.push(StoredCertificate {
            id: id.clone(),
            alias: None,
            key_id: cert_key,
            der,
        });
        ids.push(id);
    }
    let path_id = keystore.fresh_id("path");
    keystore.paths.push(StoredPath {
        id: path_id.clone(),
        alias: optional_text(payload, "CertificationPathAlias"),
        certificate_ids: ids,
    });
    Ok(respond(
        "UploadCertificateWithPrivateKeyInPKCS12",
        &format!(
            "{}{}",
            element("CertificationPathID", &path_id),
            element("KeyID", &key_id)
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{BasicConstraints, CertificateSigningRequestParams, IsCa, Issuer};

    fn now() -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    /// Sends `<tas:{op}>{body}</tas:{op}>` to the keystore, as the SOAP layer would, and records
    /// request and reply for schema validation at the end of the test.
    fn call(ks: &mut Keystore, op: &str, body: &str) -> Result<String, SimFault> {
        let xml = format!("<tas:{op} xmlns:tas=\"{TAS_NS}\">{body}</tas:{op}>");
        recorded::record(&xml);
        let reply = call_unchecked(ks, op, body);
        if let Ok(reply) = &reply {
            recorded::record(reply);
        }
        reply
    }

    /// Like `call`, for requests that are deliberately not schema-valid.
    fn call_unchecked(ks: &mut Keystore, op: &str, body: &str) -> Result<String, SimFault> {
        let xml = format!("<tas:{op} xmlns:tas=\"{TAS_NS}\">{body}</tas:{op}>");
        let doc = roxmltree::Document::parse(&xml).expect("request is well-formed");
        handle(ks, op, doc.root_element(), now())
    }

    /// Text of the first element named `name` in a response.
    fn field(xml: &str, name: &str) -> String {
        let doc = roxmltree::Document::parse(xml).expect("response is well-formed");
        let node = doc
            .descendants()
            .find(|n| n.tag_name().name() == name)
            .expect("field present");
        node.text().unwrap_or_default().to_string()
    }

    fn create_key(ks: &mut Keystore) -> String {
        field(
            &call(
                ks,
                "CreateRSAKeyPair",
                "<tas:KeyLength>2048</tas:KeyLength>",
            )
            .expect("key"),
            "KeyID",
        )
    }

    /// subjectAltName extension value (RFC 5280 §4.2.1.6): dNSName camera.local, iPAddress 127.0.0.1.
    fn san_der() -> Vec<u8> {
        let mut names = vec![0x82, 12];
        names.extend(b"camera.local");
        names.extend([0x87, 4, 127, 0, 0, 1]);
        let mut der = vec![0x30, names.len() as u8];
        der.extend(names);
        der
    }

    fn csr_request(key_id: &str) -> String {
        format!(
            "<tas:Subject><tas:Country>DE</tas:Country><tas:Organization>Camward Test</tas:Organization>\
             <tas:CommonName>camera.local</tas:CommonName></tas:Subject><tas:KeyID>{key_id}</tas:KeyID>\
             <tas:CSRAttribute><tas:X509v3Extension><tas:extnOID>2.5.29.17</tas:extnOID>\
             <tas:critical>false</tas:critical><tas:extnValue>{}</tas:extnValue></tas:X509v3Extension></tas:CSRAttribute>\
             <tas:SignatureAlgorithm><tas:algorithm>1.2.840.113549.1.1.11</tas:algorithm></tas:SignatureAlgorithm>",
            b64(&san_der())
        )
    }

    struct TestCa {
        issuer: Issuer<'static, KeyPair>,
        der: Vec<u8>,
    }

    fn test_ca() -> TestCa {
        let key = KeyPair::generate().expect("ECDSA key");
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::CommonName, "Camward Test CA");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let cert = params.self_signed(&key).expect("CA cert");
        TestCa {
            der: cert.der().to_vec(),
            issuer: Issuer::new(params, key),
        }
    }

    fn openssl_verifies_csr(der: &[u8]) -> bool {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("csr.der");
        std::fs::write(&path, der).expect("write csr");
        let out = std::process::Command::new("openssl")
            .args(["req", "-verify", "-noout", "-inform", "DER", "-in"])
            .arg(&path)
            .output()
            .expect("openssl runs");
        // OpenSSL 3 exits 0 even when the self-signature fails, so its verdict line is checked too.
        let verdict = String::from_utf8_lossy(&out.stderr).to_string()
            + &String::from_utf8_lossy(&out.stdout);
        out.status.success() && verdict.contains("verify OK")
    }

    #[test]
    fn keystore_lifecycle_from_key_to_served_identity() {
        let mut ks = Keystore::default();
        let key_id = create_key(&mut ks);
        assert_eq!(
            field(
                &call(
                    &mut ks,
                    "GetKeyStatus",
                    &format!("<tas:KeyID>{key_id}</tas:KeyID>")
                )
                .unwrap(),
                "KeyStatus"
            ),
            "ok"
        );

        let csr_b64 = field(
            &call(&mut ks, "CreatePKCS10CSR", &csr_request(&key_id)).unwrap(),
            "PKCS10CSR",
        );
        let csr_der = base64::engine::general_purpose::STANDARD
            .decode(csr_b64)
            .unwrap();
        assert!(
            openssl_verifies_csr(&csr_der),
            "openssl must accept the CSR signature"
        );
        // A CSR with a flipped signature bit must not verify, or the check above proves nothing.
        let mut broken = csr_der.clone();
        let last = broken.len() - 1;
        broken[last] ^= 1;
        assert!(!openssl_verifies_csr(&broken));

        // The CA signs the request; rcgen re-checks the signature and carries the requested SANs.
        let ca = test_ca();
        let request = CertificateSigningRequestParams::from_der(&csr_der.clone().into()).unwrap();
        assert_eq!(
            request.params.subject_alt_names.len(),
            2,
            "SANs carried from the request"
        );
        let leaf = request.signed_by(&ca.issuer).unwrap();

        let upload = |ks: &mut Keystore, der: &[u8], required: bool| {
            call(
                ks,
                "UploadCertificate",
                &format!(
                    "<tas:Certificate>{}</tas:Certificate><tas:Alias>a</tas:Alias>\
                     <tas:PrivateKeyRequired>{required}</tas:PrivateKeyRequired>",
                    b64(der)
                ),
            )
        };
        let reply = upload(&mut ks, leaf.der(), true).unwrap();
        let leaf_id = field(&reply, "CertificateID");
        assert_eq!(
            field(&reply, "KeyID"),
            key_id,
            "the certificate is linked to the key that made the CSR"
        );
        let ca_reply = upload(&mut ks, &ca.der, false).unwrap();
        let ca_id = field(&ca_reply, "CertificateID");
        assert_ne!(field(&ca_reply, "KeyID"), key_id);

        // A path in the wrong order is not a chain.
        let wrong = format!("<tas:CertificateIDs><tas:CertificateID>{ca_id}</tas:CertificateID><tas:CertificateID>{leaf_id}</tas:CertificateID></tas:CertificateIDs>");
        assert_eq!(
            call(&mut ks, "CreateCertificationPath", &wrong)
                .unwrap_err()
                .subcodes,
            ["InvalidArgVal", "InvalidCertificateChain"]
        );
        let ids = format!("<tas:CertificateIDs><tas:CertificateID>{leaf_id}</tas:CertificateID><tas:CertificateID>{ca_id}</tas:CertificateID></tas:CertificateIDs>");
        let path_id = field(
            &call(&mut ks, "CreateCertificationPath", &ids).unwrap(),
            "CertificationPathID",
        );

        assert!(ks.assigned_server_identity().is_none());
        call(
            &mut ks,
            "AddServerCertificateAssignment",
            &format!("<tas:CertificationPathID>{path_id}</tas:CertificationPathID>"),
        )
        .unwrap();
        let identity = ks.assigned_server_identity().expect("assigned");
        assert_eq!(
            identity.chain_der,
            vec![leaf.der().to_vec(), ca.der.clone()]
        );
        let expected_key = ks
            .key(&key_id)
            .and_then(|k| k.private_pkcs8_der.clone())
            .unwrap();
        assert_eq!(identity.key_pkcs8_der, expected_key);
        assert_eq!(
            field(
                &call(&mut ks, "GetAssignedServerCertificates", "").unwrap(),
                "CertificationPathID"
            ),
            path_id
        );

        // Referenced objects cannot be deleted out from under the TLS server.
        let fault = call(
            &mut ks,
            "DeleteCertificationPath",
            &format!("<tas:CertificationPathID>{path_id}</tas:CertificationPathID>"),
        )
        .unwrap_err();
        assert_eq!(fault.subcodes, ["Action", "ReferenceExists"]);
        let fault = call(
            &mut ks,
            "DeleteKey",
            &format!("<tas:KeyID>{key_id}</tas:KeyID>"),
        )
        .unwrap_err();
        assert_eq!(fault.subcodes, ["Action", "ReferenceExists"]);

        call(
            &mut ks,
            "RemoveServerCertificateAssignment",
            &format!("<tas:CertificationPathID>{path_id}</tas:CertificationPathID>"),
        )
        .unwrap();
        assert!(ks.assigned_server_identity().is_none());
        // The Debug output names IDs only, never key material.
        let debug = format!("{ks:?}");
        assert!(debug.contains(&key_id) && debug.len() < 400, "{debug}");
        recorded::validate();
    }

    #[test]
    fn upload_refuses_a_certificate_whose_private_key_is_elsewhere() {
        let mut ks = Keystore::default();
        create_key(&mut ks);
        let ca = test_ca();
        let body = format!("<tas:Certificate>{}</tas:Certificate><tas:PrivateKeyRequired>true</tas:PrivateKeyRequired>", b64(&ca.der));
        let fault = call(&mut ks, "UploadCertificate", &body).unwrap_err();
        assert_eq!(fault.subcodes, ["InvalidArgVal", "NoMatchingPrivateKey"]);
        assert!(
            ks.certificates.is_empty() && ks.keys.len() == 1,
            "nothing stored on refusal"
        );
        recorded::validate();
    }

    #[test]
    fn self_signed_certificate_is_real_and_servable() {
        let mut ks = Keystore::default();
        let key_id = create_key(&mut ks);
        let body = format!(
            "<tas:Subject><tas:CommonName>cam-1</tas:CommonName></tas:Subject><tas:KeyID>{key_id}</tas:KeyID>\
             <tas:Alias>web</tas:Alias><tas:notValidBefore>2026-01-01T00:00:00Z</tas:notValidBefore>\
             <tas:notValidAfter>2027-01-01T00:00:00Z</tas:notValidAfter>\
             <tas:SignatureAlgorithm><tas:algorithm>1.2.840.113549.1.1.11</tas:algorithm></tas:SignatureAlgorithm>"
        );
        let cert_id = field(
            &call(&mut ks, "CreateSelfSignedCertificate", &body).unwrap(),
            "CertificateID",
        );
        let reply = call(
            &mut ks,
            "GetCertificate",
            &format!("<tas:CertificateID>{cert_id}</tas:CertificateID>"),
        )
        .unwrap();
        let der = base64::engine::general_purpose::STANDARD
            .decode(field(&reply, "CertificateContent"))
            .unwrap();
        let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
        assert_eq!(cert.subject().to_string(), "CN=cam-1");
        assert_eq!(cert.issuer().to_string(), "CN=cam-1");
        assert_eq!(cert.validity().not_before.timestamp(), 1_767_225_600);
        cert.verify_signature(None)
            .expect("self-signature verifies");
        assert_eq!(field(&reply, "HasPrivateKey"), "true");
        recorded::validate();
    }

    #[test]
    fn malformed_requests_are_refused_with_specific_faults() {
        let mut ks = Keystore::default();
        let sub = |r: Result<String, SimFault>| r.unwrap_err().subcodes;
        assert_eq!(
            sub(call(
                &mut ks,
                "CreateRSAKeyPair",
                "<tas:KeyLength>1024</tas:KeyLength>"
            )),
            ["InvalidArgVal", "KeyLength"]
        );
        assert_eq!(
            sub(call(
                &mut ks,
                "UploadCertificate",
                "<tas:Certificate>AAAA</tas:Certificate>"
            )),
            ["InvalidArgVal", "BadCertificate"]
        );
        assert_eq!(
            sub(call_unchecked(
                &mut ks,
                "UploadCertificate",
                "<tas:Certificate>!!</tas:Certificate>"
            )),
            ["InvalidArgVal", "BadCertificate"]
        );
        assert_eq!(
            sub(call(&mut ks, "GetKeyStatus", "<tas:KeyID>nope</tas:KeyID>")),
            ["InvalidArgVal", "KeyID"]
        );
        assert_eq!(
            sub(call(&mut ks, "CreatePKCS10CSR", &csr_request("nope"))),
            ["InvalidArgVal", "KeyID"]
        );
        let unknown = "<tas:CertificateIDs><tas:CertificateID>cert99</tas:CertificateID></tas:CertificateIDs>";
        assert_eq!(
            sub(call(&mut ks, "CreateCertificationPath", unknown)),
            ["InvalidArgVal", "CertificateID"]
        );
        assert_eq!(
            sub(call(
                &mut ks,
                "AddServerCertificateAssignment",
                "<tas:CertificationPathID>p</tas:CertificationPathID>"
            )),
            ["InvalidArgVal", "CertificationPathID"]
        );
        let key_id = create_key(&mut ks);
        let md5 = csr_request(&key_id).replace("1.2.840.113549.1.1.11", "1.2.840.113549.1.1.4");
        assert_eq!(
            sub(call(&mut ks, "CreatePKCS10CSR", &md5)),
            ["InvalidArgVal", "SignatureAlgorithmNotSupported"]
        );
        assert_eq!(
            sub(call_unchecked(&mut ks, "SetCertificationPath", "")),
            ["ActionNotSupported"]
        );
        assert_eq!(access_class("SetCertificationPath"), None);
        assert_eq!(
            access_class("GetAllKeys"),
            Some(AccessClass::ReadSystemSecret)
        );
        assert_eq!(
            access_class("UploadCertificate"),
            Some(AccessClass::WriteSystem)
        );
        recorded::validate();
    }
}

/// Schema validation of the messages a test exchanged, shared by the security and media2 tests.
#[cfg(test)]
pub(crate) mod recorded {
    use std::cell::RefCell;
    use std::path::Path;

    thread_local! {
        // Each test runs on its own thread, so a thread-local keeps tests' messages apart.
        static MESSAGES: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    }

    /// Remembers one request or reply payload.
    pub(crate) fn record(xml: &str) {
        MESSAGES.with(|m| m.borrow_mut().push(xml.to_string()));
    }

    /// Validates this thread's recorded messages with the ONVIF schema validator, then forgets them.
    pub(crate) fn validate() {
        let messages = MESSAGES.with(|m| std::mem::take(&mut *m.borrow_mut()));
        assert!(!messages.is_empty(), "nothing recorded");
        let dir = tempfile::tempdir().expect("tempdir");
        let mut files = Vec::new();
        for (i, xml) in messages.iter().enumerate() {
            let path = dir.path().join(format!("{i:03}.xml"));
            std::fs::write(&path, xml).expect("write message");
            files.push(path);
        }
        let validator =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/onvif-schema/validate");
        let out = std::process::Command::new(validator)
            .args(&files)
            .output()
            .expect("validator runs");
        assert!(
            out.status.success(),
            "schema validation failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
