//! Secrets at rest. Only this crate touches them (ARCHITECTURE.md, invariants).
//!
//! - [`Sensitive`] wraps a secret so it prints `<redacted>` and refuses to serialize.
//! - [`SecretStore`] is the small trait the rest of Camward uses; [`Keychain`] is the real one, the OS
//!   keychain through `keyring` (Secret Service on Linux, Keychain on macOS, Credential Manager on
//!   Windows). A memory store exists only for unit tests.
//! - [`Inventory`] is the SQLite file of sites, cameras and the hash-chained, append-only audit
//!   trail. It holds no secret, only [`CredentialKey`] references.
//! - [`CredentialLedger`] changes passwords write-ahead (pending → current → previous) so that a
//!   crash at any step is recoverable with [`CredentialLedger::resolve`].
//! - [`escrow`] seals a site's credentials with a passphrase for hand-over to its owner.
pub mod escrow;
mod group_commit;
pub mod inventory;
pub mod ledger;
#[cfg(target_os = "linux")]
mod secret_service;
pub mod sensitive;
pub mod store;

pub use escrow::{import_escrow, EscrowError};
pub use inventory::{
    default_db_path, os_user, AuditChain, AuditEntry, AuditRecord, CameraRecord, CertificateRecord,
    ChainBreak, Clock, HardeningRun, HttpsAccess, Inventory, InventoryError, NewHardeningRun,
    RunKind, SystemClock,
};
pub use ledger::{
    ChangeRecord, CredentialLedger, LedgerError, PendingChange, Phase, Resolution, ResolveError,
};
pub use sensitive::Sensitive;
pub use store::{CredentialKey, Keychain, MemoryStore, SecretStore, VaultError};
