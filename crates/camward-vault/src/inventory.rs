//! The inventory: sites, cameras and the append-only, hash-chained audit trail, in one SQLite file.
//!
//! **No secret is ever written here.** A camera row names its credential with a [`CredentialKey`]
//! (camera and user); the password itself lives in the OS keychain.
//!
//! The audit trail is tamper-evident: row `n` stores `hash_n = SHA-256(hash_{n-1} || canonical_n)`,
//! where `hash_0` is 32 zero bytes and `canonical_n` is the JSON array
//! `[seq, at, actor, camera, action, detail, result]` of the row as stored. Editing, deleting or
//! reordering any row breaks the chain from that row on, and [`Inventory::verify_audit_chain`] names
//! the first broken row. SQL triggers additionally refuse `UPDATE` and `DELETE` on the table, so an
//! honest program cannot alter history by mistake; the chain catches someone who drops the triggers.
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use sha2::{Digest, Sha256};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::CredentialKey;

/// A source of "now". Audit timestamps and credential-slot times use it, so tests can skew it
/// (ARCHITECTURE.md: time is passed in).
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current UTC time.
    fn now(&self) -> OffsetDateTime;
}

/// The laptop's real clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// Why the inventory could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    /// SQLite refused (I/O, locking, constraint). The message never contains a secret because no
    /// secret is ever stored in or sent to SQLite.
    #[error("inventory database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The database file was written by a newer Camward.
    #[error(
        "the inventory schema version {found} is newer than this Camward understands ({known})"
    )]
    NewerSchema {
        /// The file's `user_version`.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
    /// The file or its folder could not be created.
    #[error("cannot create the inventory at {path}: {reason}")]
    Io {
        /// The path concerned.
        path: PathBuf,
        /// What the OS said.
        reason: String,
    },
    /// The platform has no per-user data directory.
    #[error("this platform has no per-user data directory for the inventory")]
    NoDataDir,
    /// A stored value could not be decoded (e.g. a timestamp or an address list).
    #[error("inventory value cannot be decoded: {0}")]
    Corrupt(String),
}

impl InventoryError {
    /// Stable code for the UI and CLI.
    pub fn code(&self) -> &'static str {
        match self {
            InventoryError::Sqlite(_) => "inventory_database",
            InventoryError::NewerSchema { .. } => "inventory_newer_schema",
            InventoryError::Io { .. } => "inventory_io",
            InventoryError::NoDataDir => "inventory_no_data_dir",
            InventoryError::Corrupt(_) => "inventory_corrupt",
        }
    }
}

/// Statements the inventory and the ledger keep prepared: more than they have distinct ones.
const STATEMENT_CACHE: usize = 96;

/// `execute` and `query_row` through the connection's statement cache.
pub(crate) trait Cached {
    fn execute_cached<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize>;
    fn query_row_cached<
        T,
        P: rusqlite::Params,
        F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    >(
        &self,
        sql: &str,
        params: P,
        f: F,
    ) -> rusqlite::Result<T>;
}

impl Cached for Connection {
    fn execute_cached<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    fn query_row_cached<
        T,
        P: rusqlite::Params,
        F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    >(
        &self,
        sql: &str,
        params: P,
        f: F,
    ) -> rusqlite::Result<T> {
        self.prepare_cached(sql)?.query_row(params, f)
    }
}

/// `$XDG_DATA_HOME/camward/camward.sqlite3` on Linux (`~/.local/share/...` when unset), the
/// Application Support folder on macOS, `%APPDATA%` on Windows.
pub fn default_db_path() -> Result<PathBuf, InventoryError> {
    dirs::data_dir()
        .map(|d| d.join("camward").join("camward.sqlite3"))
        .ok_or(InventoryError::NoDataDir)
}

/// The OS user running Camward, recorded as "who" in the audit trail. It asks the OS (the user
/// database on Unix), not `$USER`, which is often unset in services and CI.
pub fn os_user() -> String {
    whoami::fallible::username()
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("USER").ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Schema migrations; migration `i` brings `user_version` from `i` to `i + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[
    // Version 1: sites, cameras, the audit log and the credential write-ahead ledger.
    r#"
    CREATE TABLE sites (
        id          INTEGER PRIMARY KEY,
        name        TEXT NOT NULL UNIQUE,
        created_at  TEXT NOT NULL
    );
    CREATE TABLE cameras (
        id               INTEGER PRIMARY KEY,
        key              TEXT NOT NULL UNIQUE,
        site_id          INTEGER REFERENCES sites(id),
        mac              TEXT,
        serial           TEXT,
        manufacturer     TEXT,
        model            TEXT,
        firmware         TEXT,
        addresses        TEXT NOT NULL DEFAULT '[]',
        last_audit_at    TEXT,
        credential_user  TEXT,
        cert_sha256      TEXT,
        cert_not_after   TEXT,
        updated_at       TEXT NOT NULL
    );
    CREATE TABLE audit_log (
        seq        INTEGER PRIMARY KEY,
        at         TEXT NOT NULL,
        actor      TEXT NOT NULL,
        camera     TEXT,
        action     TEXT NOT NULL,
        detail     TEXT NOT NULL,
        result     TEXT NOT NULL,
        prev_hash  BLOB NOT NULL,
        hash       BLOB NOT NULL
    );
    CREATE INDEX audit_log_camera ON audit_log(camera);
    CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TABLE credential_changes (
        camera       TEXT NOT NULL,
        user         TEXT NOT NULL,
        phase        TEXT NOT NULL
                     CHECK (phase IN ('pending', 'promoting', 'promoted', 'settled')),
        has_previous INTEGER NOT NULL DEFAULT 0,
        created_at   TEXT NOT NULL,
        promoted_at  TEXT,
        settled_at   TEXT,
        attempts     INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (camera, user)
    );
    "#,
    // Version 2: every audit and commissioning result, for reports. The body is the scorecard
    // (or the commissioning's before / steps / after) as JSON: findings and evidence, never a
    // secret (evidence is written for people and never quotes one).
    r#"
    CREATE TABLE hardening_runs (
        seq     INTEGER PRIMARY KEY,
        at      TEXT NOT NULL,
        camera  TEXT NOT NULL,
        site    TEXT,
        kind    TEXT NOT NULL CHECK (kind IN ('audit', 'commission')),
        level   TEXT NOT NULL,
        body    TEXT NOT NULL
    );
    CREATE INDEX hardening_runs_camera ON hardening_runs(camera);
    "#,
    // Version 3: decommissioned cameras. One row per decommissioning (a camera can be
    // commissioned again and retired again): who/when come from the audit trail, the row keeps
    // the identity, the retired certificate (to revoke at the CA) and the disposal record as JSON
    // (names and proof, never a secret).
    r#"
    CREATE TABLE decommissions (
        seq                 INTEGER PRIMARY KEY,
        camera              TEXT NOT NULL,
        at                  TEXT NOT NULL,
        serial              TEXT,
        model               TEXT,
        certificate_sha256  TEXT,
        record_json         TEXT NOT NULL
    );
    CREATE INDEX decommissions_camera ON decommissions(camera);
    "#,
    // Version 4: cameras Camward reaches over HTTPS only (HTTP turned off once HTTPS was proven),
    // with the port and the pinned SHA-256 of the certificate every session must see. See the
    // "HTTPS access" section below.
    r#"
    CREATE TABLE https_access (
        camera      TEXT PRIMARY KEY,
        port        INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
        cert_sha256 TEXT NOT NULL,
        since       TEXT NOT NULL
    );
    "#,
    // Version 5: password generations (see the credential ledger). Every password is a keychain
    // entry of its own, reserved here before it is written; credential_changes points at the
    // current, pending and previous one. The named slots of earlier versions stay readable as
    // generations 0 (`user`), -1 (`user#pending`) and -2 (`user#previous`); a password recorded
    // without a change (`credential.recorded` in the trail, whose detail names the user) gets a
    // row here so it is still found.
    r#"
    ALTER TABLE credential_changes ADD COLUMN current_gen INTEGER;
    ALTER TABLE credential_changes ADD COLUMN pending_gen INTEGER;
    ALTER TABLE credential_changes ADD COLUMN previous_gen INTEGER;
    CREATE TABLE credential_items (
        gen     INTEGER PRIMARY KEY AUTOINCREMENT,
        camera  TEXT NOT NULL,
        user    TEXT NOT NULL
    );
    CREATE INDEX credential_items_key ON credential_items(camera, user);
    UPDATE credential_changes SET current_gen = 0;
    UPDATE credential_changes SET pending_gen = -1 WHERE phase IN ('pending', 'promoting');
    UPDATE credential_changes SET previous_gen = -2
        WHERE phase = 'promoting' OR (phase = 'promoted' AND has_previous = 1);
    INSERT OR IGNORE INTO credential_changes
        (camera, user, phase, has_previous, created_at, attempts, current_gen)
        SELECT camera, substr(detail, 20, instr(detail, ' stored in the keychain') - 20),
               'settled', 0, MIN(at), 0, 0
        FROM audit_log
        WHERE action = 'credential.recorded' AND camera IS NOT NULL
          AND detail LIKE 'known password for % stored in the keychain'
        GROUP BY camera, substr(detail, 20, instr(detail, ' stored in the keychain') - 20);
    "#,
    // Version 6: keychain journals (see the credential ledger). New passwords written at the same
    // moment (a batch of cameras) go to the keychain together, as one entry, reserved here first;
    // each generation in one names it until its own entry is written.
    r#"
    CREATE TABLE credential_journals (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        created_at  TEXT NOT NULL
    );
    ALTER TABLE credential_items ADD COLUMN journal INTEGER REFERENCES credential_journals(id);
    CREATE INDEX credential_items_journal ON credential_items(journal);
    "#,
];

/// The inventory's connection with synchronous=FULL, back to NORMAL when dropped.
pub(crate) struct Durable<'a>(MutexGuard<'a, Connection>);

impl std::ops::Deref for Durable<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.0
    }
}

impl std::ops::DerefMut for Durable<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        &mut self.0
    }
}

impl Drop for Durable<'_> {
    fn drop(&mut self) {
        if let Err(e) = self.0.pragma_update(None, "synchronous", "NORMAL") {
            tracing::warn!(error = %e, "SQLite kept synchronous=FULL");
        }
    }
}

/// The SQLite inventory. Cheap to clone: clones share one connection.
#[derive(Clone)]
pub struct Inventory {
    conn: Arc<Mutex<Connection>>,
    clock: Arc<dyn Clock>,
    actor: String,
    path: Option<PathBuf>,
}

impl fmt::Debug for Inventory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inventory")
            .field("path", &self.path)
            .field("actor", &self.actor)
            .finish()
    }
}

impl Inventory {
    /// Opens (creating if needed) the inventory at `path`, in WAL mode, and migrates it.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, InventoryError> {
        let path = path.as_ref();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| InventoryError::Io {
                path: dir.to_owned(),
                reason: e.to_string(),
            })?;
        }
        let conn = Connection::open(path)?;
        // WAL lets the UI read while a commissioning run writes. Commits are synchronous=NORMAL
        // (in WAL mode: never corrupt, durable at the next checkpoint or FULL commit), except the
        // credential ledger's, which are FULL (`lock_durable`): a camera may be told a password on
        // the strength of one, so it must survive a power cut, not just a crash. A FULL commit
        // syncs the log up to itself, so everything committed before it is durable too.
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(
                mode,
                "SQLite refused WAL mode; continuing with this journal mode"
            );
        }
        Self::configure(conn, Some(path.to_owned()))
    }

    /// An inventory that lives in memory only (tests, demo mode).
    pub fn open_in_memory() -> Result<Self, InventoryError> {
        Self::configure(Connection::open_in_memory()?, None)
    }

    fn configure(conn: Connection, path: Option<PathBuf>) -> Result<Self, InventoryError> {
        // Every statement of the inventory and the ledger is prepared once and kept
        // (`prepare_cached`, [`Cached`]): a commission runs about 35 of them per camera, and
        // compiling each again was a tenth of SQLite's share of the CPU.
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let mut inv = Self {
            conn: Arc::new(Mutex::new(conn)),
            clock: Arc::new(SystemClock),
            actor: os_user(),
            path,
        };
        inv.migrate()?;
        Ok(inv)
    }

    /// Uses `clock` for every timestamp written from now on.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Records `actor` instead of the OS user name as "who" in new audit rows.
    pub fn with_actor(mut self, actor: impl Into<String>) -> Self {
        self.actor = actor.into();
        self
    }

    /// The file this inventory lives in (`None` in memory).
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The schema version of the open file.
    pub fn schema_version(&self) -> Result<i64, InventoryError> {
        Ok(self
            .lock()
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves no half-done SQL behind: an open transaction is
        // rolled back when it is dropped during unwinding. So the connection is safe to reuse.
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The connection for commits that must survive a power cut: synchronous=FULL until the
    /// guard is dropped.
    pub(crate) fn lock_durable(&self) -> Result<Durable<'_>, InventoryError> {
        let conn = self.lock();
        conn.pragma_update(None, "synchronous", "FULL")?;
        Ok(Durable(conn))
    }

    pub(crate) fn now_text(&self) -> Result<String, InventoryError> {
        format_time(self.clock.now())
    }

    fn migrate(&mut self) -> Result<(), InventoryError> {
        let mut conn = self.lock();
        let known = MIGRATIONS.len() as i64;
        let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if found > known {
            return Err(InventoryError::NewerSchema { found, known });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Exclusive)?;
            tx.execute_batch(sql)?;
            // user_version cannot take a bound parameter; the value is our own integer.
            tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))?;
            tx.commit()?;
        }
        Ok(())
    }

    /// Adds a site if it does not exist yet; returns its id.
    pub fn ensure_site(&self, name: &str) -> Result<i64, InventoryError> {
        let conn = self.lock();
        ensure_site(&conn, name, &self.now_text()?)
    }

    /// The names of all sites, sorted.
    pub fn sites(&self) -> Result<Vec<String>, InventoryError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached("SELECT name FROM sites ORDER BY name")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Inserts or replaces the camera with `camera.key`, creating its site if needed.
    pub fn upsert_camera(&self, camera: &CameraRecord) -> Result<(), InventoryError> {
        let mut conn = self.lock();
        let now = self.now_text()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let site_id = match &camera.site {
            Some(name) => Some(ensure_site(&tx, name, &now)?),
            None => None,
        };
        let addresses = serde_json::to_string(&camera.addresses)
            .map_err(|e| InventoryError::Corrupt(e.to_string()))?;
        let last_audit = camera.last_audit.map(format_time).transpose()?;
        let not_after = camera
            .certificate
            .as_ref()
            .map(|c| format_time(c.not_after))
            .transpose()?;
        tx.execute_cached(
            "INSERT INTO cameras (key, site_id, mac, serial, manufacturer, model, firmware, addresses,
                                  last_audit_at, credential_user, cert_sha256, cert_not_after, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
             ON CONFLICT(key) DO UPDATE SET
                site_id = excluded.site_id, mac = excluded.mac, serial = excluded.serial,
                manufacturer = excluded.manufacturer, model = excluded.model,
                firmware = excluded.firmware, addresses = excluded.addresses,
                last_audit_at = excluded.last_audit_at, credential_user = excluded.credential_user,
                cert_sha256 = excluded.cert_sha256, cert_not_after = excluded.cert_not_after,
                updated_at = excluded.updated_at",
            params![
                camera.key,
                site_id,
                camera.mac,
                camera.serial,
                camera.manufacturer,
                camera.model,
                camera.firmware,
                addresses,
                last_audit,
                camera.credential.as_ref().map(|k| k.user.clone()),
                camera.certificate.as_ref().map(|c| c.sha256_fingerprint.clone()),
                not_after,
                now,
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The camera with this stable key, if known.
    pub fn camera(&self, key: &str) -> Result<Option<CameraRecord>, InventoryError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(&format!("{CAMERA_SELECT} WHERE c.key = ?1"))?;
        let raw = stmt.query_row([key], RawCamera::from_row).optional()?;
        raw.map(RawCamera::decode).transpose()
    }

    /// All cameras, or those of one site, ordered by key.
    pub fn cameras(&self, site: Option<&str>) -> Result<Vec<CameraRecord>, InventoryError> {
        let conn = self.lock();
        let raws: Vec<RawCamera> = match site {
            Some(site) => {
                let mut stmt = conn
                    .prepare_cached(&format!("{CAMERA_SELECT} WHERE s.name = ?1 ORDER BY c.key"))?;
                let rows = stmt.query_map([site], RawCamera::from_row)?;
                rows.collect::<Result<_, _>>()?
            }
            None => {
                let mut stmt = conn.prepare_cached(&format!("{CAMERA_SELECT} ORDER BY c.key"))?;
                let rows = stmt.query_map([], RawCamera::from_row)?;
                rows.collect::<Result<_, _>>()?
            }
        };
        raws.into_iter().map(RawCamera::decode).collect()
    }

    /// Keeps one audit or commissioning result of `camera` for reports; returns its sequence number.
    pub fn record_hardening_run(&self, run: &NewHardeningRun<'_>) -> Result<i64, InventoryError> {
        let conn = self.lock();
        conn.execute_cached(
            "INSERT INTO hardening_runs (at, camera, site, kind, level, body)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                self.now_text()?,
                run.camera,
                run.site,
                run.kind.as_str(),
                run.level,
                run.body
            ],
        )?;
        Ok(conn.last_insert_rowid())
    }

    /// The kept audit and commissioning results, oldest first: all of them, or those of the
    /// cameras of one site (by the camera's site in the inventory, or the site the run was for).
    pub fn hardening_runs(&self, site: Option<&str>) -> Result<Vec<HardeningRun>, InventoryError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT h.seq, h.at, h.camera, COALESCE(h.site, s.name), h.kind, h.level, h.body
             FROM hardening_runs h
             LEFT JOIN cameras c ON c.key = h.camera
             LEFT JOIN sites s ON s.id = c.site_id
             WHERE ?1 IS NULL OR COALESCE(h.site, s.name) = ?1
             ORDER BY h.seq",
        )?;
        let rows = stmt.query_map([site], |r| {
            let kind: String = r.get(4)?;
            Ok(HardeningRun {
                seq: r.get(0)?,
                at: r.get(1)?,
                camera: r.get(2)?,
                site: r.get(3)?,
                kind: if kind == RunKind::Commission.as_str() {
                    RunKind::Commission
                } else {
                    RunKind::Audit
                },
                level: r.get(5)?,
                body: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Marks `camera` decommissioned: keeps the row of [`NewDecommission`], drops the camera's
    /// credential and certificate references (the secrets are gone, the certificate is retired)
    /// and writes the audit rows, all in one transaction. Returns the row's sequence number.
    pub fn record_decommission(&self, d: &NewDecommission<'_>) -> Result<i64, InventoryError> {
        let mut conn = self.lock();
        let now = self.now_text()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_cached(
            "INSERT INTO decommissions (camera, at, serial, model, certificate_sha256, record_json)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                d.camera,
                now,
                d.serial,
                d.model,
                d.certificate_sha256,
                d.record_json
            ],
        )?;
        let seq = tx.last_insert_rowid();
        tx.execute_cached(
            "UPDATE cameras SET credential_user = NULL, cert_sha256 = NULL, cert_not_after = NULL,
                                updated_at = ?2
             WHERE key = ?1",
            params![d.camera, now],
        )?;
        // A reset camera answers on HTTP again with a certificate of its own: not HTTPS-only.
        tx.execute_cached("DELETE FROM https_access WHERE camera = ?1", [d.camera])?;
        if let Some(fp) = d.certificate_sha256 {
            self.append_audit_in(
                &tx,
                &AuditEntry::camera(
                    d.camera,
                    "certificate.retired",
                    format!("certificate SHA-256 {fp} retired with the camera; revoke it at the CA that issued it"),
                    "ok",
                ),
            )?;
        }
        self.append_audit_in(
            &tx,
            &AuditEntry::camera(
                d.camera,
                "camera.decommissioned",
                format!(
                    "serial {}, model {}: decommissioned (disposal record {seq})",
                    d.serial.unwrap_or("-"),
                    d.model.unwrap_or("-")
                ),
                "ok",
            ),
        )?;
        tx.commit()?;
        Ok(seq)
    }

    /// The latest decommissioning of `camera`, if it was ever decommissioned.
    pub fn decommission_of(&self, camera: &str) -> Result<Option<Decommission>, InventoryError> {
        let conn = self.lock();
        Ok(conn
            .query_row_cached(
                "SELECT seq, camera, at, serial, model, certificate_sha256, record_json
                 FROM decommissions WHERE camera = ?1 ORDER BY seq DESC LIMIT 1",
                [camera],
                |r| {
                    Ok(Decommission {
                        seq: r.get(0)?,
                        camera: r.get(1)?,
                        at: r.get(2)?,
                        serial: r.get(3)?,
                        model: r.get(4)?,
                        certificate_sha256: r.get(5)?,
                        record_json: r.get(6)?,
                    })
                },
            )
            .optional()?)
    }

    /// The users of `camera` the credential ledger has a change row for (any phase): with the
    /// inventory's administrator, the accounts whose keychain slots a decommissioning retires.
    pub fn credential_users(&self, camera: &str) -> Result<Vec<String>, InventoryError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT user FROM credential_changes WHERE camera = ?1 ORDER BY user",
        )?;
        let rows = stmt.query_map([camera], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Appends one row to the audit trail, chained to the previous row; returns its sequence number.
    pub fn append_audit(&self, entry: &AuditEntry) -> Result<i64, InventoryError> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let seq = self.append_audit_in(&tx, entry)?;
        tx.commit()?;
        Ok(seq)
    }

    /// Appends within the caller's transaction, so a state change and its audit row commit together.
    pub(crate) fn append_audit_in(
        &self,
        tx: &rusqlite::Transaction<'_>,
        entry: &AuditEntry,
    ) -> Result<i64, InventoryError> {
        let last: Option<(i64, Vec<u8>)> = tx
            .query_row_cached(
                "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (seq, prev_hash) = match last {
            Some((seq, hash)) => (seq + 1, hash),
            None => (1, GENESIS_HASH.to_vec()),
        };
        let record = AuditRecord {
            seq,
            at: self.now_text()?,
            actor: self.actor.clone(),
            camera: entry.camera.clone(),
            action: entry.action.clone(),
            detail: entry.detail.clone(),
            result: entry.result.clone(),
        };
        let hash = chain_hash(&prev_hash, &record);
        tx.execute_cached(
            "INSERT INTO audit_log (seq, at, actor, camera, action, detail, result, prev_hash, hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                record.seq,
                record.at,
                record.actor,
                record.camera,
                record.action,
                record.detail,
                record.result,
                prev_hash,
                hash.to_vec(),
            ],
        )?;
        Ok(seq)
    }

    /// The audit trail in order, all of it or one camera's.
    pub fn audit_log(&self, camera: Option<&str>) -> Result<Vec<AuditRecord>, InventoryError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT seq, at, actor, camera, action, detail, result FROM audit_log
             WHERE ?1 IS NULL OR camera = ?1 ORDER BY seq",
        )?;
        let rows = stmt.query_map([camera], |r| {
            Ok(AuditRecord {
                seq: r.get(0)?,
                at: r.get(1)?,
                actor: r.get(2)?,
                camera: r.get(3)?,
                action: r.get(4)?,
                detail: r.get(5)?,
                result: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Walks the audit trail from the first row and reports the first row whose chain is broken.
    ///
    /// A truncated tail (the newest rows deleted) leaves a valid shorter chain; it shows only against
    /// a row count or head hash kept elsewhere, e.g. in an exported report ([`AuditChain::Intact`]
    /// carries the head hash for that purpose).
    pub fn verify_audit_chain(&self) -> Result<AuditChain, InventoryError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT seq, at, actor, camera, action, detail, result, prev_hash, hash
             FROM audit_log ORDER BY seq",
        )?;
        let mut rows = stmt.query([])?;
        let mut expected_seq = 1;
        let mut prev = GENESIS_HASH.to_vec();
        while let Some(r) = rows.next()? {
            let record = AuditRecord {
                seq: r.get(0)?,
                at: r.get(1)?,
                actor: r.get(2)?,
                camera: r.get(3)?,
                action: r.get(4)?,
                detail: r.get(5)?,
                result: r.get(6)?,
            };
            let stored_prev: Vec<u8> = r.get(7)?;
            let stored_hash: Vec<u8> = r.get(8)?;
            let broken = |reason| {
                Ok(AuditChain::Broken {
                    seq: record.seq,
                    reason,
                })
            };
            if record.seq != expected_seq {
                return broken(ChainBreak::MissingRows { expected_seq });
            }
            if stored_prev != prev {
                return broken(ChainBreak::PreviousHashMismatch);
            }
            if stored_hash != chain_hash(&prev, &record).as_slice() {
                return broken(ChainBreak::ContentChanged);
            }
            prev = stored_hash;
            expected_seq += 1;
        }
        Ok(AuditChain::Intact {
            rows: expected_seq - 1,
            head: hex(&prev),
        })
    }
}

const GENESIS_HASH: [u8; 32] = [0; 32];

fn chain_hash(prev: &[u8], record: &AuditRecord) -> [u8; 32] {
    // A JSON array of the stored values is canonical: fixed field order, and serde_json escapes a
    // given string one way only. It also keeps field boundaries unambiguous.
    let canonical = serde_json::json!([
        record.seq,
        record.at,
        record.actor,
        record.camera,
        record.action,
        record.detail,
        record.result
    ])
    .to_string();
    let mut h = Sha256::new();
    h.update(prev);
    h.update(canonical.as_bytes());
    h.finalize().into()
}

fn hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

pub(crate) fn format_time(t: OffsetDateTime) -> Result<String, InventoryError> {
    t.to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .map_err(|e| InventoryError::Corrupt(format!("timestamp: {e}")))
}

fn parse_time(s: &str) -> Result<OffsetDateTime, InventoryError> {
    OffsetDateTime::parse(s, &Rfc3339)
        .map_err(|e| InventoryError::Corrupt(format!("timestamp {s:?}: {e}")))
}

fn ensure_site(conn: &Connection, name: &str, now: &str) -> Result<i64, InventoryError> {
    conn.execute_cached(
        "INSERT INTO sites (name, created_at) VALUES (?1, ?2) ON CONFLICT(name) DO NOTHING",
        params![name, now],
    )?;
    Ok(conn.query_row_cached("SELECT id FROM sites WHERE name = ?1", [name], |r| r.get(0))?)
}

/// One camera as the inventory knows it. Holds no secret: only which credential to look up.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CameraRecord {
    /// Stable identity, the same string as [`CredentialKey::camera`] (e.g. `mac:00:11:22:33:44:55`).
    pub key: String,
    /// The site it belongs to, by name.
    pub site: Option<String>,
    /// MAC address.
    pub mac: Option<String>,
    /// Serial number.
    pub serial: Option<String>,
    /// Manufacturer.
    pub manufacturer: Option<String>,
    /// Model.
    pub model: Option<String>,
    /// Firmware version.
    pub firmware: Option<String>,
    /// Known addresses (IPv4, IPv6, host names), most recent first.
    pub addresses: Vec<String>,
    /// When it was last audited.
    pub last_audit: Option<OffsetDateTime>,
    /// The keychain entry that holds its admin password.
    pub credential: Option<CredentialKey>,
    /// The HTTPS certificate it serves.
    pub certificate: Option<CertificateRecord>,
}

/// What kind of hardening result a [`HardeningRun`] keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunKind {
    /// An audit: the body is one scorecard.
    Audit,
    /// A commissioning: the body holds the scorecard before, every step, and the scorecard after.
    Commission,
}

impl RunKind {
    /// The word stored in the `kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            RunKind::Audit => "audit",
            RunKind::Commission => "commission",
        }
    }
}

/// A hardening result to keep.
#[derive(Clone, Copy, Debug)]
pub struct NewHardeningRun<'a> {
    /// The camera's inventory key.
    pub camera: &'a str,
    /// The site the run was for, when a site plan named one.
    pub site: Option<&'a str>,
    /// Audit or commissioning.
    pub kind: RunKind,
    /// The level audited.
    pub level: &'a str,
    /// The result as JSON (findings and evidence; never a secret).
    pub body: &'a str,
}

/// A kept hardening result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HardeningRun {
    /// Order of recording.
    pub seq: i64,
    /// When (RFC 3339, UTC).
    pub at: String,
    /// The camera's inventory key.
    pub camera: String,
    /// The site: the run's own, else the camera's in the inventory.
    pub site: Option<String>,
    /// Audit or commissioning.
    pub kind: RunKind,
    /// The level audited.
    pub level: String,
    /// The result as JSON.
    pub body: String,
}

/// A decommissioning to record ([`Inventory::record_decommission`]). Holds no secret.
#[derive(Clone, Copy, Debug)]
pub struct NewDecommission<'a> {
    /// The camera's inventory key.
    pub camera: &'a str,
    /// Its serial number.
    pub serial: Option<&'a str>,
    /// Its model.
    pub model: Option<&'a str>,
    /// The SHA-256 fingerprint of the certificate retired with it (to revoke at the CA).
    pub certificate_sha256: Option<&'a str>,
    /// The disposal record as JSON (identity, proof, names of retired credentials, checklist).
    pub record_json: &'a str,
}

/// A recorded decommissioning.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decommission {
    /// Order of recording.
    pub seq: i64,
    /// The camera's inventory key.
    pub camera: String,
    /// When (RFC 3339, UTC).
    pub at: String,
    /// Its serial number.
    pub serial: Option<String>,
    /// Its model.
    pub model: Option<String>,
    /// The retired certificate's SHA-256 fingerprint.
    pub certificate_sha256: Option<String>,
    /// The disposal record as JSON.
    pub record_json: String,
}

/// The certificate a camera serves, as recorded at the last audit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateRecord {
    /// SHA-256 of the DER certificate, lower-case hex.
    pub sha256_fingerprint: String,
    /// Its `notAfter`.
    pub not_after: OffsetDateTime,
}

const CAMERA_SELECT: &str = "SELECT c.key, s.name, c.mac, c.serial, c.manufacturer, c.model,
        c.firmware, c.addresses, c.last_audit_at, c.credential_user, c.cert_sha256, c.cert_not_after
    FROM cameras c LEFT JOIN sites s ON s.id = c.site_id";

struct RawCamera {
    key: String,
    site: Option<String>,
    mac: Option<String>,
    serial: Option<String>,
    manufacturer: Option<String>,
    model: Option<String>,
    firmware: Option<String>,
    addresses: String,
    last_audit: Option<String>,
    credential_user: Option<String>,
    cert_sha256: Option<String>,
    cert_not_after: Option<String>,
}

impl RawCamera {
    fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            key: r.get(0)?,
            site: r.get(1)?,
            mac: r.get(2)?,
            serial: r.get(3)?,
            manufacturer: r.get(4)?,
            model: r.get(5)?,
            firmware: r.get(6)?,
            addresses: r.get(7)?,
            last_audit: r.get(8)?,
            credential_user: r.get(9)?,
            cert_sha256: r.get(10)?,
            cert_not_after: r.get(11)?,
        })
    }

    fn decode(self) -> Result<CameraRecord, InventoryError> {
        let addresses = serde_json::from_str(&self.addresses)
            .map_err(|e| InventoryError::Corrupt(format!("addresses of {}: {e}", self.key)))?;
        let certificate = match (self.cert_sha256, self.cert_not_after) {
            (Some(fp), Some(na)) => Some(CertificateRecord {
                sha256_fingerprint: fp,
                not_after: parse_time(&na)?,
            }),
            _ => None,
        };
        Ok(CameraRecord {
            credential: self
                .credential_user
                .map(|u| CredentialKey::new(self.key.clone(), u)),
            key: self.key,
            site: self.site,
            mac: self.mac,
            serial: self.serial,
            manufacturer: self.manufacturer,
            model: self.model,
            firmware: self.firmware,
            addresses,
            last_audit: self.last_audit.as_deref().map(parse_time).transpose()?,
            certificate,
        })
    }
}

/// What to append to the audit trail. The inventory adds when (its clock) and who (the OS user).
/// Never put a secret in any field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    /// The camera changed (its stable key), if the action concerns one.
    pub camera: Option<String>,
    /// What was done, a stable dotted name (e.g. `credential.promoted`, `control.apply`).
    pub action: String,
    /// Details for a person (control id, old/new non-secret values).
    pub detail: String,
    /// How it ended (`ok`, `refused`, `unreachable`, ...).
    pub result: String,
}

impl AuditEntry {
    /// An entry about `camera`.
    pub fn camera(
        camera: impl Into<String>,
        action: impl Into<String>,
        detail: impl Into<String>,
        result: impl Into<String>,
    ) -> Self {
        Self {
            camera: Some(camera.into()),
            action: action.into(),
            detail: detail.into(),
            result: result.into(),
        }
    }
}

/// One stored audit row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRecord {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// When (RFC 3339, UTC), as stored and hashed.
    pub at: String,
    /// Who: the OS user on this laptop.
    pub actor: String,
    /// The camera concerned.
    pub camera: Option<String>,
    /// What was done.
    pub action: String,
    /// Details.
    pub detail: String,
    /// How it ended.
    pub result: String,
}

/// The outcome of [`Inventory::verify_audit_chain`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuditChain {
    /// Every row links to the one before it.
    Intact {
        /// How many rows were checked.
        rows: i64,
        /// Hex SHA-256 of the newest row (all zeros when empty); keep it to detect truncation later.
        head: String,
    },
    /// The first row at which the chain fails.
    Broken {
        /// That row's sequence number.
        seq: i64,
        /// What is wrong with it.
        reason: ChainBreak,
    },
}

/// Why a row breaks the chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChainBreak {
    /// Rows before this one were deleted (its sequence number is not the next one).
    MissingRows {
        /// The sequence number that should have come next.
        expected_seq: i64,
    },
    /// The row does not name the previous row's hash (rows removed, reordered or re-chained).
    PreviousHashMismatch,
    /// The row's content no longer matches its hash (edited in place).
    ContentChanged,
}

// ---- HTTPS access (schema version 4) --------------------------------------------------------
//
// A camera whose HTTP Camward turned off is reached over HTTPS only, on `port`, and every
// session must see exactly the certificate `cert_sha256` (a different one is an alarm, never a
// fallback to HTTP). Keyed like `cameras.key`; no secret here.

/// How Camward reaches a camera whose HTTP is off.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpsAccess {
    /// The camera's inventory key.
    pub camera: String,
    /// Its HTTPS port.
    pub port: u16,
    /// SHA-256 of the certificate it must present, lower-case hex: the pin.
    pub cert_sha256: String,
    /// Since when (RFC 3339, UTC).
    pub since: String,
}

impl Inventory {
    /// Records that `camera` is reached over HTTPS only, on `port`, pinned to `cert_sha256`.
    pub fn set_https_access(
        &self,
        camera: &str,
        port: u16,
        cert_sha256: &str,
    ) -> Result<(), InventoryError> {
        let conn = self.lock();
        conn.execute_cached(
            "INSERT INTO https_access (camera, port, cert_sha256, since) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(camera) DO UPDATE SET port = excluded.port,
                cert_sha256 = excluded.cert_sha256, since = excluded.since",
            params![camera, port, cert_sha256, self.now_text()?],
        )?;
        Ok(())
    }

    /// How `camera` is reached over HTTPS, if its HTTP is off.
    pub fn https_access(&self, camera: &str) -> Result<Option<HttpsAccess>, InventoryError> {
        let conn = self.lock();
        Ok(conn
            .query_row_cached(
                "SELECT camera, port, cert_sha256, since FROM https_access WHERE camera = ?1",
                [camera],
                |r| {
                    Ok(HttpsAccess {
                        camera: r.get(0)?,
                        port: r.get(1)?,
                        cert_sha256: r.get(2)?,
                        since: r.get(3)?,
                    })
                },
            )
            .optional()?)
    }

    /// A new pin for a camera reached over HTTPS (a certificate Camward installed and verified,
    /// or one a person confirmed); `false` when the camera is not HTTPS-only.
    pub fn repin_https(&self, camera: &str, cert_sha256: &str) -> Result<bool, InventoryError> {
        let conn = self.lock();
        let changed = conn.execute_cached(
            "UPDATE https_access SET cert_sha256 = ?2 WHERE camera = ?1",
            params![camera, cert_sha256],
        )?;
        Ok(changed > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct FixedClock(OffsetDateTime);
    impl Clock for FixedClock {
        fn now(&self) -> OffsetDateTime {
            self.0
        }
    }

    fn inv() -> Inventory {
        Inventory::open_in_memory()
            .unwrap()
            .with_clock(Arc::new(FixedClock(
                time::macros::datetime!(2026-11-22 15:00 UTC),
            )))
            .with_actor("tester")
    }

    #[test]
    fn only_durable_commits_wait_for_the_disk() {
        let dir = tempfile::tempdir().unwrap();
        let inv = Inventory::open(dir.path().join("camward.sqlite3")).unwrap();
        let sync = |conn: &Connection| -> i64 {
            conn.query_row("PRAGMA synchronous", [], |r| r.get(0))
                .unwrap()
        };
        assert_eq!(sync(&inv.lock()), 1, "NORMAL");
        {
            let durable = inv.lock_durable().unwrap();
            assert_eq!(sync(&durable), 2, "FULL");
        }
        assert_eq!(sync(&inv.lock()), 1, "NORMAL again");
    }

    #[test]
    fn migrates_to_the_latest_version_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/camward.sqlite3");
        let a = Inventory::open(&path).unwrap();
        assert_eq!(a.schema_version().unwrap(), MIGRATIONS.len() as i64);
        drop(a);
        let b = Inventory::open(&path).unwrap();
        assert_eq!(b.schema_version().unwrap(), MIGRATIONS.len() as i64);
        let mode: String = b
            .lock()
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }

    #[test]
    fn refuses_a_newer_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("camward.sqlite3");
        drop(Inventory::open(&path).unwrap());
        Connection::open(&path)
            .unwrap()
            .execute_batch("PRAGMA user_version = 99")
            .unwrap();
        let err = Inventory::open(&path).unwrap_err();
        assert_eq!(err.code(), "inventory_newer_schema");
    }

    #[test]
    fn who_is_the_os_user() {
        let user = os_user();
        assert!(!user.is_empty() && user != "unknown", "{user}");
    }

    #[test]
    fn default_path_follows_xdg_data_home() {
        // dirs reads XDG_DATA_HOME on Linux; elsewhere only the file name is checked.
        let p = default_db_path().unwrap();
        assert!(p.ends_with("camward/camward.sqlite3"), "{p:?}");
    }

    #[test]
    fn camera_round_trip_and_update() {
        let inv = inv();
        let mut cam = CameraRecord {
            key: "mac:00:11:22:33:44:55".into(),
            site: Some("Depot".into()),
            mac: Some("00:11:22:33:44:55".into()),
            serial: Some("ACCC8E000001".into()),
            manufacturer: Some("AXIS".into()),
            model: Some("P3245-V".into()),
            firmware: Some("11.2.68".into()),
            addresses: vec!["192.0.2.10".into(), "fe80::1".into()],
            last_audit: Some(time::macros::datetime!(2026-11-20 10:00 UTC)),
            credential: Some(CredentialKey::new("mac:00:11:22:33:44:55", "root")),
            certificate: Some(CertificateRecord {
                sha256_fingerprint: "ab".repeat(32),
                not_after: time::macros::datetime!(2027-11-20 10:00 UTC),
            }),
        };
        inv.upsert_camera(&cam).unwrap();
        assert_eq!(inv.camera(&cam.key).unwrap().unwrap(), cam);
        cam.firmware = Some("11.3.1".into());
        cam.site = Some("Head office".into());
        inv.upsert_camera(&cam).unwrap();
        assert_eq!(inv.camera(&cam.key).unwrap().unwrap(), cam);
        assert_eq!(inv.cameras(Some("Head office")).unwrap(), vec![cam.clone()]);
        assert!(inv.cameras(Some("Depot")).unwrap().is_empty());
        assert_eq!(
            inv.sites().unwrap(),
            vec!["Depot".to_owned(), "Head office".to_owned()]
        );
        assert!(inv.camera("mac:ff").unwrap().is_none());
    }

    fn three_rows(inv: &Inventory) {
        for (i, action) in ["control.apply", "credential.promoted", "control.verify"]
            .iter()
            .enumerate()
        {
            let seq = inv
                .append_audit(&AuditEntry::camera(
                    "cam-1",
                    *action,
                    format!("step {i}"),
                    "ok",
                ))
                .unwrap();
            assert_eq!(seq, i as i64 + 1);
        }
    }

    #[test]
    fn audit_chain_verifies_and_records_who_and_when() {
        let inv = inv();
        assert!(matches!(
            inv.verify_audit_chain().unwrap(),
            AuditChain::Intact { rows: 0, .. }
        ));
        three_rows(&inv);
        let log = inv.audit_log(Some("cam-1")).unwrap();
        assert_eq!(log.len(), 3);
        assert_eq!(log[0].actor, "tester");
        assert_eq!(log[0].at, "2026-11-22T15:00:00Z");
        assert!(inv.audit_log(Some("cam-2")).unwrap().is_empty());
        match inv.verify_audit_chain().unwrap() {
            AuditChain::Intact { rows, head } => {
                assert_eq!(rows, 3);
                assert_eq!(head.len(), 64);
                assert_ne!(head, "0".repeat(64));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn triggers_refuse_update_and_delete() {
        let inv = inv();
        three_rows(&inv);
        let conn = inv.lock();
        let e = conn
            .execute("UPDATE audit_log SET result = 'refused' WHERE seq = 2", [])
            .unwrap_err();
        assert!(e.to_string().contains("append-only"), "{e}");
        let e = conn
            .execute("DELETE FROM audit_log WHERE seq = 3", [])
            .unwrap_err();
        assert!(e.to_string().contains("append-only"), "{e}");
    }

    #[test]
    fn edited_row_is_the_first_broken_one() {
        let inv = inv();
        three_rows(&inv);
        inv.lock()
            .execute_batch(
                "DROP TRIGGER audit_log_no_update;
                 UPDATE audit_log SET result = 'refused' WHERE seq = 2;",
            )
            .unwrap();
        assert_eq!(
            inv.verify_audit_chain().unwrap(),
            AuditChain::Broken {
                seq: 2,
                reason: ChainBreak::ContentChanged
            }
        );
    }

    #[test]
    fn deleted_row_is_detected_at_its_successor() {
        let inv = inv();
        three_rows(&inv);
        inv.lock()
            .execute_batch("DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq = 2;")
            .unwrap();
        assert_eq!(
            inv.verify_audit_chain().unwrap(),
            AuditChain::Broken {
                seq: 3,
                reason: ChainBreak::MissingRows { expected_seq: 2 }
            }
        );
    }

    #[test]
    fn rechained_rows_are_detected() {
        // Someone deletes row 2 and renumbers row 3 to hide the gap; the prev-hash link breaks.
        let inv = inv();
        three_rows(&inv);
        inv.lock()
            .execute_batch(
                "DROP TRIGGER audit_log_no_delete; DROP TRIGGER audit_log_no_update;
                 DELETE FROM audit_log WHERE seq = 2; UPDATE audit_log SET seq = 2 WHERE seq = 3;",
            )
            .unwrap();
        assert_eq!(
            inv.verify_audit_chain().unwrap(),
            AuditChain::Broken {
                seq: 2,
                reason: ChainBreak::PreviousHashMismatch
            }
        );
    }

    #[test]
    fn a_decommissioning_is_kept_and_drops_the_credential_and_certificate_references() {
        let inv = inv();
        inv.upsert_camera(&CameraRecord {
            key: "host:192.0.2.9".into(),
            serial: Some("S9".into()),
            credential: Some(CredentialKey::new("host:192.0.2.9", "admin")),
            certificate: Some(CertificateRecord {
                sha256_fingerprint: "ab12".into(),
                not_after: OffsetDateTime::UNIX_EPOCH,
            }),
            ..CameraRecord::default()
        })
        .unwrap();
        assert!(inv.decommission_of("host:192.0.2.9").unwrap().is_none());
        inv.record_decommission(&NewDecommission {
            camera: "host:192.0.2.9",
            serial: Some("S9"),
            model: Some("M"),
            certificate_sha256: Some("ab12"),
            record_json: "{}",
        })
        .unwrap();
        let d = inv.decommission_of("host:192.0.2.9").unwrap().unwrap();
        assert_eq!(d.serial.as_deref(), Some("S9"));
        assert_eq!(d.certificate_sha256.as_deref(), Some("ab12"));
        let cam = inv.camera("host:192.0.2.9").unwrap().unwrap();
        assert!(cam.credential.is_none() && cam.certificate.is_none());
        let actions: Vec<String> = inv
            .audit_log(Some("host:192.0.2.9"))
            .unwrap()
            .into_iter()
            .map(|r| r.action)
            .collect();
        assert_eq!(actions, ["certificate.retired", "camera.decommissioned"]);
        assert!(matches!(
            inv.verify_audit_chain().unwrap(),
            AuditChain::Intact { .. }
        ));
    }

    #[test]
    fn hardening_runs_are_kept_and_filtered_by_site() {
        let inv = inv();
        inv.upsert_camera(&CameraRecord {
            key: "mac:aa".into(),
            site: Some("north".into()),
            ..CameraRecord::default()
        })
        .unwrap();
        let run = |camera, site, kind, body| NewHardeningRun {
            camera,
            site,
            kind,
            level: "standard",
            body,
        };
        inv.record_hardening_run(&run("mac:aa", None, RunKind::Audit, "{\"a\":1}"))
            .unwrap();
        inv.record_hardening_run(&run("mac:bb", Some("south"), RunKind::Commission, "{}"))
            .unwrap();
        inv.record_hardening_run(&run("mac:cc", None, RunKind::Audit, "{}"))
            .unwrap();
        let all = inv.hardening_runs(None).unwrap();
        assert_eq!(all.len(), 3);
        assert_eq!(
            all[0].site.as_deref(),
            Some("north"),
            "the camera's own site"
        );
        assert_eq!(all[0].body, "{\"a\":1}");
        let south = inv.hardening_runs(Some("south")).unwrap();
        assert_eq!(south.len(), 1);
        assert_eq!(south[0].kind, RunKind::Commission);
        assert_eq!(south[0].camera, "mac:bb");
        assert!(inv.hardening_runs(Some("east")).unwrap().is_empty());
    }

    #[test]
    fn https_access_is_kept_repinned_and_dropped_at_decommissioning() {
        let inv = inv();
        let cam = "host:192.0.2.8:80";
        assert!(inv.https_access(cam).unwrap().is_none());
        assert!(!inv.repin_https(cam, "00").unwrap(), "not HTTPS-only yet");
        inv.set_https_access(cam, 443, "aa").unwrap();
        let access = inv.https_access(cam).unwrap().unwrap();
        assert_eq!((access.port, access.cert_sha256.as_str()), (443, "aa"));
        assert!(inv.repin_https(cam, "bb").unwrap());
        assert_eq!(inv.https_access(cam).unwrap().unwrap().cert_sha256, "bb");
        inv.record_decommission(&NewDecommission {
            camera: cam,
            serial: None,
            model: None,
            certificate_sha256: None,
            record_json: "{}",
        })
        .unwrap();
        assert!(inv.https_access(cam).unwrap().is_none());
    }
}
