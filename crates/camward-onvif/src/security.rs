//! Advanced Security operations: the keystore and the TLS server certificate
//! (advancedsecurity.wsdl, ONVIF Advanced Security Service Specification §5.1 keystore, §5.2 TLS
//! server).
//!
//! Glossary: a *key* is an RSA key pair on the camera (KeyID); a *certificate* is an X.509
//! certificate stored on the camera (CertificateID); a *certification path* is an ordered chain of
//! stored certificates (CertificationPathID) that the TLS server can present once *assigned*.
//! Binary values travel as base64 of DER (`tas:Base64DERencodedASN1Value`).

use base64::Engine as _;
use time::OffsetDateTime;

use crate::camera::{Camera, Service};
use crate::device::{empty_request, parse_empty, Payload};
use crate::error::{malformed, OnvifError};
use crate::ns::TAS;
use crate::transport::Transport;
use crate::xml::{child, children, opt_text, parse_bool, parse_num, req_child, req_text, text};

type Node<'a, 'i> = roxmltree::Node<'a, 'i>;

const SEC: &[(&str, &str)] = &[("xmlns:tas", TAS)];

/// OID of sha256WithRSAEncryption (RFC 4055 §5).
pub const SHA256_WITH_RSA: &str = "1.2.840.113549.1.1.11";

/// Keystore and TLS server capabilities (tas:Capabilities); absent attributes read as false/empty.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SecurityCapabilities {
    /// Maximum number of keys.
    pub max_keys: Option<u32>,
    /// Maximum number of certificates.
    pub max_certificates: Option<u32>,
    /// Maximum number of certification paths.
    pub max_certification_paths: Option<u32>,
    /// RSA key pair generation on the camera.
    pub rsa_key_pair_generation: bool,
    /// Supported RSA key lengths.
    pub rsa_key_lengths: Vec<u32>,
    /// PKCS#10 CSR creation for RSA keys.
    pub pkcs10: bool,
    /// Self-signed certificate creation.
    pub self_signed_certificate_creation: bool,
    /// Signature algorithm OIDs the camera supports.
    pub signature_algorithms: Vec<String>,
    /// TLS versions the server supports, e.g. `["1.2", "1.3"]`.
    pub tls_server_versions: Vec<String>,
    /// Maximum number of certification paths the TLS server can use at once.
    pub max_tls_certification_paths: Option<u32>,
    /// 802.1X (tas:Dot1XCapabilities); `None` when the camera does not report it.
    pub dot1x: Option<Dot1xCapabilities>,
}

/// What the camera's 802.1X supplicant supports (tas:Dot1XCapabilities).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Dot1xCapabilities {
    /// How many 802.1X configurations the camera keeps at once.
    pub max_configurations: Option<u32>,
    /// Methods, outer and inner separated by `/`, e.g. `EAP-TLS`, `EAP-PEAP/MSCHAPv2`.
    pub methods: Vec<String>,
}

/// Reply of CreateRSAKeyPair.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KeyCreation {
    /// The new key's ID.
    pub key_id: String,
    /// The camera's estimate of how long generation takes, as an `xs:duration` (e.g. `PT30S`).
    pub estimated_creation_time: String,
}

/// Status of a key (GetKeyStatus).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum KeyStatus {
    /// Ready to use.
    Ok,
    /// Still being generated.
    Generating,
    /// Unusable.
    Corrupt,
    /// A value outside the specification.
    Other(String),
}

/// A distinguished name (tas:DistinguishedName), with the attributes commissioning uses.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DistinguishedName {
    /// C.
    pub country: Option<String>,
    /// O.
    pub organization: Option<String>,
    /// OU.
    pub organizational_unit: Option<String>,
    /// ST.
    pub state_or_province: Option<String>,
    /// L.
    pub locality: Option<String>,
    /// CN.
    pub common_name: Option<String>,
}

/// An X.509v3 extension to request (tas:X509v3Extension): the caller provides the DER of the
/// extension value, e.g. a SubjectAltName built with rcgen or x509 libraries.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct X509Extension {
    /// Extension OID in dot-decimal form (SubjectAltName is `2.5.29.17`).
    pub oid: String,
    /// Critical flag.
    pub critical: bool,
    /// DER of the extension value (the content of the OCTET STRING `extnValue`).
    pub value_der: Vec<u8>,
}

/// CreatePKCS10CSR arguments.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CsrRequest {
    /// The subject.
    pub subject: DistinguishedName,
    /// The key to certify.
    pub key_id: String,
    /// Extensions to request (sent as CSRAttribute/X509v3Extension).
    pub extensions: Vec<X509Extension>,
    /// Signature algorithm OID, normally [`SHA256_WITH_RSA`].
    pub signature_algorithm: String,
}

/// CreateSelfSignedCertificate arguments.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SelfSignedRequest {
    /// X.509 version, when the caller wants to name it (3).
    pub x509_version: Option<u32>,
    /// The subject (and issuer).
    pub subject: DistinguishedName,
    /// The key to certify.
    pub key_id: String,
    /// Alias for the certificate.
    pub alias: Option<String>,
    /// Start of validity.
    pub not_valid_before: Option<OffsetDateTime>,
    /// End of validity.
    pub not_valid_after: Option<OffsetDateTime>,
    /// Signature algorithm OID.
    pub signature_algorithm: String,
}

/// UploadCertificate arguments.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UploadRequest {
    /// The certificate, DER.
    pub certificate_der: Vec<u8>,
    /// Alias for the certificate.
    pub alias: Option<String>,
    /// Alias of the key pair the camera creates or finds for the public key.
    pub key_alias: Option<String>,
    /// Require that the camera holds the private key.
    pub private_key_required: bool,
}

/// Reply of UploadCertificate.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UploadedCertificate {
    /// The new certificate's ID.
    pub certificate_id: String,
    /// The ID of the key pair the certificate's public key belongs to.
    pub key_id: String,
}

/// A stored certificate (tas:X509Certificate).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoredCertificate {
    /// Certificate ID.
    pub certificate_id: String,
    /// Key ID of its public key.
    pub key_id: String,
    /// Alias.
    pub alias: Option<String>,
    /// The certificate, DER.
    pub der: Vec<u8>,
}

// Request writers.

/// Writes a `tas:DistinguishedName`-typed element.
fn write_dn(p: &mut Payload, name: &str, dn: &DistinguishedName) {
    p.start(name);
    // Element order follows tas:DistinguishedName (a sequence).
    let fields = [
        ("tas:Country", &dn.country),
        ("tas:Organization", &dn.organization),
        ("tas:OrganizationalUnit", &dn.organizational_unit),
        ("tas:StateOrProvinceName", &dn.state_or_province),
        ("tas:CommonName", &dn.common_name),
        ("tas:Locality", &dn.locality),
    ];
    for (element, value) in fields {
        if let Some(value) = value {
            p.leaf(element, value);
        }
    }
    p.end(name);
}

fn write_algorithm(p: &mut Payload, oid: &str) {
    p.start("tas:SignatureAlgorithm")
        .leaf("tas:algorithm", oid)
        .end("tas:SignatureAlgorithm");
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn unb64(s: &str) -> Result<Vec<u8>, OnvifError> {
    let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|_| malformed("invalid base64 DER value"))
}

/// Advanced Security GetServiceCapabilities request.
pub fn write_get_security_capabilities() -> String {
    empty_request("tas:GetServiceCapabilities", SEC)
}

/// CreateRSAKeyPair request.
pub fn write_create_rsa_key_pair(key_length: u32, alias: Option<&str>) -> String {
    let root = "tas:CreateRSAKeyPair";
    let mut p = Payload::new(root, SEC);
    p.leaf("tas:KeyLength", &key_length.to_string());
    if let Some(alias) = alias {
        p.leaf("tas:Alias", alias);
    }
    p.finish(root)
}

/// GetKeyStatus request.
pub fn write_get_key_status(key_id: &str) -> String {
    let root = "tas:GetKeyStatus";
    let mut p = Payload::new(root, SEC);
    p.leaf("tas:KeyID", key_id);
    p.finish(root)
}

/// CreatePKCS10CSR request.
pub fn write_create_pkcs10_csr(req: &CsrRequest) -> String {
    let root = "tas:CreatePKCS10CSR";
    let mut p = Payload::new(root, SEC);
    write_dn(&mut p, "tas:Subject", &req.subject);
    p.leaf("tas:KeyID", &req.key_id);
    for ext in &req.extensions {
        p.start("tas:CSRAttribute")
            .start("tas:X509v3Extension")
            .leaf("tas:extnOID", &ext.oid)
            .flag("tas:critical", ext.critical)
            .leaf("tas:extnValue", &b64(&ext.value_der))
            .end("tas:X509v3Extension")
            .end("tas:CSRAttribute");
    }
    write_algorithm(&mut p, &req.signature_algorithm);
    p.finish(root)
}

/// CreateSelfSignedCertificate request.
pub fn write_create_self_signed_certificate(req: &SelfSignedRequest) -> String {
    let root = "tas:CreateSelfSignedCertificate";
    let mut p = Payload::new(root, SEC);
    if let Some(v) = req.x509_version {
        p.leaf("tas:X509Version", &v.to_string());
    }
    write_dn(&mut p, "tas:Subject", &req.subject);
    p.leaf("tas:KeyID", &req.key_id);
    if let Some(alias) = &req.alias {
        p.leaf("tas:Alias", alias);
    }
    if let Some(t) = req.not_valid_before {
        p.leaf("tas:notValidBefore", &crate::xml::xs_date_time(t));
    }
    if let Some(t) = req.not_valid_after {
        p.leaf("tas:notValidAfter", &crate::xml::xs_date_time(t));
    }
    write_algorithm(&mut p, &req.signature_algorithm);
    p.finish(root)
}

/// UploadCertificate request.
pub fn write_upload_certificate(req: &UploadRequest) -> String {
    let root = "tas:UploadCertificate";
    let mut p = Payload::new(root, SEC);
    p.leaf("tas:Certificate", &b64(&req.certificate_der));
    if let Some(alias) = &req.alias {
        p.leaf("tas:Alias", alias);
    }
    if let Some(alias) = &req.key_alias {
        p.leaf("tas:KeyAlias", alias);
    }
    p.flag("tas:PrivateKeyRequired", req.private_key_required);
    p.finish(root)
}

/// GetAllCertificates request.
pub fn write_get_all_certificates() -> String {
    empty_request("tas:GetAllCertificates", SEC)
}

/// CreateCertificationPath request: `certificate_ids` from the leaf to the root.
pub fn write_create_certification_path(certificate_ids: &[&str], alias: Option<&str>) -> String {
    let root = "tas:CreateCertificationPath";
    let mut p = Payload::new(root, SEC);
    p.start("tas:CertificateIDs");
    for id in certificate_ids {
        p.leaf("tas:CertificateID", id);
    }
    p.end("tas:CertificateIDs");
    if let Some(alias) = alias {
        p.leaf("tas:Alias", alias);
    }
    p.finish(root)
}

fn write_path_op(action: &str, path_id: &str) -> String {
    let root = format!("tas:{action}");
    let mut p = Payload::new(&root, SEC);
    p.leaf("tas:CertificationPathID", path_id);
    p.finish(&root)
}

/// AddServerCertificateAssignment request.
pub fn write_add_server_certificate_assignment(path_id: &str) -> String {
    write_path_op("AddServerCertificateAssignment", path_id)
}

/// RemoveServerCertificateAssignment request.
pub fn write_remove_server_certificate_assignment(path_id: &str) -> String {
    write_path_op("RemoveServerCertificateAssignment", path_id)
}

/// GetAssignedServerCertificates request.
pub fn write_get_assigned_server_certificates() -> String {
    empty_request("tas:GetAssignedServerCertificates", SEC)
}

// Reply parsers.

fn bool_attr(node: Node<'_, '_>, name: &str) -> Result<bool, OnvifError> {
    node.attribute(name)
        .map(parse_bool)
        .transpose()
        .map(Option::unwrap_or_default)
}

fn num_attr(node: Node<'_, '_>, name: &str) -> Result<Option<u32>, OnvifError> {
    node.attribute(name).map(parse_num).transpose()
}

/// Reads an Advanced Security GetServiceCapabilitiesResponse payload.
pub fn parse_security_capabilities(node: Node<'_, '_>) -> Result<SecurityCapabilities, OnvifError> {
    let caps = req_child(node, TAS, "Capabilities")?;
    let keystore = req_child(caps, TAS, "KeystoreCapabilities")?;
    let mut out = SecurityCapabilities {
        max_keys: num_attr(keystore, "MaximumNumberOfKeys")?,
        max_certificates: num_attr(keystore, "MaximumNumberOfCertificates")?,
        max_certification_paths: num_attr(keystore, "MaximumNumberOfCertificationPaths")?,
        rsa_key_pair_generation: bool_attr(keystore, "RSAKeyPairGeneration")?,
        rsa_key_lengths: keystore
            .attribute("RSAKeyLengths")
            .unwrap_or_default()
            .split_whitespace()
            .map(parse_num)
            .collect::<Result<_, _>>()?,
        // PKCS10ExternalCertificationWithRSA is the pre-2017 name of the same capability.
        pkcs10: bool_attr(keystore, "PKCS10")?
            || bool_attr(keystore, "PKCS10ExternalCertificationWithRSA")?,
        self_signed_certificate_creation: bool_attr(keystore, "SelfSignedCertificateCreation")?
            || bool_attr(keystore, "SelfSignedCertificateCreationWithRSA")?,
        signature_algorithms: children(keystore, TAS, "SignatureAlgorithms")
            .map(|a| req_text(a, TAS, "algorithm"))
            .collect::<Result<_, _>>()?,
        ..SecurityCapabilities::default()
    };
    if let Some(tls) = child(caps, TAS, "TLSServerCapabilities") {
        out.tls_server_versions = tls
            .attribute("TLSServerSupported")
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        out.max_tls_certification_paths = num_attr(tls, "MaximumNumberOfTLSCertificationPaths")?;
    }
    if let Some(dot1x) = child(caps, TAS, "Dot1XCapabilities") {
        out.dot1x = Some(Dot1xCapabilities {
            max_configurations: num_attr(dot1x, "MaximumNumberOfDot1XConfigurations")?,
            methods: dot1x
                .attribute("Dot1XMethods")
                .unwrap_or_default()
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
        });
    }
    Ok(out)
}

/// Reads a CreateRSAKeyPairResponse payload.
pub fn parse_create_rsa_key_pair(node: Node<'_, '_>) -> Result<KeyCreation, OnvifError> {
    Ok(KeyCreation {
        key_id: req_text(node, TAS, "KeyID")?,
        estimated_creation_time: req_text(node, TAS, "EstimatedCreationTime")?,
    })
}

/// Reads a GetKeyStatusResponse payload.
pub fn parse_key_status(node: Node<'_, '_>) -> Result<KeyStatus, OnvifError> {
    Ok(match req_text(node, TAS, "KeyStatus")?.as_str() {
        "ok" => KeyStatus::Ok,
        "generating" => KeyStatus::Generating,
        "corrupt" => KeyStatus::Corrupt,
        other => KeyStatus::Other(other.to_owned()),
    })
}

/// Reads a CreatePKCS10CSRResponse payload: the CSR, DER.
pub fn parse_pkcs10_csr(node: Node<'_, '_>) -> Result<Vec<u8>, OnvifError> {
    unb64(&req_text(node, TAS, "PKCS10CSR")?)
}

/// Reads a reply whose only content is a CertificateID.
pub fn parse_certificate_id(node: Node<'_, '_>) -> Result<String, OnvifError> {
    req_text(node, TAS, "CertificateID")
}

/// Reads an UploadCertificateResponse payload.
pub fn parse_upload_certificate(node: Node<'_, '_>) -> Result<UploadedCertificate, OnvifError> {
    Ok(UploadedCertificate {
        certificate_id: req_text(node, TAS, "CertificateID")?,
        key_id: req_text(node, TAS, "KeyID")?,
    })
}

/// Reads a GetAllCertificatesResponse payload.
pub fn parse_all_certificates(node: Node<'_, '_>) -> Result<Vec<StoredCertificate>, OnvifError> {
    children(node, TAS, "Certificate")
        .map(|c| {
            Ok(StoredCertificate {
                certificate_id: req_text(c, TAS, "CertificateID")?,
                key_id: req_text(c, TAS, "KeyID")?,
                alias: opt_text(c, TAS, "Alias"),
                der: unb64(&req_text(c, TAS, "CertificateContent")?)?,
            })
        })
        .collect()
}

/// Reads a CreateCertificationPathResponse payload.
pub fn parse_certification_path_id(node: Node<'_, '_>) -> Result<String, OnvifError> {
    req_text(node, TAS, "CertificationPathID")
}

/// Reads a GetAssignedServerCertificatesResponse payload.
pub fn parse_assigned_server_certificates(node: Node<'_, '_>) -> Result<Vec<String>, OnvifError> {
    Ok(children(node, TAS, "CertificationPathID")
        .map(text)
        .collect())
}

// Operations.

impl<T: Transport> Camera<T> {
    async fn security_op<R>(
        &self,
        action: &str,
        payload: &str,
        parse: impl FnOnce(Node<'_, '_>) -> Result<R, OnvifError>,
    ) -> Result<R, OnvifError> {
        let reply = self
            .call(Service::AdvancedSecurity, action, payload, false)
            .await?;
        reply.with_payload(parse)
    }

    /// Advanced Security GetServiceCapabilities.
    pub async fn get_security_capabilities(&self) -> Result<SecurityCapabilities, OnvifError> {
        self.security_op(
            "GetServiceCapabilities",
            &write_get_security_capabilities(),
            parse_security_capabilities,
        )
        .await
    }

    /// CreateRSAKeyPair; poll [`Camera::get_key_status`] until the key is ready.
    pub async fn create_rsa_key_pair(
        &self,
        key_length: u32,
        alias: Option<&str>,
    ) -> Result<KeyCreation, OnvifError> {
        self.security_op(
            "CreateRSAKeyPair",
            &write_create_rsa_key_pair(key_length, alias),
            parse_create_rsa_key_pair,
        )
        .await
    }

    /// GetKeyStatus.
    pub async fn get_key_status(&self, key_id: &str) -> Result<KeyStatus, OnvifError> {
        self.security_op(
            "GetKeyStatus",
            &write_get_key_status(key_id),
            parse_key_status,
        )
        .await
    }

    /// CreatePKCS10CSR; returns the CSR, DER.
    pub async fn create_pkcs10_csr(&self, req: &CsrRequest) -> Result<Vec<u8>, OnvifError> {
        self.security_op(
            "CreatePKCS10CSR",
            &write_create_pkcs10_csr(req),
            parse_pkcs10_csr,
        )
        .await
    }

    /// CreateSelfSignedCertificate; returns the CertificateID.
    pub async fn create_self_signed_certificate(
        &self,
        req: &SelfSignedRequest,
    ) -> Result<String, OnvifError> {
        self.security_op(
            "CreateSelfSignedCertificate",
            &write_create_self_signed_certificate(req),
            parse_certificate_id,
        )
        .await
    }

    /// UploadCertificate.
    pub async fn upload_certificate(
        &self,
        req: &UploadRequest,
    ) -> Result<UploadedCertificate, OnvifError> {
        self.security_op(
            "UploadCertificate",
            &write_upload_certificate(req),
            parse_upload_certificate,
        )
        .await
    }

    /// GetAllCertificates.
    pub async fn get_all_certificates(&self) -> Result<Vec<StoredCertificate>, OnvifError> {
        self.security_op(
            "GetAllCertificates",
            &write_get_all_certificates(),
            parse_all_certificates,
        )
        .await
    }

    /// CreateCertificationPath; returns the CertificationPathID.
    pub async fn create_certification_path(
        &self,
        certificate_ids: &[&str],
        alias: Option<&str>,
    ) -> Result<String, OnvifError> {
        self.security_op(
            "CreateCertificationPath",
            &write_create_certification_path(certificate_ids, alias),
            parse_certification_path_id,
        )
        .await
    }

    /// AddServerCertificateAssignment: the TLS server starts presenting the path.
    pub async fn add_server_certificate_assignment(&self, path_id: &str) -> Result<(), OnvifError> {
        self.security_op(
            "AddServerCertificateAssignment",
            &write_add_server_certificate_assignment(path_id),
            parse_empty,
        )
        .await
    }

    /// GetAssignedServerCertificates: the CertificationPathIDs in use by the TLS server.
    pub async fn get_assigned_server_certificates(&self) -> Result<Vec<String>, OnvifError> {
        self.security_op(
            "GetAssignedServerCertificates",
            &write_get_assigned_server_certificates(),
            parse_assigned_server_certificates,
        )
        .await
    }

    /// RemoveServerCertificateAssignment.
    pub async fn remove_server_certificate_assignment(
        &self,
        path_id: &str,
    ) -> Result<(), OnvifError> {
        self.security_op(
            "RemoveServerCertificateAssignment",
            &write_remove_server_certificate_assignment(path_id),
            parse_empty,
        )
        .await
    }
}

// Keys made elsewhere (UploadCertificateWithPrivateKeyInPKCS12) and 802.1X (AddDot1XConfiguration
// and the network interface's assignment; the RADIUS server is trusted through a certification
// path validation policy whose trust anchors are stored CA certificates).

/// UploadCertificateWithPrivateKeyInPKCS12 arguments. `passphrase` opens the PKCS#12 (integrity
/// and encryption); it is sent in the request body only, and never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Pkcs12Upload {
    /// The PKCS#12 file (RFC 7292), DER.
    pub pkcs12_der: Vec<u8>,
    /// Alias of the certification path the camera creates.
    pub certification_path_alias: Option<String>,
    /// Alias of the key pair.
    pub key_alias: Option<String>,
    /// Whether the camera keeps only the first certificate (no chain).
    pub ignore_additional_certificates: bool,
    /// The passphrase of the PKCS#12 file.
    pub passphrase: String,
}

impl std::fmt::Debug for Pkcs12Upload {
    // The file holds a private key and the passphrase opens it: neither may reach a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs12Upload")
            .field("certification_path_alias", &self.certification_path_alias)
            .field("key_alias", &self.key_alias)
            .finish_non_exhaustive()
    }
}

/// Reply of UploadCertificateWithPrivateKeyInPKCS12.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UploadedPkcs12 {
    /// The certification path the camera created (leaf first).
    pub certification_path_id: String,
    /// The key pair the camera now holds.
    pub key_id: String,
}

/// One stage of an 802.1X method (tas:Dot1XStage).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Dot1xStage {
    /// The method, e.g. `EAP-TLS`.
    pub method: String,
    /// The identity (EAP-TLS: usually the certificate's subject name).
    pub identity: Option<String>,
    /// The client certificate's certification path (EAP-TLS).
    pub certification_path_id: Option<String>,
    /// A stored passphrase (password methods).
    pub passphrase_id: Option<String>,
    /// The certification path validation policy the authentication server's certificate must
    /// pass (its trust anchors are the RADIUS server's CA certificates).
    pub cert_path_validation_policy_id: Option<String>,
    /// The inner method, for tunnelled methods (PEAP).
    pub inner: Option<Box<Dot1xStage>>,
}

/// An 802.1X configuration (tas:Dot1XConfiguration).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Dot1xConfiguration {
    /// Its ID on the camera (absent in AddDot1XConfiguration).
    pub id: Option<String>,
    /// Alias.
    pub alias: Option<String>,
    /// The outer method.
    pub outer: Dot1xStage,
}

fn write_dot1x_stage(p: &mut Payload, name: &str, stage: &Dot1xStage) {
    let mut attrs = vec![("Method", stage.method.as_str())];
    if let Some(policy) = &stage.cert_path_validation_policy_id {
        attrs.push(("CertPathValidationPolicyID", policy));
    }
    p.start_with(name, &attrs);
    if let Some(v) = &stage.identity {
        p.leaf("tas:Identity", v);
    }
    if let Some(v) = &stage.certification_path_id {
        p.leaf("tas:CertificationPathID", v);
    }
    if let Some(v) = &stage.passphrase_id {
        p.leaf("tas:PassphraseID", v);
    }
    if let Some(inner) = &stage.inner {
        write_dot1x_stage(p, "tas:Inner", inner);
    }
    p.end(name);
}

/// UploadCertificateWithPrivateKeyInPKCS12 request.
pub fn write_upload_pkcs12(req: &Pkcs12Upload) -> String {
    let root = "tas:UploadCertificateWithPrivateKeyInPKCS12";
    let mut p = Payload::new(root, SEC);
    p.leaf("tas:CertWithPrivateKey", &b64(&req.pkcs12_der));
    if let Some(alias) = &req.certification_path_alias {
        p.leaf("tas:CertificationPathAlias", alias);
    }
    if let Some(alias) = &req.key_alias {
        p.leaf("tas:KeyAlias", alias);
    }
    p.flag(
        "tas:IgnoreAdditionalCertificates",
        req.ignore_additional_certificates,
    );
    p.leaf("tas:Passphrase", &req.passphrase);
    p.finish(root)
}

/// CreateCertPathValidationPolicy request: paths are valid when they lead to one of the
/// `trust_anchor_ids` (stored CA certificates).
pub fn write_create_cert_path_validation_policy(
    alias: Option<&str>,
    trust_anchor_ids: &[&str],
) -> String {
    let root = "tas:CreateCertPathValidationPolicy";
    let mut p = Payload::new(root, SEC);
    if let Some(alias) = alias {
        p.leaf("tas:Alias", alias);
    }
    p.start("tas:Parameters").end("tas:Parameters");
    for id in trust_anchor_ids {
        p.start("tas:TrustAnchor")
            .leaf("tas:CertificateID", id)
            .end("tas:TrustAnchor");
    }
    p.finish(root)
}

/// AddDot1XConfiguration request (the configuration's `id` is not sent: the camera assigns it).
pub fn write_add_dot1x_configuration(config: &Dot1xConfiguration) -> String {
    let root = "tas:AddDot1XConfiguration";
    let mut p = Payload::new(root, SEC);
    p.start("tas:Dot1XConfiguration");
    if let Some(alias) = &config.alias {
        p.leaf("tas:Alias", alias);
    }
    write_dot1x_stage(&mut p, "tas:Outer", &config.outer);
    p.end("tas:Dot1XConfiguration");
    p.finish(root)
}

/// GetAllDot1XConfigurations request.
pub fn write_get_all_dot1x_configurations() -> String {
    empty_request("tas:GetAllDot1XConfigurations", SEC)
}

/// DeleteDot1XConfiguration request.
pub fn write_delete_dot1x_configuration(dot1x_id: &str) -> String {
    let root = "tas:DeleteDot1XConfiguration";
    let mut p = Payload::new(root, SEC);
    p.leaf("tas:Dot1XID", dot1x_id);
    p.finish(root)
}

/// SetNetworkInterfaceDot1XConfiguration request: `interface` is the network interface token
/// of Device Management GetNetworkInterfaces.
pub fn write_set_network_interface_dot1x(interface: &str, dot1x_id: &str) -> String {
    let root = "tas:SetNetworkInterfaceDot1XConfiguration";
    let mut p = Payload::new(root, SEC);
    p.leaf("tas:token", interface).leaf("tas:Dot1XID", dot1x_id);
    p.finish(root)
}

/// GetNetworkInterfaceDot1XConfiguration request.
pub fn write_get_network_interface_dot1x(interface: &str) -> String {
    let root = "tas:GetNetworkInterfaceDot1XConfiguration";
    let mut p = Payload::new(root, SEC);
    p.leaf("tas:token", interface);
    p.finish(root)
}

/// Reads an UploadCertificateWithPrivateKeyInPKCS12Response payload.
pub fn parse_upload_pkcs12(node: Node<'_, '_>) -> Result<UploadedPkcs12, OnvifError> {
    Ok(UploadedPkcs12 {
        certification_path_id: req_text(node, TAS, "CertificationPathID")?,
        key_id: req_text(node, TAS, "KeyID")?,
    })
}

/// Reads a CreateCertPathValidationPolicyResponse payload.
pub fn parse_cert_path_validation_policy_id(node: Node<'_, '_>) -> Result<String, OnvifError> {
    req_text(node, TAS, "CertPathValidationPolicyID")
}

fn parse_dot1x_stage(node: Node<'_, '_>) -> Result<Dot1xStage, OnvifError> {
    Ok(Dot1xStage {
        method: node
            .attribute("Method")
            .ok_or_else(|| malformed("802.1X stage without Method"))?
            .to_owned(),
        identity: opt_text(node, TAS, "Identity"),
        certification_path_id: opt_text(node, TAS, "CertificationPathID"),
        passphrase_id: opt_text(node, TAS, "PassphraseID"),
        cert_path_validation_policy_id: node
            .attribute("CertPathValidationPolicyID")
            .map(str::to_owned),
        inner: child(node, TAS, "Inner")
            .map(|n| parse_dot1x_stage(n).map(Box::new))
            .transpose()?,
    })
}

fn parse_dot1x_configuration(node: Node<'_, '_>) -> Result<Dot1xConfiguration, OnvifError> {
    Ok(Dot1xConfiguration {
        id: opt_text(node, TAS, "Dot1XID"),
        alias: opt_text(node, TAS, "Alias"),
        outer: parse_dot1x_stage(req_child(node, TAS, "Outer")?)?,
    })
}

/// Reads an AddDot1XConfigurationResponse payload: the new Dot1XID.
pub fn parse_dot1x_id(node: Node<'_, '_>) -> Result<String, OnvifError> {
    req_text(node, TAS, "Dot1XID")
}

/// Reads a GetAllDot1XConfigurationsResponse payload.
pub fn parse_all_dot1x_configurations(
    node: Node<'_, '_>,
) -> Result<Vec<Dot1xConfiguration>, OnvifError> {
    children(node, TAS, "Configuration")
        .map(parse_dot1x_configuration)
        .collect()
}

/// Reads a SetNetworkInterfaceDot1XConfigurationResponse payload: whether a reboot is needed.
pub fn parse_reboot_needed(node: Node<'_, '_>) -> Result<bool, OnvifError> {
    parse_bool(&req_text(node, TAS, "RebootNeeded")?)
}

/// Reads a GetNetworkInterfaceDot1XConfigurationResponse payload: the assigned Dot1XID, if any.
pub fn parse_network_interface_dot1x(node: Node<'_, '_>) -> Result<Option<String>, OnvifError> {
    Ok(opt_text(node, TAS, "Dot1XID").filter(|id| !id.is_empty()))
}

impl<T: Transport> Camera<T> {
    /// UploadCertificateWithPrivateKeyInPKCS12: key and chain in one file; the camera creates
    /// the certification path.
    pub async fn upload_pkcs12(&self, req: &Pkcs12Upload) -> Result<UploadedPkcs12, OnvifError> {
        self.security_op(
            "UploadCertificateWithPrivateKeyInPKCS12",
            &write_upload_pkcs12(req),
            parse_upload_pkcs12,
        )
        .await
    }

    /// CreateCertPathValidationPolicy; returns its ID.
    pub async fn create_cert_path_validation_policy(
        &self,
        alias: Option<&str>,
        trust_anchor_ids: &[&str],
    ) -> Result<String, OnvifError> {
        self.security_op(
            "CreateCertPathValidationPolicy",
            &write_create_cert_path_validation_policy(alias, trust_anchor_ids),
            parse_cert_path_validation_policy_id,
        )
        .await
    }

    /// AddDot1XConfiguration; returns the new Dot1XID.
    pub async fn add_dot1x_configuration(
        &self,
        config: &Dot1xConfiguration,
    ) -> Result<String, OnvifError> {
        self.security_op(
            "AddDot1XConfiguration",
            &write_add_dot1x_configuration(config),
            parse_dot1x_id,
        )
        .await
    }

    /// GetAllDot1XConfigurations.
    pub async fn get_all_dot1x_configurations(
        &self,
    ) -> Result<Vec<Dot1xConfiguration>, OnvifError> {
        self.security_op(
            "GetAllDot1XConfigurations",
            &write_get_all_dot1x_configurations(),
            parse_all_dot1x_configurations,
        )
        .await
    }

    /// DeleteDot1XConfiguration.
    pub async fn delete_dot1x_configuration(&self, dot1x_id: &str) -> Result<(), OnvifError> {
        self.security_op(
            "DeleteDot1XConfiguration",
            &write_delete_dot1x_configuration(dot1x_id),
            parse_empty,
        )
        .await
    }

    /// SetNetworkInterfaceDot1XConfiguration; returns whether the camera needs a reboot.
    pub async fn set_network_interface_dot1x(
        &self,
        interface: &str,
        dot1x_id: &str,
    ) -> Result<bool, OnvifError> {
        self.security_op(
            "SetNetworkInterfaceDot1XConfiguration",
            &write_set_network_interface_dot1x(interface, dot1x_id),
            parse_reboot_needed,
        )
        .await
    }

    /// GetNetworkInterfaceDot1XConfiguration: the Dot1XID assigned to `interface`, if any.
    pub async fn get_network_interface_dot1x(
        &self,
        interface: &str,
    ) -> Result<Option<String>, OnvifError> {
        self.security_op(
            "GetNetworkInterfaceDot1XConfiguration",
            &write_get_network_interface_dot1x(interface),
            parse_network_interface_dot1x,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::tests::{assert_malformed, on, reply};

    #[test]
    fn capabilities() {
        let caps = on(reply!("security_capabilities"), parse_security_capabilities).unwrap();
        assert_eq!(caps.max_keys, Some(8));
        assert_eq!(caps.max_certification_paths, Some(4));
        assert!(
            caps.rsa_key_pair_generation && caps.pkcs10 && caps.self_signed_certificate_creation
        );
        assert_eq!(caps.rsa_key_lengths, vec![2048, 3072, 4096]);
        assert_eq!(caps.signature_algorithms, vec![SHA256_WITH_RSA.to_string()]);
        assert_eq!(
            caps.tls_server_versions,
            vec!["1.2".to_string(), "1.3".to_string()]
        );
        assert_eq!(caps.max_tls_certification_paths, Some(1));
        assert_malformed(on(
            &reply!("security_capabilities").replace("2048 3072", "2048 big"),
            parse_security_capabilities,
        ));
    }

    #[test]
    fn key_pair_and_status() {
        let created = on(reply!("create_rsa_key_pair"), parse_create_rsa_key_pair).unwrap();
        assert_eq!(created.key_id, "key-1");
        assert_eq!(created.estimated_creation_time, "PT30S");
        assert_eq!(
            on(reply!("key_status"), parse_key_status).unwrap(),
            KeyStatus::Generating
        );
        assert_malformed(on(
            &reply!("create_rsa_key_pair").replace("<ns4:KeyID>key-1</ns4:KeyID>", ""),
            parse_create_rsa_key_pair,
        ));
    }

    #[test]
    fn csr_certificates_paths() {
        let csr = on(reply!("pkcs10_csr"), parse_pkcs10_csr).unwrap();
        assert_eq!(csr[..2], [0x30, 0x82]);
        assert_eq!(csr.len(), 15);
        assert_eq!(
            on(reply!("self_signed_certificate"), parse_certificate_id).unwrap(),
            "cert-7"
        );
        let up = on(reply!("upload_certificate"), parse_upload_certificate).unwrap();
        assert_eq!(
            up,
            UploadedCertificate {
                certificate_id: "cert-8".into(),
                key_id: "key-1".into()
            }
        );
        let all = on(reply!("all_certificates"), parse_all_certificates).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].alias.as_deref(), Some("site <lobby>"));
        assert_eq!(all[1].der, vec![0, 1, 2]);
        assert_eq!(all[1].alias, None);
        assert_eq!(
            on(
                reply!("create_certification_path"),
                parse_certification_path_id
            )
            .unwrap(),
            "path-1"
        );
        assert_eq!(
            on(
                reply!("assigned_server_certificates"),
                parse_assigned_server_certificates
            )
            .unwrap(),
            vec!["path-1".to_string(), "path-2".to_string()]
        );
        assert_malformed(on(
            &reply!("pkcs10_csr").replace("MIIB", "M!IB"),
            parse_pkcs10_csr,
        ));
        assert_malformed(on(
            &reply!("all_certificates").replace("<x:KeyID>key-2</x:KeyID>", ""),
            parse_all_certificates,
        ));
    }

    #[test]
    fn pkcs12_upload_and_dot1x_replies_are_read() {
        let up = on(reply!("upload_pkcs12"), parse_upload_pkcs12).unwrap();
        assert_eq!(
            up,
            UploadedPkcs12 {
                certification_path_id: "path-3".into(),
                key_id: "key-4".into()
            }
        );
        assert_eq!(
            on(
                reply!("cert_path_validation_policy"),
                parse_cert_path_validation_policy_id
            )
            .unwrap(),
            "policy-1"
        );
        assert_eq!(
            on(reply!("add_dot1x_configuration"), parse_dot1x_id).unwrap(),
            "dot1x-1"
        );
        let all = on(
            reply!("all_dot1x_configurations"),
            parse_all_dot1x_configurations,
        )
        .unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].alias.as_deref(), Some("site & lobby"));
        assert_eq!(all[0].outer.method, "EAP-TLS");
        assert_eq!(
            all[0].outer.certification_path_id.as_deref(),
            Some("path-3")
        );
        assert_eq!(
            all[0].outer.cert_path_validation_policy_id.as_deref(),
            Some("policy-1")
        );
        let inner = all[1].outer.inner.as_deref().expect("inner stage");
        assert_eq!(
            (inner.method.as_str(), inner.passphrase_id.as_deref()),
            ("MSCHAPv2", Some("pw-1"))
        );
        assert!(!on(reply!("set_network_interface_dot1x"), parse_reboot_needed).unwrap());
        assert_eq!(
            on(
                reply!("network_interface_dot1x"),
                parse_network_interface_dot1x
            )
            .unwrap()
            .as_deref(),
            Some("dot1x-1")
        );
        let caps = on(
            reply!("security_capabilities_dot1x"),
            parse_security_capabilities,
        )
        .unwrap();
        let dot1x = caps.dot1x.expect("802.1X capabilities");
        assert_eq!(dot1x.max_configurations, Some(2));
        assert_eq!(dot1x.methods, vec!["EAP-TLS", "EAP-PEAP/MSCHAPv2"]);
        assert_eq!(
            on(reply!("security_capabilities"), parse_security_capabilities)
                .unwrap()
                .dot1x,
            None
        );
        assert_malformed(on(
            &reply!("all_dot1x_configurations").replace(" Method=\"EAP-TLS\"", ""),
            parse_all_dot1x_configurations,
        ));
    }

    #[test]
    fn pkcs12_upload_hides_key_and_passphrase_from_debug() {
        let req = Pkcs12Upload {
            pkcs12_der: vec![1, 2, 3],
            certification_path_alias: None,
            key_alias: None,
            ignore_additional_certificates: false,
            passphrase: "Hunter2-passphrase".into(),
        };
        let shown = format!("{req:?}");
        assert!(
            !shown.contains("Hunter2") && !shown.contains("[1, 2, 3]"),
            "{shown}"
        );
        assert!(write_upload_pkcs12(&req).contains("<tas:Passphrase>Hunter2-passphrase<"));
    }

    #[test]
    fn csr_request_carries_extension_der_as_base64() {
        let xml = write_create_pkcs10_csr(&CsrRequest {
            subject: DistinguishedName {
                common_name: Some("cam-lobby.example.net".into()),
                organization: Some("Smith & Co <Ltd>".into()),
                ..DistinguishedName::default()
            },
            key_id: "key-1".into(),
            extensions: vec![X509Extension {
                oid: "2.5.29.17".into(),
                critical: false,
                value_der: vec![0x30, 0x00],
            }],
            signature_algorithm: SHA256_WITH_RSA.into(),
        });
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let root = doc.root_element();
        let subject = req_child(root, TAS, "Subject").unwrap();
        assert_eq!(
            req_text(subject, TAS, "Organization").unwrap(),
            "Smith & Co <Ltd>"
        );
        let ext = req_child(
            req_child(root, TAS, "CSRAttribute").unwrap(),
            TAS,
            "X509v3Extension",
        )
        .unwrap();
        assert_eq!(req_text(ext, TAS, "extnValue").unwrap(), "MAA=");
        let alg = req_child(root, TAS, "SignatureAlgorithm").unwrap();
        assert_eq!(req_text(alg, TAS, "algorithm").unwrap(), SHA256_WITH_RSA);
    }
}
