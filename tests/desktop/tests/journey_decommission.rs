//! End to end, journey 3 — decommission: the real debug binary started with `--demo`, driven with
//! the keyboard only: the simulated cameras get their first administrator through camward-core,
//! the generic ONVIF camera is picked from the inventory, the confirmation shows the serial and
//! model the camera reports and refuses a wrong serial (the camera is checked to be untouched),
//! the right serial starts the hard factory reset, the core's proof (the camera seen again in its
//! factory state) and the disposal record are read from the screen, and the record is saved as
//! HTML. The test then asks the simulated camera itself, over loopback and without credentials,
//! whether it is factory-fresh again. Screenshots go to `artifacts/screenshots/journey-decommission/`.
//!
//! The demo cameras listen on 127.0.0.1, where no discovery method may run, so the proof is the
//! camera answering in its factory state at its old address (`same-address`), as the record says.

mod common;
mod lifecycle;

use std::path::Path;

use common::{
    by_test_id, prerequisites, press, screenshot, screenshot_dir, tab_to, text_of, texts,
    type_text, wait_until, TauriDriver,
};
use fantoccini::key::Key;
use fantoccini::Client;
use lifecycle::{attrs, device_url_of, give_demo_admins, open_journey};

/// Cameras of the demo that take their first administrator over an API.
const WITH_ADMIN: usize = 3;

#[derive(Debug, Default)]
struct Journey {
    heading: String,
    camera: String,
    factory_fresh_before: Option<bool>,
    plan_model: String,
    plan_serial: String,
    plan_credentials: String,
    refused_help: String,
    fresh_after_refusal: Option<bool>,
    log: Vec<String>,
    verdict: String,
    reset: String,
    proof: String,
    retired: String,
    record_serial: String,
    saved: String,
    inventory_after: Vec<String>,
    screenshots: Vec<std::path::PathBuf>,
}

async fn factory_fresh(camera: &str) -> Option<bool> {
    camward_core::first_boot::detect(&device_url_of(camera))
        .await
        .ok()
        .map(|state| state.factory_fresh)
}

async fn walk(client: &Client, shots: &Path, seen: &mut Journey) -> Result<(), String> {
    open_journey(client, "nav-decommission", "decommission-title").await?;
    seen.heading = lifecycle::text_at(client, "#decommission-title").await?;
    give_demo_admins(client, WITH_ADMIN).await?;

    // Pick the generic ONVIF camera: Tab into the radio group, then the arrow keys move the choice.
    let cameras = attrs(client, "inventory-row", "data-camera").await?;
    let titles = texts(client, &by_test_id("inventory-title")).await?;
    let wanted = titles
        .iter()
        .position(|title| title.starts_with("Camsim"))
        .ok_or_else(|| format!("no generic camera in the inventory: {titles:?}"))?;
    seen.camera = cameras[wanted].clone();
    seen.factory_fresh_before = factory_fresh(&seen.camera).await;
    tab_to(client, "pick-inventory-camera").await?;
    press(client, ' ').await?;
    for _ in 0..wanted {
        press(client, char::from(Key::Down)).await?;
    }
    wait_until(
        client,
        "the generic camera to be picked",
        &format!(
            "document.querySelector('[data-testid=\"inventory-row\"][data-camera=\"{}\"] input').checked",
            seen.camera
        ),
    )
    .await?;
    seen.screenshots
        .push(screenshot(client, shots, "01-pick").await?);
    tab_to(client, "decommission-next").await?;
    press(client, char::from(Key::Enter)).await?;

    // Confirm: what the camera reports, and the serial to type.
    wait_until(
        client,
        "the decommissioning plan",
        "!!document.querySelector('[data-testid=\"decommission-plan\"]')",
    )
    .await?;
    seen.plan_model = text_of(client, "plan-model").await?;
    seen.plan_serial = text_of(client, "plan-serial").await?;
    seen.plan_credentials = text_of(client, "plan-credentials").await?;
    seen.screenshots
        .push(screenshot(client, shots, "02-confirm").await?);

    // A wrong serial first: refused, and the camera is untouched.
    tab_to(client, "confirm-serial").await?;
    type_text(client, "NOT-THIS-ONE").await?;
    press(client, char::from(Key::Enter)).await?;
    wait_until(
        client,
        "the refusal",
        "document.querySelector('[data-testid=\"confirm-serial\"]').getAttribute('aria-invalid') === 'true'",
    )
    .await?;
    seen.refused_help = text_of(client, "confirm-help").await?;
    seen.screenshots
        .push(screenshot(client, shots, "03-wrong-serial-refused").await?);
    seen.fresh_after_refusal = factory_fresh(&seen.camera).await;

    // The right serial (erase what was typed first), Enter.
    let backspace = char::from(Key::Backspace);
    type_text(client, &backspace.to_string().repeat("NOT-THIS-ONE".len())).await?;
    type_text(client, &seen.plan_serial).await?;
    wait_until(
        client,
        "the serial to match",
        "document.querySelector('[data-testid=\"decommission-run\"]').getAttribute('aria-disabled') === 'false'",
    )
    .await?;
    press(client, char::from(Key::Enter)).await?;

    // Reset and proof: the live log, then the record.
    wait_until(
        client,
        "the factory reset to be sent",
        "!!document.querySelector('[data-event=\"reset_sent\"]')",
    )
    .await?;
    seen.log = texts(client, &by_test_id("decommission-event")).await?;
    seen.screenshots
        .push(screenshot(client, shots, "04-reset-and-proof").await?);
    wait_until(
        client,
        "the disposal record",
        "!!document.querySelector('[data-testid=\"disposal-record\"]')",
    )
    .await?;
    seen.verdict = text_of(client, "record-verdict").await?;
    seen.reset = text_of(client, "record-reset").await?;
    seen.proof = text_of(client, "record-proof").await?;
    seen.retired = text_of(client, "record-retired").await?;
    seen.record_serial = text_of(client, "record-serial").await?;
    seen.screenshots
        .push(screenshot(client, shots, "05-disposal-record").await?);

    // Save it as HTML and read where it went.
    tab_to(client, "save-record-html").await?;
    press(client, char::from(Key::Enter)).await?;
    seen.saved = text_of(client, "saved-record").await?;
    seen.screenshots
        .push(screenshot(client, shots, "06-record-saved").await?);

    // Back to the inventory: the camera is marked decommissioned and cannot be picked again.
    tab_to(client, "decommission-again").await?;
    press(client, char::from(Key::Enter)).await?;
    wait_until(
        client,
        "the inventory again",
        "!!document.querySelector('[data-testid=\"inventory-decommissioned\"]')",
    )
    .await?;
    seen.inventory_after = texts(client, &by_test_id("inventory-decommissioned")).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_demo_camera_is_decommissioned_from_the_keyboard_and_is_factory_fresh_again() {
    let Some(prerequisites) = prerequisites() else {
        return;
    };
    let shots = screenshot_dir("journey-decommission");
    let driver = TauriDriver::start(&prerequisites.tauri_driver);
    let client = common::open_app(&driver, &prerequisites.app, &["--demo"]).await;

    let mut seen = Journey::default();
    let walked = walk(&client, &shots, &mut seen).await;
    if walked.is_err() {
        let _ = screenshot(&client, &shots, "failure").await;
    }
    // The camera's own state, asked without credentials while the simulated site still runs.
    let fresh_after = if walked.is_ok() {
        factory_fresh(&seen.camera).await
    } else {
        None
    };

    let closed = client.close().await;
    drop(driver);
    walked.unwrap_or_else(|why| panic!("{why}; so far the screens showed {seen:#?}"));
    closed.expect("closing the WebDriver session");

    assert_eq!(seen.heading, "Decommission a camera");
    assert_eq!(
        seen.factory_fresh_before,
        Some(false),
        "the camera has an administrator before"
    );
    assert_eq!(seen.plan_model, "Camsim CS-2000");
    assert!(!seen.plan_serial.is_empty() && seen.plan_serial != "not reported");
    assert!(
        seen.plan_credentials.contains("admin"),
        "{}",
        seen.plan_credentials
    );
    assert_eq!(
        seen.refused_help,
        "That is not this camera's serial number: nothing will be reset."
    );
    assert_eq!(
        seen.fresh_after_refusal,
        Some(false),
        "a wrong serial sends nothing"
    );

    assert_eq!(
        seen.log.first().map(String::as_str),
        Some("Final state recorded in the audit trail"),
        "{:?}",
        seen.log
    );
    assert!(
        seen.log
            .iter()
            .any(|line| line.starts_with("Factory reset sent (")),
        "{:?}",
        seen.log
    );
    assert!(
        seen.verdict
            .starts_with("Proven: the camera was seen in its factory state"),
        "{}",
        seen.verdict
    );
    assert!(seen.reset.starts_with("hard reset via "), "{}", seen.reset);
    assert!(
        seen.proof.contains("127.0.0.1") && seen.proof.contains("same-address"),
        "{}",
        seen.proof
    );
    assert!(seen.retired.contains("admin"), "{}", seen.retired);
    assert_eq!(seen.record_serial, seen.plan_serial);

    let path = seen
        .saved
        .strip_prefix("Saved HTML: ")
        .unwrap_or_else(|| panic!("saved line: {:?}", seen.saved));
    let html = std::fs::read_to_string(path).expect("the saved disposal record");
    assert!(
        html.contains(&seen.plan_serial),
        "the record names the serial"
    );
    let _ = std::fs::remove_file(path);

    assert_eq!(seen.inventory_after.len(), 1, "{:?}", seen.inventory_after);
    assert_eq!(
        fresh_after,
        Some(true),
        "the simulated camera is factory-fresh again"
    );
    assert_eq!(seen.screenshots.len(), 6);
}
