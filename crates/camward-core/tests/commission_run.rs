//! The desktop wizard's use of `commission`, against camsim on 127.0.0.1: the dry-run diff of a
//! factory-fresh camera (with the lock-out guard deciding), a run stopped from its own progress
//! callback, and the second run that resumes it.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use camsim::{Flavour, Fleet, FleetConfig, InitialState};
use camward_core::credentials::Vault;
use camward_core::hardening::commission::{
    commission_all_with, CommissionEvent, CommissionOptions, Outcome, RunControl,
};
use camward_policy::plan::parse;
use camward_vault::{CredentialLedger, Inventory, MemoryStore};

fn vault() -> Vault {
    let inventory = Inventory::open_in_memory().expect("inventory");
    let ledger = CredentialLedger::new(Arc::new(MemoryStore::default()), &inventory);
    Vault { ledger, inventory }
}

fn plan(allowed: &str) -> camward_policy::plan::SitePlan {
    parse(&format!(
        "site = \"Lab\"\nlevel = \"standard\"\n[time]\nntp = [\"127.0.0.1\"]\n[access]\nallowed_hosts = [\"{allowed}\"]\n[services]\nkeep = [\"https\", \"rtsp\"]\n[certificates]\npolicy = \"site-ca\"\n[controls]\nskip = [\"ports-changed\"]\n"
    ))
    .expect("plan")
}

async fn fleet(cameras: usize) -> Fleet {
    Fleet::start(FleetConfig {
        cameras,
        flavour: Flavour::Generic,
        state: InitialState::Factory,
        ..FleetConfig::default()
    })
    .await
    .expect("fleet on loopback")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_factory_fresh_dry_run_lists_the_changes_and_the_guards_decisions() {
    let fleet = fleet(1).await;
    let url = fleet.cameras()[0].device_url();
    let vault = vault();
    let step_of = |plan: &camward_policy::plan::SitePlan| {
        let vault = &vault;
        let url = url.clone();
        let plan = plan.clone();
        async move {
            let options = CommissionOptions {
                plan: &plan,
                user: "admin",
                dry_run: true,
                outside: false,
                firmware: None,
            };
            let results =
                commission_all_with(vault, &[url], &options, RunControl::default(), 1, &|_| {})
                    .await;
            results.into_iter().next().expect("one").1.expect("dry run")
        }
    };
    let outside = step_of(&plan("10.99.0.0/24")).await;
    assert_eq!(
        outside.first_admin.as_deref(),
        Some("would create administrator admin")
    );
    assert!(outside.after.is_none(), "nothing sent, nothing re-audited");
    let outcome = |run: &camward_core::hardening::commission::CameraCommission, id: &str| {
        run.steps
            .iter()
            .find(|s| s.control == id)
            .map(|s| s.outcome.clone())
            .unwrap_or_else(|| panic!("{id} in {:?}", run.steps))
    };
    match outcome(&outside, "host-restriction") {
        Outcome::Refused { reason } => {
            assert!(
                reason.contains("leaves out this computer's own address 127.0.0.1"),
                "{reason}"
            )
        }
        other => panic!("{other:?}"),
    }
    assert!(
        matches!(outcome(&outside, "time-sync"), Outcome::Refused { .. }),
        "nothing answers SNTP on loopback"
    );
    assert!(matches!(
        outcome(&outside, "admin-password"),
        Outcome::WouldChange { .. }
    ));
    assert!(
        outside
            .steps
            .iter()
            .all(|s| !matches!(s.outcome, Outcome::Failed { .. })),
        "a control that needs a login is decided later, not failed: {:?}",
        outside.steps
    );
    let inside = step_of(&plan("127.0.0.0/24")).await;
    assert!(matches!(
        outcome(&inside, "host-restriction"),
        Outcome::WouldChange { .. }
    ));
    // The dry run changed nothing: the camera is still factory-fresh.
    assert!(
        camward_core::first_boot::detect(&url)
            .await
            .expect("detect")
            .factory_fresh
    );
    fleet.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_run_leaves_the_rest_and_running_again_resumes() {
    let fleet = fleet(3).await;
    let urls: Vec<String> = fleet.cameras().iter().map(|c| c.device_url()).collect();
    let vault = vault();
    let plan = plan("127.0.0.0/24");
    let options = CommissionOptions {
        plan: &plan,
        user: "admin",
        dry_run: false,
        outside: false,
        firmware: None,
    };
    let stop = Arc::new(AtomicBool::new(false));
    let first = commission_all_with(
        &vault,
        &urls,
        &options,
        RunControl {
            password: None,
            stop: Some(Arc::clone(&stop)),
        },
        1,
        &|event| {
            // The person presses Stop as soon as the first control is done.
            if matches!(event, CommissionEvent::Step { .. }) {
                stop.store(true, Ordering::SeqCst);
            }
        },
    )
    .await;
    let started = first[0].1.as_ref().expect("the first camera ran");
    assert!(started
        .first_admin
        .as_deref()
        .is_some_and(|a| a.starts_with("administrator admin created")));
    assert!(started.after.is_none(), "no proof audit after a stop");
    assert!(
        started
            .steps
            .iter()
            .skip(1)
            .any(|s| s.outcome == Outcome::Stopped),
        "{:?}",
        started.steps
    );
    for (_, later) in &first[1..] {
        assert_eq!(later.as_ref().expect_err("not started").code, "cancelled");
    }

    let second =
        commission_all_with(&vault, &urls, &options, RunControl::default(), 2, &|_| {}).await;
    for (url, result) in &second {
        let done = result.as_ref().unwrap_or_else(|e| panic!("{url}: {e:?}"));
        let after = done.after.as_ref().expect("the proof audit");
        let admin = after
            .findings
            .iter()
            .find(|f| f.control == "admin-password")
            .expect("admin-password");
        assert_eq!(
            admin.status,
            camward_core::hardening::Status::Pass,
            "{url}: {admin:?}"
        );
        assert!(
            done.steps.iter().all(|s| s.outcome != Outcome::Stopped),
            "{url}"
        );
    }
    fleet.shutdown().await;
}
