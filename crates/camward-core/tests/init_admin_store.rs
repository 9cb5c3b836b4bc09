//! `init_admin` stores the new password while it reads the camera's factory state once more
//! (`first_boot::create_first_admin_once_stored`): the keychain write costs the camera no round
//! trip of its own, yet the password reaches the camera only once the keychain holds it, and a
//! keychain that refuses it means nothing is sent. camsim on 127.0.0.1, a keychain that is slow
//! (or refuses) and looks at the camera while it writes.
use std::sync::{Arc, Mutex};
use std::time::Duration;

use camsim::{Flavour, Fleet, FleetConfig, InitialState, SimCamera};
use camward_core::credentials::{init_admin, InitAdminStatus, NewPassword, Vault};
use camward_vault::{
    CredentialKey, CredentialLedger, Inventory, MemoryStore, SecretStore, Sensitive, VaultError,
};

/// What the keychain saw of the camera during one write of a new password.
#[derive(Debug, Clone, Copy)]
struct DuringWrite {
    /// Requests the camera received while the write was in progress.
    requests_meanwhile: u64,
    /// Whether the camera had an administrator when the write ended.
    admin_when_done: bool,
}

/// A keychain that takes `WRITE_TIME` for every write and notes what the camera did meanwhile.
#[derive(Debug)]
struct Watching {
    inner: MemoryStore,
    camera: SimCamera,
    refuse: bool,
    writes: Mutex<Vec<DuringWrite>>,
}

const WRITE_TIME: Duration = Duration::from_millis(300);

impl SecretStore for Watching {
    fn get(&self, key: &CredentialKey) -> Result<Option<Sensitive<String>>, VaultError> {
        self.inner.get(key)
    }
    fn set(&self, key: &CredentialKey, secret: &Sensitive<String>) -> Result<(), VaultError> {
        let before = self.camera.requests();
        std::thread::sleep(WRITE_TIME);
        self.writes.lock().expect("lock").push(DuringWrite {
            requests_meanwhile: self.camera.requests() - before,
            admin_when_done: !self.camera.state().users.is_empty(),
        });
        if self.refuse {
            return Err(VaultError::KeychainUnavailable(
                "refused by the test".into(),
            ));
        }
        self.inner.set(key, secret)
    }
    fn delete(&self, key: &CredentialKey) -> Result<(), VaultError> {
        self.inner.delete(key)
    }
}

async fn factory_camera() -> Fleet {
    Fleet::start(FleetConfig {
        cameras: 1,
        flavour: Flavour::Generic,
        state: InitialState::Factory,
        ..FleetConfig::default()
    })
    .await
    .expect("fleet on loopback")
}

/// One factory-fresh camera, a watching keychain (refusing every write when `refuse`) and a
/// vault over it.
async fn lab(refuse: bool) -> (Fleet, SimCamera, Arc<Watching>, Vault) {
    let fleet = factory_camera().await;
    let camera = fleet.cameras()[0].clone();
    let store = Arc::new(Watching {
        inner: MemoryStore::default(),
        camera: camera.clone(),
        refuse,
        writes: Mutex::new(Vec::new()),
    });
    let inventory = Inventory::open_in_memory().expect("inventory");
    let ledger = CredentialLedger::new(store.clone(), &inventory);
    (fleet, camera, store, Vault { ledger, inventory })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_factory_state_is_read_during_the_keychain_write_and_the_password_is_sent_after_it() {
    let (fleet, camera, store, vault) = lab(false).await;
    let url = camera.device_url();

    let outcome = init_admin(&vault, &url, "admin", &NewPassword::Generate)
        .await
        .expect("first administrator created");
    assert_eq!(outcome.status, InitAdminStatus::Created);

    let writes = store.writes.lock().expect("lock").clone();
    let first = writes.first().expect("the new password was written");
    // The factory state (Hikvision, Axis, then ONVIF questions) was read while the keychain wrote.
    assert!(
        first.requests_meanwhile >= 2,
        "the camera got {} requests during the write; the detection should overlap it",
        first.requests_meanwhile
    );
    // But the administrator was not created until the write had returned.
    assert!(
        !first.admin_when_done,
        "the camera had its administrator before the keychain held the password"
    );
    let users = camera.state().users;
    assert_eq!(users.len(), 1, "{users:?}");
    let key = CredentialKey::new(outcome.camera.clone(), "admin");
    assert_eq!(
        vault
            .ledger
            .current(&key)
            .expect("read")
            .map(|s| s.expose().clone()),
        Some(outcome.password.expose().clone()),
        "the keychain's current password is the one the camera took"
    );
    fleet.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keychain_that_refuses_the_new_password_means_nothing_is_sent() {
    let (fleet, camera, _store, vault) = lab(true).await;
    let url = camera.device_url();

    let e = init_admin(&vault, &url, "admin", &NewPassword::Generate)
        .await
        .expect_err("the keychain refused");
    assert_eq!(e.code, "keychain_unavailable", "{e:?}");
    assert_eq!(e.step, "store pending password", "{e:?}");
    assert_eq!(e.camera, url);
    assert!(
        !e.message.contains("kept as pending"),
        "nothing was stored, so nothing is pending: {}",
        e.message
    );
    assert!(
        camera.state().users.is_empty(),
        "the camera got an administrator whose password the keychain refused"
    );
    assert!(
        vault.ledger.pending().expect("read").is_empty(),
        "the refused change was not taken back"
    );
    // The camera is still factory-fresh: a second try with a working keychain would create it.
    let state = camward_core::first_boot::detect(&url)
        .await
        .expect("detect");
    assert!(state.factory_fresh);
    fleet.shutdown().await;
}
