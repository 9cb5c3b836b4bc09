//! End to end: the real debug binary of the desktop app, driven over W3C WebDriver, probes a
//! simulated camera whose clock runs two hours ahead.
//!
//! Chain: this test → `tauri-driver` (WebDriver intermediary) → `WebKitWebDriver` (Debian
//! `webkit2gtk-driver`) → `target/debug/camward-desktop`, which embeds the built `ui/dist` (see
//! `src-tauri/src/main.rs`), so no dev server is involved. The window needs an X display;
//! `scripts/test.sh` starts Xvfb. With `CI` set, a missing prerequisite fails the test instead of
//! skipping it, so CI can never pass by not running it.

mod common;

use std::path::Path;

use common::{prerequisites, text_of, TauriDriver, UI_TIMEOUT};
use fantoccini::key::Key;
use fantoccini::{Client, Locator};

/// The camera clock skew the simulated camera runs with, in seconds (two hours ahead).
const CLOCK_SKEW_S: i64 = 7200;

/// What the screen showed after probing.
#[derive(Debug)]
struct OnScreen {
    model: String,
    firmware: String,
    clock: String,
    access: String,
    services: Vec<String>,
    service_table: String,
    heading: String,
}

/// Types `device_url` into the first screen, presses Enter, saves a screenshot and reads what the
/// screen then shows. Errors are returned, not panicked, so the caller can always end the session.
async fn probe_on_screen(client: &Client, device_url: &str) -> Result<OnScreen, String> {
    let input = client
        .wait()
        .at_most(UI_TIMEOUT)
        .for_element(Locator::Css("#camera-address"))
        .await
        .map_err(|error| format!("the first screen shows no camera address field: {error}"))?;
    let label = client
        .find(Locator::Css("label[for=\"camera-address\"]"))
        .await
        .map_err(|error| format!("the address field has no label: {error}"))?;
    let label = label
        .text()
        .await
        .map_err(|error| format!("reading the label: {error}"))?;
    if label != "Camera address" {
        return Err(format!("the address field is labelled {label:?}"));
    }
    // Enter, not a click: the form must submit from the keyboard.
    input
        .send_keys(&format!("{device_url}{}", char::from(Key::Enter)))
        .await
        .map_err(|error| format!("typing the camera address: {error}"))?;

    let outcome = client
        .wait()
        .at_most(UI_TIMEOUT)
        .for_element(Locator::Css(
            "[data-testid=\"probe-result\"], [data-testid=\"probe-error\"]",
        ))
        .await;

    // The screenshot comes before any check so a failure leaves a picture of why.
    let screenshot = client
        .screenshot()
        .await
        .map_err(|error| format!("taking a screenshot: {error}"))?;
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../artifacts/screenshots");
    std::fs::create_dir_all(&shots).map_err(|error| format!("creating {shots:?}: {error}"))?;
    std::fs::write(shots.join("probe.png"), screenshot)
        .map_err(|error| format!("saving probe.png: {error}"))?;

    let outcome = outcome.map_err(|error| format!("no probe result or error shown: {error}"))?;
    if outcome.attr("data-testid").await.ok().flatten().as_deref() == Some("probe-error") {
        let shown = outcome.text().await.unwrap_or_default();
        return Err(format!("probing {device_url} showed an error: {shown}"));
    }
    Ok(OnScreen {
        model: text_of(client, "field-model").await?,
        firmware: text_of(client, "field-firmware").await?,
        clock: text_of(client, "clock-offset").await?,
        access: text_of(client, "anonymous-access").await?,
        services: {
            let mut names = Vec::new();
            let cells = client
                .find_all(Locator::Css(
                    "[data-testid=\"services\"] tbody tr td:first-child",
                ))
                .await
                .map_err(|error| format!("no services table: {error}"))?;
            for cell in cells {
                names.push(
                    cell.text()
                        .await
                        .map_err(|e| format!("reading a service: {e}"))?,
                );
            }
            names
        },
        service_table: text_of(client, "services").await?,
        heading: client
            .find(Locator::Css("#add-title"))
            .await
            .map_err(|error| format!("no first-screen heading: {error}"))?
            .text()
            .await
            .map_err(|error| format!("reading the heading: {error}"))?,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probing_a_skewed_camera_shows_model_firmware_and_clock_offset() {
    let Some(prerequisites) = prerequisites() else {
        return;
    };

    let fleet = camsim::Fleet::start(camsim::FleetConfig {
        cameras: 1,
        clock_skew_s: CLOCK_SKEW_S,
        ..Default::default()
    })
    .await
    .expect("starting a simulated camera on 127.0.0.1");
    let camera = fleet
        .cameras()
        .first()
        .expect("the fleet has the one camera asked for")
        .info();

    let driver = TauriDriver::start(&prerequisites.tauri_driver);
    let client = common::open_app(&driver, &prerequisites.app, &[]).await;

    let seen = probe_on_screen(&client, &camera.device_url).await;

    // Ending the session closes the app window; then tauri-driver and the camera go.
    let closed = client.close().await;
    drop(driver);
    fleet.shutdown().await;

    let seen = seen.unwrap_or_else(|why| panic!("{why}"));
    closed.expect("closing the WebDriver session");
    assert_eq!(seen.model, camera.model, "model on screen");
    assert_eq!(seen.firmware, camera.firmware, "firmware on screen");
    assert_eq!(
        seen.clock, "Camera clock is 2 h 0 min ahead",
        "clock offset on screen"
    );
    assert_eq!(seen.heading, "Add a camera by address", "first screen");
    for service in ["device", "media2", "advanced security"] {
        assert!(
            seen.services.iter().any(|name| name == service),
            "service {service} listed on screen: {:?}",
            seen.services
        );
    }
    assert!(
        seen.service_table.contains(&camera.device_url),
        "the device service address is shown: {:?}",
        seen.service_table
    );
    assert!(
        seen.access
            .starts_with("Factory state: anyone can configure this camera"),
        "a factory-state camera must be flagged as open, screen says {:?}",
        seen.access
    );
}
