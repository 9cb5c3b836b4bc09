//! End to end: the real debug binary of the desktop app, driven over W3C WebDriver, probes a
//! simulated camera whose clock runs two hours ahead.
//!
//! Chain: this test → `tauri-driver` (WebDriver intermediary) → `WebKitWebDriver` (Debian
//! `webkit2gtk-driver`) → `target/debug/camward-desktop`, which embeds the built `ui/dist` (see
//! `src-tauri/src/main.rs`), so no dev server is involved. The window needs an X display;
//! `scripts/test.sh` starts Xvfb. With `CI` set, a missing prerequisite fails the test instead of
//! skipping it, so CI can never pass by not running it.

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;

/// The camera clock skew the simulated camera runs with, in seconds (two hours ahead).
const CLOCK_SKEW_S: i64 = 7200;

/// How long the app may take to show its first screen, and a probe to show its result.
const UI_TIMEOUT: Duration = Duration::from_secs(30);

/// What the test needs from the machine.
struct Prerequisites {
    tauri_driver: PathBuf,
    app: PathBuf,
}

/// Finds `name` in `PATH` (and in `~/.cargo/bin`, where `cargo install` puts tauri-driver).
fn find_program(name: &str) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect())
        .unwrap_or_default();
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(Path::new(&home).join(".cargo/bin"));
    }
    dirs.into_iter()
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// The desktop binary next to this test's own directory: `target/debug/deps/probe-*` →
/// `target/debug/camward-desktop`, whatever `CARGO_TARGET_DIR` is.
fn app_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("a running test knows its own path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test binaries live in target/<profile>/deps");
    profile_dir.join(format!("camward-desktop{}", std::env::consts::EXE_SUFFIX))
}

/// Returns what the test needs, or `None` (after saying why) when it should be skipped. Skipping
/// is only allowed outside CI; in CI a missing prerequisite is a failure.
fn prerequisites() -> Option<Prerequisites> {
    let in_ci = std::env::var_os("CI").is_some_and(|value| !value.is_empty() && value != "false");
    let mut missing = Vec::new();
    let tauri_driver = find_program("tauri-driver");
    if tauri_driver.is_none() {
        missing.push("tauri-driver (cargo install tauri-driver --locked)");
    }
    if find_program("WebKitWebDriver").is_none() {
        missing.push("WebKitWebDriver (apt-get install webkit2gtk-driver)");
    }
    if std::env::var_os("DISPLAY").is_none_or(|display| display.is_empty()) {
        missing.push("an X display in DISPLAY (scripts/test.sh starts Xvfb)");
    }
    if !missing.is_empty() {
        let why = missing.join(", ");
        assert!(
            !in_ci,
            "the desktop WebDriver test cannot run in CI: missing {why}"
        );
        eprintln!("SKIPPED desktop WebDriver test: missing {why}");
        return None;
    }
    let app = app_binary();
    assert!(
        app.is_file(),
        "{} is missing: build it first with `cargo build -p camward-desktop` (after `npm run build` in ui/)",
        app.display()
    );
    Some(Prerequisites {
        tauri_driver: tauri_driver?,
        app,
    })
}

/// A free TCP port on the loopback interface. The listener is dropped right away; the small race
/// with another process taking the port in between only costs a clear failure, not a wrong pass.
fn free_port() -> u16 {
    let listener =
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("binding port 0 on 127.0.0.1");
    listener
        .local_addr()
        .expect("a bound listener has an address")
        .port()
}

/// tauri-driver, stopped when dropped, also when the test panics. It forwards SIGTERM to the
/// native driver (tauri-driver `server.rs`), but the app the native driver started can outlive
/// it, so every process below tauri-driver is remembered first and killed afterwards.
struct TauriDriver {
    child: Child,
    port: u16,
}

impl TauriDriver {
    fn start(program: &Path) -> Self {
        let port = free_port();
        let native_port = free_port();
        let child = Command::new(program)
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native_port.to_string(),
            ])
            .stdout(Stdio::null())
            .spawn()
            .expect("starting tauri-driver");
        let driver = TauriDriver { child, port };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "tauri-driver did not listen on port {port} within 20 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        driver
    }
}

/// The parent process id of `pid`, from `/proc/<pid>/stat` (field 4, after the parenthesised
/// command name, which may itself contain spaces or parentheses).
fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(1)?.parse().ok()
}

/// Every live process whose ancestry leads to `root` (Linux `/proc`; empty elsewhere).
fn descendants_of(root: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let pids: Vec<u32> = entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    pids.into_iter()
        .filter(|&pid| {
            let mut current = pid;
            // Bounded walk: process trees are shallow, and a pid reused mid-walk cannot loop us.
            for _ in 0..64 {
                match parent_of(current) {
                    Some(parent) if parent == root => return true,
                    Some(parent) if parent > 1 => current = parent,
                    _ => return false,
                }
            }
            false
        })
        .collect()
}

fn signal(pid: u32, name: &str) {
    let _ = Command::new("kill")
        .args([&format!("-{name}"), &pid.to_string()])
        .stderr(Stdio::null())
        .status();
}

impl Drop for TauriDriver {
    fn drop(&mut self) {
        let below = descendants_of(self.child.id());
        signal(self.child.id(), "TERM");
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        for pid in below {
            signal(pid, "KILL");
        }
    }
}

/// What the screen showed after probing.
#[derive(Debug)]
struct OnScreen {
    model: String,
    firmware: String,
    clock: String,
    access: String,
    services: Vec<String>,
    service_table: String,
    heading: String,
}

/// The visible text of the element with `data-testid`, waiting for it to appear.
async fn text_of(client: &Client, test_id: &str) -> Result<String, String> {
    let selector = format!("[data-testid=\"{test_id}\"]");
    let element = client
        .wait()
        .at_most(UI_TIMEOUT)
        .for_element(Locator::Css(&selector))
        .await
        .map_err(|error| format!("no element {selector} on screen: {error}"))?;
    element
        .text()
        .await
        .map_err(|error| format!("reading {selector}: {error}"))
}

/// Types `device_url` into the first screen, presses Enter, saves a screenshot and reads what the
/// screen then shows. Errors are returned, not panicked, so the caller can always end the session.
async fn probe_on_screen(client: &Client, device_url: &str) -> Result<OnScreen, String> {
    let input = client
        .wait()
        .at_most(UI_TIMEOUT)
        .for_element(Locator::Css("#camera-address"))
        .await
        .map_err(|error| format!("the first screen shows no camera address field: {error}"))?;
    let label = client
        .find(Locator::Css("label[for=\"camera-address\"]"))
        .await
        .map_err(|error| format!("the address field has no label: {error}"))?;
    let label = label
        .text()
        .await
        .map_err(|error| format!("reading the label: {error}"))?;
    if label != "Camera address" {
        return Err(format!("the address field is labelled {label:?}"));
    }
    // Enter, not a click: the form must submit from the keyboard.
    input
        .send_keys(&format!("{device_url}{}", char::from(Key::Enter)))
        .await
        .map_err(|error| format!("typing the camera address: {error}"))?;

    let outcome = client
        .wait()
        .at_most(UI_TIMEOUT)
        .for_element(Locator::Css(
            "[data-testid=\"probe-result\"], [data-testid=\"probe-error\"]",
        ))
        .await;

    // The screenshot comes before any check so a failure leaves a picture of why.
    let screenshot = client
        .screenshot()
        .await
        .map_err(|error| format!("taking a screenshot: {error}"))?;
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../artifacts/screenshots");
    std::fs::create_dir_all(&shots).map_err(|error| format!("creating {shots:?}: {error}"))?;
    std::fs::write(shots.join("probe.png"), screenshot)
        .map_err(|error| format!("saving probe.png: {error}"))?;

    let outcome = outcome.map_err(|error| format!("no probe result or error shown: {error}"))?;
    if outcome.attr("data-testid").await.ok().flatten().as_deref() == Some("probe-error") {
        let shown = outcome.text().await.unwrap_or_default();
        return Err(format!("probing {device_url} showed an error: {shown}"));
    }
    Ok(OnScreen {
        model: text_of(client, "field-model").await?,
        firmware: text_of(client, "field-firmware").await?,
        clock: text_of(client, "clock-offset").await?,
        access: text_of(client, "anonymous-access").await?,
        services: {
            let mut names = Vec::new();
            let cells = client
                .find_all(Locator::Css(
                    "[data-testid=\"services\"] tbody tr td:first-child",
                ))
                .await
                .map_err(|error| format!("no services table: {error}"))?;
            for cell in cells {
                names.push(
                    cell.text()
                        .await
                        .map_err(|e| format!("reading a service: {e}"))?,
                );
            }
            names
        },
        service_table: text_of(client, "services").await?,
        heading: client
            .find(Locator::Css("#add-title"))
            .await
            .map_err(|error| format!("no first-screen heading: {error}"))?
            .text()
            .await
            .map_err(|error| format!("reading the heading: {error}"))?,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probing_a_skewed_camera_shows_model_firmware_and_clock_offset() {
    let Some(prerequisites) = prerequisites() else {
        return;
    };

    let fleet = camsim::Fleet::start(camsim::FleetConfig {
        cameras: 1,
        clock_skew_s: CLOCK_SKEW_S,
        ..Default::default()
    })
    .await
    .expect("starting a simulated camera on 127.0.0.1");
    let camera = fleet
        .cameras()
        .first()
        .expect("the fleet has the one camera asked for")
        .info();

    let driver = TauriDriver::start(&prerequisites.tauri_driver);
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "tauri:options".into(),
        serde_json::json!({ "application": prerequisites.app }),
    );
    capabilities.insert("browserName".into(), "wry".into());
    let client = ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("opening a WebDriver session on the desktop app");

    let seen = probe_on_screen(&client, &camera.device_url).await;

    // Ending the session closes the app window; then tauri-driver and the camera go.
    let closed = client.close().await;
    drop(driver);
    fleet.shutdown().await;

    let seen = seen.unwrap_or_else(|why| panic!("{why}"));
    closed.expect("closing the WebDriver session");
    assert_eq!(seen.model, camera.model, "model on screen");
    assert_eq!(seen.firmware, camera.firmware, "firmware on screen");
    assert_eq!(
        seen.clock, "Camera clock is 2 h 0 min ahead",
        "clock offset on screen"
    );
    assert_eq!(seen.heading, "Add a camera by address", "first screen");
    for service in ["device", "media2", "advanced security"] {
        assert!(
            seen.services.iter().any(|name| name == service),
            "service {service} listed on screen: {:?}",
            seen.services
        );
    }
    assert!(
        seen.service_table.contains(&camera.device_url),
        "the device service address is shown: {:?}",
        seen.service_table
    );
    assert!(
        seen.access
            .starts_with("Factory state: anyone can configure this camera"),
        "a factory-state camera must be flagged as open, screen says {:?}",
        seen.access
    );
}
