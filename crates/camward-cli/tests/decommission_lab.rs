//! `camward decommission` with proof (issue 6).
//!
//! - In the network-namespace lab (`tests/common/lab.rs`): a configured camsim camera on a static
//!   lab address, whose interface runs AutoIP once a hard reset wipes that address, is
//!   decommissioned with `--yes`; it ends factory-fresh, rediscovered on 169.254/16, the keychain
//!   holds nothing for it in any slot, the inventory says decommissioned, and the disposal records
//!   (JSON on stdout, HTML on disk) list the proof and the checklist and no secret.
//! - On loopback: `--keep-network` (soft reset, found again on the same address), and the refusal
//!   without `--yes` when no terminal can ask.
//!
//! The lab needs root and iproute2, and all of them a keychain; without them they say why and skip
//! (in CI they fail).
#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.

mod common;

use camsim::InitialState;
use camward_vault::{
    CertificateRecord, Clock, CredentialKey, CredentialLedger, Inventory, SecretStore, Sensitive,
    SystemClock,
};
use common::lab::{Address, Lab, ADMIN_PASSWORD};
use common::{text, TestVault, FACTORY_ADMIN_PASSWORD};
use serde_json::Value;

const FINGERPRINT: &str = "3f5ad2c1e0b9a8776655443322110fedcba98765432100112233445566778899";

/// Every keychain entry Camward could hold for `camera`, found by trying every account name it
/// may ever have written (see `CredentialLedger::highest_generation`): the current entry of a
/// user shows as the user, the previous one as `user#previous`, any other as its account name.
fn slots_held(vault: &TestVault, camera: &str) -> Vec<String> {
    let keychain = vault.keychain();
    let inventory = Inventory::open(vault.db()).unwrap();
    let ledger = CredentialLedger::new(std::sync::Arc::new(vault.keychain()), &inventory);
    let highest = ledger.highest_generation().unwrap();
    let mut held = Vec::new();
    for user in ["admin", "root", "user", "operator1"] {
        let key = CredentialKey::new(camera, user);
        let current = ledger.current_account(&key).unwrap();
        let previous = ledger.previous_account(&key).unwrap();
        let mut names = vec![
            user.to_owned(),
            format!("{user}#pending"),
            format!("{user}#previous"),
        ];
        names.extend((1..=highest).map(|g| format!("{user}#g{g}")));
        for name in names {
            let account = CredentialKey::new(camera, name.as_str());
            if keychain.get(&account).unwrap().is_none() {
                continue;
            }
            held.push(if current.as_ref() == Some(&account) {
                user.to_owned()
            } else if previous.as_ref() == Some(&account) {
                format!("{user}#previous")
            } else {
                name
            });
        }
    }
    held.sort();
    held
}

/// Gives the vault what a commissioned camera leaves there: the administrator's password (current
/// and an older previous one), a password for the vendor's `root`, and a certificate.
fn vault_as_commissioned(vault: &TestVault, url: &str, password: &str) {
    vault.set_password(url, "admin", "Old-pass-0001!");
    let camera = camward_core::camera_key(url);
    let inventory = Inventory::open(vault.db()).unwrap();
    let ledger = CredentialLedger::new(std::sync::Arc::new(vault.keychain()), &inventory);
    // The current password replaced the older one, which is kept until retired.
    ledger
        .begin_change(
            &CredentialKey::new(camera.as_str(), "admin"),
            &Sensitive::new(password.to_owned()),
        )
        .unwrap()
        .promote()
        .unwrap();
    ledger
        .record_current(
            &CredentialKey::new(camera.as_str(), "root"),
            &Sensitive::new(password.to_owned()),
        )
        .unwrap();
    let mut record = inventory.camera(&camera).unwrap().unwrap();
    record.certificate = Some(CertificateRecord {
        sha256_fingerprint: FINGERPRINT.into(),
        not_after: SystemClock.now() + std::time::Duration::from_secs(365 * 86_400),
    });
    inventory.upsert_camera(&record).unwrap();
    assert_eq!(
        slots_held(vault, &camera),
        ["admin", "admin#previous", "root"]
    );
}

fn assert_decommissioned_in_inventory(vault: &TestVault, camera: &str) {
    let inventory = Inventory::open(vault.db()).unwrap();
    let d = inventory
        .decommission_of(camera)
        .unwrap()
        .expect("marked decommissioned");
    assert_eq!(d.certificate_sha256.as_deref(), Some(FINGERPRINT));
    let record = inventory.camera(camera).unwrap().unwrap();
    assert!(record.credential.is_none() && record.certificate.is_none());
    let actions: Vec<String> = inventory
        .audit_log(Some(camera))
        .unwrap()
        .into_iter()
        .map(|r| r.action)
        .collect();
    for action in [
        "camera.decommission_started",
        "camera.factory_reset",
        "credential.forgotten",
        "certificate.retired",
        "camera.decommissioned",
    ] {
        assert!(actions.iter().any(|a| a == action), "{action}: {actions:?}");
    }
    // The final state was recorded before the reset, and the secrets forgotten only after it.
    let at = |name: &str| actions.iter().position(|a| a == name).unwrap();
    assert!(at("camera.decommission_started") < at("camera.factory_reset"));
    assert!(at("camera.factory_reset") < at("credential.forgotten"));
}

fn assert_record_lists_proof_and_checklist(record: &Value, serial: &str) {
    assert_eq!(record["result"]["status"], "proven", "{record:#}");
    assert_eq!(record["serial"], serial);
    assert!(record["proof"]["users"]
        .as_str()
        .unwrap()
        .starts_with("none"));
    let retired: Vec<&str> = record["credentials_retired"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(retired, ["admin", "root"]);
    assert_eq!(
        record["certificate_to_revoke"]["sha256_fingerprint"],
        FINGERPRINT
    );
    let checklist = record["checklist"].to_string();
    for item in [
        "SD card",
        "reset switch",
        "recorder / VMS",
        "DHCP reservation",
    ] {
        assert!(checklist.contains(item), "{item}: {checklist}");
    }
}

/// Decommissions a configured `flavour` camera on the static lab address `static_address`, whose
/// interface runs AutoIP after a hard reset, and checks what holds for every flavour: exit 0,
/// found again factory-fresh on 169.254/16 by the link-local sweep (and by an independent scan
/// afterwards), nothing in the keychain, decommissioned in the inventory, the HTML and JSON
/// records with the proof and the checklist and no secret. Returns the JSON record.
fn decommission_in_lab(name: &str, flavour: &str, static_address: &str) -> Option<Value> {
    let vault = TestVault::new_or_skip(name)?;
    let mut lab = Lab::new_or_skip()?;
    // The lab names a single camera's namespace `<tag>k<n>` and its interface `<namespace>0`; the
    // laptop's namespace is `<tag>l`. This is the first single camera.
    let tag = lab.laptop.trim_end_matches('l').to_owned();
    let interface = format!("{tag}k10");
    let cam = lab.camera(
        flavour,
        "configured",
        Address::Static(static_address),
        &["--autoip", &interface],
    );
    let url = cam["device_url"].as_str().unwrap().to_owned();
    let serial = cam["serial"].as_str().unwrap().to_owned();
    let mac = cam["mac"].as_str().unwrap().to_owned();
    let camera = camward_core::camera_key(&url);
    vault_as_commissioned(&vault, &url, ADMIN_PASSWORD);

    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("disposal.html");
    let out = lab.camward_vault(
        &vault,
        &[
            "decommission",
            "--yes",
            "--json",
            "--record",
            html.to_str().unwrap(),
            "--reboot-timeout",
            "120",
            &url,
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let record: Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_record_lists_proof_and_checklist(&record, &serial);
    let address = record["proof"]["address"].as_str().unwrap();
    assert!(address.starts_with("169.254."), "{record:#}");
    assert_eq!(record["proof"]["link_local"], true);
    assert_eq!(record["proof"]["matched_by"], "mac");
    assert!(
        record["proof"]["found_by"]
            .to_string()
            .contains("link-local"),
        "{record:#}"
    );
    assert_eq!(record["reset"]["kind"], "hard");
    assert!(!text(&out.stdout).contains(ADMIN_PASSWORD));

    let page = std::fs::read_to_string(&html).unwrap();
    for part in [address, serial.as_str(), "Remove the SD card", FINGERPRINT] {
        assert!(page.contains(part), "{part} not in the HTML record");
    }
    assert!(!page.contains(ADMIN_PASSWORD) && !page.contains("Old-pass-0001!"));

    // The camera, seen independently: a fresh link-local scan finds it factory-fresh there.
    let scan = lab.camward(
        &[
            "discover",
            "--method",
            "link-local",
            "--json",
            "--timeout",
            "1",
        ],
        None,
    );
    let found: Vec<Value> = text(&scan.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let seen = found
        .iter()
        .find(|c| {
            c["mac"]
                .as_str()
                .is_some_and(|m| m.eq_ignore_ascii_case(&mac))
        })
        .unwrap_or_else(|| panic!("not found again: {found:#?}"));
    assert_eq!(seen["factory_fresh"], true, "{seen:#}");
    assert!(seen["ips"].to_string().contains(address), "{seen:#}");

    assert_eq!(slots_held(&vault, &camera), Vec::<String>::new());
    assert_decommissioned_in_inventory(&vault, &camera);
    let sqlite = vault.sqlite_bytes();
    assert!(!common::contains(&sqlite, ADMIN_PASSWORD));
    Some(record)
}

#[test]
fn a_commissioned_camera_ends_factory_fresh_on_its_link_local_address_with_nothing_kept() {
    let Some(record) = decommission_in_lab("decomlab", "generic", "10.77.0.20/24") else {
        return;
    };
    assert_eq!(record["reset"]["via"], "ONVIF SetSystemFactoryDefault Hard");
    assert!(record["proof"]["factory_state"]
        .as_str()
        .unwrap()
        .contains("no users"));
    assert!(record["proof"]["users"]
        .as_str()
        .unwrap()
        .contains("GetUsers without credentials lists no user"));
}

#[test]
fn a_hikvision_camera_is_reset_over_isapi_and_comes_back_not_activated() {
    let Some(record) = decommission_in_lab("decomhik", "hikvision", "10.77.0.30/24") else {
        return;
    };
    assert_eq!(
        record["reset"]["via"],
        "Hikvision ISAPI factoryReset mode=full"
    );
    assert!(record["proof"]["factory_state"]
        .as_str()
        .unwrap()
        .contains("not activated"));
}

#[test]
fn keep_network_resets_softly_and_proves_it_on_the_same_address() {
    let Some(vault) = TestVault::new_or_skip("decomsoft") else {
        return;
    };
    let rt = common::runtime();
    let fleet = common::fleet(&rt, 1, InitialState::Configured, 0);
    let cam = &fleet.cameras()[0];
    let url = cam.info().device_url;
    let camera = camward_core::camera_key(&url);
    vault_as_commissioned(&vault, &url, FACTORY_ADMIN_PASSWORD);

    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("disposal.json");
    let out = vault.run(
        &[
            "decommission",
            "--keep-network",
            "--yes",
            "--record",
            json.to_str().unwrap(),
            "--reboot-timeout",
            "60",
            &url,
        ],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(text(&out.stdout).contains("decommissioned"));
    let written = std::fs::read_to_string(&json).unwrap();
    assert!(!written.contains(FACTORY_ADMIN_PASSWORD) && !written.contains("Old-pass-0001!"));
    let record: Value = serde_json::from_str(&written).unwrap();
    assert_record_lists_proof_and_checklist(&record, &cam.info().serial);
    assert_eq!(record["reset"]["kind"], "soft");
    assert_eq!(record["proof"]["found_by"][0], "same-address");
    assert_eq!(record["proof"]["address"], "127.0.0.1");
    assert!(record["checklist"].to_string().contains("static address"));

    // What the camera really holds: no user at all.
    assert!(cam.state().users.is_empty(), "{:?}", cam.state().users);
    assert_eq!(slots_held(&vault, &camera), Vec::<String>::new());
    assert_decommissioned_in_inventory(&vault, &camera);
}

#[test]
fn without_yes_and_without_a_terminal_nothing_is_sent_or_forgotten() {
    let Some(vault) = TestVault::new_or_skip("decomrefuse") else {
        return;
    };
    let rt = common::runtime();
    let fleet = common::fleet(&rt, 1, InitialState::Configured, 0);
    let cam = &fleet.cameras()[0];
    let url = cam.info().device_url;
    let camera = camward_core::camera_key(&url);
    vault_as_commissioned(&vault, &url, FACTORY_ADMIN_PASSWORD);
    let before = cam.requests();

    // Standard input is not a terminal (the test harness gives /dev/null).
    let out = vault.run(&["decommission", &url], None);
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("confirmation_required"),
        "{}",
        text(&out.stderr)
    );
    assert!(text(&out.stderr).contains("--yes"));
    assert_eq!(cam.requests(), before, "the camera was contacted");
    assert_eq!(
        common::camera_password(cam, "admin").as_deref(),
        Some(FACTORY_ADMIN_PASSWORD)
    );
    assert_eq!(
        slots_held(&vault, &camera),
        ["admin", "admin#previous", "root"]
    );
    let inventory = Inventory::open(vault.db()).unwrap();
    assert!(inventory.decommission_of(&camera).unwrap().is_none());
    // Leave the test keychain clean.
    let ledger = CredentialLedger::new(std::sync::Arc::new(vault.keychain()), &inventory);
    ledger
        .forget(&CredentialKey::new(camera.as_str(), "root"))
        .unwrap();
}

#[test]
fn an_axis_camera_is_reset_over_vapix_when_the_keychain_holds_root() {
    let Some(vault) = TestVault::new_or_skip("decomaxis") else {
        return;
    };
    let rt = common::runtime();
    let fleet = rt
        .block_on(camsim::Fleet::start(camsim::FleetConfig {
            flavour: camsim::Flavour::Axis,
            state: InitialState::Configured,
            admin: Some(("admin".into(), FACTORY_ADMIN_PASSWORD.into())),
            ..camsim::FleetConfig::default()
        }))
        .unwrap();
    let cam = &fleet.cameras()[0];
    let url = cam.info().device_url;
    let camera = camward_core::camera_key(&url);
    vault_as_commissioned(&vault, &url, FACTORY_ADMIN_PASSWORD);

    let out = vault.run(
        &[
            "decommission",
            "--keep-network",
            "--yes",
            "--json",
            "--reboot-timeout",
            "60",
            &url,
        ],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let record: Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(record["reset"]["via"], "Axis VAPIX factorydefault.cgi");
    assert!(record["proof"]["factory_state"]
        .as_str()
        .unwrap()
        .contains("root has no password"));
    let state = cam.state();
    assert!(state.vendor.vapix_users.is_empty() && state.users.is_empty());
    assert_eq!(slots_held(&vault, &camera), Vec::<String>::new());
}

#[test]
fn an_unproven_reset_keeps_every_secret_and_says_to_use_the_reset_switch() {
    let Some(vault) = TestVault::new_or_skip("decomunproven") else {
        return;
    };
    let rt = common::runtime();
    let fleet = common::fleet(&rt, 1, InitialState::Configured, 0);
    let cam = &fleet.cameras()[0];
    let url = cam.info().device_url;
    let camera = camward_core::camera_key(&url);
    vault_as_commissioned(&vault, &url, FACTORY_ADMIN_PASSWORD);

    // No time at all to see the camera come back: the reset is sent but never proven.
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("disposal.json");
    let out = vault.run(
        &[
            "decommission",
            "--keep-network",
            "--yes",
            "--record",
            json.to_str().unwrap(),
            "--reboot-timeout",
            "0",
            &url,
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("reset_not_proven"));
    let record: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(record["result"]["status"], "not_proven", "{record:#}");
    assert!(record["proof"].is_null());
    assert_eq!(record["credentials_retired"], serde_json::json!([]));
    assert_eq!(
        record["credentials_kept"],
        serde_json::json!(["admin", "root"])
    );
    assert!(record["checklist"][0]
        .as_str()
        .unwrap()
        .contains("reset switch"));
    assert_eq!(
        slots_held(&vault, &camera),
        ["admin", "admin#previous", "root"]
    );
    let inventory = Inventory::open(vault.db()).unwrap();
    assert!(inventory.decommission_of(&camera).unwrap().is_none());
    let trail = inventory.audit_log(Some(&camera)).unwrap();
    let reset = trail
        .iter()
        .find(|r| r.action == "camera.factory_reset")
        .unwrap();
    assert_eq!(reset.result, "reset_not_proven");
    assert!(!trail.iter().any(|r| r.action == "credential.forgotten"));
    let ledger = CredentialLedger::new(std::sync::Arc::new(vault.keychain()), &inventory);
    ledger
        .forget(&CredentialKey::new(camera.as_str(), "root"))
        .unwrap();
}

/// Runs `camward args` on a pseudo-terminal (util-linux `script`), typing `typed`.
fn on_a_terminal(vault: &TestVault, args: &[&str], typed: &str) -> Option<std::process::Output> {
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var_os("CI").is_none(),
            "the confirmation test needs util-linux script"
        );
        eprintln!("SKIPPED: no util-linux script for a pseudo-terminal");
        return None;
    }
    let line = std::iter::once(env!("CARGO_BIN_EXE_camward"))
        .chain(args.iter().copied())
        .collect::<Vec<_>>()
        .join(" ");
    let mut cmd = std::process::Command::new("script");
    cmd.args(["-q", "-e", "-c", &line, "/dev/null"])
        .env("CAMWARD_DB", vault.db())
        .env("CAMWARD_KEYCHAIN_SERVICE", &vault.service)
        .env("CAMWARD_LOG", "warn");
    Some(common::run_to_end(cmd, Some(typed)))
}

#[test]
fn on_a_terminal_the_person_sees_serial_and_model_and_only_yes_goes_on() {
    let Some(vault) = TestVault::new_or_skip("decomconfirm") else {
        return;
    };
    let rt = common::runtime();
    let fleet = common::fleet(&rt, 1, InitialState::Configured, 0);
    let cam = &fleet.cameras()[0];
    let info = cam.info();
    let camera = camward_core::camera_key(&info.device_url);
    vault_as_commissioned(&vault, &info.device_url, FACTORY_ADMIN_PASSWORD);
    let args = [
        "decommission",
        "--keep-network",
        "--reboot-timeout",
        "60",
        info.device_url.as_str(),
    ];

    let Some(out) = on_a_terminal(&vault, &args, "n\n") else {
        return;
    };
    let shown = text(&out.stdout);
    assert!(shown.contains(&info.serial), "{shown}");
    assert!(shown.contains(&info.model), "{shown}");
    assert!(shown.contains("[y/N]"), "{shown}");
    assert!(shown.contains("not_confirmed"), "{shown}");
    assert_eq!(out.status.code(), Some(5), "{shown}");
    assert_eq!(
        common::camera_password(cam, "admin").as_deref(),
        Some(FACTORY_ADMIN_PASSWORD)
    );
    assert_eq!(
        slots_held(&vault, &camera),
        ["admin", "admin#previous", "root"]
    );

    let out = on_a_terminal(&vault, &args, "y\n").unwrap();
    let shown = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(shown.contains("decommissioned"), "{shown}");
    assert!(cam.state().users.is_empty());
    assert_eq!(slots_held(&vault, &camera), Vec::<String>::new());
}
