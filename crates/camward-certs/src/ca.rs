//! The site CA kept by Camward: an ECDSA P-384 CA per site whose certificate lives in a PEM file
//! and whose private key lives only in the keychain ([`SecretStore`]), never on disk.
//!
//! It signs camera CSRs into TLS server certificates (RFC 5280 profile): the subject of the CSR,
//! the SubjectAltNames Camward knows the camera by (not the ones the CSR asks for), key usage
//! digitalSignature + keyEncipherment, extended key usage serverAuth, a random 127-bit serial
//! (CA/Browser Forum BR §7.1: at least 64 bits of randomness), authority and subject key
//! identifiers, and the validity window the caller passes in.
use std::fmt;
use std::path::{Path, PathBuf};

use camward_vault::{CredentialKey, SecretStore, Sensitive};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use time::OffsetDateTime;

use rcgen::PublicKeyData as _;

use crate::{csr::parse_csr, parse_certificate, same_key, CertError, SubjectName};

/// A validity window, passed in (time is never read inside this crate).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Validity {
    /// Start.
    pub not_before: OffsetDateTime,
    /// End.
    pub not_after: OffsetDateTime,
}

impl Validity {
    /// From `start` (backdated by an hour, for cameras whose clock runs a little behind) for
    /// `days` days.
    pub fn days_from(start: OffsetDateTime, days: i64) -> Self {
        Self {
            not_before: start - time::Duration::hours(1),
            not_after: start + time::Duration::days(days),
        }
    }

    fn apply(&self, params: &mut CertificateParams) -> Result<(), CertError> {
        if self.not_after <= self.not_before {
            return Err(CertError::Signing(
                "the validity window ends before it starts".into(),
            ));
        }
        params.not_before = self.not_before;
        params.not_after = self.not_after;
        Ok(())
    }
}

/// A site's CA: its certificate and its signing key.
pub struct SiteCa {
    site: String,
    cert_der: Vec<u8>,
    cert_pem: String,
    key: KeyPair,
}

impl fmt::Debug for SiteCa {
    // The signing key must never reach a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SiteCa")
            .field("site", &self.site)
            .finish_non_exhaustive()
    }
}

/// The keychain entry holding the site CA's private key (PKCS#8 PEM).
pub fn keychain_key(site: &str) -> CredentialKey {
    CredentialKey::new(format!("site-ca:{site}"), "ca-signing-key")
}

fn random_serial() -> rcgen::SerialNumber {
    let mut serial = [0u8; 16];
    rand::Rng::fill(&mut rand::thread_rng(), &mut serial);
    // Positive INTEGER (RFC 5280 §4.1.2.2), and never a leading zero octet that DER would strip.
    serial[0] = (serial[0] & 0x7f) | 0x01;
    rcgen::SerialNumber::from_slice(&serial)
}

/// The rcgen SubjectAltName entry for a name.
pub(crate) fn san_type(name: &SubjectName) -> Result<SanType, CertError> {
    Ok(match name {
        SubjectName::Ip(ip) => SanType::IpAddress(*ip),
        SubjectName::Dns(host) => SanType::DnsName(host.as_str().try_into().map_err(|_| {
            CertError::Signing(format!("{host} is not a valid DNS name for a certificate"))
        })?),
    })
}

impl SiteCa {
    /// Creates the CA of `site`: a new P-384 key, stored in `store` first, then the self-signed
    /// certificate written to `cert_path` (PEM). Refuses when the keychain already holds a CA key
    /// for the site, so a CA is never replaced by accident.
    pub fn create(
        site: &str,
        validity: Validity,
        store: &dyn SecretStore,
        cert_path: &Path,
    ) -> Result<Self, CertError> {
        let entry = keychain_key(site);
        if store.get(&entry)?.is_some() {
            return Err(CertError::CaExists { site: site.into() });
        }
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384)
            .map_err(|e| CertError::Signing(e.to_string()))?;
        let mut params = CertificateParams::default();
        params
            .distinguished_name
            .push(DnType::CommonName, format!("Camward site CA {site}"));
        params
            .distinguished_name
            .push(DnType::OrganizationName, site);
        // Path length 0: this CA signs camera certificates only, never another CA.
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.serial_number = Some(random_serial());
        validity.apply(&mut params)?;
        let cert = params
            .self_signed(&key)
            .map_err(|e| CertError::Signing(e.to_string()))?;
        store.set(&entry, &Sensitive::new(key.serialize_pem()))?;
        let cert_pem = crate::to_pem("CERTIFICATE", cert.der());
        if let Some(dir) = cert_path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| CertError::io(dir, e))?;
        }
        std::fs::write(cert_path, &cert_pem).map_err(|e| CertError::io(cert_path, e))?;
        Ok(Self {
            site: site.into(),
            cert_der: cert.der().to_vec(),
            cert_pem,
            key,
        })
    }

    /// Loads the CA of `site`: the certificate from `cert_path`, the key from `store`; refuses
    /// when they do not belong together.
    pub fn load(site: &str, store: &dyn SecretStore, cert_path: &Path) -> Result<Self, CertError> {
        let key_pem = store
            .get(&keychain_key(site))?
            .ok_or_else(|| CertError::CaMissing { site: site.into() })?;
        let key = KeyPair::from_pem(key_pem.expose())
            .map_err(|e| CertError::unreadable("the site CA key in the keychain", e))?;
        let bytes = std::fs::read(cert_path).map_err(|e| CertError::io(cert_path, e))?;
        let what = format!("the site CA certificate {}", cert_path.display());
        let cert_der = crate::read_certificates(&bytes, &what)?
            .into_iter()
            .next()
            .ok_or_else(|| CertError::unreadable(&what, "empty"))?;
        let cert_spki = parse_certificate(&cert_der, &what)?
            .public_key()
            .raw
            .to_vec();
        if !same_key(&cert_spki, &key.subject_public_key_info()) {
            return Err(CertError::CaMismatch {
                site: site.into(),
                path: cert_path.display().to_string(),
            });
        }
        Ok(Self {
            site: site.into(),
            cert_pem: crate::to_pem("CERTIFICATE", &cert_der),
            cert_der,
            key,
        })
    }

    /// The site this CA belongs to.
    pub fn site(&self) -> &str {
        &self.site
    }

    /// The CA certificate, DER (the trust anchor for checks and TLS clients).
    pub fn certificate_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// The CA certificate, PEM.
    pub fn certificate_pem(&self) -> &str {
        &self.cert_pem
    }

    /// Where the CA certificate of `site` is kept under `dir` (one file per site).
    pub fn default_path(dir: &Path, site: &str) -> PathBuf {
        dir.join(format!("{}-ca.pem", crate::csr::file_stem(site)))
    }

    /// Signs the PKCS#10 `csr` (DER or PEM) into a TLS server certificate for `names`, valid for
    /// `validity`. The CSR's signature is verified first: a CSR not made with its key is refused.
    /// Returns the certificate, DER.
    pub fn sign_csr(
        &self,
        csr: &[u8],
        names: &[SubjectName],
        validity: Validity,
    ) -> Result<Vec<u8>, CertError> {
        self.sign(csr, names, validity, ExtendedKeyUsagePurpose::ServerAuth)
    }

    /// Like [`SiteCa::sign_csr`], for a TLS *client* certificate (extended key usage
    /// clientAuth): what a camera presents to the RADIUS server in 802.1X EAP-TLS.
    pub fn sign_client_csr(
        &self,
        csr: &[u8],
        names: &[SubjectName],
        validity: Validity,
    ) -> Result<Vec<u8>, CertError> {
        self.sign(csr, names, validity, ExtendedKeyUsagePurpose::ClientAuth)
    }

    fn sign(
        &self,
        csr: &[u8],
        names: &[SubjectName],
        validity: Validity,
        usage: ExtendedKeyUsagePurpose,
    ) -> Result<Vec<u8>, CertError> {
        let request = parse_csr(csr)?;
        if names.is_empty() {
            return Err(CertError::Signing(
                "a camera certificate needs at least one address or host name".into(),
            ));
        }
        let mut params = CertificateParams::default();
        for (ty, value) in &request.subject_attributes {
            params.distinguished_name.push(ty.clone(), value.as_str());
        }
        params.subject_alt_names = names.iter().map(san_type).collect::<Result<_, _>>()?;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![usage];
        params.use_authority_key_identifier_extension = true;
        params.serial_number = Some(random_serial());
        validity.apply(&mut params)?;
        let public = rcgen::SubjectPublicKeyInfo::from_der(&request.spki_der)
            .map_err(|e| CertError::Signing(format!("the CSR's key cannot be certified: {e}")))?;
        let issuer = Issuer::from_ca_cert_der(&self.cert_der.as_slice().into(), &self.key)
            .map_err(|e| CertError::Signing(e.to_string()))?;
        let cert = params
            .signed_by(&public, &issuer)
            .map_err(|e| CertError::Signing(e.to_string()))?;
        Ok(cert.der().to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{check_certificate, Expectations};
    use crate::test_support::{
        camera_names, key_pair, now, openssl, openssl_available, MemoryStore,
    };

    fn csr_of(key: &KeyPair) -> Vec<u8> {
        let mut params = CertificateParams::default();
        params
            .distinguished_name
            .push(DnType::CommonName, "cam-lobby.example.net");
        params.serialize_request(key).expect("CSR").der().to_vec()
    }

    #[test]
    fn create_keeps_the_key_in_the_keychain_only_and_load_brings_it_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = MemoryStore::default();
        let path = SiteCa::default_path(dir.path(), "Main St / Lobby");
        let ca = SiteCa::create("Main St", Validity::days_from(now(), 3650), &store, &path)
            .expect("created");
        let on_disk = std::fs::read_to_string(&path).expect("cert file");
        assert!(on_disk.contains("BEGIN CERTIFICATE") && !on_disk.contains("PRIVATE"));
        assert!(!format!("{ca:?}").contains("PRIVATE"));
        for entry in std::fs::read_dir(dir.path()).expect("dir") {
            let text = std::fs::read_to_string(entry.expect("entry").path()).unwrap_or_default();
            assert!(!text.contains("PRIVATE KEY"), "a key reached the disk");
        }
        assert_eq!(
            SiteCa::create("Main St", Validity::days_from(now(), 10), &store, &path)
                .unwrap_err()
                .code(),
            "site_ca_exists"
        );
        let loaded = SiteCa::load("Main St", &store, &path).expect("loads");
        assert_eq!(loaded.certificate_der(), ca.certificate_der());
        assert_eq!(
            SiteCa::load("Elsewhere", &store, &path).unwrap_err().code(),
            "site_ca_missing"
        );
        // A certificate file from another CA with this site's key is refused.
        let other = tempfile::tempdir().expect("tempdir");
        let other_path = other.path().join("ca.pem");
        SiteCa::create("Other", Validity::days_from(now(), 10), &store, &other_path)
            .expect("other");
        assert_eq!(
            SiteCa::load("Main St", &store, &other_path)
                .unwrap_err()
                .code(),
            "site_ca_mismatch"
        );
    }

    #[test]
    fn issued_leaves_pass_the_checks_and_openssl_verify() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = MemoryStore::default();
        let path = dir.path().join("ca.pem");
        let ca = SiteCa::create("Site A", Validity::days_from(now(), 3650), &store, &path)
            .expect("created");
        let key = key_pair();
        let names = camera_names();
        let leaf = ca
            .sign_csr(&csr_of(&key), &names, Validity::days_from(now(), 397))
            .expect("signed");
        let spki = key.subject_public_key_info();
        check_certificate(
            std::slice::from_ref(&leaf),
            &Expectations {
                trust_anchor_der: ca.certificate_der(),
                camera_time: now(),
                reached_by: &names,
                camera_spki_der: Some(&spki),
            },
        )
        .expect("the site CA's own leaf passes every check");
        let cert = parse_certificate(&leaf, "leaf").expect("parses");
        assert!(cert.raw_serial().len() >= 8, "random serial");

        if !openssl_available() {
            return;
        }
        let leaf_path = dir.path().join("leaf.pem");
        std::fs::write(&leaf_path, crate::to_pem("CERTIFICATE", &leaf)).expect("write");
        let (ok, out) = openssl(&[
            "verify",
            "-purpose",
            "sslserver",
            "-CAfile",
            path.to_str().expect("utf-8"),
            leaf_path.to_str().expect("utf-8"),
        ]);
        assert!(ok, "openssl verify refused the site CA's leaf: {out}");
    }

    #[test]
    fn a_csr_with_a_broken_signature_is_not_signed() {
        let store = MemoryStore::default();
        let dir = tempfile::tempdir().expect("tempdir");
        let ca = SiteCa::create(
            "Site A",
            Validity::days_from(now(), 30),
            &store,
            &dir.path().join("ca.pem"),
        )
        .expect("created");
        let mut csr = csr_of(&key_pair());
        // Flip a bit inside the subject's common name: the signature no longer matches.
        let at = csr
            .windows(4)
            .position(|w| w == b"lobb")
            .expect("CN in the CSR");
        csr[at] ^= 0x01;
        let e = ca
            .sign_csr(&csr, &camera_names(), Validity::days_from(now(), 30))
            .unwrap_err();
        assert_eq!(e.code(), "csr_bad_signature", "{e}");
        let e = ca
            .sign_csr(&csr_of(&key_pair()), &[], Validity::days_from(now(), 30))
            .unwrap_err();
        assert_eq!(e.code(), "signing_failed");
    }
}
