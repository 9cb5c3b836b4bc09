//! `camward commission` of a factory-fresh mixed fleet in the network-namespace lab
//! (`tests/common/lab.rs`), with the real keychain: every camera in a namespace of its own on the
//! lab's "DHCP" subnet 10.77.0.0/24, a real NTP server (this test binary, re-executed) in the
//! laptop namespace at 10.77.0.1:123, and a site plan at level Standard.
//!
//! Needs root and iproute2, and a keychain; without them it says why and skips (in CI it fails).
#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.

mod common;

use std::collections::BTreeMap;

use common::lab::{Address, Lab};
use common::{text, TestVault};
use serde_json::Value;

/// Makes the helper below serve NTP (it runs only when this is set).
const NTP_HELPER: &str = "CAMWARD_LAB_NTP";

#[test]
fn a_factory_fresh_mixed_fleet_is_commissioned_to_standard_and_proven() {
    let Some(vault) = TestVault::new_or_skip("commlab") else {
        return;
    };
    let Some(mut lab) = Lab::new_or_skip() else {
        return;
    };
    lab.laptop_service(
        &std::env::current_exe().unwrap(),
        &[
            "--exact",
            "lab_helper_serves_ntp",
            "--ignored",
            "--nocapture",
        ],
        &[(NTP_HELPER, "0.0.0.0:123")],
    );
    let fleet: Vec<(&str, Value)> = [
        ("generic", "10.77.0.21/24"),
        ("axis", "10.77.0.22/24"),
        ("hikvision", "10.77.0.23/24"),
        ("canon", "10.77.0.24/24"),
    ]
    .into_iter()
    .map(|(flavour, address)| {
        (
            flavour,
            lab.camera(flavour, "factory", Address::Static(address), &[]),
        )
    })
    .collect();
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("site.toml");
    std::fs::write(
        &plan,
        "site = \"Lab\"\nlevel = \"standard\"\n\n[time]\nntp = [\"10.77.0.1\"]\nmax_skew_s = 5\n\n[access]\nallowed_hosts = [\"10.77.0.0/24\"]\n\n[services]\nkeep = [\"https\", \"rtsp\"]\n\n[certificates]\npolicy = \"site-ca\"\n\n[controls]\n# Camward does not move ports yet: leave ports-changed out of these plans.\nskip = [\"ports-changed\"]\n",
    )
    .unwrap();
    let plan = plan.to_str().unwrap();
    let mut args = vec!["commission", "--plan", plan, "--json"];
    let urls: Vec<String> = fleet
        .iter()
        .map(|(_, c)| c["device_url"].as_str().unwrap().to_owned())
        .collect();
    args.extend(urls.iter().map(String::as_str));
    let out = lab.camward_vault(&vault, &args);
    // Exit 6: the Canon camera waits for a person (as init-admin says it); nothing failed.
    assert_eq!(
        out.status.code(),
        Some(6),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let results: BTreeMap<String, Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .map(|v| (v["camera"].as_str().unwrap().to_owned(), v))
        .collect();
    assert_eq!(results.len(), fleet.len(), "{results:#?}");

    for (flavour, cam) in &fleet {
        let url = cam["device_url"].as_str().unwrap();
        let r = &results[url];
        if *flavour == "canon" {
            // No API for the first administrator: a person has to act, nothing else is touched.
            assert!(
                r["first_admin"]
                    .as_str()
                    .unwrap()
                    .contains("waiting for a person"),
                "{r:#}"
            );
            assert_eq!(r["awaiting_person"], true, "{r:#}");
            assert!(r["steps"].as_array().unwrap().is_empty());
            continue;
        }
        assert!(
            r["first_admin"].as_str().unwrap().contains("created"),
            "{flavour}: {r:#}"
        );
        assert_eq!(r["awaiting_person"], false, "{flavour}: {r:#}");
        let after: BTreeMap<&str, &str> = r["after"]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["control"].as_str().unwrap(),
                    f["status"].as_str().unwrap(),
                )
            })
            .collect();
        let steps: BTreeMap<&str, &str> = r["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["control"].as_str().unwrap(),
                    s["outcome"]["outcome"].as_str().unwrap(),
                )
            })
            .collect();
        // What an API and a verification can prove passes after commissioning…
        for id in [
            "admin-password",
            "password-policy",
            "time-sync",
            "host-restriction",
            "guest-off",
        ] {
            assert_eq!(after[id], "pass", "{flavour} {id}: {r:#}");
        }
        assert_eq!(steps["time-sync"], "applied", "{flavour}: {r:#}");
        assert_eq!(steps["host-restriction"], "applied", "{flavour}: {r:#}");
        // …HTTP is never turned off before HTTPS is proven…
        assert_eq!(steps["https-only"], "refused", "{flavour}");
        assert_ne!(after["https-only"], "pass");
        // …and what only the camera's page shows stays with a person, never a pass.
        assert_eq!(after["sd-card-lock"], "manual-needed");
        assert_eq!(steps["sd-card-lock"], "guided");
    }

    // Running it again is the resume: nothing left that an API can apply is applied twice.
    let out = lab.camward_vault(&vault, &args);
    assert_eq!(out.status.code(), Some(6), "{}", text(&out.stdout));
    for line in text(&out.stdout).lines() {
        let r: Value = serde_json::from_str(line).unwrap();
        if r["camera"] == fleet[3].1["device_url"] {
            assert!(
                r["first_admin"]
                    .as_str()
                    .unwrap()
                    .contains("still waiting for a person"),
                "{r:#}"
            );
            // Still a step for the person, as in the first run (the desktop lists it from this).
            assert_eq!(r["awaiting_person"], true, "{r:#}");
        }
        for s in r["steps"].as_array().unwrap() {
            assert_ne!(
                s["outcome"]["outcome"], "applied",
                "second run applied again: {s:#}"
            );
        }
    }
}

/// Run by the test above inside the laptop namespace: an SNTP server (RFC 4330 §5) on
/// `$CAMWARD_LAB_NTP`, answering every client request with this machine's clock, until killed.
#[test]
#[ignore = "runs inside the lab as its NTP server"]
fn lab_helper_serves_ntp() {
    let Ok(bind) = std::env::var(NTP_HELPER) else {
        return;
    };
    common::serve_ntp(&std::net::UdpSocket::bind(bind).unwrap());
}
