//! `camward report` end to end: a mixed camsim fleet on 127.0.0.1 is commissioned with the real
//! keychain and a private SQLite file, a person then changes a camera on its settings page and an
//! audit sees it, and the report is written as JSON, HTML and PDF (printed by headless
//! Chromium). The PDF is read back with `pdftotext` / `pdfinfo` as a person's PDF reader would,
//! and a screenshot of the HTML is kept in `target/screenshots/` for people to look at.
#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use camsim::{Flavour, Fleet, FleetConfig, InitialState};
use common::{runtime, text, TestVault, FACTORY_ADMIN_PASSWORD};
use serde_json::Value;

fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false")
}

/// `name` on PATH, or `None` after saying why the check is skipped (a failure in CI).
fn tool(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            !in_ci(),
            "{name} is missing: scripts/test.sh installs it (CAMWARD_APT_PACKAGES)"
        );
        eprintln!("SKIPPED part of this test: {name} is not installed (apt install chromium poppler-utils)");
    }
    found
}

/// Where screenshots go: `target/screenshots/` next to the test binary's profile directory.
fn screenshot_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let target = exe.ancestors().nth(3).unwrap().to_owned();
    let dir = target.join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn plan(dir: &Path) -> String {
    let path = dir.join("site.toml");
    std::fs::write(
        &path,
        "site = \"Harbour Gate\"\nlevel = \"standard\"\n\n[time]\nntp = [\"127.0.0.1\"]\nmax_skew_s = 5\n\n[access]\nallowed_hosts = [\"127.0.0.0/8\"]\n\n[services]\nkeep = [\"https\", \"rtsp\"]\n\n[certificates]\npolicy = \"site-ca\"\n\n[controls]\nskip = [\"ports-changed\"]\n",
    )
    .unwrap();
    path.display().to_string()
}

#[test]
fn report_shows_before_after_changes_and_person_tasks_in_json_html_and_pdf() {
    let Some(vault) = TestVault::new_or_skip("report") else {
        return;
    };
    let rt = runtime();
    let fleet = rt
        .block_on(Fleet::start(FleetConfig {
            cameras: 5,
            flavour: Flavour::Mix,
            state: InitialState::Configured,
            admin: Some(("admin".into(), FACTORY_ADMIN_PASSWORD.into())),
            ..FleetConfig::default()
        }))
        .unwrap();
    let urls: Vec<String> = fleet.cameras().iter().map(|c| c.device_url()).collect();
    for url in &urls {
        vault.set_password(url, "admin", FACTORY_ADMIN_PASSWORD);
    }
    let dir = tempfile::tempdir().unwrap();
    let plan = plan(dir.path());

    // Nothing kept yet: a clear error, not an empty report.
    let empty = dir.path().join("empty.json");
    let out = vault.run(
        &[
            "report",
            "--site",
            "Harbour Gate",
            "--format",
            "json",
            "--out",
            empty.to_str().unwrap(),
        ],
        None,
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("nothing was audited or commissioned"),
        "{}",
        text(&out.stderr)
    );

    let mut args = vec!["commission", "--plan", plan.as_str(), "--json"];
    args.extend(urls.iter().map(String::as_str));
    let out = vault.run(&args, None);
    assert_eq!(
        text(&out.stdout).lines().count(),
        5,
        "{}",
        text(&out.stderr)
    );

    // The person turns the i-PRO camera's FTP server, SNMP v2c and UPnP off on its page; an
    // audit afterwards is the newest proof, and the report must show it as "after".
    let ipro = fleet
        .cameras()
        .iter()
        .find(|c| c.info().flavour == "i-pro")
        .unwrap()
        .device_url();
    let password = vault.current(&ipro, "admin").unwrap();
    rt.block_on(async {
        let http = camward_vendors::VendorHttp::new(&ipro)
            .unwrap()
            .login(camward_onvif::Credentials::new("admin", &password));
        let r = http
            .send_authenticated(
                "POST",
                "/admin/settings",
                Some("application/x-www-form-urlencoded"),
                b"ftp_server=off&snmp_v2c=off&upnp=off".to_vec(),
            )
            .await
            .unwrap();
        assert!(r.status < 300, "settings page: {}", r.status);
    });
    let out = vault.run(&["audit", "--plan", &plan, "--json", &ipro], None);
    assert!(out.status.success(), "{}", text(&out.stderr));

    // JSON.
    let json_path = dir.path().join("report.json");
    let out = vault.run(
        &[
            "report",
            "--site",
            "Harbour Gate",
            "--format",
            "json",
            "--out",
            json_path.to_str().unwrap(),
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("5 cameras"),
        "{}",
        text(&out.stdout)
    );
    let json_text = std::fs::read_to_string(&json_path).unwrap();
    let report: Value = serde_json::from_str(&json_text).unwrap();
    assert_eq!(report["site"], "Harbour Gate");
    assert_eq!(report["summary"]["cameras"], 5);
    assert_eq!(report["summary"]["commissioned"], 5);
    assert_eq!(
        report["audit_trail"]["state"], "intact",
        "{:#}",
        report["audit_trail"]
    );
    let cameras = report["cameras"].as_array().unwrap();
    assert_eq!(cameras.len(), 5);
    for camera in cameras {
        let before = camera["before"]["score"].as_u64().unwrap();
        let after = camera["after"]["score"].as_u64().unwrap();
        assert!(after > before, "commissioning raised the score: {camera:#}");
        let changes = camera["changes"].as_array().unwrap();
        assert!(
            changes.iter().any(|c| c["control"] == "host-restriction"
                && c["outcome"]["outcome"] == "applied"),
            "the host filter was applied and is listed: {changes:#?}"
        );
        assert!(
            changes
                .iter()
                .any(|c| c["control"] == "https-only" && c["outcome"]["outcome"] == "refused"),
            "the HTTP-off guard is listed: {changes:#?}"
        );
        let tasks = camera["needs_person"].as_array().unwrap();
        assert!(
            tasks.iter().any(|t| t["control"] == "sd-card-lock"),
            "a setting only the camera's page shows is left for a person: {tasks:#?}"
        );
        assert!(!camera["trail"].as_array().unwrap().is_empty());
    }
    let ipro_page = cameras.iter().find(|c| c["url"] == ipro.as_str()).unwrap();
    let commissioned_at = ipro_page["before"]["at"].as_str().unwrap();
    let after_at = ipro_page["after"]["at"].as_str().unwrap();
    assert!(
        after_at > commissioned_at,
        "the later audit is the newest proof ({after_at} vs {commissioned_at})"
    );

    // HTML.
    let html_path = dir.path().join("report.html");
    let out = vault.run(
        &[
            "report",
            "--format",
            "html",
            "--out",
            html_path.to_str().unwrap(),
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let html = std::fs::read_to_string(&html_path).unwrap();
    assert!(html.contains("Hardening report: every camera in the inventory"));
    assert!(html.contains("<svg"), "the picture of the site's scores");
    for cam in fleet.cameras() {
        assert!(html.contains(&cam.info().serial), "one page per camera");
    }

    // No secret in any of it.
    let mut secrets = vec![FACTORY_ADMIN_PASSWORD.to_owned()];
    secrets.extend(urls.iter().filter_map(|u| vault.current(u, "admin")));
    for secret in &secrets {
        assert!(!json_text.contains(secret.as_str()) && !html.contains(secret.as_str()));
    }

    // PDF, printed by headless Chromium, read back with poppler.
    let (Some(_), Some(pdftotext), Some(pdfinfo)) = (
        camward_core::hardening::report::find_browser().or_else(|| tool("chromium")),
        tool("pdftotext"),
        tool("pdfinfo"),
    ) else {
        return;
    };
    let pdf_path = dir.path().join("report.pdf");
    let out = vault.run(
        &[
            "report",
            "--site",
            "Harbour Gate",
            "--format",
            "pdf",
            "--out",
            pdf_path.to_str().unwrap(),
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let pdf = std::fs::read(&pdf_path).unwrap();
    assert!(pdf.starts_with(b"%PDF-"), "a PDF file");
    let info = Command::new(pdfinfo).arg(&pdf_path).output().unwrap();
    let pages: usize = text(&info.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(
        pages >= 6,
        "a summary page and one page (at least) per camera: {pages}"
    );
    let words = Command::new(pdftotext)
        .arg(&pdf_path)
        .arg("-")
        .output()
        .unwrap();
    let words = text(&words.stdout);
    assert!(words.contains("Hardening report: Harbour Gate"), "{words}");
    assert!(words.contains("Still needs a person"));
    for cam in fleet.cameras() {
        assert!(
            words.contains(&cam.info().serial),
            "{} in the PDF",
            cam.info().serial
        );
    }
    for secret in &secrets {
        assert!(!words.contains(secret.as_str()));
    }

    // A screenshot of the HTML as a person's browser shows it, kept for people to look at.
    let browser = camward_core::hardening::report::find_browser().unwrap();
    let png = screenshot_dir().join("report-summary.png");
    let _ = std::fs::remove_file(&png);
    let profile = tempfile::tempdir().unwrap();
    let shot = Command::new(browser)
        .args(camward_core::hardening::report::headless_args(
            profile.path(),
        ))
        .arg("--window-size=1280,1600")
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", html_path.display()))
        .output()
        .unwrap();
    assert!(shot.status.success(), "{}", text(&shot.stderr));
    let bytes = std::fs::read(&png).unwrap();
    assert!(
        bytes.starts_with(b"\x89PNG") && bytes.len() > 20_000,
        "a real picture"
    );
    eprintln!("report screenshot: {}", png.display());
}
