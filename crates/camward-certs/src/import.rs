//! A certificate and private key made elsewhere, for cameras that cannot generate a key: a
//! PKCS#12 file (RFC 7292) with its password, or a PEM pair (certificate chain + key).
//!
//! The key must belong to one of the certificates: its public key, derived from the private key,
//! must equal the certificate's (compared with [`crate::same_key`]). That certificate becomes the
//! leaf, first in the chain; the others follow in file order. The private key is held only as a
//! [`Sensitive`], and only as PKCS#8 DER. The certificate checks of [`crate::check`] still apply.
use camward_vault::Sensitive;
use rsa::pkcs1::DecodeRsaPrivateKey as _;
use rsa::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _, EncodePublicKey as _};

use rcgen::PublicKeyData as _;

use crate::{certificate_spki, same_key, CertError};

/// A certificate chain with the leaf's private key.
pub struct ImportedIdentity {
    /// The chain, DER, leaf (the certificate of the key) first.
    pub chain_der: Vec<Vec<u8>>,
    /// The leaf's private key, PKCS#8 DER.
    pub key_pkcs8_der: Sensitive<Vec<u8>>,
}

impl std::fmt::Debug for ImportedIdentity {
    // The private key must not reach a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportedIdentity")
            .field("certificates", &self.chain_der.len())
            .finish_non_exhaustive()
    }
}

impl ImportedIdentity {
    /// Whether the private key belongs to the first certificate (always true for what
    /// [`import_pkcs12`] and [`import_pem`] return; checked again before anything is uploaded).
    pub fn key_matches_leaf(&self) -> bool {
        match (
            public_spki(self.key_pkcs8_der.expose()),
            self.chain_der.first(),
        ) {
            (Ok(key), Some(leaf)) => certificate_spki(leaf).is_ok_and(|c| same_key(&c, &key)),
            _ => false,
        }
    }
}

/// The DER SubjectPublicKeyInfo of a PKCS#8 private key (RSA of any size, EC P-256/P-384,
/// Ed25519).
fn public_spki(pkcs8_der: &[u8]) -> Result<Vec<u8>, CertError> {
    if let Ok(rsa) = rsa::RsaPrivateKey::from_pkcs8_der(pkcs8_der) {
        return rsa
            .to_public_key()
            .to_public_key_der()
            .map(|d| d.as_bytes().to_vec())
            .map_err(|e| CertError::unreadable("the private key", e));
    }
    let key = rcgen::KeyPair::try_from(pkcs8_der).map_err(|_| {
        CertError::unreadable(
            "the private key",
            "not an RSA, EC P-256/P-384 or Ed25519 PKCS#8 key",
        )
    })?;
    Ok(key.subject_public_key_info())
}

/// Puts the certificate of `key_pkcs8_der` first; fails when no certificate is for that key.
fn identity(
    certs: Vec<Vec<u8>>,
    key_pkcs8_der: Sensitive<Vec<u8>>,
) -> Result<ImportedIdentity, CertError> {
    if certs.is_empty() {
        return Err(CertError::unreadable(
            "the import",
            "it holds no certificate",
        ));
    }
    let spki = public_spki(key_pkcs8_der.expose())?;
    let leaf = certs
        .iter()
        .position(|der| certificate_spki(der).is_ok_and(|c| same_key(&c, &spki)))
        .ok_or(CertError::KeyMismatch)?;
    let mut chain = certs;
    let leaf_der = chain.remove(leaf);
    chain.insert(0, leaf_der);
    Ok(ImportedIdentity {
        chain_der: chain,
        key_pkcs8_der,
    })
}

/// Opens a PKCS#12 file with `password` (PBES2/AES as written by current tools, and the legacy
/// PBES1 3DES/RC2 of older ones).
pub fn import_pkcs12(
    bytes: &[u8],
    password: &Sensitive<String>,
) -> Result<ImportedIdentity, CertError> {
    let archive = p12_keystore::Pkcs12Archive::from_pkcs12(bytes, password.expose())
        .map_err(|e| CertError::Pkcs12(format!("{e} (is the password right?)")))?;
    let certs: Vec<Vec<u8>> = archive
        .certs
        .iter()
        .map(|bag| bag.cert.as_der().to_vec())
        .collect();
    let mut keys = archive.keys.into_iter();
    let first = keys
        .next()
        .ok_or_else(|| CertError::Pkcs12("it holds no private key".into()))?;
    if keys.next().is_some() {
        return Err(CertError::Pkcs12(
            "it holds more than one private key; export one camera's key and certificate per file"
                .into(),
        ));
    }
    identity(certs, Sensitive::new(first.key.as_der().to_vec()))
}

/// Reads a PEM pair: `certificates` (one or more `CERTIFICATE` blocks) and `key` (a `PRIVATE KEY`
/// (PKCS#8) or `RSA PRIVATE KEY` (PKCS#1) block).
pub fn import_pem(
    certificates: &[u8],
    key: &Sensitive<String>,
) -> Result<ImportedIdentity, CertError> {
    use rustls_pki_types::pem::PemObject as _;
    use rustls_pki_types::PrivateKeyDer;
    let certs = crate::read_certificates(certificates, "the certificate file")?;
    let parsed = PrivateKeyDer::from_pem_slice(key.expose().as_bytes()).map_err(|_| {
        CertError::unreadable(
            "the key file",
            "no PRIVATE KEY or RSA PRIVATE KEY block in it",
        )
    })?;
    let pkcs8 = match &parsed {
        PrivateKeyDer::Pkcs8(der) => der.secret_pkcs8_der().to_vec(),
        PrivateKeyDer::Pkcs1(der) => rsa::RsaPrivateKey::from_pkcs1_der(der.secret_pkcs1_der())
            .and_then(|k| k.to_pkcs8_der().map_err(Into::into))
            .map(|d| d.as_bytes().to_vec())
            .map_err(|e| CertError::unreadable("the RSA key", e))?,
        _ => {
            return Err(CertError::unreadable(
                "the key file",
                "SEC1 EC keys are not read; convert with `openssl pkcs8 -topk8 -nocrypt`",
            ))
        }
    };
    drop(parsed);
    identity(certs, Sensitive::new(pkcs8))
}

/// A fresh one-time passphrase for [`to_pkcs12`]: 32 random alphanumeric characters.
pub fn one_time_passphrase() -> Sensitive<String> {
    use rand::distributions::{Alphanumeric, DistString as _};
    Sensitive::new(Alphanumeric.sample_string(&mut rand::rngs::OsRng, 32))
}

/// The identity as a new PKCS#12 file (PBES2 AES-256, HMAC-SHA-256) sealed with `passphrase`:
/// what a camera receives, so the person's own passphrase never leaves this computer and a PEM
/// pair travels the same way as a PKCS#12 file.
pub fn to_pkcs12(
    identity: &ImportedIdentity,
    passphrase: &Sensitive<String>,
) -> Result<Vec<u8>, CertError> {
    let certs = identity
        .chain_der
        .iter()
        .map(|der| p12_keystore::Certificate::from_der(der))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CertError::Pkcs12(format!("a certificate cannot be packed: {e}")))?;
    let key = p12_keystore::PrivateKey::from_der(identity.key_pkcs8_der.expose())
        .map_err(|e| CertError::Pkcs12(format!("the key cannot be packed: {e}")))?;
    let local_key_id = crate::sha256(&identity.chain_der[0]).to_vec();
    let mut store = p12_keystore::KeyStore::new();
    store.add_entry(
        "camward",
        p12_keystore::KeyStoreEntry::PrivateKeyChain(p12_keystore::PrivateKeyChain::new(
            local_key_id,
            key,
            certs,
        )),
    );
    store
        .writer(passphrase.expose())
        .write()
        .map_err(|e| CertError::Pkcs12(format!("cannot be written: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{
        key_pair, leaf_for_key, openssl, openssl_available, test_ca, LeafSpec,
    };

    struct Made {
        dir: tempfile::TempDir,
        leaf: Vec<u8>,
        ca: Vec<u8>,
        key_pem: String,
    }

    fn made() -> Made {
        let dir = tempfile::tempdir().expect("tempdir");
        let ca = test_ca("Site A");
        let key = key_pair();
        let leaf = leaf_for_key(&ca, &key, &LeafSpec::default());
        Made {
            dir,
            leaf,
            ca: ca.der,
            key_pem: key.serialize_pem(),
        }
    }

    #[test]
    fn a_pem_pair_is_imported_leaf_first_and_a_foreign_key_is_refused() {
        let m = made();
        // CA first in the file: the key decides which one is the leaf.
        let chain = crate::to_pem("CERTIFICATE", &m.ca) + &crate::to_pem("CERTIFICATE", &m.leaf);
        let id =
            import_pem(chain.as_bytes(), &Sensitive::new(m.key_pem.clone())).expect("imported");
        assert_eq!(id.chain_der, vec![m.leaf.clone(), m.ca.clone()]);
        assert!(!format!("{id:?}").contains("PRIVATE"));
        let other = key_pair().serialize_pem();
        assert_eq!(
            import_pem(chain.as_bytes(), &Sensitive::new(other))
                .unwrap_err()
                .code(),
            "key_mismatch"
        );
        assert_eq!(
            import_pem(chain.as_bytes(), &Sensitive::new("nothing".into()))
                .unwrap_err()
                .code(),
            "cert_unreadable"
        );
    }

    #[test]
    fn pkcs12_from_openssl_is_imported_and_a_wrong_password_is_refused() {
        if !openssl_available() {
            return;
        }
        let m = made();
        let p = |name: &str| m.dir.path().join(name).to_str().expect("utf-8").to_owned();
        std::fs::write(p("leaf.pem"), crate::to_pem("CERTIFICATE", &m.leaf)).expect("write");
        std::fs::write(p("ca.pem"), crate::to_pem("CERTIFICATE", &m.ca)).expect("write");
        std::fs::write(p("key.pem"), &m.key_pem).expect("write");
        // The passphrases reach openssl in files, never on its command line.
        std::fs::write(p("pass"), "S3cret-pw").expect("write");
        std::fs::write(p("pass-x"), "x").expect("write");
        let (ok, out) = openssl(&[
            "pkcs12",
            "-export",
            "-in",
            &p("leaf.pem"),
            "-inkey",
            &p("key.pem"),
            "-certfile",
            &p("ca.pem"),
            "-passout",
            &format!("file:{}", p("pass")),
            "-out",
            &p("id.p12"),
        ]);
        assert!(ok, "{out}");
        let bytes = std::fs::read(p("id.p12")).expect("p12");
        let id = import_pkcs12(&bytes, &Sensitive::new("S3cret-pw".into())).expect("imported");
        assert_eq!(id.chain_der[0], m.leaf);
        assert!(id.chain_der.contains(&m.ca));
        let e = import_pkcs12(&bytes, &Sensitive::new("wrong".into())).unwrap_err();
        assert_eq!(e.code(), "pkcs12_unreadable");
        assert!(!e.to_string().contains("S3cret"));

        // The same certificate with another key (a PKCS#12 whose key belongs elsewhere).
        std::fs::write(p("other.pem"), key_pair().serialize_pem()).expect("write");
        let (ok, out) = openssl(&[
            "pkcs12",
            "-export",
            "-in",
            &p("leaf.pem"),
            "-inkey",
            &p("other.pem"),
            "-passout",
            &format!("file:{}", p("pass-x")),
            "-out",
            &p("bad.p12"),
        ]);
        // openssl itself refuses to pair them; if a build does not, the import must.
        if ok {
            let bytes = std::fs::read(p("bad.p12")).expect("p12");
            assert_eq!(
                import_pkcs12(&bytes, &Sensitive::new("x".into()))
                    .unwrap_err()
                    .code(),
                "key_mismatch"
            );
        } else {
            assert!(out.to_lowercase().contains("key"), "{out}");
        }
    }

    #[test]
    fn a_repacked_identity_opens_with_the_one_time_passphrase_only() {
        let m = made();
        let chain = crate::to_pem("CERTIFICATE", &m.leaf) + &crate::to_pem("CERTIFICATE", &m.ca);
        let id = import_pem(chain.as_bytes(), &Sensitive::new(m.key_pem.clone())).expect("pem");
        let once = one_time_passphrase();
        assert_eq!(once.expose().len(), 32);
        assert_ne!(once.expose(), one_time_passphrase().expose());
        let p12 = to_pkcs12(&id, &once).expect("packed");
        let back = import_pkcs12(&p12, &once).expect("opened");
        assert_eq!(back.chain_der, id.chain_der);
        assert_eq!(back.key_pkcs8_der.expose(), id.key_pkcs8_der.expose());
        assert!(back.key_matches_leaf());
        let swapped = ImportedIdentity {
            chain_der: vec![m.ca.clone()],
            key_pkcs8_der: Sensitive::new(id.key_pkcs8_der.expose().clone()),
        };
        assert!(!swapped.key_matches_leaf());
        assert!(import_pkcs12(&p12, &Sensitive::new("other".into())).is_err());
    }

    #[test]
    fn a_pkcs1_rsa_key_from_openssl_is_read() {
        let Some((pkcs8_pem, spki)) = crate::test_support::openssl_rsa_key_pem(2048) else {
            return;
        };
        let dir = tempfile::tempdir().expect("tempdir");
        let pkcs8 = dir.path().join("k8.pem");
        let pkcs1 = dir.path().join("k1.pem");
        std::fs::write(&pkcs8, pkcs8_pem).expect("write");
        let (ok, out) = openssl(&[
            "rsa",
            "-in",
            pkcs8.to_str().expect("utf-8"),
            "-traditional",
            "-out",
            pkcs1.to_str().expect("utf-8"),
        ]);
        assert!(ok, "{out}");
        let ca = test_ca("Site A");
        let leaf = crate::test_support::leaf_for_spki(&ca, &spki, &LeafSpec::default());
        let key = std::fs::read_to_string(&pkcs1).expect("key");
        assert!(key.contains("BEGIN RSA PRIVATE KEY"));
        let id = import_pem(
            crate::to_pem("CERTIFICATE", &leaf).as_bytes(),
            &Sensitive::new(key),
        )
        .expect("imported");
        assert_eq!(id.chain_der, vec![leaf]);
    }
}
