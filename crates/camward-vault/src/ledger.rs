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
//! ## Journals: new passwords written together
//!
//! The keychain serves one call at a time, at ~6–9 ms a write on gnome-keyring, so a batch of a
//! hundred cameras each storing its new password before sending it queued for most of a second
//! with nothing else to do. So the writes of new passwords are *group-committed*
//! (`group_commit.rs`): a write that finds none in progress goes to the generation's own entry at
//! once; those that arrive meanwhile wait and then go to the keychain together, as one *journal*
//! entry (account `camward-journal|j<N>`, a JSON list of generation numbers and passwords),
//! reserved first in SQLite (`credential_journals`, and `credential_items.journal` names it for
//! each of its generations, durably, before the keychain write). A generation in a journal is as
//! safe as one in its own entry: [`CredentialLedger::begin_change`] returns only once the journal
//! is written.
//!
//! A thread then moves each of a journal's generations to its own entry (K: write it, S: clear
//! its `journal`) and deletes the journal (K) and its row (S) once none is left in it; batch
//! operations wait for that with [`CredentialLedger::settle_journals`], which also finishes any
//! journal an earlier process left. Every step can be repeated, so a crash anywhere is finished
//! by the next settle. A generation is read from its own entry, else from its journal. Erasing a
//! generation, or forgetting a credential, settles its journal first, so no entry keeps a
//! password once it is erased.
//!
//! ## Phases and the order of writes
//!
//! `K:` is a keychain call, `S:` a SQLite commit. A crash (SIGKILL) can fall between any two lines.
//!
//! ```text
//! begin_change   S: item g reserved; phase := pending, pending := g (+ audit)
//!                K: g := new                 -- if this never happened, resolve() abandons g
//!                   (or, when other writes were in progress: S: journal j reserved, g in j;
//!                   K: j := [g: new, …]; later, in the background: K: g := new; S: g not in j;
//!                   …; K: delete j; S: forget j)
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
use crate::inventory::{AuditEntry, Cached as _, Inventory, InventoryError};
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
    journals: Arc<Journals>,
}

/// A new password waiting for its keychain write ([`CredentialLedger::write`]).
struct NewItem {
    key: CredentialKey,
    generation: i64,
    secret: Sensitive<String>,
}

/// The keychain account of journal `id`: under a "camera" name no camera key can have (those are
/// `mac:…`, `serial:…`, `host:…`).
fn journal_account(id: i64) -> CredentialKey {
    CredentialKey::new(JOURNAL_CAMERA, format!("j{id}"))
}

/// See [`journal_account`].
pub const JOURNAL_CAMERA: &str = "camward-journal";

/// One generation in a journal's keychain entry (a JSON array of these).
#[derive(serde::Serialize)]
struct JournalLine<'a> {
    generation: i64,
    secret: &'a str,
}

#[derive(serde::Deserialize)]
struct JournalLineOwned {
    generation: i64,
    secret: String,
}

/// The keychain writes of new passwords, made in groups, and the journals they leave.
#[derive(Default)]
struct Journals {
    commits: crate::group_commit::GroupCommit<NewItem, LedgerError>,
    /// Held while a journal's generation moves to its own entry, or the journal is deleted, so
    /// that a generation deleted meanwhile is never written back.
    moving: Mutex<()>,
    /// The threads moving the journals this process wrote to their generations' own entries.
    movers: Mutex<Vec<std::thread::JoinHandle<()>>>,
    /// Whose turn it is at the keychain: a move waits while a new password waits to be written.
    turns: Turns,
}

/// Turns at the keychain, which serves one call at a time: a new password (a camera waits for
/// it before it can go on) goes before moving a journal's passwords to their own entries (nobody
/// waits for that), so a move never holds up more than its own one call.
#[derive(Default)]
struct Turns {
    state: Mutex<TurnState>,
    changed: std::sync::Condvar,
}

#[derive(Default)]
struct TurnState {
    busy: bool,
    urgent_waiting: usize,
}

impl Turns {
    /// Runs `call` as soon as the keychain is free: for a new password.
    fn urgent<T>(&self, call: impl FnOnce() -> T) -> T {
        let mut state = lock(&self.state);
        state.urgent_waiting += 1;
        while state.busy {
            state = self.wait(state);
        }
        state.urgent_waiting -= 1;
        state.busy = true;
        drop(state);
        self.run(call)
    }

    /// Runs `call` once the keychain is free and no new password waits: for moves.
    fn idle<T>(&self, call: impl FnOnce() -> T) -> T {
        let mut state = lock(&self.state);
        while state.busy || state.urgent_waiting > 0 {
            state = self.wait(state);
        }
        state.busy = true;
        drop(state);
        self.run(call)
    }

    fn wait<'a>(
        &self,
        state: std::sync::MutexGuard<'a, TurnState>,
    ) -> std::sync::MutexGuard<'a, TurnState> {
        self.changed
            .wait(state)
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn run<T>(&self, call: impl FnOnce() -> T) -> T {
        /// Frees the turn however `call` ends, panics included.
        struct Free<'a>(&'a Turns);
        impl Drop for Free<'_> {
            fn drop(&mut self) {
                lock(&self.0.state).busy = false;
                self.0.changed.notify_all();
            }
        }
        let _free = Free(self);
        call()
    }
}

impl fmt::Debug for Journals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Journals")
    }
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
            journals: Arc::default(),
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
            .query_row_cached(
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
            tx.execute_cached(
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
            tx.execute_cached(
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
                        .execute_cached(
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
            tx.execute_cached(
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
                        .execute_cached(
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
            .query_row_cached(
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
        // A journal holding one of its passwords goes first (it holds other cameras' too).
        for generation in self.items(key)? {
            if let Some(journal) = self.journal_of(generation)? {
                crate::store::blocking(|| self.settle_journal(journal))?;
            }
        }
        for account in self.keychain_accounts(key)? {
            self.store.delete(&account)?;
            self.known.map().remove(&account.account());
        }
        self.commit(DURABLE, |tx| {
            tx.execute_cached(
                "DELETE FROM credential_changes WHERE camera = ?1 AND user = ?2",
                params![key.camera, key.user],
            )
            .map_err(InventoryError::from)?;
            tx.execute_cached(
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
        let mut secret = self.store.get(&account)?;
        if secret.is_none() && immutable {
            // Not in an entry of its own yet: in the journal it was written in, if any.
            match self.journal_of(generation)? {
                Some(journal) => secret = self.read_journal(journal)?.remove(&generation),
                // Or moved to its own entry since the first look.
                None => secret = self.store.get(&account)?,
            }
        }
        if let (true, Some(secret)) = (immutable, &secret) {
            self.known
                .map()
                .insert(account.account(), Sensitive::new(secret.expose().clone()));
        }
        Ok(secret)
    }

    /// Writes generation `generation` of `key` to the keychain: to its own entry when no other
    /// write is in progress, else together with every other new password that arrived meanwhile,
    /// in one journal entry (module documentation, "Journals"). Either way the password is in the
    /// keychain when this returns.
    fn write(
        &self,
        key: &CredentialKey,
        generation: i64,
        secret: &Sensitive<String>,
    ) -> Result<(), LedgerError> {
        let item = NewItem {
            key: key.clone(),
            generation,
            secret: secret.clone(),
        };
        // Waiting for a turn blocks this thread: on a tokio worker, its other tasks are handed
        // to the rest of the pool first, as for the keychain call itself.
        crate::store::blocking(|| {
            self.journals.commits.submit(
                item,
                |batch| self.write_batch(batch),
                |e| shared_error(key, e),
            )
        })
    }

    fn write_batch(&self, mut batch: Vec<NewItem>) -> Result<(), LedgerError> {
        if batch.len() == 1 {
            let NewItem {
                key,
                generation,
                secret,
            } = batch.remove(0);
            let account = item(&key, generation);
            self.journals
                .turns
                .urgent(|| self.store.set(&account, &secret))?;
            self.known.map().insert(account.account(), secret);
            return Ok(());
        }
        // Reserved (durably: a camera may be told these passwords) before the keychain write, so
        // no journal entry can exist unrecorded.
        let now = self.db.now_text()?;
        let id = self.commit(DURABLE, |tx| {
            tx.execute_cached(
                "INSERT INTO credential_journals (created_at) VALUES (?1)",
                params![now],
            )
            .map_err(InventoryError::from)?;
            let id = tx.last_insert_rowid();
            for new in &batch {
                tx.execute_cached(
                    "UPDATE credential_items SET journal = ?1 WHERE gen = ?2",
                    params![id, new.generation],
                )
                .map_err(InventoryError::from)?;
            }
            Ok(id)
        })?;
        let lines: Vec<JournalLine<'_>> = batch
            .iter()
            .map(|new| JournalLine {
                generation: new.generation,
                secret: new.secret.expose(),
            })
            .collect();
        let text = Sensitive::new(serde_json::to_string(&lines).map_err(|e| {
            InventoryError::Corrupt(format!("journal {id} cannot be encoded: {e}"))
        })?);
        drop(lines);
        self.journals
            .turns
            .urgent(|| self.store.set(&journal_account(id), &text))?;
        tracing::info!(
            journal = id,
            passwords = batch.len(),
            "new passwords stored together in one keychain entry"
        );
        {
            let mut known = self.known.map();
            for new in batch {
                known.insert(item(&new.key, new.generation).account(), new.secret);
            }
        }
        // Each generation gets its own entry in the background; the journal is deleted after.
        let ledger = self.clone();
        let mover = std::thread::Builder::new()
            .name(format!("camward-journal-{id}"))
            .spawn(move || {
                if let Err(e) = ledger.settle_journal(id) {
                    tracing::warn!(journal = id, error = %e, "journal not settled yet; the next settle will");
                }
            });
        match mover {
            Ok(handle) => lock(&self.journals.movers).push(handle),
            Err(e) => {
                tracing::warn!(journal = id, error = %e, "no thread to settle the journal; the next settle will")
            }
        }
        Ok(())
    }

    /// Moves every generation of journal `id` to its own keychain entry, then deletes the
    /// journal. Each step is safe to repeat, so an interrupted one is simply done again.
    fn settle_journal(&self, id: i64) -> Result<(), LedgerError> {
        let members: Vec<(i64, CredentialKey)> = {
            let conn = self.db.lock();
            let mut stmt = conn
                .prepare_cached("SELECT gen, camera, user FROM credential_items WHERE journal = ?1")
                .map_err(InventoryError::from)?;
            let rows = stmt
                .query_map(params![id], |r| {
                    Ok((
                        r.get(0)?,
                        CredentialKey::new(r.get::<_, String>(1)?, r.get::<_, String>(2)?),
                    ))
                })
                .map_err(InventoryError::from)?;
            rows.collect::<Result<_, _>>()
                .map_err(InventoryError::from)?
        };
        // The journal's own text, read only if a member is not in this process's memory.
        let mut text: Option<HashMap<i64, Sensitive<String>>> = None;
        for (generation, key) in members {
            let _moving = lock(&self.journals.moving);
            if self.journal_of(generation)? != Some(id) {
                continue; // deleted or moved meanwhile
            }
            let account = item(&key, generation);
            let known = self
                .known
                .map()
                .get(&account.account())
                .map(|s| Sensitive::new(s.expose().clone()));
            let secret = match known {
                Some(secret) => Some(secret),
                None => {
                    if text.is_none() {
                        text = Some(self.read_journal(id)?);
                    }
                    text.as_mut().and_then(|t| t.remove(&generation))
                }
            };
            // A member missing from the journal was never stored (a crash before the journal's
            // keychain write), so never sent: it simply has no entry.
            if let Some(secret) = secret {
                self.journals
                    .turns
                    .idle(|| self.store.set(&account, &secret))?;
            }
            self.db
                .lock()
                .execute_cached(
                    "UPDATE credential_items SET journal = NULL WHERE gen = ?1 AND journal = ?2",
                    params![generation, id],
                )
                .map_err(InventoryError::from)?;
        }
        let _moving = lock(&self.journals.moving);
        let left: i64 = self
            .db
            .lock()
            .query_row_cached(
                "SELECT COUNT(*) FROM credential_items WHERE journal = ?1",
                params![id],
                |r| r.get(0),
            )
            .map_err(InventoryError::from)?;
        if left == 0 {
            self.journals
                .turns
                .idle(|| self.store.delete(&journal_account(id)))?;
            self.db
                .lock()
                .execute_cached("DELETE FROM credential_journals WHERE id = ?1", params![id])
                .map_err(InventoryError::from)?;
            tracing::debug!(
                journal = id,
                "journal settled: each password in its own entry"
            );
        }
        Ok(())
    }

    /// The generations a journal's keychain entry holds (none when the entry is missing).
    fn read_journal(&self, id: i64) -> Result<HashMap<i64, Sensitive<String>>, LedgerError> {
        let Some(text) = self.store.get(&journal_account(id))? else {
            return Ok(HashMap::new());
        };
        // serde_json's message may quote the text it read: only where it went wrong is said.
        let lines: Vec<JournalLineOwned> = serde_json::from_str(text.expose()).map_err(|e| {
            InventoryError::Corrupt(format!(
                "journal {id} in the keychain is not a list of passwords ({:?} error at line {}, column {})",
                e.classify(),
                e.line(),
                e.column()
            ))
        })?;
        Ok(lines
            .into_iter()
            .map(|line| (line.generation, Sensitive::new(line.secret)))
            .collect())
    }

    /// The journal generation `generation` is in, if any.
    fn journal_of(&self, generation: i64) -> Result<Option<i64>, LedgerError> {
        Ok(self
            .db
            .lock()
            .query_row_cached(
                "SELECT journal FROM credential_items WHERE gen = ?1",
                params![generation],
                |r| r.get::<_, Option<i64>>(0),
            )
            .optional()
            .map_err(InventoryError::from)?
            .flatten())
    }

    /// Settles every journal: waits for this process's own to be moved to their generations'
    /// entries, then does the same for any an earlier process left (it was stopped before). After
    /// this every password is in an entry of its own. Batch operations call it before they
    /// return.
    pub fn settle_journals(&self) -> Result<(), LedgerError> {
        let movers: Vec<_> = lock(&self.journals.movers).drain(..).collect();
        for mover in movers {
            if mover.join().is_err() {
                tracing::warn!("a journal thread panicked; settling its journal here");
            }
        }
        let ids: Vec<i64> = {
            let conn = self.db.lock();
            let mut stmt = conn
                .prepare_cached("SELECT id FROM credential_journals ORDER BY id")
                .map_err(InventoryError::from)?;
            let rows = stmt
                .query_map([], |r| r.get(0))
                .map_err(InventoryError::from)?;
            rows.collect::<Result<_, _>>()
                .map_err(InventoryError::from)?
        };
        for id in ids {
            self.settle_journal(id)?;
        }
        Ok(())
    }

    fn erase(&self, key: &CredentialKey, generation: i64) -> Result<(), LedgerError> {
        // Its journal goes first, so that no entry keeps this password once it is erased.
        if let Some(journal) = self.journal_of(generation)? {
            crate::store::blocking(|| self.settle_journal(journal))?;
        }
        let account = item(key, generation);
        self.known.map().remove(&account.account());
        self.store.delete(&account)?;
        Ok(())
    }

    /// Generations of `key` reserved in `credential_items`.
    fn items(&self, key: &CredentialKey) -> Result<Vec<i64>, LedgerError> {
        let conn = self.db.lock();
        let mut stmt = conn
            .prepare_cached(
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
            .query_row_cached(
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
            .prepare_cached(&format!(
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
            .execute_cached(
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
                .execute_cached(
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

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The error a grouped keychain write gives the other members of its group (`None`: the write
/// panicked).
fn shared_error(key: &CredentialKey, error: Option<&LedgerError>) -> LedgerError {
    match error {
        Some(LedgerError::Vault(e)) => LedgerError::Vault(e.clone()),
        Some(other) => LedgerError::Vault(VaultError::Keychain {
            key: key.to_string(),
            reason: format!("the keychain write of a group of new passwords failed: {other}"),
        }),
        None => LedgerError::Vault(VaultError::Keychain {
            key: key.to_string(),
            reason: "the keychain write of a group of new passwords was interrupted".into(),
        }),
    }
}

/// [`CredentialLedger::commit`]: a commit made under synchronous=FULL.
const DURABLE: bool = true;
/// [`CredentialLedger::commit`]: a commit made under the connection's usual synchronous setting.
const NOT_DURABLE: bool = false;

/// Reserves a new generation of `key` (before anything is written to the keychain under it).
fn reserve(tx: &rusqlite::Transaction<'_>, key: &CredentialKey) -> Result<i64, LedgerError> {
    tx.execute_cached(
        "INSERT INTO credential_items (camera, user) VALUES (?1, ?2)",
        params![key.camera, key.user],
    )
    .map_err(InventoryError::from)?;
    Ok(tx.last_insert_rowid())
}

/// Drops the record of a generation whose keychain entry is deleted.
fn forget_item(conn: &rusqlite::Connection, generation: i64) -> Result<(), LedgerError> {
    conn.execute_cached(
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

    /// A keychain whose writes take 30 ms (so writes arriving meanwhile form a group) and which
    /// can be told to refuse journal entries.
    #[derive(Debug, Default)]
    struct SlowKeychain {
        inner: MemoryStore,
        refuse_journals: bool,
    }

    impl SecretStore for SlowKeychain {
        fn get(&self, key: &CredentialKey) -> Result<Option<Sensitive<String>>, VaultError> {
            self.inner.get(key)
        }
        fn set(&self, key: &CredentialKey, secret: &Sensitive<String>) -> Result<(), VaultError> {
            std::thread::sleep(std::time::Duration::from_millis(30));
            if self.refuse_journals && key.camera == JOURNAL_CAMERA {
                return Err(VaultError::KeychainUnavailable(
                    "the keychain is locked".into(),
                ));
            }
            self.inner.set(key, secret)
        }
        fn delete(&self, key: &CredentialKey) -> Result<(), VaultError> {
            self.inner.delete(key)
        }
    }

    fn camera(i: usize) -> CredentialKey {
        CredentialKey::new(format!("mac:02:00:00:00:01:{i:02x}"), "admin")
    }

    fn password(i: usize) -> String {
        format!("New-Strong-Pass-{i}!")
    }

    /// Eight cameras begin a change at once: the first password is written alone, the seven that
    /// arrive during its write are written in one journal entry. Returns each camera's result.
    fn eight_at_once(ledger: &CredentialLedger) -> Vec<Result<(), LedgerError>> {
        let start = Arc::new(std::sync::Barrier::new(8));
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let (ledger, start) = (ledger.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    if i > 0 {
                        std::thread::sleep(std::time::Duration::from_millis(10));
                    }
                    ledger
                        .begin_change(&camera(i), &pw(&password(i)))
                        .map(|change| change.promote().unwrap())
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    }

    /// A process that wrote eight passwords at once and, while the test holds it, has not moved
    /// its journal yet; with the keychain and inventory a second process would see.
    struct Held {
        store: Arc<SlowKeychain>,
        inv: Inventory,
        first: CredentialLedger,
    }

    impl Held {
        fn new() -> Self {
            let store = Arc::new(SlowKeychain::default());
            let inv = Inventory::open_in_memory().unwrap();
            let first = CredentialLedger::new(store.clone(), &inv);
            Self { store, inv, first }
        }

        /// Another process on the same keychain and inventory.
        fn other(&self) -> CredentialLedger {
            CredentialLedger::new(self.store.clone(), &self.inv)
        }
    }

    fn journal_rows(ledger: &CredentialLedger) -> i64 {
        ledger
            .db
            .lock()
            .query_row("SELECT COUNT(*) FROM credential_journals", [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn passwords_written_at_once_share_one_journal_then_get_entries_of_their_own() {
        let lab = Held::new();
        let (store, ledger) = (lab.store.clone(), lab.first.clone());
        // Keep the journal from being moved until the test has looked at it.
        let held = ledger.journals.moving.lock().unwrap();
        let results = eight_at_once(&ledger);
        assert!(results.iter().all(Result::is_ok), "{results:?}");
        let accounts = store.inner.accounts();
        assert_eq!(
            accounts
                .iter()
                .filter(|a| a.starts_with(JOURNAL_CAMERA))
                .count(),
            1,
            "one journal entry for the seven: {accounts:?}"
        );
        assert_eq!(accounts.len(), 2, "{accounts:?}");
        assert_eq!(journal_rows(&ledger), 1);
        // Another process (no memory of what this one wrote) reads each password, from the
        // journal for the seven.
        let other = lab.other();
        for i in 0..8 {
            assert_eq!(
                other.current(&camera(i)).unwrap().unwrap().expose(),
                &password(i)
            );
        }
        let journal = accounts
            .iter()
            .find(|a| a.starts_with(JOURNAL_CAMERA))
            .unwrap();
        assert!(
            !journal.contains("mac:"),
            "the account names no camera: {journal}"
        );
        drop(held);
        ledger.settle_journals().unwrap();
        let accounts = store.inner.accounts();
        assert_eq!(
            accounts.len(),
            8,
            "each in its own entry, no journal: {accounts:?}"
        );
        assert_eq!(journal_rows(&ledger), 0);
        for i in 0..8 {
            let own = ledger.current_account(&camera(i)).unwrap().unwrap();
            assert_eq!(
                stored(&store.inner, &own).as_deref(),
                Some(password(i).as_str())
            );
        }
    }

    /// A process stopped before it moved its journal: the next one's settle does it, and the
    /// first one's thread, let go afterwards, finds nothing left to do.
    #[test]
    fn a_journal_left_by_another_process_is_settled_by_the_next_and_settling_twice_is_harmless() {
        let Held { store, inv, first } = Held::new();
        let held = first.journals.moving.lock().unwrap();
        assert!(eight_at_once(&first).iter().all(Result::is_ok));
        let next = CredentialLedger::new(store.clone(), &inv);
        next.settle_journals().unwrap();
        assert_eq!(
            store.inner.accounts().len(),
            8,
            "{:?}",
            store.inner.accounts()
        );
        drop(held);
        first.settle_journals().unwrap();
        assert_eq!(
            store.inner.accounts().len(),
            8,
            "{:?}",
            store.inner.accounts()
        );
        assert_eq!(journal_rows(&first), 0);
        for i in 0..8 {
            assert_eq!(
                next.current(&camera(i)).unwrap().unwrap().expose(),
                &password(i)
            );
        }
    }

    /// Forgetting a camera whose password is still in a journal settles the journal first: the
    /// other cameras keep theirs, and nothing anywhere keeps the forgotten one.
    #[test]
    fn forgetting_a_credential_in_a_journal_leaves_no_copy_of_it() {
        let lab = Held::new();
        let (store, first) = (lab.store.clone(), lab.first.clone());
        let held = first.journals.moving.lock().unwrap();
        assert!(eight_at_once(&first).iter().all(Result::is_ok));
        lab.other().forget(&camera(3)).unwrap();
        drop(held);
        first.settle_journals().unwrap();
        let accounts = store.inner.accounts();
        assert_eq!(accounts.len(), 7, "{accounts:?}");
        assert!(
            accounts.iter().all(|a| !a.contains(&camera(3).camera)),
            "{accounts:?}"
        );
        for value in accounts.iter().map(|a| {
            let (camera, user) = a.split_once('|').unwrap();
            stored(&store.inner, &CredentialKey::new(camera, user)).unwrap()
        }) {
            assert_ne!(value, password(3));
        }
        assert!(first.current(&camera(3)).unwrap().is_none());
        assert_eq!(
            first.current(&camera(4)).unwrap().unwrap().expose(),
            &password(4)
        );
    }

    /// The keychain refuses the journal entry: every camera in it is told, its change is taken
    /// back (nothing was sent), and the one written alone is unaffected.
    #[test]
    fn a_refused_journal_fails_each_of_its_changes_and_takes_them_back() {
        let store = Arc::new(SlowKeychain {
            refuse_journals: true,
            ..Default::default()
        });
        let inv = Inventory::open_in_memory().unwrap();
        let ledger = CredentialLedger::new(store.clone(), &inv);
        let results = eight_at_once(&ledger);
        assert!(results[0].is_ok(), "{:?}", results[0]);
        for (i, result) in results.iter().enumerate().skip(1) {
            let e = result.as_ref().unwrap_err();
            assert_eq!(e.code(), "keychain_unavailable", "camera {i}: {e}");
            assert_eq!(ledger.phase(&camera(i)).unwrap(), Some(Phase::Settled));
            assert!(ledger.current(&camera(i)).unwrap().is_none());
        }
        ledger.settle_journals().unwrap();
        assert_eq!(journal_rows(&ledger), 0);
        assert_eq!(
            store.inner.accounts().len(),
            1,
            "{:?}",
            store.inner.accounts()
        );
        assert!(ledger.items(&camera(5)).unwrap().is_empty());
    }

    /// The keychain of a process about to be killed, whose writes take 15 ms (so that writes
    /// arriving meanwhile are grouped in a journal).
    #[derive(Debug)]
    struct SlowCrashingStore(CrashingStore);

    impl SecretStore for SlowCrashingStore {
        fn get(&self, key: &CredentialKey) -> Result<Option<Sensitive<String>>, VaultError> {
            self.0.get(key)
        }
        fn set(&self, key: &CredentialKey, secret: &Sensitive<String>) -> Result<(), VaultError> {
            std::thread::sleep(std::time::Duration::from_millis(15));
            self.0.set(key, secret)
        }
        fn delete(&self, key: &CredentialKey) -> Result<(), VaultError> {
            self.0.delete(key)
        }
    }

    /// Four cameras rotated at once by a process killed after `steps` steps (keychain calls,
    /// SQLite commits and camera changes, in whatever order the threads make them), then a
    /// recovery by the next process. Returns whether every rotation finished and whether the kill
    /// left a journal behind (the rotations may finish while their journal is still being moved).
    fn journal_scenario(steps: i64) -> (bool, bool) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("camward.sqlite3");
        let inner = Arc::new(MemoryStore::default());
        let cameras: Vec<Arc<Camera>> = (0..4)
            .map(|i| Arc::new(Camera(Mutex::new(format!("Old-Pass-{i}-aa")))))
            .collect();
        let healthy = healthy_process(&path, &inner);
        for (i, cam) in cameras.iter().enumerate() {
            healthy
                .record_current(&camera(i), &pw(&cam.password()))
                .unwrap();
        }
        drop(healthy);

        let budget = Budget::new(steps);
        let inv = Inventory::open(&path).unwrap();
        let b = budget.clone();
        inv.lock().commit_hook(Some(move || !b.step()));
        let store = SlowCrashingStore(CrashingStore {
            inner: inner.clone(),
            budget: budget.clone(),
        });
        let doomed = CredentialLedger::new(Arc::new(store), &inv);
        let start = Arc::new(std::sync::Barrier::new(4));
        let threads: Vec<_> = cameras
            .iter()
            .enumerate()
            .map(|(i, cam)| {
                let (ledger, cam, budget, start) =
                    (doomed.clone(), cam.clone(), budget.clone(), start.clone());
                std::thread::spawn(move || -> Result<(), String> {
                    start.wait();
                    if i > 0 {
                        std::thread::sleep(std::time::Duration::from_millis(5));
                    }
                    let new = format!("New-Pass-{i}-bb");
                    let change = ledger
                        .begin_change(&camera(i), &pw(&new))
                        .map_err(|e| e.to_string())?;
                    if !budget.step() {
                        return Err("killed before the camera took the new password".into());
                    }
                    *cam.0.lock().unwrap() = new;
                    change.promote().map_err(|e| e.to_string())?;
                    ledger
                        .retire_previous(&camera(i))
                        .map_err(|e| e.to_string())
                })
            })
            .collect();
        // Every thread is joined before looking at the results.
        let results: Vec<bool> = threads
            .into_iter()
            .map(|t| t.join().unwrap().is_ok())
            .collect();
        let finished = results.iter().all(|&ok| ok);
        // The killed process's threads are done before the next process starts.
        let _ = doomed.settle_journals();
        let left_journal = journal_rows(&doomed) > 0;
        drop((inv, doomed));

        let ledger = healthy_process(&path, &inner);
        ledger.settle_journals().unwrap();
        for k in ledger.pending().unwrap() {
            let i = (0..4).find(|&i| camera(i) == k).unwrap();
            let resolution = ledger.resolve(&k, |p| cameras[i].accepts(p)).unwrap();
            assert_ne!(resolution, Resolution::NoneAccepted, "after {steps} steps");
        }
        for k in ledger.awaiting_retirement().unwrap() {
            let i = (0..4).find(|&i| camera(i) == k).unwrap();
            let old = ledger.previous(&k).unwrap();
            if old.is_none_or(|o| !cameras[i].accepts(&o).unwrap()) {
                ledger.retire_previous(&k).unwrap();
            }
        }
        ledger.settle_journals().unwrap();
        let context = format!("killed after {steps} steps");
        assert_eq!(journal_rows(&ledger), 0, "{context}");
        for (i, cam) in cameras.iter().enumerate() {
            let current = ledger.current(&camera(i)).unwrap().expect("password lost");
            assert_eq!(current.expose(), &cam.password(), "{context}: camera {i}");
            assert!(ledger.pending().unwrap().is_empty(), "{context}");
        }
        // Only the current passwords remain, each in its own entry: no journal, no stray copy.
        let mut expected: Vec<String> = (0..4)
            .map(|i| {
                ledger
                    .current_account(&camera(i))
                    .unwrap()
                    .unwrap()
                    .account()
            })
            .collect();
        expected.sort();
        assert_eq!(inner.accounts(), expected, "{context}");
        (finished, left_journal)
    }

    #[test]
    fn a_crash_at_any_step_of_grouped_rotations_is_recovered() {
        let mut steps = 0;
        let mut journals_left = 0;
        loop {
            let (finished, left_journal) = journal_scenario(steps);
            journals_left += usize::from(left_journal);
            // Until a kill comes after everything: the rotations and the journal's move.
            if finished && !left_journal {
                break;
            }
            steps += 1;
            assert!(steps < 200, "the rotations never finished");
        }
        assert!(
            steps >= 20,
            "only {steps} crash points: the budget is not being spent"
        );
        assert!(
            journals_left > 0,
            "no crash point left a journal: the grouped path was not exercised"
        );
    }

    /// While a move holds the keychain, a new password that comes to wait goes before a move that
    /// was already waiting.
    #[test]
    fn a_new_password_goes_before_moves_waiting_for_the_keychain() {
        let turns = Arc::new(Turns::default());
        let order = Arc::new(Mutex::new(Vec::new()));
        let run = |name: &'static str, urgent: bool, after_ms: u64| {
            let (turns, order) = (turns.clone(), order.clone());
            std::thread::spawn(move || {
                std::thread::sleep(std::time::Duration::from_millis(after_ms));
                let call = || {
                    order.lock().unwrap().push(name);
                    std::thread::sleep(std::time::Duration::from_millis(40));
                };
                if urgent {
                    turns.urgent(call);
                } else {
                    turns.idle(call);
                }
            })
        };
        let threads = [
            run("move in progress", false, 0),
            run("move waiting", false, 10),
            run("new password", true, 20),
        ];
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(
            *order.lock().unwrap(),
            ["move in progress", "new password", "move waiting"]
        );
    }
}
