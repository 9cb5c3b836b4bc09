//! Shared by the credential-lifecycle tests: a private inventory file and keychain service per
//! test, the `camward` binary run against them, and camsim fleets on 127.0.0.1.
#![allow(clippy::unwrap_used, dead_code)] // Test code: a failed unwrap is a failed test.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use camsim::{Fleet, FleetConfig, InitialState};

pub mod certs;
pub mod lab;
pub mod soak;
use camward_vault::{CredentialKey, Keychain, SecretStore, VaultError};

/// The administrator password camsim's configured cameras start with.
pub const FACTORY_ADMIN_PASSWORD: &str = "Vq7#mT2x-Lp9!zR4";

/// A private vault: its own SQLite file and keychain service, so no test touches a user's data.
pub struct TestVault {
    pub dir: tempfile::TempDir,
    pub service: String,
}

impl TestVault {
    /// A fresh vault, or `None` (with the reason printed) when there is no Secret Service on the
    /// session bus outside CI. In CI (`CI` set) a missing keychain fails the test.
    pub fn new_or_skip(name: &str) -> Option<Self> {
        let service = format!("org.camward.test.cli.{name}.{}", std::process::id());
        match Keychain::with_service(&service).get(&CredentialKey::new("probe", "probe")) {
            Ok(_) => {}
            Err(VaultError::KeychainUnavailable(why)) if std::env::var_os("CI").is_none() => {
                eprintln!("SKIPPED: no Secret Service keychain on this session bus ({why}); run under dbus-run-session with gnome-keyring-daemon");
                return None;
            }
            Err(e) => panic!("keychain unusable: {e}"),
        }
        Some(Self {
            dir: tempfile::tempdir().unwrap(),
            service,
        })
    }

    pub fn db(&self) -> PathBuf {
        self.dir.path().join("camward.sqlite3")
    }

    pub fn keychain(&self) -> Keychain {
        Keychain::with_service(&self.service)
    }

    /// The current password the vault holds for `user` on the camera at `url`.
    /// Read from the keychain itself, under the account the inventory names as current.
    pub fn current(&self, url: &str, user: &str) -> Option<String> {
        let account = self.current_account(url, user)?;
        self.keychain()
            .get(&account)
            .unwrap()
            .map(|s| s.expose().clone())
    }

    /// The keychain entry the inventory names as holding the current password of `user` on the
    /// camera at `url`.
    pub fn current_account(&self, url: &str, user: &str) -> Option<CredentialKey> {
        let inventory = camward_vault::Inventory::open(self.db()).unwrap();
        camward_vault::CredentialLedger::new(std::sync::Arc::new(self.keychain()), &inventory)
            .current_account(&CredentialKey::new(camward_core::camera_key(url), user))
            .unwrap()
    }

    /// A `camward` command with this vault's environment and the given log level.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_camward"));
        cmd.args(args)
            .env("CAMWARD_DB", self.db())
            .env("CAMWARD_KEYCHAIN_SERVICE", &self.service)
            .env("CAMWARD_LOG", "debug");
        cmd
    }

    /// Runs `camward` to completion, feeding `stdin`.
    pub fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        run_to_end(self.command(args), stdin)
    }

    /// Stores `password` for `user` on the camera at `url` with `camward credentials set`
    /// (password on stdin), and checks that it worked.
    pub fn set_password(&self, url: &str, user: &str, password: &str) {
        let out = self.run(
            &[
                "credentials",
                "set",
                url,
                "--user",
                user,
                "--password-stdin",
            ],
            Some(&format!("{password}\n")),
        );
        assert!(
            out.status.success(),
            "credentials set: {}",
            text(&out.stderr)
        );
    }

    /// Every byte SQLite wrote: the database, its WAL and shared-memory files.
    pub fn sqlite_bytes(&self) -> Vec<u8> {
        sqlite_bytes(&self.db())
    }
}

impl Drop for TestVault {
    fn drop(&mut self) {
        // Leave no entries behind in the test keychain: forget every credential the inventory or
        // the ledger knows, in every slot.
        let Ok(inventory) = camward_vault::Inventory::open(self.db()) else {
            return;
        };
        let store = std::sync::Arc::new(self.keychain());
        let ledger = camward_vault::CredentialLedger::new(store, &inventory);
        let mut keys: Vec<CredentialKey> = inventory
            .cameras(None)
            .unwrap_or_default()
            .into_iter()
            .flat_map(|c| ["admin", "operator1"].map(|u| CredentialKey::new(c.key.clone(), u)))
            .collect();
        keys.extend(ledger.pending().unwrap_or_default());
        for key in keys {
            let _ = ledger.forget(&key);
        }
    }
}

/// Runs `cmd` to completion with `stdin` fed to it (or none), capturing its output.
pub fn run_to_end(mut cmd: Command, stdin: Option<&str>) -> Output {
    let mut child = cmd
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("camward runs");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("stdin piped");
        pipe.write_all(input.as_bytes()).expect("write stdin");
    }
    child.wait_with_output().expect("camward finishes")
}

pub fn sqlite_bytes(db: &Path) -> Vec<u8> {
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

pub fn contains(haystack: &[u8], needle: &str) -> bool {
    !needle.is_empty()
        && haystack
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().expect("runtime")
}

pub fn fleet(
    rt: &tokio::runtime::Runtime,
    cameras: usize,
    state: InitialState,
    latency_ms: u64,
) -> Fleet {
    rt.block_on(Fleet::start(FleetConfig {
        cameras,
        state,
        admin: (state == InitialState::Configured)
            .then(|| ("admin".into(), FACTORY_ADMIN_PASSWORD.into())),
        latency_ms,
        ..FleetConfig::default()
    }))
    .expect("camsim starts")
}

/// The password camsim holds for `user` (what the camera really accepts).
pub fn camera_password(cam: &camsim::SimCamera, user: &str) -> Option<String> {
    cam.state()
        .users
        .iter()
        .find(|u| u.name == user)
        .map(|u| u.password.clone())
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Answers SNTP client requests (RFC 4330 §5) on `socket` with this machine's clock, until the
/// socket fails. A site's NTP server, for tests and benchmarks (on loopback or in the lab).
pub fn serve_ntp(socket: &std::net::UdpSocket) {
    let mut buf = [0u8; 512];
    while let Ok((n, from)) = socket.recv_from(&mut buf) {
        // A client request: version 1–4, mode 3.
        if n < 48 || buf[0] & 0x07 != 3 {
            continue;
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        let secs = (now.as_secs() + 2_208_988_800) as u32;
        let frac = ((u64::from(now.subsec_nanos()) << 32) / 1_000_000_000) as u32;
        let mut stamp = [0u8; 8];
        stamp[..4].copy_from_slice(&secs.to_be_bytes());
        stamp[4..].copy_from_slice(&frac.to_be_bytes());
        let mut reply = [0u8; 48];
        reply[0] = (buf[0] & 0x38) | 0x04; // LI 0, the client's version, mode 4 (server)
        reply[1] = 2; // stratum
        reply[2] = buf[2]; // poll
        reply[3] = 0xec; // precision 2^-20
        reply[12..16].copy_from_slice(b"LOCL");
        reply[16..24].copy_from_slice(&stamp); // reference
        reply[24..32].copy_from_slice(&buf[40..48]); // originate = the client's transmit
        reply[32..40].copy_from_slice(&stamp); // receive
        reply[40..48].copy_from_slice(&stamp); // transmit
        let _ = socket.send_to(&reply, from);
    }
}
