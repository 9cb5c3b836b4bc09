//! The `camward` binary as a person uses it, against camsim cameras on 127.0.0.1.
#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.

mod common;

use std::io::Write;
use std::process::{Command, Output};

use camsim::{Fleet, FleetConfig, InitialState};

const ADMIN: &str = "admin";
const PASSWORD: &str = "Vq7#mT2x-Lp9!zR4";

fn camward(args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_camward"));
    cmd.args(args)
        // Keep the developer's keychain out of these runs: no session bus, so no Secret Service.
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent");
    common::run_to_end(cmd, stdin)
}

fn configured_fleet(rt: &tokio::runtime::Runtime) -> Fleet {
    rt.block_on(Fleet::start(FleetConfig {
        cameras: 1,
        state: InitialState::Configured,
        admin: Some((ADMIN.into(), PASSWORD.into())),
        clock_skew_s: 7200,
        ..FleetConfig::default()
    }))
    .expect("camsim starts")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().expect("runtime")
}

fn stderr_lines(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn probe_shows_model_firmware_and_a_two_hour_offset() {
    let rt = runtime();
    let fleet = configured_fleet(&rt);
    let cam = &fleet.cameras()[0];
    let out = camward(&["probe", &cam.device_url(), "--json"], None);
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    let offset = report["clock_offset_s"].as_f64().expect("offset");
    assert!((offset - 7200.0).abs() < 5.0, "offset {offset}");
    assert!(report["services"].as_array().is_some_and(|s| !s.is_empty()));
    // Configured camera: device information needs credentials.
    assert_eq!(report["anonymous_access"], false);

    let text = camward(&["probe", &cam.device_url()], None);
    assert!(text.status.success());
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("ahead"), "{text}");
    rt.block_on(fleet.shutdown());
}

#[test]
fn info_logs_in_with_the_password_from_stdin() {
    let rt = runtime();
    let fleet = configured_fleet(&rt);
    let cam = &fleet.cameras()[0];
    let info = cam.info();
    let out = camward(
        &[
            "info",
            &cam.device_url(),
            "--user",
            ADMIN,
            "--password-stdin",
            "--json",
        ],
        Some(&format!("{PASSWORD}\n")),
    );
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(report["device"]["model"], info.model.as_str());
    assert_eq!(report["device"]["firmware_version"], info.firmware.as_str());
    assert!(
        !stdout.contains(PASSWORD),
        "the password must never be printed"
    );
    assert!(!String::from_utf8_lossy(&out.stderr).contains(PASSWORD));
    rt.block_on(fleet.shutdown());
}

#[test]
fn wrong_password_is_one_clear_line_and_exit_4() {
    let rt = runtime();
    let fleet = configured_fleet(&rt);
    let cam = &fleet.cameras()[0];
    let out = camward(
        &[
            "info",
            &cam.device_url(),
            "--user",
            ADMIN,
            "--password-stdin",
        ],
        Some("Wrong-password-1\n"),
    );
    assert_eq!(out.status.code(), Some(4));
    let lines = stderr_lines(&out);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("[not_authorized]"), "{lines:?}");
    assert!(!lines[0].contains("Wrong-password-1"));
    // One wrong password costs exactly one failed login at the camera, not one per auth scheme.
    assert_eq!(cam.failed_logins(), 1);
    rt.block_on(fleet.shutdown());
}

#[test]
fn unreachable_camera_is_one_clear_line_and_exit_3() {
    // Bind then drop a listener: the port is closed on loopback.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = camward(&["probe", &format!("127.0.0.1:{port}")], None);
    assert_eq!(out.status.code(), Some(3));
    let lines = stderr_lines(&out);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("[unreachable]"), "{lines:?}");
}

#[test]
fn a_web_server_that_is_not_onvif_is_named_as_such() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        use std::io::Read;
        for stream in listener.incoming().take(4) {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let body = "<html><body>Welcome to nginx!</body></html>";
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    let out = camward(&["probe", &format!("127.0.0.1:{port}")], None);
    assert_eq!(out.status.code(), Some(3));
    let lines = stderr_lines(&out);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("[not_onvif]"), "{lines:?}");
    drop(server);
}

#[test]
fn bad_address_and_missing_password_are_clear() {
    let out = camward(&["probe", "ftp://camera"], None);
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr_lines(&out)[0].contains("[invalid_url]"));

    // No --password-stdin, no keychain, no terminal: refuse rather than hang or guess.
    let out = camward(&["info", "127.0.0.1:9", "--user", "admin"], None);
    assert_eq!(out.status.code(), Some(5));
    let lines = stderr_lines(&out);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("[no_password]"), "{lines:?}");
}

#[test]
fn discover_lists_interfaces_and_names_its_methods_without_sending_anything() {
    // --list-interfaces only reads the OS's interface list: no packet leaves the machine.
    let out = camward(&["discover", "--list-interfaces", "--json"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        listed
            .iter()
            .any(|i| i["loopback"] == true && i["addresses"][0] == "127.0.0.1"),
        "{listed:?}"
    );
    let out = camward(&["discover", "--method", "upnp"], None);
    assert_eq!(out.status.code(), Some(2));
    let said = String::from_utf8_lossy(&out.stderr);
    for m in ["ws-discovery", "mdns", "link-local", "easy-ip", "sadp"] {
        assert!(said.contains(m), "{said}");
    }
    let out = camward(&["discover", "--interface", "no-such-if0"], None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown_interface"));
}
