//! Secrets at rest. Only this crate touches them (ARCHITECTURE.md, invariants).
//!
//! - [`Sensitive`] wraps a secret so it prints `<redacted>` and refuses to serialize.
//! - [`SecretStore`] is the small trait the rest of Camward uses; [`Keychain`] is the real one, the OS
//!   keychain through `keyring` (Secret Service on Linux, Keychain on macOS, Credential Manager on
//!   Windows). A memory store exists only for unit tests.
pub mod sensitive;
pub mod store;

pub use sensitive::Sensitive;
pub use store::{CredentialKey, Keychain, SecretStore, VaultError};
