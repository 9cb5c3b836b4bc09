//! What one call to the OS keychain costs, by kind, through `Keychain` (keyring → Secret Service).
//!
//! The commissioning benchmark shows the keychain as the floor under a batch's wall time: the
//! keychain daemon serves one call at a time, so calls of different cameras queue. This
//! benchmark says which calls are dear. keyring's stock Secret Service credential opened a new
//! D-Bus connection and an encrypted (Diffie-Hellman) session for every call (two for a write);
//! on 100 calls of each kind against gnome-keyring-daemon 42 that made a read 12–13.5 ms, a new
//! entry 34 ms and a delete 18 ms. `Keychain` on Linux keeps one session for the process
//! (`src/secret_service.rs`): a read is then about 1 ms, a new entry 8.6 ms (the daemon
//! rewrites its keyring file) and a delete 4.8 ms.
//!
//! `dbus-run-session -- sh -c 'printf pw | gnome-keyring-daemon --unlock --components=secrets;
//! cargo bench -p camward-vault --bench keychain_costs -- [N]'`
#![allow(clippy::unwrap_used)] // Bench code: a failed unwrap is a failed run.

use std::time::Instant;

use camward_vault::{CredentialKey, Keychain, SecretStore, Sensitive, VaultError};

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(50);
    let service = format!("org.camward.bench.keychain.{}", std::process::id());
    let keychain = Keychain::with_service(&service);
    match keychain.get(&CredentialKey::new("probe", "probe")) {
        Ok(_) => {}
        Err(VaultError::KeychainUnavailable(why)) => {
            println!("SKIPPED: no Secret Service keychain on this session bus ({why})");
            return;
        }
        Err(e) => panic!("keychain unusable: {e}"),
    }
    let keys: Vec<CredentialKey> = (0..n)
        .map(|i| CredentialKey::new(format!("host:192.0.2.{i}:80"), "admin"))
        .collect();
    let secret = Sensitive::new("Bench-Only-Secret-7f3a".to_owned());
    let time = |label: &str, f: &mut dyn FnMut(&CredentialKey)| {
        let started = Instant::now();
        for key in &keys {
            f(key);
        }
        let per = started.elapsed().as_secs_f64() * 1000.0 / n as f64;
        println!("  {label:<28} {per:7.2} ms per call");
    };
    println!("keychain costs: {n} calls of each kind, service {service}");
    time("get (no such entry)", &mut |k| {
        assert!(keychain.get(k).unwrap().is_none());
    });
    time("set (new entry)", &mut |k| {
        keychain.set(k, &secret).unwrap()
    });
    time("get (existing entry)", &mut |k| {
        assert!(keychain.get(k).unwrap().is_some());
    });
    time("set (replace existing)", &mut |k| {
        keychain.set(k, &secret).unwrap()
    });
    time("delete (existing entry)", &mut |k| {
        keychain.delete(k).unwrap()
    });
    time("delete (no such entry)", &mut |k| {
        keychain.delete(k).unwrap()
    });
}
