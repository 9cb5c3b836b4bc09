//! Footprint of the desktop app, measured on the real release binary over WebDriver (tauri-driver
//! + WebKitWebDriver, under the X display in `DISPLAY`), as issue 7 asks:
//!
//! - **start to first screen**: from asking tauri-driver for a session (which starts the app) to
//!   the first screen's heading being in the page, for a few launches in a row (the first one
//!   after a build reads the binary and WebKit from disk; the page cache is not dropped);
//! - **memory with 100 cameras listed**: the app started with `--demo --demo-cameras=100`, the
//!   simulated site discovered until all 100 are on screen, then the resident memory (RSS) and
//!   proportional set size (PSS, shared pages split between processes) of the app and every
//!   process below it (WebKit's web and network processes), from `/proc`.
//!
//! The installer sizes come from `scripts/footprint.sh`, which builds the bundles first and then
//! runs this. By hand: `cargo build --release -p camward-desktop` (after `npm run build` in
//! `ui/`), then `DISPLAY=:99 cargo bench -p camward-desktop-e2e --bench footprint -- [LAUNCHES]`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Bench code: a failed unwrap is a failed run.

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{by_test_id, open_app, prerequisites, TauriDriver, UI_TIMEOUT};
use fantoccini::{Client, Locator};

const LISTED: usize = 100;

/// Waits until `condition` (a JavaScript expression) holds in the page.
async fn wait_until(client: &Client, what: &str, condition: &str, limit: Duration) {
    let deadline = Instant::now() + limit;
    let script = format!("return Boolean({condition});");
    loop {
        let holds = client.execute(&script, Vec::new()).await.unwrap();
        if holds.as_bool() == Some(true) {
            return;
        }
        if Instant::now() > deadline {
            let seen = client
                .execute(
                    "return [document.querySelectorAll('[data-testid=\"found-camera\"]').length, (document.querySelector('[data-testid=\"discovery-status\"]') || {}).textContent];",
                    Vec::new(),
                )
                .await
                .unwrap();
            panic!("timed out waiting for {what}; on screen: {seen}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Processes whose executable is `app`.
fn processes_of(app: &Path) -> Vec<u32> {
    let app = app.canonicalize().unwrap();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| exe == app))
        .collect()
}

fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat[stat.rfind(')')? + 1..]
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// `root` and every live process below it.
fn tree_of(root: u32) -> Vec<u32> {
    let all: Vec<u32> = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    let mut tree = vec![root];
    for pid in all {
        let mut current = pid;
        for _ in 0..64 {
            match parent_of(current) {
                Some(parent) if parent == root => {
                    tree.push(pid);
                    break;
                }
                Some(parent) if parent > 1 => current = parent,
                _ => break,
            }
        }
    }
    tree
}

/// A `kB` field of a `/proc/<pid>/` file.
fn kilobytes(pid: u32, file: &str, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/{file}"))
        .unwrap_or_default()
        .lines()
        .find_map(|line| {
            line.strip_prefix(field)?
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

fn name_of(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .unwrap_or_default()
        .trim()
        .to_owned()
}

async fn start_to_first_screen(driver: &TauriDriver, app: &Path) -> Duration {
    let started = Instant::now();
    let client = open_app(driver, app, &[]).await;
    client
        .wait()
        .at_most(UI_TIMEOUT)
        .for_element(Locator::Css("#journey-title"))
        .await
        .expect("the first screen's heading");
    let took = started.elapsed();
    client.close().await.unwrap();
    took
}

fn main() {
    let launches: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(5);
    let Some(pre) = prerequisites() else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let driver = TauriDriver::start(&pre.tauri_driver);
    let size = std::fs::metadata(&pre.app).map(|m| m.len()).unwrap_or(0);
    println!(
        "desktop footprint: {} ({:.1} MB)",
        pre.app.display(),
        size as f64 / 1e6
    );

    let mut times: Vec<Duration> = Vec::new();
    for _ in 0..launches {
        times.push(rt.block_on(start_to_first_screen(&driver, &pre.app)));
    }
    let first = times[0];
    let mut rest = times[1..].to_vec();
    rest.sort();
    let shown: Vec<String> = times
        .iter()
        .map(|t| format!("{:.0}", t.as_secs_f64() * 1000.0))
        .collect();
    println!(
        "  start to first screen:         first launch {:.0} ms; later launches median {:.0} ms (all: {} ms)",
        first.as_secs_f64() * 1000.0,
        rest.get(rest.len() / 2).unwrap_or(&first).as_secs_f64() * 1000.0,
        shown.join(", ")
    );

    rt.block_on(async {
        let arg = format!("--demo-cameras={LISTED}");
        let client = open_app(&driver, &pre.app, &["--demo", &arg]).await;
        let started = Instant::now();
        client
            .wait()
            .at_most(UI_TIMEOUT)
            .for_element(Locator::Css(&by_test_id("start-discovery")))
            .await
            .expect("the discover button")
            .click()
            .await
            .expect("clicking discover");
        wait_until(
            &client,
            "every simulated camera to be listed",
            &format!(
                "document.querySelectorAll('[data-testid=\"found-camera\"]').length === {LISTED} && !document.querySelector('[data-testid=\"stop-discovery\"]')"
            ),
            Duration::from_secs(120),
        )
        .await;
        let listed = started.elapsed();
        // Let the page settle (layout, images) before reading memory.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let apps = processes_of(&pre.app);
        assert_eq!(apps.len(), 1, "one app process expected: {apps:?}");
        let (mut rss, mut pss) = (0, 0);
        let mut parts = Vec::new();
        for pid in tree_of(apps[0]) {
            let (r, p) = (
                kilobytes(pid, "status", "VmRSS:"),
                kilobytes(pid, "smaps_rollup", "Pss:"),
            );
            rss += r;
            pss += p;
            parts.push(format!("{} {:.0} MB", name_of(pid), r as f64 / 1024.0));
        }
        println!(
            "  {LISTED} cameras listed in:          {:.1} s (discovery of the simulated site)",
            listed.as_secs_f64()
        );
        println!(
            "  memory with {LISTED} cameras listed:  RSS {:.0} MB, PSS {:.0} MB ({})",
            rss as f64 / 1024.0,
            pss as f64 / 1024.0,
            parts.join(", ")
        );
        client.close().await.unwrap();
    });
}
