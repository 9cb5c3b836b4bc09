//! The commands of the inventory view and of journeys 2 and 3 (issue 7): rotate passwords
//! (`camward_core::credentials::rotate_with_events` / `resume_with_events`, progress over a
//! `tauri::ipc::Channel`) and decommission (`camward_core::decommission::plan` /
//! `decommission`, its `DecommissionEvent` stream over a channel, the record written by
//! `camward_core::disposal::write`).
//!
//! Each command is a pass-through to camward-core; errors cross as `{code, message, camera, step}`.
//! Passwords stay in the vault: a rotation generates them there, and only [`reveal_password`],
//! called when the person asks to see one, sends one to the window.
//!
//! The core futures borrow the vault across awaits in a way that is not `Send` for every lifetime
//! (see `audit_cameras` in `main.rs`), so each runs on a blocking thread of Tauri's runtime
//! ([`on_worker`]).
use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use camward_core::credentials::{NewPassword, RotationRequest};
use camward_core::decommission::DecommissionOptions;
use tauri::ipc::Channel;
use tauri::State;

use crate::ipc::lifecycle::{
    DecommissionEvent, DecommissionPlan, DemoAdmin, DisposalRecord, Interrupted, InventoryCamera,
    RecordFormat, RevealedPassword, RotationEvent, RotationOutcome, SavedRecord,
};
use crate::ipc::CoreError;
use crate::site::{Site, AUDIT_USER};

/// How many cameras a rotation works on at once (the CLI's default).
const ROTATION_CONCURRENCY: usize = 4;

/// How long a simulated camera's reset may take to be proven (camsim reboots in seconds).
const DEMO_REBOOT_TIMEOUT: Duration = Duration::from_secs(60);

/// The disposal records of this run, by camera, so the person can save them after seeing them
/// (a record whose reset was not proven is not kept by the inventory, and is worth saving too).
#[derive(Debug, Default)]
pub struct Records(Mutex<HashMap<String, camward_core::disposal::DisposalRecord>>);

fn internal(step: &str, e: impl std::fmt::Display) -> CoreError {
    CoreError {
        code: "internal".into(),
        message: format!("{step} stopped unexpectedly: {e}"),
        camera: "-".into(),
        step: step.into(),
    }
}

/// Runs a core future on a blocking thread of Tauri's runtime and waits for it there.
async fn on_worker<F, Fut, T>(step: &str, make: F) -> Result<T, CoreError>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = T>,
    T: Send + 'static,
{
    tauri::async_runtime::spawn_blocking(move || tokio::runtime::Handle::current().block_on(make()))
        .await
        .map_err(|e| internal(step, e))
}

/// Sends one event to the window; a window that went away only stops hearing.
fn forward<E: tauri::ipc::IpcResponse>(channel: &Channel<E>, event: E) {
    if let Err(error) = channel.send(event) {
        tracing::debug!(%error, "progress event not delivered");
    }
}

/// Every camera of the inventory with its newest audit score, certificate expiry and credential
/// age (`camward_core::inventory_view::list`).
#[tauri::command]
pub fn inventory_cameras(site: State<'_, Site>) -> Result<Vec<InventoryCamera>, CoreError> {
    Ok(
        camward_core::inventory_view::list(&*site.vault()?, time::OffsetDateTime::now_utc())?
            .into_iter()
            .map(InventoryCamera::from)
            .collect(),
    )
}

/// Demo mode: gives each simulated camera its first administrator through
/// `camward_core::credentials::init_admin` (see [`Site::give_demo_admins`]).
#[tauri::command]
pub async fn give_demo_admins(site: State<'_, Site>) -> Result<Vec<DemoAdmin>, CoreError> {
    let (vault, urls) = site.demo_targets()?;
    on_worker(
        "give the simulated cameras an administrator",
        move || async move { crate::site::give_demo_admins(&vault, &urls, AUDIT_USER).await },
    )
    .await
}

/// Rotates the administrator password of `cameras` (inventory keys or addresses) to a new one
/// generated per camera, streaming each camera's steps to `on_event`.
#[tauri::command]
pub async fn rotate_passwords(
    site: State<'_, Site>,
    cameras: Vec<String>,
    on_event: Channel<RotationEvent>,
) -> Result<Vec<RotationOutcome>, CoreError> {
    let vault = site.vault()?;
    let request = RotationRequest {
        user: AUDIT_USER.into(),
        admin: AUDIT_USER.into(),
        password: NewPassword::Generate,
        concurrency: ROTATION_CONCURRENCY,
    };
    let sink = Arc::new(move |event: &camward_core::credentials::RotationEvent| {
        forward(&on_event, RotationEvent::from(event))
    });
    let outcomes = on_worker("rotate passwords", move || async move {
        camward_core::credentials::rotate_with_events(&vault, &cameras, request, sink).await
    })
    .await?;
    Ok(outcomes.into_iter().map(RotationOutcome::from).collect())
}

/// The changes an earlier run left unfinished (`camward_core::credentials::interrupted`).
#[tauri::command]
pub fn interrupted_changes(site: State<'_, Site>) -> Result<Vec<Interrupted>, CoreError> {
    Ok(camward_core::credentials::interrupted(&*site.vault()?)?
        .into_iter()
        .map(Interrupted::from)
        .collect())
}

/// Finishes every interrupted change (`camward_core::credentials::resume_with_events`).
#[tauri::command]
pub async fn resume_rotation(
    site: State<'_, Site>,
    on_event: Channel<RotationEvent>,
) -> Result<Vec<RotationOutcome>, CoreError> {
    let vault = site.vault()?;
    let sink = Arc::new(move |event: &camward_core::credentials::RotationEvent| {
        forward(&on_event, RotationEvent::from(event))
    });
    let outcomes = on_worker("resume", move || async move {
        camward_core::credentials::resume_with_events(&vault, ROTATION_CONCURRENCY, sink).await
    })
    .await??;
    Ok(outcomes.into_iter().map(RotationOutcome::from).collect())
}

/// The current password of the administrator of `camera`, because the person asked to see it
/// (`camward_core::credentials::reveal`, which writes the reveal to the audit trail).
#[tauri::command]
pub fn reveal_password(
    site: State<'_, Site>,
    camera: String,
) -> Result<RevealedPassword, CoreError> {
    let password = camward_core::credentials::reveal(&*site.vault()?, &camera, AUDIT_USER)?;
    Ok(RevealedPassword {
        camera,
        user: AUDIT_USER.into(),
        password: password.expose().clone(),
    })
}

/// What decommissioning `camera` will reset and retire (`camward_core::decommission::plan`).
#[tauri::command]
pub async fn decommission_plan(
    site: State<'_, Site>,
    camera: String,
) -> Result<DecommissionPlan, CoreError> {
    let vault = site.vault()?;
    Ok(on_worker(
        "read the camera before decommissioning",
        move || async move { camward_core::decommission::plan(&vault, &camera, AUDIT_USER).await },
    )
    .await??
    .into())
}

/// Factory-resets `camera`, proves it, retires its secrets and records it decommissioned
/// (`camward_core::decommission::decommission`), once `typed_serial` matches its serial number.
#[tauri::command]
pub async fn decommission_camera(
    site: State<'_, Site>,
    records: State<'_, Records>,
    camera: String,
    typed_serial: String,
    keep_network: bool,
    on_event: Channel<DecommissionEvent>,
) -> Result<DisposalRecord, CoreError> {
    let vault = site.vault()?;
    let options = decommission_options(&site, typed_serial, keep_network);
    let record = on_worker("decommission", move || async move {
        camward_core::decommission::decommission(&vault, &camera, &options, |event| {
            forward(&on_event, DecommissionEvent::from(event))
        })
        .await
    })
    .await??;
    records
        .0
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .insert(record.camera.clone(), record.clone());
    Ok(record.into())
}

/// Writes the disposal record of `camera` from this run (`camward_core::disposal::write`) into the
/// records folder and says where.
#[tauri::command]
pub async fn save_disposal_record(
    site: State<'_, Site>,
    records: State<'_, Records>,
    camera: String,
    format: RecordFormat,
) -> Result<SavedRecord, CoreError> {
    let record = records
        .0
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .get(&camera)
        .cloned()
        .ok_or_else(|| CoreError {
            code: "no_record".into(),
            message: "no disposal record of this camera in this session".into(),
            camera: camera.clone(),
            step: "save the disposal record".into(),
        })?;
    let path = records_dir(&site)?.join(record_file_name(&record, format));
    camward_core::disposal::write(&record, format.into(), &path).await?;
    Ok(SavedRecord {
        path: path.to_string_lossy().into_owned(),
        format,
    })
}

/// The decommissioning options: a hard reset by default. On the simulated site the cameras live
/// on 127.0.0.1, where no discovery method may run, so the proof is the camera answering in its
/// factory state at its old address (`rediscover: false`), which the record says.
fn decommission_options(site: &Site, typed: String, keep_network: bool) -> DecommissionOptions {
    let demo = site.demo_cameras().is_some();
    DecommissionOptions {
        user: AUDIT_USER.into(),
        keep_network,
        rediscover: !demo,
        reboot_timeout: if demo {
            DEMO_REBOOT_TIMEOUT
        } else {
            DecommissionOptions::default().reboot_timeout
        },
        confirm_serial: Some(typed),
        ..DecommissionOptions::default()
    }
}

/// Where disposal records are saved: `CAMWARD_RECORDS_DIR`, else (demo) a folder in the temporary
/// directory, else `records/` next to the inventory.
fn records_dir(site: &Site) -> Result<PathBuf, CoreError> {
    let dir = match std::env::var_os("CAMWARD_RECORDS_DIR").filter(|d| !d.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None if site.demo_cameras().is_some() => {
            std::env::temp_dir().join(format!("camward-demo-{}", std::process::id()))
        }
        None => camward_vault::default_db_path()
            .map_err(|e| CoreError {
                code: e.code().into(),
                message: e.to_string(),
                camera: "-".into(),
                step: "find the records folder".into(),
            })?
            .parent()
            .map(|p| p.join("records"))
            .unwrap_or_else(|| PathBuf::from("records")),
    };
    std::fs::create_dir_all(&dir).map_err(|e| CoreError {
        code: "io".into(),
        message: format!("cannot create {}: {e}", dir.display()),
        camera: "-".into(),
        step: "save the disposal record".into(),
    })?;
    Ok(dir)
}

/// `disposal-<serial>-<finished>.html`: letters, digits and dashes only.
fn record_file_name(
    record: &camward_core::disposal::DisposalRecord,
    format: RecordFormat,
) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect()
    };
    let who = record.serial.as_deref().unwrap_or(record.camera.as_str());
    let extension = match format {
        RecordFormat::Html => "html",
        RecordFormat::Json => "json",
    };
    format!(
        "disposal-{}-{}.{extension}",
        clean(who),
        clean(&record.finished_at)
    )
}

#[cfg(test)]
mod tests {
    use camward_core::credentials::RotationResult;
    use camward_core::disposal::DisposalResult;

    use super::*;

    /// Journeys 2 and 3 on the demo site through the same core calls the commands make: the
    /// simulated cameras get administrators, one rotation is verified against the camera itself,
    /// and a decommissioning hard-resets a camera, proves it factory-fresh at its address and
    /// leaves nothing in the vault.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_demo_site_is_rotated_and_a_camera_decommissioned_with_proof() {
        let site = Site::default();
        site.start_demo().await.expect("starting the demo site");
        let (vault, urls) = site.demo_targets().expect("demo targets");
        let given = crate::site::give_demo_admins(&vault, &urls, AUDIT_USER).await;
        let created: Vec<&str> = given
            .iter()
            .filter(|g| g.error.is_none() && g.awaiting_person_at.is_none())
            .map(|g| g.url.as_str())
            .collect();
        assert_eq!(created.len(), 3, "ONVIF, Axis, Hikvision: {given:?}");
        assert_eq!(
            given
                .iter()
                .filter(|g| g.awaiting_person_at.is_some())
                .count(),
            2,
            "Canon and i-PRO wait for a person: {given:?}"
        );
        assert!(camward_core::credentials::interrupted(&vault)
            .unwrap()
            .is_empty());

        let listed = camward_core::inventory_view::list(&vault, time::OffsetDateTime::now_utc())
            .expect("inventory");
        assert_eq!(listed.len(), 3);
        let generic = listed
            .iter()
            .find(|c| c.url.as_deref() == Some(urls[0].as_str()))
            .expect("the generic camera is listed");
        let old = camward_core::credentials::reveal(&vault, &generic.camera, AUDIT_USER).unwrap();

        let events = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&events);
        let outcomes = camward_core::credentials::rotate_with_events(
            &vault,
            &[urls[0].clone()],
            RotationRequest {
                user: AUDIT_USER.into(),
                admin: AUDIT_USER.into(),
                password: NewPassword::Generate,
                concurrency: 1,
            },
            Arc::new(move |event: &camward_core::credentials::RotationEvent| {
                seen.lock().unwrap().push(RotationEvent::from(event))
            }),
        )
        .await;
        assert_eq!(outcomes.len(), 1);
        assert_eq!(outcomes[0].result, Ok(RotationResult::Rotated));
        assert_eq!(
            events.lock().unwrap().len(),
            8,
            "started, six steps, finished: {:?}",
            events.lock().unwrap()
        );
        let new = camward_core::credentials::reveal(&vault, &generic.camera, AUDIT_USER).unwrap();
        assert_ne!(new.expose(), old.expose());
        let mut budget = camward_core::credentials::AttemptBudget::default();
        assert!(budget
            .login(&urls[0], AUDIT_USER, &new, "check")
            .await
            .unwrap());

        // An interrupted change: a new password stored as pending that never reached the camera
        // (a crash right after the write-ahead). The resume asks the camera and rolls it back.
        let axis = listed
            .iter()
            .find(|c| c.manufacturer.as_deref() == Some("AXIS"))
            .expect("the Axis camera is listed");
        let key = camward_vault::CredentialKey::new(axis.camera.as_str(), AUDIT_USER);
        drop(
            vault
                .ledger
                .begin_change(
                    &key,
                    &camward_vault::Sensitive::new("Never-Sent-Password-42x".to_owned()),
                )
                .unwrap(),
        );
        let waiting = camward_core::credentials::interrupted(&vault).unwrap();
        assert_eq!(waiting.len(), 1);
        assert_eq!(waiting[0].phase, "pending");
        let resumed = camward_core::credentials::resume_with_events(
            &vault,
            ROTATION_CONCURRENCY,
            Arc::new(|_: &camward_core::credentials::RotationEvent| {}),
        )
        .await
        .unwrap();
        assert_eq!(resumed.len(), 1);
        assert_eq!(resumed[0].result, Ok(RotationResult::RolledBack));
        assert!(camward_core::credentials::interrupted(&vault)
            .unwrap()
            .is_empty());

        let plan = camward_core::decommission::plan(&vault, &urls[0], AUDIT_USER)
            .await
            .expect("plan");
        let serial = plan.serial.clone().expect("camsim reports a serial");
        let refused = camward_core::decommission::decommission(
            &vault,
            &urls[0],
            &decommission_options(&site, "not-the-serial".into(), false),
            |_| {},
        )
        .await
        .expect_err("a wrong serial is refused");
        assert_eq!(refused.code, "not_confirmed");
        assert!(
            !camward_core::first_boot::detect(&urls[0])
                .await
                .unwrap()
                .factory_fresh
        );

        let mut log = Vec::new();
        let record = camward_core::decommission::decommission(
            &vault,
            &urls[0],
            &decommission_options(&site, serial.to_lowercase(), false),
            |event| log.push(DecommissionEvent::from(event)),
        )
        .await
        .expect("decommissioned");
        assert_eq!(record.result, DisposalResult::Proven, "{record:?}");
        assert_eq!(record.reset.kind, "hard");
        let proof = record.proof.as_ref().expect("proof");
        assert_eq!(proof.found_by, ["same-address"]);
        assert!(record.credentials_retired.contains(&AUDIT_USER.to_owned()));
        assert!(
            camward_core::first_boot::detect(&urls[0])
                .await
                .unwrap()
                .factory_fresh
        );
        assert!(vault
            .ledger
            .current(&camward_vault::CredentialKey::new(
                generic.camera.as_str(),
                AUDIT_USER
            ))
            .unwrap()
            .is_none());
        let after =
            camward_core::inventory_view::list(&vault, time::OffsetDateTime::now_utc()).unwrap();
        let gone = after.iter().find(|c| c.camera == generic.camera).unwrap();
        assert!(gone.decommissioned_at.is_some());
        assert_eq!(
            gone.credential_state,
            camward_core::inventory_view::CredentialState::None
        );
        assert_eq!(
            record_file_name(&record, RecordFormat::Html),
            format!(
                "disposal-{serial}-{}.html",
                record
                    .finished_at
                    .replace(|c: char| !c.is_ascii_alphanumeric(), "-")
            )
        );

        if let Some(fleet) = site.take_fleet() {
            fleet.shutdown().await;
        }
    }
}
