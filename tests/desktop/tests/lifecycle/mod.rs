//! The helpers of the rotate and decommission journeys' WebDriver tests (`journey_rotate.rs`,
//! `journey_decommission.rs`): reaching a journey and the demo's administrators from the
//! keyboard, and reading the page; the keyboard itself is `common::keyboard`.
#![allow(dead_code)]

use fantoccini::key::Key;
use fantoccini::{Client, Locator};

use crate::common::{by_test_id, press, shift_tab_to, tab_to, wait_until, UI_TIMEOUT};

/// The value of attribute `name` of every element with `data-testid`.
pub async fn attrs(client: &Client, test_id: &str, name: &str) -> Result<Vec<String>, String> {
    let selector = by_test_id(test_id);
    let mut out = Vec::new();
    for element in client
        .find_all(Locator::Css(&selector))
        .await
        .map_err(|error| format!("finding {selector}: {error}"))?
    {
        out.push(
            element
                .attr(name)
                .await
                .map_err(|error| format!("reading {name} of {selector}: {error}"))?
                .unwrap_or_default(),
        );
    }
    Ok(out)
}

/// From the app's first screen (the focus on its heading), goes to the journey `nav` with
/// Shift+Tab and Enter, as a keyboard user reaches the navigation above the page.
pub async fn open_journey(client: &Client, nav: &str, heading: &str) -> Result<(), String> {
    client
        .wait()
        .at_most(UI_TIMEOUT)
        .for_element(Locator::Css("#journey-title"))
        .await
        .map_err(|error| format!("the app's first screen did not appear: {error}"))?;
    // The first screen focuses its heading once it has mounted.
    wait_until(
        client,
        "the first heading to have the focus",
        "document.activeElement && document.activeElement.id === 'journey-title'",
    )
    .await?;
    shift_tab_to(client, nav).await?;
    press(client, char::from(Key::Enter)).await?;
    wait_until(
        client,
        &format!("the {heading} heading to have the focus"),
        &format!("document.activeElement && document.activeElement.id === '{heading}'"),
    )
    .await
}

/// From the journey's heading: Tab to "Give the simulated cameras an administrator", Enter, and
/// wait until `expected` cameras can be picked.
pub async fn give_demo_admins(client: &Client, expected: usize) -> Result<(), String> {
    tab_to(client, "give-demo-admins").await?;
    press(client, char::from(Key::Enter)).await?;
    wait_until(
        client,
        "the simulated cameras to join the inventory",
        &format!(
            "document.querySelectorAll('[data-testid=\"pick-inventory-camera\"]').length === {expected}"
        ),
    )
    .await
}

/// Picks the inventory's first `cameras` cameras from the keyboard: Tab to the first checkbox,
/// Space; each next Tab reaches the next one. Returns once that many are checked.
pub async fn pick_cameras(client: &Client, cameras: usize) -> Result<(), String> {
    tab_to(client, "pick-inventory-camera").await?;
    press(client, ' ').await?;
    for _ in 1..cameras {
        press(client, char::from(Key::Tab)).await?;
        press(client, ' ').await?;
    }
    wait_until(
        client,
        "every camera to be picked",
        &format!(
            "[...document.querySelectorAll('[data-testid=\"pick-inventory-camera\"]')].filter(b => b.checked).length === {cameras}"
        ),
    )
    .await
}

/// `host:127.0.0.1:1234` → `http://127.0.0.1:1234/onvif/device_service`.
pub fn device_url_of(key: &str) -> String {
    format!(
        "http://{}/onvif/device_service",
        key.strip_prefix("host:").unwrap_or(key)
    )
}

/// The visible text of the first element matching the CSS `selector`, waiting for it.
pub async fn text_at(client: &Client, selector: &str) -> Result<String, String> {
    client
        .wait()
        .at_most(UI_TIMEOUT)
        .for_element(Locator::Css(selector))
        .await
        .map_err(|error| format!("no element {selector} on screen: {error}"))?
        .text()
        .await
        .map_err(|error| format!("reading {selector}: {error}"))
}
