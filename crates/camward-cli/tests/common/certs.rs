//! Shared by the certificate tests: openssl as the site's own CA and as a client of a camera's
//! HTTPS port, a certificate swapped onto a camera behind Camward's back, and the audit's
//! `https-only` finding.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use camward_vault::SecretStore as _;
use serde_json::Value;

use super::{text, TestVault};

/// Runs `openssl args` in `dir` and checks that it succeeded.
pub fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// A CA made by openssl in `dir`: a P-256 key in `ca.key` and its self-signed certificate, valid
/// for 30 days, in `ca.pem`, with subject `/CN=<common_name>` and key usage `key_usage`.
pub fn openssl_ca(dir: &Path, common_name: &str, key_usage: &str) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "30",
            "-subj",
            &format!("/CN={common_name}"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            &format!("keyUsage=critical,{key_usage}"),
        ],
    );
}

/// The port of an `https://host:port/…` URL.
pub fn port_of(https_url: &str) -> u16 {
    https_url
        .trim_start_matches("https://")
        .split('/')
        .next()
        .unwrap()
        .rsplit_once(':')
        .unwrap()
        .1
        .parse()
        .unwrap()
}

/// The leaf certificate openssl sees on 127.0.0.1:`port`, written to `dir/served.pem`.
pub fn served_leaf(port: u16, dir: &Path) -> PathBuf {
    let served = Command::new("openssl")
        .args(["s_client", "-connect", &format!("127.0.0.1:{port}")])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let served = text(&served.stdout);
    let begin = served
        .find("-----BEGIN CERTIFICATE-----")
        .expect("a certificate");
    let end = served[begin..].find("-----END CERTIFICATE-----").unwrap() + begin + 25;
    let leaf = dir.join("served.pem");
    std::fs::write(&leaf, &served[begin..end]).unwrap();
    leaf
}

/// SHA-256 (lower-case hex) of the certificate in the PEM file `pem`, by openssl.
pub fn sha256_fingerprint(pem: &Path) -> String {
    let fingerprint = Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
        .arg(pem)
        .output()
        .unwrap();
    let fingerprint = text(&fingerprint.stdout).to_lowercase().replace(':', "");
    fingerprint
        .trim()
        .rsplit('=')
        .next()
        .unwrap()
        .trim()
        .to_owned()
}

/// SHA-256 (lower-case hex) of the leaf openssl sees on 127.0.0.1:`port`.
pub fn openssl_fingerprint(port: u16, dir: &Path) -> String {
    sha256_fingerprint(&served_leaf(port, dir))
}

/// Someone else gives the camera a certificate from a CA Camward does not know, behind Camward's
/// back: over HTTP, or over HTTPS trusting `pin` once HTTP is off. Returns its SHA-256 (hex).
pub fn swap_certificate(
    rt: &tokio::runtime::Runtime,
    vault: &TestVault,
    cam: &camsim::SimCamera,
    pin: Option<&str>,
    tag: &str,
) -> String {
    let url = cam.device_url();
    rt.block_on(async {
        let session = match pin {
            None => camward_core::session::open(&url).unwrap(),
            Some(pin) => {
                let pin = camward_core::certificates::parse_fingerprint(pin).unwrap();
                let transport =
                    camward_onvif::http::ReqwestTransport::new(&camward_onvif::http::HttpConfig {
                        trust: Some(camward_onvif::http::TlsTrust::PinnedSha256(pin)),
                        ..Default::default()
                    })
                    .unwrap();
                camward_onvif::Camera::new(
                    transport,
                    &format!(
                        "https://127.0.0.1:{}/onvif/device_service",
                        cam.https_port()
                    ),
                    Arc::new(camward_onvif::clock::SystemClock),
                )
                .unwrap()
            }
        };
        session.sync_clock().await.unwrap();
        let password = vault.current(&url, "admin").unwrap();
        session.set_credentials(
            Some(camward_onvif::Credentials::new("admin", &password)),
            camward_onvif::AuthMode::Auto,
        );
        let site = format!("Other {tag} {}", std::process::id());
        let validity = camward_certs::Validity::days_from(time::OffsetDateTime::now_utc(), 30);
        let other = camward_certs::SiteCa::create(
            &site,
            validity,
            &vault.keychain(),
            &vault.dir.path().join(format!("other-{tag}.pem")),
        )
        .unwrap();
        let enrolment = camward_core::certificates::Enrolment {
            subject: camward_onvif::security::DistinguishedName {
                common_name: Some("127.0.0.1".into()),
                ..Default::default()
            },
            names: vec![camward_certs::SubjectName::parse("127.0.0.1")],
            key_bits: 2048,
            key_wait: camward_core::certificates::KeyWait::default(),
        };
        let installed = camward_core::certificates::enrol_with_site_ca(
            &session,
            &url,
            &enrolment,
            &other,
            validity,
            &camward_onvif::clock::SystemClock,
        )
        .await
        .unwrap();
        let _ = vault
            .keychain()
            .delete(&camward_certs::ca::keychain_key(&site));
        camward_certs::hex(&installed.leaf_sha256)
    })
}

/// The `https-only` finding of an audit of the camera at `url` at level standard.
pub fn https_only_finding(vault: &TestVault, url: &str) -> Value {
    let out = vault.run(&["audit", url, "--level", "standard", "--json"], None);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let card: Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    card["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["control"] == "https-only")
        .unwrap()
        .clone()
}
