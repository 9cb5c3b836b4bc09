//! `camward audit --outside` verifies mdns-off, upnp-off and easy-ip-setup-limited from outside, in
//! the network-namespace lab (`tests/common/lab.rs`): an i-PRO camera in a namespace of its own at
//! 10.77.0.30 runs camsim's mDNS announcer, its SSDP responder and its Easy IP Setup responder
//! (which multicast and broadcast: only inside the lab). The audit asks each by unicast to the
//! camera's address; a person then changes the camera's settings page (`POST /admin/settings`,
//! played by this test binary re-executed in the laptop namespace), and the next audit sees it.
//!
//! Needs root and iproute2, and a keychain; without them it says why and skips (in CI it fails).
#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use common::lab::{Address, Lab, ADMIN_PASSWORD};
use common::{text, TestVault};
use serde_json::Value;

/// Makes the helper below post to the settings page of the camera at this device URL…
const HELPER_URL: &str = "CAMWARD_LAB_SETTINGS_URL";
/// … this form.
const HELPER_FORM: &str = "CAMWARD_LAB_SETTINGS_FORM";

/// The three controls this test is about.
const CONTROLS: [&str; 3] = ["mdns-off", "upnp-off", "easy-ip-setup-limited"];

/// A site plan at level Advanced that leaves out every control with an API of its own except
/// mdns-off, so that commissioning touches nothing else.
const PLAN: &str = "site = \"Lab\"\nlevel = \"advanced\"\n\n[services]\nkeep = [\"https\", \"rtsp\"]\n\n[controls]\nskip = [\"admin-password\", \"password-policy\", \"time-sync\", \"host-restriction\", \"user-accounts\", \"wsdiscovery-off\", \"autoip-off\", \"https-only\", \"ports-changed\", \"dot1x\"]\n";

/// Runs `camward commission --json --plan <PLAN> <extra> <url>` in the laptop namespace and returns
/// its result: control → (outcome, its text).
fn commission(
    lab: &Lab,
    vault: &TestVault,
    url: &str,
    extra: &[&str],
) -> (BTreeMap<String, (String, String)>, Value) {
    let plan = vault.dir.path().join("site.toml");
    std::fs::write(&plan, PLAN).unwrap();
    let mut args = vec!["commission", "--json", "--plan", plan.to_str().unwrap()];
    args.extend_from_slice(extra);
    args.push(url);
    let out = lab.camward_vault(vault, &args);
    let result: Value = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|v| v["camera"] == url)
        .unwrap_or_else(|| panic!("no result: {}\n{}", text(&out.stdout), text(&out.stderr)));
    let steps = result["steps"]
        .as_array()
        .unwrap_or_else(|| panic!("{result:#}"))
        .iter()
        .map(|s| {
            let outcome = &s["outcome"];
            let said = ["step", "change", "reason", "message"]
                .iter()
                .find_map(|k| outcome[*k].as_str())
                .unwrap_or_default();
            (
                s["control"].as_str().unwrap().to_owned(),
                (
                    outcome["outcome"].as_str().unwrap().to_owned(),
                    said.to_owned(),
                ),
            )
        })
        .collect();
    (steps, result)
}

/// One finding, as the JSON scorecard carries it.
#[derive(Debug)]
struct Seen {
    status: String,
    evidence: String,
    fix: Option<String>,
}

/// Runs `camward audit --json <url> <extra>` in the laptop namespace and returns its findings by
/// control.
fn audit(lab: &Lab, vault: &TestVault, url: &str, extra: &[&str]) -> BTreeMap<String, Seen> {
    let mut args = vec!["audit", "--json", "--level", "advanced", url];
    args.extend_from_slice(extra);
    let out = lab.camward_vault(vault, &args);
    assert!(
        out.status.code().is_some(),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let card: Value = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|v| v["camera"] == url)
        .unwrap_or_else(|| panic!("no scorecard: {}\n{}", text(&out.stdout), text(&out.stderr)));
    card["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("not audited: {card:#}\n{}", text(&out.stderr)))
        .iter()
        .map(|f| {
            (
                f["control"].as_str().unwrap().to_owned(),
                Seen {
                    status: f["status"].as_str().unwrap().to_owned(),
                    evidence: f["evidence"].as_str().unwrap().to_owned(),
                    fix: f["fix"].as_str().map(str::to_owned),
                },
            )
        })
        .collect()
}

/// Waits until the camera with `mac` is announced on mDNS (its responder probes its names for a
/// moment after start, RFC 6762 §8.1, and answers nothing until then): `camward discover --method
/// mdns` in the laptop namespace, for half a minute at most (the machine may be busy).
fn wait_for_mdns(lab: &Lab, mac: &str) {
    let interface = lab.laptop_interface();
    for _ in 0..20 {
        let out = lab.camward(
            &[
                "discover",
                "--interface",
                &interface,
                "--method",
                "mdns",
                "--timeout",
                "1.5",
                "--json",
            ],
            None,
        );
        if text(&out.stdout).contains(mac) {
            return;
        }
    }
    panic!("the camera {mac} was never announced on mDNS");
}

/// The person changes `form` on the camera's settings page (from the laptop namespace).
fn set(lab: &Lab, url: &str, form: &str) {
    let mut helper = Command::new("ip");
    helper
        .args(["netns", "exec", &lab.laptop])
        .arg(std::env::current_exe().unwrap())
        .args(["--exact", "lab_helper_posts_settings", "--ignored"])
        .env(HELPER_URL, url)
        .env(HELPER_FORM, form);
    let out = common::run_to_end(helper, Some(&format!("{ADMIN_PASSWORD}\n")));
    let said = text(&out.stdout);
    assert!(
        out.status.success() && said.contains("1 passed"),
        "{said}{}",
        text(&out.stderr)
    );
}

#[test]
fn mdns_upnp_and_easy_ip_setup_are_seen_answering_then_silent_or_limited_from_outside() {
    let Some(vault) = TestVault::new_or_skip("outsidelab") else {
        return;
    };
    let Some(mut lab) = Lab::new_or_skip() else {
        return;
    };
    let camera = lab.camera(
        "i-pro",
        "configured",
        Address::Static("10.77.0.30/24"),
        &["--mdns", "--services", "--vendor-discovery"],
    );
    let url = camera["device_url"].as_str().unwrap().to_owned();
    assert!(url.contains("10.77.0.30"), "{url}");
    vault.set_password(&url, "admin", ADMIN_PASSWORD);
    wait_for_mdns(&lab, camera["mac"].as_str().unwrap());
    // i-PRO out of the box limits Easy IP Setup to 20 minutes; this one was set to unlimited.
    set(&lab, &url, "easy_ip_period=unlimited");

    // Without outside verification nothing is seen: a person checks, with the menu path.
    let f = audit(&lab, &vault, &url, &[]);
    for id in CONTROLS {
        assert_eq!(f[id].status, "manual-needed", "{id}: {:?}", f[id]);
        assert!(
            f[id].evidence.contains("not verified from outside"),
            "{id}: {:?}",
            f[id]
        );
    }
    assert!(
        f["upnp-off"]
            .fix
            .as_deref()
            .unwrap()
            .contains("[Network] > [Advanced] > UPnP"),
        "{:?}",
        f["upnp-off"]
    );
    assert!(
        f["easy-ip-setup-limited"]
            .fix
            .as_deref()
            .unwrap()
            .contains("Easy IP Setup valid period"),
        "{:?}",
        f["easy-ip-setup-limited"]
    );

    // With it, every one of them answers its unicast query, and says so.
    let f = audit(&lab, &vault, &url, &["--outside"]);
    for id in CONTROLS {
        assert_eq!(f[id].status, "fail", "{id}: {:?}", f[id]);
    }
    let mdns = &f["mdns-off"].evidence;
    assert!(mdns.contains("unicast mDNS query on UDP 5353"), "{mdns}");
    assert!(mdns.contains("_http._tcp.local"), "{mdns}");
    let upnp = &f["upnp-off"].evidence;
    assert!(upnp.contains("unicast SSDP M-SEARCH on UDP 1900"), "{upnp}");
    assert!(upnp.contains("upnp:rootdevice"), "{upnp}");
    assert!(upnp.contains("/upnp/device.xml"), "{upnp}");
    let easy = &f["easy-ip-setup-limited"].evidence;
    assert!(easy.contains(camera["mac"].as_str().unwrap()), "{easy}");
    assert!(easy.contains("unlimited valid period"), "{easy}");
    assert!(
        f["upnp-off"]
            .fix
            .as_deref()
            .unwrap()
            .contains("[Network] > [Advanced] > UPnP"),
        "{:?}",
        f["upnp-off"]
    );

    // Commissioning has no API for them on i-PRO: each is a step for a person, with the menu path.
    let (steps, result) = commission(&lab, &vault, &url, &["--outside", "--dry-run"]);
    for id in CONTROLS {
        assert_eq!(steps[id].0, "guided", "{id}: {result:#}");
    }
    assert!(
        steps["upnp-off"]
            .1
            .contains("[Network] > [Advanced] > UPnP"),
        "{:?}",
        steps["upnp-off"]
    );
    assert!(
        steps["easy-ip-setup-limited"]
            .1
            .contains("\"Easy IP Setup valid period\""),
        "{:?}",
        steps["easy-ip-setup-limited"]
    );
    assert!(
        steps["mdns-off"].1.contains("mDNS"),
        "{:?}",
        steps["mdns-off"]
    );

    // The person turns mDNS and UPnP off and limits Easy IP Setup to 20 minutes.
    set(&lab, &url, "mdns=off&upnp=off&easy_ip_period=20");
    // The announcer and the responders follow the state within their reconcile period (250 ms).
    std::thread::sleep(std::time::Duration::from_millis(600));
    let f = audit(&lab, &vault, &url, &["--outside"]);
    for id in CONTROLS {
        assert_eq!(f[id].status, "pass", "{id}: {:?}", f[id]);
    }
    assert!(
        f["mdns-off"]
            .evidence
            .contains("no answer to a unicast mDNS query"),
        "{:?}",
        f["mdns-off"]
    );
    assert!(
        f["upnp-off"]
            .evidence
            .contains("no answer to a unicast SSDP"),
        "{:?}",
        f["upnp-off"]
    );
    // Within its period after boot the camera still answers, and states the limit.
    assert!(
        f["easy-ip-setup-limited"]
            .evidence
            .contains("valid period of 20 minutes"),
        "{:?}",
        f["easy-ip-setup-limited"]
    );
}

/// Forgets root's password on a camera from the test keychain when the test ends, pass or fail
/// ([`TestVault`] forgets only `admin` and `operator1`).
struct ForgetRoot<'a>(&'a TestVault, String);

impl Drop for ForgetRoot<'_> {
    fn drop(&mut self) {
        let _ = self
            .0
            .run(&["credentials", "forget", &self.1, "--user", "root"], None);
    }
}

#[test]
fn commissioning_turns_mdns_off_on_an_axis_camera_over_vapix_and_the_audit_sees_it_silent() {
    let Some(vault) = TestVault::new_or_skip("outsideaxis") else {
        return;
    };
    let Some(mut lab) = Lab::new_or_skip() else {
        return;
    };
    let camera = lab.camera(
        "axis",
        "configured",
        Address::Static("10.77.0.31/24"),
        &["--mdns"],
    );
    let url = camera["device_url"].as_str().unwrap().to_owned();
    vault.set_password(&url, "admin", ADMIN_PASSWORD);
    wait_for_mdns(&lab, camera["mac"].as_str().unwrap());

    // Without root's password in the keychain Camward guesses none: a step for a person.
    let (steps, result) = commission(&lab, &vault, &url, &["--outside", "--dry-run"]);
    assert_eq!(steps["mdns-off"].0, "guided", "{result:#}");
    assert!(
        steps["mdns-off"].1.contains("Network.Bonjour.Enabled=no"),
        "{:?}",
        steps["mdns-off"]
    );

    // With it, VAPIX turns Bonjour off, and the proof audit hears no mDNS answer.
    vault.set_password(&url, "root", ADMIN_PASSWORD);
    let _forget = ForgetRoot(&vault, url.clone());
    let (steps, result) = commission(&lab, &vault, &url, &["--outside"]);
    assert_eq!(steps["mdns-off"].0, "applied", "{result:#}");
    assert!(
        steps["mdns-off"].1.contains("VAPIX"),
        "{:?}",
        steps["mdns-off"]
    );
    let after: BTreeMap<&str, &str> = result["after"]["findings"]
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
    assert_eq!(after["mdns-off"], "pass", "{result:#}");
    let f = audit(&lab, &vault, &url, &["--outside"]);
    assert_eq!(f["mdns-off"].status, "pass", "{:?}", f["mdns-off"]);
}

/// Run by the first test above inside the laptop namespace (this same test binary, re-executed under
/// `ip netns exec`): logs in to the camera at `$CAMWARD_LAB_SETTINGS_URL` as `admin` with the
/// password on stdin and posts `$CAMWARD_LAB_SETTINGS_FORM` to its settings page, as a person
/// clicking would. Outside the lab it does nothing.
#[test]
#[ignore = "run inside the lab by the test that plays the person on the settings page"]
fn lab_helper_posts_settings() {
    let Ok(url) = std::env::var(HELPER_URL) else {
        return;
    };
    let form = std::env::var(HELPER_FORM).unwrap();
    let mut password = String::new();
    std::io::stdin().read_line(&mut password).unwrap();
    let credentials = camward_onvif::Credentials::new("admin", password.trim_end());
    common::runtime().block_on(async {
        let http = camward_vendors::VendorHttp::new(&url)
            .unwrap()
            .login(credentials);
        let r = http
            .send_authenticated(
                "POST",
                "/admin/settings",
                Some("application/x-www-form-urlencoded"),
                form.into_bytes(),
            )
            .await
            .unwrap();
        assert!(r.status < 300, "settings page: {}", r.status);
    });
}
