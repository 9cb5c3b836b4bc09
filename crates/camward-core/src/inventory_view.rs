//! The inventory as a person looks at it: every camera Camward knows, with its newest audit score,
//! when its certificate expires and how old its administrator password is.
//!
//! Read only from what the inventory kept (camera rows, kept hardening results, the ledger's change
//! phases, decommissionings); nothing here talks to a camera. Time is passed in.
use camward_vault::{CredentialKey, Phase, RunKind};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::credentials::Vault;
use crate::hardening::report::KeptScorecard;
use crate::CoreError;

/// Where the administrator password of a camera stands in the ledger.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialState {
    /// The keychain holds the current password; no change is under way.
    Current,
    /// A change was interrupted before the new password was verified (`credentials::resume`).
    Pending,
    /// The new password is current; the old one waits to be seen refused (`credentials::resume`).
    AwaitingRetirement,
    /// The keychain holds no password for the camera's administrator.
    None,
}

/// One camera of the inventory view.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InventoryCamera {
    /// The inventory key.
    pub camera: String,
    /// The device service URL it was last reached at.
    pub url: Option<String>,
    /// Manufacturer.
    pub manufacturer: Option<String>,
    /// Model.
    pub model: Option<String>,
    /// Serial number.
    pub serial: Option<String>,
    /// MAC address.
    pub mac: Option<String>,
    /// Firmware version.
    pub firmware: Option<String>,
    /// When the newest audit or commissioning result was kept (RFC 3339).
    pub last_audit_at: Option<String>,
    /// Its score, in percent of the applicable controls.
    pub last_audit_score: Option<u8>,
    /// The level it was taken at.
    pub last_audit_level: Option<String>,
    /// When the served certificate expires (RFC 3339), as recorded at the last audit or enrolment.
    pub certificate_not_after: Option<String>,
    /// Whole days until then (negative once expired).
    pub certificate_days_left: Option<i64>,
    /// The administrator account Camward logs in as.
    pub admin: Option<String>,
    /// Where its password stands.
    pub credential_state: CredentialState,
    /// When the current password was set (RFC 3339), when the ledger recorded it.
    pub credential_set_at: Option<String>,
    /// Whole days since then.
    pub credential_age_days: Option<i64>,
    /// When the camera was decommissioned, if it was (a camera commissioned again after that
    /// shows its new state, and this stays the date of the latest decommissioning).
    pub decommissioned_at: Option<String>,
}

fn parse(at: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(at, &Rfc3339).ok()
}

fn days_between(from: OffsetDateTime, to: OffsetDateTime) -> i64 {
    (to - from).whole_days()
}

/// What a kept commissioning body holds that the view needs: the scorecard after.
#[derive(Deserialize)]
struct KeptCommissionAfter {
    after: Option<KeptScorecard>,
    before: Option<KeptScorecard>,
}

/// Every camera of the inventory (all sites), ordered by key, as of `now`.
pub fn list(vault: &Vault, now: OffsetDateTime) -> Result<Vec<InventoryCamera>, CoreError> {
    let inventory = |e: camward_vault::InventoryError| CoreError {
        code: e.code().to_owned(),
        message: e.to_string(),
        camera: "-".into(),
        step: "read inventory".into(),
    };
    let cameras = vault.inventory.cameras(None).map_err(inventory)?;
    let runs = vault.inventory.hardening_runs(None).map_err(inventory)?;
    let mut out = Vec::with_capacity(cameras.len());
    for record in cameras {
        // The newest kept result of this camera whose scorecard can be read.
        let newest = runs
            .iter()
            .rev()
            .filter(|r| r.camera == record.key)
            .find_map(|run| {
                let card = match run.kind {
                    RunKind::Audit => serde_json::from_str::<KeptScorecard>(&run.body).ok(),
                    RunKind::Commission => serde_json::from_str::<KeptCommissionAfter>(&run.body)
                        .ok()
                        .and_then(|c| c.after.or(c.before)),
                }?;
                Some((run.at.clone(), card.score(), run.level.clone()))
            });
        let (last_audit_at, last_audit_score, last_audit_level) = match newest {
            Some((at, score, level)) => (Some(at), Some(score), Some(level)),
            None => (
                record.last_audit.and_then(|t| t.format(&Rfc3339).ok()),
                None,
                None,
            ),
        };
        let admin = record.credential.as_ref().map(|k| k.user.clone());
        let (credential_state, credential_set_at) = match &record.credential {
            Some(key) => credential_of(vault, key)?,
            None => (CredentialState::None, None),
        };
        let credential_age_days = credential_set_at
            .as_deref()
            .and_then(parse)
            .map(|set| days_between(set, now));
        let decommissioned_at = vault
            .inventory
            .decommission_of(&record.key)
            .map_err(inventory)?
            .map(|d| d.at);
        out.push(InventoryCamera {
            url: record.addresses.first().cloned(),
            manufacturer: record.manufacturer,
            model: record.model,
            serial: record.serial,
            mac: record.mac,
            firmware: record.firmware,
            last_audit_at,
            last_audit_score,
            last_audit_level,
            certificate_not_after: record
                .certificate
                .as_ref()
                .and_then(|c| c.not_after.format(&Rfc3339).ok()),
            certificate_days_left: record
                .certificate
                .as_ref()
                .map(|c| days_between(now, c.not_after)),
            admin,
            credential_state,
            credential_set_at,
            credential_age_days,
            decommissioned_at,
            camera: record.key,
        });
    }
    Ok(out)
}

fn credential_of(
    vault: &Vault,
    key: &CredentialKey,
) -> Result<(CredentialState, Option<String>), CoreError> {
    let ledger = |e: camward_vault::LedgerError| CoreError {
        code: e.code().to_owned(),
        message: e.to_string(),
        camera: key.camera.clone(),
        step: "read the credential ledger".into(),
    };
    let change = vault.ledger.change(key).map_err(ledger)?;
    let state = match change.as_ref().map(|c| c.phase) {
        Some(Phase::Pending | Phase::Promoting) => CredentialState::Pending,
        Some(Phase::Promoted) => CredentialState::AwaitingRetirement,
        _ => {
            if vault.ledger.current(key).map_err(ledger)?.is_some() {
                CredentialState::Current
            } else {
                CredentialState::None
            }
        }
    };
    let set_at = change.and_then(|c| c.promoted_at);
    Ok((state, set_at))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use camward_vault::{CameraRecord, CredentialLedger, Inventory, MemoryStore, Sensitive};
    use time::macros::datetime;

    use super::*;

    fn vault() -> Vault {
        let inventory = Inventory::open_in_memory().unwrap();
        let ledger = CredentialLedger::new(Arc::new(MemoryStore::default()), &inventory);
        Vault { ledger, inventory }
    }

    #[test]
    fn a_camera_without_results_or_password_is_listed_with_nothing_known() {
        let vault = vault();
        vault
            .inventory
            .upsert_camera(&CameraRecord {
                key: "host:127.0.0.1:8000".into(),
                addresses: vec!["http://127.0.0.1:8000/onvif/device_service".into()],
                model: Some("CS-2000".into()),
                ..CameraRecord::default()
            })
            .unwrap();
        let listed = list(&vault, datetime!(2026-01-01 0:00 UTC)).unwrap();
        assert_eq!(listed.len(), 1);
        let camera = &listed[0];
        assert_eq!(camera.camera, "host:127.0.0.1:8000");
        assert_eq!(camera.model.as_deref(), Some("CS-2000"));
        assert_eq!(camera.last_audit_score, None);
        assert_eq!(camera.credential_state, CredentialState::None);
        assert_eq!(camera.credential_age_days, None);
        assert_eq!(camera.certificate_days_left, None);
    }

    #[test]
    fn a_promoted_password_has_an_age_and_a_pending_change_shows() {
        let vault = vault();
        let key = CredentialKey::new("host:127.0.0.1:8001", "admin");
        vault
            .inventory
            .upsert_camera(&CameraRecord {
                key: key.camera.clone(),
                credential: Some(key.clone()),
                ..CameraRecord::default()
            })
            .unwrap();
        let change = vault
            .ledger
            .begin_change(&key, &Sensitive::new("first-Password-1234".to_owned()))
            .unwrap();
        change.promote().unwrap();
        vault.ledger.retire_previous(&key).unwrap();
        let later = OffsetDateTime::now_utc() + time::Duration::days(3);
        let listed = list(&vault, later).unwrap();
        assert_eq!(listed[0].credential_state, CredentialState::Current);
        assert_eq!(listed[0].admin.as_deref(), Some("admin"));
        assert_eq!(listed[0].credential_age_days, Some(3));

        // Interrupted: never promoted (the change stays pending for `credentials::resume`).
        drop(
            vault
                .ledger
                .begin_change(&key, &Sensitive::new("second-Password-5678".to_owned()))
                .unwrap(),
        );
        let listed = list(&vault, later).unwrap();
        assert_eq!(listed[0].credential_state, CredentialState::Pending);
    }
}
