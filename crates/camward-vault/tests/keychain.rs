//! The real keychain: Secret Service on Linux (a `gnome-keyring-daemon` under `dbus-run-session`,
//! started by `scripts/test.sh`). Outside CI, with no Secret Service on the bus, the test says why it
//! skips; in CI (`CI` set) a missing keychain is a failure.
use camward_vault::{CredentialKey, Keychain, SecretStore, Sensitive, VaultError};

fn keychain_or_skip() -> Option<Keychain> {
    let kc = Keychain::with_service(format!("org.camward.test.{}", std::process::id()));
    let probe = CredentialKey::new("probe", "probe");
    match kc.get(&probe) {
        Ok(_) => Some(kc),
        Err(VaultError::KeychainUnavailable(why)) if std::env::var_os("CI").is_none() => {
            eprintln!("SKIPPED: no Secret Service keychain on this session bus ({why}); run ./scripts/test.sh");
            None
        }
        Err(e) => panic!("keychain unusable: {e}"),
    }
}

#[test]
fn secret_round_trips_through_the_os_keychain() {
    let Some(kc) = keychain_or_skip() else { return };
    let key = CredentialKey::new("mac:02:00:00:00:00:01", "admin");
    let secret = Sensitive::new(String::from("Kx9!vRt2#pLm-Q7"));
    kc.set(&key, &secret).unwrap();
    // A second handle (as another process would) reads the same entry from the daemon.
    let again = Keychain::with_service(format!("org.camward.test.{}", std::process::id()));
    assert_eq!(again.get(&key).unwrap().unwrap().expose(), secret.expose());
    kc.set(&key, &Sensitive::new(String::from("replaced-Secret-8")))
        .unwrap();
    assert_eq!(kc.get(&key).unwrap().unwrap().expose(), "replaced-Secret-8");
    kc.delete(&key).unwrap();
    assert!(kc.get(&key).unwrap().is_none());
    kc.delete(&key).unwrap();
}

/// Every byte SQLite wrote for the inventory at `db`: the database, its WAL and shared-memory files.
fn sqlite_bytes(db: &std::path::Path) -> Vec<u8> {
    let mut all = Vec::new();
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        if let Ok(bytes) = std::fs::read(&p) {
            all.extend(bytes);
        }
    }
    all
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn write_ahead_rotation_and_resume_through_the_os_keychain_and_a_sqlite_file() {
    use std::sync::Arc;

    use camward_vault::{AuditChain, CredentialLedger, Inventory, Resolution};

    let Some(kc) = keychain_or_skip() else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("camward.sqlite3");
    let key = CredentialKey::new(
        format!("mac:02:00:00:00:{:02x}:02", std::process::id() % 256),
        "admin",
    );
    let old = Sensitive::new(String::from("Factory-Old-Pass-71"));
    let new = Sensitive::new(String::from("Rotated-New-Pass-72!"));
    let newer = Sensitive::new(String::from("Resumed-Newer-Pass-73?"));

    // A full rotation: begin → (camera takes it) → promote → (old refused) → retire.
    {
        let inv = Inventory::open(&db).unwrap();
        let ledger = CredentialLedger::new(Arc::new(kc.clone()), &inv);
        ledger.record_current(&key, &old).unwrap();
        let change = ledger.begin_change(&key, &new).unwrap();
        assert_eq!(ledger.pending().unwrap(), vec![key.clone()]);
        change.promote().unwrap();
        assert_eq!(
            ledger.previous(&key).unwrap().unwrap().expose(),
            old.expose()
        );
        ledger.retire_previous(&key).unwrap();
        assert!(ledger.previous(&key).unwrap().is_none());
    }
    // Another process (a fresh keychain handle) finds the new password in the keychain, in the
    // entry the inventory names as current: its own generation, not a rewritten old entry.
    let reader = Keychain::with_service(format!("org.camward.test.{}", std::process::id()));
    let account = {
        let inv = Inventory::open(&db).unwrap();
        CredentialLedger::new(Arc::new(reader.clone()), &inv)
            .current_account(&key)
            .unwrap()
            .unwrap()
    };
    assert_ne!(account, key);
    assert_eq!(
        reader.get(&account).unwrap().unwrap().expose(),
        new.expose()
    );
    assert!(
        reader.get(&key).unwrap().is_none(),
        "nothing under the bare name"
    );

    // Interrupted: the app stops after begin_change and after the camera took the password.
    let camera_has = newer.expose().clone();
    {
        let inv = Inventory::open(&db).unwrap();
        let ledger = CredentialLedger::new(Arc::new(kc.clone()), &inv);
        let change = ledger.begin_change(&key, &newer).unwrap();
        drop(change);
    }
    // Restart: resume from the SQLite file and the keychain alone.
    {
        let inv = Inventory::open(&db).unwrap();
        let ledger = CredentialLedger::new(Arc::new(kc.clone()), &inv);
        assert_eq!(ledger.pending().unwrap(), vec![key.clone()]);
        let r = ledger
            .resolve(&key, |p| {
                Ok::<_, std::convert::Infallible>(*p.expose() == camera_has)
            })
            .unwrap();
        assert_eq!(r, Resolution::Promoted);
        assert!(ledger.pending().unwrap().is_empty());
        assert_eq!(
            ledger.current(&key).unwrap().unwrap().expose(),
            newer.expose()
        );
        assert_eq!(
            ledger.previous(&key).unwrap().unwrap().expose(),
            new.expose()
        );
        ledger.retire_previous(&key).unwrap();
        assert!(
            matches!(inv.verify_audit_chain().unwrap(), AuditChain::Intact { rows, .. } if rows >= 7)
        );
    }

    // No secret ever reached SQLite, while the camera key (the reference) did.
    let bytes = sqlite_bytes(&db);
    assert!(
        contains(&bytes, &key.camera),
        "the grep itself must find what is there"
    );
    for secret in [&old, &new, &newer] {
        assert!(
            !contains(&bytes, secret.expose()),
            "a secret is in the SQLite file"
        );
    }

    let ledger = CredentialLedger::new(Arc::new(kc.clone()), &Inventory::open(&db).unwrap());
    let accounts = ledger.keychain_accounts(&key).unwrap();
    assert!(!accounts.is_empty());
    ledger.forget(&key).unwrap();
    for account in accounts {
        assert!(kc.get(&account).unwrap().is_none(), "{account} kept");
    }
}

#[test]
fn tampering_with_the_audit_file_is_detected() {
    use camward_vault::{AuditChain, AuditEntry, ChainBreak, Inventory};

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("camward.sqlite3");
    {
        let inv = Inventory::open(&db).unwrap();
        for (action, result) in [
            ("control.apply", "ok"),
            ("credential.promoted", "ok"),
            ("control.verify", "failed"),
        ] {
            inv.append_audit(&AuditEntry::camera(
                "mac:02:00:00:00:00:09",
                action,
                "",
                result,
            ))
            .unwrap();
        }
        assert!(matches!(
            inv.verify_audit_chain().unwrap(),
            AuditChain::Intact { rows: 3, .. }
        ));
    }
    // Someone with the file hides the failed verification: the triggers stop a plain UPDATE ...
    let raw = rusqlite::Connection::open(&db).unwrap();
    assert!(raw
        .execute("UPDATE audit_log SET result = 'ok' WHERE seq = 3", [])
        .is_err());
    // ... so they drop them first.
    raw.execute_batch(
        "DROP TRIGGER audit_log_no_update; UPDATE audit_log SET result = 'ok' WHERE seq = 3;",
    )
    .unwrap();
    drop(raw);
    let inv = Inventory::open(&db).unwrap();
    assert_eq!(
        inv.verify_audit_chain().unwrap(),
        AuditChain::Broken {
            seq: 3,
            reason: ChainBreak::ContentChanged
        }
    );
}

/// Entries written by earlier Camward versions went through keyring's stock Secret Service
/// credential. The keychain's own credential on Linux (one kept session) must find, replace and
/// delete those, and write entries the stock credential reads.
#[cfg(target_os = "linux")]
#[test]
fn entries_of_keyrings_stock_credential_and_of_camwards_are_one_and_the_same() {
    let Some(kc) = keychain_or_skip() else { return };
    let service = format!("org.camward.test.{}", std::process::id());
    let key = CredentialKey::new("mac:02:00:00:00:00:0c", "admin");
    let stock = keyring::Entry::new(&service, &key.account()).unwrap();

    stock.set_password("Written-By-Stock-1").unwrap();
    assert_eq!(
        kc.get(&key).unwrap().unwrap().expose(),
        "Written-By-Stock-1"
    );
    kc.set(&key, &Sensitive::new("Replaced-By-Camward-2".to_owned()))
        .unwrap();
    assert_eq!(stock.get_password().unwrap(), "Replaced-By-Camward-2");
    kc.delete(&key).unwrap();
    assert!(matches!(stock.get_password(), Err(keyring::Error::NoEntry)));

    kc.set(&key, &Sensitive::new("Written-By-Camward-3".to_owned()))
        .unwrap();
    assert_eq!(stock.get_password().unwrap(), "Written-By-Camward-3");
    stock.delete_credential().unwrap();
    assert!(kc.get(&key).unwrap().is_none());
}

/// The real keychain with the accounts written to it noted (names only), passing every call on.
#[derive(Debug)]
struct Noting {
    keychain: Keychain,
    written: std::sync::Mutex<Vec<String>>,
}

impl SecretStore for Noting {
    fn get(&self, key: &CredentialKey) -> Result<Option<Sensitive<String>>, VaultError> {
        self.keychain.get(key)
    }
    fn set(&self, key: &CredentialKey, secret: &Sensitive<String>) -> Result<(), VaultError> {
        self.keychain.set(key, secret)?;
        self.written
            .lock()
            .expect("the list of written accounts")
            .push(key.account());
        Ok(())
    }
    fn delete(&self, key: &CredentialKey) -> Result<(), VaultError> {
        self.keychain.delete(key)
    }
}

/// Twenty cameras store their new passwords at the same moment through gnome-keyring: those
/// that arrive while a write is in progress go to the keychain together, in a journal entry; once
/// settled, each password is in an entry of its own that keyring's stock credential reads, and
/// no journal entry is left.
#[test]
fn passwords_stored_at_once_go_through_a_journal_and_end_in_entries_of_their_own() {
    use std::sync::Arc;

    use camward_vault::{CredentialLedger, Inventory};

    let Some(kc) = keychain_or_skip() else { return };
    let service = format!("org.camward.test.{}", std::process::id());
    let dir = tempfile::tempdir().unwrap();
    let inventory = Inventory::open(dir.path().join("camward.sqlite3")).unwrap();
    let store = Arc::new(Noting {
        keychain: kc,
        written: std::sync::Mutex::new(Vec::new()),
    });
    let ledger = CredentialLedger::new(store.clone(), &inventory);
    let key = |i: usize| CredentialKey::new(format!("mac:02:00:00:00:02:{i:02x}"), "admin");
    let password = |i: usize| format!("Journal-Pass-{i:02}-xQ7!");
    let start = Arc::new(std::sync::Barrier::new(20));
    let threads: Vec<_> = (0..20)
        .map(|i| {
            let (ledger, start) = (ledger.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                let change = ledger
                    .begin_change(&key(i), &Sensitive::new(password(i)))
                    .unwrap();
                change.promote().unwrap();
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    ledger.settle_journals().unwrap();

    let written = store.written.lock().unwrap().clone();
    let journals: Vec<&String> = written
        .iter()
        .filter(|a| a.starts_with(camward_vault::ledger::JOURNAL_CAMERA))
        .collect();
    assert!(
        !journals.is_empty() && journals.len() < 19,
        "twenty writes at once are grouped: {written:?}"
    );
    for journal in &journals {
        let stock = keyring::Entry::new(&service, journal).unwrap();
        assert!(
            matches!(stock.get_password(), Err(keyring::Error::NoEntry)),
            "{journal} is deleted once settled"
        );
    }
    for i in 0..20 {
        let account = ledger.current_account(&key(i)).unwrap().unwrap();
        let stock = keyring::Entry::new(&service, &account.account()).unwrap();
        assert_eq!(stock.get_password().unwrap(), password(i), "camera {i}");
    }
    for i in 0..20 {
        ledger.forget(&key(i)).unwrap();
    }
}

/// The process keeps one Secret Service session. When the keychain daemon stops and the bus starts
/// it again, that session is gone; the next call must be answered all the same, in a new session.
/// The daemon is stopped for real, so this runs in a D-Bus session and keychain of its own
/// (`scripts/lib.sh` `keychain_session`), never in the one the other tests share: the test binary
/// runs itself there with `CAMWARD_KEYCHAIN_RESTART_CHILD` set.
#[cfg(target_os = "linux")]
#[test]
fn a_keychain_daemon_started_again_by_the_bus_is_reached_again_by_the_same_process() {
    const CHILD: &str = "CAMWARD_KEYCHAIN_RESTART_CHILD";
    const NAME: &str =
        "a_keychain_daemon_started_again_by_the_bus_is_reached_again_by_the_same_process";
    if std::env::var_os(CHILD).is_some() {
        return restarted_daemon_child();
    }
    let missing: Vec<&str> = ["dbus-run-session", "gnome-keyring-daemon"]
        .into_iter()
        .filter(|tool| {
            !std::process::Command::new("sh")
                .args(["-c", &format!("command -v {tool}")])
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .collect();
    if !missing.is_empty() {
        assert!(std::env::var_os("CI").is_none(), "CI must have {missing:?}");
        eprintln!("SKIPPED: {missing:?} not installed; run ./scripts/test.sh");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let lib = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/lib.sh");
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(r#"source "$0"; trap - EXIT; keychain_session "$1" "$2" --exact "$3" --nocapture --test-threads=1"#)
        .arg(lib)
        .arg(dir.path())
        .arg(std::env::current_exe().unwrap())
        .arg(NAME)
        .env(CHILD, "1")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "the child failed:\n{text}");
    assert!(text.contains("1 passed"), "the child ran no test:\n{text}");
    let starts = std::fs::read_to_string(dir.path().join("starts")).unwrap();
    assert_eq!(
        starts.lines().count(),
        2,
        "the daemon started, was stopped and started again by the bus:\n{text}"
    );
}

#[cfg(target_os = "linux")]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.
fn restarted_daemon_child() {
    let kc = Keychain::with_service("org.camward.test.restart");
    let key = CredentialKey::new("mac:02:00:00:00:00:0d", "admin");
    kc.set(&key, &Sensitive::new("Kept-Across-Restart-4".to_owned()))
        .unwrap();

    // Who serves the Secret Service on this bus, and stop it for real.
    let bus = dbus::blocking::Connection::new_session().unwrap();
    let proxy = bus.with_proxy(
        "org.freedesktop.DBus",
        "/org/freedesktop/DBus",
        std::time::Duration::from_secs(5),
    );
    let (pid,): (u32,) = proxy
        .method_call(
            "org.freedesktop.DBus",
            "GetConnectionUnixProcessID",
            ("org.freedesktop.secrets",),
        )
        .unwrap();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let gone = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(50));
        !std::path::Path::new(&format!("/proc/{pid}")).exists()
    });
    assert!(gone, "the keychain daemon {pid} did not stop");

    // The same process, the same Keychain: read, write and delete are answered by the new daemon.
    assert_eq!(
        kc.get(&key).unwrap().unwrap().expose(),
        "Kept-Across-Restart-4"
    );
    let other = CredentialKey::new("mac:02:00:00:00:00:0e", "admin");
    kc.set(&other, &Sensitive::new("After-Restart-5".to_owned()))
        .unwrap();
    assert_eq!(kc.get(&other).unwrap().unwrap().expose(), "After-Restart-5");
    kc.delete(&key).unwrap();
    kc.delete(&other).unwrap();
    assert!(kc.get(&key).unwrap().is_none());
}
