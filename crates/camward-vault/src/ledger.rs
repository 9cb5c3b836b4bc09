//! Write-ahead credentials: a password change that survives a crash at any point.
//!
//! Changing a camera's password is a two-party operation (this laptop and the camera) that can be
//! cut at any moment: the laptop sleeps, the app is killed, the camera reboots. The one outcome that
//! must never happen is a camera whose password exists nowhere. So every secret is written to the
//! keychain *before* anything depends on it, and SQLite records which phase the change is in.
//!
//! ## Slots
//!
//! Each credential has up to three keychain entries (account strings from [`CredentialKey::account`]):
//!
//! | slot | keychain account | holds |
//! |---|---|---|
//! | current | `camera|user` | the password the camera is known to accept (what the rest of Camward reads) |
//! | pending | `camera|user#pending` | the new password, before the camera has confirmed it |
//! | previous | `camera|user#previous` | the password before the last promotion, until retired |
//!
//! SQLite (`credential_changes`) holds only the phase and its times and attempt count, never a secret.
//!
//! ## Phases and the order of writes
//!
//! `K:` is a keychain write, `S:` a SQLite commit. A crash (SIGKILL) can fall between any two lines.
//!
//! ```text
//! begin_change   K: pending := new              -- nothing refers to it yet; harmless if orphaned
//!                S: phase := pending (+ audit)   -- from here, resolve() knows about it
//! (the caller sends `new` to the camera and logs in with it)
//! promote        K: previous := current          -- repeated identically if cut before the commit
//!                S: phase := promoting           -- previous is now known to be secured
//!                K: current := pending           -- only while pending still exists
//!                K: delete pending               -- after current holds it, so it is never lost
//!                S: phase := promoted (+ audit)
//! (the caller checks that the old password no longer works on the camera)
//! retire_previous K: delete previous
//!                S: phase := settled (+ audit)
//! ```
//!
//! [`CredentialLedger::resolve`] finishes whatever a crash interrupted:
//!
//! - `pending`: the new password may or may not have reached the camera. Try it: accepted → promote;
//!   refused → try current: accepted → drop the pending one (the camera kept the old password);
//!   both refused → leave everything as it is and say so ([`Resolution::NoneAccepted`]).
//! - `promoting`: the camera had already accepted the new password (promote is only called after
//!   that), and the old one is secured in `previous`; complete the promotion without the camera.
//!   If `pending` is gone, `current` already holds the new password.
//!
//! [`CredentialLedger::begin_change`] refuses while a change is `pending` or `promoting`, because its
//! first write would replace a pending password that the camera may already have.
use std::fmt;
use std::sync::Arc;

use rusqlite::{params, OptionalExtension, TransactionBehavior};

use crate::escrow::{self, EscrowError};
use crate::inventory::{AuditEntry, Inventory, InventoryError};
use crate::{CredentialKey, SecretStore, Sensitive, VaultError};

/// Why a credential operation failed. Messages name the camera and user, never a secret.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// The keychain failed.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// The inventory database failed.
    #[error(transparent)]
    Inventory(#[from] InventoryError),
    /// A change for this credential is already under way; resolve it first.
    #[error("a password change for {0} is already under way; resolve it first")]
    ChangeInProgress(String),
    /// There is no change for this credential in the phase the operation needs.
    #[error("no password change for {key} is {expected}")]
    NoChange {
        /// The credential.
        key: String,
        /// The phase the operation needed.
        expected: &'static str,
    },
    /// The credential has no current password in the keychain.
    #[error("no password for {0} in the keychain")]
    NoSecret(String),
    /// Sealing an escrow failed.
    #[error(transparent)]
    Escrow(#[from] EscrowError),
}

impl LedgerError {
    /// Stable code for the UI and CLI.
    pub fn code(&self) -> &'static str {
        match self {
            LedgerError::Vault(e) => e.code(),
            LedgerError::Inventory(e) => e.code(),
            LedgerError::ChangeInProgress(_) => "credential_change_in_progress",
            LedgerError::NoChange { .. } => "credential_no_change",
            LedgerError::NoSecret(_) => "credential_missing",
            LedgerError::Escrow(e) => e.code(),
        }
    }
}

/// Why [`CredentialLedger::resolve`] could not settle a change.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError<E> {
    /// The ledger itself failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// The verifier could not tell (e.g. the camera is unreachable); nothing was changed.
    #[error("could not check the password on the camera: {0}")]
    Camera(E),
}

/// The phase of a credential change, as stored in SQLite.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// The new password is in the keychain's pending slot; the camera may or may not have it.
    Pending,
    /// The old password is secured in the previous slot; the new one is being made current.
    Promoting,
    /// The new password is current; the old one is kept as previous until retired.
    Promoted,
    /// Nothing in flight.
    Settled,
}

impl Phase {
    fn as_str(self) -> &'static str {
        match self {
            Phase::Pending => "pending",
            Phase::Promoting => "promoting",
            Phase::Promoted => "promoted",
            Phase::Settled => "settled",
        }
    }

    fn parse(s: &str) -> Result<Self, InventoryError> {
        Ok(match s {
            "pending" => Phase::Pending,
            "promoting" => Phase::Promoting,
            "promoted" => Phase::Promoted,
            "settled" => Phase::Settled,
            other => {
                return Err(InventoryError::Corrupt(format!(
                    "credential phase {other:?}"
                )))
            }
        })
    }
}

/// What SQLite knows about a credential's latest change (no secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeRecord {
    /// Where the change stands.
    pub phase: Phase,
    /// When it began (RFC 3339).
    pub created_at: String,
    /// When the new password became current.
    pub promoted_at: Option<String>,
    /// When it was settled (previous retired, or the change dropped).
    pub settled_at: Option<String>,
    /// How many times [`CredentialLedger::resolve`] asked the camera about it.
    pub attempts: i64,
}

/// How [`CredentialLedger::resolve`] settled a change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolution {
    /// No change was in flight for this credential.
    NothingPending,
    /// The camera has the new password; it is now current and the old one is kept as previous.
    Promoted,
    /// The camera still has the old password; the pending one was discarded.
    KeptCurrent,
    /// The pending password never reached the keychain, so it never reached the camera; dropped.
    Abandoned,
    /// The camera refused both the pending and the current password. Nothing was changed or
    /// deleted; a person has to recover the camera (e.g. factory reset) and record its password.
    NoneAccepted,
}

#[derive(Clone, Copy)]
enum Slot {
    Current,
    Pending,
    Previous,
}

fn slot(key: &CredentialKey, slot: Slot) -> CredentialKey {
    // The current slot is the plain key, so code that only reads "the password" needs no change.
    // The suffixes cannot collide with a real user name unless it ends in `#pending`/`#previous`.
    match slot {
        Slot::Current => key.clone(),
        Slot::Pending => CredentialKey::new(key.camera.clone(), format!("{}#pending", key.user)),
        Slot::Previous => CredentialKey::new(key.camera.clone(), format!("{}#previous", key.user)),
    }
}

/// The write-ahead credential store: secrets in a [`SecretStore`], phases in the [`Inventory`].
#[derive(Clone, Debug)]
pub struct CredentialLedger {
    store: Arc<dyn SecretStore>,
    db: Inventory,
}

/// A change whose new password is durably stored as pending. Send it to the camera, log in with it,
/// then call [`PendingChange::promote`]. Dropping it without promoting leaves the change for
/// [`CredentialLedger::resolve`].
#[derive(Debug)]
#[must_use = "a pending change must be promoted or later resolved"]
pub struct PendingChange {
    ledger: CredentialLedger,
    key: CredentialKey,
}

impl PendingChange {
    /// The credential being changed.
    pub fn key(&self) -> &CredentialKey {
        &self.key
    }

    /// Makes the new password current, keeping the old one as previous. Call only after the camera
    /// accepted the new password and a login with it succeeded.
    pub fn promote(self) -> Result<(), LedgerError> {
        self.ledger.promote(&self.key)
    }
}

impl CredentialLedger {
    /// A ledger over `store` (the OS keychain in the app) and the inventory `db`.
    pub fn new(store: Arc<dyn SecretStore>, db: &Inventory) -> Self {
        Self {
            store,
            db: db.clone(),
        }
    }

    /// The password the camera is known to accept. While a change is `pending` or `promoting`
    /// (see [`CredentialLedger::pending`]) call [`CredentialLedger::resolve`] first.
    pub fn current(&self, key: &CredentialKey) -> Result<Option<Sensitive<String>>, LedgerError> {
        Ok(self.store.get(key)?)
    }

    /// The password before the last promotion, until [`CredentialLedger::retire_previous`].
    pub fn previous(&self, key: &CredentialKey) -> Result<Option<Sensitive<String>>, LedgerError> {
        Ok(self.store.get(&slot(key, Slot::Previous))?)
    }

    /// Records a password the camera has now (e.g. typed by the installer, or the factory default)
    /// as current. Refused while a change is in flight.
    pub fn record_current(
        &self,
        key: &CredentialKey,
        secret: &Sensitive<String>,
    ) -> Result<(), LedgerError> {
        self.refuse_in_flight(key)?;
        self.store.set(key, secret)?;
        self.db.append_audit(&AuditEntry::camera(
            key.camera.clone(),
            "credential.recorded",
            format!("known password for {} stored in the keychain", key.user),
            "ok",
        ))?;
        Ok(())
    }

    /// Starts a change: stores `new` as pending (keychain first, then SQLite). Only after this returns
    /// may `new` be sent to the camera.
    pub fn begin_change(
        &self,
        key: &CredentialKey,
        new: &Sensitive<String>,
    ) -> Result<PendingChange, LedgerError> {
        self.refuse_in_flight(key)?;
        self.store.set(&slot(key, Slot::Pending), new)?;
        let now = self.db.now_text()?;
        let mut conn = self.db.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(InventoryError::from)?;
        tx.execute(
            "INSERT INTO credential_changes (camera, user, phase, has_previous, created_at, attempts)
             VALUES (?1, ?2, 'pending', 0, ?3, 0)
             ON CONFLICT(camera, user) DO UPDATE SET phase = 'pending', has_previous = 0,
                created_at = excluded.created_at, promoted_at = NULL, settled_at = NULL, attempts = 0",
            params![key.camera, key.user, now],
        )
        .map_err(InventoryError::from)?;
        self.db.append_audit_in(
            &tx,
            &AuditEntry::camera(
                key.camera.clone(),
                "credential.change_begun",
                format!("new password for {} stored as pending", key.user),
                "ok",
            ),
        )?;
        tx.commit().map_err(InventoryError::from)?;
        Ok(PendingChange {
            ledger: self.clone(),
            key: key.clone(),
        })
    }

    fn promote(&self, key: &CredentialKey) -> Result<(), LedgerError> {
        let mut phase = self.phase(key)?;
        if phase == Some(Phase::Pending) {
            // Secure the old password first. Repeating this after a crash writes the same value,
            // because current is not touched until the phase says previous is secured.
            let current = self.store.get(key)?;
            match &current {
                Some(old) => self.store.set(&slot(key, Slot::Previous), old)?,
                None => self.store.delete(&slot(key, Slot::Previous))?,
            }
            self.set_phase(
                key,
                Phase::Pending,
                Phase::Promoting,
                "has_previous = ?3",
                current.is_some(),
                None,
            )?;
            phase = Some(Phase::Promoting);
        }
        match phase {
            Some(Phase::Promoting) => {
                let pending = slot(key, Slot::Pending);
                // A missing pending slot in this phase means the crash came after current took it.
                if let Some(new) = self.store.get(&pending)? {
                    self.store.set(key, &new)?;
                    self.store.delete(&pending)?;
                }
                let audit = AuditEntry::camera(
                    key.camera.clone(),
                    "credential.promoted",
                    format!(
                        "new password for {} is current; the old one is kept as previous",
                        key.user
                    ),
                    "ok",
                );
                self.set_phase(
                    key,
                    Phase::Promoting,
                    Phase::Promoted,
                    "promoted_at = ?3",
                    self.db.now_text()?,
                    Some(audit),
                )
            }
            Some(Phase::Promoted) => Ok(()),
            _ => Err(LedgerError::NoChange {
                key: key.to_string(),
                expected: "pending",
            }),
        }
    }

    /// Deletes the previous password. The last step of a change, after checking that the camera no
    /// longer accepts it. Retiring an already settled credential does nothing.
    pub fn retire_previous(&self, key: &CredentialKey) -> Result<(), LedgerError> {
        match self.phase(key)? {
            Some(Phase::Promoted) => {
                self.store.delete(&slot(key, Slot::Previous))?;
                let audit = AuditEntry::camera(
                    key.camera.clone(),
                    "credential.previous_retired",
                    format!(
                        "previous password for {} deleted from the keychain",
                        key.user
                    ),
                    "ok",
                );
                self.set_phase(
                    key,
                    Phase::Promoted,
                    Phase::Settled,
                    "settled_at = ?3",
                    self.db.now_text()?,
                    Some(audit),
                )
            }
            Some(Phase::Settled) | None => Ok(()),
            Some(_) => Err(LedgerError::ChangeInProgress(key.to_string())),
        }
    }

    /// The new password of a change still in phase `pending`, for a person who has to enter it on
    /// the camera themselves (the guided first boot). `None` when no change is pending.
    pub fn pending_secret(
        &self,
        key: &CredentialKey,
    ) -> Result<Option<Sensitive<String>>, LedgerError> {
        if self.phase(key)? != Some(Phase::Pending) {
            return Ok(None);
        }
        Ok(self.store.get(&slot(key, Slot::Pending))?)
    }

    /// Takes up a change left in phase `pending` on purpose (a person was asked to enter the
    /// password on the camera), so it can be promoted once a login with it succeeded.
    pub fn reopen(&self, key: &CredentialKey) -> Result<Option<PendingChange>, LedgerError> {
        Ok(
            (self.phase(key)? == Some(Phase::Pending)).then(|| PendingChange {
                ledger: self.clone(),
                key: key.clone(),
            }),
        )
    }

    /// Credentials whose change was interrupted (phase `pending` or `promoting`): resolve each on
    /// start-up before using it.
    pub fn pending(&self) -> Result<Vec<CredentialKey>, LedgerError> {
        self.keys_in("phase IN ('pending', 'promoting')")
    }

    /// Credentials promoted but whose previous password is still kept.
    pub fn awaiting_retirement(&self) -> Result<Vec<CredentialKey>, LedgerError> {
        self.keys_in("phase = 'promoted'")
    }

    /// What SQLite records about the latest change of `key`.
    pub fn change(&self, key: &CredentialKey) -> Result<Option<ChangeRecord>, LedgerError> {
        let conn = self.db.lock();
        let row = conn
            .query_row(
                "SELECT phase, created_at, promoted_at, settled_at, attempts FROM credential_changes
                 WHERE camera = ?1 AND user = ?2",
                params![key.camera, key.user],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                    ))
                },
            )
            .optional()
            .map_err(InventoryError::from)?;
        row.map(|(phase, created_at, promoted_at, settled_at, attempts)| {
            Ok(ChangeRecord {
                phase: Phase::parse(&phase)?,
                created_at,
                promoted_at,
                settled_at,
                attempts,
            })
        })
        .transpose()
    }

    /// Settles an interrupted change by asking the camera. `verifier` logs in with a password and
    /// answers `Ok(true)` (accepted), `Ok(false)` (refused by the camera) or `Err` (could not tell,
    /// e.g. unreachable: nothing is changed then). See the module documentation for the rules.
    pub fn resolve<E, F>(
        &self,
        key: &CredentialKey,
        mut verifier: F,
    ) -> Result<Resolution, ResolveError<E>>
    where
        F: FnMut(&Sensitive<String>) -> Result<bool, E>,
    {
        match self.phase(key)? {
            None | Some(Phase::Settled) | Some(Phase::Promoted) => Ok(Resolution::NothingPending),
            Some(Phase::Promoting) => {
                self.promote(key)?;
                Ok(Resolution::Promoted)
            }
            Some(Phase::Pending) => {
                self.count_attempt(key)?;
                let pending_slot = slot(key, Slot::Pending);
                let Some(pending) = self.store.get(&pending_slot).map_err(LedgerError::from)?
                else {
                    self.settle_dropped(
                        key,
                        "credential.change_abandoned",
                        "pending password missing; it was never sent",
                    )?;
                    return Ok(Resolution::Abandoned);
                };
                if verifier(&pending).map_err(ResolveError::Camera)? {
                    self.promote(key)?;
                    return Ok(Resolution::Promoted);
                }
                if let Some(current) = self.store.get(key).map_err(LedgerError::from)? {
                    if verifier(&current).map_err(ResolveError::Camera)? {
                        self.store
                            .delete(&pending_slot)
                            .map_err(LedgerError::from)?;
                        self.settle_dropped(
                            key,
                            "credential.change_rolled_back",
                            "camera kept the old password; pending one discarded",
                        )?;
                        return Ok(Resolution::KeptCurrent);
                    }
                }
                tracing::warn!(camera = %key.camera, user = %key.user, "camera refused both the pending and the current password");
                Ok(Resolution::NoneAccepted)
            }
        }
    }

    /// Forgets a credential (decommissioning): deletes all its keychain slots, then its change row.
    pub fn forget(&self, key: &CredentialKey) -> Result<(), LedgerError> {
        for s in [Slot::Pending, Slot::Previous, Slot::Current] {
            self.store.delete(&slot(key, s))?;
        }
        let mut conn = self.db.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(InventoryError::from)?;
        tx.execute(
            "DELETE FROM credential_changes WHERE camera = ?1 AND user = ?2",
            params![key.camera, key.user],
        )
        .map_err(InventoryError::from)?;
        self.db.append_audit_in(
            &tx,
            &AuditEntry::camera(
                key.camera.clone(),
                "credential.forgotten",
                format!("all passwords for {} deleted from the keychain", key.user),
                "ok",
            ),
        )?;
        tx.commit().map_err(InventoryError::from)?;
        Ok(())
    }

    /// Seals the current passwords of `keys` into an armored, passphrase-encrypted escrow for the
    /// site owner (see [`crate::escrow`]). Refused for a credential whose change is in flight.
    pub fn export_escrow(
        &self,
        keys: &[CredentialKey],
        passphrase: &Sensitive<String>,
    ) -> Result<Vec<u8>, LedgerError> {
        self.export_escrow_with_work_factor(keys, passphrase, escrow::ESCROW_WORK_FACTOR)
    }

    pub(crate) fn export_escrow_with_work_factor(
        &self,
        keys: &[CredentialKey],
        passphrase: &Sensitive<String>,
        log_n: u8,
    ) -> Result<Vec<u8>, LedgerError> {
        let mut entries = Vec::with_capacity(keys.len());
        for key in keys {
            self.refuse_in_flight(key)?;
            let secret = self
                .store
                .get(key)?
                .ok_or_else(|| LedgerError::NoSecret(key.to_string()))?;
            entries.push((key.clone(), secret));
        }
        let sealed = escrow::seal(&entries, passphrase, log_n)?;
        for (key, _) in &entries {
            self.db.append_audit(&AuditEntry::camera(
                key.camera.clone(),
                "credential.escrow_exported",
                format!("password for {} sealed into an escrow export", key.user),
                "ok",
            ))?;
        }
        Ok(sealed)
    }

    fn refuse_in_flight(&self, key: &CredentialKey) -> Result<(), LedgerError> {
        match self.phase(key)? {
            Some(Phase::Pending | Phase::Promoting) => {
                Err(LedgerError::ChangeInProgress(key.to_string()))
            }
            _ => Ok(()),
        }
    }

    fn phase(&self, key: &CredentialKey) -> Result<Option<Phase>, LedgerError> {
        let conn = self.db.lock();
        let phase: Option<String> = conn
            .query_row(
                "SELECT phase FROM credential_changes WHERE camera = ?1 AND user = ?2",
                params![key.camera, key.user],
                |r| r.get(0),
            )
            .optional()
            .map_err(InventoryError::from)?;
        Ok(phase.as_deref().map(Phase::parse).transpose()?)
    }

    /// Moves `key` from phase `from` to `to` in one transaction, setting `column = ?3` to `value`
    /// and appending `audit` in the same commit.
    fn set_phase(
        &self,
        key: &CredentialKey,
        from: Phase,
        to: Phase,
        assignment: &str,
        value: impl rusqlite::ToSql,
        audit: Option<AuditEntry>,
    ) -> Result<(), LedgerError> {
        let mut conn = self.db.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(InventoryError::from)?;
        // `assignment` is one of our own constant strings, never user input.
        let changed = tx
            .execute(
                &format!(
                    "UPDATE credential_changes SET phase = ?4, {assignment}
                     WHERE camera = ?1 AND user = ?2 AND phase = ?5"
                ),
                params![key.camera, key.user, value, to.as_str(), from.as_str()],
            )
            .map_err(InventoryError::from)?;
        if changed != 1 {
            return Err(LedgerError::NoChange {
                key: key.to_string(),
                expected: from.as_str(),
            });
        }
        if let Some(audit) = audit {
            self.db.append_audit_in(&tx, &audit)?;
        }
        tx.commit().map_err(InventoryError::from)?;
        Ok(())
    }

    fn keys_in(&self, condition: &str) -> Result<Vec<CredentialKey>, LedgerError> {
        let conn = self.db.lock();
        // `condition` is one of our own constant strings, never user input.
        let mut stmt = conn
            .prepare(&format!(
                "SELECT camera, user FROM credential_changes WHERE {condition} ORDER BY camera, user"
            ))
            .map_err(InventoryError::from)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(CredentialKey::new(
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                ))
            })
            .map_err(InventoryError::from)?;
        Ok(rows
            .collect::<Result<_, _>>()
            .map_err(InventoryError::from)?)
    }

    fn count_attempt(&self, key: &CredentialKey) -> Result<(), LedgerError> {
        self.db
            .lock()
            .execute(
                "UPDATE credential_changes SET attempts = attempts + 1 WHERE camera = ?1 AND user = ?2",
                params![key.camera, key.user],
            )
            .map_err(InventoryError::from)?;
        Ok(())
    }

    fn settle_dropped(
        &self,
        key: &CredentialKey,
        action: &str,
        detail: &str,
    ) -> Result<(), LedgerError> {
        let audit = AuditEntry::camera(
            key.camera.clone(),
            action,
            format!("{}: {detail}", key.user),
            "ok",
        );
        self.set_phase(
            key,
            Phase::Pending,
            Phase::Settled,
            "settled_at = ?3",
            self.db.now_text()?,
            Some(audit),
        )
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::convert::Infallible;
    use std::path::Path;
    use std::sync::atomic::{AtomicI64, Ordering};
    use std::sync::Mutex;

    use super::*;
    use crate::inventory::AuditChain;
    use crate::store::MemoryStore;

    const OLD: &str = "Old-Factory-Pass-1";
    const NEW: &str = "New-Strong-Pass-2!";

    fn pw(s: &str) -> Sensitive<String> {
        Sensitive::new(s.to_owned())
    }

    fn key() -> CredentialKey {
        CredentialKey::new("mac:02:00:00:00:00:01", "admin")
    }

    /// Steps left before a simulated SIGKILL. Every keychain operation, SQLite commit and camera
    /// change spends one; once spent, every further step fails, as nothing runs in a killed process.
    #[derive(Clone, Debug)]
    struct Budget(Arc<AtomicI64>);

    impl Budget {
        fn new(steps: i64) -> Self {
            Self(Arc::new(AtomicI64::new(steps)))
        }
        fn step(&self) -> bool {
            self.0.fetch_sub(1, Ordering::SeqCst) > 0
        }
    }

    /// The keychain seen by the process that is about to be killed: it survives the crash (the
    /// inner store), but the process cannot reach it once its budget is spent.
    #[derive(Debug)]
    struct CrashingStore {
        inner: Arc<MemoryStore>,
        budget: Budget,
    }

    impl CrashingStore {
        fn alive(&self) -> Result<(), VaultError> {
            if self.budget.step() {
                Ok(())
            } else {
                Err(VaultError::KeychainUnavailable("simulated crash".into()))
            }
        }
    }

    impl SecretStore for CrashingStore {
        fn get(&self, key: &CredentialKey) -> Result<Option<Sensitive<String>>, VaultError> {
            self.alive()?;
            self.inner.get(key)
        }
        fn set(&self, key: &CredentialKey, secret: &Sensitive<String>) -> Result<(), VaultError> {
            self.alive()?;
            self.inner.set(key, secret)
        }
        fn delete(&self, key: &CredentialKey) -> Result<(), VaultError> {
            self.alive()?;
            self.inner.delete(key)
        }
    }

    /// A camera that accepts exactly one password.
    #[derive(Debug)]
    struct Camera(Mutex<String>);

    impl Camera {
        fn password(&self) -> String {
            self.0.lock().unwrap().clone()
        }
        fn accepts(&self, p: &Sensitive<String>) -> Result<bool, Infallible> {
            Ok(*p.expose() == self.password())
        }
    }

    /// A process that dies after `budget` steps: its ledger uses a crashing keychain and a SQLite
    /// connection whose commit hook turns every commit after the budget into a rollback.
    fn doomed_process(
        path: &Path,
        inner: &Arc<MemoryStore>,
        budget: &Budget,
    ) -> (Inventory, CredentialLedger) {
        let inv = Inventory::open(path).unwrap();
        let b = budget.clone();
        inv.lock().commit_hook(Some(move || !b.step()));
        let store = CrashingStore {
            inner: inner.clone(),
            budget: budget.clone(),
        };
        let ledger = CredentialLedger::new(Arc::new(store), &inv);
        (inv, ledger)
    }

    fn healthy_process(path: &Path, inner: &Arc<MemoryStore>) -> CredentialLedger {
        let inv = Inventory::open(path).unwrap();
        CredentialLedger::new(inner.clone(), &inv)
    }

    /// The whole rotation as camward-core runs it.
    fn rotate(
        ledger: &CredentialLedger,
        camera: &Camera,
        budget: &Budget,
        new: &str,
    ) -> Result<(), String> {
        let change = ledger
            .begin_change(&key(), &pw(new))
            .map_err(|e| e.to_string())?;
        if !budget.step() {
            return Err("killed before the camera took the new password".into());
        }
        *camera.0.lock().unwrap() = new.to_owned();
        change.promote().map_err(|e| e.to_string())?;
        ledger.retire_previous(&key()).map_err(|e| e.to_string())
    }

    /// Start-up recovery: resolve every interrupted change, then retire previous passwords that the
    /// camera no longer accepts.
    fn recover(ledger: &CredentialLedger, camera: &Camera) -> Result<Vec<Resolution>, String> {
        let mut seen = Vec::new();
        for k in ledger.pending().map_err(|e| e.to_string())? {
            seen.push(
                ledger
                    .resolve(&k, |p| camera.accepts(p))
                    .map_err(|e| e.to_string())?,
            );
        }
        for k in ledger.awaiting_retirement().map_err(|e| e.to_string())? {
            let old = ledger.previous(&k).map_err(|e| e.to_string())?;
            if old.is_none_or(|o| !camera.accepts(&o).unwrap_or(true)) {
                ledger.retire_previous(&k).map_err(|e| e.to_string())?;
            }
        }
        Ok(seen)
    }

    /// What must hold after a recovery, whatever the crash point.
    fn assert_consistent(ledger: &CredentialLedger, camera: &Camera, context: &str) {
        assert!(
            ledger.pending().unwrap().is_empty(),
            "{context}: still pending"
        );
        let current = ledger
            .current(&key())
            .unwrap()
            .expect("current password lost");
        assert_eq!(
            *current.expose(),
            camera.password(),
            "{context}: keychain and camera disagree"
        );
        assert!(
            ledger.awaiting_retirement().unwrap().is_empty(),
            "{context}"
        );
        assert!(
            ledger.previous(&key()).unwrap().is_none(),
            "{context}: previous not retired"
        );
        assert!(
            matches!(
                ledger.db.verify_audit_chain().unwrap(),
                AuditChain::Intact { .. }
            ),
            "{context}: audit chain broken"
        );
    }

    /// Runs a rotation killed after `first` steps, then a recovery killed after `second` steps (if
    /// any), then a clean recovery; checks consistency and that a further rotation works.
    fn scenario(first: i64, second: Option<i64>) -> (bool, Vec<Resolution>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("camward.sqlite3");
        let inner = Arc::new(MemoryStore::default());
        let camera = Camera(Mutex::new(OLD.to_owned()));
        healthy_process(&path, &inner)
            .record_current(&key(), &pw(OLD))
            .unwrap();

        let budget = Budget::new(first);
        let (inv, ledger) = doomed_process(&path, &inner, &budget);
        let finished = rotate(&ledger, &camera, &budget, NEW).is_ok();
        drop((inv, ledger));

        let mut resolutions = Vec::new();
        if let Some(second) = second {
            let budget = Budget::new(second);
            let (inv, ledger) = doomed_process(&path, &inner, &budget);
            if let Ok(r) = recover(&ledger, &camera) {
                resolutions.extend(r);
            }
            drop((inv, ledger));
        }
        let ledger = healthy_process(&path, &inner);
        resolutions.extend(recover(&ledger, &camera).unwrap());
        let context = format!("crash after {first} then {second:?} steps");
        assert_consistent(&ledger, &camera, &context);
        if finished {
            assert_eq!(camera.password(), NEW, "{context}");
        }

        // The credential is not stuck: the next rotation runs to the end.
        rotate(&ledger, &camera, &Budget::new(i64::MAX), "Third-Pass-3#").unwrap();
        assert_consistent(&ledger, &camera, &context);
        (finished, resolutions)
    }

    #[test]
    fn a_crash_after_any_step_of_a_rotation_is_recovered() {
        let mut kinds = BTreeSet::new();
        let mut steps = 0;
        loop {
            let (finished, resolutions) = scenario(steps, None);
            kinds.extend(resolutions.iter().map(|r| format!("{r:?}")));
            if finished {
                break;
            }
            steps += 1;
            assert!(steps < 100, "the rotation never finished");
        }
        // begin (2 keychain + 1 commit) + camera + promote (5 keychain + 2 commits) + retire (1 + 1).
        assert!(
            steps >= 12,
            "only {steps} crash points: the budget is not being spent"
        );
        for k in ["Promoted", "KeptCurrent"] {
            assert!(kinds.contains(k), "no crash point led to {k}: {kinds:?}");
        }
    }

    #[test]
    fn a_crash_during_recovery_is_recovered_too() {
        let mut total = 0;
        let mut first = 0;
        loop {
            let (finished, _) = scenario(first, None);
            let mut second = 0;
            loop {
                scenario(first, Some(second));
                total += 1;
                second += 1;
                // Recovery needs fewer than 20 steps; beyond that every run is a clean one.
                if second > 20 {
                    break;
                }
            }
            if finished {
                break;
            }
            first += 1;
        }
        assert!(total > 200, "{total}");
    }

    fn ledger_in_memory() -> (CredentialLedger, Arc<MemoryStore>) {
        let store = Arc::new(MemoryStore::default());
        let inv = Inventory::open_in_memory().unwrap();
        (CredentialLedger::new(store.clone(), &inv), store)
    }

    #[test]
    fn slots_move_through_a_rotation() {
        let (ledger, store) = ledger_in_memory();
        let k = key();
        ledger.record_current(&k, &pw(OLD)).unwrap();
        let change = ledger.begin_change(&k, &pw(NEW)).unwrap();
        assert_eq!(ledger.pending().unwrap(), vec![k.clone()]);
        assert_eq!(
            store
                .get(&slot(&k, Slot::Pending))
                .unwrap()
                .unwrap()
                .expose(),
            NEW
        );
        assert_eq!(ledger.current(&k).unwrap().unwrap().expose(), OLD);
        assert_eq!(ledger.change(&k).unwrap().unwrap().phase, Phase::Pending);

        change.promote().unwrap();
        assert!(ledger.pending().unwrap().is_empty());
        assert_eq!(ledger.current(&k).unwrap().unwrap().expose(), NEW);
        assert_eq!(ledger.previous(&k).unwrap().unwrap().expose(), OLD);
        assert!(store.get(&slot(&k, Slot::Pending)).unwrap().is_none());
        assert_eq!(ledger.awaiting_retirement().unwrap(), vec![k.clone()]);
        let rec = ledger.change(&k).unwrap().unwrap();
        assert_eq!(rec.phase, Phase::Promoted);
        assert!(rec.promoted_at.is_some());

        ledger.retire_previous(&k).unwrap();
        assert!(ledger.previous(&k).unwrap().is_none());
        assert_eq!(ledger.change(&k).unwrap().unwrap().phase, Phase::Settled);
        let actions: Vec<String> = ledger
            .db
            .audit_log(Some(&k.camera))
            .unwrap()
            .into_iter()
            .map(|r| r.action)
            .collect();
        assert_eq!(
            actions,
            [
                "credential.recorded",
                "credential.change_begun",
                "credential.promoted",
                "credential.previous_retired"
            ]
        );
    }

    #[test]
    fn a_second_change_is_refused_while_one_is_in_flight() {
        let (ledger, store) = ledger_in_memory();
        let k = key();
        ledger.record_current(&k, &pw(OLD)).unwrap();
        let _first = ledger.begin_change(&k, &pw(NEW)).unwrap();
        let err = ledger.begin_change(&k, &pw("Another-One-3")).unwrap_err();
        assert_eq!(err.code(), "credential_change_in_progress");
        // The pending password that may already be on the camera was not overwritten.
        assert_eq!(
            store
                .get(&slot(&k, Slot::Pending))
                .unwrap()
                .unwrap()
                .expose(),
            NEW
        );
        assert!(ledger.record_current(&k, &pw("x")).is_err());
        assert!(ledger
            .export_escrow_with_work_factor(std::slice::from_ref(&k), &pw("pass"), 10)
            .is_err());
    }

    #[test]
    fn an_unreachable_camera_changes_nothing_and_both_refused_keeps_everything() {
        let (ledger, store) = ledger_in_memory();
        let k = key();
        ledger.record_current(&k, &pw(OLD)).unwrap();
        let _change = ledger.begin_change(&k, &pw(NEW)).unwrap();

        let r = ledger.resolve(&k, |_| Err::<bool, _>("timeout"));
        assert!(matches!(r, Err(ResolveError::Camera("timeout"))), "{r:?}");
        assert_eq!(ledger.pending().unwrap(), vec![k.clone()]);

        let r = ledger.resolve(&k, |_| Ok::<_, Infallible>(false)).unwrap();
        assert_eq!(r, Resolution::NoneAccepted);
        assert_eq!(ledger.pending().unwrap(), vec![k.clone()]);
        assert_eq!(
            store
                .get(&slot(&k, Slot::Pending))
                .unwrap()
                .unwrap()
                .expose(),
            NEW
        );
        assert_eq!(ledger.current(&k).unwrap().unwrap().expose(), OLD);
        assert_eq!(ledger.change(&k).unwrap().unwrap().attempts, 2);
    }

    #[test]
    fn resolve_keeps_the_old_password_when_the_camera_never_took_the_new_one() {
        let (ledger, store) = ledger_in_memory();
        let k = key();
        ledger.record_current(&k, &pw(OLD)).unwrap();
        let _change = ledger.begin_change(&k, &pw(NEW)).unwrap();
        let r = ledger
            .resolve(&k, |p| Ok::<_, Infallible>(p.expose() == OLD))
            .unwrap();
        assert_eq!(r, Resolution::KeptCurrent);
        assert!(store.get(&slot(&k, Slot::Pending)).unwrap().is_none());
        assert_eq!(ledger.current(&k).unwrap().unwrap().expose(), OLD);
        assert_eq!(
            ledger.resolve(&k, |_| Ok::<_, Infallible>(true)).unwrap(),
            Resolution::NothingPending
        );
    }

    #[test]
    fn a_first_password_without_a_known_current_one_promotes_without_previous() {
        let (ledger, _) = ledger_in_memory();
        let k = key();
        let change = ledger.begin_change(&k, &pw(NEW)).unwrap();
        change.promote().unwrap();
        assert_eq!(ledger.current(&k).unwrap().unwrap().expose(), NEW);
        assert!(ledger.previous(&k).unwrap().is_none());
    }

    #[test]
    fn forget_removes_every_slot() {
        let (ledger, store) = ledger_in_memory();
        let k = key();
        ledger.record_current(&k, &pw(OLD)).unwrap();
        ledger
            .begin_change(&k, &pw(NEW))
            .unwrap()
            .promote()
            .unwrap();
        ledger.forget(&k).unwrap();
        for s in [Slot::Current, Slot::Pending, Slot::Previous] {
            assert!(store.get(&slot(&k, s)).unwrap().is_none());
        }
        assert!(ledger.change(&k).unwrap().is_none());
    }

    #[test]
    fn no_secret_reaches_the_sqlite_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("camward.sqlite3");
        let inner = Arc::new(MemoryStore::default());
        let ledger = healthy_process(&path, &inner);
        let camera = Camera(Mutex::new(OLD.to_owned()));
        ledger.record_current(&key(), &pw(OLD)).unwrap();
        rotate(&ledger, &camera, &Budget::new(i64::MAX), NEW).unwrap();
        // Leave one change pending too, so every phase has been written at least once.
        let _pending = ledger
            .begin_change(&key(), &pw("Still-Pending-Pass-5"))
            .unwrap();
        let mut bytes = Vec::new();
        for suffix in ["", "-wal", "-shm"] {
            let mut p = path.as_os_str().to_owned();
            p.push(suffix);
            bytes.extend(std::fs::read(&p).unwrap_or_default());
        }
        let has = |s: &str| bytes.windows(s.len()).any(|w| w == s.as_bytes());
        assert!(has(&key().camera), "the search must find what is there");
        for secret in [OLD, NEW, "Still-Pending-Pass-5"] {
            assert!(!has(secret), "{secret} found in the SQLite files");
        }
    }

    #[test]
    fn debug_output_never_shows_a_secret() {
        let (ledger, _) = ledger_in_memory();
        let k = key();
        ledger.record_current(&k, &pw(OLD)).unwrap();
        let change = ledger.begin_change(&k, &pw(NEW)).unwrap();
        let text = format!(
            "{ledger:?} {change:?} {:?} {:?}",
            ledger.current(&k),
            ledger.change(&k)
        );
        assert!(!text.contains(OLD) && !text.contains(NEW), "{text}");
    }

    #[test]
    fn escrow_export_carries_current_passwords() {
        let (ledger, _) = ledger_in_memory();
        let a = key();
        let b = CredentialKey::new("host:192.0.2.11", "root");
        ledger.record_current(&a, &pw(OLD)).unwrap();
        ledger.record_current(&b, &pw(NEW)).unwrap();
        let sealed = ledger
            .export_escrow_with_work_factor(&[a.clone(), b.clone()], &pw("hand-over"), 10)
            .unwrap();
        let opened = crate::import_escrow(&sealed, &pw("hand-over")).unwrap();
        let got: Vec<(CredentialKey, String)> = opened
            .iter()
            .map(|(k, s)| (k.clone(), s.expose().clone()))
            .collect();
        assert_eq!(got, vec![(a, OLD.to_owned()), (b, NEW.to_owned())]);
        let missing = CredentialKey::new("host:192.0.2.12", "root");
        assert_eq!(
            ledger
                .export_escrow_with_work_factor(&[missing], &pw("x"), 10)
                .unwrap_err()
                .code(),
            "credential_missing"
        );
    }
}
