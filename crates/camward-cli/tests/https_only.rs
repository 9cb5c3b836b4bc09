//! HTTPS only, end to end against camsim on 127.0.0.1 with the real keychain: a camera enrolled
//! with the site CA is commissioned, HTTP goes off only after HTTPS is proven with the pin, the
//! HTTP port then refuses connections, openssl sees the pinned certificate, and later audits talk
//! HTTPS. A self-signed (here: foreign-CA) certificate is pinned on first use only after a person
//! confirms, a changed one is an alarm (an ALARM finding over HTTP, `certificate_changed` once
//! HTTPS-only), and an assignment the camera does not serve is rolled back.
#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.

mod common;

use camsim::InitialState;
use camward_vault::SecretStore as _;
use common::certs::{https_only_finding, openssl_fingerprint, swap_certificate};
use common::{fleet, runtime, text, TestVault, FACTORY_ADMIN_PASSWORD};
use serde_json::Value;

/// A plan at level standard that allows this computer and leaves ports alone.
fn plan_file(dir: &std::path::Path) -> String {
    let path = dir.join("site.toml");
    std::fs::write(
        &path,
        "site = \"Test\"\nlevel = \"standard\"\n\n[time]\nntp = [\"127.0.0.1\"]\nmax_skew_s = 5\n\n[access]\nallowed_hosts = [\"127.0.0.0/8\"]\n\n[services]\nkeep = [\"https\", \"rtsp\"]\n\n[certificates]\npolicy = \"site-ca\"\n\n[controls]\nskip = [\"ports-changed\"]\n",
    )
    .unwrap();
    path.to_str().unwrap().to_owned()
}

fn commission_step(vault: &TestVault, plan: &str, url: &str, control: &str) -> Value {
    let out = vault.run(&["commission", "--plan", plan, url, "--json"], None);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let result: Value = serde_json::from_str(text(&out.stdout).lines().next().unwrap()).unwrap();
    result["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["control"] == control)
        .cloned()
        .unwrap_or_else(|| panic!("no step {control}: {result:#}"))
}

fn http_refused(cam: &camsim::SimCamera) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", cam.http_port())).is_err()
}

#[test]
fn http_goes_off_only_after_https_is_proven_and_camward_then_talks_https() {
    let Some(vault) = TestVault::new_or_skip("httpsonly") else {
        return;
    };
    let rt = runtime();
    let fleet = fleet(&rt, 1, InitialState::Configured, 0);
    let cam = &fleet.cameras()[0];
    let url = cam.device_url();
    vault.set_password(&url, "admin", FACTORY_ADMIN_PASSWORD);
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(dir.path());

    // No certificate pinned yet: HTTP stays on, with the reason.
    let step = commission_step(&vault, &plan, &url, "https-only");
    assert_eq!(step["outcome"]["outcome"], "refused", "{step:#}");
    assert!(
        step["outcome"]["reason"]
            .as_str()
            .unwrap()
            .contains("no certificate pinned"),
        "{step:#}"
    );
    assert!(!http_refused(cam), "HTTP still answers");

    let site = format!("Lab {}", std::process::id());
    let out = vault.run(&["certs", "ca-init", "--site", &site], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = vault.run(&["certs", "enrol", &url, "--site", &site, "--json"], None);
    assert!(out.status.success(), "{}", text(&out.stdout));
    let enrolled: Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    let sha = enrolled["sha256"].as_str().unwrap().to_owned();

    let rtsp_before: Vec<_> = cam
        .state()
        .protocols
        .into_iter()
        .filter(|p| p.name == "RTSP")
        .collect();
    let step = commission_step(&vault, &plan, &url, "https-only");
    assert_eq!(step["outcome"]["outcome"], "applied", "{step:#}");

    // From outside: HTTP refuses, HTTPS presents exactly the pinned certificate.
    assert!(http_refused(cam), "the HTTP port refuses connections");
    let state = cam.state();
    assert!(state
        .protocols
        .iter()
        .any(|p| p.name == "HTTP" && !p.enabled));
    assert!(state
        .protocols
        .iter()
        .any(|p| p.name == "HTTPS" && p.enabled));
    let rtsp_after: Vec<_> = state
        .protocols
        .into_iter()
        .filter(|p| p.name == "RTSP")
        .collect();
    assert_eq!(rtsp_after, rtsp_before, "RTSP left as it was");
    assert_eq!(openssl_fingerprint(cam.https_port(), dir.path()), sha);
    let out = vault.run(&["inventory", "show", &url], None);
    let trail = text(&out.stdout);
    for action in [
        "https-only.proven",
        "https-only.switch",
        "https-only.http-off",
        "https-only.verified",
    ] {
        assert!(trail.contains(action), "{action} in the trail: {trail}");
    }

    // A later audit talks HTTPS only (HTTP could not even connect) and passes https-only.
    let (all, https) = (cam.requests(), cam.https_requests());
    let f = https_only_finding(&vault, &url);
    assert_eq!(f["status"], "pass", "{f:#}");
    assert!(f["evidence"].as_str().unwrap().contains(&sha), "{f:#}");
    let (all_after, https_after) = (cam.requests(), cam.https_requests());
    assert!(https_after > https, "the audit used HTTPS");
    assert_eq!(
        all_after - all,
        https_after - https,
        "every request of the audit came over HTTPS"
    );
    // So does a password rotation: the new password proven over HTTPS, nothing over HTTP.
    let (all, https) = (cam.requests(), cam.https_requests());
    let out = vault.run(&["rotate", &url], None);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert_eq!(
        common::camera_password(cam, "admin"),
        vault.current(&url, "admin"),
        "the camera has the password the keychain holds"
    );
    assert_eq!(
        cam.requests() - all,
        cam.https_requests() - https,
        "every request of the rotation came over HTTPS"
    );
    assert!(cam.https_requests() > https);
    let _ = vault
        .keychain()
        .delete(&camward_certs::ca::keychain_key(&site));
}

#[test]
fn a_foreign_certificate_is_pinned_only_when_confirmed_and_a_changed_one_is_an_alarm() {
    let Some(vault) = TestVault::new_or_skip("tofu") else {
        return;
    };
    let rt = runtime();
    let fleet = fleet(&rt, 1, InitialState::Configured, 0);
    let cam = &fleet.cameras()[0];
    let url = cam.device_url();
    vault.set_password(&url, "admin", FACTORY_ADMIN_PASSWORD);
    let first = swap_certificate(&rt, &vault, cam, None, "a");

    // No terminal and no --yes: shown, not pinned.
    let out = vault.run(&["certs", "trust", &url], None);
    assert!(!out.status.success());
    let shown = text(&out.stdout);
    assert!(shown.contains(&first), "{shown}");
    assert!(
        shown.contains("subject") && shown.contains("valid"),
        "{shown}"
    );
    assert!(shown.contains("confirmation_required"), "{shown}");
    let out = vault.run(&["certs", "list", "--json"], None);
    assert!(!text(&out.stdout).contains(&first), "nothing pinned");

    let out = vault.run(&["certs", "trust", &url, "--yes"], None);
    assert!(out.status.success(), "{}", text(&out.stdout));
    let out = vault.run(&["certs", "list", "--json"], None);
    let listed: Value = serde_json::from_str(text(&out.stdout).lines().next().unwrap()).unwrap();
    assert_eq!(listed["sha256"], first.as_str());
    let out = vault.run(&["inventory", "show", &url], None);
    assert!(text(&out.stdout).contains("certificate.trusted"));
    let f = https_only_finding(&vault, &url);
    assert!(f["evidence"].as_str().unwrap().contains(&first), "{f:#}");
    assert!(
        !f["evidence"].as_str().unwrap().starts_with("ALARM"),
        "{f:#}"
    );

    // Changed behind Camward's back while HTTP is on: an ALARM finding.
    let second = swap_certificate(&rt, &vault, cam, None, "b");
    let f = https_only_finding(&vault, &url);
    assert!(
        f["evidence"].as_str().unwrap().starts_with("ALARM"),
        "{f:#}"
    );
    // Trusting again shows both fingerprints and needs confirming again.
    let out = vault.run(&["certs", "trust", &url], None);
    assert!(!out.status.success());
    let shown = text(&out.stdout);
    assert!(
        shown.contains(&second) && shown.contains(&first) && shown.contains("CHANGED"),
        "{shown}"
    );
    let out = vault.run(&["certs", "trust", &url, "--yes"], None);
    assert!(out.status.success(), "{}", text(&out.stdout));

    // HTTPS only with the confirmed pin, then changed again: sessions fail typed, no fallback.
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(dir.path());
    let step = commission_step(&vault, &plan, &url, "https-only");
    assert_eq!(step["outcome"]["outcome"], "applied", "{step:#}");
    assert!(http_refused(cam));
    let third = swap_certificate(&rt, &vault, cam, Some(&second), "c");
    let out = vault.run(&["audit", &url, "--level", "standard", "--json"], None);
    assert!(!out.status.success());
    let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(said.contains("certificate_changed"), "{said}");
    assert!(said.contains(&third) && said.contains(&second), "{said}");
    assert!(http_refused(cam), "still no HTTP");
    let out = vault.run(&["certs", "trust", &url], None);
    assert!(!out.status.success());
    assert!(
        text(&out.stdout).contains("CHANGED"),
        "{}",
        text(&out.stdout)
    );
    let out = vault.run(&["certs", "trust", &url, "--yes"], None);
    assert!(out.status.success(), "{}", text(&out.stdout));
    // Re-pinned: HTTPS sessions work again with the new pin.
    let f = https_only_finding(&vault, &url);
    assert_eq!(f["status"], "pass", "{f:#}");
    assert!(f["evidence"].as_str().unwrap().contains(&third), "{f:#}");
}

#[test]
fn an_assignment_the_camera_does_not_serve_is_rolled_back_and_http_stays_on() {
    let Some(vault) = TestVault::new_or_skip("rollback") else {
        return;
    };
    let rt = runtime();
    let fleet = fleet(&rt, 1, InitialState::Configured, 0);
    let cam = &fleet.cameras()[0];
    let url = cam.device_url();
    vault.set_password(&url, "admin", FACTORY_ADMIN_PASSWORD);
    let site = format!("Lab {}", std::process::id());
    let out = vault.run(&["certs", "ca-init", "--site", &site], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let assigned = |cam: &camsim::SimCamera| {
        cam.state()
            .keystore
            .assigned_server_identity()
            .map(|i| camward_certs::hex(&camward_certs::sha256(&i.chain_der[0])))
    };

    // Nothing assigned before: the new assignment is removed again.
    cam.set_tls_ignores_assignment(true);
    let out = vault.run(&["certs", "enrol", &url, "--site", &site, "--json"], None);
    assert!(!out.status.success());
    let line: Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(line["error"]["code"], "tls_verification_failed", "{line:#}");
    let message = line["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("the new assignment was removed"),
        "{message}"
    );
    assert!(message.contains("HTTP stays on"), "{message}");
    assert_eq!(assigned(cam), None);

    // A certificate served, then a second enrolment the camera does not pick up: put back.
    cam.set_tls_ignores_assignment(false);
    let out = vault.run(&["certs", "enrol", &url, "--site", &site, "--json"], None);
    assert!(out.status.success(), "{}", text(&out.stdout));
    let first: Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    let first = first["sha256"].as_str().unwrap().to_owned();
    cam.set_tls_ignores_assignment(true);
    let out = vault.run(&["certs", "enrol", &url, "--site", &site, "--json"], None);
    assert!(!out.status.success());
    let line: Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(line["error"]["code"], "tls_verification_failed", "{line:#}");
    assert!(
        line["error"]["message"]
            .as_str()
            .unwrap()
            .contains("was put back"),
        "{line:#}"
    );
    assert_eq!(assigned(cam).as_deref(), Some(first.as_str()));
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(openssl_fingerprint(cam.https_port(), dir.path()), first);
    let out = vault.run(&["certs", "list", "--json"], None);
    let listed: Value = serde_json::from_str(text(&out.stdout).lines().next().unwrap()).unwrap();
    assert_eq!(listed["sha256"], first.as_str(), "the pin is unchanged");
    assert!(!http_refused(cam), "HTTP stays on");
    cam.set_tls_ignores_assignment(false);
    let _ = vault
        .keychain()
        .delete(&camward_certs::ca::keychain_key(&site));
}
