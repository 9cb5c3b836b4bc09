//! The keyboard and screen helpers of the rotate and decommission journeys' WebDriver tests
//! (`journey_rotate.rs`, `journey_decommission.rs`): keys as a person presses them, waiting for
//! the page, reading it, and the camera's own state read over loopback with camward-core.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::{Client, Locator};

use crate::common::{by_test_id, UI_TIMEOUT};

/// Tabs tried before giving up on reaching an element from the keyboard.
pub const MAX_TABS: usize = 30;

/// Presses and releases `key` on whatever has the focus.
pub async fn press(client: &Client, key: char) -> Result<(), String> {
    let actions = KeyActions::new("keyboard".into())
        .then(KeyAction::Down { value: key })
        .then(KeyAction::Up { value: key });
    client
        .perform_actions(actions)
        .await
        .map_err(|error| format!("pressing {key:?}: {error}"))
}

/// Shift+Tab: the focus moves back one element.
pub async fn shift_tab(client: &Client) -> Result<(), String> {
    let shift = char::from(Key::Shift);
    let tab = char::from(Key::Tab);
    let actions = KeyActions::new("keyboard".into())
        .then(KeyAction::Down { value: shift })
        .then(KeyAction::Down { value: tab })
        .then(KeyAction::Up { value: tab })
        .then(KeyAction::Up { value: shift });
    client
        .perform_actions(actions)
        .await
        .map_err(|error| format!("pressing Shift+Tab: {error}"))
}

/// Types `text` key by key into whatever has the focus.
pub async fn type_text(client: &Client, text: &str) -> Result<(), String> {
    let mut actions = KeyActions::new("keyboard".into());
    for key in text.chars() {
        actions = actions
            .then(KeyAction::Down { value: key })
            .then(KeyAction::Up { value: key });
    }
    client
        .perform_actions(actions)
        .await
        .map_err(|error| format!("typing {text:?}: {error}"))
}

/// The `data-testid` of the focused element (empty when it has none).
pub async fn focused(client: &Client) -> Result<String, String> {
    let element = client
        .active_element()
        .await
        .map_err(|error| format!("reading the focused element: {error}"))?;
    Ok(element
        .attr("data-testid")
        .await
        .map_err(|error| format!("reading the focused element's test id: {error}"))?
        .unwrap_or_default())
}

/// Presses Tab (or Shift+Tab with `back`) until the element with `data-testid` has the focus.
pub async fn tab_to(client: &Client, test_id: &str, back: bool) -> Result<usize, String> {
    let mut path = Vec::new();
    for tabs in 1..=MAX_TABS {
        if back {
            shift_tab(client).await?;
        } else {
            press(client, char::from(Key::Tab)).await?;
        }
        let now = focused(client).await?;
        if now == test_id {
            return Ok(tabs);
        }
        path.push(now);
    }
    Err(format!(
        "{test_id} never got the focus in {MAX_TABS} Tabs; the focus went through {path:?}"
    ))
}

/// Waits until `condition` (a JavaScript expression) holds, or says what it waited for.
pub async fn wait_until(client: &Client, what: &str, condition: &str) -> Result<(), String> {
    let deadline = Instant::now() + UI_TIMEOUT;
    let script = format!("return Boolean({condition});");
    loop {
        let holds = client
            .execute(&script, Vec::new())
            .await
            .map_err(|error| format!("checking {what}: {error}"))?;
        if holds.as_bool() == Some(true) {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("timed out waiting for {what}"));
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

/// The texts of every element matching `selector`.
pub async fn texts(client: &Client, selector: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for element in client
        .find_all(Locator::Css(selector))
        .await
        .map_err(|error| format!("finding {selector}: {error}"))?
    {
        out.push(
            element
                .text()
                .await
                .map_err(|error| format!("reading {selector}: {error}"))?,
        );
    }
    Ok(out)
}

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
    tab_to(client, nav, true).await?;
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
    tab_to(client, "give-demo-admins", false).await?;
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
