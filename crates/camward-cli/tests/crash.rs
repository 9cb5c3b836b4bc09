//! Crash safety of password rotation: `camward rotate` over a camsim fleet is SIGKILLed at random
//! moments, 200 times, and `camward rotate --resume` must leave every camera with a password the
//! vault holds, none locked out, and no password anywhere it should not be (see `common::soak`).
//! The seed is printed so a failure can be replayed with `CAMWARD_CRASH_SEED`; the bench
//! `rotation_soak` runs the same loop longer.
#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.

mod common;

use camsim::InitialState;
use common::{fleet, runtime, soak, TestVault};

const RUNS: usize = 200;

#[test]
fn rotation_killed_at_random_points_always_resumes_to_a_known_password() {
    let Some(vault) = TestVault::new_or_skip("crash") else {
        return;
    };
    let seed = std::env::var("CAMWARD_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    eprintln!("crash loop seed: {seed} (replay with CAMWARD_CRASH_SEED={seed})");
    let rt = runtime();
    // A little latency per request widens the window in which a kill lands mid-conversation.
    let fleet = fleet(&rt, 3, InitialState::Configured, 3);
    soak::record_start_passwords(&vault, &fleet);

    let report = soak::crash_loop(&vault, &fleet, RUNS, seed);
    eprintln!("{report:#?}");
    assert_eq!(report.runs, RUNS);
    assert_eq!(report.locked_out, 0);
    // Every expected failure follows a successful login, so failures never pile up towards the
    // camera's lock-out (5) across interrupted runs.
    assert!(report.max_failed_logins <= 2, "{report:?}");
    // The loop is only worth something if kills really interrupted changes, with both outcomes.
    assert!(
        report.interrupted() > 0,
        "no kill interrupted a change: {report:?}"
    );
    assert!(
        report.passwords_changed > 0,
        "no rotation reached the cameras: {report:?}"
    );
    rt.block_on(fleet.shutdown());
}
