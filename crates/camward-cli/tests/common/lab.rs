//! The discovery lab: network namespaces joined by a bridge, so that discovery really multicasts,
//! broadcasts and ARPs between a "laptop" and cameras while nothing reaches the machine's real
//! interfaces.
//!
//! - a "switch" namespace holding the bridge (multicast snooping off, as on an unmanaged switch);
//! - the "laptop" namespace, where `camward` runs, with 169.254.10.1/16 (or no address, for the
//!   missing-address tests) and 10.77.0.1/24, the lab's "DHCP" subnet;
//! - a shared "cameras" namespace with 169.254.20.1 and .2, where whole camsim fleets run (many
//!   cameras on one address, on ports of their own);
//! - and one namespace per single camera ([`Lab::camera`]), which claims its own link-local
//!   address by AutoIP (with its own MAC) or takes a static one, like a camera on the wire.
//!
//! Dropping the lab kills its processes and deletes every namespace, pass or fail. Needs root and
//! iproute2.
#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// The administrator password of configured lab fleets.
pub const ADMIN_PASSWORD: &str = "Vq7#mT2x-Lp9!zR4";

/// The laptop's link-local address.
pub const LAPTOP_LINK_LOCAL: &str = "169.254.10.1";

/// Where a single camera gets its address.
pub enum Address<'a> {
    /// RFC 3927 AutoIP, claimed by camsim itself.
    AutoIp,
    /// A fixed address with its prefix, e.g. `10.77.0.20/24`.
    Static(&'a str),
}

/// The namespaces and the processes started in them; all removed on drop.
pub struct Lab {
    tag: String,
    pub laptop: String,
    pub cameras: String,
    namespaces: Vec<String>,
    children: Vec<Child>,
    singles: usize,
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
    /// A lab whose laptop has its link-local address.
    pub fn new_or_skip() -> Option<Lab> {
        Self::with_laptop_link_local(true)
    }

    /// A lab; `link_local` false leaves the laptop without a 169.254 address.
    pub fn with_laptop_link_local(link_local: bool) -> Option<Lab> {
        if link_local {
            Self::with_laptop_addresses(&["10.77.0.1/24", "169.254.10.1/16"])
        } else {
            Self::with_laptop_addresses(&["10.77.0.1/24"])
        }
    }

    /// A lab whose laptop interface holds `addresses` (none: a laptop on an isolated switch).
    pub fn with_laptop_addresses(addresses: &[&str]) -> Option<Lab> {
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
        // Tests of one binary run in parallel threads of one process: each lab gets a letter.
        static LABS: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);
        let n = LABS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 26;
        let tag = format!("cw{}{}", std::process::id() % 100_000, char::from(b'a' + n));
        let mut lab = Lab {
            laptop: format!("{tag}l"),
            cameras: format!("{tag}c"),
            tag,
            namespaces: Vec::new(),
            children: Vec::new(),
            singles: 0,
        };
        let switch = format!("{}s", lab.tag);
        ip(&["netns", "add", &switch]);
        lab.namespaces.push(switch.clone());
        ip(&[
            "-n",
            &switch,
            "link",
            "add",
            "br0",
            "type",
            "bridge",
            "mcast_snooping",
            "0",
        ]);
        ip(&["-n", &switch, "link", "set", "br0", "up"]);
        let laptop = lab.laptop.clone();
        let cameras = lab.cameras.clone();
        lab.plug(&laptop, addresses);
        lab.plug(&cameras, &["169.254.20.1/16", "169.254.20.2/16"]);
        Some(lab)
    }

    /// Creates namespace `ns` with one port on the switch (`<ns>0`) holding `addresses`.
    fn plug(&mut self, ns: &str, addresses: &[&str]) {
        let switch = format!("{}s", self.tag);
        ip(&["netns", "add", ns]);
        self.namespaces.push(ns.to_owned());
        let (inside, outside) = (format!("{ns}0"), format!("{ns}1"));
        // Created inside the namespaces, never in the machine's own.
        ip(&[
            "-n", &switch, "link", "add", &outside, "type", "veth", "peer", "name", &inside,
            "netns", ns,
        ]);
        ip(&[
            "-n", &switch, "link", "set", &outside, "master", "br0", "up",
        ]);
        for a in addresses {
            ip(&["-n", ns, "addr", "add", a, "dev", &inside]);
        }
        ip(&["-n", ns, "link", "set", "lo", "up"]);
        ip(&["-n", ns, "link", "set", &inside, "up"]);
    }

    /// The laptop's interface name inside its namespace.
    pub fn laptop_interface(&self) -> String {
        format!("{}0", self.laptop)
    }

    fn start_camsim(
        &mut self,
        ns: &str,
        args: &[String],
        cameras: usize,
    ) -> Vec<serde_json::Value> {
        let mut child = Command::new("ip")
            .args(["netns", "exec", ns])
            .arg(sibling("camsim"))
            .args(args)
            .args(["--json", "--admin-user", "admin", "--password-stdin"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("camsim starts");
        writeln!(child.stdin.take().unwrap(), "{ADMIN_PASSWORD}").unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let infos: Vec<serde_json::Value> = (0..cameras)
            .map_while(|_| lines.next().and_then(Result::ok))
            .map(|l| serde_json::from_str(&l).unwrap())
            .collect();
        if infos.len() < cameras {
            let _ = child.kill();
            let mut err = String::new();
            let _ = std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err);
            panic!("camsim {} did not start: {err}", args.join(" "));
        }
        // Keep reading its output, so that a chatty camsim never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        self.children.push(child);
        infos
    }

    /// Starts a camsim fleet (WS-Discovery on) in the shared cameras namespace and returns its
    /// JSON lines.
    pub fn fleet(&mut self, bind: &str, cameras: usize, state: &str) -> Vec<serde_json::Value> {
        let ns = self.cameras.clone();
        let args: Vec<String> = [
            "--cameras",
            &cameras.to_string(),
            "--bind",
            bind,
            "--port",
            "0",
            "--state",
            state,
            "--ws-discovery",
            "--seed",
            &bind.replace('.', "")[..9],
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        self.start_camsim(&ns, &args, cameras)
    }

    /// Starts one camera in a namespace of its own, serving HTTP on port 80, with `flavour`,
    /// `state` and the discovery flags in `extra` (`--ws-discovery`, `--mdns`,
    /// `--vendor-discovery`, …). Returns its JSON line.
    pub fn camera(
        &mut self,
        flavour: &str,
        state: &str,
        address: Address<'_>,
        extra: &[&str],
    ) -> serde_json::Value {
        self.singles += 1;
        let ns = format!("{}k{}", self.tag, self.singles);
        let interface = format!("{ns}0");
        let seed = (std::process::id() as usize * 1000 + self.singles).to_string();
        let mut args: Vec<String> = [
            "--cameras",
            "1",
            "--port",
            "80",
            "--flavour",
            flavour,
            "--state",
            state,
            "--seed",
            &seed,
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        match address {
            Address::AutoIp => {
                self.plug(&ns, &[]);
                args.extend(["--autoip".to_owned(), interface]);
            }
            Address::Static(a) => {
                self.plug(&ns, &[a]);
                let host = a.split('/').next().unwrap();
                args.extend(["--bind".to_owned(), host.to_owned()]);
            }
        }
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        self.start_camsim(&ns, &args, 1).remove(0)
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

    /// Runs `camward` in the laptop namespace with `vault`'s inventory and keychain service (the
    /// session bus is a socket path, which the namespace sees).
    pub fn camward_vault(&self, vault: &super::TestVault, args: &[&str]) -> std::process::Output {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.laptop])
            .arg(env!("CARGO_BIN_EXE_camward"))
            .args(args)
            .env("CAMWARD_DB", vault.db())
            .env("CAMWARD_KEYCHAIN_SERVICE", &vault.service)
            .env("CAMWARD_LOG", "info");
        super::run_to_end(cmd, None)
    }

    /// Starts `program args` in the laptop namespace for the lab's lifetime (a site service, such
    /// as an NTP server).
    pub fn laptop_service(
        &mut self,
        program: &std::path::Path,
        args: &[&str],
        env: &[(&str, &str)],
    ) {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.laptop])
            .arg(program)
            .args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("service starts");
        self.children.push(child);
    }

    /// Starts `camward` in the laptop namespace without waiting for it (stdout and stderr piped).
    pub fn camward_child(&self, args: &[&str]) -> Child {
        Command::new("ip")
            .args(["netns", "exec", &self.laptop])
            .arg(env!("CARGO_BIN_EXE_camward"))
            .args(args)
            .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("camward starts")
    }

    /// Stops the `n`-th process started (0 first) with SIGTERM, so it shuts down cleanly (a
    /// camsim fleet says WS-Discovery Bye), and waits for it.
    pub fn stop(&mut self, n: usize) {
        let child = &mut self.children[n];
        let _ = Command::new("kill").arg(child.id().to_string()).status();
        let _ = child.wait();
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        for ns in self.namespaces.iter().rev() {
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
