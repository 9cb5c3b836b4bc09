//! Certificates, keys and tools the unit tests share.
use std::process::Command;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use time::OffsetDateTime;

use crate::SubjectName;

/// The test's "now" (tests may read the clock; the library never does).
pub(crate) fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// A CA made directly with rcgen, independent of [`crate::SiteCa`].
pub(crate) struct TestCa {
    pub(crate) der: Vec<u8>,
    pub(crate) issuer: Issuer<'static, KeyPair>,
}

pub(crate) fn test_ca(name: &str) -> TestCa {
    test_ca_valid(
        name,
        now() - time::Duration::days(400),
        now() + time::Duration::days(3650),
    )
}

pub(crate) fn test_ca_valid(
    name: &str,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> TestCa {
    let key = KeyPair::generate().expect("CA key");
    let mut params = CertificateParams::default();
    params.not_before = not_before;
    params.not_after = not_after;
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let der = params.self_signed(&key).expect("CA").der().to_vec();
    TestCa {
        der,
        issuer: Issuer::new(params, key),
    }
}

/// A fresh ECDSA P-256 key (fast to make; RSA keys come from camsim or openssl).
pub(crate) fn key_pair() -> KeyPair {
    KeyPair::generate().expect("key")
}

/// The names the test camera is reached by.
pub(crate) fn camera_names() -> Vec<SubjectName> {
    vec![
        SubjectName::parse("192.0.2.10"),
        SubjectName::parse("cam-lobby.example.net"),
    ]
}

/// How a test leaf differs from a good one.
pub(crate) struct LeafSpec {
    pub(crate) not_before: OffsetDateTime,
    pub(crate) not_after: OffsetDateTime,
    pub(crate) sans: Vec<SubjectName>,
    pub(crate) server_auth: bool,
}

impl Default for LeafSpec {
    fn default() -> Self {
        Self {
            not_before: now() - time::Duration::hours(1),
            not_after: now() + time::Duration::days(90),
            sans: camera_names(),
            server_auth: true,
        }
    }
}

fn leaf_params(spec: &LeafSpec) -> CertificateParams {
    let mut params = CertificateParams::default();
    params
        .distinguished_name
        .push(DnType::CommonName, "cam-lobby.example.net");
    params.subject_alt_names = spec
        .sans
        .iter()
        .map(crate::ca::san_type)
        .collect::<Result<_, _>>()
        .expect("SAN");
    params.not_before = spec.not_before;
    params.not_after = spec.not_after;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = if spec.server_auth {
        vec![ExtendedKeyUsagePurpose::ServerAuth]
    } else {
        vec![ExtendedKeyUsagePurpose::ClientAuth]
    };
    params
}

pub(crate) fn leaf_for_key(ca: &TestCa, key: &KeyPair, spec: &LeafSpec) -> Vec<u8> {
    leaf_params(spec)
        .signed_by(key, &ca.issuer)
        .expect("leaf")
        .der()
        .to_vec()
}

pub(crate) fn leaf_for_spki(ca: &TestCa, spki_der: &[u8], spec: &LeafSpec) -> Vec<u8> {
    let public = rcgen::SubjectPublicKeyInfo::from_der(spki_der).expect("SPKI");
    leaf_params(spec)
        .signed_by(&public, &ca.issuer)
        .expect("leaf")
        .der()
        .to_vec()
}

/// Whether the `openssl` CLI can run. Missing outside CI: say why and let the test skip; with
/// `CI` set it is a failure, since CI must run every check.
pub(crate) fn openssl_available() -> bool {
    let ok = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "openssl is required in CI (scripts/lib.sh installs it)"
        );
        eprintln!("skipping: the openssl CLI is not installed (apt-get install openssl)");
    }
    ok
}

/// Runs openssl with `args`; returns whether it succeeded, with its output for messages.
pub(crate) fn openssl(args: &[&str]) -> (bool, String) {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl runs");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// A fresh RSA key of `bits` made by the openssl CLI: (PKCS#8 PEM private key, DER SPKI), or
/// `None` when openssl is missing outside CI. Used for sizes ring refuses to make or load.
pub(crate) fn openssl_rsa_key_pem(bits: u32) -> Option<(String, Vec<u8>)> {
    if !openssl_available() {
        return None;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let key = dir.path().join("key.pem");
    let spki = dir.path().join("spki.der");
    let key_s = key.to_str().expect("utf-8 path");
    let (ok, out) = openssl(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        &format!("rsa_keygen_bits:{bits}"),
        "-out",
        key_s,
    ]);
    assert!(ok, "openssl genpkey: {out}");
    let (ok, out) = openssl(&[
        "pkey",
        "-in",
        key_s,
        "-pubout",
        "-outform",
        "DER",
        "-out",
        spki.to_str().expect("utf-8 path"),
    ]);
    assert!(ok, "openssl pkey: {out}");
    Some((
        std::fs::read_to_string(&key).expect("key"),
        std::fs::read(&spki).expect("spki"),
    ))
}

/// Like [`openssl_rsa_key_pem`], only the DER SPKI.
pub(crate) fn openssl_rsa_key(bits: u32) -> Option<Vec<u8>> {
    openssl_rsa_key_pem(bits).map(|(_, spki)| spki)
}

/// Secrets in memory, for the CA tests.
pub(crate) use camward_vault::MemoryStore;
