//! End to end, journey 2 — rotate passwords: the real debug binary started with `--demo`, driven
//! with the keyboard only (Shift+Tab to the journey navigation, Tab, Space, Enter): the simulated
//! cameras get their first administrator through camward-core, three are picked from the
//! inventory, new passwords are generated and applied with live progress per camera, and the
//! result is read per camera. One password is then shown on purpose, and the test logs in to that
//! simulated camera itself over loopback with it: the camera must accept it. A screenshot of each
//! step goes to `artifacts/screenshots/journey-rotate/`.
//!
//! The demo cameras listen on 127.0.0.1 ports; nothing here multicasts. Prerequisites and skipping
//! rules are those of `probe.rs` (see `common`).

mod common;
mod lifecycle;

use std::path::Path;

use common::{
    by_test_id, focused, prerequisites, press, screenshot, screenshot_dir, shift_tab_to, tab_to,
    text_of, texts, wait_until, TauriDriver,
};
use fantoccini::key::Key;
use fantoccini::Client;
use lifecycle::{attrs, device_url_of, give_demo_admins, open_journey, pick_cameras};

/// Cameras of the demo that take their first administrator over an API (ONVIF, Axis, Hikvision);
/// Canon and i-PRO wait for a person on their own page.
const WITH_ADMIN: usize = 3;

#[derive(Debug, Default)]
struct Journey {
    heading: String,
    demo_admins: Vec<String>,
    inventory_titles: Vec<String>,
    inventory_credentials: Vec<String>,
    next_button: String,
    review: Vec<String>,
    status: String,
    cameras: Vec<String>,
    results: Vec<String>,
    result_texts: Vec<String>,
    steps_done: Vec<String>,
    shown_for: String,
    password: String,
    hidden_after: bool,
    inventory_rows: usize,
    inventory_credentials_after: Vec<String>,
    sorted_by_camera_desc: String,
    screenshots: Vec<std::path::PathBuf>,
}

async fn walk(client: &Client, shots: &Path, seen: &mut Journey) -> Result<(), String> {
    open_journey(client, "nav-rotate", "rotate-title").await?;
    seen.heading = lifecycle::text_at(client, "#rotate-title").await?;
    seen.screenshots
        .push(screenshot(client, shots, "01-rotate-empty").await?);

    // Demo mode: the simulated cameras get their first administrator (core init_admin).
    give_demo_admins(client, WITH_ADMIN).await?;
    seen.demo_admins = texts(client, &by_test_id("demo-admin")).await?;
    seen.inventory_titles = texts(client, &by_test_id("inventory-title")).await?;
    seen.inventory_credentials = texts(client, &by_test_id("inventory-credential")).await?;

    // Pick every camera.
    pick_cameras(client, WITH_ADMIN).await?;
    seen.next_button = text_of(client, "rotate-next").await?;
    seen.screenshots
        .push(screenshot(client, shots, "02-picked").await?);
    tab_to(client, "rotate-next").await?;
    press(client, char::from(Key::Enter)).await?;

    // Generate: what will happen, then apply.
    wait_until(
        client,
        "the review of the rotation",
        "!!document.querySelector('[data-testid=\"rotate-apply\"]')",
    )
    .await?;
    seen.review = texts(client, ".plan-steps li").await?;
    seen.screenshots
        .push(screenshot(client, shots, "03-generate").await?);
    tab_to(client, "rotate-apply").await?;
    press(client, char::from(Key::Enter)).await?;

    // Apply, then the result per camera.
    wait_until(
        client,
        "every camera's result",
        &format!(
            "!!document.querySelector('[data-testid=\"rotate-again\"]') && [...document.querySelectorAll('[data-testid=\"rotation-camera\"]')].filter(c => c.dataset.result || c.dataset.code).length === {WITH_ADMIN}"
        ),
    )
    .await?;
    seen.status = text_of(client, "rotate-status").await?;
    seen.cameras = attrs(client, "rotation-camera", "data-camera").await?;
    seen.results = attrs(client, "rotation-camera", "data-result").await?;
    seen.result_texts = texts(client, &by_test_id("rotation-result")).await?;
    seen.steps_done = texts(client, ".checks li.done").await?;
    seen.screenshots
        .push(screenshot(client, shots, "04-result").await?);

    // Show one password, on purpose: the first camera's.
    tab_to(client, "reveal-password").await?;
    press(client, char::from(Key::Enter)).await?;
    seen.password = text_of(client, "revealed-password").await?;
    seen.shown_for = client
        .execute(
            "return document.querySelector('[data-testid=\"revealed-password\"]').closest('[data-testid=\"rotation-camera\"]').dataset.camera;",
            Vec::new(),
        )
        .await
        .map_err(|error| format!("reading which camera's password is shown: {error}"))?
        .as_str()
        .unwrap_or_default()
        .to_owned();
    seen.screenshots
        .push(screenshot(client, shots, "05-password-shown").await?);
    // Hide it again: the focus is on "Hide" now or one Tab away.
    if focused(client).await? != "hide-password" {
        tab_to(client, "hide-password").await?;
    }
    press(client, char::from(Key::Enter)).await?;
    wait_until(
        client,
        "the password to be hidden",
        "!document.querySelector('[data-testid=\"revealed-password\"]')",
    )
    .await?;
    seen.hidden_after = !client
        .source()
        .await
        .map_err(|error| format!("reading the page: {error}"))?
        .contains(&seen.password);

    // The inventory view: back up to the navigation, Enter; sort by camera, descending, from the
    // keyboard (Enter on the column's header button, twice).
    shift_tab_to(client, "nav-inventory").await?;
    press(client, char::from(Key::Enter)).await?;
    wait_until(
        client,
        "the inventory view",
        &format!(
            "document.activeElement && document.activeElement.id === 'inventory-title' && document.querySelectorAll('[data-testid=\"inventory-row\"]').length === {WITH_ADMIN}"
        ),
    )
    .await?;
    seen.inventory_rows = texts(client, &by_test_id("inventory-row")).await?.len();
    seen.inventory_credentials_after = texts(client, &by_test_id("inventory-credential")).await?;
    tab_to(client, "sort-camera").await?;
    press(client, char::from(Key::Enter)).await?;
    wait_until(
        client,
        "the inventory sorted by camera, descending",
        "document.querySelector('[data-testid=\"sort-camera\"]').closest('th').getAttribute('aria-sort') === 'descending'",
    )
    .await?;
    seen.sorted_by_camera_desc = texts(client, &by_test_id("inventory-title"))
        .await?
        .join(" | ");
    seen.screenshots
        .push(screenshot(client, shots, "06-inventory").await?);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_cameras_passwords_are_rotated_from_the_keyboard_and_the_camera_takes_the_new_one()
{
    let Some(prerequisites) = prerequisites() else {
        return;
    };
    let shots = screenshot_dir("journey-rotate");
    let driver = TauriDriver::start(&prerequisites.tauri_driver);
    let client = common::open_app(&driver, &prerequisites.app, &["--demo"]).await;

    let mut seen = Journey::default();
    let walked = walk(&client, &shots, &mut seen).await;
    if walked.is_err() {
        let _ = screenshot(&client, &shots, "failure").await;
    }
    // The camera's own verdict, while the app (and its simulated site) still runs: a fresh ONVIF
    // session logs in with the password the screen showed.
    let accepted = if walked.is_ok() {
        let password = camward_vault::Sensitive::new(seen.password.clone());
        let mut budget = camward_core::credentials::AttemptBudget::default();
        Some(
            budget
                .login(
                    &device_url_of(&seen.shown_for),
                    "admin",
                    &password,
                    "check the rotated password",
                )
                .await,
        )
    } else {
        None
    };

    let closed = client.close().await;
    drop(driver);
    walked.unwrap_or_else(|why| panic!("{why}; so far the screens showed {seen:#?}"));
    closed.expect("closing the WebDriver session");

    assert_eq!(seen.heading, "Rotate passwords");
    assert_eq!(
        seen.demo_admins
            .iter()
            .filter(|line| line.contains("administrator admin created"))
            .count(),
        WITH_ADMIN,
        "{:?}",
        seen.demo_admins
    );
    assert_eq!(
        seen.demo_admins
            .iter()
            .filter(|line| line.contains("needs a person on its own page"))
            .count(),
        2,
        "Canon and i-PRO: {:?}",
        seen.demo_admins
    );
    assert_eq!(seen.inventory_titles.len(), WITH_ADMIN);
    assert!(
        seen.inventory_credentials
            .iter()
            .all(|c| c.starts_with("Set today")),
        "{:?}",
        seen.inventory_credentials
    );
    assert_eq!(seen.next_button, "Next: generate passwords for 3 cameras");
    assert!(
        seen.review.iter().any(|step| step.contains("pending")),
        "{:?}",
        seen.review
    );

    assert_eq!(seen.status, "3 done, 0 failed");
    assert_eq!(seen.results, vec!["rotated"; WITH_ADMIN], "{seen:#?}");
    assert!(seen
        .cameras
        .iter()
        .all(|camera| camera.starts_with("host:127.0.0.1:")));
    assert!(seen
        .result_texts
        .iter()
        .all(|text| text == "New password set and verified; the old one is refused and retired"));
    assert_eq!(
        seen.steps_done
            .iter()
            .filter(|step| step.contains("Old password refused by the camera"))
            .count(),
        WITH_ADMIN,
        "every camera was shown refusing the old password: {:?}",
        seen.steps_done
    );

    assert_eq!(seen.shown_for, seen.cameras[0]);
    assert!(
        seen.password.len() >= 12,
        "a generated password: {} characters",
        seen.password.len()
    );
    assert!(
        seen.hidden_after,
        "the password is gone from the page once hidden"
    );
    assert_eq!(
        accepted,
        Some(Ok(true)),
        "the simulated camera accepts the password shown"
    );
    assert_eq!(seen.inventory_rows, WITH_ADMIN);
    assert!(
        seen.inventory_credentials_after
            .iter()
            .all(|c| c.starts_with("Set today")),
        "{:?}",
        seen.inventory_credentials_after
    );
    assert_eq!(
        seen.sorted_by_camera_desc,
        "HIKVISION CS-2000 | Camsim CS-2000 | AXIS CS-2000"
    );
    assert_eq!(seen.screenshots.len(), 6);
}
