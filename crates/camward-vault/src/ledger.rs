//! Write-ahead credentials: a password change that survives a crash at any point.
//!
//! Changing a camera's password is a two-party operation (this laptop and the camera) that can be
//! cut at any moment: the laptop sleeps, the app is killed, the camera reboots. The one outcome that
//! must never happen is a camera whose password exists nowhere. So every secret is written to the
//! keychain *before* anything depends on it, and SQLite records which phase the change is in.
//!
//! ## Generations
//!
//! Every password Camward stores is a keychain entry of its own that is written once and never
//! rewritten: a *generation*, numbered by SQLite (`credential_items`, AUTOINCREMENT, so a number
//! is never used twice in one inventory). Its keychain account is `camera|user#g<N>`
//! ([`CredentialKey::account`] of the key [`CredentialLedger::current_account`] returns).
//! `credential_changes` says which generation is *current* (the password the camera is known to
//! accept), *pending* (a new one the camera may or may not have yet) and *previous* (the one
//! before the last promotion, until retired), and which phase the change is in. SQLite holds only
//! these numbers, the phase, times and attempt count, never a secret.
//!
//! Making a new password current is therefore one SQLite commit that moves pointers, with no
//! keychain write at all: a first administrator costs one keychain write, a rotation one write
//! and one delete. (The OS keychain serves one call at a time and a write makes it rewrite and
//! sync its file, so on a batch of cameras its calls are the floor under the wall time.) Because
//! a generation's content never changes, the ledger keeps what it wrote or read in memory and
//! reads each entry from the keychain at most once.
//!
//! ## Phases and the order of writes
//!
//! `K:` is a keychain call, `S:` a SQLite commit. A crash (SIGKILL) can fall between any two lines.
//!
//! ```text
//! begin_change   S: item g reserved; phase := pending, pending := g (+ audit)
//!                K: g := new                 -- if this never happened, resolve() abandons g
//! (the caller sends `new` to the camera and logs in with it)
//! promote        S: previous := current, current := g, pending := none,
//!                   phase := promoted (settled when there was no current) (+ audit)
//!                K: delete the generation the move left unreferenced, then S: forget its item
//! (the caller checks that the old password no longer works on the camera)
//! retire_previous K: delete previous
//!                S: previous := none, phase := settled (+ audit)
//! ```
//!
//! The commits that come before a keychain write (reserving a generation, recording a typed
//! password as current) and forgetting a decommissioned credential are made durable against a
//! power cut (synchronous=FULL); the others need not be, because losing one leaves a state
//! [`CredentialLedger::resolve`] or the next retirement finishes (a promotion lost is done again
//! once the camera accepts the pending password; a retirement lost finds its entry already gone).
//!
//! An item is reserved in SQLite before its keychain write and forgotten only after its keychain
//! delete, so no entry Camward wrote can exist unrecorded; an item that no pointer refers to
//! (a crash between a commit and a delete) is deleted the next time the credential changes, and
//! [`CredentialLedger::forget`] deletes every item.
//!
//! [`CredentialLedger::resolve`] finishes whatever a crash interrupted:
//!
//! - `pending`: the new password may or may not have reached the camera. Try it: accepted → promote;
//!   refused → try current: accepted → drop the pending one (the camera kept the old password);
//!   both refused → leave everything as it is and say so ([`Resolution::NoneAccepted`]).
//!   A pending generation missing from the keychain never reached the camera: abandoned.
//! - `promoting` exists only in inventories written before generations (schema 4 and older,
//!   whose named slots `user`, `user#pending`, `user#previous` stay readable as generations 0,
//!   -1 and -2): the camera had accepted the new password and the old one was secured; the
//!   promotion is completed without the camera.
//!
//! [`CredentialLedger::begin_change`] refuses while a change is `pending` or `promoting`, because
//! the camera may already have the pending password.
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

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
    /// The new password is stored as the pending generation; the camera may or may not have it.
    Pending,
    /// Only in inventories from before generations: the old password was secured in the previous
    /// slot and the new one was being copied to the current one.
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

/// Generation numbers of the named slots of inventories from before generations.
const LEGACY_CURRENT: i64 = 0;
const LEGACY_PENDING: i64 = -1;
const LEGACY_PREVIOUS: i64 = -2;

/// The keychain entry of generation `generation` of `key`.
fn item(key: &CredentialKey, generation: i64) -> CredentialKey {
    // The legacy names cannot collide with a real user name unless it ends in `#pending` /
    // `#previous`, and `#g<N>` unless it ends in `#g` and digits.
    let user = match generation {
        LEGACY_CURRENT => return key.clone(),
        LEGACY_PENDING => format!("{}#pending", key.user),
        LEGACY_PREVIOUS => format!("{}#previous", key.user),
        n => format!("{}#g{n}", key.user),
    };
    CredentialKey::new(key.camera.clone(), user)
}

/// Where one credential stands: its phase and which generation holds what.
#[derive(Clone, Copy, Debug, Default)]
struct Pointers {
    phase: Option<Phase>,
    current: Option<i64>,
    pending: Option<i64>,
    previous: Option<i64>,
}

impl Pointers {
    fn referenced(&self) -> impl Iterator<Item = i64> {
        [self.current, self.pending, self.previous]
            .into_iter()
            .flatten()
    }
}

/// Generations read or written by this process. A generation's content never changes, so an
/// entry here is never stale; it is dropped when its keychain entry is deleted.
#[derive(Clone, Default)]
struct Known(Arc<Mutex<HashMap<String, Sensitive<String>>>>);

impl Known {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Sensitive<String>>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl fmt::Debug for Known {
    // It holds secrets, so `Debug` shows only how many.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Known({} generations)", self.map().len())
    }
}

/// The write-ahead credential store: secrets in a [`SecretStore`], phases and generation numbers in
/// the [`Inventory`].
#[derive(Clone, Debug)]
pub struct CredentialLedger {
    store: Arc<dyn SecretStore>,
    db: Inventory,
    known: Known,
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
    /// The secret store behind the ledger (the OS keychain in the app), for the other secrets
    /// kept there (the site CA's key).
    pub fn store(&self) -> &dyn SecretStore {
        self.store.as_ref()
    }

    /// A ledger over `store` (the OS keychain in the app) and the inventory `db`.
    pub fn new(store: Arc<dyn SecretStore>, db: &Inventory) -> Self {
        Self {
            store,
            db: db.clone(),
            known: Known::default(),
        }
    }

    /// The password the camera is known to accept. While a change is `pending` or `promoting`
    /// (see [`CredentialLedger::pending`]) call [`CredentialLedger::resolve`] first.
    pub fn current(&self, key: &CredentialKey) -> Result<Option<Sensitive<String>>, LedgerError> {
        match self.pointers(key)?.current {
            Some(generation) => self.read(key, generation),
            None => Ok(None),
        }
    }

    /// The password before the last promotion, until [`CredentialLedger::retire_previous`].
    pub fn previous(&self, key: &CredentialKey) -> Result<Option<Sensitive<String>>, LedgerError> {
        match self.pointers(key)?.previous {
            Some(generation) => self.read(key, generation),
            None => Ok(None),
        }
    }

    /// The keychain entry that holds the current password of `key`, if there is one: for checks
    /// that read the keychain itself rather than through the ledger.
    pub fn current_account(
        &self,
        key: &CredentialKey,
    ) -> Result<Option<CredentialKey>, LedgerError> {
        Ok(self.pointers(key)?.current.map(|g| item(key, g)))
    }

    /// The keychain entry that holds the previous password of `key`, until it is retired.
    pub fn previous_account(
        &self,
        key: &CredentialKey,
    ) -> Result<Option<CredentialKey>, LedgerError> {
        Ok(self.pointers(key)?.previous.map(|g| item(key, g)))
    }

    /// The highest generation number ever reserved in this inventory: with the named slots of
    /// older versions, every keychain account Camward may have written is `user`,
    /// `user#pending`, `user#previous` or `user#g1` … `user#g<this>`.
    pub fn highest_generation(&self) -> Result<i64, LedgerError> {
        let conn = self.db.lock();
        Ok(conn
            .query_row(
                "SELECT seq FROM sqlite_sequence WHERE name = 'credential_items'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(InventoryError::from)?
            .unwrap_or(0))
    }

    /// Every keychain entry the ledger may hold for `key` (current, pending, previous, and any
    /// generation a crash left unreferenced): what [`CredentialLedger::forget`] deletes.
    pub fn keychain_accounts(
        &self,
        key: &CredentialKey,
    ) -> Result<Vec<CredentialKey>, LedgerError> {
        let pointers = self.pointers(key)?;
        let mut generations: Vec<i64> = pointers.referenced().collect();
        if generations.iter().any(|&g| g <= LEGACY_CURRENT) {
            // A credential from before generations may still have any of the named slots.
            generations.extend([LEGACY_CURRENT, LEGACY_PENDING, LEGACY_PREVIOUS]);
        }
        generations.extend(self.items(key)?);
        generations.sort_unstable();
        generations.dedup();
        Ok(generations.into_iter().map(|g| item(key, g)).collect())
    }

    /// Records a password the camera has now (e.g. typed by the installer, or the factory default)
    /// as current, replacing whatever was known before. Refused while a change is in flight.
    pub fn record_current(
        &self,
        key: &CredentialKey,
        secret: &Sensitive<String>,
    ) -> Result<(), LedgerError> {
        self.refuse_in_flight(key)?;
        let generation = self.commit(DURABLE, |tx| reserve(tx, key))?;
        self.write(key, generation, secret)?;
        let now = self.db.now_text()?;
        self.commit(DURABLE, |tx| {
            tx.execute(
                "INSERT INTO credential_changes (camera, user, phase, has_previous, created_at,
                     attempts, current_gen)
                 VALUES (?1, ?2, 'settled', 0, ?3, 0, ?4)
                 ON CONFLICT(camera, user) DO UPDATE SET phase = 'settled', has_previous = 0,
                    current_gen = excluded.current_gen, pending_gen = NULL, previous_gen = NULL,
                    settled_at = excluded.created_at",
                params![key.camera, key.user, now, generation],
            )
            .map_err(InventoryError::from)?;
            self.db.append_audit_in(
                tx,
                &AuditEntry::camera(
                    key.camera.clone(),
                    "credential.recorded",
                    format!("known password for {} stored in the keychain", key.user),
                    "ok",
                ),
            )?;
            Ok(())
        })?;
        self.collect(key)
    }

    /// Starts a change: reserves a generation in SQLite, marks it pending and writes `new` to the
    /// keychain under it. Only after this returns may `new` be sent to the camera.
    pub fn begin_change(
        &self,
        key: &CredentialKey,
        new: &Sensitive<String>,
    ) -> Result<PendingChange, LedgerError> {
        self.refuse_in_flight(key)?;
        let now = self.db.now_text()?;
        let generation = self.commit(DURABLE, |tx| {
            let generation = reserve(tx, key)?;
            tx.execute(
                "INSERT INTO credential_changes (camera, user, phase, has_previous, created_at,
                     attempts, pending_gen)
                 VALUES (?1, ?2, 'pending', 0, ?3, 0, ?4)
                 ON CONFLICT(camera, user) DO UPDATE SET phase = 'pending', has_previous = 0,
                    created_at = excluded.created_at, promoted_at = NULL, settled_at = NULL,
                    attempts = 0, pending_gen = excluded.pending_gen",
                params![key.camera, key.user, now, generation],
            )
            .map_err(InventoryError::from)?;
            self.db.append_audit_in(
                tx,
                &AuditEntry::camera(
                    key.camera.clone(),
                    "credential.change_begun",
                    format!("new password for {} stored as pending", key.user),
                    "ok",
                ),
            )?;
            Ok(generation)
        })?;
        if let Err(e) = self.write(key, generation, new) {
            // Nothing was sent: take the change back at once rather than leave it for resolve.
            if let Err(undo) = self.settle_dropped(
                key,
                "credential.change_abandoned",
                "the keychain did not take the new password; nothing was sent",
            ) {
                tracing::warn!(camera = %key.camera, user = %key.user, error = %undo, "could not take back the change; resolve will");
            }
            return Err(e);
        }
        Ok(PendingChange {
            ledger: self.clone(),
            key: key.clone(),
        })
    }

    fn promote(&self, key: &CredentialKey) -> Result<(), LedgerError> {
        let pointers = self.pointers(key)?;
        match pointers.phase {
            Some(Phase::Pending) => {
                let Some(new) = pointers.pending else {
                    return Err(InventoryError::Corrupt(format!(
                        "change of {key} is pending without a pending generation"
                    ))
                    .into());
                };
                let detail = if pointers.current.is_some() {
                    format!(
                        "new password for {} is current; the old one is kept as previous",
                        key.user
                    )
                } else {
                    format!("new password for {} is current", key.user)
                };
                let now = self.db.now_text()?;
                self.commit(NOT_DURABLE, |tx| {
                    // Every right-hand side reads the row as it was before this UPDATE.
                    let changed = tx
                        .execute(
                            "UPDATE credential_changes SET
                                phase = CASE WHEN current_gen IS NULL THEN 'settled' ELSE 'promoted' END,
                                previous_gen = current_gen, current_gen = pending_gen, pending_gen = NULL,
                                has_previous = current_gen IS NOT NULL, promoted_at = ?3,
                                settled_at = CASE WHEN current_gen IS NULL THEN ?3 END
                             WHERE camera = ?1 AND user = ?2 AND phase = 'pending' AND pending_gen = ?4",
                            params![key.camera, key.user, now, new],
                        )
                        .map_err(InventoryError::from)?;
                    if changed != 1 {
                        return Err(LedgerError::NoChange {
                            key: key.to_string(),
                            expected: "pending",
                        });
                    }
                    self.db.append_audit_in(
                        tx,
                        &AuditEntry::camera(key.camera.clone(), "credential.promoted", detail, "ok"),
                    )?;
                    Ok(())
                })?;
                // The previous generation before this promotion, if any, is unreferenced now.
                self.collect(key)
            }
            Some(Phase::Promoting) => self.finish_legacy_promotion(key, pointers),
            Some(Phase::Promoted) => Ok(()),
            _ => Err(LedgerError::NoChange {
                key: key.to_string(),
                expected: "pending",
            }),
        }
    }

    /// Completes a promotion an inventory from before generations was interrupted in: the old
    /// password is in the legacy previous slot; the new one is in the legacy pending slot, or, if
    /// that is gone, was already copied to the legacy current one.
    fn finish_legacy_promotion(
        &self,
        key: &CredentialKey,
        pointers: Pointers,
    ) -> Result<(), LedgerError> {
        let current = match pointers.pending {
            Some(pending) if self.read(key, pending)?.is_some() => pending,
            _ => pointers.current.unwrap_or(LEGACY_CURRENT),
        };
        let now = self.db.now_text()?;
        self.commit(DURABLE, |tx| {
            tx.execute(
                "UPDATE credential_changes SET phase = 'promoted', current_gen = ?3,
                    pending_gen = NULL, previous_gen = ?4, has_previous = 1, promoted_at = ?5
                 WHERE camera = ?1 AND user = ?2 AND phase = 'promoting'",
                params![key.camera, key.user, current, LEGACY_PREVIOUS, now],
            )
            .map_err(InventoryError::from)?;
            self.db.append_audit_in(
                tx,
                &AuditEntry::camera(
                    key.camera.clone(),
                    "credential.promoted",
                    format!(
                        "new password for {} is current; the old one is kept as previous",
                        key.user
                    ),
                    "ok",
                ),
            )?;
            Ok(())
        })?;
        if current == LEGACY_PENDING {
            // The legacy current slot holds a copy of the new password or the old one; the
            // pending slot is the current password now and the previous slot keeps the old one.
            self.erase(key, LEGACY_CURRENT)?;
        }
        Ok(())
    }

    /// Deletes the previous password. The last step of a change, after checking that the camera no
    /// longer accepts it. Retiring an already settled credential does nothing.
    pub fn retire_previous(&self, key: &CredentialKey) -> Result<(), LedgerError> {
        let pointers = self.pointers(key)?;
        match pointers.phase {
            Some(Phase::Promoted) => {
                if let Some(previous) = pointers.previous {
                    self.erase(key, previous)?;
                }
                let now = self.db.now_text()?;
                self.commit(NOT_DURABLE, |tx| {
                    let changed = tx
                        .execute(
                            "UPDATE credential_changes SET phase = 'settled', previous_gen = NULL,
                                settled_at = ?3
                             WHERE camera = ?1 AND user = ?2 AND phase = 'promoted'",
                            params![key.camera, key.user, now],
                        )
                        .map_err(InventoryError::from)?;
                    if changed != 1 {
                        return Err(LedgerError::NoChange {
                            key: key.to_string(),
                            expected: "promoted",
                        });
                    }
                    if let Some(previous) = pointers.previous {
                        forget_item(tx, previous)?;
                    }
                    self.db.append_audit_in(
                        tx,
                        &AuditEntry::camera(
                            key.camera.clone(),
                            "credential.previous_retired",
                            format!(
                                "previous password for {} deleted from the keychain",
                                key.user
                            ),
                            "ok",
                        ),
                    )?;
                    Ok(())
                })
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
        let pointers = self.pointers(key)?;
        match (pointers.phase, pointers.pending) {
            (Some(Phase::Pending), Some(pending)) => self.read(key, pending),
            _ => Ok(None),
        }
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
        let pointers = self.pointers(key)?;
        match pointers.phase {
            None | Some(Phase::Settled) | Some(Phase::Promoted) => Ok(Resolution::NothingPending),
            Some(Phase::Promoting) => {
                self.promote(key)?;
                Ok(Resolution::Promoted)
            }
            Some(Phase::Pending) => {
                self.count_attempt(key)?;
                let pending = match pointers.pending {
                    Some(generation) => self.read(key, generation)?,
                    None => None,
                };
                let Some(pending) = pending else {
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
                if let Some(current) = self.current(key)? {
                    if verifier(&current).map_err(ResolveError::Camera)? {
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

    /// Forgets a credential (decommissioning): deletes every keychain entry it may have, then its
    /// rows.
    pub fn forget(&self, key: &CredentialKey) -> Result<(), LedgerError> {
        for account in self.keychain_accounts(key)? {
            self.store.delete(&account)?;
            self.known.map().remove(&account.account());
        }
        self.commit(DURABLE, |tx| {
            tx.execute(
                "DELETE FROM credential_changes WHERE camera = ?1 AND user = ?2",
                params![key.camera, key.user],
            )
            .map_err(InventoryError::from)?;
            tx.execute(
                "DELETE FROM credential_items WHERE camera = ?1 AND user = ?2",
                params![key.camera, key.user],
            )
            .map_err(InventoryError::from)?;
            self.db.append_audit_in(
                tx,
                &AuditEntry::camera(
                    key.camera.clone(),
                    "credential.forgotten",
                    format!("all passwords for {} deleted from the keychain", key.user),
                    "ok",
                ),
            )?;
            Ok(())
        })
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
                .current(key)?
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

    /// Reads generation `generation` of `key`: from memory when this process has seen it.
    fn read(
        &self,
        key: &CredentialKey,
        generation: i64,
    ) -> Result<Option<Sensitive<String>>, LedgerError> {
        let account = item(key, generation);
        // Legacy slots were rewritten in place, so only real generations are remembered.
        let immutable = generation > 0;
        if immutable {
            if let Some(secret) = self.known.map().get(&account.account()) {
                return Ok(Some(Sensitive::new(secret.expose().clone())));
            }
        }
        let secret = self.store.get(&account)?;
        if let (true, Some(secret)) = (immutable, &secret) {
            self.known
                .map()
                .insert(account.account(), Sensitive::new(secret.expose().clone()));
        }
        Ok(secret)
    }

    fn write(
        &self,
        key: &CredentialKey,
        generation: i64,
        secret: &Sensitive<String>,
    ) -> Result<(), LedgerError> {
        let account = item(key, generation);
        self.store.set(&account, secret)?;
        self.known
            .map()
            .insert(account.account(), Sensitive::new(secret.expose().clone()));
        Ok(())
    }

    fn erase(&self, key: &CredentialKey, generation: i64) -> Result<(), LedgerError> {
        let account = item(key, generation);
        self.known.map().remove(&account.account());
        self.store.delete(&account)?;
        Ok(())
    }

    /// Generations of `key` reserved in `credential_items`.
    fn items(&self, key: &CredentialKey) -> Result<Vec<i64>, LedgerError> {
        let conn = self.db.lock();
        let mut stmt = conn
            .prepare(
                "SELECT gen FROM credential_items WHERE camera = ?1 AND user = ?2 ORDER BY gen",
            )
            .map_err(InventoryError::from)?;
        let rows = stmt
            .query_map(params![key.camera, key.user], |r| r.get(0))
            .map_err(InventoryError::from)?;
        Ok(rows
            .collect::<Result<_, _>>()
            .map_err(InventoryError::from)?)
    }

    /// Deletes the generations of `key` no pointer refers to: keychain first, then their items.
    fn collect(&self, key: &CredentialKey) -> Result<(), LedgerError> {
        let pointers = self.pointers(key)?;
        let referenced: Vec<i64> = pointers.referenced().collect();
        for generation in self.items(key)? {
            if referenced.contains(&generation) {
                continue;
            }
            self.erase(key, generation)?;
            let conn = self.db.lock();
            forget_item(&conn, generation)?;
        }
        Ok(())
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
        Ok(self.pointers(key)?.phase)
    }

    fn pointers(&self, key: &CredentialKey) -> Result<Pointers, LedgerError> {
        let conn = self.db.lock();
        let row = conn
            .query_row(
                "SELECT phase, current_gen, pending_gen, previous_gen FROM credential_changes
                 WHERE camera = ?1 AND user = ?2",
                params![key.camera, key.user],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        Pointers {
                            phase: None,
                            current: r.get(1)?,
                            pending: r.get(2)?,
                            previous: r.get(3)?,
                        },
                    ))
                },
            )
            .optional()
            .map_err(InventoryError::from)?;
        let Some((phase, pointers)) = row else {
            return Ok(Pointers::default());
        };
        Ok(Pointers {
            phase: Some(Phase::parse(&phase)?),
            ..pointers
        })
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

    /// Drops a pending change: the credential goes back to where it was before (promoted while
    /// an older previous password is still kept, settled otherwise), then the pending generation
    /// is deleted.
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
        let now = self.db.now_text()?;
        self.commit(NOT_DURABLE, |tx| {
            let changed = tx
                .execute(
                    "UPDATE credential_changes SET pending_gen = NULL,
                        phase = CASE WHEN previous_gen IS NULL THEN 'settled' ELSE 'promoted' END,
                        settled_at = CASE WHEN previous_gen IS NULL THEN ?3 END
                     WHERE camera = ?1 AND user = ?2 AND phase = 'pending'",
                    params![key.camera, key.user, now],
                )
                .map_err(InventoryError::from)?;
            if changed != 1 {
                return Err(LedgerError::NoChange {
                    key: key.to_string(),
                    expected: "pending",
                });
            }
            self.db.append_audit_in(tx, &audit)?;
            Ok(())
        })?;
        self.collect(key)
    }

    /// Runs `work` in an IMMEDIATE transaction on the inventory's connection and commits it,
    /// holding the connection until the commit is done. With [`DURABLE`] the commit is made under
    /// synchronous=FULL, to survive a power cut (see the module documentation for which commits
    /// are); with [`NOT_DURABLE`] under the connection's usual setting. An error from `work` is
    /// returned as it is, and the transaction is rolled back (dropped without a commit).
    fn commit<T>(
        &self,
        durable: bool,
        work: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, LedgerError>,
    ) -> Result<T, LedgerError> {
        // Whichever guard is taken lives until the end, after the transaction; the durable one
        // sets synchronous back when dropped.
        let (mut full, mut normal);
        let conn: &mut rusqlite::Connection = if durable {
            full = self.db.lock_durable()?;
            &mut full
        } else {
            normal = self.db.lock();
            &mut normal
        };
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(InventoryError::from)?;
        let value = work(&tx)?;
        tx.commit().map_err(InventoryError::from)?;
        Ok(value)
    }
}

/// [`CredentialLedger::commit`]: a commit made under synchronous=FULL.
const DURABLE: bool = true;
/// [`CredentialLedger::commit`]: a commit made under the connection's usual synchronous setting.
const NOT_DURABLE: bool = false;

/// Reserves a new generation of `key` (before anything is written to the keychain under it).
fn reserve(tx: &rusqlite::Transaction<'_>, key: &CredentialKey) -> Result<i64, LedgerError> {
    tx.execute(
        "INSERT INTO credential_items (camera, user) VALUES (?1, ?2)",
        params![key.camera, key.user],
    )
    .map_err(InventoryError::from)?;
    Ok(tx.last_insert_rowid())
}

/// Drops the record of a generation whose keychain entry is deleted.
fn forget_item(conn: &rusqlite::Connection, generation: i64) -> Result<(), LedgerError> {
    conn.execute(
        "DELETE FROM credential_items WHERE gen = ?1",
        params![generation],
    )
    .map_err(InventoryError::from)?;
    Ok(())
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
        // begin (1 commit + 1 keychain) + camera + promote (1 commit) + retire (1 keychain + 1
        // commit).
        assert!(
            steps >= 6,
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
        // 7 crash points of the rotation × 21 of the recovery.
        assert!(total > 140, "{total}");
    }

    fn ledger_in_memory() -> (CredentialLedger, Arc<MemoryStore>) {
        let store = Arc::new(MemoryStore::default());
        let inv = Inventory::open_in_memory().unwrap();
        (CredentialLedger::new(store.clone(), &inv), store)
    }

    /// What `store` holds under `account`.
    fn stored(store: &MemoryStore, account: &CredentialKey) -> Option<String> {
        store.get(account).unwrap().map(|s| s.expose().clone())
    }

    fn pending_account(ledger: &CredentialLedger, key: &CredentialKey) -> CredentialKey {
        item(key, ledger.pointers(key).unwrap().pending.unwrap())
    }

    #[test]
    fn slots_move_through_a_rotation() {
        let (ledger, store) = ledger_in_memory();
        let k = key();
        ledger.record_current(&k, &pw(OLD)).unwrap();
        let change = ledger.begin_change(&k, &pw(NEW)).unwrap();
        assert_eq!(ledger.pending().unwrap(), vec![k.clone()]);
        assert_eq!(
            stored(&store, &pending_account(&ledger, &k)),
            Some(NEW.into())
        );
        assert_eq!(ledger.current(&k).unwrap().unwrap().expose(), OLD);
        assert_eq!(ledger.change(&k).unwrap().unwrap().phase, Phase::Pending);

        change.promote().unwrap();
        assert!(ledger.pending().unwrap().is_empty());
        assert_eq!(ledger.current(&k).unwrap().unwrap().expose(), NEW);
        assert_eq!(ledger.previous(&k).unwrap().unwrap().expose(), OLD);
        // Two entries: the new current and the old one kept as previous; nothing pending.
        assert!(ledger.pointers(&k).unwrap().pending.is_none());
        assert_eq!(store.accounts().len(), 2);
        assert_eq!(
            stored(&store, &ledger.current_account(&k).unwrap().unwrap()),
            Some(NEW.into())
        );
        assert_eq!(ledger.awaiting_retirement().unwrap(), vec![k.clone()]);
        let rec = ledger.change(&k).unwrap().unwrap();
        assert_eq!(rec.phase, Phase::Promoted);
        assert!(rec.promoted_at.is_some());

        ledger.retire_previous(&k).unwrap();
        assert!(ledger.previous(&k).unwrap().is_none());
        assert_eq!(store.accounts().len(), 1, "the previous entry is deleted");
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
            stored(&store, &pending_account(&ledger, &k)),
            Some(NEW.into())
        );
        assert_eq!(store.accounts().len(), 2);
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
            stored(&store, &pending_account(&ledger, &k)),
            Some(NEW.into())
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
        // Only the current entry is left; the discarded pending one is deleted.
        assert_eq!(
            store.accounts(),
            vec![ledger.current_account(&k).unwrap().unwrap().account()]
        );
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
        // And a generation a crash left unreferenced: reserved, written, never pointed at.
        let orphan = {
            let mut conn = ledger.db.lock();
            let tx = conn.transaction().unwrap();
            let g = reserve(&tx, &k).unwrap();
            tx.commit().unwrap();
            g
        };
        store.set(&item(&k, orphan), &pw("Orphan-Pass-9")).unwrap();
        assert_eq!(store.accounts().len(), 3);
        assert_eq!(ledger.keychain_accounts(&k).unwrap().len(), 3);
        ledger.forget(&k).unwrap();
        assert!(store.accounts().is_empty(), "{:?}", store.accounts());
        assert!(ledger.change(&k).unwrap().is_none());
        assert!(ledger.items(&k).unwrap().is_empty());
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

    /// A keychain that counts its calls by kind.
    #[derive(Debug, Default)]
    struct Counting {
        inner: MemoryStore,
        calls: Mutex<Vec<&'static str>>,
    }

    impl SecretStore for Counting {
        fn get(&self, key: &CredentialKey) -> Result<Option<Sensitive<String>>, VaultError> {
            self.calls.lock().unwrap().push("get");
            self.inner.get(key)
        }
        fn set(&self, key: &CredentialKey, secret: &Sensitive<String>) -> Result<(), VaultError> {
            self.calls.lock().unwrap().push("set");
            self.inner.set(key, secret)
        }
        fn delete(&self, key: &CredentialKey) -> Result<(), VaultError> {
            self.calls.lock().unwrap().push("delete");
            self.inner.delete(key)
        }
    }

    #[test]
    fn a_first_password_costs_one_keychain_write_and_a_rotation_one_write_and_one_delete() {
        let store = Arc::new(Counting::default());
        let inv = Inventory::open_in_memory().unwrap();
        let ledger = CredentialLedger::new(store.clone(), &inv);
        let k = key();
        let calls = || std::mem::take(&mut *store.calls.lock().unwrap());

        assert!(ledger.current(&k).unwrap().is_none());
        ledger
            .begin_change(&k, &pw(OLD))
            .unwrap()
            .promote()
            .unwrap();
        ledger.retire_previous(&k).unwrap();
        assert_eq!(ledger.current(&k).unwrap().unwrap().expose(), OLD);
        assert_eq!(calls(), ["set"], "first password");
        assert!(ledger.awaiting_retirement().unwrap().is_empty());

        ledger
            .begin_change(&k, &pw(NEW))
            .unwrap()
            .promote()
            .unwrap();
        assert_eq!(ledger.previous(&k).unwrap().unwrap().expose(), OLD);
        ledger.retire_previous(&k).unwrap();
        assert_eq!(ledger.current(&k).unwrap().unwrap().expose(), NEW);
        assert_eq!(calls(), ["set", "delete"], "rotation");
        assert_eq!(store.inner.accounts().len(), 1);

        // Another process (a fresh ledger on the same keychain and file) reads the keychain once.
        let other = CredentialLedger::new(store.clone(), &inv);
        for _ in 0..3 {
            assert_eq!(other.current(&k).unwrap().unwrap().expose(), NEW);
        }
        assert_eq!(calls(), ["get"]);
    }

    #[test]
    fn a_keychain_that_refuses_the_new_password_leaves_no_change_in_flight() {
        #[derive(Debug, Default)]
        struct Refusing(MemoryStore);
        impl SecretStore for Refusing {
            fn get(&self, key: &CredentialKey) -> Result<Option<Sensitive<String>>, VaultError> {
                self.0.get(key)
            }
            fn set(&self, _: &CredentialKey, _: &Sensitive<String>) -> Result<(), VaultError> {
                Err(VaultError::KeychainUnavailable("locked".into()))
            }
            fn delete(&self, key: &CredentialKey) -> Result<(), VaultError> {
                self.0.delete(key)
            }
        }
        let inv = Inventory::open_in_memory().unwrap();
        let ledger = CredentialLedger::new(Arc::new(Refusing::default()), &inv);
        let err = ledger.begin_change(&key(), &pw(NEW)).unwrap_err();
        assert_eq!(err.code(), "keychain_unavailable");
        assert!(ledger.pending().unwrap().is_empty());
        assert!(ledger.items(&key()).unwrap().is_empty());
        // Nothing blocks the next try.
        assert!(matches!(
            ledger.begin_change(&key(), &pw(NEW)),
            Err(LedgerError::Vault(_))
        ));
    }

    /// An inventory written by a version from before generations (schema 4), with the named
    /// slots in the keychain, is migrated and each of its states carries on.
    #[test]
    fn credentials_from_before_generations_stay_usable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("camward.sqlite3");
        {
            let conn = rusqlite::Connection::open(&path).unwrap();
            for sql in &crate::inventory::MIGRATIONS[..4] {
                conn.execute_batch(sql).unwrap();
            }
            conn.execute_batch(
                "PRAGMA user_version = 4;
                 INSERT INTO credential_changes (camera, user, phase, has_previous, created_at)
                   VALUES ('cam-settled', 'admin', 'settled', 0, 't'),
                          ('cam-promoting', 'admin', 'promoting', 1, 't'),
                          ('cam-pending', 'admin', 'pending', 0, 't'),
                          ('cam-promoted', 'admin', 'promoted', 1, 't');
                 INSERT INTO audit_log (seq, at, actor, camera, action, detail, result, prev_hash, hash)
                   VALUES (1, 't', 'x', 'cam-recorded', 'credential.recorded',
                           'known password for root stored in the keychain', 'ok', x'00', x'00');",
            )
            .unwrap();
        }
        let store = Arc::new(MemoryStore::default());
        let legacy = |camera: &str, user: &str, secret: &str| {
            store
                .set(&CredentialKey::new(camera, user), &pw(secret))
                .unwrap();
        };
        legacy("cam-settled", "admin", "Settled-1");
        legacy("cam-recorded", "root", "Recorded-2");
        legacy("cam-promoting", "admin", OLD);
        legacy("cam-promoting", "admin#previous", OLD);
        legacy("cam-promoting", "admin#pending", NEW);
        legacy("cam-pending", "admin", OLD);
        legacy("cam-pending", "admin#pending", NEW);
        legacy("cam-promoted", "admin", NEW);
        legacy("cam-promoted", "admin#previous", OLD);

        let inv = Inventory::open(&path).unwrap();
        assert_eq!(
            inv.schema_version().unwrap(),
            crate::inventory::MIGRATIONS.len() as i64
        );
        let ledger = CredentialLedger::new(store.clone(), &inv);
        let current = |camera: &str, user: &str| {
            ledger
                .current(&CredentialKey::new(camera, user))
                .unwrap()
                .map(|s| s.expose().clone())
        };
        assert_eq!(
            current("cam-settled", "admin").as_deref(),
            Some("Settled-1")
        );
        assert_eq!(
            current("cam-recorded", "root").as_deref(),
            Some("Recorded-2")
        );
        assert_eq!(current("cam-promoted", "admin").as_deref(), Some(NEW));

        let promoting = CredentialKey::new("cam-promoting", "admin");
        let pending = CredentialKey::new("cam-pending", "admin");
        assert_eq!(
            ledger.pending().unwrap(),
            vec![pending.clone(), promoting.clone()]
        );
        assert_eq!(
            ledger
                .resolve(&promoting, |_| Ok::<_, Infallible>(false))
                .unwrap(),
            Resolution::Promoted,
            "a promotion is finished without the camera"
        );
        assert_eq!(current("cam-promoting", "admin").as_deref(), Some(NEW));
        assert_eq!(ledger.previous(&promoting).unwrap().unwrap().expose(), OLD);
        assert_eq!(
            ledger
                .resolve(&pending, |p| Ok::<_, Infallible>(p.expose() == NEW))
                .unwrap(),
            Resolution::Promoted
        );
        assert_eq!(current("cam-pending", "admin").as_deref(), Some(NEW));
        for key in ledger.awaiting_retirement().unwrap() {
            ledger.retire_previous(&key).unwrap();
        }
        // A rotation from a legacy credential moves it onto generations.
        let settled = CredentialKey::new("cam-settled", "admin");
        ledger
            .begin_change(&settled, &pw(NEW))
            .unwrap()
            .promote()
            .unwrap();
        ledger.retire_previous(&settled).unwrap();
        assert_eq!(current("cam-settled", "admin").as_deref(), Some(NEW));
        assert!(ledger
            .current_account(&settled)
            .unwrap()
            .unwrap()
            .user
            .starts_with("admin#g"));

        // Decommissioning leaves nothing of any of them, legacy names included.
        for camera in [
            "cam-settled",
            "cam-recorded",
            "cam-promoting",
            "cam-pending",
            "cam-promoted",
        ] {
            let user = if camera == "cam-recorded" {
                "root"
            } else {
                "admin"
            };
            ledger.forget(&CredentialKey::new(camera, user)).unwrap();
        }
        assert!(store.accounts().is_empty(), "{:?}", store.accounts());
    }
}
