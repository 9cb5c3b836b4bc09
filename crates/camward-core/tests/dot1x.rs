//! Control `dot1x` against camsim on 127.0.0.1: commissioned with a site plan that has a
//! `[dot1x]` section (EAP-TLS, client certificate from the site CA, the RADIUS server's CA), the
//! re-audit shows it passing and the camera's interface carries the configuration; without the
//! section it is a guided step with the menu path; a camera without a supplicant is
//! not-applicable.
use std::sync::Arc;
use std::time::Duration;

use camsim::{Fleet, FleetConfig, InitialState};
use camward_certs::{SiteCa, Validity};
use camward_core::credentials::Vault;
use camward_core::hardening::commission::{commission, CommissionOptions, Outcome};
use camward_core::hardening::Status;
use camward_onvif::clock::{Clock, SystemClock};
use camward_policy::plan::{parse, CONTROL_IDS};
use camward_vault::{CredentialKey, CredentialLedger, Inventory, MemoryStore, Sensitive};

const ADMIN: &str = "admin";
const PASSWORD: &str = "Vb7-kQ2!rT9z";

fn vault() -> (Vault, Arc<MemoryStore>) {
    let inventory = Inventory::open_in_memory().expect("inventory");
    let store = Arc::new(MemoryStore::default());
    let ledger = CredentialLedger::new(store.clone(), &inventory);
    (Vault { ledger, inventory }, store)
}

/// An advanced plan whose only control is dot1x, with `extra` appended.
fn plan(extra: &str) -> camward_policy::plan::SitePlan {
    let skip: Vec<String> = CONTROL_IDS
        .iter()
        .filter(|id| **id != "dot1x" && **id != "disposal")
        .map(|id| format!("\"{id}\""))
        .collect();
    parse(&format!(
        "site = \"Lab\"\nlevel = \"advanced\"\n[services]\nkeep = [\"http\", \"https\", \"rtsp\"]\n[controls]\nskip = [{}]\n{extra}",
        skip.join(", ")
    ))
    .expect("plan")
}

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

fn step(run: &camward_core::hardening::commission::CameraCommission) -> Outcome {
    run.steps
        .iter()
        .find(|s| s.control == "dot1x")
        .map(|s| s.outcome.clone())
        .expect("a dot1x step")
}

fn finding(card: &camward_core::hardening::Scorecard) -> (Status, String) {
    card.findings
        .iter()
        .find(|f| f.control == "dot1x")
        .map(|f| (f.status, f.evidence.clone()))
        .expect("a dot1x finding")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dot1x_is_applied_last_from_the_plan_and_guided_without_it() {
    let fleet = fleet().await;
    let cam = &fleet.cameras()[0];
    let url = cam.device_url();
    let (vault, store) = vault();
    let key = CredentialKey::new(camward_core::target::camera_key(&url), ADMIN);
    vault
        .ledger
        .record_current(&key, &Sensitive::new(PASSWORD.to_owned()))
        .expect("password known");
    let options = |plan| CommissionOptions {
        plan,
        user: ADMIN,
        dry_run: false,
        outside: false,
        firmware: None,
    };

    // Without [dot1x]: a guided step naming the menu, and the control still fails.
    let bare = plan("");
    let run = commission(&vault, &url, &options(&bare), &|_| {})
        .await
        .expect("commissioned");
    match step(&run) {
        Outcome::Guided { step } => assert!(
            step.contains("802.1X") || step.contains("802.1x") || step.contains("[dot1x]"),
            "{step}"
        ),
        other => panic!("expected a guided step, got {other:?}"),
    }
    let (status, evidence) = finding(run.after.as_ref().expect("re-audited"));
    assert_eq!(status, Status::Fail, "{evidence}");
    assert!(
        evidence.contains("no 802.1X configuration on eth0"),
        "{evidence}"
    );

    // With [dot1x]: applied, proven, and the re-audit passes.
    let dir = tempfile::tempdir().expect("tempdir");
    let ca_path = dir.path().join("lab-ca.pem");
    SiteCa::create(
        "Lab",
        Validity::days_from(SystemClock.now(), 3650),
        store.as_ref(),
        &ca_path,
    )
    .expect("site CA");
    let radius_path = dir.path().join("radius-ca.pem");
    let radius = SiteCa::create(
        "RADIUS",
        Validity::days_from(SystemClock.now(), 3650),
        &MemoryStore::default(),
        &radius_path,
    )
    .expect("RADIUS CA");
    let with = plan(&format!(
        "[dot1x]\nmethod = \"eap-tls\"\nidentity = \"cam-{{serial}}\"\nradius_ca = \"{}\"\nclient_certificate = \"site-ca\"\nsite_ca = \"{}\"\n",
        radius_path.display(),
        ca_path.display()
    ));
    let run = commission(&vault, &url, &options(&with), &|_| {})
        .await
        .expect("commissioned");
    match step(&run) {
        Outcome::Applied { change } => {
            assert!(change.contains("EAP-TLS on eth0"), "{change}")
        }
        other => panic!("expected dot1x applied, got {other:?}"),
    }
    let (status, evidence) = finding(run.after.as_ref().expect("re-audited"));
    assert_eq!(status, Status::Pass, "{evidence}");
    assert!(evidence.contains("EAP-TLS on eth0 as cam-"), "{evidence}");
    // The camera's interface carries EAP-TLS with a client certificate from the site CA, and the
    // RADIUS CA is stored as the server's trust anchor.
    let state = cam.state();
    let (method, chain) = state.keystore.dot1x_on("eth0").expect("assigned");
    assert_eq!(method, "EAP-TLS");
    let ca_der =
        camward_certs::read_certificates(&std::fs::read(&ca_path).expect("CA file"), "the CA")
            .expect("CA")
            .remove(0);
    assert_eq!(chain.last(), Some(&ca_der));
    assert!(chain.len() == 2, "client leaf and site CA");
    // A client certificate: extended key usage clientAuth, as RADIUS servers ask.
    let leaf_file = dir.path().join("client.der");
    std::fs::write(&leaf_file, &chain[0]).expect("write");
    let eku = std::process::Command::new("openssl")
        .args([
            "x509",
            "-inform",
            "DER",
            "-noout",
            "-ext",
            "extendedKeyUsage",
            "-in",
        ])
        .arg(&leaf_file)
        .output()
        .expect("openssl runs");
    let eku = String::from_utf8_lossy(&eku.stdout);
    assert!(eku.contains("TLS Web Client Authentication"), "{eku}");
    let _ = radius;

    // A camera without a supplicant: not applicable.
    cam.set_dot1x_supported(false);
    let run = commission(&vault, &url, &options(&with), &|_| {})
        .await
        .expect("commissioned");
    let (status, evidence) = finding(run.before.as_ref().expect("audited"));
    assert_eq!(status, Status::NotApplicable, "{evidence}");
    fleet.shutdown().await;
}
