//! The Camward desktop app: a thin Tauri shell over `camward-core`.
//!
//! Every command is a one-line pass-through to a use case in `camward-core`; errors cross the IPC
//! boundary as `camward_core::CoreError`, which serializes as `{code, message, camera, step}` so the
//! front end can switch on `code` and never on message text.
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

use std::sync::Mutex;

use camward_core::probe::ProbeReport;
use camward_core::CoreError;
use tauri::{Manager, RunEvent, State};

/// How many simulated cameras `--demo` starts: enough to show a pick list, few enough to start
/// instantly.
const DEMO_CAMERAS: usize = 3;

/// The simulated site of `--demo`: an in-process camsim fleet that lives as long as the app.
#[derive(Debug, Default)]
struct DemoSite {
    /// `None` without `--demo`, and after shutdown.
    fleet: Mutex<Option<camsim::Fleet>>,
}

/// Asks the camera at `url` what it tells without credentials (see `camward_core::probe::probe`).
#[tauri::command]
async fn probe_camera(url: String) -> Result<ProbeReport, CoreError> {
    camward_core::probe::probe(&url).await
}

/// The simulated cameras of `--demo`, empty when the app runs against a real site.
#[tauri::command]
fn demo_cameras(demo: State<'_, DemoSite>) -> Vec<camsim::CameraInfo> {
    // A poisoned lock only means another command panicked while reading the list; the fleet
    // itself is still intact, so the list is still worth showing.
    let fleet = demo
        .fleet
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    fleet
        .as_ref()
        .map(|fleet| fleet.cameras().iter().map(|camera| camera.info()).collect())
        .unwrap_or_default()
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();

    let demo = std::env::args().skip(1).any(|arg| arg == "--demo");

    let app = tauri::Builder::default()
        .manage(DemoSite::default())
        .invoke_handler(tauri::generate_handler![probe_camera, demo_cameras])
        .setup(move |app| {
            if demo {
                // The fleet's listeners run on Tauri's async runtime, which outlives this call.
                let fleet =
                    tauri::async_runtime::block_on(camsim::Fleet::start(camsim::FleetConfig {
                        cameras: DEMO_CAMERAS,
                        ..Default::default()
                    }))?;
                for camera in fleet.cameras() {
                    tracing::info!(device_url = %camera.device_url(), "simulated camera ready");
                }
                let site = app.state::<DemoSite>();
                *site
                    .fleet
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(fleet);
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
            let site = app.state::<DemoSite>();
            let fleet = site
                .fleet
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .take();
            if let Some(fleet) = fleet {
                tauri::async_runtime::block_on(fleet.shutdown());
            }
        }
    });
}
