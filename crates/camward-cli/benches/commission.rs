//! Commissioning benchmark: N factory-fresh camsim cameras (default 100) with 20 ms of latency on
//! every request, commissioned to Standard from a site plan, in-process through
//! `camward_core::hardening::commission`, with the real keychain. An SNTP server on 127.0.0.1:123
//! (this process, when it may bind there) answers the NTP check.
//!
//! It prints the wall time, the HTTP round trips each camera received (camsim counts them), the
//! sequential round-trip minimum (the most round trips one camera needed × the latency: no
//! schedule can beat that critical path) and the ratio of wall time to it. Targets of issue 5:
//! ≤ 60 s wall for 100 cameras, ratio ≤ 1.5.
//!
//! `dbus-run-session -- sh -c 'printf pw | gnome-keyring-daemon --unlock --components=secrets;
//! cargo bench -p camward-cli --bench commission -- [CAMERAS] [CONCURRENCY] [--memory-store]
//! [--rounds=R]'`
//!
//! One run on a shared 2-core virtual machine varies by a quarter or more (the machine's other
//! work, and the hypervisor taking its cores: the bench prints both), so `--rounds=R` runs R
//! rounds, each with a fresh fleet, inventory and keychain entries, and prints the median.
//!
//! The keychain daemon serves one call at a time and a write makes it rewrite its keyring file
//! (see `cargo bench -p camward-vault --bench keychain_costs`: 6–9 ms a write), and every camera
//! stores its new password before sending it. The ledger group-commits those writes (passwords
//! that arrive while a write is in progress go to the keychain together, in one journal entry,
//! moved to entries of their own in the background; `camward_vault::ledger`, "Journals"), and the
//! wall time includes that move: `commission_all` returns once every password is in its own
//! entry. The bench prints the keychain calls by kind and the time the keychain was busy.
//! `--memory-store` keeps the secrets in this process instead, to measure the schedule alone.
#![allow(clippy::unwrap_used)] // Bench code: a failed unwrap is a failed run.

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::Instant;

use camsim::InitialState;
use camward_core::credentials::Vault;
use camward_core::hardening::commission::{commission_all, CommissionEvent, CommissionOptions};
use camward_core::hardening::Status;
use common::{fleet, runtime, TestVault};

const LATENCY_MS: u64 = 20;

/// The real keychain, with every call counted and timed (the keychain daemon serves one call at
/// a time, so its total time is a floor under the wall time that no concurrency removes).
#[derive(Debug)]
struct Timed {
    inner: camward_vault::Keychain,
    spans: std::sync::Mutex<Vec<(Instant, Instant)>>,
    /// Per kind of call (a read that found the entry, one that did not, a write, a delete): how
    /// many, and their summed time.
    kinds: std::sync::Mutex<std::collections::BTreeMap<&'static str, (u64, std::time::Duration)>>,
}

impl Timed {
    /// Times one call; `kind` names it from its outcome.
    fn time<T>(&self, f: impl FnOnce() -> T, kind: impl FnOnce(&T) -> &'static str) -> T {
        let started = Instant::now();
        let out = f();
        let ended = Instant::now();
        let mut kinds = self.kinds.lock().unwrap();
        let entry = kinds.entry(kind(&out)).or_default();
        entry.0 += 1;
        entry.1 += ended - started;
        drop(kinds);
        self.spans.lock().unwrap().push((started, ended));
        out
    }

    /// Wall time during which at least one keychain call was in flight. The daemon serves one
    /// call at a time, so no schedule can finish the batch in less.
    fn busy(&self) -> std::time::Duration {
        let mut spans = self.spans.lock().unwrap().clone();
        spans.sort();
        let mut busy = std::time::Duration::ZERO;
        let mut open: Option<(Instant, Instant)> = None;
        for (start, end) in spans {
            match &mut open {
                Some((_, e)) if start <= *e => *e = (*e).max(end),
                _ => {
                    if let Some((s, e)) = open.take() {
                        busy += e - s;
                    }
                    open = Some((start, end));
                }
            }
        }
        if let Some((s, e)) = open {
            busy += e - s;
        }
        busy
    }
}

/// CPU time this process has used so far (user + system, all threads), from /proc.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name; USER_HZ is 100.
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// CPU time the whole machine has spent busy so far (every process, every core: user, nice,
/// system, interrupts), and the time the hypervisor gave this machine's cores to someone else
/// (steal), from /proc/stat. Beside this process's own CPU, the first shows what the keychain
/// daemon and the bus take from the same cores; the second, how much of the run's noise comes
/// from outside the machine.
fn machine_seconds() -> Option<(f64, f64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let ticks: Vec<f64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (USER_HZ = 100).
    let busy = [0, 1, 2, 5, 6]
        .iter()
        .filter_map(|i| ticks.get(*i))
        .sum::<f64>();
    Some((busy / 100.0, ticks.get(7).copied().unwrap_or(0.0) / 100.0))
}

impl camward_vault::SecretStore for Timed {
    fn get(
        &self,
        key: &camward_vault::CredentialKey,
    ) -> Result<Option<camward_vault::Sensitive<String>>, camward_vault::VaultError> {
        self.time(
            || self.inner.get(key),
            |r| match r {
                Ok(Some(_)) => "read, found",
                Ok(None) => "read, missing",
                Err(_) => "read, failed",
            },
        )
    }
    fn set(
        &self,
        key: &camward_vault::CredentialKey,
        secret: &camward_vault::Sensitive<String>,
    ) -> Result<(), camward_vault::VaultError> {
        let journal = key.camera == camward_vault::ledger::JOURNAL_CAMERA;
        self.time(
            || self.inner.set(key, secret),
            |_| {
                if journal {
                    "write, journal"
                } else {
                    "write, own entry"
                }
            },
        )
    }
    fn delete(&self, key: &camward_vault::CredentialKey) -> Result<(), camward_vault::VaultError> {
        let journal = key.camera == camward_vault::ledger::JOURNAL_CAMERA;
        self.time(
            || self.inner.delete(key),
            |_| if journal { "delete, journal" } else { "delete" },
        )
    }
}

/// Answers SNTP requests on 127.0.0.1:123 from a thread, if this process may bind there.
fn serve_ntp() -> bool {
    let Ok(socket) = std::net::UdpSocket::bind("127.0.0.1:123") else {
        return false;
    };
    std::thread::spawn(move || common::serve_ntp(&socket));
    true
}

/// What one round measured.
struct Round {
    wall: f64,
    ratio: f64,
    cpu: Option<f64>,
    machine: Option<(f64, f64)>,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let numbers: Vec<usize> = args
        .iter()
        .filter(|a| !a.starts_with("--"))
        .filter_map(|a| a.parse().ok())
        .collect();
    let cameras = numbers.first().copied().unwrap_or(100);
    let concurrency = numbers.get(1).copied().unwrap_or(cameras);
    let rounds: usize = args
        .iter()
        .find_map(|a| a.strip_prefix("--rounds="))
        .map_or(1, |n| n.parse().unwrap());
    let memory = args.iter().any(|a| a == "--memory-store");
    let ntp = serve_ntp();
    let rt = runtime();
    let mut done = Vec::new();
    for n in 1..=rounds {
        if rounds > 1 {
            println!("round {n} of {rounds}");
        }
        let Some(r) = round(&rt, cameras, concurrency, memory, ntp) else {
            return;
        };
        done.push(r);
    }
    if rounds > 1 {
        println!("{rounds} rounds, each with a fresh fleet, inventory and keychain entries:");
        for (n, r) in done.iter().enumerate() {
            let cpu = r
                .cpu
                .map_or(String::new(), |c| format!(", CPU here {c:.2} s"));
            let machine = r.machine.map_or(String::new(), |(busy, steal)| {
                format!(", machine busy {busy:.2} s, stolen {steal:.2} s")
            });
            println!(
                "  round {}: wall {:.2} s, wall / minimum {:.2}×{cpu}{machine}",
                n + 1,
                r.wall,
                r.ratio
            );
        }
        let mut ratios: Vec<f64> = done.iter().map(|r| r.ratio).collect();
        ratios.sort_by(f64::total_cmp);
        let median = if ratios.len() % 2 == 1 {
            ratios[ratios.len() / 2]
        } else {
            (ratios[ratios.len() / 2 - 1] + ratios[ratios.len() / 2]) / 2.0
        };
        println!(
            "  wall / minimum over the rounds: median {median:.2}×, best {:.2}×, worst {:.2}×; {} of {rounds} at or under 1.5×",
            ratios[0],
            ratios[ratios.len() - 1],
            ratios.iter().filter(|r| **r <= 1.5).count()
        );
    }
}

/// One run: a fresh fleet of `cameras` factory-fresh cameras commissioned to Standard, with its
/// figures printed. `None` when there is no keychain to run against (printed).
fn round(
    rt: &tokio::runtime::Runtime,
    cameras: usize,
    concurrency: usize,
    memory: bool,
    ntp: bool,
) -> Option<Round> {
    let test_vault = TestVault::new_or_skip("commbench")?;
    let fleet = fleet(rt, cameras, InitialState::Factory, LATENCY_MS);
    let urls: Vec<String> = fleet.cameras().iter().map(|c| c.device_url()).collect();
    let plan = camward_policy::plan::parse(
        "site = \"Bench\"\nlevel = \"standard\"\n[time]\nntp = [\"127.0.0.1\"]\n[access]\nallowed_hosts = [\"127.0.0.0/8\"]\n[services]\nkeep = [\"https\", \"rtsp\"]\n[certificates]\npolicy = \"site-ca\"\n[controls]\nskip = [\"ports-changed\"]\n",
    )
    .unwrap();
    let inventory = camward_vault::Inventory::open(test_vault.db()).unwrap();
    let store = Arc::new(Timed {
        inner: test_vault.keychain(),
        spans: std::sync::Mutex::new(Vec::new()),
        kinds: std::sync::Mutex::new(std::collections::BTreeMap::new()),
    });
    let secrets: Arc<dyn camward_vault::SecretStore> = if memory {
        Arc::new(camward_vault::MemoryStore::default())
    } else {
        store.clone()
    };
    let ledger = camward_vault::CredentialLedger::new(secrets, &inventory);
    let vault = Vault { ledger, inventory };
    let options = CommissionOptions {
        plan: &plan,
        user: "admin",
        dry_run: false,
        outside: false,
        firmware: None,
    };
    // When each camera was done (its last control verified), from the start of the run.
    let finished = std::sync::Mutex::new(Vec::new());
    let cpu_before = cpu_seconds();
    let machine_before = machine_seconds();
    let started = Instant::now();
    let results = rt.block_on(commission_all(
        &vault,
        &urls,
        &options,
        concurrency,
        &|event| {
            if let CommissionEvent::CameraDone { .. } = event {
                finished
                    .lock()
                    .unwrap()
                    .push(started.elapsed().as_secs_f64());
            }
        },
    ));
    let wall = started.elapsed();
    let cpu = cpu_seconds()
        .zip(cpu_before)
        .map(|(after, before)| after - before);
    let machine = machine_seconds()
        .zip(machine_before)
        .map(|(after, before)| (after.0 - before.0, after.1 - before.1));

    let mut failed = 0;
    let mut time_synced = 0;
    let mut filtered = 0;
    for (url, r) in &results {
        match r {
            Ok(c) => {
                let after = c.after.as_ref().unwrap();
                let passed = |id: &str| {
                    after
                        .findings
                        .iter()
                        .any(|f| f.control == id && f.status == Status::Pass)
                };
                time_synced += usize::from(passed("time-sync"));
                filtered += usize::from(passed("host-restriction"));
            }
            Err(e) => {
                failed += 1;
                eprintln!("{url}: {} [{}]", e.message, e.code);
                let key = camward_vault::CredentialKey::new(camward_core::camera_key(url), "admin");
                eprintln!(
                    "  re-read now: current {:?}, pending {:?}, phase {:?}",
                    vault.ledger.current(&key).map(|s| s.is_some()),
                    vault.ledger.pending_secret(&key).map(|s| s.is_some()),
                    vault.ledger.pending().map(|p| p.contains(&key))
                );
            }
        }
    }
    let requests: Vec<u64> = fleet
        .cameras()
        .iter()
        .map(camsim::SimCamera::requests)
        .collect();
    let most = requests.iter().copied().max().unwrap_or(0);
    let least = requests.iter().copied().min().unwrap_or(0);
    let minimum = most as f64 * LATENCY_MS as f64 / 1000.0;
    println!(
        "commission benchmark: {cameras} factory-fresh cameras, {LATENCY_MS} ms per request, concurrency {concurrency}, level standard, secrets in {}",
        if memory { "process memory (--memory-store: the schedule alone, no keychain floor)" } else { "the OS keychain" }
    );
    println!(
        "  wall:                          {:.1} s",
        wall.as_secs_f64()
    );
    println!(
        "  cameras commissioned:          {}/{cameras} ({failed} failed)",
        cameras - failed
    );
    println!(
        "  time-sync pass after:          {time_synced}/{cameras}{}",
        if ntp {
            ""
        } else {
            " (no SNTP server: could not bind 127.0.0.1:123)"
        }
    );
    println!("  host-restriction pass after:   {filtered}/{cameras}");
    println!("  round trips per camera:        {least}–{most}");
    let connections: Vec<u64> = fleet
        .cameras()
        .iter()
        .map(camsim::SimCamera::connections)
        .collect();
    println!(
        "  TCP connections per camera:    {}–{} (HTTP and HTTPS, accepted by the camera)",
        connections.iter().copied().min().unwrap_or(0),
        connections.iter().copied().max().unwrap_or(0)
    );
    println!(
        "  sequential round-trip minimum: {minimum:.2} s (most round trips × {LATENCY_MS} ms)"
    );
    println!(
        "  wall / minimum:                {:.2}×",
        wall.as_secs_f64() / minimum.max(1e-9)
    );
    let mut finished = finished.into_inner().unwrap();
    finished.sort_by(f64::total_cmp);
    if let (Some(first), Some(last)) = (finished.first(), finished.last()) {
        println!(
            "  cameras done after:            {first:.2} s first, {:.2} s median, {last:.2} s last (after the last: keychain journals settled, if any)",
            finished[finished.len() / 2]
        );
    }
    let kinds = store.kinds.lock().unwrap().clone();
    let calls: u64 = kinds.values().map(|(n, _)| n).sum();
    let keychain_s: f64 = kinds.values().map(|(_, t)| t.as_secs_f64()).sum();
    println!("  keychain calls:                {calls} ({:.1} per camera), {keychain_s:.1} s in them summed over tasks", calls as f64 / cameras as f64);
    if !memory {
        for (kind, (n, time)) in &kinds {
            println!(
                "    {kind:<16} {n:>5} ({:.2} per camera), {:.1} ms each on average",
                *n as f64 / cameras as f64,
                time.as_secs_f64() * 1000.0 / (*n).max(1) as f64
            );
        }
        let busy = store.busy().as_secs_f64();
        println!("  keychain busy:                 {busy:.2} s with a call in flight (the daemon serves one at a time: a second floor)");
        println!(
            "  wall / max(minimum, busy):     {:.2}×",
            wall.as_secs_f64() / minimum.max(busy).max(1e-9)
        );
    }
    if let Some(cpu) = cpu {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        println!(
            "  CPU during the run:            {cpu:.2} s of {:.2} s available on {cores} cores (Camward and the {cameras} simulated cameras together)",
            wall.as_secs_f64() * cores as f64
        );
        if let Some((busy, steal)) = machine {
            println!(
                "  CPU of the whole machine:      {busy:.2} s busy (with the keychain daemon, the bus and anything else running), {steal:.2} s stolen by the hypervisor"
            );
        }
    }
    rt.block_on(fleet.shutdown());
    Some(Round {
        wall: wall.as_secs_f64(),
        ratio: wall.as_secs_f64() / minimum.max(1e-9),
        cpu,
        machine,
    })
}
