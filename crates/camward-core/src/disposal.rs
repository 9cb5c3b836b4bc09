//! The disposal record of a decommissioned camera: what it was, who retired it and when, how it
//! was reset, the proof that it is factory-fresh, which credentials were retired (names only), the
//! certificate to revoke at the CA, and what a person still has to do by hand.
//!
//! Written as JSON (serde), as one self-contained HTML page (maud, every value escaped) or as PDF
//! (that page printed by [`report::render_pdf`]). **It never holds a secret**: it is built from
//! the inventory, the camera's unauthenticated answers and keychain entry *names*.
use std::path::Path;

use maud::{html, PreEscaped, DOCTYPE};
use serde::{Deserialize, Serialize};

use crate::hardening::report::{self, Format};
use crate::CoreError;

/// One camera's disposal record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisposalRecord {
    /// The camera's inventory key.
    pub camera: String,
    /// The device service URL it was reached at before the reset.
    pub url: String,
    /// Manufacturer, as the camera said before the reset.
    pub manufacturer: Option<String>,
    /// Model.
    pub model: Option<String>,
    /// Serial number.
    pub serial: Option<String>,
    /// Firmware version.
    pub firmware: Option<String>,
    /// MAC address.
    pub mac: Option<String>,
    /// Who decommissioned it (the OS user).
    pub decommissioned_by: String,
    /// When it started (RFC 3339, UTC).
    pub started_at: String,
    /// When it ended (RFC 3339, UTC).
    pub finished_at: String,
    /// What was reset and how.
    pub reset: ResetDone,
    /// Whether the factory state was proven.
    pub result: DisposalResult,
    /// The proof, when the camera was seen factory-fresh.
    pub proof: Option<Proof>,
    /// Keychain entries deleted (user names; every slot: current, pending, previous).
    pub credentials_retired: Vec<String>,
    /// Keychain entries kept because the reset was not proven.
    pub credentials_kept: Vec<String>,
    /// The certificate retired with the camera, to revoke at the CA that issued it.
    pub certificate_to_revoke: Option<CertificateToRevoke>,
    /// What a person still has to do.
    pub checklist: Vec<String>,
}

/// The factory reset sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetDone {
    /// `hard` (network settings wiped too) or `soft` (network settings kept).
    pub kind: String,
    /// The call that asked for it (e.g. `ONVIF SetSystemFactoryDefault Hard`).
    pub via: String,
    /// Whether the network settings were to be kept.
    pub network_kept: bool,
}

/// How a decommissioning ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum DisposalResult {
    /// The camera was seen factory-fresh; its credentials and certificate are retired.
    Proven,
    /// The factory state was not seen: nothing was retired.
    NotProven {
        /// The stable error code.
        code: String,
        /// What went wrong, for a person.
        message: String,
    },
}

/// What showed that the camera is factory-fresh.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proof {
    /// The factory state seen, in words (e.g. "ONVIF answers without credentials: no users").
    pub factory_state: String,
    /// The address it answered at after the reset.
    pub address: String,
    /// How it was found there: `link-local`, `ws-discovery`, `mdns`, … or `same-address`.
    pub found_by: Vec<String>,
    /// True when the address is a link-local one (169.254/16).
    pub link_local: bool,
    /// How the camera was matched to the one reset (`mac`, `serial`, `address`).
    pub matched_by: String,
    /// Users on the camera after the reset.
    pub users: String,
    /// When it was seen (RFC 3339, UTC).
    pub seen_at: String,
}

/// A certificate to revoke.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateToRevoke {
    /// SHA-256 of the DER certificate, lower-case hex.
    pub sha256_fingerprint: String,
    /// Its `notAfter` (RFC 3339), when known.
    pub not_after: Option<String>,
    /// What to do with it.
    pub action: String,
}

/// The manual checklist for a camera leaving service. `reset_proven` false adds the reset switch
/// first: nothing else proves the camera forgot its settings then.
pub fn checklist(reset_proven: bool, network_kept: bool) -> Vec<String> {
    let mut items = Vec::new();
    if !reset_proven {
        items.push("The reset was not proven: hold the camera's reset switch (about 15 s, with power on, see its manual) until it restarts, then run the decommissioning again to record the proof. Its passwords stay in the keychain until then.".to_owned());
    }
    items.extend(
        [
            "Remove the SD card (and any other storage) and wipe or destroy it: a factory reset does not erase recordings on it.",
            "If the camera's page or API was unreachable, reset it with its reset switch instead.",
            "Remove the camera from the recorder / VMS (its channel, its stored password and its recordings policy).",
            "Remove its DHCP reservation, DNS names and the firewall rules or allow-list entries made for it.",
            "Revoke its certificate at the CA that issued it (see below) and remove any pin of it.",
        ]
        .map(str::to_owned),
    );
    if network_kept {
        items.push("Its network settings were kept: change or remove its static address before the camera leaves the site.".to_owned());
    }
    items
}

/// The record as pretty-printed JSON.
pub fn render_json(record: &DisposalRecord) -> String {
    // Serializing plain strings and vectors cannot fail.
    serde_json::to_string_pretty(record).unwrap_or_else(|_| "{}".to_owned())
}

const STYLE: &str = r#"
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 52em; color: #1d1d1f; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 1.6em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: .3em .6em; border-bottom: 1px solid #eee; vertical-align: top; }
th { width: 14em; color: #555; font-weight: 600; }
.proven { color: #0a7d2c; font-weight: 700; } .not-proven { color: #b00020; font-weight: 700; }
.muted { color: #666; } code { font-size: .95em; }
li { margin: .3em 0; }
"#;

fn or_dash(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("–")
}

/// The record as one self-contained HTML page; every value is escaped by maud.
pub fn render_html(record: &DisposalRecord) -> String {
    let name = record
        .serial
        .clone()
        .unwrap_or_else(|| record.camera.clone());
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { "Camward disposal record — " (name) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { "Disposal record: " (or_dash(&record.model)) " " (name) }
                p.muted { "Made by Camward. It lists names and proof only, never a password." }
                @match &record.result {
                    DisposalResult::Proven => p.proven { "Factory state proven; what Camward held for this camera is retired." },
                    DisposalResult::NotProven { code, message } => p."not-proven" { "Factory state NOT proven (" (code) "): " (message) }
                }
                h2 { "Camera" }
                table {
                    tr { th { "Inventory key" } td { code { (record.camera) } } }
                    tr { th { "Address before" } td { code { (record.url) } } }
                    tr { th { "Manufacturer" } td { (or_dash(&record.manufacturer)) } }
                    tr { th { "Model" } td { (or_dash(&record.model)) } }
                    tr { th { "Serial" } td { (or_dash(&record.serial)) } }
                    tr { th { "Firmware" } td { (or_dash(&record.firmware)) } }
                    tr { th { "MAC" } td { (or_dash(&record.mac)) } }
                }
                h2 { "Who and when" }
                table {
                    tr { th { "Decommissioned by" } td { (record.decommissioned_by) } }
                    tr { th { "Started" } td { (record.started_at) } }
                    tr { th { "Finished" } td { (record.finished_at) } }
                }
                h2 { "Reset" }
                table {
                    tr { th { "Kind" } td { (record.reset.kind) } }
                    tr { th { "Asked with" } td { (record.reset.via) } }
                    tr { th { "Network settings" } td { @if record.reset.network_kept { "kept" } @else { "not kept" } } }
                }
                h2 { "Proof" }
                @if let Some(p) = &record.proof {
                    table {
                        tr { th { "Factory state seen" } td { (p.factory_state) } }
                        tr { th { "Users on the camera" } td { (p.users) } }
                        tr { th { "Found at" } td { code { (p.address) } @if p.link_local { " (link-local)" } } }
                        tr { th { "Found by" } td { (p.found_by.join(", ")) } }
                        tr { th { "Matched by" } td { (p.matched_by) } }
                        tr { th { "Seen" } td { (p.seen_at) } }
                    }
                } @else {
                    p { "None: the camera was not seen in its factory state." }
                }
                h2 { "Credentials" }
                p { "Retired from the keychain (every slot): "
                    @if record.credentials_retired.is_empty() { "none" } @else { (record.credentials_retired.join(", ")) } }
                @if !record.credentials_kept.is_empty() {
                    p { "Kept until the reset is proven: " (record.credentials_kept.join(", ")) }
                }
                h2 { "Certificate to revoke" }
                @if let Some(c) = &record.certificate_to_revoke {
                    table {
                        tr { th { "SHA-256" } td { code { (c.sha256_fingerprint) } } }
                        tr { th { "Valid until" } td { (or_dash(&c.not_after)) } }
                        tr { th { "Action" } td { (c.action) } }
                    }
                } @else {
                    p { "None recorded for this camera." }
                }
                h2 { "Left for a person" }
                ol { @for item in &record.checklist { li { (item) } } }
            }
        }
    };
    page.into_string()
}

/// Writes `record` to `out` in `format` (PDF through headless Chromium, as the site report).
pub async fn write(record: &DisposalRecord, format: Format, out: &Path) -> Result<(), CoreError> {
    let io = |e: std::io::Error| CoreError {
        code: "io".into(),
        message: format!("cannot write {}: {e}", out.display()),
        camera: record.camera.clone(),
        step: "write the disposal record".into(),
    };
    match format {
        Format::Json => std::fs::write(out, render_json(record)).map_err(io),
        Format::Html => std::fs::write(out, render_html(record)).map_err(io),
        Format::Pdf => report::render_pdf(&render_html(record), out).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> DisposalRecord {
        DisposalRecord {
            camera: "host:192.0.2.7:80".into(),
            url: "http://192.0.2.7:80/onvif/device_service".into(),
            manufacturer: Some("Camsim".into()),
            model: Some("CS-<b>2000</b>".into()),
            serial: Some("S<script>alert(1)</script>".into()),
            firmware: Some("1.4.2".into()),
            mac: Some("02:ca:5e:00:00:01".into()),
            decommissioned_by: "tech & co".into(),
            started_at: "2026-01-01T00:00:00Z".into(),
            finished_at: "2026-01-01T00:01:00Z".into(),
            reset: ResetDone {
                kind: "hard".into(),
                via: "ONVIF SetSystemFactoryDefault Hard".into(),
                network_kept: false,
            },
            result: DisposalResult::Proven,
            proof: Some(Proof {
                factory_state: "ONVIF answers without credentials: no users".into(),
                address: "169.254.3.4".into(),
                found_by: vec!["link-local".into()],
                link_local: true,
                matched_by: "mac".into(),
                users: "none".into(),
                seen_at: "2026-01-01T00:00:50Z".into(),
            }),
            credentials_retired: vec!["admin".into()],
            credentials_kept: vec![],
            certificate_to_revoke: Some(CertificateToRevoke {
                sha256_fingerprint: "ab".repeat(32),
                not_after: Some("2027-01-01T00:00:00Z".into()),
                action: "revoke".into(),
            }),
            checklist: checklist(true, false),
        }
    }

    #[test]
    fn html_escapes_every_value() {
        let html = render_html(&sample());
        assert!(!html.contains("<script>alert(1)"), "{html}");
        assert!(html.contains("S&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("CS-&lt;b&gt;2000&lt;/b&gt;"));
        assert!(html.contains("tech &amp; co"));
        assert!(html.contains("169.254.3.4"));
        assert!(html.contains("Remove the SD card"));
    }

    #[test]
    fn json_round_trips_and_lists_proof_and_checklist() {
        let record = sample();
        let json = render_json(&record);
        let back: DisposalRecord = serde_json::from_str(&json).unwrap();
        assert_eq!(back, record);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["result"]["status"], "proven");
        assert_eq!(v["proof"]["users"], "none");
        assert!(v["checklist"].as_array().unwrap().len() >= 4);
    }

    #[test]
    fn no_field_can_carry_a_secret() {
        // The record holds names, never passwords: there is no field for one, and the names of
        // the retired accounts are all that is written about them.
        let json = render_json(&sample());
        for word in ["password\"", "secret", "#pending", "#previous"] {
            assert!(!json.contains(word), "{word} in {json}");
        }
        let html = render_html(&sample());
        assert!(!html.contains("#pending") && !html.contains("#previous"));
    }

    #[test]
    fn an_unproven_reset_puts_the_reset_switch_first() {
        let items = checklist(false, false);
        assert!(items[0].contains("reset switch"));
        assert!(checklist(true, true)
            .last()
            .unwrap()
            .contains("static address"));
    }
}
