//! `camsim`: starts a fleet of simulated cameras, prints one JSON line per camera, runs until
//! SIGINT/SIGTERM. The administrator password comes from a file or stdin, never from argv.

use std::io::BufRead as _;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use camsim::{AuthFlavour, FaultConfig, Flavour, Fleet, FleetConfig, InitialState};
use clap::{Parser, ValueEnum};

#[derive(Clone, Copy, Debug, ValueEnum)]
enum StateArg {
    Factory,
    Configured,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum FlavourArg {
    Generic,
    Axis,
    Hikvision,
    Canon,
    IPro,
    /// Generic, Axis, Hikvision, Canon and i-PRO in turn.
    Mix,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum AuthArg {
    DigestMd5,
    DigestSha256,
    UsernameToken,
}

/// A simulated fleet of ONVIF cameras.
#[derive(Debug, Parser)]
#[command(name = "camsim", version)]
struct Args {
    /// Number of cameras.
    #[arg(long, default_value_t = 1)]
    cameras: usize,
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    bind: IpAddr,
    /// First port (0 = free ports; otherwise camera i uses port+i for HTTP).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Initial state.
    #[arg(long, value_enum, default_value = "factory")]
    state: StateArg,
    /// Print one JSON line per camera.
    #[arg(long)]
    json: bool,
    /// Vendor flavour.
    #[arg(long, value_enum, default_value = "generic")]
    flavour: FlavourArg,
    /// Authentication scheme.
    #[arg(long, value_enum, default_value = "digest-sha256")]
    auth: AuthArg,
    /// Administrator name for `--state configured`.
    #[arg(long, default_value = "admin")]
    admin_user: String,
    /// File holding the administrator password (first line).
    #[arg(long, conflicts_with = "password_stdin")]
    password_file: Option<PathBuf>,
    /// Read the administrator password from the first line of stdin.
    #[arg(long)]
    password_stdin: bool,
    /// Latency added to every reply, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Camera clock minus host clock, in seconds.
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    clock_skew_s: i64,
    /// Probability of a malformed XML reply.
    #[arg(long, default_value_t = 0.0)]
    fault_malformed: f64,
    /// Probability of a truncated reply.
    #[arg(long, default_value_t = 0.0)]
    fault_truncated: f64,
    /// Probability of a very slow reply.
    #[arg(long, default_value_t = 0.0)]
    fault_slow: f64,
    /// Probability of a dropped connection.
    #[arg(long, default_value_t = 0.0)]
    fault_drop: f64,
    /// Probability of a bare HTTP 500.
    #[arg(long = "fault-500", default_value_t = 0.0)]
    fault_500: f64,
    /// Failed logins before lock-out.
    #[arg(long, default_value_t = 5)]
    lockout_failures: u32,
    /// Lock-out duration in seconds.
    #[arg(long, default_value_t = 30)]
    lockout_seconds: u64,
    /// Answer WS-Discovery probes (UDP 3702, multicast on the interface of --bind). Use it only
    /// inside a network namespace of your own: it joins a multicast group.
    #[arg(long)]
    ws_discovery: bool,
    /// Answer Hikvision SADP inquiries (UDP 37020, multicast) for Hikvision cameras and i-PRO
    /// Easy IP Setup searches (UDP 10670, answers broadcast to 10669) for i-PRO cameras, on the
    /// interface of --bind. Use it only inside a network namespace of your own.
    #[arg(long)]
    vendor_discovery: bool,
    /// Announce every camera over mDNS (UDP 5353, multicast on the interface of --bind). Use it
    /// only inside a network namespace of your own: it joins a multicast group.
    #[arg(long)]
    mdns: bool,
    /// Run each camera's FTP, RTSP and SNMP servers (standard ports with --port and --cameras 1,
    /// free ports otherwise, shown in --json) and, on a non-loopback --bind, its UPnP SSDP
    /// responder (UDP 1900, multicast), each honouring the camera's own setting. Use it only inside
    /// a network namespace of your own: SSDP joins a multicast group.
    #[arg(long)]
    services: bool,
    /// Claim a link-local address on this interface first, as a camera without DHCP does (RFC 3927
    /// AutoIP: ARP probes, then the address is added and announced), and serve on it instead of
    /// --bind. Gives the interface the camera's MAC. When the interface already holds the --bind
    /// address, that is the camera's static address: it serves there until a hard factory reset
    /// wipes it, and then claims the link-local one. One camera only; needs root, and belongs
    /// only in a network namespace of your own.
    #[arg(long, value_name = "INTERFACE")]
    autoip: Option<String>,
    /// Directory for per-camera state files.
    #[arg(long)]
    state_dir: Option<PathBuf>,
    /// Seed for identities and fault injection.
    #[arg(long)]
    seed: Option<u64>,
}

fn read_password(args: &Args) -> Result<Option<String>, String> {
    let line = if let Some(path) = &args.password_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        text.lines().next().unwrap_or_default().to_owned()
    } else if args.password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| format!("cannot read stdin: {e}"))?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    } else {
        return Ok(None);
    };
    if line.is_empty() {
        return Err("the password is empty".into());
    }
    Ok(Some(line))
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    let password = match read_password(&args) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("camsim: {e}");
            std::process::exit(2);
        }
    };
    let state = match args.state {
        StateArg::Factory => InitialState::Factory,
        StateArg::Configured => InitialState::Configured,
    };
    if state == InitialState::Configured && password.is_none() {
        eprintln!("camsim: --state configured needs --password-file or --password-stdin");
        std::process::exit(2);
    }
    let bind = match &args.autoip {
        None => args.bind,
        Some(_) if args.cameras != 1 => {
            eprintln!("camsim: --autoip claims one address for one camera: use --cameras 1");
            std::process::exit(2);
        }
        // A --bind address the interface already holds is the camera's static setting: it
        // serves there, and AutoIP runs only once a hard factory reset has wiped it.
        Some(interface) if camsim::autoip::holds(interface, args.bind) => args.bind,
        Some(interface) => match camsim::autoip::claim(interface, &camsim::mac_of(args.seed, 0)) {
            Ok(address) => std::net::IpAddr::V4(address),
            Err(e) => {
                eprintln!("camsim: {e}");
                std::process::exit(1);
            }
        },
    };
    let cfg = FleetConfig {
        cameras: args.cameras,
        bind,
        state,
        flavour: match args.flavour {
            FlavourArg::Generic => Flavour::Generic,
            FlavourArg::Axis => Flavour::Axis,
            FlavourArg::Hikvision => Flavour::Hikvision,
            FlavourArg::Canon => Flavour::Canon,
            FlavourArg::IPro => Flavour::IPro,
            FlavourArg::Mix => Flavour::Mix,
        },
        auth: match args.auth {
            AuthArg::DigestMd5 => AuthFlavour::DigestMd5,
            AuthArg::DigestSha256 => AuthFlavour::DigestSha256AndMd5,
            AuthArg::UsernameToken => AuthFlavour::UsernameToken,
        },
        admin: password.map(|p| (args.admin_user.clone(), p)),
        faults: FaultConfig {
            malformed_xml: args.fault_malformed,
            truncated_body: args.fault_truncated,
            slow_body: args.fault_slow,
            drop_connection: args.fault_drop,
            http_500: args.fault_500,
        },
        latency_ms: args.latency_ms,
        clock_skew_s: args.clock_skew_s,
        lockout_failures: args.lockout_failures,
        lockout_duration: Duration::from_secs(args.lockout_seconds),
        state_dir: args.state_dir.clone(),
        seed: args.seed,
        base_port: (args.port != 0).then_some(args.port),
        ws_discovery: args.ws_discovery,
        vendor_discovery: args.vendor_discovery,
        mdns: args.mdns,
        services: args.services,
        autoip: args.autoip.clone(),
        ..FleetConfig::default()
    };
    let fleet = match Fleet::start(cfg).await {
        Ok(fleet) => fleet,
        Err(e) => {
            eprintln!("camsim: {e}");
            std::process::exit(1);
        }
    };
    for camera in fleet.cameras() {
        let info = camera.info();
        if args.json {
            match serde_json::to_string(&info) {
                Ok(line) => println!("{line}"),
                Err(e) => eprintln!("camsim: {e}"),
            }
        } else {
            println!(
                "{} {} {} {}",
                info.id, info.device_url, info.mac, info.serial
            );
        }
    }
    wait_for_signal().await;
    fleet.shutdown().await;
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
