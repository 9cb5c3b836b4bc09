//! Where secrets live: the OS keychain, behind a small trait.
use std::fmt;

use crate::Sensitive;

/// The keychain "service" under which Camward files its entries.
pub const KEYCHAIN_SERVICE: &str = "org.camward.credentials";

/// Names one secret: a camera (its stable key — MAC, serial or address) and a user on it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct CredentialKey {
    /// Stable identity of the camera (e.g. `mac:00:11:22:33:44:55` or `host:192.0.2.10`).
    pub camera: String,
    /// The user name on the camera.
    pub user: String,
}

impl CredentialKey {
    /// A key for `user` on `camera`.
    pub fn new(camera: impl Into<String>, user: impl Into<String>) -> Self {
        Self {
            camera: camera.into(),
            user: user.into(),
        }
    }

    /// The keychain account string. It names the camera and user, never the secret.
    pub fn account(&self) -> String {
        format!("{}|{}", self.camera, self.user)
    }
}

impl fmt::Display for CredentialKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} on {}", self.user, self.camera)
    }
}

/// Why a secret could not be read or written.
#[derive(Clone, Debug, thiserror::Error)]
pub enum VaultError {
    /// The OS keychain is missing, locked or refused (e.g. no Secret Service on the session bus).
    #[error("the OS keychain is unavailable: {0}")]
    KeychainUnavailable(String),
    /// Any other keychain failure.
    #[error("keychain error for {key}: {reason}")]
    Keychain {
        /// The entry concerned.
        key: String,
        /// What the keychain said (never contains the secret).
        reason: String,
    },
}

impl VaultError {
    /// Stable code for the UI and CLI.
    pub fn code(&self) -> &'static str {
        match self {
            VaultError::KeychainUnavailable(_) => "keychain_unavailable",
            VaultError::Keychain { .. } => "keychain_error",
        }
    }
}

/// The secret store the rest of Camward uses.
pub trait SecretStore: Send + Sync + fmt::Debug {
    /// Reads a secret; `Ok(None)` when there is none.
    fn get(&self, key: &CredentialKey) -> Result<Option<Sensitive<String>>, VaultError>;
    /// Stores (or replaces) a secret.
    fn set(&self, key: &CredentialKey, secret: &Sensitive<String>) -> Result<(), VaultError>;
    /// Removes a secret; removing a missing one is not an error.
    fn delete(&self, key: &CredentialKey) -> Result<(), VaultError>;
}

/// The OS keychain via `keyring`.
#[derive(Clone, Debug)]
pub struct Keychain {
    service: String,
}

impl Default for Keychain {
    fn default() -> Self {
        Self {
            service: KEYCHAIN_SERVICE.to_owned(),
        }
    }
}

impl Keychain {
    /// A keychain under a custom service name (tests use their own so they never touch real entries).
    pub fn with_service(service: impl Into<String>) -> Self {
        Self {
            service: service.into(),
        }
    }

    /// The keyring entry for `key`. On Linux its credential is keyring's Secret Service item
    /// reached over the process's one kept session (`secret_service.rs`); elsewhere it is
    /// keyring's native credential.
    fn entry(&self, key: &CredentialKey) -> Result<keyring::Entry, VaultError> {
        #[cfg(target_os = "linux")]
        {
            Ok(keyring::Entry::new_with_credential(
                crate::secret_service::credential(&self.service, &key.account()),
            ))
        }
        #[cfg(not(target_os = "linux"))]
        {
            keyring::Entry::new(&self.service, &key.account()).map_err(|e| map_err(key, e))
        }
    }
}

fn map_err(key: &CredentialKey, e: keyring::Error) -> VaultError {
    match e {
        keyring::Error::PlatformFailure(inner) | keyring::Error::NoStorageAccess(inner) => {
            VaultError::KeychainUnavailable(inner.to_string())
        }
        other => VaultError::Keychain {
            key: key.to_string(),
            reason: other.to_string(),
        },
    }
}

/// Runs a blocking keychain call. On a multi-threaded tokio runtime the worker hands its other
/// tasks to the rest of the pool first (`block_in_place`), so a slow Secret Service call (a write
/// makes the daemon rewrite its keyring file; an unlock may wait for a person) never stalls the
/// cameras being worked on.
pub(crate) fn blocking<T>(call: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(call)
        }
        _ => call(),
    }
}

impl SecretStore for Keychain {
    fn get(&self, key: &CredentialKey) -> Result<Option<Sensitive<String>>, VaultError> {
        let entry = self.entry(key)?;
        match blocking(|| entry.get_password()) {
            Ok(p) => Ok(Some(Sensitive::new(p))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_err(key, e)),
        }
    }

    fn set(&self, key: &CredentialKey, secret: &Sensitive<String>) -> Result<(), VaultError> {
        let entry = self.entry(key)?;
        blocking(|| entry.set_password(secret.expose())).map_err(|e| map_err(key, e))?;
        tracing::info!(camera = %key.camera, user = %key.user, "secret stored in the keychain");
        Ok(())
    }

    fn delete(&self, key: &CredentialKey) -> Result<(), VaultError> {
        let entry = self.entry(key)?;
        match blocking(|| entry.delete_credential()) {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(map_err(key, e)),
        }
    }
}

/// Secrets kept in this process's memory only, never on disk: for the desktop's demo site
/// (simulated cameras must not reach the OS keychain), benchmarks that measure without the
/// keychain, and unit tests. Never for a real site: its secrets would die with the process.
#[derive(Default)]
pub struct MemoryStore(std::sync::Mutex<std::collections::HashMap<String, Sensitive<String>>>);

impl MemoryStore {
    fn map(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, Sensitive<String>>> {
        // A panic while holding the lock leaves the map itself intact.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl MemoryStore {
    /// The account names it holds entries for, sorted (names only, never a secret).
    pub fn accounts(&self) -> Vec<String> {
        let mut names: Vec<String> = self.map().keys().cloned().collect();
        names.sort();
        names
    }
}

impl fmt::Debug for MemoryStore {
    // It holds secrets, so `Debug` shows only how many.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MemoryStore({} secrets)", self.map().len())
    }
}

impl SecretStore for MemoryStore {
    fn get(&self, key: &CredentialKey) -> Result<Option<Sensitive<String>>, VaultError> {
        Ok(self
            .map()
            .get(&key.account())
            .map(|secret| Sensitive::new(secret.expose().clone())))
    }
    fn set(&self, key: &CredentialKey, secret: &Sensitive<String>) -> Result<(), VaultError> {
        self.map()
            .insert(key.account(), Sensitive::new(secret.expose().clone()));
        Ok(())
    }
    fn delete(&self, key: &CredentialKey) -> Result<(), VaultError> {
        self.map().remove(&key.account());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_names_camera_and_user_only() {
        let k = CredentialKey::new("host:192.0.2.10", "admin");
        assert_eq!(k.account(), "host:192.0.2.10|admin");
        assert_eq!(k.to_string(), "admin on host:192.0.2.10");
    }

    #[test]
    fn memory_store_round_trip() {
        let s = MemoryStore::default();
        let k = CredentialKey::new("cam", "admin");
        assert!(s.get(&k).unwrap().is_none());
        s.set(&k, &Sensitive::new("A-long-Secret-42".into()))
            .unwrap();
        assert_eq!(s.get(&k).unwrap().unwrap().expose(), "A-long-Secret-42");
        s.delete(&k).unwrap();
        assert!(s.get(&k).unwrap().is_none());
    }
}
