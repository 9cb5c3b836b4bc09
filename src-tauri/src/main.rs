//! The Camward desktop app: a thin Tauri shell over `camward-core`.
//!
//! Every command is a pass-through to a use case in `camward-core` (or to [`site`], the shell's
//! glue around it: the demo fleet, which vault to use); errors cross the IPC boundary as
//! `{code, message, camera, step}` so the front end can switch on `code` and never on message
//! text. What crosses is declared once in [`ipc`], whose TypeScript twin `ui/src/lib/bindings.ts`
//! is generated and checked by a test. Long work streams its progress over a
//! `tauri::ipc::Channel` (discovery's `DiscoveryEvent`s).
//!
//! How the front end gets into the binary: `tauri::generate_context!()` embeds the files of
//! `build.frontendDist` (`../ui/dist`) at compile time, unless the build is a dev build (`cfg(dev)`,
//! which `tauri-build` sets whenever the `custom-protocol` feature is off, i.e. every plain
//! `cargo build`) AND `build.devUrl` is set, in which case the window loads the dev server instead
//! (tauri-codegen `context.rs`). Camward's `tauri.conf.json` deliberately sets no `devUrl`, so a
//! plain debug `cargo build -p camward-desktop` serves the built UI from `tauri://localhost` with no
//! dev server running; that is the binary the WebDriver test drives. Consequences: `ui/dist` must be
//! built (`npm run build` in `ui/`) before this crate compiles, and a UI change needs a rebuild of
//! this crate. The `custom-protocol` feature is only switched on by `tauri build` for bundles.

// Release builds on Windows should not open a console window next to the app.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod certificates;
mod commission;
mod ipc;
mod lifecycle;
mod site;

use camward_core::hardening::audit::AuditOptions;
use tauri::ipc::Channel;
use tauri::{Manager, RunEvent, State};

use ipc::{
    AuditDepth, CameraAudit, CoreError, Discovery, DiscoveryEvent, Interface, Level, ProbeReport,
    SimulatedCamera,
};
use site::Site;
// The commissioning journey's commands (glob: `generate_handler!` needs each command's macro too).
use certificates::*;
use commission::*;
// Inventory view, rotate passwords and decommission (journeys 2 and 3).
use lifecycle::*;

/// Registers the commands with Tauri and lists their names in [`COMMANDS`] from one list, so the
/// names the UI may call cannot drift from the handlers (a test checks `ui/src/lib/api.ts`).
macro_rules! commands {
    ($($name:ident),* $(,)?) => {
        /// Every command the shell registers, by name.
        #[cfg_attr(not(test), allow(dead_code))]
        const COMMANDS: &[&str] = &[$(stringify!($name)),*];

        fn register(builder: tauri::Builder<tauri::Wry>) -> tauri::Builder<tauri::Wry> {
            builder.invoke_handler(tauri::generate_handler![$($name),*])
        }
    };
}

commands![
    probe_camera,
    demo_cameras,
    start_demo,
    list_interfaces,
    discover_cameras,
    discover_demo,
    stop_discovery,
    audit_cameras,
    check_admin_password,
    plan_defaults,
    laptop_addresses,
    check_site_plan,
    check_ntp_servers,
    site_ca,
    enrol_with_site_ca,
    export_camera_csrs,
    import_issued_certificates,
    import_certificate_with_key,
    commission_cameras,
    stop_commission,
    reveal_admin_password,
    confirm_first_admin,
    open_camera_page,
    suggest_report_path,
    save_site_report,
    open_saved_report,
    inventory_cameras,
    give_demo_admins,
    rotate_passwords,
    interrupted_changes,
    resume_rotation,
    reveal_password,
    decommission_plan,
    decommission_camera,
    save_disposal_record,
];

/// Asks the camera at `url` what it tells without credentials (see `camward_core::probe::probe`).
#[tauri::command]
async fn probe_camera(url: String) -> Result<ProbeReport, CoreError> {
    Ok(camward_core::probe::probe(&url).await?.into())
}

/// The simulated cameras of `--demo`, empty when the app runs against a real site.
#[tauri::command]
fn demo_cameras(site: State<'_, Site>) -> Vec<SimulatedCamera> {
    site.demo_cameras()
        .unwrap_or_default()
        .into_iter()
        .map(SimulatedCamera::from)
        .collect()
}

/// Starts the simulated site ("Try with simulated cameras"), or returns the running one.
#[tauri::command]
async fn start_demo(site: State<'_, Site>) -> Result<Vec<SimulatedCamera>, CoreError> {
    Ok(site
        .start_demo()
        .await?
        .into_iter()
        .map(SimulatedCamera::from)
        .collect())
}

/// This computer's network interfaces (see `camward_core::discover::interfaces`).
#[tauri::command]
fn list_interfaces() -> Result<Vec<Interface>, CoreError> {
    Ok(camward_core::discover::interfaces()?
        .into_iter()
        .map(Interface::from)
        .collect())
}

/// Scans the named interfaces (none: every non-loopback one) with every method, streaming each
/// change of the live list to `on_event`; returns the whole list when the scan is over or stopped.
#[tauri::command]
async fn discover_cameras(
    site: State<'_, Site>,
    interfaces: Vec<String>,
    on_event: Channel<DiscoveryEvent>,
) -> Result<Discovery, CoreError> {
    let chosen = camward_core::discover::choose(&interfaces)?;
    let stop = site.begin_scan();
    let options = camward_core::discover::DiscoverOptions::default();
    let found = camward_core::discover::discover(
        &chosen,
        &options,
        async {
            let _ = stop.await;
        },
        |event| send(&on_event, event),
    )
    .await;
    Ok(found.into())
}

/// Lists the simulated site's cameras the way discovery lists a network's (see
/// [`site::discover_urls`]: the demo cameras live on 127.0.0.1 ports no discovery method scans).
#[tauri::command]
async fn discover_demo(
    site: State<'_, Site>,
    on_event: Channel<DiscoveryEvent>,
) -> Result<Discovery, CoreError> {
    let urls = site
        .demo_cameras()
        .ok_or_else(|| camward_core::CoreError {
            code: "no_demo_site".into(),
            message:
                "the simulated site is not running; start it with “Try with simulated cameras”"
                    .into(),
            camera: "-".into(),
            step: "list the simulated cameras".into(),
        })?
        .into_iter()
        .map(|camera| camera.device_url)
        .collect();
    let stop = site.begin_scan();
    Ok(
        site::discover_urls(urls, stop, |event| send(&on_event, event))
            .await
            .into(),
    )
}

/// Stops the running scan; what it found so far stays listed.
#[tauri::command]
fn stop_discovery(site: State<'_, Site>) {
    site.stop_scan();
}

/// Audits the selected cameras at `level`, logged in as the CLI's default user with the password
/// the vault holds (`camward_core::hardening::audit::audit_all`). A camera with no password there
/// (a factory-fresh one has no administrator yet) is audited without credentials instead.
#[tauri::command]
async fn audit_cameras(
    site: State<'_, Site>,
    targets: Vec<String>,
    level: Level,
) -> Result<Vec<CameraAudit>, CoreError> {
    let vault = site.vault()?;
    // The core's audit future borrows the vault across awaits in a way that is not `Send` for
    // every lifetime, which Tauri's async commands require: it runs on a blocking thread of the
    // same runtime instead.
    tauri::async_runtime::spawn_blocking(move || {
        tokio::runtime::Handle::current().block_on(audit_selected(&vault, &targets, level.into()))
    })
    .await
    .map_err(|e| {
        CoreError::from(camward_core::CoreError {
            code: "internal".into(),
            message: format!("the audit stopped unexpectedly: {e}"),
            camera: "-".into(),
            step: "audit".into(),
        })
    })
}

async fn audit_selected(
    vault: &camward_core::credentials::Vault,
    targets: &[String],
    level: camward_core::hardening::Level,
) -> Vec<CameraAudit> {
    use camward_core::hardening::audit::Audited;
    let options = AuditOptions {
        level,
        plan: None,
        firmware: None,
        outside: false,
        peers: None,
    };
    let results = camward_core::hardening::audit::audit_all_or_prelogin(
        vault,
        targets,
        site::AUDIT_USER,
        &options,
        4,
    )
    .await;
    results
        .into_iter()
        .map(|(camera, result)| match result {
            Ok(Audited::LoggedIn(card)) => CameraAudit {
                camera,
                scorecard: Some(card.into()),
                depth: Some(AuditDepth::LoggedIn),
                factory_fresh: false,
                error: None,
            },
            Ok(Audited::WithoutLogin { seen, why }) => CameraAudit {
                camera,
                scorecard: Some(seen.scorecard.into()),
                depth: Some(AuditDepth::WithoutCredentials),
                factory_fresh: seen.factory_fresh,
                error: Some(why.into()),
            },
            Err(e) => failed(camera, e),
        })
        .collect()
}

fn failed(camera: String, error: camward_core::CoreError) -> CameraAudit {
    CameraAudit {
        camera,
        scorecard: None,
        depth: None,
        factory_fresh: false,
        error: Some(error.into()),
    }
}

/// Forwards one discovery event to the window. A window that went away only stops hearing.
fn send(channel: &Channel<DiscoveryEvent>, event: &camward_core::discover::DiscoveryEvent) {
    if let Err(error) = channel.send(event.into()) {
        tracing::debug!(%error, "discovery event not delivered");
    }
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();

    let demo = std::env::args().skip(1).any(|arg| arg == "--demo");
    // `--demo-cameras=N`: a simulated site of N cameras instead of one per flavour (footprint
    // measurements list 100).
    let demo_size = std::env::args()
        .skip(1)
        .find_map(|arg| arg.strip_prefix("--demo-cameras=")?.parse::<usize>().ok());
    // `--demo-latency-ms=N`: the simulated cameras answer every request N ms late, as a site
    // behind a slow link would (the desktop test that stops a run half-way uses it).
    let demo_latency_ms = std::env::args()
        .skip(1)
        .find_map(|arg| arg.strip_prefix("--demo-latency-ms=")?.parse::<u64>().ok());

    let app = register(
        tauri::Builder::default()
            .manage(
                demo_size
                    .map_or_else(Site::default, Site::with_demo_size)
                    .with_demo_latency(demo_latency_ms.unwrap_or(0)),
            )
            .manage(Commissioning::default())
            .manage(Records::default()),
    )
    .setup(move |app| {
        if demo {
            // The fleet's listeners run on Tauri's async runtime, which outlives this call.
            let site = app.state::<Site>();
            tauri::async_runtime::block_on(site.start_demo())
                .map_err(|e| format!("{}: {}", e.step, e.message))?;
        }
        Ok(())
    })
    .build(tauri::generate_context!());

    let app = match app {
        Ok(app) => app,
        Err(error) => {
            tracing::error!(%error, "could not start the Camward window");
            std::process::exit(1);
        }
    };

    app.run(|app, event| {
        if let RunEvent::Exit = event {
            if let Some(fleet) = app.state::<Site>().take_fleet() {
                tauri::async_runtime::block_on(fleet.shutdown());
            }
        }
    });
}
