//! The discovery lab: a "laptop" and a "cameras" network namespace joined by a veth pair, with
//! link-local addresses (169.254.10.1 on the laptop; 169.254.20.1 and .2 for the cameras). camsim
//! fleets run in the cameras namespace, `camward` in the laptop one, and WS-Discovery really
//! multicasts across the veth; nothing reaches the machine's real interfaces. Dropping the lab
//! kills its processes and deletes both namespaces, pass or fail. Needs root and iproute2.
#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// The administrator password of configured lab fleets.
pub const ADMIN_PASSWORD: &str = "Vq7#mT2x-Lp9!zR4";

/// Two namespaces and the processes started in them; all removed on drop.
pub struct Lab {
    pub laptop: String,
    pub cameras: String,
    children: Vec<Child>,
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("ip runs");
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Lab {
    pub fn new_or_skip() -> Option<Lab> {
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
        let has_ip = Command::new("ip").arg("-V").output().is_ok();
        if !(root && has_ip) {
            let why = "the discovery lab needs root and iproute2 (ip netns)";
            assert!(std::env::var_os("CI").is_none(), "{why}");
            eprintln!("SKIPPED: {why}");
            return None;
        }
        let tag = std::process::id() % 100_000;
        let lab = Lab {
            laptop: format!("cw{tag}l"),
            cameras: format!("cw{tag}c"),
            children: Vec::new(),
        };
        let (l, c) = (lab.laptop.as_str(), lab.cameras.as_str());
        ip(&["netns", "add", l]);
        ip(&["netns", "add", c]);
        let (lv, cv) = (format!("{l}0"), format!("{c}0"));
        ip(&["link", "add", &lv, "type", "veth", "peer", "name", &cv]);
        ip(&["link", "set", &lv, "netns", l]);
        ip(&["link", "set", &cv, "netns", c]);
        ip(&["-n", l, "addr", "add", "169.254.10.1/16", "dev", &lv]);
        for a in ["169.254.20.1/16", "169.254.20.2/16"] {
            ip(&["-n", c, "addr", "add", a, "dev", &cv]);
        }
        for (ns, dev) in [(l, lv.as_str()), (c, cv.as_str())] {
            ip(&["-n", ns, "link", "set", "lo", "up"]);
            ip(&["-n", ns, "link", "set", dev, "up"]);
        }
        Some(lab)
    }

    /// The laptop's interface name inside its namespace.
    pub fn laptop_interface(&self) -> String {
        format!("{}0", self.laptop)
    }

    /// Starts a camsim fleet in the cameras namespace and returns its JSON lines.
    pub fn fleet(&mut self, bind: &str, cameras: usize, state: &str) -> Vec<serde_json::Value> {
        let mut child = Command::new("ip")
            .args(["netns", "exec", &self.cameras])
            .arg(sibling("camsim"))
            .args([
                "--cameras",
                &cameras.to_string(),
                "--bind",
                bind,
                "--port",
                "0",
            ])
            .args(["--state", state, "--ws-discovery", "--json"])
            .args(["--admin-user", "admin", "--password-stdin"])
            .args(["--seed", &bind.replace('.', "")[..9]])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("camsim starts");
        writeln!(child.stdin.take().unwrap(), "{ADMIN_PASSWORD}").unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let infos = (0..cameras)
            .map(|_| serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap())
            .collect();
        self.children.push(child);
        infos
    }

    /// Runs `camward` in the laptop namespace.
    pub fn camward(&self, args: &[&str], stdin: Option<&str>) -> std::process::Output {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.laptop])
            .arg(env!("CARGO_BIN_EXE_camward"))
            .args(args)
            .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent");
        super::run_to_end(cmd, stdin)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        for ns in [&self.laptop, &self.cameras] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

/// Another binary of this workspace, built beside `camward`.
pub fn sibling(name: &str) -> PathBuf {
    let camward = PathBuf::from(env!("CARGO_BIN_EXE_camward"));
    let path = camward.with_file_name(name);
    assert!(
        path.is_file(),
        "{} is built by cargo test --workspace",
        path.display()
    );
    path
}
