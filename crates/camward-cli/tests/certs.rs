//! `camward certs` end to end against camsim on 127.0.0.1 with the real keychain: the site CA is
//! created (its key only in the keychain), a camera is enrolled (key made on the camera, CSR
//! signed, checked, uploaded, assigned), the camera then serves exactly that certificate over
//! TLS — `openssl verify` accepts it against the site CA — and `certs list` shows its expiry.
#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.

mod common;

use camsim::InitialState;
use camward_vault::SecretStore as _;
use common::certs::{
    https_only_finding, openssl, openssl_ca, port_of, served_leaf, sha256_fingerprint,
    swap_certificate,
};
use common::{fleet, runtime, text, TestVault, FACTORY_ADMIN_PASSWORD};
use serde_json::Value;

#[test]
fn site_ca_enrols_a_camera_which_then_presents_that_certificate() {
    let Some(vault) = TestVault::new_or_skip("certs") else {
        return;
    };
    let rt = runtime();
    let fleet = fleet(&rt, 1, InitialState::Configured, 0);
    let cam = &fleet.cameras()[0];
    let url = cam.device_url();
    vault.set_password(&url, "admin", FACTORY_ADMIN_PASSWORD);
    let site = format!("Lab {}", std::process::id());

    // Enrolling before the CA exists says what to do.
    let out = vault.run(&["certs", "enrol", &url, "--site", &site], None);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("certs ca-init"),
        "{}",
        text(&out.stderr)
    );

    let out = vault.run(&["certs", "ca-init", "--site", &site], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("private key is in the OS keychain only"));
    let ca_pem = std::fs::read_dir(vault.dir.path().join("site-ca"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "pem"))
        .expect("the CA certificate is written next to the inventory");
    assert!(!std::fs::read_to_string(&ca_pem)
        .unwrap()
        .contains("PRIVATE KEY"));
    // A second CA for the same site is refused: it would orphan every certificate it signed.
    let again = vault.run(&["certs", "ca-init", "--site", &site], None);
    assert!(!again.status.success(), "{}", text(&again.stdout));

    assert!(cam.https_url().is_none(), "no certificate served before");
    let out = vault.run(
        &[
            "certs",
            "enrol",
            &url,
            "--site",
            &site,
            "--name",
            "cam-1.site.example",
            "--json",
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let done: Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(
        done["names"],
        serde_json::json!(["127.0.0.1", "cam-1.site.example"])
    );
    let sha = done["sha256"].as_str().unwrap().to_owned();

    // What the camera serves now, fetched with openssl as any client would see it.
    let https = cam
        .https_url()
        .expect("the camera serves HTTPS with the new certificate");
    let leaf = served_leaf(port_of(&https), vault.dir.path());
    openssl(
        vault.dir.path(),
        &[
            "verify",
            "-purpose",
            "sslserver",
            "-CAfile",
            ca_pem.to_str().unwrap(),
            leaf.to_str().unwrap(),
        ],
    );
    let fingerprint = sha256_fingerprint(&leaf);
    assert!(
        fingerprint.contains(&sha),
        "served {fingerprint}, recorded {sha}"
    );

    let out = vault.run(&["certs", "list", "--json"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listed: Value = serde_json::from_str(text(&out.stdout).lines().next().unwrap()).unwrap();
    assert_eq!(listed["sha256"], sha.as_str());
    let days = listed["days_left"].as_i64().unwrap();
    assert!((395..=397).contains(&days), "{days}");
    let out = vault.run(&["inventory", "show", &url], None);
    assert!(
        text(&out.stdout).contains("certificate.installed"),
        "{}",
        text(&out.stdout)
    );
    // The audit sees the installed certificate over TLS: proven, so HTTP may go now.
    let f = https_only_finding(&vault, &url);
    assert_eq!(f["status"], "fail", "{f:#}");
    let evidence = f["evidence"].as_str().unwrap();
    assert!(
        evidence.contains(&format!(
            "presents the certificate Camward installed (SHA-256 {sha}"
        )),
        "{f:#}"
    );
    assert!(evidence.contains("HTTP is still on"), "{f:#}");

    // Someone swaps the camera's certificate behind Camward's back: an alarm, not a silent accept.
    swap_certificate(&rt, &vault, cam, None, "rogue");
    let f = https_only_finding(&vault, &url);
    assert_eq!(f["status"], "fail", "{f:#}");
    assert!(
        f["evidence"].as_str().unwrap().starts_with("ALARM"),
        "{f:#}"
    );
    let _ = vault
        .keychain()
        .delete(&camward_certs::ca::keychain_key(&site));
}

#[test]
fn csrs_exported_for_the_sites_own_ca_come_back_issued_and_are_installed() {
    let Some(vault) = TestVault::new_or_skip("certsimport") else {
        return;
    };
    let rt = runtime();
    let fleet = fleet(&rt, 2, InitialState::Configured, 0);
    let urls: Vec<String> = fleet.cameras().iter().map(|c| c.device_url()).collect();
    for url in &urls {
        vault.set_password(url, "admin", FACTORY_ADMIN_PASSWORD);
    }
    let dir = tempfile::tempdir().unwrap();
    let batch = dir.path().join("batch");
    let mut args = vec![
        "certs",
        "export-csr",
        "--out",
        batch.to_str().unwrap(),
        "--organization",
        "Harbour",
        "--name",
        "cams.harbour.example",
    ];
    args.extend(urls.iter().map(String::as_str));
    let out = vault.run(&args, None);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );

    // The site's CA (here: openssl) verifies and issues each CSR, copying its names.
    openssl_ca(dir.path(), "Harbour CA", "keyCertSign");
    std::fs::write(
        dir.path().join("leaf.ext"),
        "extendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n",
    )
    .unwrap();
    let csrs: Vec<_> = std::fs::read_dir(&batch)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".csr.pem"))
        .collect();
    assert_eq!(csrs.len(), 2);
    for (i, csr) in csrs.iter().enumerate() {
        let csr = csr.to_str().unwrap();
        openssl(dir.path(), &["req", "-verify", "-noout", "-in", csr]);
        // Issued under names of the CA's choosing: matching is by key, not by file name.
        let issued = batch.join(format!("issued-{i}.crt"));
        openssl(
            dir.path(),
            &[
                "x509",
                "-req",
                "-in",
                csr,
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "20",
                "-copy_extensions",
                "copyall",
                "-extfile",
                "leaf.ext",
                "-out",
                issued.to_str().unwrap(),
            ],
        );
    }
    std::fs::write(batch.join("notes.txt.pem"), "not a certificate").unwrap();

    let ca = dir.path().join("ca.pem");
    let out = vault.run(
        &[
            "certs",
            "import",
            batch.to_str().unwrap(),
            "--ca",
            ca.to_str().unwrap(),
            "--json",
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        text(&out.stderr).contains("notes.txt.pem: not used"),
        "{}",
        text(&out.stderr)
    );
    let lines: Vec<Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{}", text(&out.stdout));
    for line in &lines {
        assert_eq!(line["names"][1], "cams.harbour.example", "{line:#}");
    }
    for cam in fleet.cameras() {
        assert!(
            cam.https_url().is_some(),
            "each camera serves its issued certificate"
        );
    }
}
