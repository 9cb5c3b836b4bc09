//! End to end, journey 1 after the audit: the real debug binary with `--demo` (five factory-fresh
//! camsim cameras of mixed makes on 127.0.0.1), driven with the keyboard only through admin
//! account (a weak password refused with the policy's reasons, then a strong one) → time (the
//! NTP check, honest about a server that does not answer) → certificates (the site CA issues one
//! to each camera that takes its administrator over an API; the SHA-256 on screen is the one a TLS
//! handshake from this test sees) → services and host restriction (an
//! allow-list without this computer refused with the reason, then the pre-filled one) → review
//! (dry-run diff per camera) → apply (per-camera, per-control progress; stopped half-way, the
//! controls left said so, then resumed to the end: the demo's cameras answer 60 ms late, so the
//! run lasts long enough to stop) → manual steps (the
//! test plays the person on a guided camera's first-access page, then "Verify") → report (HTML
//! saved and read back). Then the resulting camera state, through the shell: a follow-up audit
//! logs in to every camera with the administrator Camward created.
//!
//! Screenshots of each step go to `artifacts/screenshots/journey-commission-apply/`.

mod common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{
    by_test_id, clear_focused, count, eval, prerequisites, press, screenshot, screenshot_dir,
    tab_to, texts, type_text, wait_until, wait_until_within, TauriDriver,
};
use fantoccini::key::Key;
use fantoccini::Client;

const DEMO_CAMERAS: usize = 5;
/// A password the policy refuses for several reasons.
const WEAK: &str = "admin1";
/// One it accepts (16 characters at most: the Hikvision limit).
const STRONG: &str = "Tq8#Lw2vZ!pR4mKx";

/// Plays the person at a guided camera: posts its first-access form (camsim `first_access.rs`)
/// with the password the app revealed.
fn fill_first_access(device_url: &str, password: &str) -> Result<u16, String> {
    let authority = device_url
        .strip_prefix("http://")
        .and_then(|rest| rest.split('/').next())
        .ok_or_else(|| format!("not an http URL: {device_url}"))?;
    let encode = |s: &str| -> String {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    };
    let body = format!(
        "user=admin&password={}&confirm={}",
        encode(password),
        encode(password)
    );
    let mut stream = std::net::TcpStream::connect(authority).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    write!(
        stream,
        "POST /first-access HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .map_err(|e| e.to_string())?;
    let mut reply = String::new();
    let _ = stream.read_to_string(&mut reply);
    reply
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("no HTTP status in {reply:?}"))
}

#[derive(Debug, Default)]
struct Seen {
    weak_reasons: Vec<String>,
    weak_codes: Vec<String>,
    strong_verdict: String,
    ntp_results: Vec<String>,
    cert_route: String,
    site_ca_before: String,
    site_ca_after: String,
    certificates: serde_json::Value,
    cert_summary: String,
    https_urls: Option<serde_json::Value>,
    presented: Vec<(String, String)>,
    lockout_explained: String,
    refused: String,
    plan_ok: String,
    prefilled_hosts: String,
    diff_cameras: usize,
    diff_counts: Vec<String>,
    diff_first_admins: Vec<String>,
    diff_host_rows: Vec<String>,
    stopped_title: String,
    stopped_resume: String,
    stopped_steps: Vec<String>,
    apply_status: String,
    progress_states: Vec<String>,
    progress_steps: usize,
    applied_steps: usize,
    guided_first_admins: usize,
    guided_tasks: usize,
    verify_verdict: String,
    guided_camera: String,
    report_saved: String,
    report_html: usize,
    follow_up: serde_json::Value,
    screenshots: Vec<PathBuf>,
}

async fn walk(client: &Client, shots: &Path, report: &Path, seen: &mut Seen) -> Result<(), String> {
    let long = Duration::from_secs(60);
    // Up to the audit, as journey_commission.rs (keyboard: Discover, Select all, Audit), then
    // "Commission".
    common::wizard::audit_demo_site_and_commission(client, DEMO_CAMERAS).await?;

    // 1. Admin account: type a weak password, see why; then a strong one.
    tab_to(client, "password-generate").await?;
    press(client, char::from(Key::Down)).await?; // the radio group: arrow to "one password I type"
    tab_to(client, "admin-password").await?;
    type_text(client, WEAK).await?;
    wait_until(
        client,
        "the policy's reasons",
        "document.querySelectorAll('[data-testid=\"password-reason\"]').length > 0",
    )
    .await?;
    seen.weak_reasons = texts(client, &by_test_id("password-reason")).await?;
    seen.weak_codes = eval(client, "return [...document.querySelectorAll('[data-testid=\"password-reason\"]')].map(e => e.dataset.code);")
        .await?
        .as_array()
        .map(|codes| codes.iter().filter_map(|c| c.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    seen.screenshots
        .push(screenshot(client, shots, "01-admin-weak").await?);
    clear_focused(client).await?;
    type_text(client, STRONG).await?;
    wait_until(
        client,
        "the password to be accepted",
        "document.querySelector('[data-testid=\"password-accepted\"]')",
    )
    .await?;
    seen.strong_verdict = common::text_of(client, "password-accepted").await?;
    seen.screenshots
        .push(screenshot(client, shots, "02-admin-accepted").await?);
    tab_to(client, "admin-next").await?;
    press(client, char::from(Key::Enter)).await?;

    // 2. Time: one server; the live check says what it found.
    wait_until(
        client,
        "the time screen",
        "document.querySelector('[data-testid=\"ntp-servers\"]')",
    )
    .await?;
    tab_to(client, "ntp-servers").await?;
    type_text(client, "127.0.0.1").await?;
    wait_until(
        client,
        "the NTP check",
        "document.querySelectorAll('[data-testid=\"ntp-result\"]').length === 1",
    )
    .await?;
    seen.ntp_results = texts(client, &by_test_id("ntp-result")).await?;
    seen.screenshots
        .push(screenshot(client, shots, "03-time").await?);
    tab_to(client, "time-next").await?;
    press(client, char::from(Key::Enter)).await?;

    // 3. Certificates: the site CA (pre-chosen at level standard) issues one to every camera;
    // each camera's result is read off the screen, the TLS handshakes checked after the walk.
    wait_until(
        client,
        "the certificates screen",
        "document.querySelector('[data-testid=\"site-ca-info\"]')",
    )
    .await?;
    seen.cert_route = eval(
        client,
        "return document.querySelector('input[name=\"cert-route\"]:checked').value;",
    )
    .await?
    .as_str()
    .unwrap_or_default()
    .to_owned();
    seen.site_ca_before = common::text_of(client, "site-ca-info").await?;
    tab_to(client, "cert-issue").await?;
    press(client, char::from(Key::Enter)).await?;
    wait_until_within(
        client,
        "a certificate result for every camera",
        &format!(
            "document.querySelectorAll('[data-testid=\"cert-camera\"]').length === {DEMO_CAMERAS} && document.querySelector('[data-testid=\"site-ca-info\"][data-exists=\"true\"]')"
        ),
        long,
    )
    .await?;
    seen.certificates = common::wizard::certificate_rows(client).await?;
    seen.cert_summary = common::text_of(client, "cert-summary").await?;
    seen.site_ca_after = common::text_of(client, "site-ca-info").await?;
    seen.screenshots
        .push(screenshot(client, shots, "04-certificates").await?);
    // From this process: a TLS handshake to each proven camera's HTTPS port must present the
    // certificate whose SHA-256 the screen shows.
    let simulated = common::wizard::simulated_cameras(client).await?;
    seen.presented = common::wizard::presented_fingerprints(&seen.certificates, &simulated).await?;
    seen.https_urls = Some(simulated);
    tab_to(client, "cert-next").await?;
    press(client, char::from(Key::Enter)).await?;

    // 4. Services and host restriction: an allow-list without this computer is refused.
    wait_until(
        client,
        "the services screen",
        "document.querySelector('[data-testid=\"allowed-hosts\"]')",
    )
    .await?;
    seen.lockout_explained = common::text_of(client, "lockout-explained").await?;
    seen.prefilled_hosts = eval(
        client,
        "return document.querySelector('[data-testid=\"allowed-hosts\"]').value;",
    )
    .await?
    .as_str()
    .unwrap_or_default()
    .to_owned();
    tab_to(client, "allowed-hosts").await?;
    clear_focused(client).await?;
    type_text(client, "10.99.0.0/24").await?;
    tab_to(client, "plan-check").await?;
    press(client, char::from(Key::Enter)).await?;
    wait_until(
        client,
        "the refusal",
        "document.querySelector('[data-testid=\"lockout-refused\"]')",
    )
    .await?;
    seen.refused = common::text_of(client, "lockout-refused").await?;
    seen.screenshots
        .push(screenshot(client, shots, "05-services-refused").await?);
    // Back to the pre-filled list: Shift+Tab to the field, retype it.
    tab_to(client, "allowed-hosts").await?;
    clear_focused(client).await?;
    type_text(client, &seen.prefilled_hosts.clone()).await?;
    tab_to(client, "plan-check").await?;
    press(client, char::from(Key::Enter)).await?;
    wait_until(
        client,
        "the plan to pass",
        "document.querySelector('[data-testid=\"plan-ok\"]')",
    )
    .await?;
    seen.plan_ok = common::text_of(client, "plan-ok").await?;
    seen.screenshots
        .push(screenshot(client, shots, "06-services").await?);
    tab_to(client, "services-next").await?;
    press(client, char::from(Key::Enter)).await?;

    // 5. Review: the dry-run diff per camera.
    wait_until_within(
        client,
        "the dry run",
        &format!(
            "document.querySelectorAll('[data-testid=\"diff-camera\"]').length === {DEMO_CAMERAS}"
        ),
        long,
    )
    .await?;
    seen.diff_cameras = count(client, &by_test_id("diff-camera")).await?;
    seen.diff_counts = texts(client, &by_test_id("diff-counts")).await?;
    seen.diff_first_admins = texts(client, &by_test_id("diff-first-admin")).await?;
    seen.diff_host_rows = texts(
        client,
        "[data-testid=\"diff-row\"][data-control=\"host-restriction\"]",
    )
    .await?;
    seen.screenshots
        .push(screenshot(client, shots, "07-review").await?);
    tab_to(client, "apply").await?;
    press(client, char::from(Key::Enter)).await?;

    // 6. Apply, stopped half-way (the simulated cameras answer 60 ms late, so the run lasts
    // seconds): each camera ends its current control and stops; the step says so and offers to
    // resume.
    wait_until(
        client,
        "the Stop button",
        "document.querySelector('[data-testid=\"apply-stop\"]')",
    )
    .await?;
    tab_to(client, "apply-stop").await?;
    press(client, char::from(Key::Enter)).await?;
    wait_until_within(
        client,
        "the run to stop",
        "document.querySelector('[data-testid=\"apply-resume\"]')",
        long,
    )
    .await?;
    seen.stopped_title = eval(
        client,
        "return document.querySelector('#wizard-title').textContent.trim();",
    )
    .await?
    .as_str()
    .unwrap_or_default()
    .to_owned();
    seen.stopped_resume = common::text_of(client, "apply-resume").await?;
    seen.stopped_steps = texts(
        client,
        "[data-testid=\"progress-step\"][data-outcome=\"stopped\"]",
    )
    .await?;
    seen.screenshots
        .push(screenshot(client, shots, "08-stopped").await?);

    // Resumed: the same run again finishes what the stop left, until every camera is done.
    tab_to(client, "apply-resume").await?;
    press(client, char::from(Key::Enter)).await?;
    wait_until_within(
        client,
        "the resumed run to finish",
        "document.querySelector('#wizard-title')?.textContent.trim() === 'Applied' && document.querySelector('[data-testid=\"apply-next\"]')",
        long,
    )
    .await?;
    seen.apply_status = common::text_of(client, "apply-status").await?;
    seen.progress_states = eval(client, "return [...document.querySelectorAll('[data-testid=\"progress-camera\"]')].map(e => e.dataset.state);")
        .await?
        .as_array()
        .map(|s| s.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    seen.progress_steps = count(client, &by_test_id("progress-step")).await?;
    seen.applied_steps = count(
        client,
        "[data-testid=\"progress-step\"][data-outcome=\"applied\"]",
    )
    .await?;
    seen.screenshots
        .push(screenshot(client, shots, "09-applied").await?);
    tab_to(client, "apply-next").await?;
    press(client, char::from(Key::Enter)).await?;

    // 7. Manual steps: the guided first administrator of one camera, done by "the person".
    wait_until(
        client,
        "the manual steps",
        "document.querySelector('[data-testid=\"guided-task\"]')",
    )
    .await?;
    seen.guided_tasks = count(client, &by_test_id("guided-task")).await?;
    seen.guided_first_admins = count(
        client,
        "[data-testid=\"guided-task\"][data-control=\"first-admin\"]",
    )
    .await?;
    seen.screenshots
        .push(screenshot(client, shots, "10-manual-steps").await?);
    if seen.guided_first_admins > 0 {
        tab_to(client, "guided-reveal").await?;
        press(client, char::from(Key::Enter)).await?;
        wait_until(
            client,
            "the revealed password",
            "document.querySelector('[data-testid=\"guided-password\"]')",
        )
        .await?;
        let password = common::text_of(client, "guided-password").await?;
        let camera = eval(client, "return document.querySelector('[data-testid=\"guided-task\"][data-control=\"first-admin\"]').dataset.camera;")
            .await?
            .as_str()
            .unwrap_or_default()
            .to_owned();
        seen.guided_camera = camera.clone();
        let status = fill_first_access(&camera, &password)?;
        if status != 200 && status != 303 && status != 302 {
            return Err(format!("the first-access page answered {status}"));
        }
        tab_to(client, "guided-verify").await?;
        press(client, char::from(Key::Enter)).await?;
        wait_until(client, "the verification", "document.querySelector('[data-testid=\"guided-verdict\"], [data-testid=\"guided-error\"]')").await?;
        seen.verify_verdict = texts(
            client,
            "[data-testid=\"guided-verdict\"], [data-testid=\"guided-error\"]",
        )
        .await?
        .join(" | ");
        seen.screenshots
            .push(screenshot(client, shots, "11-manual-verified").await?);
    }
    tab_to(client, "guided-next").await?;
    press(client, char::from(Key::Enter)).await?;

    // 8. Report: saved as HTML where the test says.
    wait_until(client, "the report screen", "document.querySelector('[data-testid=\"report-path\"]') && document.querySelector('[data-testid=\"report-path\"]').value !== ''").await?;
    tab_to(client, "report-path").await?;
    clear_focused(client).await?;
    type_text(client, &report.display().to_string()).await?;
    tab_to(client, "report-save").await?;
    press(client, char::from(Key::Enter)).await?;
    wait_until(
        client,
        "the report to be saved",
        "document.querySelector('[data-testid=\"report-saved\"], [data-testid=\"report-error\"]')",
    )
    .await?;
    seen.report_saved = texts(
        client,
        "[data-testid=\"report-saved\"], [data-testid=\"report-error\"]",
    )
    .await?
    .join(" | ");
    seen.screenshots
        .push(screenshot(client, shots, "12-report").await?);

    // The cameras' state, through the shell: a follow-up audit of every selected camera.
    seen.follow_up = client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             window.__TAURI_INTERNALS__.invoke('demo_cameras', {})
               .then((cams) => window.__TAURI_INTERNALS__.invoke('audit_cameras', { targets: cams.map(c => c.device_url), level: 'standard' }))
               .then((audits) => done(audits.map(a => ({ camera: a.camera, depth: a.depth, error: a.error && a.error.code, admin: a.scorecard && a.scorecard.findings.find(f => f.control === 'admin-password'), passes: a.scorecard ? a.scorecard.findings.filter(f => f.status === 'pass').map(f => f.control) : [], score: a.scorecard && a.scorecard.score }))))
               .catch((e) => done({ error: String(e && e.message || e) }));",
            Vec::new(),
        )
        .await
        .map_err(|error| format!("the follow-up audit: {error}"))?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_simulated_site_is_commissioned_and_reported_from_the_keyboard() {
    let Some(prerequisites) = prerequisites() else {
        return;
    };
    let shots = screenshot_dir("journey-commission-apply");
    let report = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/tmp/journey-commission-apply-report.html");
    let _ = std::fs::create_dir_all(report.parent().expect("a parent"));
    let _ = std::fs::remove_file(&report);
    let report = std::path::absolute(&report).unwrap_or(report);
    let started = Instant::now();
    let driver = TauriDriver::start(&prerequisites.tauri_driver);
    let client = common::open_app(
        &driver,
        &prerequisites.app,
        &["--demo", "--demo-latency-ms=60"],
    )
    .await;

    let mut seen = Seen::default();
    let walked = walk(&client, &shots, &report, &mut seen).await;
    if walked.is_err() {
        let _ = screenshot(&client, &shots, "failure").await;
    }
    let closed = client.close().await;
    drop(driver);
    walked.unwrap_or_else(|why| panic!("{why}; so far the screens showed {seen:#?}"));
    closed.expect("closing the WebDriver session");
    println!("journey took {:?}; {seen:#?}", started.elapsed());

    // Admin account: each failing rule with its reason; then accepted.
    for code in [
        "too_short",
        "no_upper_case",
        "contains_user_name",
        "guessable",
    ] {
        assert!(
            seen.weak_codes.iter().any(|c| c == code),
            "{code} among {:?}",
            seen.weak_codes
        );
    }
    assert!(
        seen.weak_reasons
            .iter()
            .any(|r| r == "too short: 6 characters, at least 10 are needed"),
        "{:?}",
        seen.weak_reasons
    );
    assert!(
        seen.strong_verdict.starts_with("Accepted"),
        "{}",
        seen.strong_verdict
    );

    // Certificates: the site CA, created on first use, issued one to each camera that takes its
    // administrator over an API; each passed every check, and its HTTPS port presents exactly the
    // certificate whose SHA-256 the screen shows. Canon and i-PRO wait for their person first.
    assert_eq!(seen.cert_route, "site-ca");
    assert!(
        seen.site_ca_before.contains("will be created"),
        "{}",
        seen.site_ca_before
    );
    assert!(
        seen.site_ca_after.contains("SHA-256"),
        "{}",
        seen.site_ca_after
    );
    let certificates = seen.certificates.as_array().expect("certificate results");
    assert_eq!(certificates.len(), DEMO_CAMERAS, "{certificates:#?}");
    let proven: Vec<&serde_json::Value> = certificates
        .iter()
        .filter(|c| c["state"] == "proven")
        .collect();
    assert_eq!(proven.len(), DEMO_CAMERAS - 2, "{certificates:#?}");
    for camera in &proven {
        let sha = camera["sha256"].as_str().unwrap_or_default();
        assert!(
            sha.len() == 64 && sha.chars().all(|c| c.is_ascii_hexdigit()),
            "{camera:#?}"
        );
        assert!(camera["not_after"].as_str().is_some(), "{camera:#?}");
        let checks: Vec<&str> = camera["checks"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c.as_str())
            .collect();
        assert_eq!(
            checks,
            [
                "names:pass",
                "key:pass",
                "validity:pass",
                "chain:pass",
                "served:pass"
            ],
            "{camera:#?}"
        );
        let presented = seen
            .presented
            .iter()
            .find(|(url, _)| camera["camera"] == url.as_str())
            .map(|(_, sha)| sha.as_str());
        assert_eq!(
            presented,
            Some(sha),
            "the handshake's certificate is the one shown: {camera:#?}"
        );
    }
    assert!(
        certificates
            .iter()
            .filter(|c| c["state"] != "proven")
            .all(|c| c["error"] == "admin_needs_person"),
        "{certificates:#?}"
    );
    assert!(
        seen.cert_summary.starts_with(&format!(
            "{} of {DEMO_CAMERAS} cameras present a proven certificate",
            DEMO_CAMERAS - 2
        )),
        "{}",
        seen.cert_summary
    );

    // Time: the check says honestly that nothing answers on loopback's NTP port.
    assert_eq!(seen.ntp_results.len(), 1);
    assert!(
        seen.ntp_results[0].starts_with("127.0.0.1:"),
        "{:?}",
        seen.ntp_results
    );

    // Services: pre-filled with this computer's subnet, the guard explained and enforced.
    assert_eq!(seen.prefilled_hosts, "127.0.0.0/24");
    assert!(
        seen.lockout_explained.contains("127.0.0.1"),
        "{}",
        seen.lockout_explained
    );
    assert!(
        seen.refused
            .contains("leaves out this computer's own address 127.0.0.1"),
        "{}",
        seen.refused
    );
    assert!(
        seen.plan_ok.contains("keeps this computer in"),
        "{}",
        seen.plan_ok
    );

    // Review: a diff per camera; the two guided cameras create their administrator first (the
    // others got theirs with their certificate).
    assert_eq!(seen.diff_cameras, DEMO_CAMERAS);
    assert_eq!(
        seen.diff_first_admins.len(),
        2,
        "{:?}",
        seen.diff_first_admins
    );
    assert!(
        seen.diff_host_rows
            .iter()
            .all(|row| row.contains("allow only 127.0.0.0/24")),
        "{:?}",
        seen.diff_host_rows
    );

    // Stopped half-way: said so, with a Resume, and controls left for it, each saying why.
    assert_eq!(seen.stopped_title, "Stopped", "{seen:#?}");
    assert_eq!(seen.stopped_resume, "Resume", "{seen:#?}");
    assert!(!seen.stopped_steps.is_empty(), "{seen:#?}");
    assert!(
        seen.stopped_steps
            .iter()
            .all(|step| step.contains("Not started") && step.contains("run it again to resume")),
        "{:?}",
        seen.stopped_steps
    );

    // Resumed: every camera finished, controls applied.
    assert_eq!(
        seen.apply_status,
        format!("{DEMO_CAMERAS} of {DEMO_CAMERAS} cameras finished")
    );
    assert_eq!(
        seen.progress_states,
        vec!["done"; DEMO_CAMERAS],
        "{seen:#?}"
    );
    assert!(seen.applied_steps > 0, "{seen:#?}");

    // Manual steps: Canon and i-PRO wait for a person; one was done and verified.
    assert_eq!(seen.guided_first_admins, 2, "{seen:#?}");
    assert!(
        seen.verify_verdict.starts_with("Verified"),
        "{}",
        seen.verify_verdict
    );

    // Report.
    assert!(
        seen.report_saved.starts_with("Saved the report of"),
        "{}",
        seen.report_saved
    );
    let html = std::fs::read_to_string(&report).expect("the saved report");
    assert!(
        html.contains("<html") || html.contains("<!DOCTYPE"),
        "an HTML page"
    );
    seen.report_html = html.len();

    // The cameras' state: the follow-up audit logs in with the administrator Camward created on
    // four of five (the other guided camera still waits for its person); the host restriction
    // it applied passes there; and the one typed password is, honestly, not unique.
    let audits = seen
        .follow_up
        .as_array()
        .unwrap_or_else(|| panic!("{:?}", seen.follow_up));
    let logged_in: Vec<&serde_json::Value> = audits
        .iter()
        .filter(|a| a["depth"] == "logged_in")
        .collect();
    assert_eq!(logged_in.len(), DEMO_CAMERAS - 1, "{audits:#?}");
    assert!(
        logged_in
            .iter()
            .any(|a| a["camera"] == seen.guided_camera.as_str()),
        "the guided camera's administrator, verified: {audits:#?}"
    );
    for audit in logged_in
        .iter()
        .filter(|a| a["camera"] != seen.guided_camera.as_str())
    {
        let passes = audit["passes"].as_array().expect("passes");
        assert!(passes.iter().any(|p| p == "host-restriction"), "{audit:#?}");
        // Each camera given a proven certificate is now reached over HTTPS only.
        if seen
            .presented
            .iter()
            .any(|(url, _)| audit["camera"] == url.as_str())
        {
            assert!(passes.iter().any(|p| p == "https-only"), "{audit:#?}");
        }
        assert_eq!(audit["admin"]["status"], "fail", "{audit:#?}");
        assert!(
            audit["admin"]["evidence"]
                .as_str()
                .is_some_and(|e| e.contains("same password")),
            "{audit:#?}"
        );
    }
    let waiting: Vec<&serde_json::Value> = audits
        .iter()
        .filter(|a| a["depth"] != "logged_in")
        .collect();
    assert_eq!(waiting.len(), 1, "{audits:#?}");
    assert!(
        started.elapsed() < Duration::from_secs(120),
        "took {:?}",
        started.elapsed()
    );
}
