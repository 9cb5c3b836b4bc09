//! Discovery benchmarks in the network-namespace lab (`tests/common/lab.rs`). Needs root and
//! iproute2; build the release binaries first (`cargo build --release -p camsim -p camward-cli`).
//!
//! 1. **Many cameras**: N camsim cameras (default 200) in the shared cameras namespace and
//!    `camward discover --method ws-discovery` in the laptop one. For each listening window it
//!    prints how many cameras were listed and the command's wall time; the target of issue 3 is
//!    every camera listed within 3 s.
//! 2. **The /16 sweep**: M cameras (default 20), each in a namespace of its own, claiming a random
//!    link-local address by AutoIP; `camward discover --method link-local` at the default ARP
//!    rate sweeps all of 169.254.0.0/16. It prints how many were found and the wall time; the
//!    target is all of them within 15 s.
//!
//! `cargo bench -p camward-cli --bench discovery_lab -- [CAMERAS] [SWEEP_CAMERAS]`
#![allow(clippy::unwrap_used)] // Bench code: a failed unwrap is a failed run.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use common::lab::{Address, Lab};

fn main() {
    let numbers: Vec<usize> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .filter_map(|a| a.parse().ok())
        .collect();
    let cameras = numbers.first().copied().unwrap_or(200);
    let sweep_cameras = numbers.get(1).copied().unwrap_or(20);
    many_cameras(cameras);
    sweep(sweep_cameras);
}

fn many_cameras(cameras: usize) {
    let Some(mut lab) = Lab::new_or_skip() else {
        return;
    };
    let started = Instant::now();
    let fleet = lab.fleet("169.254.20.1", cameras, "factory");
    println!(
        "discovery lab: {cameras} camsim cameras up in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let interface = lab.laptop_interface();
    for window in ["0.6", "1", "2", "3"] {
        let started = Instant::now();
        let out = lab.camward(
            &[
                "discover",
                "--interface",
                &interface,
                "--method",
                "ws-discovery",
                "--timeout",
                window,
                "--json",
            ],
            None,
        );
        let wall = started.elapsed();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let listed = String::from_utf8_lossy(&out.stdout).lines().count();
        let all = fleet.iter().all(|cam| {
            String::from_utf8_lossy(&out.stdout).contains(cam["device_url"].as_str().unwrap())
        });
        println!(
            "  window {window:>3} s: {listed:>4}/{cameras} listed{}, wall {:.2} s",
            if all { " (all)" } else { "" },
            wall.as_secs_f64()
        );
    }
}

fn sweep(cameras: usize) {
    let Some(mut lab) = Lab::new_or_skip() else {
        return;
    };
    let started = Instant::now();
    let fleet: Vec<serde_json::Value> = (0..cameras)
        .map(|_| lab.camera("generic", "factory", Address::AutoIp, &[]))
        .collect();
    println!(
        "link-local sweep: {cameras} AutoIP cameras up in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let interface = lab.laptop_interface();
    let started = Instant::now();
    let out = lab.camward(
        &[
            "discover",
            "--interface",
            &interface,
            "--method",
            "link-local",
            "--json",
        ],
        None,
    );
    let wall = started.elapsed();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let found = fleet
        .iter()
        .filter(|cam| stdout.contains(cam["mac"].as_str().unwrap()))
        .count();
    println!(
        "  full /16 sweep at {} ARP requests/s: {found}/{cameras} found, wall {:.2} s",
        camward_discovery::linklocal::DEFAULT_RATE,
        wall.as_secs_f64()
    );
}
