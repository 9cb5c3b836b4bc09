//! Route (3), a certificate and key made elsewhere, against camsim on 127.0.0.1: a PKCS#12 file
//! made with `openssl pkcs12 -export` is opened with its passphrase, installed with
//! UploadCertificateWithPrivateKeyInPKCS12 and seen by a real TLS handshake (and by an ONVIF
//! client trusting only the CA); and every refusal (expired, wrong SAN, wrong chain, 1024-bit
//! RSA, wrong passphrase, a certificate not matching the key) with its code, nothing uploaded.
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use camsim::{Fleet, FleetConfig, InitialState};
use camward_certs::{import_pem, import_pkcs12, ImportedIdentity, SubjectName};
use camward_core::certificates::{install_with_key, verify_presented, EnrolmentError};
use camward_core::session::CameraSession;
use camward_onvif::clock::SystemClock;
use camward_onvif::http::{HttpConfig, ReqwestTransport, TlsTrust};
use camward_onvif::{AuthMode, Camera, Credentials};
use camward_vault::Sensitive;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

const ADMIN: &str = "admin";
const PASSWORD: &str = "Vb7-kQ2!rT9z";

async fn fleet() -> Fleet {
    Fleet::start(FleetConfig {
        cameras: 1,
        state: InitialState::Configured,
        admin: Some((ADMIN.into(), PASSWORD.into())),
        lockout_duration: Duration::from_secs(60),
        ..FleetConfig::default()
    })
    .await
    .expect("fleet starts on loopback")
}

async fn session_with(url: &str, trust: Option<TlsTrust>) -> CameraSession {
    let transport = ReqwestTransport::new(&HttpConfig {
        trust,
        ..HttpConfig::default()
    })
    .expect("client");
    let camera = Camera::new(transport, url, Arc::new(SystemClock)).expect("valid URL");
    camera.set_credentials(Some(Credentials::new(ADMIN, PASSWORD)), AuthMode::Auto);
    camera.sync_clock().await.expect("camera clock");
    camera
}

struct Ca {
    der: Vec<u8>,
    pem: String,
    key_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

fn ca(name: &str) -> Ca {
    let key = KeyPair::generate().expect("CA key");
    let mut params = CertificateParams::default();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let cert = params.self_signed(&key).expect("CA certificate");
    Ca {
        der: cert.der().to_vec(),
        pem: cert.pem(),
        key_pem: key.serialize_pem(),
        issuer: Issuer::new(params, key),
    }
}

/// A serverAuth leaf for `names`, valid from `from_days` to `to_days` around now.
fn leaf(ca: &Ca, key: &KeyPair, names: &[&str], from_days: i64, to_days: i64) -> Vec<u8> {
    let mut params =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .expect("leaf params");
    params.distinguished_name.push(DnType::CommonName, names[0]);
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now + time::Duration::days(from_days);
    params.not_after = now + time::Duration::days(to_days);
    params
        .signed_by(key, &ca.issuer)
        .expect("leaf")
        .der()
        .to_vec()
}

fn pem(der: &[u8]) -> String {
    camward_certs::to_pem("CERTIFICATE", der)
}

fn openssl(args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn path(dir: &Path, name: &str) -> String {
    dir.join(name).to_str().expect("utf-8").to_owned()
}

/// `openssl pkcs12 -export` of leaf + key + CA, sealed with `passphrase`.
fn openssl_pkcs12(
    dir: &Path,
    leaf_der: &[u8],
    key_pem: &str,
    ca: &Ca,
    passphrase: &str,
) -> Vec<u8> {
    std::fs::write(dir.join("leaf.pem"), pem(leaf_der)).expect("write");
    std::fs::write(dir.join("key.pem"), key_pem).expect("write");
    std::fs::write(dir.join("ca.pem"), &ca.pem).expect("write");
    // The passphrase reaches openssl in a file, never on its command line.
    std::fs::write(dir.join("pass"), passphrase).expect("write");
    let pass = format!("file:{}", path(dir, "pass"));
    openssl(&[
        "pkcs12",
        "-export",
        "-in",
        &path(dir, "leaf.pem"),
        "-inkey",
        &path(dir, "key.pem"),
        "-certfile",
        &path(dir, "ca.pem"),
        "-passout",
        &pass,
        "-out",
        &path(dir, "id.p12"),
    ]);
    std::fs::read(dir.join("id.p12")).expect("p12")
}

fn loopback() -> Vec<SubjectName> {
    vec![SubjectName::parse("127.0.0.1")]
}

async fn install(
    admin: &CameraSession,
    url: &str,
    id: &ImportedIdentity,
    ca: Option<&Ca>,
) -> Result<camward_core::certificates::Installed, EnrolmentError> {
    install_with_key(
        admin,
        url,
        id,
        ca.map(|c| c.der.as_slice()),
        &loopback(),
        &SystemClock,
    )
    .await
}

#[tokio::test]
async fn an_openssl_pkcs12_is_installed_and_presented_and_every_bad_one_refused() {
    let fleet = fleet().await;
    let cam = &fleet.cameras()[0];
    let url = cam.device_url();
    let admin = session_with(&url, None).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let site = ca("Site A RADIUS-free CA");
    let key = KeyPair::generate().expect("leaf key");

    // Refusals first: each with its code, and nothing reaches the camera.
    let refused = |r: Result<_, EnrolmentError>| r.map(|_| ()).unwrap_err().code().to_owned();
    let expired = leaf(&site, &key, &["127.0.0.1"], -30, -1);
    let id = import_pem(
        (pem(&expired) + &site.pem).as_bytes(),
        &Sensitive::new(key.serialize_pem()),
    )
    .expect("pem");
    assert_eq!(
        refused(install(&admin, &url, &id, Some(&site)).await),
        "cert_expired"
    );
    let other_name = leaf(&site, &key, &["cam-other.site-a.example"], -1, 90);
    let id = import_pem(
        pem(&other_name).as_bytes(),
        &Sensitive::new(key.serialize_pem()),
    )
    .expect("pem");
    assert_eq!(
        refused(install(&admin, &url, &id, Some(&site)).await),
        "cert_name_not_covered"
    );
    let elsewhere = ca("Another CA");
    let foreign = leaf(&elsewhere, &key, &["127.0.0.1"], -1, 90);
    let id = import_pem(
        pem(&foreign).as_bytes(),
        &Sensitive::new(key.serialize_pem()),
    )
    .expect("pem");
    assert_eq!(
        refused(install(&admin, &url, &id, Some(&site)).await),
        "cert_wrong_chain"
    );

    // A 1024-bit RSA key, made and certified by openssl.
    std::fs::write(dir.path().join("site.pem"), &site.pem).expect("write");
    std::fs::write(dir.path().join("site.key"), &site.key_pem).expect("write");
    std::fs::write(
        dir.path().join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n",
    )
    .expect("write");
    let p = |n: &str| path(dir.path(), n);
    openssl(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:1024",
        "-out",
        &p("weak.key"),
    ]);
    openssl(&[
        "req",
        "-new",
        "-key",
        &p("weak.key"),
        "-subj",
        "/CN=127.0.0.1",
        "-out",
        &p("weak.csr"),
    ]);
    openssl(&[
        "x509",
        "-req",
        "-in",
        &p("weak.csr"),
        "-CA",
        &p("site.pem"),
        "-CAkey",
        &p("site.key"),
        "-CAcreateserial",
        "-days",
        "30",
        "-extfile",
        &p("ext.cnf"),
        "-out",
        &p("weak.pem"),
    ]);
    let weak = import_pem(
        &std::fs::read(p("weak.pem")).expect("cert"),
        &Sensitive::new(std::fs::read_to_string(p("weak.key")).expect("key")),
    )
    .expect("a 1024-bit pair reads");
    // openssl starts validity at this second, which the camera's clock may not have reached:
    // the weak key must be among the problems, whatever comes first.
    match install(&admin, &url, &weak, Some(&site)).await {
        Err(EnrolmentError::Refused { problems, .. }) => assert!(
            problems.iter().any(|p| p.code() == "cert_weak_key"),
            "{problems:?}"
        ),
        other => panic!("a 1024-bit key must be refused: {:?}", other.map(|_| ())),
    }

    // A certificate that is not the key's: the import refuses it, and so does the install when
    // handed such a pair anyway.
    let good = leaf(&site, &key, &["127.0.0.1"], -1, 90);
    let stranger = KeyPair::generate().expect("other key");
    let mismatch = import_pem(
        pem(&good).as_bytes(),
        &Sensitive::new(stranger.serialize_pem()),
    )
    .unwrap_err();
    assert_eq!(mismatch.code(), "key_mismatch");
    let forged = ImportedIdentity {
        chain_der: vec![good.clone()],
        key_pkcs8_der: Sensitive::new(stranger.serialize_der()),
    };
    assert_eq!(
        refused(install(&admin, &url, &forged, Some(&site)).await),
        "key_mismatch"
    );

    // The real thing, from openssl: a wrong passphrase opens nothing.
    let p12 = openssl_pkcs12(
        dir.path(),
        &good,
        &key.serialize_pem(),
        &site,
        "Imp0rt-pass!",
    );
    let wrong = import_pkcs12(&p12, &Sensitive::new("not-it".into())).unwrap_err();
    assert_eq!(wrong.code(), "pkcs12_unreadable");
    assert!(!wrong.to_string().contains("Imp0rt"));
    assert!(
        admin
            .get_all_certificates()
            .await
            .expect("certificates")
            .is_empty(),
        "no refusal uploaded anything"
    );

    let id = import_pkcs12(&p12, &Sensitive::new("Imp0rt-pass!".into())).expect("opened");
    let installed = install(&admin, &url, &id, Some(&site))
        .await
        .expect("installed");
    assert_eq!(installed.leaf_sha256, camward_certs::sha256(&good));
    assert_eq!(installed.replaced, None);
    verify_presented("127.0.0.1", cam.https_port(), installed.leaf_sha256)
        .await
        .expect("the camera presents exactly the imported certificate");
    // openssl s_client sees it too, and the chain verifies against the CA.
    // Off the runtime's thread (camsim answers on it); `timeout` in case s_client waits on.
    let (port, ca_file) = (cam.https_port(), p("site.pem"));
    let s_client = tokio::task::spawn_blocking(move || {
        Command::new("timeout")
            .args([
                "20",
                "openssl",
                "s_client",
                "-brief",
                "-connect",
                &format!("127.0.0.1:{port}"),
                "-CAfile",
                &ca_file,
                "-verify_return_error",
                "-verify_ip",
                "127.0.0.1",
            ])
            .stdin(std::process::Stdio::null())
            .output()
            .expect("s_client runs")
    })
    .await
    .expect("s_client joined");
    // -brief reports on stderr.
    let said = String::from_utf8_lossy(&s_client.stderr);
    assert!(
        said.contains("Verification: OK"),
        "s_client: {said}\n{}",
        String::from_utf8_lossy(&s_client.stdout)
    );
    let https = cam.https_url().expect("HTTPS served");
    session_with(&https, Some(TlsTrust::CaPem(site.pem.clone().into_bytes())))
        .await
        .get_device_information()
        .await
        .expect("ONVIF over TLS trusting only the CA");

    // Importing again replaces the assignment in one step.
    let key2 = KeyPair::generate().expect("key 2");
    let second = leaf(&site, &key2, &["127.0.0.1"], -1, 90);
    let id2 = import_pem(
        (pem(&second) + &site.pem).as_bytes(),
        &Sensitive::new(key2.serialize_pem()),
    )
    .expect("pem");
    let again = install(&admin, &url, &id2, None)
        .await
        .expect("re-installed");
    assert_eq!(again.replaced.as_deref(), Some(installed.path_id.as_str()));
    verify_presented("127.0.0.1", cam.https_port(), again.leaf_sha256)
        .await
        .expect("the second certificate is presented");
    fleet.shutdown().await;
}
