//! Camward's certificate logic, with no network: a site CA kept by Camward (`ca`), PKCS#10 CSRs
//! read, verified and exchanged with a site's own CA as files (`csr`), the checks a certificate
//! must pass before anything is uploaded to a camera (`check`), and certificates with keys made
//! elsewhere (`import`).
//!
//! Glossary:
//! - *SPKI*: SubjectPublicKeyInfo (RFC 5280 §4.1.2.7), the public key with its algorithm. Two
//!   SPKIs are the same key when algorithm OID and key bits are equal ([`same_key`]); the
//!   algorithm parameters' encoding (NULL or absent) is not compared, as encoders differ.
//! - *subject name*: an address or host name a camera is reached by ([`SubjectName`]); the
//!   certificate's SubjectAltName must cover each one (RFC 6125 §6).
//! - *trust anchor*: the CA certificate the chain must lead to (the site CA, or the site's own CA).
//!
//! Time is passed in everywhere (ARCHITECTURE.md invariant): validity windows and the camera's
//! clock come from the caller.
use std::fmt;
use std::net::IpAddr;

use sha2::{Digest as _, Sha256};
use x509_parser::prelude::FromDer as _;

pub mod ca;
pub mod check;
pub mod csr;
pub mod import;

pub use ca::{SiteCa, Validity};
pub use check::{check_certificate, CertProblem, Checked, Expectations};
pub use csr::{
    export_batch, import_batch, parse_csr, read_manifest, subject_alt_name_der, CsrForExport,
    ImportReport, Issued, Manifest, ParsedCsr, Unmatched,
};
pub use import::{import_pem, import_pkcs12, one_time_passphrase, to_pkcs12, ImportedIdentity};

/// A name a camera is reached by: an IP address or a DNS host name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum SubjectName {
    /// An IPv4 or IPv6 address (SAN `iPAddress`).
    Ip(IpAddr),
    /// A DNS host name, lower case (SAN `dNSName`).
    Dns(String),
}

impl SubjectName {
    /// An address when `s` parses as one, a host name (lower-cased) otherwise. Brackets around an
    /// IPv6 address, as in URLs, are accepted.
    pub fn parse(s: &str) -> Self {
        let trimmed = s.trim().trim_start_matches('[').trim_end_matches(']');
        match trimmed.parse::<IpAddr>() {
            Ok(ip) => SubjectName::Ip(ip),
            Err(_) => SubjectName::Dns(s.trim().trim_end_matches('.').to_ascii_lowercase()),
        }
    }
}

impl fmt::Display for SubjectName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SubjectName::Ip(ip) => write!(f, "{ip}"),
            SubjectName::Dns(name) => f.write_str(name),
        }
    }
}

/// Why a certificate operation failed (other than the checks of [`check`], which return
/// [`CertProblem`]s).
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    /// Input that is not what it claims to be (not DER, not PEM, trailing bytes...).
    #[error("{what} cannot be read: {reason}")]
    Unreadable {
        /// What was being read (e.g. "the CSR", "certificate file lobby.pem").
        what: String,
        /// Why.
        reason: String,
    },
    /// A CSR whose signature does not verify: it was altered or not made with its key.
    #[error("the CSR's signature does not verify with its own public key ({0}); it was altered, or its key is not one Camward accepts")]
    CsrSignature(String),
    /// The site CA cannot be created because one exists.
    #[error("a site CA for {site} already exists in the keychain; load it instead of creating a new one")]
    CaExists {
        /// The site.
        site: String,
    },
    /// The site CA's key is not in the keychain.
    #[error("the keychain holds no site CA key for {site}")]
    CaMissing {
        /// The site.
        site: String,
    },
    /// The CA certificate on disk does not belong to the key in the keychain.
    #[error(
        "the site CA certificate at {path} does not belong to the key in the keychain for {site}"
    )]
    CaMismatch {
        /// The site.
        site: String,
        /// The certificate file.
        path: String,
    },
    /// A private key that does not belong to the certificate it came with.
    #[error("the private key does not belong to the certificate (different public keys)")]
    KeyMismatch,
    /// A PKCS#12 file that cannot be opened (wrong password, unsupported encryption, no key).
    #[error("the PKCS#12 file cannot be opened: {0}")]
    Pkcs12(String),
    /// Certificate generation or signing failed.
    #[error("signing failed: {0}")]
    Signing(String),
    /// A file could not be read or written.
    #[error("{path}: {reason}")]
    Io {
        /// The file or directory.
        path: String,
        /// The OS error.
        reason: String,
    },
    /// The keychain failed.
    #[error(transparent)]
    Vault(#[from] camward_vault::VaultError),
}

impl CertError {
    /// Stable code for the UI and CLI.
    pub fn code(&self) -> &'static str {
        match self {
            CertError::Unreadable { .. } => "cert_unreadable",
            CertError::CsrSignature(_) => "csr_bad_signature",
            CertError::CaExists { .. } => "site_ca_exists",
            CertError::CaMissing { .. } => "site_ca_missing",
            CertError::CaMismatch { .. } => "site_ca_mismatch",
            CertError::KeyMismatch => "key_mismatch",
            CertError::Pkcs12(_) => "pkcs12_unreadable",
            CertError::Signing(_) => "signing_failed",
            CertError::Io { .. } => "io_error",
            CertError::Vault(e) => e.code(),
        }
    }

    pub(crate) fn unreadable(what: impl Into<String>, reason: impl fmt::Display) -> Self {
        CertError::Unreadable {
            what: what.into(),
            reason: reason.to_string(),
        }
    }

    pub(crate) fn io(path: &std::path::Path, e: std::io::Error) -> Self {
        CertError::Io {
            path: path.display().to_string(),
            reason: e.to_string(),
        }
    }
}

/// SHA-256 of a DER certificate: the fingerprint pinned and compared after a handshake.
pub fn sha256(der: &[u8]) -> [u8; 32] {
    Sha256::digest(der).into()
}

/// Lower-case hex of bytes (fingerprints in messages and manifests).
pub fn hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// Parses exactly one DER certificate.
pub(crate) fn parse_certificate<'a>(
    der: &'a [u8],
    what: &str,
) -> Result<x509_parser::certificate::X509Certificate<'a>, CertError> {
    let (rest, cert) = x509_parser::parse_x509_certificate(der)
        .map_err(|e| CertError::unreadable(what, format!("not a DER X.509 certificate ({e})")))?;
    if !rest.is_empty() {
        return Err(CertError::unreadable(
            what,
            "trailing bytes after the certificate",
        ));
    }
    Ok(cert)
}

/// The DER SubjectPublicKeyInfo of a DER certificate.
pub fn certificate_spki(der: &[u8]) -> Result<Vec<u8>, CertError> {
    Ok(parse_certificate(der, "the certificate")?
        .public_key()
        .raw
        .to_vec())
}

/// What a person is shown before trusting a certificate on first use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateSummary {
    /// The subject, RFC 4514 style.
    pub subject: String,
    /// The issuer, RFC 4514 style (the subject again for a self-signed certificate).
    pub issuer: String,
    /// Start of validity.
    pub not_before: time::OffsetDateTime,
    /// End of validity.
    pub not_after: time::OffsetDateTime,
    /// SHA-256 of the DER certificate: the pin.
    pub sha256: [u8; 32],
}

/// Subject, issuer, validity and fingerprint of one DER certificate.
pub fn describe(der: &[u8]) -> Result<CertificateSummary, CertError> {
    let cert = parse_certificate(der, "the certificate")?;
    Ok(CertificateSummary {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        not_before: cert.validity().not_before.to_datetime(),
        not_after: cert.validity().not_after.to_datetime(),
        sha256: sha256(der),
    })
}

/// Whether two DER SubjectPublicKeyInfos hold the same key: same algorithm OID, same key bits.
/// Unparsable input is never the same key.
pub fn same_key(a_spki_der: &[u8], b_spki_der: &[u8]) -> bool {
    match (key_identity(a_spki_der), key_identity(b_spki_der)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// SHA-256 over the algorithm OID and key bits of a SubjectPublicKeyInfo: the identity of a key,
/// independent of how the algorithm parameters were encoded. Used to match issued certificates to
/// cameras.
pub fn key_fingerprint(spki_der: &[u8]) -> Option<[u8; 32]> {
    let (oid, bits) = key_identity(spki_der)?;
    let mut h = Sha256::new();
    h.update(oid.as_bytes());
    h.update([0]);
    h.update(&bits);
    Some(h.finalize().into())
}

fn key_identity(spki_der: &[u8]) -> Option<(String, Vec<u8>)> {
    let (_, spki) = x509_parser::x509::SubjectPublicKeyInfo::from_der(spki_der).ok()?;
    Some((
        spki.algorithm.algorithm.to_id_string(),
        spki.subject_public_key.data.to_vec(),
    ))
}

/// PEM text of one DER object with the given label (`CERTIFICATE`, `CERTIFICATE REQUEST`).
pub fn to_pem(label: &str, der: &[u8]) -> String {
    pem::encode_config(
        &pem::Pem::new(label, der.to_vec()),
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    )
}

/// Certificates in `bytes`: every `CERTIFICATE` block of PEM text, or one DER certificate.
pub fn read_certificates(bytes: &[u8], what: &str) -> Result<Vec<Vec<u8>>, CertError> {
    use rustls_pki_types::pem::PemObject as _;
    use rustls_pki_types::CertificateDer;
    if looks_like_pem(bytes) {
        let certs = CertificateDer::pem_slice_iter(bytes)
            .map(|c| c.map(|c| c.to_vec()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| CertError::unreadable(what, format!("bad PEM ({e})")))?;
        if certs.is_empty() {
            return Err(CertError::unreadable(
                what,
                "no CERTIFICATE block in the PEM",
            ));
        }
        Ok(certs)
    } else {
        parse_certificate(bytes, what)?;
        Ok(vec![bytes.to_vec()])
    }
}

pub(crate) fn looks_like_pem(bytes: &[u8]) -> bool {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    bytes[start..].starts_with(b"-----BEGIN")
}

#[cfg(test)]
pub(crate) mod test_support;
