//! End to end, the Certificates step's other two routes, in the real debug binary with `--demo`,
//! from the keyboard: (2) the site's own CA — each camera makes its key and request, the requests
//! are exported to a folder, this test plays the site's CA (openssl, under file names of its own
//! choosing) and the issued certificates are imported back, matched by key — and (3) a
//! certificate with its key made elsewhere (openssl, PEM) installed on one camera. Each camera the
//! screen shows as proven must present, to a TLS handshake from this test, exactly the certificate
//! whose SHA-256 the screen shows; for route (3) that is the certificate openssl made. Screenshots
//! go to `artifacts/screenshots/journey-certificates/`.
//!
//! The demo cameras listen on 127.0.0.1 ports; nothing here multicasts. Prerequisites and skipping
//! rules are those of `probe.rs` (see `common`); openssl comes with `scripts/test.sh`'s packages.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::wizard::{
    audit_demo_site_and_commission, certificate_rows, presented_fingerprints, presented_sha256,
    simulated_cameras,
};
use common::{
    by_test_id, count, eval, prerequisites, press, screenshot, screenshot_dir, tab_to, texts,
    type_text, wait_until, wait_until_within, TauriDriver,
};
use fantoccini::key::Key;
use fantoccini::Client;

const DEMO_CAMERAS: usize = 5;
/// Cameras of the demo that take their first administrator over an API (ONVIF, Axis, Hikvision);
/// Canon and i-PRO wait for a person, so they make no key yet.
const WITH_ADMIN: usize = 3;

/// Runs openssl in `dir`; its arguments hold file names only, never a secret.
fn openssl(dir: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .map_err(|e| format!("running openssl: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The site's CA, played by openssl: a P-256 CA certificate and key in `dir`.
fn site_ca(dir: &Path) -> Result<(), String> {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "30",
            "-subj",
            "/CN=Harbour Site CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    )?;
    std::fs::write(
        dir.join("leaf.ext"),
        "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n",
    )
    .map_err(|e| e.to_string())
}

/// The CA signs `csr` (copying the names the camera asked for) into `out`.
fn issue(dir: &Path, csr: &Path, out: &Path) -> Result<(), String> {
    let (csr, out) = (csr.to_string_lossy(), out.to_string_lossy());
    openssl(dir, &["req", "-verify", "-noout", "-in", &csr])?;
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "20",
            "-copy_extensions",
            "copyall",
            "-extfile",
            "leaf.ext",
            "-out",
            &out,
        ],
    )
    .map(drop)
}

/// A certificate and key made elsewhere for a camera reached at 127.0.0.1 (RSA 2048, signed by
/// the same CA); returns the certificate's SHA-256 in lower-case hex.
fn made_elsewhere(dir: &Path) -> Result<String, String> {
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "elsewhere.key",
            "-subj",
            "/CN=camera made elsewhere",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-out",
            "elsewhere.csr",
        ],
    )?;
    issue(dir, &dir.join("elsewhere.csr"), &dir.join("elsewhere.pem"))?;
    let fingerprint = openssl(
        dir,
        &[
            "x509",
            "-in",
            "elsewhere.pem",
            "-noout",
            "-fingerprint",
            "-sha256",
        ],
    )?;
    Ok(normalised(
        fingerprint.rsplit('=').next().unwrap_or_default(),
    ))
}

/// A SHA-256 as lower-case hex without separators.
fn normalised(sha256: &str) -> String {
    sha256
        .chars()
        .filter(char::is_ascii_hexdigit)
        .collect::<String>()
        .to_ascii_lowercase()
}

#[derive(Debug, Default)]
struct Seen {
    csr_files: Vec<String>,
    csr_errors: usize,
    exported: Vec<PathBuf>,
    issued_dir: String,
    csr_rows: serde_json::Value,
    csr_summary: String,
    csr_presented: Vec<(String, String)>,
    key_camera: String,
    key_rows: serde_json::Value,
    key_presented: String,
    made_sha256: String,
    screenshots: Vec<PathBuf>,
}

async fn walk(client: &Client, work: &Path, shots: &Path, seen: &mut Seen) -> Result<(), String> {
    let long = Duration::from_secs(90);
    audit_demo_site_and_commission(client, DEMO_CAMERAS).await?;
    // Admin account: generated passwords (the default). Time: one server.
    tab_to(client, "admin-next").await?;
    press(client, char::from(Key::Enter)).await?;
    wait_until(
        client,
        "the time screen",
        "document.querySelector('[data-testid=\"ntp-servers\"]')",
    )
    .await?;
    tab_to(client, "ntp-servers").await?;
    type_text(client, "127.0.0.1").await?;
    tab_to(client, "time-next").await?;
    press(client, char::from(Key::Enter)).await?;

    // Route (2): the site's own CA. Arrow from the pre-chosen site CA to it.
    wait_until(
        client,
        "the certificates screen",
        "document.querySelector('[data-testid=\"cert-route-site-ca\"]')",
    )
    .await?;
    tab_to(client, "cert-route-site-ca").await?;
    press(client, char::from(Key::Down)).await?;
    wait_until(
        client,
        "the CSR route",
        "document.querySelector('[data-testid=\"csr-dir\"]')",
    )
    .await?;
    let requests = work.join("requests");
    tab_to(client, "csr-dir").await?;
    type_text(client, &requests.to_string_lossy()).await?;
    tab_to(client, "csr-export").await?;
    press(client, char::from(Key::Enter)).await?;
    wait_until_within(
        client,
        "the requests to be exported",
        &format!(
            "document.querySelectorAll('[data-testid=\"csr-file\"]').length === {WITH_ADMIN} && !document.querySelector('[data-testid=\"csr-progress\"]')"
        ),
        long,
    )
    .await?;
    seen.csr_files = texts(client, &by_test_id("csr-file")).await?;
    seen.csr_errors = count(client, &by_test_id("csr-error")).await?;
    seen.screenshots
        .push(screenshot(client, shots, "01-requests-exported").await?);

    // The site's CA issues each request, under names of its own, into the requests' folder (next
    // to its manifest, which says which camera asked for which key).
    site_ca(work)?;
    let issued = requests.clone();
    seen.exported = std::fs::read_dir(&requests)
        .map_err(|e| format!("reading {requests:?}: {e}"))?
        .filter_map(|entry| Some(entry.ok()?.path()))
        .filter(|path| path.to_string_lossy().ends_with(".csr.pem"))
        .collect();
    seen.exported.sort();
    for (i, csr) in seen.exported.iter().enumerate() {
        issue(work, csr, &issued.join(format!("harbour-{i}.crt")))?;
    }

    // Imported back: the folder (pre-filled with the requests' one) and the CA's certificate.
    seen.issued_dir = eval(
        client,
        "return document.querySelector('[data-testid=\"issued-dir\"]').value;",
    )
    .await?
    .as_str()
    .unwrap_or_default()
    .to_owned();
    tab_to(client, "ca-file").await?;
    type_text(client, &work.join("ca.pem").to_string_lossy()).await?;
    tab_to(client, "issued-import").await?;
    press(client, char::from(Key::Enter)).await?;
    wait_until_within(
        client,
        "a result for every issued certificate",
        &format!(
            "document.querySelectorAll('[data-testid=\"cert-camera\"]').length === {WITH_ADMIN}"
        ),
        long,
    )
    .await?;
    seen.csr_rows = certificate_rows(client).await?;
    seen.csr_summary = common::text_of(client, "cert-summary").await?;
    seen.screenshots
        .push(screenshot(client, shots, "02-issued-imported").await?);
    let simulated = simulated_cameras(client).await?;
    seen.csr_presented = presented_fingerprints(&seen.csr_rows, &simulated).await?;

    // Route (3): a certificate with its key, made elsewhere, onto one camera (the first one the
    // camera list offers), as PEM files.
    seen.made_sha256 = made_elsewhere(work)?;
    shift_to_route(client, "cert-route-import").await?;
    wait_until(
        client,
        "the certificate-with-key route",
        "document.querySelector('[data-testid=\"key-camera\"]')",
    )
    .await?;
    seen.key_camera = eval(
        client,
        "return document.querySelector('[data-testid=\"key-camera\"]').value;",
    )
    .await?
    .as_str()
    .unwrap_or_default()
    .to_owned();
    tab_to(client, "key-pkcs12").await?;
    press(client, char::from(Key::Down)).await?;
    wait_until(
        client,
        "the PEM fields",
        "document.querySelector('[data-testid=\"pem-certificate\"]')",
    )
    .await?;
    tab_to(client, "pem-certificate").await?;
    type_text(client, &work.join("elsewhere.pem").to_string_lossy()).await?;
    tab_to(client, "pem-key").await?;
    type_text(client, &work.join("elsewhere.key").to_string_lossy()).await?;
    tab_to(client, "key-ca-file").await?;
    type_text(client, &work.join("ca.pem").to_string_lossy()).await?;
    tab_to(client, "key-import").await?;
    press(client, char::from(Key::Enter)).await?;
    wait_until_within(
        client,
        "the certificate with its key to be installed",
        &format!(
            "[...document.querySelectorAll('[data-testid=\"cert-camera\"]')].some(e => e.dataset.camera === '{}' && e.querySelector('[data-testid=\"cert-sha256\"]') && e.querySelector('[data-testid=\"cert-sha256\"]').textContent.replace(/[^0-9a-fA-F]/g, '').toLowerCase() === '{}')",
            seen.key_camera, seen.made_sha256
        ),
        long,
    )
    .await?;
    seen.key_rows = certificate_rows(client).await?;
    seen.screenshots
        .push(screenshot(client, shots, "03-key-installed").await?);
    let simulated = simulated_cameras(client).await?;
    seen.key_presented = normalised(&presented_sha256(&seen.key_camera, &simulated).await?);
    Ok(())
}

/// Moves the route choice to `route` with the arrow keys, from wherever the route group is.
async fn shift_to_route(client: &Client, route: &str) -> Result<(), String> {
    common::shift_tab_to(client, "cert-route-csr-export").await?;
    press(client, char::from(Key::Down)).await?;
    wait_until(
        client,
        &format!("{route} to be chosen"),
        &format!("document.querySelector('[data-testid=\"{route}\"]').checked"),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csrs_go_to_the_sites_ca_and_back_and_a_certificate_with_its_key_is_installed() {
    let Some(prerequisites) = prerequisites() else {
        return;
    };
    let shots = screenshot_dir("journey-certificates");
    let work = std::path::absolute(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../target/tmp")
            .join(format!("journey-certificates-{}", std::process::id())),
    )
    .expect("an absolute work folder");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).expect("the work folder");

    let driver = TauriDriver::start(&prerequisites.tauri_driver);
    let client = common::open_app(&driver, &prerequisites.app, &["--demo"]).await;
    let mut seen = Seen::default();
    let walked = walk(&client, &work, &shots, &mut seen).await;
    if walked.is_err() {
        let _ = screenshot(&client, &shots, "failure").await;
        if let Ok(page) = eval(&client, "return document.body.innerText;").await {
            eprintln!("the page said:\n{}", page.as_str().unwrap_or_default());
        }
    }
    let closed = client.close().await;
    drop(driver);
    walked.unwrap_or_else(|why| panic!("{why}; so far the screens showed {seen:#?}"));
    closed.expect("closing the WebDriver session");
    println!("{seen:#?}");

    // Route (2): one request per camera with an administrator; the two guided cameras say why not.
    assert_eq!(seen.csr_files.len(), WITH_ADMIN, "{seen:#?}");
    assert_eq!(seen.exported.len(), WITH_ADMIN, "{seen:#?}");
    assert_eq!(seen.csr_errors, DEMO_CAMERAS - WITH_ADMIN, "{seen:#?}");
    // The issued certificates' folder is pre-filled with the requests' one.
    assert_eq!(
        Path::new(&seen.issued_dir),
        work.join("requests").as_path(),
        "{seen:#?}"
    );
    // Every issued certificate matched back and proven, each check passed, and the camera
    // presents exactly what the screen shows.
    let rows = seen.csr_rows.as_array().expect("certificate rows");
    assert_eq!(rows.len(), WITH_ADMIN);
    for row in rows {
        assert_eq!(row["state"], "proven", "{row:#}");
        assert!(
            row["checks"].as_array().is_some_and(|c| !c.is_empty()
                && c.iter()
                    .all(|c| c.as_str().is_some_and(|c| c.ends_with(":pass")))),
            "{row:#}"
        );
    }
    assert_eq!(seen.csr_presented.len(), WITH_ADMIN);
    for (camera, presented) in &seen.csr_presented {
        let shown = rows
            .iter()
            .find(|r| r["camera"] == camera.as_str())
            .and_then(|r| r["sha256"].as_str())
            .unwrap_or_default();
        assert_eq!(normalised(shown), normalised(presented), "{camera}");
    }
    assert!(
        seen.csr_summary.contains(&format!("{WITH_ADMIN}")),
        "{}",
        seen.csr_summary
    );

    // Route (3): the camera serves the certificate made elsewhere.
    assert!(!seen.key_camera.is_empty());
    assert_eq!(seen.key_presented, seen.made_sha256, "{seen:#?}");
    let key_row = seen
        .key_rows
        .as_array()
        .and_then(|rows| {
            rows.iter()
                .find(|r| r["camera"] == seen.key_camera.as_str())
        })
        .expect("the camera's row");
    assert_eq!(key_row["state"], "proven", "{key_row:#}");
    assert_eq!(seen.screenshots.len(), 3);
    let _ = std::fs::remove_dir_all(&work);
}
