//! The rotation crash loop shared by the `crash` test (200+ runs) and the `rotation_soak` bench
//! (as many as asked): `camward rotate` against a camsim fleet is killed with SIGKILL at a random
//! moment, `camward rotate --resume` (itself sometimes killed and run again) finishes the job, and
//! then every camera must accept exactly the password the vault holds, with none locked out and
//! no password in the process arguments or environment, the logs or the SQLite file.
#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use camsim::Fleet;
use camward_vault::{CredentialLedger, Inventory};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::{camera_password, contains, TestVault};

/// What a crash loop saw.
#[derive(Debug, Default)]
pub struct SoakReport {
    /// Rotations started and killed (or finished before the kill came).
    pub runs: usize,
    /// Rotations that had already exited when the kill came.
    pub finished_before_kill: usize,
    /// Resumes that were themselves killed and run again.
    pub resumes_killed: usize,
    /// How resume lines ended, e.g. `completed`, `rolled_back`, `retired`, `nothing`.
    pub resume_results: BTreeMap<String, usize>,
    /// Cameras whose password changed over the whole loop, counted per run.
    pub passwords_changed: usize,
    /// The most failed logins a camera had counted at the end of a run.
    pub max_failed_logins: u32,
    /// Cameras found locked out (must stay 0).
    pub locked_out: usize,
    /// Times the keychain daemon itself died and was restarted (see [`ensure_keychain`]).
    pub keychain_restarts: usize,
    /// How long a rotation of the fleet takes uncut (the range the kill moment is drawn from).
    pub calibrated: Duration,
    /// Wall time of the whole loop.
    pub wall: Duration,
}

impl SoakReport {
    /// Runs in which the kill left a change for resume to finish.
    pub fn interrupted(&self) -> usize {
        self.resume_results
            .iter()
            .filter(|(k, _)| k.as_str() != "nothing")
            .map(|(_, n)| n)
            .sum()
    }
}

fn spawn(vault: &TestVault, args: &[&str], log: &Path) -> Child {
    let stdout = File::create(log.with_extension("out")).unwrap();
    let stderr = File::create(log.with_extension("err")).unwrap();
    vault
        .command(args)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .expect("camward runs")
}

/// Reads what the kernel shows of a running process: its argv and environment.
fn proc_view(pid: u32) -> Vec<u8> {
    let mut seen = Vec::new();
    for part in ["cmdline", "environ"] {
        if let Ok(bytes) = std::fs::read(format!("/proc/{pid}/{part}")) {
            seen.extend(bytes);
        }
    }
    seen
}

/// Lets `child` run for `delay`, reading its `/proc` view meanwhile, then SIGKILLs it. Returns
/// whether it had already exited, and what `/proc` showed.
fn kill_after(mut child: Child, delay: Duration) -> (bool, Vec<u8>) {
    let mut seen = proc_view(child.id());
    std::thread::sleep(delay);
    seen.extend(proc_view(child.id()));
    let finished = child.try_wait().unwrap().is_some();
    // std's Child::kill is SIGKILL on Unix: no destructor, no flush, no signal handler runs.
    let _ = child.kill();
    child.wait().unwrap();
    (finished, seen)
}

/// Makes sure the Secret Service still answers, restarting gnome-keyring-daemon when it does not.
///
/// gnome-keyring-daemon (Debian 12's 42.1) aborts when a client disconnects in the middle of its
/// `OpenSession` call (`aes_negotiate: assertion 'session' failed`, then a GLib-ERROR trap), which
/// a SIGKILL at a random moment sometimes is. That is the daemon's bug, not Camward's; what Camward
/// must show is that no secret is lost even then. The daemon's collection is on disk, so a new
/// daemon unlocked with the test session's password (`CAMWARD_TEST_KEYRING_PASSWORD`, default the
/// one `scripts/test.sh` uses) serves the same entries, and the loop goes on.
pub fn ensure_keychain(_vault: &TestVault, report: &mut SoakReport) {
    for attempt in 0..3 {
        // Asked over D-Bus as a property, which never prompts. A keychain call on a locked
        // collection would ask for the password, and under Xvfb that prompt waits forever.
        if default_collection_unlocked() {
            return;
        }
        if attempt == 0 {
            report.keychain_restarts += 1;
        }
        eprintln!("the keychain daemon stopped answering or came back locked; starting it again");
        let password =
            std::env::var("CAMWARD_TEST_KEYRING_PASSWORD").unwrap_or_else(|_| "camward".into());
        let mut daemon = std::process::Command::new("gnome-keyring-daemon")
            .args(["--replace", "--unlock", "--components=secrets"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon starts");
        std::io::Write::write_all(&mut daemon.stdin.take().unwrap(), password.as_bytes()).unwrap();
        drop(daemon.stdin.take());
        daemon.wait().unwrap();
        std::thread::sleep(Duration::from_millis(300));
    }
    panic!("the keychain daemon could not be started again");
}

/// True when the Secret Service answers and its default collection is unlocked (`Locked` is a
/// plain property of org.freedesktop.Secret.Collection; reading it starts a daemon if none runs).
fn default_collection_unlocked() -> bool {
    std::process::Command::new("dbus-send")
        .args([
            "--session",
            "--print-reply",
            "--reply-timeout=5000",
            "--dest=org.freedesktop.secrets",
            "/org/freedesktop/secrets/aliases/default",
            "org.freedesktop.DBus.Properties.Get",
            "string:org.freedesktop.Secret.Collection",
            "string:Locked",
        ])
        .output()
        .is_ok_and(|o| {
            o.status.success() && String::from_utf8_lossy(&o.stdout).contains("boolean false")
        })
}

/// The current password in the vault, read through a keychain daemon that may have just died.
fn current(vault: &TestVault, url: &str, report: &mut SoakReport) -> Option<String> {
    let key = vault.current_account(url, "admin")?;
    match camward_vault::SecretStore::get(&vault.keychain(), &key) {
        Ok(secret) => secret.map(|s| s.expose().clone()),
        Err(_) => {
            ensure_keychain(vault, report);
            vault.current(url, "admin")
        }
    }
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_default()
}

/// Runs `runs` kill-and-resume rounds of `camward rotate` over every camera of `fleet`.
pub fn crash_loop(vault: &TestVault, fleet: &Fleet, runs: usize, seed: u64) -> SoakReport {
    let mut rng = StdRng::seed_from_u64(seed);
    let urls: Vec<String> = fleet.cameras().iter().map(|c| c.device_url()).collect();
    let concurrency = urls.len().to_string();
    let mut rotate: Vec<&str> = vec!["rotate", "--concurrency", &concurrency];
    rotate.extend(urls.iter().map(String::as_str));
    let logs = vault.dir.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let mut report = SoakReport::default();
    // Every password any camera had during the loop, to look for in everything written.
    let mut secrets: BTreeSet<String> = fleet
        .cameras()
        .iter()
        .filter_map(|c| camera_password(c, "admin"))
        .collect();

    // Calibrate: one uncut rotation tells how long the window is.
    let started = Instant::now();
    let out = vault.run(&rotate, None);
    assert!(out.status.success(), "{}", super::text(&out.stdout));
    report.calibrated = started.elapsed();
    let window_us = u64::try_from(report.calibrated.as_micros())
        .unwrap()
        .max(1000);

    let loop_started = Instant::now();
    for run in 0..runs {
        let log = logs.join(format!("run{run}"));
        let before: Vec<Option<String>> = fleet
            .cameras()
            .iter()
            .map(|c| camera_password(c, "admin"))
            .collect();
        let delay = Duration::from_micros(rng.gen_range(0..window_us));
        let (finished, mut seen) = kill_after(spawn(vault, &rotate, &log), delay);
        report.runs += 1;
        report.finished_before_kill += usize::from(finished);
        ensure_keychain(vault, &mut report);

        // Resume; one time in four the resume is killed too, and run once more.
        if rng.gen_ratio(1, 4) {
            let delay = Duration::from_micros(rng.gen_range(0..window_us));
            let (_, more) = kill_after(
                spawn(vault, &["rotate", "--resume"], &log.with_extension("r1")),
                delay,
            );
            seen.extend(more);
            report.resumes_killed += 1;
        }
        ensure_keychain(vault, &mut report);
        let mut resumed = vault.run(&["rotate", "--resume"], None);
        for _ in 0..3 {
            if !super::text(&resumed.stdout).contains("[keychain_unavailable]") {
                break;
            }
            // The daemon died late (after the check above): restart it and resume again.
            ensure_keychain(vault, &mut report);
            resumed = vault.run(&["rotate", "--resume"], None);
        }
        let stdout = super::text(&resumed.stdout);
        assert!(
            resumed.status.success(),
            "run {run} (seed {seed}): resume failed\n{stdout}\n{}",
            super::text(&resumed.stderr)
        );
        if stdout.trim() == "nothing to resume" {
            *report.resume_results.entry("nothing".into()).or_default() += 1;
        }
        for line in stdout.lines().filter(|l| l.starts_with("ok ")) {
            let result = line.rsplit(": ").next().unwrap_or("?").to_owned();
            *report.resume_results.entry(result).or_default() += 1;
        }

        for (i, (cam, url)) in fleet.cameras().iter().zip(&urls).enumerate() {
            let on_camera = camera_password(cam, "admin").expect("the admin exists");
            assert_eq!(
                current(vault, url, &mut report).as_deref(),
                Some(on_camera.as_str()),
                "run {run} (seed {seed}): the vault must hold the password camera {i} accepts"
            );
            if cam.is_locked_out() {
                report.locked_out += 1;
            }
            report.max_failed_logins = report.max_failed_logins.max(cam.failed_logins());
            if before[i].as_deref() != Some(on_camera.as_str()) {
                report.passwords_changed += 1;
            }
            secrets.insert(on_camera);
        }
        assert_eq!(
            report.locked_out, 0,
            "run {run} (seed {seed}): a camera locked out"
        );
        let ledger = ledger(vault);
        assert!(
            ledger.pending().unwrap().is_empty()
                && ledger.awaiting_retirement().unwrap().is_empty(),
            "run {run} (seed {seed}): resume left a change unsettled"
        );
        // Nothing written or shown by the processes of this run holds a password.
        let written: Vec<Vec<u8>> = ["out", "err", "r1.out", "r1.err"]
            .iter()
            .map(|ext| read(&log.with_extension(ext)))
            .chain([seen, resumed.stdout, resumed.stderr])
            .collect();
        for secret in &secrets {
            for bytes in &written {
                assert!(
                    !contains(bytes, secret),
                    "run {run} (seed {seed}): a password reached a log or /proc"
                );
            }
        }
    }
    report.wall = loop_started.elapsed();
    let sqlite = vault.sqlite_bytes();
    for secret in &secrets {
        assert!(!contains(&sqlite, secret), "a password reached SQLite");
    }
    report
}

fn ledger(vault: &TestVault) -> CredentialLedger {
    let inventory = Inventory::open(vault.db()).unwrap();
    CredentialLedger::new(std::sync::Arc::new(vault.keychain()), &inventory)
}

/// Stores the configured fleet's starting administrator password for each camera.
pub fn record_start_passwords(vault: &TestVault, fleet: &Fleet) {
    for cam in fleet.cameras() {
        vault.set_password(&cam.device_url(), "admin", super::FACTORY_ADMIN_PASSWORD);
    }
}
