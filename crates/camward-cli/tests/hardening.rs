//! `camward audit` against camsim fleets on 127.0.0.1, with the real OS keychain and a private
//! SQLite file per test: scorecards with evidence read from the camera, passwords compared
//! across cameras without ever being shown, the access log read, a firmware catalog applied,
//! and one unreachable camera not stopping the others.
#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.

mod common;

use std::collections::BTreeMap;

use camsim::InitialState;
use common::{fleet, runtime, text, TestVault, FACTORY_ADMIN_PASSWORD};
use serde_json::Value;

/// Runs `camward audit` and returns the JSON scorecards, by camera URL.
fn audit(
    vault: &TestVault,
    urls: &[String],
    extra: &[&str],
) -> (BTreeMap<String, Value>, std::process::Output) {
    let mut args = vec!["audit", "--json"];
    args.extend(urls.iter().map(String::as_str));
    args.extend_from_slice(extra);
    let out = vault.run(&args, None);
    let cards = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .map(|v| (v["camera"].as_str().unwrap().to_owned(), v))
        .collect();
    (cards, out)
}

/// control id → (status, evidence) of one scorecard.
fn findings(card: &Value) -> BTreeMap<String, (String, String)> {
    card["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["control"].as_str().unwrap().to_owned(),
                (
                    f["status"].as_str().unwrap().to_owned(),
                    f["evidence"].as_str().unwrap().to_owned(),
                ),
            )
        })
        .collect()
}

#[test]
fn audit_reads_each_control_from_the_camera_and_flags_a_shared_password_until_rotated() {
    let Some(vault) = TestVault::new_or_skip("audit") else {
        return;
    };
    let rt = runtime();
    let fleet = fleet(&rt, 2, InitialState::Configured, 0);
    let urls: Vec<String> = fleet.cameras().iter().map(|c| c.device_url()).collect();
    for url in &urls {
        vault.set_password(url, "admin", FACTORY_ADMIN_PASSWORD);
    }

    let (cards, out) = audit(&vault, &urls, &["--level", "standard"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(cards.len(), 2, "{}", text(&out.stdout));
    for (url, card) in &cards {
        assert_eq!(card["level"], "standard");
        let f = findings(card);
        // Every Entry and Standard control of the catalog, none of the Advanced ones.
        assert!(
            f.contains_key("host-restriction") && !f.contains_key("dot1x"),
            "{f:#?}"
        );
        assert_eq!(
            f["admin-password"].0, "fail",
            "both cameras hold the same password: {f:#?}"
        );
        assert!(f["admin-password"].1.contains("same password"));
        assert_eq!(
            f["guest-off"].0, "pass",
            "a configured camera refuses anonymous access"
        );
        assert_eq!(f["digest-auth"].0, "pass", "{:?}", f["digest-auth"]);
        assert!(f["digest-auth"].1.contains("Digest"));
        assert_eq!(f["user-accounts"].0, "pass", "{:?}", f["user-accounts"]);
        assert_eq!(f["log-review"].0, "pass", "{:?}", f["log-review"]);
        // What camsim's factory configuration really is: manual clock, no IP filter, default
        // ports, AutoIP on, discoverable.
        let cam = fleet
            .cameras()
            .iter()
            .find(|c| c.device_url() == *url)
            .unwrap();
        let state = cam.state();
        assert_eq!(f["time-sync"].0, "fail", "{:?}", f["time-sync"]);
        assert_eq!(
            f["host-restriction"].0,
            if state.ip_filter.ipv4.is_empty() {
                "fail"
            } else {
                "pass"
            }
        );
        assert_eq!(f["ports-changed"].0, "fail", "{:?}", f["ports-changed"]);
        assert_eq!(f["firmware-current"].0, "unknown", "no catalog given");
        assert_eq!(f["network-config"].0, "manual-needed");
        assert_eq!(f["sd-card-lock"].0, "manual-needed");
        for (id, (_, evidence)) in &f {
            assert!(
                !evidence.contains(FACTORY_ADMIN_PASSWORD),
                "{id} shows the password"
            );
        }
    }
    assert!(!text(&out.stdout).contains(FACTORY_ADMIN_PASSWORD));
    assert!(!text(&out.stderr).contains(FACTORY_ADMIN_PASSWORD));

    // Rotating one camera gives it its own password: now neither shares one.
    let out = vault.run(&["rotate", &urls[0]], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (cards, _) = audit(&vault, &urls, &["--level", "entry"]);
    for card in cards.values() {
        let f = findings(card);
        assert_eq!(f["admin-password"].0, "pass", "{:?}", f["admin-password"]);
        assert!(
            !f.contains_key("host-restriction"),
            "Entry leaves Standard controls out"
        );
    }
    // Each audit is in the camera's audit trail.
    let out = vault.run(&["inventory", "show", &urls[1]], None);
    assert!(
        text(&out.stdout).contains("hardening.audit"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn repeated_failed_logins_fail_log_review_and_a_firmware_catalog_judges_the_version() {
    let Some(vault) = TestVault::new_or_skip("auditlog") else {
        return;
    };
    let rt = runtime();
    let fleet = fleet(&rt, 1, InitialState::Configured, 0);
    let url = fleet.cameras()[0].device_url();
    vault.set_password(&url, "admin", FACTORY_ADMIN_PASSWORD);
    // Three wrong passwords, as someone guessing would (camsim locks out at five).
    for _ in 0..3 {
        let out = vault.run(
            &["info", &url, "--user", "admin", "--password-stdin"],
            Some("Wrong-guess-123!\n"),
        );
        assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    }
    let dir = tempfile::tempdir().unwrap();
    let catalog = dir.path().join("firmware.toml");
    let write_catalog = |latest: &str| {
        std::fs::write(
            &catalog,
            format!("updated = 2026-11-15\n\n[[firmware]]\nvendor = \"Camsim\"\nmodel = \"CS-*\"\nlatest = \"{latest}\"\nreleased = 2026-10-02\n"),
        )
        .unwrap();
    };
    write_catalog("1.5.0");
    let path = catalog.to_str().unwrap().to_owned();
    let urls = [url.clone()];
    let (cards, out) = audit(
        &vault,
        &urls,
        &["--level", "entry", "--firmware-catalog", &path],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let f = findings(&cards[&url]);
    assert_eq!(f["log-review"].0, "fail", "{:?}", f["log-review"]);
    assert!(
        f["log-review"].1.starts_with("3 failed"),
        "{:?}",
        f["log-review"]
    );
    assert_eq!(
        f["firmware-current"].0, "fail",
        "{:?}",
        f["firmware-current"]
    );
    assert!(f["firmware-current"].1.contains("1.4.2") && f["firmware-current"].1.contains("1.5.0"));

    write_catalog("1.4.2");
    let (cards, _) = audit(
        &vault,
        &urls,
        &["--level", "entry", "--firmware-catalog", &path],
    );
    assert_eq!(findings(&cards[&url])["firmware-current"].0, "pass");

    // A broken catalog is a clear error naming its line, before any camera is asked.
    std::fs::write(
        &catalog,
        "updated = 2026-11-15\n[[firmware]]\nvendor = \"Camsim\"\nmodel = 7\n",
    )
    .unwrap();
    let out = vault.run(&["audit", &url, "--firmware-catalog", &path], None);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("line 4"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn an_unreachable_camera_is_its_own_result_and_the_others_are_audited() {
    let Some(vault) = TestVault::new_or_skip("auditdown") else {
        return;
    };
    let rt = runtime();
    let fleet = fleet(&rt, 1, InitialState::Configured, 0);
    let url = fleet.cameras()[0].device_url();
    vault.set_password(&url, "admin", FACTORY_ADMIN_PASSWORD);
    // A port on loopback nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let down = format!("http://{closed}/onvif/device_service");
    vault.set_password(&down, "admin", FACTORY_ADMIN_PASSWORD);
    let out = vault.run(&["audit", &down, &url, "--level", "entry"], None);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(said.contains(&format!("{down}: not audited")), "{said}");
    assert!(
        said.contains(&format!("{url} — ")) && said.contains("score"),
        "{said}"
    );
    assert!(said.contains("site: 1 of 2 cameras audited"), "{said}");
}

#[test]
fn a_camera_without_a_password_is_audited_from_what_it_tells_anyone() {
    let Some(vault) = TestVault::new_or_skip("auditnopw") else {
        return;
    };
    let rt = runtime();
    // Straight from the box, and one that has an administrator Camward holds no password for.
    let fresh = fleet(&rt, 1, InitialState::Factory, 0);
    let configured = fleet(&rt, 1, InitialState::Configured, 0);
    let fresh_url = fresh.cameras()[0].device_url();
    let configured_url = configured.cameras()[0].device_url();

    let out = vault.run(&["audit", &fresh_url, &configured_url], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(
        said.contains(&format!("{fresh_url}: seen without a login"))
            && said.contains("factory-fresh, no administrator yet"),
        "{said}"
    );
    assert!(
        said.contains(&format!("{configured_url}: seen without a login"))
            && said.contains("[no_password]"),
        "{said}"
    );
    assert!(said.contains("site: 2 of 2 cameras audited"), "{said}");

    let (cards, out) = audit(&vault, &[fresh_url.clone(), configured_url.clone()], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let card = &cards[&fresh_url];
    assert_eq!(
        (&card["login"], &card["factory_fresh"]),
        (&Value::Bool(false), &Value::Bool(true))
    );
    let f = findings(card);
    assert_eq!(f["admin-password"].0, "fail", "{:?}", f["admin-password"]);
    assert!(
        f["admin-password"].1.contains("factory state"),
        "{:?}",
        f["admin-password"]
    );
    assert_eq!(f["guest-off"].0, "fail", "{:?}", f["guest-off"]);
    // What needs a login is never taken for a pass.
    assert!(f.values().all(|(status, _)| status != "pass"), "{f:?}");
    assert_eq!(
        f["host-restriction"].0, "unknown",
        "{:?}",
        f["host-restriction"]
    );

    let card = &cards[&configured_url];
    assert_eq!(
        (&card["login"], &card["factory_fresh"]),
        (&Value::Bool(false), &Value::Bool(false))
    );
    assert!(
        card["why_no_login"]
            .as_str()
            .unwrap()
            .contains("no password"),
        "{card:#}"
    );
    let f = findings(card);
    assert_eq!(f["guest-off"].0, "unknown", "{:?}", f["guest-off"]);
    assert!(f.values().all(|(status, _)| status != "pass"), "{f:?}");
}

/// A site plan for 127.0.0.1 fleets, with `allowed` as the allow-list and `ntp` as the servers.
fn plan_file(dir: &std::path::Path, level: &str, ntp: &str, allowed: &str) -> String {
    let path = dir.join("site.toml");
    std::fs::write(
        &path,
        format!(
            "site = \"Test\"\nlevel = \"{level}\"\n\n[time]\nntp = [\"{ntp}\"]\nmax_skew_s = 5\n\n[access]\nallowed_hosts = [\"{allowed}\"]\n\n[services]\nkeep = [\"https\", \"rtsp\"]\n\n[certificates]\npolicy = \"site-ca\"\n\n[controls]\n# Camward does not move ports yet: leave ports-changed out of these plans.\nskip = [\"ports-changed\"]\n"
        ),
    )
    .unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn commission_refuses_a_host_filter_that_locks_this_computer_out_and_an_ntp_server_that_does_not_answer(
) {
    let Some(vault) = TestVault::new_or_skip("commguard") else {
        return;
    };
    let rt = runtime();
    let fleet = fleet(&rt, 1, InitialState::Configured, 0);
    let cam = &fleet.cameras()[0];
    let url = cam.device_url();
    vault.set_password(&url, "admin", FACTORY_ADMIN_PASSWORD);
    let dir = tempfile::tempdir().unwrap();
    // 192.0.2.0/24 does not contain 127.0.0.1, this computer's address toward the camera; and
    // nothing answers SNTP on 127.0.0.1:123.
    let plan = plan_file(dir.path(), "standard", "127.0.0.1", "192.0.2.0/24");
    let before = cam.state();

    let out = vault.run(
        &["commission", "--plan", &plan, &url, "--dry-run", "--json"],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let result: Value = serde_json::from_str(text(&out.stdout).lines().next().unwrap()).unwrap();
    assert!(result["after"].is_null(), "a dry run has no after");
    let now = cam.state();
    assert_eq!(
        (
            &now.users,
            &now.ntp,
            &now.ip_filter,
            &now.protocols,
            &now.date_time
        ),
        (
            &before.users,
            &before.ntp,
            &before.ip_filter,
            &before.protocols,
            &before.date_time
        ),
        "a dry run changes nothing"
    );

    let out = vault.run(&["commission", "--plan", &plan, &url, "--json"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let result: Value = serde_json::from_str(text(&out.stdout).lines().next().unwrap()).unwrap();
    let step = |id: &str| {
        result["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["control"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("no step {id}: {result:#}"))
    };
    let filter = step("host-restriction");
    assert_eq!(filter["outcome"]["outcome"], "refused", "{filter:#}");
    assert!(filter["outcome"]["reason"]
        .as_str()
        .unwrap()
        .contains("127.0.0.1"));
    let time = step("time-sync");
    assert_eq!(time["outcome"]["outcome"], "refused", "{time:#}");
    assert!(time["outcome"]["reason"].as_str().unwrap().contains("SNTP"));
    let https = step("https-only");
    assert_eq!(
        https["outcome"]["outcome"], "refused",
        "HTTP stays on: {https:#}"
    );
    let after = cam.state();
    assert_eq!(after.ip_filter, before.ip_filter, "no filter was sent");
    assert_eq!(after.ntp, before.ntp, "no NTP server was sent");
    assert!(
        after
            .protocols
            .iter()
            .any(|p| p.name == "HTTP" && p.enabled),
        "HTTP still on"
    );
    // The admin password was shared with nothing, but camsim's configured one is rotated only
    // when it fails; the audit trail records every applied change.
    let trail = text(&vault.run(&["inventory", "show", &url], None).stdout);
    assert!(trail.contains("hardening.audit"), "{trail}");
}

#[test]
fn a_guided_step_turns_to_pass_only_after_the_person_did_it_on_the_camera_page() {
    let Some(vault) = TestVault::new_or_skip("auditguest") else {
        return;
    };
    let rt = runtime();
    // A Canon camera out of the box serves its snapshot to guests (anonymous viewers).
    let fleet = rt
        .block_on(camsim::Fleet::start(camsim::FleetConfig {
            cameras: 1,
            state: InitialState::Configured,
            flavour: camsim::Flavour::Canon,
            admin: Some(("admin".into(), FACTORY_ADMIN_PASSWORD.into())),
            ..camsim::FleetConfig::default()
        }))
        .unwrap();
    let url = fleet.cameras()[0].device_url();
    vault.set_password(&url, "admin", FACTORY_ADMIN_PASSWORD);
    let urls = [url.clone()];
    let (cards, _) = audit(&vault, &urls, &["--level", "entry"]);
    let f = findings(&cards[&url]);
    assert_eq!(f["guest-off"].0, "fail", "{:?}", f["guest-off"]);
    assert!(
        f["guest-off"].1.contains("served to anyone"),
        "{:?}",
        f["guest-off"]
    );
    let card = &cards[&url];
    let fix = card["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["control"] == "guest-off")
        .unwrap()["fix"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        fix.contains("[User Management] > [User Authority]"),
        "Canon's menu path: {fix}"
    );

    // The person clicks on the camera's settings page (Canon has no API for it).
    rt.block_on(async {
        let http =
            camward_vendors::VendorHttp::new(&url)
                .unwrap()
                .login(camward_onvif::Credentials::new(
                    "admin",
                    FACTORY_ADMIN_PASSWORD,
                ));
        let r = http
            .send_authenticated(
                "POST",
                "/admin/settings",
                Some("application/x-www-form-urlencoded"),
                b"guest_access=off".to_vec(),
            )
            .await
            .unwrap();
        assert!(r.status < 300, "settings page: {}", r.status);
    });
    let (cards, _) = audit(&vault, &urls, &["--level", "entry"]);
    let f = findings(&cards[&url]);
    assert_eq!(f["guest-off"].0, "pass", "{:?}", f["guest-off"]);
    assert!(
        f["guest-off"].1.contains("snapshot"),
        "{:?}",
        f["guest-off"]
    );
}

#[test]
fn faults_mid_commission_leave_a_clear_result_per_camera_and_a_second_run_finishes_the_job() {
    let Some(vault) = TestVault::new_or_skip("commfault") else {
        return;
    };
    let rt = runtime();
    let fleet = fleet(&rt, 3, InitialState::Configured, 0);
    let urls: Vec<String> = fleet.cameras().iter().map(|c| c.device_url()).collect();
    for url in &urls {
        vault.set_password(url, "admin", FACTORY_ADMIN_PASSWORD);
    }
    // Two cameras drop connections and send broken XML at random, on any request of any step.
    let faulty = camsim::FaultConfig {
        drop_connection: 0.15,
        malformed_xml: 0.1,
        ..camsim::FaultConfig::default()
    };
    for cam in &fleet.cameras()[..2] {
        cam.set_faults(faulty);
    }
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(dir.path(), "standard", "127.0.0.1", "127.0.0.0/8");
    let mut args = vec!["commission", "--plan", plan.as_str(), "--json"];
    args.extend(urls.iter().map(String::as_str));

    let out = vault.run(&args, None);
    let lines: Vec<Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines.len(),
        3,
        "one result per camera: {}",
        text(&out.stdout)
    );
    for r in &lines {
        if let Some(e) = r.get("error") {
            // A typed error naming the camera and the step.
            assert!(urls.iter().any(|u| r["camera"] == *u), "{r:#}");
            assert!(
                !e["code"].as_str().unwrap().is_empty() && !e["step"].as_str().unwrap().is_empty(),
                "{r:#}"
            );
        }
    }
    for r in &lines {
        let failed = r["steps"].as_array().map_or(0, |s| {
            s.iter()
                .filter(|s| s["outcome"]["outcome"] == "failed")
                .count()
        });
        eprintln!(
            "first run: {} error={} failed steps={failed}",
            r["camera"],
            r.get("error").is_some()
        );
    }
    let clean = lines.iter().find(|r| r["camera"] == urls[2]).unwrap();
    assert!(
        clean.get("error").is_none(),
        "the camera without faults is commissioned: {clean:#}"
    );
    for cam in fleet.cameras() {
        assert!(!cam.is_locked_out(), "no camera is locked out");
    }

    // The faults end; the person finishes any interrupted password change, then runs again.
    for cam in fleet.cameras() {
        cam.set_faults(camsim::FaultConfig::default());
    }
    let out = vault.run(&["rotate", "--resume"], None);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let out = vault.run(&args, None);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    for line in text(&out.stdout).lines() {
        let r: Value = serde_json::from_str(line).unwrap();
        let f = findings(&r["after"]);
        for id in [
            "admin-password",
            "host-restriction",
            "guest-off",
            "user-accounts",
        ] {
            assert_eq!(f[id].0, "pass", "{id}: {r:#}");
        }
    }
    // Every camera's password is the one the keychain holds, and each is its own.
    let mut seen = Vec::new();
    for (cam, url) in fleet.cameras().iter().zip(&urls) {
        let held = vault.current(url, "admin").unwrap();
        assert_eq!(common::camera_password(cam, "admin").unwrap(), held);
        assert!(!seen.contains(&held));
        seen.push(held);
    }
}

/// Watches `cam`'s request counter from a thread and runs `act` once, when the camera has
/// received `after` requests: a fault that strikes in the middle of commissioning, whatever
/// step that is.
fn when_requests_reach(
    cam: camsim::SimCamera,
    after: u64,
    act: impl FnOnce(&camsim::SimCamera) + Send + 'static,
) -> std::thread::JoinHandle<bool> {
    std::thread::spawn(move || {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        while cam.requests() < after {
            if std::time::Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        act(&cam);
        true
    })
}

#[test]
fn a_reboot_and_a_timeout_mid_commission_leave_a_clear_result_and_a_second_run_finishes_the_job() {
    let Some(vault) = TestVault::new_or_skip("commreboot") else {
        return;
    };
    let rt = runtime();
    let fleet = fleet(&rt, 3, InitialState::Configured, 0);
    let urls: Vec<String> = fleet.cameras().iter().map(|c| c.device_url()).collect();
    for url in &urls {
        vault.set_password(url, "admin", FACTORY_ADMIN_PASSWORD);
    }
    let base: Vec<u64> = fleet
        .cameras()
        .iter()
        .map(camsim::SimCamera::requests)
        .collect();
    // Camera 0 loses power in the middle of its commissioning (2 s unreachable, settings kept).
    let handle = rt.handle().clone();
    let rebooted = when_requests_reach(fleet.cameras()[0].clone(), base[0] + 18, move |cam| {
        let _runtime = handle.enter();
        cam.power_cycle();
    });
    // Camera 1 stalls one reply mid-body until the client's 20 s request timeout gives up: the
    // fault is on until a reply has got it (the client sends one request at a time, and waits).
    let stalled = when_requests_reach(fleet.cameras()[1].clone(), base[1] + 14, |cam| {
        let before = cam.faults_injected();
        cam.set_faults(camsim::FaultConfig {
            slow_body: 1.0,
            ..camsim::FaultConfig::default()
        });
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while cam.faults_injected() == before && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        cam.set_faults(camsim::FaultConfig::default());
    });
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(dir.path(), "standard", "127.0.0.1", "127.0.0.0/8");
    let mut args = vec!["commission", "--plan", plan.as_str(), "--json"];
    args.extend(urls.iter().map(String::as_str));

    let out = vault.run(&args, None);
    assert!(rebooted.join().unwrap(), "camera 0 was rebooted mid-run");
    assert!(stalled.join().unwrap(), "camera 1 stalled a reply mid-run");
    let lines: Vec<Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines.len(),
        3,
        "one result per camera: {}",
        text(&out.stdout)
    );
    let result_of = |url: &str| lines.iter().find(|r| r["camera"] == url).unwrap();
    // The struck cameras say what happened, typed, naming the step; the third is untouched.
    for url in &urls[..2] {
        let r = result_of(url);
        let failed: Vec<&Value> = r["steps"]
            .as_array()
            .map(|s| {
                s.iter()
                    .filter(|s| s["outcome"]["outcome"] == "failed")
                    .collect()
            })
            .unwrap_or_default();
        match r.get("error") {
            Some(e) => assert!(
                !e["code"].as_str().unwrap().is_empty() && !e["step"].as_str().unwrap().is_empty(),
                "{r:#}"
            ),
            None => assert!(
                !failed.is_empty() || r["after"].is_object(),
                "a fault either failed a step (typed) or was recovered from: {r:#}"
            ),
        }
        for s in failed {
            assert!(!s["outcome"]["code"].as_str().unwrap().is_empty(), "{s:#}");
        }
        eprintln!(
            "first run: {url}: error={} failed steps={}",
            r.get("error")
                .map_or("none".into(), |e| e["code"].to_string()),
            r["steps"].as_array().map_or(0, |s| s
                .iter()
                .filter(|s| s["outcome"]["outcome"] == "failed")
                .count())
        );
    }
    let timeout_seen = [result_of(&urls[1])].iter().any(|r| {
        let r = r.to_string();
        r.contains("timed out") || r.contains("timeout")
    });
    assert!(
        timeout_seen,
        "the stalled reply is reported as a timeout: {:#}",
        result_of(&urls[1])
    );
    assert!(
        result_of(&urls[2]).get("error").is_none(),
        "{:#}",
        result_of(&urls[2])
    );
    for cam in fleet.cameras() {
        assert!(!cam.is_locked_out(), "no camera is locked out");
    }

    // Resume: finish any interrupted password change, then run again.
    std::thread::sleep(std::time::Duration::from_secs(3)); // the reboot is over
    let out = vault.run(&["rotate", "--resume"], None);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let out = vault.run(&args, None);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    for line in text(&out.stdout).lines() {
        let r: Value = serde_json::from_str(line).unwrap();
        let f = findings(&r["after"]);
        for id in [
            "admin-password",
            "host-restriction",
            "guest-off",
            "user-accounts",
        ] {
            assert_eq!(f[id].0, "pass", "{id}: {r:#}");
        }
    }
    for (cam, url) in fleet.cameras().iter().zip(&urls) {
        assert_eq!(
            common::camera_password(cam, "admin").unwrap(),
            vault.current(url, "admin").unwrap(),
            "the keychain holds what the camera accepts"
        );
    }
}
