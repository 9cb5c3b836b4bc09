//! The commands of journey 1 after the audit: admin account → time → services and host
//! restriction → review (dry run) → apply → guided steps → report.
//!
//! Each is a pass-through to camward-policy (password check, plan draft) or camward-core
//! (`hardening::commission`, `credentials`, `hardening::report`). A typed password crosses once
//! per check and once per run, and is never sent back; a camera's password crosses to the window
//! only through [`reveal_admin_password`], when the person asks for it.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use camward_core::credentials::NewPassword;
use camward_core::hardening::commission::{self as core, CommissionOptions, RunControl};
use camward_core::hardening::report::{self, Format};
use camward_policy::draft::{self, PlanDraft as CorePlanDraft};
use camward_vault::Sensitive;
use tauri::ipc::Channel;
use tauri::State;

use crate::ipc::{
    CommissionEvent, CommissionResult, CoreError, HostGuard, LaptopAddress, Level, NtpCheck,
    PasswordVerdict, PlanDraft, SavedReport,
};
use crate::site::{Site, AUDIT_USER};

/// The stop of the commissioning run in flight, if one is.
#[derive(Debug, Default)]
pub struct Commissioning {
    stop: Mutex<Option<Arc<AtomicBool>>>,
}

/// A plan draft the plan refuses, as the error the UI switches on: `code` is the plan's
/// (`plan_invalid_cidr`, …) and `step` the field path the form highlights.
fn plan_error(error: camward_policy::plan::PlanError) -> CoreError {
    CoreError {
        code: error.code().into(),
        message: error.message,
        camera: "-".into(),
        step: error.field,
    }
}

fn internal(step: &str, error: impl std::fmt::Display) -> CoreError {
    CoreError {
        code: "internal".into(),
        message: format!("stopped unexpectedly: {error}"),
        camera: "-".into(),
        step: step.into(),
    }
}

/// Checks a typed administrator password against the policy (both guides, zxcvbn, the user name
/// and model); every broken rule comes back with its reason, the password never does.
#[tauri::command]
pub fn check_admin_password(password: String, model: Option<String>) -> PasswordVerdict {
    let context = camward_policy::Context {
        user: AUDIT_USER.into(),
        model,
        hostname: None,
    };
    camward_policy::check(
        &password,
        &context,
        &camward_policy::DeviceLimits::default(),
    )
    .into()
}

/// The plan the screens start from at `level` (camward-policy's `PlanDraft::for_level`).
#[tauri::command]
pub fn plan_defaults(site: String, level: Level) -> PlanDraft {
    CorePlanDraft::for_level(&site, level.into()).into()
}

/// This computer's own address toward each camera: what an allow-list has to keep in.
#[tauri::command]
pub fn laptop_addresses(targets: Vec<String>) -> Vec<LaptopAddress> {
    core::laptop_addresses(&targets)
        .into_iter()
        .map(|(camera, address)| LaptopAddress {
            camera,
            address: address.map(|ip| ip.to_string()),
        })
        .collect()
}

/// Checks the draft with the plan's own rules, then the host restriction's lock-out guard for
/// each camera (refused with the reason when the allow-list leaves this computer out).
#[tauri::command]
pub fn check_site_plan(plan: PlanDraft, targets: Vec<String>) -> Result<Vec<HostGuard>, CoreError> {
    let plan = CorePlanDraft::from(plan).check().map_err(plan_error)?;
    Ok(core::host_guards(&plan, &targets)
        .into_iter()
        .map(HostGuard::from)
        .collect())
}

/// Asks each NTP server over SNTP, as `time-sync` does before a camera is told to use it.
#[tauri::command]
pub async fn check_ntp_servers(servers: Vec<String>) -> Result<Vec<NtpCheck>, CoreError> {
    let servers = draft::ntp_servers(&servers).map_err(plan_error)?;
    Ok(core::check_ntp(&servers)
        .await
        .into_iter()
        .map(NtpCheck::from)
        .collect())
}

/// Commissions the cameras at `targets` to the plan (`dry_run`: only says what would change),
/// streaming each camera's and control's progress to `on_event`. `password`, when given, is the
/// administrator's on every camera; none generates a unique one per camera.
#[tauri::command]
pub async fn commission_cameras(
    site: State<'_, Site>,
    running: State<'_, Commissioning>,
    targets: Vec<String>,
    plan: PlanDraft,
    password: Option<String>,
    dry_run: bool,
    on_event: Channel<CommissionEvent>,
) -> Result<Vec<CommissionResult>, CoreError> {
    let plan = CorePlanDraft::from(plan).check().map_err(plan_error)?;
    let vault = site.vault()?;
    let stop = Arc::new(AtomicBool::new(false));
    *running.stop.lock().unwrap_or_else(|p| p.into_inner()) = Some(Arc::clone(&stop));
    let password = password.map(|typed| NewPassword::Given(Sensitive::new(typed)));
    // As the audit command: the core's future is not `Send` for every lifetime.
    tauri::async_runtime::spawn_blocking(move || {
        let options = CommissionOptions {
            plan: &plan,
            user: AUDIT_USER,
            dry_run,
            outside: false,
            firmware: None,
        };
        let run = RunControl {
            password: password.as_ref(),
            stop: Some(stop),
        };
        let results = tokio::runtime::Handle::current().block_on(core::commission_all_with(
            &vault,
            &targets,
            &options,
            run,
            4,
            &|event| {
                if let Err(error) = on_event.send(event.into()) {
                    tracing::debug!(%error, "commissioning event not delivered");
                }
            },
        ));
        results
            .into_iter()
            .map(|(camera, result)| match result {
                Ok(done) => CommissionResult {
                    camera,
                    commission: Some(done.into()),
                    error: None,
                },
                Err(e) => CommissionResult {
                    camera,
                    commission: None,
                    error: Some(e.into()),
                },
            })
            .collect()
    })
    .await
    .map_err(|e| internal("commission", e))
}

/// Stops the commissioning run in flight after the control being applied; run again to resume.
#[tauri::command]
pub fn stop_commission(running: State<'_, Commissioning>) {
    if let Some(stop) = running
        .stop
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .as_ref()
    {
        stop.store(true, Ordering::SeqCst);
    }
}

/// The administrator's password of one camera, once, for the person who asked to see it (the
/// pending one a guided first boot waits for them to type, else the current one).
#[tauri::command]
pub fn reveal_admin_password(site: State<'_, Site>, camera: String) -> Result<String, CoreError> {
    let vault = site.vault()?;
    Ok(core::reveal_admin(&vault, &camera, AUDIT_USER)?
        .expose()
        .clone())
}

/// "Verify" of a guided first administrator: logs in with the pending password the person typed
/// on the camera's page and, when it works, makes it current.
#[tauri::command]
pub async fn confirm_first_admin(site: State<'_, Site>, camera: String) -> Result<(), CoreError> {
    let vault = site.vault()?;
    tauri::async_runtime::spawn_blocking(move || {
        tokio::runtime::Handle::current().block_on(camward_core::credentials::confirm_guided_admin(
            &vault, &camera, AUDIT_USER,
        ))
    })
    .await
    .map_err(|e| internal("confirm the administrator", e))??;
    Ok(())
}

/// Opens the camera's own web page in the system browser (for a guided step).
#[tauri::command]
pub fn open_camera_page(url: String) -> Result<(), CoreError> {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(CoreError {
            code: "invalid_url".into(),
            message: format!("{url} is not a camera page (http:// or https://)"),
            camera: url,
            step: "open the camera's page".into(),
        });
    }
    open_with_system(&url, "open the camera's page")
}

/// Opens a saved report (HTML or PDF) with the system's viewer.
#[tauri::command]
pub fn open_saved_report(path: String) -> Result<(), CoreError> {
    if !std::path::Path::new(&path).is_file() {
        return Err(CoreError {
            code: "io".into(),
            message: format!("{path} is not a saved report"),
            camera: "-".into(),
            step: "open the report".into(),
        });
    }
    open_with_system(&path, "open the report")
}

/// Hands `target` (a URL or a file) to the desktop's opener.
fn open_with_system(target: &str, step: &str) -> Result<(), CoreError> {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(windows) {
        "explorer"
    } else {
        "xdg-open"
    };
    std::process::Command::new(opener)
        .arg(target)
        .spawn()
        .map(drop)
        .map_err(|e| CoreError {
            code: "no_browser".into(),
            message: format!("could not start {opener}: {e}; open {target} yourself"),
            camera: "-".into(),
            step: step.into(),
        })
}

/// A place to save the report: the user's home folder (else the working directory).
#[tauri::command]
pub fn suggest_report_path(site: String, pdf: bool) -> String {
    let name: String = site
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let file = format!("camward-report-{name}.{}", if pdf { "pdf" } else { "html" });
    std::env::var_os("HOME")
        .map(std::path::PathBuf::from)
        .unwrap_or_default()
        .join(file)
        .display()
        .to_string()
}

/// Writes the site's report (`camward_core::hardening::report::write`) as HTML or PDF.
#[tauri::command]
pub async fn save_site_report(
    site: State<'_, Site>,
    name: String,
    pdf: bool,
    path: String,
) -> Result<SavedReport, CoreError> {
    let vault = site.vault()?;
    let format = if pdf { Format::Pdf } else { Format::Html };
    let out = std::path::PathBuf::from(&path);
    let written = tauri::async_runtime::spawn_blocking(move || {
        tokio::runtime::Handle::current().block_on(report::write(&vault, Some(&name), format, &out))
    })
    .await
    .map_err(|e| internal("write the report", e))??;
    Ok(SavedReport {
        path,
        cameras: u32::try_from(written.cameras.len()).unwrap_or(u32::MAX),
    })
}
