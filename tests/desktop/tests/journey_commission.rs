//! End to end, journey 1 up to the audit: the real debug binary started with `--demo` (an
//! in-process camsim site of mixed vendors, all factory-fresh), driven over WebDriver with the
//! keyboard only — Tab, Space and Enter through "where to look" → discovery → selection → audit —
//! and the audit filter. A screenshot of each step goes to `artifacts/screenshots/journey-commission/`
//! (the paths are printed); the window is the app's own 1280×720.
//!
//! The demo cameras listen on 127.0.0.1 ports, so nothing here multicasts or scans a real
//! interface: the app identifies each simulated camera over ONVIF and the vendor APIs at its
//! address. Prerequisites and skipping rules are those of `probe.rs` (see `common`).

mod common;

use std::path::Path;

use common::{
    by_test_id, focused, prerequisites, press, screenshot, screenshot_dir, tab_to, texts,
    wait_until, TauriDriver, UI_TIMEOUT,
};
use fantoccini::key::Key;
use fantoccini::{Client, Locator};

/// The demo site: one camera of each camsim flavour (`src-tauri/src/site.rs`).
const DEMO_CAMERAS: usize = 5;

/// What the screens showed along the way.
#[derive(Debug, Default)]
struct Journey {
    first_heading: String,
    demo_chosen: bool,
    tabs_to_discover: usize,
    discovery_status: String,
    titles: Vec<String>,
    addresses: Vec<String>,
    badges: usize,
    methods: Vec<String>,
    focus_on_checkboxes: Vec<String>,
    audit_button: String,
    audit_heading: String,
    scorecard_titles: Vec<String>,
    scorecard_depths: Vec<String>,
    scorecard_scores: Vec<String>,
    admin_rows: Vec<String>,
    filter_options: Vec<String>,
    filtered_summary: String,
    filtered_titles: Vec<String>,
    filtered_rows: Vec<String>,
    screenshots: Vec<std::path::PathBuf>,
}

/// Walks the journey with the keyboard, reading each screen. Errors are returned, not panicked,
/// so the caller can always end the session.
async fn walk(client: &Client, shots: &Path, seen: &mut Journey) -> Result<(), String> {
    // 1. Where to look: the simulated site is offered and chosen.
    seen.first_heading = client
        .wait()
        .at_most(UI_TIMEOUT)
        .for_element(Locator::Css("#journey-title"))
        .await
        .map_err(|error| format!("no journey heading: {error}"))?
        .text()
        .await
        .map_err(|error| format!("reading the journey heading: {error}"))?;
    let demo = client
        .wait()
        .at_most(UI_TIMEOUT)
        .for_element(Locator::Css(&by_test_id("source-demo")))
        .await
        .map_err(|error| format!("the simulated site is not offered: {error}"))?;
    wait_until(
        client,
        "the simulated site to be chosen",
        "document.querySelector('[data-testid=\"source-demo\"]').checked",
    )
    .await?;
    seen.demo_chosen = demo.is_selected().await.unwrap_or(false);
    seen.screenshots
        .push(screenshot(client, shots, "01-where-to-look").await?);

    // Keyboard only from here: Tab to "Discover cameras", Enter.
    seen.tabs_to_discover = tab_to(client, "start-discovery").await?;
    press(client, char::from(Key::Enter)).await?;

    // 2. Discovery: the live list fills and the scan ends.
    wait_until(
        client,
        "the discovery of the simulated site to finish",
        &format!(
            "document.querySelectorAll('[data-testid=\"found-camera\"]').length === {DEMO_CAMERAS} && !document.querySelector('[data-testid=\"stop-discovery\"]')"
        ),
    )
    .await?;
    seen.discovery_status = common::text_of(client, "discovery-status").await?;
    seen.titles = texts(client, &by_test_id("camera-title")).await?;
    seen.addresses = texts(client, &by_test_id("found-address")).await?;
    seen.methods = texts(client, &by_test_id("camera-methods")).await?;
    seen.badges = texts(client, &by_test_id("factory-fresh"))
        .await?
        .iter()
        .filter(|badge| *badge == "Factory-fresh")
        .count();
    seen.screenshots
        .push(screenshot(client, shots, "02-discovery").await?);

    // 3. Select: focus is on the screen's heading; each Tab reaches the next camera's checkbox,
    // Space ticks it.
    for _ in 0..DEMO_CAMERAS {
        press(client, char::from(Key::Tab)).await?;
        seen.focus_on_checkboxes.push(focused(client).await?);
        press(client, ' ').await?;
    }
    wait_until(
        client,
        "every camera to be selected",
        &format!(
            "[...document.querySelectorAll('[data-testid=\"pick-camera\"]')].filter(b => b.checked).length === {DEMO_CAMERAS}"
        ),
    )
    .await?;
    seen.audit_button = common::text_of(client, "start-audit").await?;
    seen.screenshots
        .push(screenshot(client, shots, "03-selected").await?);
    tab_to(client, "start-audit").await?;
    press(client, char::from(Key::Enter)).await?;

    // 4. Audit: one scorecard per camera.
    wait_until(
        client,
        "a scorecard for every selected camera",
        &format!(
            "document.querySelectorAll('[data-testid=\"scorecard\"]').length === {DEMO_CAMERAS}"
        ),
    )
    .await?;
    seen.audit_heading = client
        .find(Locator::Css("#audit-title"))
        .await
        .map_err(|error| format!("no audit heading: {error}"))?
        .text()
        .await
        .map_err(|error| format!("reading the audit heading: {error}"))?;
    seen.scorecard_titles = texts(client, &by_test_id("scorecard-title")).await?;
    seen.scorecard_depths = texts(client, &by_test_id("scorecard-depth")).await?;
    seen.scorecard_scores = texts(client, &by_test_id("scorecard-score")).await?;
    seen.admin_rows = texts(
        client,
        "[data-testid=\"finding\"][data-control=\"admin-password\"]",
    )
    .await?;
    seen.screenshots
        .push(screenshot(client, shots, "04-audit").await?);

    // The filter by failing control, also from the keyboard: Tab to it, then arrow down to the
    // option of the control only the anonymous ONVIF camera fails (a closed select changes its
    // value with the arrow keys on WebKitGTK).
    tab_to(client, "failing-filter").await?;
    seen.filter_options = texts(client, "#failing-filter option").await?;
    let mut value = String::new();
    for _ in 0..seen.filter_options.len() {
        press(client, char::from(Key::Down)).await?;
        value = client
            .execute(
                "return document.getElementById('failing-filter').value;",
                Vec::new(),
            )
            .await
            .map_err(|error| format!("reading the filter: {error}"))?
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if value == "control:guest-off" {
            break;
        }
    }
    if value != "control:guest-off" {
        return Err(format!(
            "the arrow keys did not reach the guest-off filter (last value {value:?})"
        ));
    }
    wait_until(
        client,
        "the filter to apply",
        "document.querySelectorAll('[data-testid=\"scorecard\"]').length === 1",
    )
    .await?;
    seen.filtered_summary = common::text_of(client, "filter-summary").await?;
    seen.filtered_titles = texts(client, &by_test_id("scorecard-title")).await?;
    seen.filtered_rows = texts(client, &by_test_id("finding")).await?;
    seen.screenshots
        .push(screenshot(client, shots, "05-audit-filtered").await?);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_simulated_site_is_discovered_selected_and_audited_from_the_keyboard() {
    let Some(prerequisites) = prerequisites() else {
        return;
    };
    let shots = screenshot_dir("journey-commission");
    let driver = TauriDriver::start(&prerequisites.tauri_driver);
    let client = common::open_app(&driver, &prerequisites.app, &["--demo"]).await;

    let mut seen = Journey::default();
    let walked = walk(&client, &shots, &mut seen).await;
    if walked.is_err() {
        // A picture of where it stopped.
        let _ = screenshot(&client, &shots, "failure").await;
    }

    // Ending the session closes the app (and its simulated site); then tauri-driver goes.
    let closed = client.close().await;
    drop(driver);
    println!(
        "screenshots in {}",
        shots
            .canonicalize()
            .unwrap_or_else(|_| shots.clone())
            .display()
    );

    walked.unwrap_or_else(|why| panic!("{why}; so far the screens showed {seen:#?}"));
    closed.expect("closing the WebDriver session");

    assert_eq!(seen.first_heading, "Commission a site", "first screen");
    assert!(seen.demo_chosen, "with --demo the simulated site is chosen");
    assert!(
        seen.tabs_to_discover <= 4,
        "Discover cameras is a few Tabs from the top, not {}",
        seen.tabs_to_discover
    );

    // The mixed fleet, every camera factory-fresh, each identified at its own address.
    assert_eq!(
        seen.discovery_status,
        format!("{DEMO_CAMERAS} cameras found, {DEMO_CAMERAS} factory-fresh · 0 selected"),
        "discovery summary"
    );
    assert_eq!(
        seen.badges, DEMO_CAMERAS,
        "a factory-fresh badge per camera"
    );
    for make in ["Camsim CS-2000", "AXIS", "HIKVISION"] {
        assert!(
            seen.titles.iter().any(|title| title == make),
            "{make} listed: {:?}",
            seen.titles
        );
    }
    assert_eq!(
        seen.titles
            .iter()
            .filter(|title| *title == "Camera of unknown make")
            .count(),
        2,
        "Canon and i-PRO tell nothing before their guided first access: {:?}",
        seen.titles
    );
    assert!(
        seen.addresses
            .iter()
            .all(|address| address.starts_with("http://127.0.0.1:")
                && address.ends_with("/onvif/device_service")),
        "device service addresses: {:?}",
        seen.addresses
    );
    assert!(
        seen.methods.iter().all(|m| m.contains("simulated site")),
        "how each camera was found: {:?}",
        seen.methods
    );

    // Keyboard selection.
    assert_eq!(
        seen.focus_on_checkboxes,
        vec!["pick-camera"; DEMO_CAMERAS],
        "each Tab reaches the next camera's checkbox"
    );
    assert_eq!(
        seen.audit_button,
        format!("Audit {DEMO_CAMERAS} selected cameras")
    );

    // The audit: a scorecard per camera; none could log in (no administrator yet), so each says
    // so, and each fails the administrator control.
    assert_eq!(seen.audit_heading, format!("Audit: {DEMO_CAMERAS} cameras"));
    assert_eq!(seen.scorecard_titles.len(), DEMO_CAMERAS);
    assert!(
        seen.scorecard_titles
            .iter()
            .any(|title| title == "Camsim CS-2000"),
        "the generic camera's scorecard is named by its model: {:?}",
        seen.scorecard_titles
    );
    assert_eq!(
        seen.scorecard_scores.len(),
        DEMO_CAMERAS,
        "a score per camera"
    );
    assert_eq!(seen.scorecard_depths.len(), DEMO_CAMERAS);
    assert!(
        seen.scorecard_depths
            .iter()
            .all(|depth| depth.starts_with("Factory state: no administrator yet.")),
        "each scorecard says why it is partial: {:?}",
        seen.scorecard_depths
    );
    assert_eq!(seen.admin_rows.len(), DEMO_CAMERAS, "{:?}", seen.admin_rows);
    for row in &seen.admin_rows {
        assert!(
            row.starts_with("Administrator account set, strong, unique")
                && row.contains("Fail")
                && row.contains("factory state: no administrator yet"),
            "admin-password row: {row:?}"
        );
    }

    // The filter.
    assert!(
        seen.filter_options
            .iter()
            .any(|option| option == "Fails: No anonymous (guest) access (1 camera)"),
        "filter options: {:?}",
        seen.filter_options
    );
    assert_eq!(
        seen.filtered_summary,
        format!("1 of {DEMO_CAMERAS} cameras shown")
    );
    assert_eq!(seen.filtered_titles, ["Camsim CS-2000"]);
    assert_eq!(seen.filtered_rows.len(), 1, "{:?}", seen.filtered_rows);
    assert!(
        seen.filtered_rows[0].contains("answered GetDeviceInformation without credentials"),
        "guest-off row: {:?}",
        seen.filtered_rows
    );
    assert_eq!(seen.screenshots.len(), 5);
}
