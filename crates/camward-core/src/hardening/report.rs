//! `report`: a site's hardening, for the person who hands the site over and for machines.
//!
//! Built only from what the inventory kept: every audit and commissioning result
//! (`hardening_runs`) and the hash-chained audit trail. Per camera it shows the scorecard before
//! commissioning and the newest one after (a later audit — say after a person did the guided
//! steps — supersedes the commissioning's own proof), what was changed, and what still needs a
//! person. The site summary carries a picture of the scores (inline SVG) and the audit trail's
//! state (intact, with its head hash, or where it breaks).
//!
//! Formats: JSON (the [`SiteReport`] as is), HTML (one self-contained page, no script, no
//! external resource; every text escaped by `maud`), and PDF, which is that HTML printed by a
//! real browser engine (headless Chromium) — each camera starts a new page.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use camward_vault::{AuditChain, HardeningRun, RunKind};
use maud::{html, Markup, PreEscaped, DOCTYPE};
use serde::{Deserialize, Serialize};

use super::commission::Outcome;
use super::{catalog, Level, Status};
use crate::credentials::Vault;
use crate::CoreError;

/// How long the browser may take to print the PDF.
const PDF_TIMEOUT: Duration = Duration::from_secs(90);

/// How many of a camera's newest audit-trail rows the report lists.
const TRAIL_ROWS: usize = 40;

/// One finding as kept in the inventory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptFinding {
    /// The catalog id.
    pub control: String,
    /// The outcome.
    pub status: Status,
    /// What Camward saw.
    pub evidence: String,
    /// What to do when it is not a pass.
    pub fix: Option<String>,
}

/// A scorecard as kept in the inventory.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeptScorecard {
    /// The camera's device service URL.
    pub camera: String,
    /// Manufacturer and model.
    pub model: Option<String>,
    /// Serial number.
    pub serial: Option<String>,
    /// The level audited.
    pub level: Level,
    /// The findings, in catalog order.
    pub findings: Vec<KeptFinding>,
}

impl KeptScorecard {
    /// How many findings have `status`.
    pub fn count(&self, status: Status) -> usize {
        self.findings.iter().filter(|f| f.status == status).count()
    }

    /// Passes over the controls that apply, in percent (the same rule as `Scorecard::score`).
    pub fn score(&self) -> u8 {
        let applicable = self.findings.len() - self.count(Status::NotApplicable);
        if applicable == 0 {
            return 0;
        }
        (self.count(Status::Pass) * 100 / applicable) as u8
    }
}

/// A commissioning as kept in the inventory.
#[derive(Clone, Debug, PartialEq, Deserialize)]
struct KeptCommission {
    first_admin: Option<String>,
    before: Option<KeptScorecard>,
    steps: Vec<KeptStep>,
    after: Option<KeptScorecard>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
struct KeptStep {
    control: String,
    before: Status,
    outcome: Outcome,
}

/// A scorecard with when it was taken.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DatedScorecard {
    /// When (RFC 3339, UTC).
    pub at: String,
    /// Percent of applicable controls that pass.
    pub score: u8,
    /// The scorecard.
    #[serde(flatten)]
    pub card: KeptScorecard,
}

/// Something commissioning did, or tried, on a camera.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Change {
    /// The catalog id.
    pub control: String,
    /// Its title.
    pub title: String,
    /// Its status before.
    pub before: Status,
    /// What happened.
    pub outcome: Outcome,
}

/// Something a person still has to do or confirm.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PersonTask {
    /// The catalog id.
    pub control: String,
    /// Its title.
    pub title: String,
    /// Its status now.
    pub status: Status,
    /// What Camward saw.
    pub evidence: String,
    /// What to do (menu path or API).
    pub fix: Option<String>,
}

/// One row of the audit trail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TrailRow {
    /// Sequence number in the hash chain.
    pub seq: i64,
    /// When.
    pub at: String,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// Details (never a secret).
    pub detail: String,
    /// `ok` or an error code.
    pub result: String,
}

/// One camera's page.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CameraReport {
    /// Inventory key.
    pub key: String,
    /// Device service URL.
    pub url: String,
    /// Manufacturer and model.
    pub model: Option<String>,
    /// Serial number.
    pub serial: Option<String>,
    /// Site.
    pub site: Option<String>,
    /// The first administrator, when a commissioning created it (a user name, never a password).
    pub first_admin: Option<String>,
    /// Before commissioning (or the first audit kept).
    pub before: Option<DatedScorecard>,
    /// The newest scorecard after it.
    pub after: Option<DatedScorecard>,
    /// What commissioning did, in catalog order (controls left as they were are not listed).
    pub changes: Vec<Change>,
    /// What still needs a person, from the newest scorecard.
    pub needs_person: Vec<PersonTask>,
    /// The camera's newest audit-trail rows, oldest first.
    pub trail: Vec<TrailRow>,
}

impl CameraReport {
    /// The newest scorecard: after, else before.
    pub fn current(&self) -> Option<&DatedScorecard> {
        self.after.as_ref().or(self.before.as_ref())
    }
}

/// The audit trail's state when the report was made.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum TrailState {
    /// Every row chains to the one before.
    Intact {
        /// Number of rows.
        rows: i64,
        /// SHA-256 of the newest row, hex (compare with a later export to see truncation).
        head: String,
    },
    /// The chain breaks at `seq`.
    Broken {
        /// The first row whose chain does not hold.
        seq: i64,
        /// Why.
        reason: String,
    },
}

/// Site-wide figures.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// Cameras in the report.
    pub cameras: usize,
    /// Cameras with a commissioning kept.
    pub commissioned: usize,
    /// Mean score before, over the cameras with one.
    pub mean_before: Option<u8>,
    /// Mean score now, over the cameras with one.
    pub mean_now: Option<u8>,
    /// Findings now, by status, over every camera.
    pub now: BTreeMap<Status, usize>,
    /// Tasks left for a person, over every camera.
    pub person_tasks: usize,
}

/// The whole report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SiteReport {
    /// The site, or `None` for every camera of the inventory.
    pub site: Option<String>,
    /// When the report was made (RFC 3339, UTC).
    pub generated_at: String,
    /// Site-wide figures.
    pub summary: Summary,
    /// The audit trail's state.
    pub audit_trail: TrailState,
    /// One page per camera, by key.
    pub cameras: Vec<CameraReport>,
}

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One self-contained HTML page.
    Html,
    /// The HTML page printed to PDF by headless Chromium.
    Pdf,
    /// The report as JSON.
    Json,
}

fn report_error(code: &str, step: &str, message: impl Into<String>) -> CoreError {
    CoreError {
        code: code.to_owned(),
        message: message.into(),
        camera: "-".to_owned(),
        step: step.to_owned(),
    }
}

fn title_of(control: &str) -> String {
    catalog::control(control).map_or_else(|| control.to_owned(), |c| c.title.to_owned())
}

/// Builds the report of `site` (every camera when `None`) from the inventory.
pub fn build(vault: &Vault, site: Option<&str>) -> Result<SiteReport, CoreError> {
    let inventory = &vault.inventory;
    let runs = inventory
        .hardening_runs(site)
        .map_err(|e| report_error(e.code(), "read the kept results", e.to_string()))?;
    let mut by_camera: BTreeMap<String, Vec<HardeningRun>> = BTreeMap::new();
    for run in runs {
        by_camera.entry(run.camera.clone()).or_default().push(run);
    }
    if let Some(site) = site {
        if by_camera.is_empty() {
            let known = inventory.sites().unwrap_or_default();
            return Err(report_error(
                "unknown_site",
                "select the site",
                format!(
                    "nothing was audited or commissioned for site {site:?}; sites with results: {}",
                    if known.is_empty() {
                        "none".to_owned()
                    } else {
                        known.join(", ")
                    }
                ),
            ));
        }
    }
    let mut cameras = Vec::new();
    for (key, runs) in by_camera {
        cameras.push(camera_report(vault, key, &runs)?);
    }

    let audit_trail = match inventory
        .verify_audit_chain()
        .map_err(|e| report_error(e.code(), "verify the audit trail", e.to_string()))?
    {
        AuditChain::Intact { rows, head } => TrailState::Intact { rows, head },
        AuditChain::Broken { seq, reason } => TrailState::Broken {
            seq,
            reason: format!("{reason:?}"),
        },
    };
    let mean = |scores: Vec<u8>| {
        (!scores.is_empty()).then(|| {
            (scores.iter().map(|&s| u32::from(s)).sum::<u32>() / scores.len() as u32) as u8
        })
    };
    let mut now = BTreeMap::new();
    for camera in &cameras {
        if let Some(card) = camera.current() {
            for f in &card.card.findings {
                *now.entry(f.status).or_insert(0) += 1;
            }
        }
    }
    let summary = Summary {
        cameras: cameras.len(),
        commissioned: cameras
            .iter()
            .filter(|c| !c.changes.is_empty() || c.after.is_some())
            .count(),
        mean_before: mean(
            cameras
                .iter()
                .filter_map(|c| c.before.as_ref().map(|b| b.score))
                .collect(),
        ),
        mean_now: mean(
            cameras
                .iter()
                .filter_map(|c| c.current().map(|b| b.score))
                .collect(),
        ),
        now,
        person_tasks: cameras.iter().map(|c| c.needs_person.len()).sum(),
    };
    let generated_at = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    Ok(SiteReport {
        site: site.map(str::to_owned),
        generated_at,
        summary,
        audit_trail,
        cameras,
    })
}

fn parse_body<T: for<'de> Deserialize<'de>>(run: &HardeningRun) -> Result<T, CoreError> {
    serde_json::from_str(&run.body).map_err(|e| CoreError {
        code: "corrupt_result".to_owned(),
        message: format!("the kept result #{} cannot be read: {e}", run.seq),
        camera: run.camera.clone(),
        step: "read the kept results".to_owned(),
    })
}

fn dated(at: &str, card: KeptScorecard) -> DatedScorecard {
    DatedScorecard {
        at: at.to_owned(),
        score: card.score(),
        card,
    }
}

fn camera_report(
    vault: &Vault,
    key: String,
    runs: &[HardeningRun],
) -> Result<CameraReport, CoreError> {
    let last_commission = runs.iter().rposition(|r| r.kind == RunKind::Commission);
    let mut first_admin = None;
    let mut changes = Vec::new();
    let (before, after) = match last_commission {
        Some(i) => {
            let run = &runs[i];
            let kept: KeptCommission = parse_body(run)?;
            first_admin = kept.first_admin;
            changes = kept
                .steps
                .into_iter()
                .filter(|s| {
                    !matches!(
                        s.outcome,
                        Outcome::AlreadyHardened | Outcome::Skipped { .. } | Outcome::Stopped
                    )
                })
                .map(|s| Change {
                    title: title_of(&s.control),
                    control: s.control,
                    before: s.before,
                    outcome: s.outcome,
                })
                .collect();
            // A later audit (after a person did the guided steps) is the newest proof.
            let later = runs[i + 1..]
                .iter()
                .rev()
                .find(|r| r.kind == RunKind::Audit);
            let after = match later {
                Some(r) => Some(dated(&r.at, parse_body(r)?)),
                None => kept.after.map(|c| dated(&run.at, c)),
            };
            (kept.before.map(|c| dated(&run.at, c)), after)
        }
        None => {
            let audits: Vec<&HardeningRun> =
                runs.iter().filter(|r| r.kind == RunKind::Audit).collect();
            let first = audits
                .first()
                .map(|r| Ok::<_, CoreError>(dated(&r.at, parse_body(r)?)))
                .transpose()?;
            let last = match audits.as_slice() {
                [_, .., last] => Some(dated(&last.at, parse_body(last)?)),
                _ => None,
            };
            (first, last)
        }
    };
    let current = after.as_ref().or(before.as_ref());
    let mut needs_person: Vec<PersonTask> = current
        .map(|c| {
            c.card
                .findings
                .iter()
                .filter(|f| {
                    matches!(
                        f.status,
                        Status::Fail | Status::ManualNeeded | Status::Unknown
                    )
                })
                .map(|f| PersonTask {
                    control: f.control.clone(),
                    title: title_of(&f.control),
                    status: f.status,
                    evidence: f.evidence.clone(),
                    fix: f.fix.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    if current.is_none() {
        // Commissioning stopped before the first audit: it waits for the person to create the
        // administrator (Canon, i-PRO) or could not log in.
        needs_person.push(PersonTask {
            control: "admin-password".to_owned(),
            title: title_of("admin-password"),
            status: Status::ManualNeeded,
            evidence: first_admin
                .clone()
                .unwrap_or_else(|| "no audit of this camera was kept".to_owned()),
            fix: Some("create the administrator, then run camward commission again: it continues where it stopped".to_owned()),
        });
    }
    let record = vault.inventory.camera(&key).ok().flatten();
    let trail = vault
        .inventory
        .audit_log(Some(&key))
        .map_err(|e| report_error(e.code(), "read the audit trail", e.to_string()))?;
    let skip = trail.len().saturating_sub(TRAIL_ROWS);
    let trail = trail
        .into_iter()
        .skip(skip)
        .map(|r| TrailRow {
            seq: r.seq,
            at: r.at,
            actor: r.actor,
            action: r.action,
            detail: r.detail,
            result: r.result,
        })
        .collect();
    let url = current
        .map(|c| c.card.camera.clone())
        .or_else(|| record.as_ref().and_then(|r| r.addresses.first().cloned()))
        .unwrap_or_else(|| key.clone());
    Ok(CameraReport {
        url,
        model: current.and_then(|c| c.card.model.clone()),
        serial: current.and_then(|c| c.card.serial.clone()),
        site: runs.last().and_then(|r| r.site.clone()),
        key,
        first_admin,
        before,
        after,
        changes,
        needs_person,
        trail,
    })
}

/// The report as pretty JSON.
pub fn render_json(report: &SiteReport) -> String {
    // A SiteReport is plain data (strings, numbers, maps with string-like keys): it always
    // serializes.
    serde_json::to_string_pretty(report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

const STYLE: &str = r#"
:root { --pass: #1b7f3b; --fail: #b3261e; --manual: #8a5a00; --unknown: #5f5f5f; --ink: #1c1c1c; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", Arial, sans-serif; color: var(--ink); margin: 2rem; font-size: 11pt; line-height: 1.4; }
h1 { font-size: 20pt; margin: 0 0 .3rem; } h2 { font-size: 15pt; margin: 1.2rem 0 .4rem; } h3 { font-size: 12pt; margin: 1rem 0 .3rem; }
.muted { color: #555; }
table { border-collapse: collapse; width: 100%; margin: .4rem 0 1rem; }
th, td { border-bottom: 1px solid #ddd; padding: .25rem .4rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
.status { font-weight: bold; white-space: nowrap; }
.pass { color: var(--pass); } .fail { color: var(--fail); } .manual-needed { color: var(--manual); }
.unknown { color: var(--unknown); } .not-applicable { color: #777; }
.figures { display: flex; gap: 1.5rem; flex-wrap: wrap; margin: .5rem 0 1rem; }
.figure { border: 1px solid #ccc; border-radius: 6px; padding: .5rem .9rem; min-width: 8rem; }
.figure b { display: block; font-size: 18pt; }
section.camera { page-break-before: always; break-before: page; margin-top: 2rem; }
code { font-family: "DejaVu Sans Mono", monospace; font-size: 9pt; word-break: break-all; }
.evidence { font-size: 9.5pt; }
"#;

/// An RFC 3339 time as people read it: to the second, in UTC.
fn when(at: &str) -> String {
    match time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339) {
        Ok(t) => {
            let t = t.to_offset(time::UtcOffset::UTC);
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            )
        }
        Err(_) => at.to_owned(),
    }
}

fn status_class(status: Status) -> &'static str {
    match status {
        Status::Pass => "pass",
        Status::Fail => "fail",
        Status::ManualNeeded => "manual-needed",
        Status::NotApplicable => "not-applicable",
        Status::Unknown => "unknown",
    }
}

fn status_word(status: Status) -> &'static str {
    match status {
        Status::Pass => "pass",
        Status::Fail => "fail",
        Status::ManualNeeded => "needs a person",
        Status::NotApplicable => "not applicable",
        Status::Unknown => "unknown",
    }
}

fn outcome_text(outcome: &Outcome) -> (&'static str, String) {
    match outcome {
        Outcome::AlreadyHardened => ("already hardened", String::new()),
        Outcome::WouldChange { change } => ("would change", change.clone()),
        Outcome::Applied { change } => ("applied and verified", change.clone()),
        Outcome::Guided { step } => ("guided step for a person", step.clone()),
        Outcome::Refused { reason } => ("refused (guard)", reason.clone()),
        Outcome::Failed { code, message } => ("failed", format!("{code}: {message}")),
        Outcome::Skipped { reason } => ("skipped", reason.clone()),
        Outcome::Stopped => (
            "stopped",
            "the run was stopped before it; running again resumes".into(),
        ),
    }
}

fn camera_name(c: &CameraReport) -> String {
    match (&c.model, &c.serial) {
        (Some(m), Some(s)) => format!("{m} (serial {s})"),
        (Some(m), None) => m.clone(),
        _ => c.url.clone(),
    }
}

/// The picture of the site's scores: one row per camera, the score before (grey) and now
/// (green), on a 0–100 % scale.
fn score_chart(report: &SiteReport) -> Markup {
    let row_h = 34;
    let label_w = 300;
    let bar_w = 360;
    let height = 40 + row_h * report.cameras.len().max(1);
    let width = label_w + bar_w + 60;
    let mut svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="DejaVu Sans, Arial, sans-serif" font-size="11">"##
    );
    svg.push_str("<title>Hardening score per camera, before and now</title>");
    for tick in [0, 25, 50, 75, 100] {
        let x = label_w + bar_w * tick / 100;
        svg.push_str(&format!(
            r##"<line x1="{x}" y1="18" x2="{x}" y2="{}" stroke="#ddd"/><text x="{x}" y="12" text-anchor="middle" fill="#555">{tick}%</text>"##,
            height - 4
        ));
    }
    for (i, c) in report.cameras.iter().enumerate() {
        let y = 24 + row_h * i;
        let label = maud::html! { (camera_name(c)) }.into_string();
        let label = if label.chars().count() > 44 {
            format!("{}…", label.chars().take(43).collect::<String>())
        } else {
            label
        };
        svg.push_str(&format!(
            r##"<text x="{}" y="{}" text-anchor="end">{label}</text>"##,
            label_w - 8,
            y + 17
        ));
        if let Some(b) = &c.before {
            let w = bar_w * usize::from(b.score) / 100;
            svg.push_str(&format!(
                r##"<rect x="{label_w}" y="{y}" width="{w}" height="11" fill="#9e9e9e"><title>before: {}%</title></rect>"##,
                b.score
            ));
        }
        if let Some(now) = c.current() {
            let w = bar_w * usize::from(now.score) / 100;
            svg.push_str(&format!(
                r##"<rect x="{label_w}" y="{}" width="{w}" height="13" fill="#1b7f3b"><title>now: {}%</title></rect><text x="{}" y="{}" fill="#1c1c1c">{}%</text>"##,
                y + 13,
                now.score,
                label_w + w + 4,
                y + 24,
                now.score
            ));
        }
    }
    svg.push_str("</svg>");
    html! {
        figure {
            (PreEscaped(svg))
            figcaption.muted { "Grey: score before commissioning (or the first audit). Green: the newest score. Score = controls that pass ÷ controls that apply." }
        }
    }
}

fn findings_table(card: &DatedScorecard) -> Markup {
    html! {
        table {
            thead { tr { th { "Control" } th { "Status" } th { "Evidence" } th { "What to do" } } }
            tbody {
                @for f in &card.card.findings {
                    tr {
                        td { (title_of(&f.control)) br; code { (f.control) } }
                        td.status.(status_class(f.status)) { (status_word(f.status)) }
                        td.evidence { (f.evidence) }
                        td.evidence { @if let Some(fix) = &f.fix { (fix) } }
                    }
                }
            }
        }
    }
}

/// The report as one self-contained HTML page.
pub fn render_html(report: &SiteReport) -> String {
    let site = report
        .site
        .clone()
        .unwrap_or_else(|| "every camera in the inventory".to_owned());
    let s = &report.summary;
    let count = |status| s.now.get(&status).copied().unwrap_or(0);
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Camward hardening report — " (site) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header {
                    h1 { "Hardening report: " (site) }
                    p.muted { "Made by Camward on " (when(&report.generated_at)) " from the inventory's kept audits, commissioning runs and audit trail." }
                }
                section.summary {
                    h2 { "Site summary" }
                    div.figures {
                        div.figure { b { (s.cameras) } "cameras" }
                        div.figure { b { (s.commissioned) } "commissioned" }
                        div.figure { b { @if let Some(b) = s.mean_before { (b) "%" } @else { "–" } } "mean score before" }
                        div.figure { b { @if let Some(n) = s.mean_now { (n) "%" } @else { "–" } } "mean score now" }
                        div.figure { b { (s.person_tasks) } "tasks left for a person" }
                    }
                    p {
                        span.pass { (count(Status::Pass)) " pass" } " · "
                        span.fail { (count(Status::Fail)) " fail" } " · "
                        span."manual-needed" { (count(Status::ManualNeeded)) " need a person" } " · "
                        span.unknown { (count(Status::Unknown)) " unknown" } " · "
                        span."not-applicable" { (count(Status::NotApplicable)) " not applicable" }
                    }
                    (score_chart(report))
                    h3 { "Cameras" }
                    table {
                        thead { tr { th { "Camera" } th { "Address" } th { "Level" } th { "Before" } th { "Now" } th { "Left for a person" } } }
                        tbody {
                            @for c in &report.cameras {
                                tr {
                                    td { (camera_name(c)) }
                                    td { code { (c.url) } }
                                    td { @if let Some(now) = c.current() { (now.card.level) } }
                                    td { @if let Some(b) = &c.before { (b.score) "%" } @else { "–" } }
                                    td { @if let Some(n) = c.current() { (n.score) "%" } @else { "–" } }
                                    td { (c.needs_person.len()) }
                                }
                            }
                        }
                    }
                    h3 { "Audit trail" }
                    @match &report.audit_trail {
                        TrailState::Intact { rows, head } => p { "Intact: " (rows) " rows, each chained to the one before by SHA-256. Head hash " code { (head) } " — a later copy of the trail must still contain this row." },
                        TrailState::Broken { seq, reason } => p.fail { "BROKEN at row " (seq) ": " (reason) ". Someone edited or deleted rows of the audit trail." },
                    }
                }
                @for c in &report.cameras {
                    section.camera {
                        h2 { (camera_name(c)) }
                        p.muted { code { (c.url) } @if let Some(site) = &c.site { " · site " (site) } " · inventory key " code { (c.key) } }
                        @if let Some(admin) = &c.first_admin { p { "First administrator: " (admin) "." } }
                        div.figures {
                            div.figure { b { @if let Some(b) = &c.before { (b.score) "%" } @else { "–" } } "before" @if let Some(b) = &c.before { br; span.muted { (when(&b.at)) } } }
                            div.figure { b { @if let Some(a) = &c.after { (a.score) "%" } @else { "–" } } "after" @if let Some(a) = &c.after { br; span.muted { (when(&a.at)) } } }
                            div.figure { b { (c.changes.len()) } "changes" }
                            div.figure { b { (c.needs_person.len()) } "left for a person" }
                        }
                        h3 { "What changed" }
                        @if c.changes.is_empty() {
                            p.muted { "Nothing: no commissioning was kept for this camera, or every control already passed." }
                        } @else {
                            table {
                                thead { tr { th { "Control" } th { "Before" } th { "Outcome" } th { "Detail" } } }
                                tbody {
                                    @for ch in &c.changes {
                                        @let (word, detail) = outcome_text(&ch.outcome);
                                        tr { td { (ch.title) } td.status.(status_class(ch.before)) { (status_word(ch.before)) } td { (word) } td.evidence { (detail) } }
                                    }
                                }
                            }
                        }
                        h3 { "Still needs a person" }
                        @if c.needs_person.is_empty() {
                            p.pass { "Nothing: every control that applies passes." }
                        } @else {
                            ul {
                                @for t in &c.needs_person {
                                    li { b { (t.title) } " (" span.(status_class(t.status)) { (status_word(t.status)) } "): " (t.evidence) @if let Some(fix) = &t.fix { " — " i { (fix) } } }
                                }
                            }
                        }
                        @if let Some(after) = &c.after { h3 { "Scorecard after (" (when(&after.at)) ")" } (findings_table(after)) }
                        @if let Some(before) = &c.before { h3 { "Scorecard before (" (when(&before.at)) ")" } (findings_table(before)) }
                        @if !c.trail.is_empty() {
                            h3 { "Audit trail (newest " (c.trail.len()) " rows)" }
                            table {
                                thead { tr { th { "#" } th { "When" } th { "Who" } th { "What" } th { "Result" } } }
                                tbody {
                                    @for r in &c.trail {
                                        tr { td { (r.seq) } td { (when(&r.at)) } td { (r.actor) } td.evidence { (r.action) ": " (r.detail) } td { (r.result) } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    page.into_string()
}

/// The browser that prints PDFs: `CAMWARD_CHROMIUM`, else the first of chromium,
/// chromium-browser, google-chrome on `PATH`.
pub fn find_browser() -> Option<PathBuf> {
    if let Some(explicit) = std::env::var_os("CAMWARD_CHROMIUM").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(explicit));
    }
    let path = std::env::var_os("PATH")?;
    [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ]
    .iter()
    .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
    .find(|candidate| candidate.is_file())
}

/// The arguments every headless run gets: its own throw-away profile, no GPU, and no sandbox
/// when running as root (Chromium refuses to start as root with its sandbox).
pub fn headless_args(profile: &Path) -> Vec<String> {
    let mut args = vec![
        "--headless".to_owned(),
        "--disable-gpu".to_owned(),
        "--no-first-run".to_owned(),
        "--no-default-browser-check".to_owned(),
        "--disable-extensions".to_owned(),
        format!("--user-data-dir={}", profile.display()),
    ];
    if is_root() {
        args.push("--no-sandbox".to_owned());
    }
    args
}

/// Whether this process runs with effective user id 0 (Linux: the `Uid:` line of
/// `/proc/self/status` lists real, effective, saved and filesystem ids).
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|e| e == "0"))
        })
        .unwrap_or(false)
}

/// Prints `html` to the PDF file `out` with headless Chromium.
pub async fn render_pdf(html: &str, out: &Path) -> Result<(), CoreError> {
    let browser = find_browser().ok_or_else(|| {
        report_error(
            "no_pdf_renderer",
            "print the PDF",
            "no Chromium found to print the PDF (install the `chromium` package, or set CAMWARD_CHROMIUM to a Chromium or Chrome binary); --format html works without it",
        )
    })?;
    let work = tempfile::tempdir().map_err(|e| {
        report_error(
            "io",
            "print the PDF",
            format!("cannot make a temporary directory: {e}"),
        )
    })?;
    let page = work.path().join("report.html");
    std::fs::write(&page, html).map_err(|e| {
        report_error(
            "io",
            "print the PDF",
            format!("cannot write {}: {e}", page.display()),
        )
    })?;
    let out_abs = if out.is_absolute() {
        out.to_owned()
    } else {
        std::env::current_dir()
            .map(|d| d.join(out))
            .unwrap_or_else(|_| out.to_owned())
    };
    let _ = std::fs::remove_file(&out_abs);
    let mut command = tokio::process::Command::new(&browser);
    command
        .args(headless_args(&work.path().join("profile")))
        .arg("--no-pdf-header-footer")
        .arg(format!("--print-to-pdf={}", out_abs.display()))
        .arg(format!("file://{}", page.display()))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let child = command.spawn().map_err(|e| {
        report_error(
            "no_pdf_renderer",
            "print the PDF",
            format!("cannot start {}: {e}", browser.display()),
        )
    })?;
    let output = tokio::time::timeout(PDF_TIMEOUT, child.wait_with_output())
        .await
        .map_err(|_| {
            report_error(
                "timeout",
                "print the PDF",
                format!(
                    "{} did not finish within {} s",
                    browser.display(),
                    PDF_TIMEOUT.as_secs()
                ),
            )
        })?
        .map_err(|e| report_error("io", "print the PDF", e.to_string()))?;
    let printed = std::fs::metadata(&out_abs)
        .map(|m| m.len() > 0)
        .unwrap_or(false);
    if !output.status.success() || !printed {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last: Vec<&str> = stderr.lines().rev().take(3).collect();
        return Err(report_error(
            "pdf_failed",
            "print the PDF",
            format!(
                "{} ({}) wrote no PDF: {}",
                browser.display(),
                output.status,
                last.into_iter().rev().collect::<Vec<_>>().join(" | ")
            ),
        ));
    }
    Ok(())
}

/// Builds the report and writes it to `out` in `format`.
pub async fn write(
    vault: &Vault,
    site: Option<&str>,
    format: Format,
    out: &Path,
) -> Result<SiteReport, CoreError> {
    let report = build(vault, site)?;
    let io = |e: std::io::Error| {
        report_error(
            "io",
            "write the report",
            format!("cannot write {}: {e}", out.display()),
        )
    };
    match format {
        Format::Json => std::fs::write(out, render_json(&report)).map_err(io)?,
        Format::Html => std::fs::write(out, render_html(&report)).map_err(io)?,
        Format::Pdf => render_pdf(&render_html(&report), out).await?,
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(statuses: &[Status]) -> KeptScorecard {
        KeptScorecard {
            camera: "http://192.0.2.1/onvif/device_service".into(),
            model: Some("Camsim <b>X</b>".into()),
            serial: Some("S1".into()),
            level: Level::Standard,
            findings: statuses
                .iter()
                .zip(catalog::CONTROLS)
                .map(|(&status, c)| KeptFinding {
                    control: c.id.into(),
                    status,
                    evidence: "seen <script>alert(1)</script>".into(),
                    fix: None,
                })
                .collect(),
        }
    }

    fn report() -> SiteReport {
        let before = dated(
            "2026-01-01T00:00:00Z",
            card(&[Status::Fail, Status::Fail, Status::NotApplicable]),
        );
        let after = dated(
            "2026-01-01T00:01:00Z",
            card(&[Status::Pass, Status::ManualNeeded, Status::NotApplicable]),
        );
        SiteReport {
            site: Some("north".into()),
            generated_at: "2026-01-01T00:02:00Z".into(),
            summary: Summary {
                cameras: 1,
                commissioned: 1,
                mean_before: Some(0),
                mean_now: Some(50),
                now: BTreeMap::from([(Status::Pass, 1), (Status::ManualNeeded, 1)]),
                person_tasks: 1,
            },
            audit_trail: TrailState::Intact {
                rows: 3,
                head: "ab".into(),
            },
            cameras: vec![CameraReport {
                key: "mac:aa".into(),
                url: before.card.camera.clone(),
                model: before.card.model.clone(),
                serial: Some("S1".into()),
                site: Some("north".into()),
                first_admin: None,
                before: Some(before),
                after: Some(after),
                changes: vec![],
                needs_person: vec![],
                trail: vec![],
            }],
        }
    }

    #[test]
    fn times_read_to_the_second_in_utc() {
        assert_eq!(
            when("2026-01-01T10:02:03.123456Z"),
            "2026-01-01 10:02:03 UTC"
        );
        assert_eq!(when("2026-01-01T12:02:03+02:00"), "2026-01-01 10:02:03 UTC");
        assert_eq!(when("not a time"), "not a time");
    }

    #[test]
    fn scores_follow_the_scorecard_rule() {
        assert_eq!(
            card(&[Status::Pass, Status::Fail, Status::NotApplicable]).score(),
            50
        );
        assert_eq!(card(&[Status::NotApplicable]).score(), 0);
    }

    #[test]
    fn html_escapes_what_cameras_said() {
        let html = render_html(&report());
        assert!(
            !html.contains("<script>alert"),
            "camera text must be escaped"
        );
        assert!(html.contains("&lt;script&gt;"));
        assert!(!html.contains("<b>X</b>"));
        assert!(html.contains("<svg"), "the site's scores are pictured");
        assert!(html.contains("Hardening report: north"));
        assert!(html.contains("now: 50%"));
    }

    #[test]
    fn json_keeps_before_and_after() {
        let json: serde_json::Value = serde_json::from_str(&render_json(&report())).unwrap();
        assert_eq!(json["cameras"][0]["before"]["score"], 0);
        assert_eq!(json["cameras"][0]["after"]["score"], 50);
        assert_eq!(json["audit_trail"]["state"], "intact");
        assert_eq!(json["summary"]["now"]["pass"], 1);
    }
}
