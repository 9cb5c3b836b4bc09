//! What every desktop WebDriver test needs: the prerequisites (tauri-driver, WebKitWebDriver, an
//! X display, the built app), tauri-driver itself (stopped with everything below it, also when a
//! test panics), a WebDriver session on the app, small helpers to read the screen, and the
//! keyboard ([`keyboard`]).
//!
//! Each test binary uses part of it.
#![allow(dead_code)]

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;

pub mod keyboard;
pub mod wizard;
// Each test binary uses part of these.
#[allow(unused_imports)]
pub use keyboard::{
    clear_focused, count, eval, focused, keys, press, shift_tab, shift_tab_to, tab_to, texts,
    type_text, wait_until, wait_until_within,
};

/// How long the app may take to show a screen, and a request to show its result.
pub const UI_TIMEOUT: Duration = Duration::from_secs(30);

/// What the test needs from the machine.
pub struct Prerequisites {
    pub tauri_driver: PathBuf,
    pub app: PathBuf,
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
pub fn prerequisites() -> Option<Prerequisites> {
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
pub struct TauriDriver {
    child: Child,
    pub port: u16,
}

impl TauriDriver {
    pub fn start(program: &Path) -> Self {
        Self::start_with_env(program, &[])
    }

    /// tauri-driver, with `env` set for it and so for the app it starts (e.g. `CAMWARD_DB`).
    pub fn start_with_env(program: &Path, env: &[(&str, &std::ffi::OsStr)]) -> Self {
        let port = free_port();
        let native_port = free_port();
        let child = Command::new(program)
            .envs(env.iter().copied())
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

impl TauriDriver {
    /// The desktop app processes started below this tauri-driver (to stop one as a crash would).
    pub fn app_pids(&self) -> Vec<u32> {
        descendants_of(self.child.id())
            .into_iter()
            .filter(|pid| {
                std::fs::read_to_string(format!("/proc/{pid}/comm"))
                    .is_ok_and(|comm| comm.trim() == "camward-desktop")
            })
            .collect()
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

/// Opens a WebDriver session on the app, started with `args`; its window is the app's own
/// (1280×720, see `src-tauri/tauri.conf.json`).
pub async fn open_app(driver: &TauriDriver, app: &Path, args: &[&str]) -> Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "tauri:options".into(),
        serde_json::json!({ "application": app, "args": args }),
    );
    capabilities.insert("browserName".into(), "wry".into());
    // tauri-driver listens before the native driver it starts (WebKitWebDriver) does; a session
    // asked for in between is cut off (`IncompleteMessage`) without starting the app. Such
    // transport failures are retried for a while; a refused session is not.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities.clone())
            .connect(&format!("http://127.0.0.1:{}", driver.port))
            .await
        {
            Ok(client) => return client,
            Err(
                error @ (fantoccini::error::NewSessionError::Failed(_)
                | fantoccini::error::NewSessionError::FailedC(_)
                | fantoccini::error::NewSessionError::Lost(_)),
            ) if Instant::now() < deadline => {
                eprintln!("WebDriver not ready yet ({error}); asking again");
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Err(error) => panic!("opening a WebDriver session on the desktop app: {error:?}"),
        }
    }
}

/// Where the screenshots of `test` go: `artifacts/screenshots/<test>/` at the workspace root,
/// which CI keeps.
pub fn screenshot_dir(test: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../artifacts/screenshots")
        .join(test)
}

/// Saves what the window shows now as `<dir>/<name>.png` and prints the path.
pub async fn screenshot(client: &Client, dir: &Path, name: &str) -> Result<PathBuf, String> {
    // WebKitWebDriver captures the last painted frame: let the page paint what the DOM already
    // shows (two animation frames) and its images finish loading first.
    client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             const images = [...document.images].map((img) => img.complete
                 ? Promise.resolve()
                 : new Promise((ready) => { img.onload = ready; img.onerror = ready; }));
             Promise.all(images).then(() =>
                 requestAnimationFrame(() => requestAnimationFrame(() => done(true))));",
            Vec::new(),
        )
        .await
        .map_err(|error| format!("waiting for the page to paint before {name}: {error}"))?;
    let png = client
        .screenshot()
        .await
        .map_err(|error| format!("taking the screenshot {name}: {error}"))?;
    std::fs::create_dir_all(dir).map_err(|error| format!("creating {dir:?}: {error}"))?;
    let path = dir.join(format!("{name}.png"));
    std::fs::write(&path, png).map_err(|error| format!("saving {path:?}: {error}"))?;
    let shown = path.canonicalize().unwrap_or_else(|_| path.clone());
    println!("screenshot: {}", shown.display());
    Ok(shown)
}

/// The CSS selector of the element with `data-testid`.
pub fn by_test_id(test_id: &str) -> String {
    format!("[data-testid=\"{test_id}\"]")
}

/// The visible text of the element with `data-testid`, waiting for it to appear.
pub async fn text_of(client: &Client, test_id: &str) -> Result<String, String> {
    let selector = by_test_id(test_id);
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
