//! End to end, journey 2 interrupted: the real debug binary, not in demo mode, on an inventory
//! (`CAMWARD_DB`) and OS keychain entries (`CAMWARD_KEYCHAIN_SERVICE`, the test session's
//! gnome-keyring) that this test prepared for three simulated cameras answering 150 ms late. The
//! cameras' passwords are rotated from the keyboard. Once every camera's new password is stored as
//! pending, the last camera loses power (it comes back 1 s later with its settings), and as soon
//! as another camera has taken its new password the app is killed (SIGKILL, as a crash or a
//! pulled plug would): one change the camera had finished, one it never saw. Started again,
//! the app says which changes an earlier run left unfinished; "Finish interrupted changes" asks
//! each camera which password it has and finishes or rolls back each change. Then, from outside
//! the app: nothing is left pending, and every camera accepts the password the keychain holds as
//! current. Screenshots go to `artifacts/screenshots/journey-rotate-resume/`.
//!
//! The cameras listen on 127.0.0.1 ports; nothing here multicasts. Prerequisites and skipping
//! rules are those of `probe.rs` (see `common`); the keychain is the one of `scripts/test.sh`'s
//! D-Bus session.

mod common;
mod lifecycle;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use camward_core::credentials::{self, AttemptBudget, NewPassword, Vault};
use common::{
    by_test_id, prerequisites, press, screenshot, screenshot_dir, tab_to, text_of, texts,
    wait_until, wait_until_within, TauriDriver,
};
use fantoccini::key::Key;
use fantoccini::Client;
use lifecycle::{attrs, open_journey, pick_cameras};

const CAMERAS: usize = 3;
/// Slow enough that a rotation is still under way when the test has seen every change begin.
const LATENCY_MS: u64 = 150;
const USER: &str = "admin";

#[derive(Debug, Default)]
struct Seen {
    pickable: usize,
    pending_seen: usize,
    /// A camera that had taken its new password when the app was killed.
    took_new: Option<String>,
    killed: Vec<u32>,
    pending_after_kill: Vec<String>,
    interrupted_text: String,
    interrupted_items: Vec<String>,
    status: String,
    cameras: Vec<String>,
    results: Vec<String>,
    result_texts: Vec<String>,
    screenshots: Vec<std::path::PathBuf>,
}

/// The admin password camera `camera` has now (the simulated firmware's own state).
fn camera_password(camera: &camsim::SimCamera) -> Option<String> {
    camera
        .state()
        .users
        .into_iter()
        .find(|u| u.name == USER)
        .map(|u| u.password)
}

/// The inventory's cameras picked and rotated; once every camera's new password is pending in the
/// ledger (read from outside, through the same SQLite file), the last camera is power-cycled, and
/// the app killed as soon as one of the others has taken its new password.
async fn rotate_until_killed(
    client: &Client,
    driver: &TauriDriver,
    vault: &Vault,
    fleet: &camsim::Fleet,
    shots: &Path,
    seen: &mut Seen,
) -> Result<(), String> {
    let before: Vec<Option<String>> = fleet.cameras().iter().map(camera_password).collect();
    open_journey(client, "nav-rotate", "rotate-title").await?;
    wait_until(
        client,
        "the inventory's cameras to be listed",
        &format!(
            "document.querySelectorAll('[data-testid=\"pick-inventory-camera\"]').length === {CAMERAS}"
        ),
    )
    .await?;
    seen.pickable = texts(client, &by_test_id("pick-inventory-camera"))
        .await?
        .len();
    seen.screenshots
        .push(screenshot(client, shots, "01-inventory").await?);
    pick_cameras(client, CAMERAS).await?;
    tab_to(client, "rotate-next").await?;
    press(client, char::from(Key::Enter)).await?;
    wait_until(
        client,
        "the review of the rotation",
        "!!document.querySelector('[data-testid=\"rotate-apply\"]')",
    )
    .await?;
    tab_to(client, "rotate-apply").await?;
    press(client, char::from(Key::Enter)).await?;

    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let pending = credentials::interrupted(vault)
            .map_err(|e| format!("reading the ledger: {}", e.message))?
            .len();
        if pending == CAMERAS {
            seen.pending_seen = pending;
            break;
        }
        if Instant::now() > deadline {
            return Err(format!(
                "only {pending} of {CAMERAS} changes began within 30 s"
            ));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let (others, last) = fleet.cameras().split_at(CAMERAS - 1);
    last[0].power_cycle();
    loop {
        if let Some(i) = others
            .iter()
            .zip(&before)
            .position(|(camera, old)| camera_password(camera) != *old)
        {
            seen.took_new = Some(others[i].device_url());
            break;
        }
        if Instant::now() > deadline {
            return Err("no camera took its new password within 30 s".into());
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    seen.killed = driver.app_pids();
    if seen.killed.is_empty() {
        return Err("no camward-desktop process below tauri-driver".into());
    }
    for pid in &seen.killed {
        let _ = std::process::Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
    }
    let gone = Instant::now() + Duration::from_secs(10);
    while seen
        .killed
        .iter()
        .any(|pid| Path::new(&format!("/proc/{pid}")).exists())
    {
        if Instant::now() > gone {
            return Err(format!("the app {:?} outlived SIGKILL", seen.killed));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// The app started again: the interrupted changes, then finished from the keyboard.
async fn resume_after_restart(
    client: &Client,
    expected: usize,
    shots: &Path,
    seen: &mut Seen,
) -> Result<(), String> {
    open_journey(client, "nav-rotate", "rotate-title").await?;
    seen.interrupted_text = text_of(client, "interrupted").await?;
    seen.interrupted_items = texts(client, "[data-testid=\"interrupted\"] li").await?;
    seen.screenshots
        .push(screenshot(client, shots, "02-interrupted").await?);
    tab_to(client, "resume-rotation").await?;
    press(client, char::from(Key::Enter)).await?;
    wait_until_within(
        client,
        "every interrupted change's result",
        &format!(
            "!!document.querySelector('[data-testid=\"rotate-again\"]') && [...document.querySelectorAll('[data-testid=\"rotation-camera\"]')].filter(c => c.dataset.result || c.dataset.code).length === {expected}"
        ),
        Duration::from_secs(60),
    )
    .await?;
    seen.status = text_of(client, "rotate-status").await?;
    seen.cameras = attrs(client, "rotation-camera", "data-camera").await?;
    seen.results = attrs(client, "rotation-camera", "data-result").await?;
    seen.result_texts = texts(client, &by_test_id("rotation-result")).await?;
    seen.screenshots
        .push(screenshot(client, shots, "03-resumed").await?);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_killed_mid_way_is_finished_after_the_app_starts_again() {
    let Some(prerequisites) = prerequisites() else {
        return;
    };
    let shots = screenshot_dir("journey-rotate-resume");
    let dir =
        std::env::temp_dir().join(format!("camward-e2e-rotate-resume-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a folder for the inventory");
    let db = dir.join("inventory.sqlite3");
    let service = format!("org.camward.e2e.rotate-resume.{}", std::process::id());
    let keychain = camward_vault::Keychain::with_service(&service);
    match camward_vault::SecretStore::get(
        &keychain,
        &camward_vault::CredentialKey::new("probe", "probe"),
    ) {
        Ok(_) => {}
        Err(camward_vault::VaultError::KeychainUnavailable(why))
            if std::env::var_os("CI").is_none() =>
        {
            eprintln!("SKIPPED: no Secret Service keychain on this session bus ({why}); run ./scripts/test.sh");
            return;
        }
        Err(e) => panic!("keychain unusable: {e}"),
    }

    // The site: three factory-fresh ONVIF cameras, each given its first administrator by
    // camward-core into this inventory and keychain, as `camward init-admin` would.
    let fleet = camsim::Fleet::start(camsim::FleetConfig {
        cameras: CAMERAS,
        flavour: camsim::Flavour::Generic,
        state: camsim::InitialState::Factory,
        latency_ms: LATENCY_MS,
        reboot_duration: Duration::from_secs(1),
        ..Default::default()
    })
    .await
    .expect("starting the simulated cameras");
    let inventory = camward_vault::Inventory::open(&db).expect("the inventory");
    let ledger = camward_vault::CredentialLedger::new(Arc::new(keychain), &inventory);
    let vault = Vault { ledger, inventory };
    let urls: Vec<String> = fleet.cameras().iter().map(|c| c.device_url()).collect();
    for url in &urls {
        credentials::init_admin(&vault, url, USER, &NewPassword::Generate)
            .await
            .unwrap_or_else(|e| panic!("first administrator of {url}: {}", e.message));
    }

    let env = [
        ("CAMWARD_DB", db.as_os_str()),
        ("CAMWARD_KEYCHAIN_SERVICE", std::ffi::OsStr::new(&service)),
    ];
    let mut seen = Seen::default();

    // First start: rotate, and kill the app in the middle.
    let driver = TauriDriver::start_with_env(&prerequisites.tauri_driver, &env);
    let client = common::open_app(&driver, &prerequisites.app, &[]).await;
    let killed = rotate_until_killed(&client, &driver, &vault, &fleet, &shots, &mut seen).await;
    if killed.is_err() {
        let _ = screenshot(&client, &shots, "failure-first-start").await;
    }
    // The session's window is gone with the app; closing it may fail, and that is expected.
    let _ = client.close().await;
    drop(driver);
    killed.unwrap_or_else(|why| panic!("{why}; so far {seen:#?}"));
    let back = Instant::now() + Duration::from_secs(10);
    while fleet.cameras().iter().any(camsim::SimCamera::is_rebooting) {
        assert!(
            Instant::now() < back,
            "the power-cycled camera did not come back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    seen.pending_after_kill = credentials::interrupted(&vault)
        .expect("reading the ledger")
        .into_iter()
        .map(|c| c.camera)
        .collect();

    // Second start: the interrupted changes are offered and finished.
    let driver = TauriDriver::start_with_env(&prerequisites.tauri_driver, &env);
    let client = common::open_app(&driver, &prerequisites.app, &[]).await;
    let resumed =
        resume_after_restart(&client, seen.pending_after_kill.len(), &shots, &mut seen).await;
    if resumed.is_err() {
        let _ = screenshot(&client, &shots, "failure").await;
    }
    let closed = client.close().await;
    drop(driver);
    resumed.unwrap_or_else(|why| panic!("{why}; so far the screens showed {seen:#?}"));
    closed.expect("closing the WebDriver session");
    println!("{seen:#?}");

    // The kill landed while changes were unfinished, and the app said which.
    assert_eq!(seen.pickable, CAMERAS);
    assert_eq!(seen.pending_seen, CAMERAS);
    assert!(!seen.pending_after_kill.is_empty(), "{seen:#?}");
    let n = seen.pending_after_kill.len();
    assert!(
        seen.interrupted_text.contains(&format!(
            "{n} {} an earlier run left unfinished",
            if n == 1 {
                "password change"
            } else {
                "password changes"
            }
        )),
        "{}",
        seen.interrupted_text
    );
    assert_eq!(seen.interrupted_items.len(), n, "{seen:#?}");
    for camera in &seen.pending_after_kill {
        assert!(
            seen.interrupted_items
                .iter()
                .any(|item| item.starts_with(camera.as_str())),
            "{camera} listed: {:?}",
            seen.interrupted_items
        );
    }

    // Each change finished one way or the other — never an error, never a lost password: the camera
    // had the new password (completed; retired, when the app had promoted it and only the old
    // one's retirement was left), or it never got it (rolled back; abandoned, when the kill came
    // before the new password was in the keychain).
    let mut shown = seen.cameras.clone();
    shown.sort();
    let mut pending = seen.pending_after_kill.clone();
    pending.sort();
    assert_eq!(shown, pending, "{seen:#?}");
    assert!(
        seen.results
            .iter()
            .all(|r| ["completed", "retired", "rolled_back", "abandoned"].contains(&r.as_str())),
        "{seen:#?}"
    );
    // The camera seen with its new password when the app died keeps it.
    let took_new = seen
        .took_new
        .clone()
        .expect("a camera took its new password");
    let took_new_key = camward_core::camera_key(&took_new);
    if let Some(i) = seen.cameras.iter().position(|c| *c == took_new_key) {
        assert!(
            ["completed", "retired"].contains(&seen.results[i].as_str()),
            "{took_new_key}: {seen:#?}"
        );
    }
    assert_eq!(seen.status, format!("{n} done, 0 failed"), "{seen:#?}");
    assert_eq!(seen.result_texts.len(), n);

    // From outside the app: nothing is left pending, and every camera accepts the password the
    // keychain holds as current for it.
    assert!(
        credentials::interrupted(&vault)
            .expect("reading the ledger")
            .is_empty(),
        "changes left unfinished"
    );
    let mut budget = AttemptBudget::default();
    for url in &urls {
        let key = camward_core::camera_key(url);
        let current = credentials::reveal(&vault, &key, USER)
            .unwrap_or_else(|e| panic!("the current password of {key}: {}", e.message));
        assert_eq!(
            budget
                .login(url, USER, &current, "check the password after the resume")
                .await
                .map_err(|e| e.message),
            Ok(true),
            "{url} accepts the keychain's current password"
        );
    }
    assert_eq!(seen.screenshots.len(), 3);

    fleet.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
