//! The keyboard and screen helpers every journey's WebDriver test uses: keys as a person presses
//! them, the focus moved with Tab and Shift+Tab, waiting for the page, and reading it.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::{Client, Locator};

use super::UI_TIMEOUT;

/// Tabs tried before giving up on reaching an element from the keyboard (the longest screen,
/// the wizard's services step, needs fewer).
pub const MAX_TABS: usize = 40;

/// Sends `actions` to the window.
pub async fn keys(client: &Client, actions: KeyActions) -> Result<(), String> {
    client
        .perform_actions(actions)
        .await
        .map_err(|error| format!("pressing keys: {error}"))
}

/// Presses and releases `key` on whatever has the focus, as a person's keyboard would.
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

/// Ctrl+A, Backspace: empties the focused field.
pub async fn clear_focused(client: &Client) -> Result<(), String> {
    let control = char::from(Key::Control);
    let backspace = char::from(Key::Backspace);
    keys(
        client,
        KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value: control })
            .then(KeyAction::Down { value: 'a' })
            .then(KeyAction::Up { value: 'a' })
            .then(KeyAction::Up { value: control })
            .then(KeyAction::Down { value: backspace })
            .then(KeyAction::Up { value: backspace }),
    )
    .await
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

/// Presses Tab until the element with `data-testid` has the focus; returns how many Tabs it took.
pub async fn tab_to(client: &Client, test_id: &str) -> Result<usize, String> {
    tab_until(client, test_id, false).await
}

/// Presses Shift+Tab until the element with `data-testid` has the focus.
pub async fn shift_tab_to(client: &Client, test_id: &str) -> Result<usize, String> {
    tab_until(client, test_id, true).await
}

async fn tab_until(client: &Client, test_id: &str, back: bool) -> Result<usize, String> {
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

/// Waits until `condition` (a JavaScript expression) holds, for at most [`UI_TIMEOUT`], or says
/// what it waited for.
pub async fn wait_until(client: &Client, what: &str, condition: &str) -> Result<(), String> {
    wait_until_within(client, what, condition, UI_TIMEOUT).await
}

/// [`wait_until`] for at most `within`.
pub async fn wait_until_within(
    client: &Client,
    what: &str,
    condition: &str,
    within: Duration,
) -> Result<(), String> {
    let deadline = Instant::now() + within;
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

/// The texts of every element matching the CSS `selector`.
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

/// How many elements match the CSS `selector`.
pub async fn count(client: &Client, selector: &str) -> Result<usize, String> {
    Ok(client
        .find_all(Locator::Css(selector))
        .await
        .map_err(|error| format!("finding {selector}: {error}"))?
        .len())
}

/// A JavaScript value of the page: what `script` returns.
pub async fn eval(client: &Client, script: &str) -> Result<serde_json::Value, String> {
    client
        .execute(script, Vec::new())
        .await
        .map_err(|error| format!("running {script:?}: {error}"))
}
