//! The commissioning wizard's helpers that more than one journey uses: the demo site discovered,
//! selected and audited from the keyboard up to the wizard's first step, the certificate results
//! read off the Certificates step, and the certificates the simulated cameras really present.
#![allow(dead_code)]

use fantoccini::key::Key;
use fantoccini::{Client, Locator};

use super::{by_test_id, eval, press, tab_to, wait_until, UI_TIMEOUT};

/// From the app's first screen with `--demo`: the simulated site chosen, discovered (all
/// `cameras`), every camera selected and audited, then "Commission" pressed; returns once the
/// wizard's first step has the focus.
pub async fn audit_demo_site_and_commission(client: &Client, cameras: usize) -> Result<(), String> {
    client
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
    tab_to(client, "start-discovery").await?;
    press(client, char::from(Key::Enter)).await?;
    wait_until(
        client,
        "the discovery to finish",
        &format!("document.querySelectorAll('[data-testid=\"found-camera\"]').length === {cameras} && !document.querySelector('[data-testid=\"stop-discovery\"]')"))
    .await?;
    tab_to(client, "select-all").await?;
    press(client, char::from(Key::Enter)).await?;
    tab_to(client, "start-audit").await?;
    press(client, char::from(Key::Enter)).await?;
    wait_until(
        client,
        "the audit",
        &format!("document.querySelectorAll('[data-testid=\"scorecard\"]').length === {cameras}"),
    )
    .await?;
    tab_to(client, "start-commission").await?;
    press(client, char::from(Key::Enter)).await?;
    wait_until(
        client,
        "the admin account screen",
        "document.activeElement && document.activeElement.id === 'wizard-title'",
    )
    .await
}

/// Every camera row of the Certificates step's results: camera, state (`proven` / `failed`), the
/// SHA-256 and expiry shown, each check's result and the error code.
pub async fn certificate_rows(client: &Client) -> Result<serde_json::Value, String> {
    eval(
        client,
        "return [...document.querySelectorAll('[data-testid=\"cert-camera\"]')].map(e => ({
            camera: e.dataset.camera,
            state: e.dataset.state,
            sha256: (e.querySelector('[data-testid=\"cert-sha256\"]') || {}).textContent || null,
            not_after: (e.querySelector('[data-testid=\"cert-not-after\"]') || {}).textContent || null,
            checks: [...e.querySelectorAll('[data-testid=\"cert-check\"]')].map(c => c.dataset.check + ':' + c.dataset.result),
            error: (e.querySelector('[data-testid=\"cert-error\"]') || { dataset: {} }).dataset.code || null,
        }));",
    )
    .await
}

/// The simulated cameras as the shell reports them (`demo_cameras`: device and HTTPS URLs).
pub async fn simulated_cameras(client: &Client) -> Result<serde_json::Value, String> {
    client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             window.__TAURI_INTERNALS__.invoke('demo_cameras', {}).then(done, (e) => done({ error: String(e) }));",
            Vec::new(),
        )
        .await
        .map_err(|error| format!("listing the simulated cameras: {error}"))
}

/// The SHA-256 (hex) of the certificate that the simulated camera `device_url` presents to a TLS
/// handshake from this process, at the HTTPS URL `simulated` reports for it.
pub async fn presented_sha256(
    device_url: &str,
    simulated: &serde_json::Value,
) -> Result<String, String> {
    let https = simulated
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["device_url"] == device_url)
        .and_then(|c| c["https_url"].as_str())
        .ok_or_else(|| format!("{device_url}: camsim reports no HTTPS URL in {simulated}"))?;
    let authority = https
        .strip_prefix("https://")
        .and_then(|rest| rest.split('/').next())
        .ok_or_else(|| format!("not an https URL: {https}"))?;
    let (host, port) = authority
        .rsplit_once(':')
        .and_then(|(h, p)| Some((h.to_owned(), p.parse::<u16>().ok()?)))
        .ok_or_else(|| format!("no port in {https}"))?;
    let chain = camward_core::certificates::presented_chain(&host, port)
        .await
        .map_err(|e| format!("TLS handshake with {https}: {e}"))?;
    let leaf = chain
        .first()
        .ok_or_else(|| format!("{https} presented no certificate"))?;
    Ok(camward_certs::hex(&camward_certs::sha256(leaf)))
}

/// For each row of [`certificate_rows`] that is proven: its camera and the SHA-256 of the
/// certificate the camera presents ([`presented_sha256`]).
pub async fn presented_fingerprints(
    shown: &serde_json::Value,
    simulated: &serde_json::Value,
) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for camera in shown.as_array().into_iter().flatten() {
        if camera["state"] != "proven" {
            continue;
        }
        let url = camera["camera"].as_str().unwrap_or_default();
        out.push((url.to_owned(), presented_sha256(url, simulated).await?));
    }
    Ok(out)
}
