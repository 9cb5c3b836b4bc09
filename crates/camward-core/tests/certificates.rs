//! Certificates onto cameras, against camsim on 127.0.0.1 (real RSA keys and CSRs on the camera, a
//! real HTTPS listener serving whatever is assigned): the site-CA route and the CSR export/import
//! route end to end, each proven by a TLS handshake that sees the new certificate; and refusals
//! (expired, wrong SAN, wrong chain, another key, short key) that upload nothing.
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use camsim::{Fleet, FleetConfig, InitialState};
use camward_certs::{SiteCa, SubjectName, Validity};
use camward_core::certificates::{
    compare_pin, create_key_and_csr, enrol_with_site_ca, install, verify_presented,
    write_replace_server_certificate_assignment, Enrolment, EnrolmentError, KeyWait, PinOutcome,
};
use camward_core::session::CameraSession;
use camward_onvif::clock::{Clock, SystemClock};
use camward_onvif::http::{HttpConfig, ReqwestTransport, TlsTrust};
use camward_onvif::security::DistinguishedName;
use camward_onvif::{AuthMode, Camera, Credentials};

const ADMIN: &str = "admin";
const PASSWORD: &str = "Vb7-kQ2!rT9z";

async fn fleet(cameras: usize) -> Fleet {
    Fleet::start(FleetConfig {
        cameras,
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

async fn session(url: &str) -> CameraSession {
    session_with(url, None).await
}

fn site_ca(dir: &Path, site: &str) -> SiteCa {
    SiteCa::create(
        site,
        Validity::days_from(SystemClock.now(), 3650),
        &camward_vault::MemoryStore::default(),
        &dir.join(format!("{site}.pem")),
    )
    .expect("site CA")
}

fn enrolment(names: &[&str]) -> Enrolment {
    Enrolment {
        subject: DistinguishedName {
            organization: Some("Site A".into()),
            common_name: Some(names[0].into()),
            ..DistinguishedName::default()
        },
        names: names.iter().map(|n| SubjectName::parse(n)).collect(),
        key_bits: 2048,
        key_wait: KeyWait {
            interval: Duration::from_millis(100),
            attempts: 50,
        },
    }
}

fn leaf_validity() -> Validity {
    Validity::days_from(SystemClock.now(), 397)
}

#[tokio::test]
async fn site_ca_route_ends_with_a_handshake_that_sees_the_new_certificate() {
    let fleet = fleet(1).await;
    let cam = &fleet.cameras()[0];
    let url = cam.device_url();
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = site_ca(dir.path(), "site-a");
    let admin = session(&url).await;
    assert!(cam.https_url().is_none(), "nothing is served before");
    let want = enrolment(&["cam-lobby.site-a.example", "127.0.0.1"]);

    let first = enrol_with_site_ca(&admin, &url, &want, &ca, leaf_validity(), &SystemClock)
        .await
        .expect("enrolled");
    assert_eq!(first.replaced, None);
    verify_presented("127.0.0.1", cam.https_port(), first.leaf_sha256)
        .await
        .expect("the camera presents exactly the new certificate");

    // A client that trusts only the site CA now talks ONVIF to the camera over HTTPS, name
    // (127.0.0.1) and chain verified.
    let https = cam.https_url().expect("HTTPS is served now");
    let over_tls = session_with(
        &https,
        Some(TlsTrust::CaPem(ca.certificate_pem().as_bytes().to_vec())),
    )
    .await;
    over_tls
        .get_device_information()
        .await
        .expect("ONVIF over TLS trusting the site CA");

    // Enrolling again replaces the assignment in one step; the old pin now raises the alarm.
    let second = enrol_with_site_ca(&admin, &url, &want, &ca, leaf_validity(), &SystemClock)
        .await
        .expect("re-enrolled");
    assert_eq!(second.replaced.as_deref(), Some(first.path_id.as_str()));
    assert_ne!(second.leaf_sha256, first.leaf_sha256);
    verify_presented("127.0.0.1", cam.https_port(), second.leaf_sha256)
        .await
        .expect("the second certificate is presented");
    let stale = verify_presented("127.0.0.1", cam.https_port(), first.leaf_sha256).await;
    assert!(stale.is_err(), "the first certificate is gone");
    assert!(compare_pin(Some(first.leaf_sha256), second.leaf_sha256).is_alarm());
    assert_eq!(
        compare_pin(Some(second.leaf_sha256), second.leaf_sha256),
        PinOutcome::Same
    );

    // The site CA certificate was stored once and reused.
    let stored = admin.get_all_certificates().await.expect("certificates");
    let ca_copies = stored
        .iter()
        .filter(|c| c.der == ca.certificate_der())
        .count();
    assert_eq!(ca_copies, 1, "CA certificate stored once");
    fleet.shutdown().await;
}

#[tokio::test]
async fn exported_csrs_come_back_issued_and_are_matched_by_key() {
    let fleet = fleet(2).await;
    let export = tempfile::tempdir().expect("tempdir");
    let mut pending = Vec::new();
    for cam in fleet.cameras() {
        let url = cam.device_url();
        let admin = session(&url).await;
        let want = enrolment(&["127.0.0.1"]);
        let key = create_key_and_csr(&admin, &url, &want).await.expect("CSR");
        let csr = camward_certs::parse_csr(&key.csr_der).expect("the camera's CSR verifies");
        assert_eq!(csr.names, want.names, "the CSR asks for every name");
        assert!(csr.subject.contains("CN=127.0.0.1"), "{}", csr.subject);
        pending.push((url, admin, want, key));
    }
    let manifest = camward_certs::export_batch(
        export.path(),
        &pending
            .iter()
            .map(|(url, _, _, key)| camward_certs::CsrForExport {
                camera: url.clone(),
                csr_der: key.csr_der.clone(),
            })
            .collect::<Vec<_>>(),
    )
    .expect("exported");
    if openssl_available() {
        for entry in &manifest.cameras {
            let path = export.path().join(&entry.file);
            let out = std::process::Command::new("openssl")
                .args(["req", "-verify", "-noout", "-in"])
                .arg(&path)
                .output()
                .expect("openssl runs");
            assert!(
                out.status.success(),
                "openssl req -verify refused {}: {}",
                entry.file,
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }

    // The site's own CA (played by a second SiteCa) issues them under names of its own, in
    // reverse order, with the chain in each file.
    let ca_dir = tempfile::tempdir().expect("tempdir");
    let their_ca = site_ca(ca_dir.path(), "site-own-ca");
    let issued = tempfile::tempdir().expect("tempdir");
    for (i, entry) in manifest.cameras.iter().rev().enumerate() {
        let csr = std::fs::read(export.path().join(&entry.file)).expect("CSR file");
        let leaf = their_ca
            .sign_csr(&csr, &[SubjectName::parse("127.0.0.1")], leaf_validity())
            .expect("issued");
        let text = camward_certs::to_pem("CERTIFICATE", &leaf) + their_ca.certificate_pem();
        std::fs::write(issued.path().join(format!("ticket-{i}.crt")), text).expect("write");
    }
    let report = camward_certs::import_batch(issued.path(), &manifest).expect("imported");
    assert!(
        report.unmatched.is_empty() && report.missing.is_empty(),
        "{report:?}"
    );
    assert_eq!(report.issued.len(), 2);

    for (url, admin, want, key) in &pending {
        let cert = report
            .issued
            .iter()
            .find(|i| &i.camera == url)
            .expect("matched to this camera");
        let done = install(
            admin,
            url,
            &cert.chain_der,
            their_ca.certificate_der(),
            Some(key),
            &want.names,
            &SystemClock,
        )
        .await
        .expect("installed");
        let port = fleet
            .cameras()
            .iter()
            .find(|c| &c.device_url() == url)
            .expect("camera")
            .https_port();
        verify_presented("127.0.0.1", port, done.leaf_sha256)
            .await
            .expect("the camera presents its imported certificate");
    }
    fleet.shutdown().await;
}

#[tokio::test]
async fn refused_certificates_upload_nothing() {
    let fleet = fleet(1).await;
    let cam = &fleet.cameras()[0];
    let url = cam.device_url();
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = site_ca(dir.path(), "site-a");
    let stranger = site_ca(dir.path(), "stranger");
    let admin = session(&url).await;
    let want = enrolment(&["cam-lobby.site-a.example", "127.0.0.1"]);
    let key = create_key_and_csr(&admin, &url, &want).await.expect("CSR");
    let other_key = create_key_and_csr(&admin, &url, &want)
        .await
        .expect("second CSR");
    let before = admin.get_all_certificates().await.expect("certificates");
    let now = SystemClock.now();

    let expired = ca
        .sign_csr(
            &key.csr_der,
            &want.names,
            Validity {
                not_before: now - time::Duration::days(400),
                not_after: now - time::Duration::days(1),
            },
        )
        .expect("signed");
    let wrong_san = ca
        .sign_csr(
            &key.csr_der,
            &[SubjectName::parse("192.0.2.77")],
            leaf_validity(),
        )
        .expect("signed");
    let wrong_chain = stranger
        .sign_csr(&key.csr_der, &want.names, leaf_validity())
        .expect("signed");
    let other = ca
        .sign_csr(&other_key.csr_der, &want.names, leaf_validity())
        .expect("signed");
    let cases = [
        ("expired", expired, "cert_expired"),
        ("wrong SAN", wrong_san, "cert_name_not_covered"),
        ("wrong chain", wrong_chain, "cert_wrong_chain"),
        ("another key", other, "cert_key_mismatch"),
    ];
    for (what, leaf, code) in cases {
        let e = install(
            &admin,
            &url,
            &[leaf, ca.certificate_der().to_vec()],
            ca.certificate_der(),
            Some(&key),
            &want.names,
            &SystemClock,
        )
        .await
        .expect_err(what);
        assert!(
            matches!(&e, EnrolmentError::Refused { camera, .. } if *camera == url),
            "{what}: {e:?}"
        );
        let codes: Vec<&str> = match &e {
            EnrolmentError::Refused { problems, .. } => problems.iter().map(|p| p.code()).collect(),
            EnrolmentError::Failed(_) => vec![],
        };
        assert!(codes.contains(&code), "{what}: {codes:?}");
        let core = e.to_core();
        assert_eq!(core.step, "check certificate");
        assert!(!core.message.is_empty());
    }
    // The camera clock decides: the good certificate on a camera whose clock is two years ahead
    // is expired there, and refused.
    cam.set_clock_skew(2 * 366 * 24 * 3600);
    let ahead = session(&url).await;
    let good = ca
        .sign_csr(&key.csr_der, &want.names, leaf_validity())
        .expect("signed");
    let e = install(
        &ahead,
        &url,
        &[good],
        ca.certificate_der(),
        Some(&key),
        &want.names,
        &SystemClock,
    )
    .await
    .expect_err("expired by the camera's clock");
    assert_eq!(e.code(), "cert_expired");
    cam.set_clock_skew(0);

    // A short key is refused before the camera is asked.
    let short = Enrolment {
        key_bits: 1024,
        ..want.clone()
    };
    let e = create_key_and_csr(&admin, &url, &short)
        .await
        .expect_err("1024 bits");
    assert_eq!(
        (e.code.as_str(), e.step.as_str()),
        ("key_too_short", "CreateRSAKeyPair")
    );

    let after = admin.get_all_certificates().await.expect("certificates");
    assert_eq!(after, before, "nothing was uploaded");
    assert!(admin
        .get_assigned_server_certificates()
        .await
        .expect("assigned")
        .is_empty());
    assert!(cam.https_url().is_none());
    fleet.shutdown().await;
}

#[test]
fn the_replace_request_is_schema_valid() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("replace.xml");
    std::fs::write(
        &file,
        write_replace_server_certificate_assignment("path-1", "path-2"),
    )
    .expect("write");
    let validator =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/onvif-schema/validate");
    let out = std::process::Command::new(validator)
        .arg(&file)
        .output()
        .expect("validator runs");
    assert!(
        out.status.success(),
        "schema validation failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Whether the openssl CLI runs; missing is a failure in CI, a printed skip elsewhere.
fn openssl_available() -> bool {
    let ok = std::process::Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "openssl is required in CI (scripts/lib.sh installs it)"
        );
        eprintln!("skipping the openssl checks: the openssl CLI is not installed");
    }
    ok
}
