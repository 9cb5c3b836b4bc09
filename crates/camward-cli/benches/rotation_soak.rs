//! Soak of rotation crash safety: the crash test's loop (`tests/common/soak.rs`), longer.
//!
//! `dbus-run-session -- sh -c 'printf pw | gnome-keyring-daemon --unlock --components=secrets;
//! cargo bench -p camward-cli --bench rotation_soak -- [RUNS] [CAMERAS]'` (default 1000 runs over
//! 5 cameras). Prints the figures: runs, kills that interrupted a change, resume outcomes, the
//! most failed logins a camera counted, cameras locked out (always 0, or it panics).
#![allow(clippy::unwrap_used)] // Bench code: a failed unwrap is a failed run.

#[path = "../tests/common/mod.rs"]
mod common;

use camsim::InitialState;
use common::{fleet, runtime, soak, TestVault};

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| !a.starts_with("--"));
    let runs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let cameras: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    let Some(vault) = TestVault::new_or_skip("soak") else {
        return;
    };
    let seed: u64 = rand::random();
    let rt = runtime();
    let fleet = fleet(&rt, cameras, InitialState::Configured, 3);
    soak::record_start_passwords(&vault, &fleet);
    let report = soak::crash_loop(&vault, &fleet, runs, seed);
    println!("rotation crash soak (seed {seed}): {cameras} cameras, {runs} runs");
    println!("  uncut rotation of the fleet:    {:?}", report.calibrated);
    println!(
        "  kills that interrupted a change: {}",
        report.interrupted()
    );
    println!(
        "  rotations done before the kill:  {}",
        report.finished_before_kill
    );
    println!(
        "  resumes killed and run again:    {}",
        report.resumes_killed
    );
    println!(
        "  resume outcomes:                 {:?}",
        report.resume_results
    );
    println!(
        "  camera password changes:         {}",
        report.passwords_changed
    );
    println!(
        "  most failed logins on a camera:  {}",
        report.max_failed_logins
    );
    println!("  cameras locked out:              {}", report.locked_out);
    println!(
        "  keychain daemon restarts:        {}",
        report.keychain_restarts
    );
    println!("  every camera's password known to the vault after every run: yes");
    println!(
        "  wall: {:.1} s ({:.0} ms per run)",
        report.wall.as_secs_f64(),
        report.wall.as_secs_f64() * 1000.0 / runs.max(1) as f64
    );
    rt.block_on(fleet.shutdown());
}
