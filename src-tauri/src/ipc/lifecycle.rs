//! The IPC types of the inventory view and of journeys 2 and 3 (rotate passwords, decommission),
//! each built from its core type field by field like the rest of [`crate::ipc`], and listed in
//! [`decls`] for `ui/src/lib/bindings.ts`.
use camward_core::credentials::{
    CameraOutcome as CoreOutcome, InitAdminOutcome as CoreInitAdmin,
    InitAdminStatus as CoreInitStatus, Interrupted as CoreInterrupted,
    RotationEvent as CoreRotationEvent, RotationResult as CoreRotationResult,
    RotationStep as CoreRotationStep,
};
use camward_core::decommission::{
    DecommissionEvent as CoreDecommissionEvent, DecommissionPlan as CorePlan,
};
use camward_core::disposal::{
    CertificateToRevoke as CoreCertificate, DisposalRecord as CoreRecord,
    DisposalResult as CoreDisposalResult, Proof as CoreProof, ResetDone as CoreReset,
};
use camward_core::first_boot::FirstBootMethod as CoreFirstBoot;
use camward_core::inventory_view::{
    CredentialState as CoreCredentialState, InventoryCamera as CoreInventoryCamera,
};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::CoreError;

/// Where a camera's administrator password stands in the ledger.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum CredentialState {
    /// The keychain holds the current password; no change is under way.
    Current,
    /// A change was interrupted before the new password was verified: resume it.
    Pending,
    /// The new password is current; the old one still waits to be seen refused: resume it.
    AwaitingRetirement,
    /// The keychain holds no password for the camera's administrator.
    None,
}

impl From<CoreCredentialState> for CredentialState {
    fn from(state: CoreCredentialState) -> Self {
        match state {
            CoreCredentialState::Current => CredentialState::Current,
            CoreCredentialState::Pending => CredentialState::Pending,
            CoreCredentialState::AwaitingRetirement => CredentialState::AwaitingRetirement,
            CoreCredentialState::None => CredentialState::None,
        }
    }
}

/// One camera of the inventory view.
#[derive(Clone, Debug, Serialize, TS)]
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
    /// Its score in percent.
    pub last_audit_score: Option<u8>,
    /// The level it was taken at.
    pub last_audit_level: Option<String>,
    /// When the served certificate expires (RFC 3339).
    pub certificate_not_after: Option<String>,
    /// Whole days until then (negative once expired).
    #[ts(type = "number | null")]
    pub certificate_days_left: Option<i64>,
    /// The administrator account Camward logs in as.
    pub admin: Option<String>,
    /// Where its password stands.
    pub credential_state: CredentialState,
    /// When the current password was set (RFC 3339).
    pub credential_set_at: Option<String>,
    /// Whole days since then.
    #[ts(type = "number | null")]
    pub credential_age_days: Option<i64>,
    /// When the camera was decommissioned, if it was.
    pub decommissioned_at: Option<String>,
}

impl From<CoreInventoryCamera> for InventoryCamera {
    fn from(camera: CoreInventoryCamera) -> Self {
        let CoreInventoryCamera {
            camera,
            url,
            manufacturer,
            model,
            serial,
            mac,
            firmware,
            last_audit_at,
            last_audit_score,
            last_audit_level,
            certificate_not_after,
            certificate_days_left,
            admin,
            credential_state,
            credential_set_at,
            credential_age_days,
            decommissioned_at,
        } = camera;
        InventoryCamera {
            camera,
            url,
            manufacturer,
            model,
            serial,
            mac,
            firmware,
            last_audit_at,
            last_audit_score,
            last_audit_level,
            certificate_not_after,
            certificate_days_left,
            admin,
            credential_state: credential_state.into(),
            credential_set_at,
            credential_age_days,
            decommissioned_at,
        }
    }
}

/// How a camera takes its first administrator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum FirstBootMethod {
    /// ONVIF CreateUsers while in the factory state.
    Onvif,
    /// Axis VAPIX.
    Axis,
    /// Hikvision ISAPI activation.
    Hikvision,
    /// A person sets the password on the camera's first-access page.
    Guided,
}

impl From<CoreFirstBoot> for FirstBootMethod {
    fn from(method: CoreFirstBoot) -> Self {
        match method {
            CoreFirstBoot::Onvif => FirstBootMethod::Onvif,
            CoreFirstBoot::Axis => FirstBootMethod::Axis,
            CoreFirstBoot::Hikvision => FirstBootMethod::Hikvision,
            CoreFirstBoot::Guided => FirstBootMethod::Guided,
        }
    }
}

/// The first administrator of one simulated camera (demo mode), or why there is none.
#[derive(Clone, Debug, Serialize, TS)]
pub struct DemoAdmin {
    /// The camera's device service URL.
    pub url: String,
    /// The inventory key, once created.
    pub camera: Option<String>,
    /// The administrator created.
    pub user: Option<String>,
    /// How it was created.
    pub method: Option<FirstBootMethod>,
    /// The camera's first-access page, when a person still has to create the administrator there.
    pub awaiting_person_at: Option<String>,
    /// Why it failed.
    pub error: Option<CoreError>,
}

impl DemoAdmin {
    /// One camera's result of `credentials::init_admin` (the password stays in the vault).
    pub fn from_result(
        url: String,
        result: Result<CoreInitAdmin, camward_core::CoreError>,
    ) -> Self {
        match result {
            Ok(outcome) => {
                let CoreInitAdmin {
                    url,
                    camera,
                    user,
                    method,
                    status,
                    password: _,
                } = outcome;
                DemoAdmin {
                    url,
                    camera: Some(camera),
                    user: Some(user),
                    method: Some(method.into()),
                    awaiting_person_at: match status {
                        CoreInitStatus::Created => None,
                        CoreInitStatus::AwaitingPerson { page } => Some(page),
                    },
                    error: None,
                }
            }
            Err(e) => DemoAdmin {
                url,
                camera: None,
                user: None,
                method: None,
                awaiting_person_at: None,
                error: Some(e.into()),
            },
        }
    }
}

/// A step of one camera's rotation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum RotationStep {
    /// Logged in with the current password.
    LoggedIn,
    /// The new password is in the keychain as pending.
    PendingStored,
    /// SetUser was sent.
    PasswordSent,
    /// A fresh session logged in with the new password.
    NewPasswordVerified,
    /// The camera refused the old password.
    OldPasswordRefused,
    /// The new password is current, the old one retired.
    Promoted,
}

impl From<CoreRotationStep> for RotationStep {
    fn from(step: CoreRotationStep) -> Self {
        match step {
            CoreRotationStep::LoggedIn => RotationStep::LoggedIn,
            CoreRotationStep::PendingStored => RotationStep::PendingStored,
            CoreRotationStep::PasswordSent => RotationStep::PasswordSent,
            CoreRotationStep::NewPasswordVerified => RotationStep::NewPasswordVerified,
            CoreRotationStep::OldPasswordRefused => RotationStep::OldPasswordRefused,
            CoreRotationStep::Promoted => RotationStep::Promoted,
        }
    }
}

/// What a rotation or resume did to one credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum RotationResult {
    /// New password set, verified and current; the old one refused and retired.
    Rotated,
    /// (resume) The camera had the new password; the change was finished.
    Completed,
    /// (resume) The camera kept the old password; the pending one was discarded.
    RolledBack,
    /// (resume) The pending password never reached the camera; dropped.
    Abandoned,
    /// (resume) An interrupted first boot left the camera factory-fresh.
    StillFactoryFresh,
    /// (resume) The old password was confirmed refused and retired.
    Retired,
    /// (resume) A guided first boot still waits for the person.
    AwaitingPerson,
}

impl From<CoreRotationResult> for RotationResult {
    fn from(result: CoreRotationResult) -> Self {
        match result {
            CoreRotationResult::Rotated => RotationResult::Rotated,
            CoreRotationResult::Completed => RotationResult::Completed,
            CoreRotationResult::RolledBack => RotationResult::RolledBack,
            CoreRotationResult::Abandoned => RotationResult::Abandoned,
            CoreRotationResult::StillFactoryFresh => RotationResult::StillFactoryFresh,
            CoreRotationResult::Retired => RotationResult::Retired,
            CoreRotationResult::AwaitingPerson => RotationResult::AwaitingPerson,
        }
    }
}

/// One credential's result: what happened, or the error naming camera and step.
#[derive(Clone, Debug, Serialize, TS)]
pub struct RotationOutcome {
    /// The camera (inventory key).
    pub camera: String,
    /// The user whose password changed.
    pub user: String,
    /// What happened (`null` on error).
    pub result: Option<RotationResult>,
    /// Why it failed.
    pub error: Option<CoreError>,
}

fn split(
    result: Result<CoreRotationResult, camward_core::CoreError>,
) -> (Option<RotationResult>, Option<CoreError>) {
    match result {
        Ok(done) => (Some(done.into()), None),
        Err(e) => (None, Some(e.into())),
    }
}

impl From<CoreOutcome> for RotationOutcome {
    fn from(outcome: CoreOutcome) -> Self {
        let CoreOutcome {
            camera,
            user,
            result,
        } = outcome;
        let (result, error) = split(result);
        RotationOutcome {
            camera,
            user,
            result,
            error,
        }
    }
}

/// Progress of a rotation or resume, streamed over a Tauri channel. Carries no secret.
#[derive(Clone, Debug, Serialize, TS)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum RotationEvent {
    /// Work on this camera began.
    Started {
        /// The camera (inventory key).
        camera: String,
        /// The user.
        user: String,
    },
    /// A step is done.
    Step {
        /// The camera (inventory key).
        camera: String,
        /// The step.
        step: RotationStep,
    },
    /// This camera is done.
    Finished {
        /// Its outcome.
        outcome: RotationOutcome,
    },
}

impl From<&CoreRotationEvent> for RotationEvent {
    fn from(event: &CoreRotationEvent) -> Self {
        match event.clone() {
            CoreRotationEvent::Started { camera, user } => RotationEvent::Started { camera, user },
            CoreRotationEvent::Step { camera, step } => RotationEvent::Step {
                camera,
                step: step.into(),
            },
            CoreRotationEvent::Finished {
                camera,
                user,
                result,
            } => RotationEvent::Finished {
                outcome: CoreOutcome {
                    camera,
                    user,
                    result,
                }
                .into(),
            },
        }
    }
}

/// A change an earlier run left unfinished.
#[derive(Clone, Debug, Serialize, TS)]
pub struct Interrupted {
    /// The camera (inventory key).
    pub camera: String,
    /// The user.
    pub user: String,
    /// `pending` or `promoted`.
    pub phase: String,
}

impl From<CoreInterrupted> for Interrupted {
    fn from(change: CoreInterrupted) -> Self {
        let CoreInterrupted {
            camera,
            user,
            phase,
        } = change;
        Interrupted {
            camera,
            user,
            phase,
        }
    }
}

/// A password the person asked to see. Held by the UI only while shown, never stored there.
#[derive(Clone, Serialize, TS)]
pub struct RevealedPassword {
    /// The camera (as asked for).
    pub camera: String,
    /// The user.
    pub user: String,
    /// The password.
    pub password: String,
}

impl std::fmt::Debug for RevealedPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RevealedPassword")
            .field("camera", &self.camera)
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// The certificate a decommissioning retires, to revoke at its CA.
#[derive(Clone, Debug, Serialize, TS)]
pub struct CertificateToRevoke {
    /// SHA-256 fingerprint.
    pub sha256_fingerprint: String,
    /// Its `notAfter` (RFC 3339).
    pub not_after: Option<String>,
    /// What to do.
    pub action: String,
}

impl From<CoreCertificate> for CertificateToRevoke {
    fn from(certificate: CoreCertificate) -> Self {
        let CoreCertificate {
            sha256_fingerprint,
            not_after,
            action,
        } = certificate;
        CertificateToRevoke {
            sha256_fingerprint,
            not_after,
            action,
        }
    }
}

/// What a decommissioning will reset and retire, shown before anything happens.
#[derive(Clone, Debug, Serialize, TS)]
pub struct DecommissionPlan {
    /// The camera's inventory key.
    pub camera: String,
    /// Its device service URL.
    pub url: String,
    /// Manufacturer.
    pub manufacturer: Option<String>,
    /// Model.
    pub model: Option<String>,
    /// Serial number.
    pub serial: Option<String>,
    /// Firmware.
    pub firmware: Option<String>,
    /// MAC address.
    pub mac: Option<String>,
    /// Accounts on the camera now.
    pub camera_users: Vec<String>,
    /// Accounts whose keychain entries will be retired.
    pub credentials: Vec<String>,
    /// The certificate that will be retired.
    pub certificate: Option<CertificateToRevoke>,
}

impl From<CorePlan> for DecommissionPlan {
    fn from(plan: CorePlan) -> Self {
        let CorePlan {
            camera,
            url,
            manufacturer,
            model,
            serial,
            firmware,
            mac,
            camera_users,
            credentials,
            certificate,
        } = plan;
        DecommissionPlan {
            camera,
            url,
            manufacturer,
            model,
            serial,
            firmware,
            mac,
            camera_users,
            credentials,
            certificate: certificate.map(Into::into),
        }
    }
}

/// Progress of a decommissioning, streamed over a Tauri channel.
#[derive(Clone, Debug, Serialize, TS)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum DecommissionEvent {
    /// The final state is in the audit trail.
    FinalStateRecorded,
    /// The factory reset was asked for.
    ResetSent {
        /// The call.
        via: String,
    },
    /// Waiting for the camera to come back factory-fresh.
    Waiting {
        /// Seconds waited so far.
        #[ts(type = "number")]
        waited_s: u64,
    },
    /// The camera was seen factory-fresh.
    FactoryStateSeen {
        /// Where.
        address: String,
    },
    /// Keychain entries deleted.
    CredentialsRetired {
        /// Their user names.
        users: Vec<String>,
    },
    /// The inventory marks the camera decommissioned.
    Recorded,
}

impl From<&CoreDecommissionEvent> for DecommissionEvent {
    fn from(event: &CoreDecommissionEvent) -> Self {
        match event.clone() {
            CoreDecommissionEvent::FinalStateRecorded => DecommissionEvent::FinalStateRecorded,
            CoreDecommissionEvent::ResetSent { via } => DecommissionEvent::ResetSent { via },
            CoreDecommissionEvent::Waiting { waited_s } => DecommissionEvent::Waiting { waited_s },
            CoreDecommissionEvent::FactoryStateSeen { address } => {
                DecommissionEvent::FactoryStateSeen { address }
            }
            CoreDecommissionEvent::CredentialsRetired { users } => {
                DecommissionEvent::CredentialsRetired { users }
            }
            CoreDecommissionEvent::Recorded => DecommissionEvent::Recorded,
        }
    }
}

/// The factory reset that was done.
#[derive(Clone, Debug, Serialize, TS)]
pub struct ResetDone {
    /// `hard` or `soft`.
    pub kind: String,
    /// The call that asked for it.
    pub via: String,
    /// Whether the network settings were kept.
    pub network_kept: bool,
}

impl From<CoreReset> for ResetDone {
    fn from(reset: CoreReset) -> Self {
        let CoreReset {
            kind,
            via,
            network_kept,
        } = reset;
        ResetDone {
            kind,
            via,
            network_kept,
        }
    }
}

/// Whether the reset was proven.
#[derive(Clone, Debug, Serialize, TS)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum DisposalResult {
    /// Seen factory-fresh; every secret retired.
    Proven,
    /// Not seen factory-fresh; every secret kept.
    NotProven {
        /// The error's code.
        code: String,
        /// Its message.
        message: String,
    },
}

impl From<CoreDisposalResult> for DisposalResult {
    fn from(result: CoreDisposalResult) -> Self {
        match result {
            CoreDisposalResult::Proven => DisposalResult::Proven,
            CoreDisposalResult::NotProven { code, message } => {
                DisposalResult::NotProven { code, message }
            }
        }
    }
}

/// How the factory state was seen.
#[derive(Clone, Debug, Serialize, TS)]
pub struct Proof {
    /// What showed the factory state.
    pub factory_state: String,
    /// Where the camera answered.
    pub address: String,
    /// How it was found (`same-address`, or discovery methods).
    pub found_by: Vec<String>,
    /// Whether that address is link-local.
    pub link_local: bool,
    /// How it was matched to the camera that was reset.
    pub matched_by: String,
    /// The users seen after the reset.
    pub users: String,
    /// When (RFC 3339).
    pub seen_at: String,
}

impl From<CoreProof> for Proof {
    fn from(proof: CoreProof) -> Self {
        let CoreProof {
            factory_state,
            address,
            found_by,
            link_local,
            matched_by,
            users,
            seen_at,
        } = proof;
        Proof {
            factory_state,
            address,
            found_by,
            link_local,
            matched_by,
            users,
            seen_at,
        }
    }
}

/// The disposal record of one decommissioned camera.
#[derive(Clone, Debug, Serialize, TS)]
pub struct DisposalRecord {
    /// The inventory key.
    pub camera: String,
    /// Its device service URL.
    pub url: String,
    /// Manufacturer.
    pub manufacturer: Option<String>,
    /// Model.
    pub model: Option<String>,
    /// Serial number.
    pub serial: Option<String>,
    /// Firmware.
    pub firmware: Option<String>,
    /// MAC address.
    pub mac: Option<String>,
    /// Who decommissioned it (the OS user).
    pub decommissioned_by: String,
    /// When it began (RFC 3339).
    pub started_at: String,
    /// When it ended.
    pub finished_at: String,
    /// The reset.
    pub reset: ResetDone,
    /// Proven or not.
    pub result: DisposalResult,
    /// The proof, when proven.
    pub proof: Option<Proof>,
    /// Keychain entries deleted.
    pub credentials_retired: Vec<String>,
    /// Keychain entries kept (reset not proven).
    pub credentials_kept: Vec<String>,
    /// The certificate to revoke.
    pub certificate_to_revoke: Option<CertificateToRevoke>,
    /// What a person still does.
    pub checklist: Vec<String>,
}

impl From<CoreRecord> for DisposalRecord {
    fn from(record: CoreRecord) -> Self {
        let CoreRecord {
            camera,
            url,
            manufacturer,
            model,
            serial,
            firmware,
            mac,
            decommissioned_by,
            started_at,
            finished_at,
            reset,
            result,
            proof,
            credentials_retired,
            credentials_kept,
            certificate_to_revoke,
            checklist,
        } = record;
        DisposalRecord {
            camera,
            url,
            manufacturer,
            model,
            serial,
            firmware,
            mac,
            decommissioned_by,
            started_at,
            finished_at,
            reset: reset.into(),
            result: result.into(),
            proof: proof.map(Into::into),
            credentials_retired,
            credentials_kept,
            certificate_to_revoke: certificate_to_revoke.map(Into::into),
            checklist,
        }
    }
}

/// A format the disposal record is saved in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum RecordFormat {
    /// One self-contained HTML page.
    Html,
    /// JSON.
    Json,
}

impl From<RecordFormat> for camward_core::hardening::report::Format {
    fn from(format: RecordFormat) -> Self {
        match format {
            RecordFormat::Html => camward_core::hardening::report::Format::Html,
            RecordFormat::Json => camward_core::hardening::report::Format::Json,
        }
    }
}

/// Where a disposal record was saved.
#[derive(Clone, Debug, Serialize, TS)]
pub struct SavedRecord {
    /// The file's absolute path.
    pub path: String,
    /// The format.
    pub format: RecordFormat,
}

/// The TypeScript declarations of this module, in dependency order.
#[cfg(test)]
pub(super) fn decls(cfg: &ts_rs::Config) -> Vec<String> {
    vec![
        CredentialState::decl(cfg),
        InventoryCamera::decl(cfg),
        FirstBootMethod::decl(cfg),
        DemoAdmin::decl(cfg),
        RotationStep::decl(cfg),
        RotationResult::decl(cfg),
        RotationOutcome::decl(cfg),
        RotationEvent::decl(cfg),
        Interrupted::decl(cfg),
        RevealedPassword::decl(cfg),
        CertificateToRevoke::decl(cfg),
        DecommissionPlan::decl(cfg),
        DecommissionEvent::decl(cfg),
        ResetDone::decl(cfg),
        DisposalResult::decl(cfg),
        Proof::decl(cfg),
        DisposalRecord::decl(cfg),
        RecordFormat::decl(cfg),
        SavedRecord::decl(cfg),
    ]
}
