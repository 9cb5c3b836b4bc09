//! `camward`: the command line over camward-core. Same use cases as the desktop app.
//!
//! Passwords never come from argv: `--password-stdin`, the OS keychain, or an interactive prompt.
mod progress;

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use camward_core::credentials::{
    self, CameraOutcome, InitAdminStatus, NewPassword, RotationRequest, Vault,
};
use camward_core::CoreError;
use camward_vault::{CredentialKey, CredentialLedger, Inventory, Keychain, Sensitive};
use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "camward",
    version,
    about = "Commission IP cameras securely and keep them that way"
)]
struct Cli {
    /// Log verbosity for diagnostics on stderr (e.g. `info`, `camward=debug`).
    #[arg(long, env = "CAMWARD_LOG", default_value = "warn", global = true)]
    log: String,
    /// The inventory's SQLite file (default: the user's data directory).
    #[arg(long, env = "CAMWARD_DB", global = true)]
    db: Option<PathBuf>,
    /// The OS keychain service name the passwords are filed under.
    #[arg(long, env = "CAMWARD_KEYCHAIN_SERVICE", global = true, hide = true)]
    keychain_service: Option<String>,
    #[command(subcommand)]
    command: Command,
}

/// `camward report --format`.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum ReportFormat {
    Html,
    Pdf,
    Json,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Show what a camera tells without credentials: model, firmware, clock offset, services.
    Probe {
        /// Device service URL (http://HOST[:PORT]/onvif/device_service) or a bare HOST[:PORT].
        url: String,
        /// One JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Log in and show the camera's configuration: device, users, network, time, protocols.
    Info {
        /// Device service URL or HOST[:PORT].
        url: String,
        /// User name on the camera.
        #[arg(long)]
        user: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        /// One JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Manage credentials kept in the OS keychain.
    Credentials {
        #[command(subcommand)]
        action: CredentialsAction,
    },
    /// Create the first administrator on factory-fresh cameras, with a unique strong password each.
    InitAdmin {
        /// Device service URLs or HOST[:PORT]s.
        #[arg(required = true)]
        targets: Vec<String>,
        /// The administrator's user name.
        #[arg(long, default_value = "admin")]
        user: String,
        /// Use the password on the first line of standard input (checked against the policy).
        #[arg(long, conflicts_with = "generate")]
        password_stdin: bool,
        /// Generate a unique password per camera (the default).
        #[arg(long)]
        generate: bool,
        /// Print each new password on standard output (never anywhere else).
        #[arg(long)]
        show_password: bool,
        /// Finish a guided first boot (Canon, i-PRO): the administrator was created on the
        /// camera's page with the password Camward showed; verify the login and keep it.
        #[arg(long, conflicts_with_all = ["password_stdin", "generate", "show_password"])]
        confirm: bool,
    },
    /// Check cameras against a protection level of the hardening catalog (read-only): one
    /// scorecard per camera, each control pass / FAIL / manual / n/a / unknown with its evidence.
    Audit {
        /// Cameras: device service URLs or addresses.
        #[arg(required = true)]
        targets: Vec<String>,
        /// The account to log in as (its password comes from the keychain).
        #[arg(long, default_value = "admin")]
        user: String,
        /// Protection level: entry, standard or advanced (a --plan's level wins).
        #[arg(long, default_value = "standard", value_parser = parse_level)]
        level: camward_core::hardening::Level,
        /// The site plan (TOML): NTP servers, allowed hosts, users and services to keep.
        #[arg(long)]
        plan: Option<PathBuf>,
        /// The firmware catalog (TOML) that says which firmware is the newest per model.
        #[arg(long)]
        firmware_catalog: Option<PathBuf>,
        /// Also verify from outside, by unicast to the camera only: TCP ports, FTP on 21, SNMP v2c on
        /// 161, RTSP's challenge, mDNS on 5353, SSDP on 1900, i-PRO Easy IP Setup on 10670.
        #[arg(long)]
        outside: bool,
        /// Cameras audited at once.
        #[arg(long, default_value_t = 4)]
        concurrency: usize,
        /// One JSON scorecard per camera.
        #[arg(long)]
        json: bool,
    },
    /// Bring cameras to a site plan: the first administrator where needed, then each failing
    /// control of the plan's level applied in the catalog's lock-out-safe order (or turned into a
    /// guided step), then a second audit as the proof. Running it again resumes.
    Commission {
        /// The site plan (TOML).
        #[arg(long)]
        plan: PathBuf,
        /// Cameras: device service URLs or addresses.
        #[arg(required = true)]
        targets: Vec<String>,
        /// The administrator account.
        #[arg(long, default_value = "admin")]
        user: String,
        /// Only list what would change, per camera.
        #[arg(long)]
        dry_run: bool,
        /// Also verify from outside, by unicast to the camera only (ports, FTP, SNMP v2c, RTSP,
        /// mDNS, SSDP, Easy IP Setup).
        #[arg(long)]
        outside: bool,
        /// The firmware catalog (TOML).
        #[arg(long)]
        firmware_catalog: Option<PathBuf>,
        /// Cameras worked on at once.
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
        /// One JSON result per camera.
        #[arg(long)]
        json: bool,
    },
    /// Write the site's hardening report: a site summary with a picture of the scores, then one
    /// page per camera (scorecard before and after, what changed, what still needs a person).
    Report {
        /// Only the cameras of this site (as named by the site plan they were commissioned with).
        #[arg(long)]
        site: Option<String>,
        /// html (one self-contained page), pdf (printed by headless Chromium) or json.
        #[arg(long, value_enum)]
        format: ReportFormat,
        /// Where to write it.
        #[arg(long)]
        out: PathBuf,
    },
    /// Change a user's password on cameras, verified and resumable.
    Rotate {
        /// Device service URLs or HOST[:PORT]s.
        #[arg(required_unless_present = "resume", conflicts_with = "resume")]
        targets: Vec<String>,
        /// The user whose password changes.
        #[arg(long, default_value = "admin")]
        user: String,
        /// The administrator who logs in to change it (when `--user` is a secondary user).
        #[arg(long, default_value = "admin")]
        admin: String,
        /// Use the password on the first line of standard input (checked against the policy).
        #[arg(long, conflicts_with = "generate")]
        password_stdin: bool,
        /// Generate a unique password per camera (the default).
        #[arg(long)]
        generate: bool,
        /// Cameras worked on at once.
        #[arg(long, default_value_t = 4)]
        concurrency: usize,
        /// Finish changes an interrupted run left behind, asking each camera which password it has.
        #[arg(long)]
        resume: bool,
    },
    /// Find cameras on the local network: WS-Discovery, mDNS, the link-local (169.254/16) sweep,
    /// i-PRO Easy IP Setup and Hikvision SADP, merged into one list. Ctrl-C stops early.
    Discover {
        /// Interfaces to scan (repeatable); default: every up, non-loopback interface with IPv4.
        #[arg(long = "interface")]
        interfaces: Vec<String>,
        /// How long the listening methods listen, in seconds (the sweep takes as long as it takes).
        #[arg(long, default_value_t = 3.0)]
        timeout: f64,
        /// Methods to use (repeatable); default: all.
        #[arg(long = "method", value_parser = parse_method)]
        methods: Vec<camward_discovery::Method>,
        /// Give an interface without a link-local address one for the sweep (needs root).
        #[arg(long)]
        add_link_local: bool,
        /// ARP requests per second of the link-local sweep.
        #[arg(long, default_value_t = camward_discovery::linklocal::DEFAULT_RATE)]
        sweep_rate: u32,
        /// List the interfaces (with their addresses) that can be scanned, and stop.
        #[arg(long)]
        list_interfaces: bool,
        /// One JSON object per camera.
        #[arg(long)]
        json: bool,
    },
    /// Retire cameras with proof: confirm (serial and model shown), record the final state in the
    /// audit trail, factory reset (hard; --keep-network: soft), wait out the reboot, see the camera
    /// factory-fresh (after a hard reset: rediscovered on its link-local address), and only then
    /// delete its keychain entries, retire its certificate and mark it decommissioned. A disposal
    /// record lists the proof and what is left for a person.
    Decommission {
        /// Device service URLs or HOST[:PORT]s.
        #[arg(required = true)]
        targets: Vec<String>,
        /// Soft reset that keeps the network settings (default: hard reset, nothing kept).
        #[arg(long)]
        keep_network: bool,
        /// Do not ask for confirmation (scripts).
        #[arg(long)]
        yes: bool,
        /// The administrator account (its password comes from the keychain).
        #[arg(long, default_value = "admin")]
        user: String,
        /// Write the disposal record to this file (several cameras: FILE-SERIAL.EXT each).
        #[arg(long, value_name = "FILE")]
        record: Option<PathBuf>,
        /// Format of the disposal record: html, pdf or json (default: from the file's extension,
        /// else json).
        #[arg(long, value_enum)]
        format: Option<ReportFormat>,
        /// How long the reboot and the proof may take, in seconds.
        #[arg(long, default_value_t = 300)]
        reboot_timeout: u64,
        /// Interfaces to look for the reset camera on (repeatable); default: every non-loopback.
        #[arg(long = "interface")]
        interfaces: Vec<String>,
        /// One JSON disposal record (or error) per camera.
        #[arg(long)]
        json: bool,
    },
    /// The cameras Camward knows.
    Inventory {
        #[command(subcommand)]
        action: InventoryAction,
    },
    /// HTTPS certificates: the site CA kept by Camward, cameras enrolled with it, expiry.
    Certs {
        #[command(subcommand)]
        action: CertsAction,
    },
}

#[derive(Subcommand, Debug)]
enum CertsAction {
    /// Create the site CA: a new key kept only in the OS keychain, its certificate written next
    /// to the inventory (give it to the recorders and browsers that must trust the cameras).
    CaInit {
        /// The site (as named by its site plan).
        #[arg(long)]
        site: String,
        /// How long the CA is valid, in days.
        #[arg(long, default_value_t = 3650)]
        days: i64,
    },
    /// Give cameras a certificate from the site CA: the key is made on the camera, its CSR signed,
    /// every check run against the camera's clock before upload, and the new certificate proven
    /// by a TLS handshake; its fingerprint and expiry go into the inventory.
    Enrol {
        /// Cameras: device service URLs or addresses.
        #[arg(required = true)]
        targets: Vec<String>,
        /// The site whose CA signs.
        #[arg(long)]
        site: String,
        /// The administrator account.
        #[arg(long, default_value = "admin")]
        user: String,
        /// How long the certificates are valid, in days (browsers accept at most 398).
        #[arg(long, default_value_t = 397)]
        days: i64,
        /// Another host name or address the cameras are reached by (repeatable); the camera's
        /// address in TARGET is always included.
        #[arg(long = "name")]
        names: Vec<String>,
        /// One JSON line per camera.
        #[arg(long)]
        json: bool,
    },
    /// For the site's own CA: each camera makes a key and its CSR is written to DIR (one
    /// `<camera>.csr.pem` each, plus manifest.json). Have the CA issue them, put the issued
    /// certificates into the same directory, then run `certs import`.
    ExportCsr {
        /// Cameras: device service URLs or addresses.
        #[arg(required = true)]
        targets: Vec<String>,
        /// Where to write the CSRs.
        #[arg(long)]
        out: PathBuf,
        /// The organisation in the certificates' subject (usually the site).
        #[arg(long)]
        organization: String,
        /// The administrator account.
        #[arg(long, default_value = "admin")]
        user: String,
        /// Another host name or address the cameras are reached by (repeatable).
        #[arg(long = "name")]
        names: Vec<String>,
    },
    /// Install the certificates the site's CA issued for the CSRs of `certs export-csr`: each
    /// file is matched to its camera by public key, checked against the camera's clock and the
    /// CA, installed, and proven by a TLS handshake.
    Import {
        /// The export directory, now also holding the issued certificates.
        dir: PathBuf,
        /// The site CA's certificate (PEM or DER): what the cameras' certificates must chain to.
        #[arg(long)]
        ca: PathBuf,
        /// The administrator account.
        #[arg(long, default_value = "admin")]
        user: String,
        /// One JSON line per camera.
        #[arg(long)]
        json: bool,
    },
    /// Trust on first use: connect to each camera's HTTPS port, show the certificate it presents
    /// (subject, validity, SHA-256), and after the person confirms pin it in the inventory. A
    /// certificate other than the pinned one shows both fingerprints and needs confirming again.
    Trust {
        /// Cameras: device service URLs or addresses.
        #[arg(required = true)]
        targets: Vec<String>,
        /// The HTTPS port (default: the one Camward reaches the camera on, else the one the
        /// camera reports when the keychain holds the administrator's password).
        #[arg(long)]
        port: Option<u16>,
        /// The administrator account (only to ask the camera for its HTTPS port).
        #[arg(long, default_value = "admin")]
        user: String,
        /// Pin without asking (scripts): only when the fingerprint was checked another way.
        #[arg(long)]
        yes: bool,
        /// One JSON line per camera.
        #[arg(long)]
        json: bool,
    },
    /// Install a certificate and private key made elsewhere (for cameras that cannot make a
    /// key): a PKCS#12 file, or a PEM certificate chain and key. Every check runs against the
    /// camera's clock before upload; the camera must then present exactly that certificate. The
    /// passphrase is read from standard input (`--passphrase-stdin`) or a prompt, never from
    /// the command line.
    ImportKey {
        /// The camera: device service URL or address.
        target: String,
        /// The PKCS#12 file (`.p12` / `.pfx`).
        #[arg(long, conflicts_with_all = ["pem_cert", "pem_key"], required_unless_present = "pem_cert")]
        p12: Option<PathBuf>,
        /// The certificate chain, PEM, leaf and intermediates.
        #[arg(long, requires = "pem_key")]
        pem_cert: Option<PathBuf>,
        /// The private key, PEM (PKCS#8 or PKCS#1 RSA, unencrypted).
        #[arg(long, requires = "pem_cert")]
        pem_key: Option<PathBuf>,
        /// Read the PKCS#12 passphrase from the first line of standard input.
        #[arg(long, requires = "p12")]
        passphrase_stdin: bool,
        /// The CA the certificate must chain to (PEM or DER); without it, the last certificate
        /// of the file.
        #[arg(long)]
        ca: Option<PathBuf>,
        /// The administrator account.
        #[arg(long, default_value = "admin")]
        user: String,
        /// Another host name or address the camera is reached by (repeatable).
        #[arg(long = "name")]
        names: Vec<String>,
        /// One JSON line.
        #[arg(long)]
        json: bool,
    },
    /// What certificate each camera serves and when it expires, soonest first.
    List {
        /// Only the cameras of this site.
        #[arg(long)]
        site: Option<String>,
        /// One JSON line per camera.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
enum InventoryAction {
    /// One line per camera.
    List,
    /// A camera's record and its audit trail.
    Show {
        /// The camera's inventory key (e.g. `host:192.0.2.10:80`), URL or HOST[:PORT].
        camera: String,
    },
}

#[derive(Subcommand, Debug)]
enum CredentialsAction {
    /// Store a camera user's password in the OS keychain (read from stdin or a prompt).
    Set {
        /// Device service URL or HOST[:PORT].
        url: String,
        /// User name on the camera.
        #[arg(long)]
        user: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Remove a camera user's password from the OS keychain.
    Forget {
        /// Device service URL or HOST[:PORT].
        url: String,
        /// User name on the camera.
        #[arg(long)]
        user: String,
    },
    /// The credentials Camward keeps (camera and user, never the password).
    List,
    /// Seal every settled credential into a passphrase-encrypted escrow file for the site owner.
    Export {
        /// Where to write the escrow.
        #[arg(long)]
        out: PathBuf,
        /// Read the passphrase from the first line of standard input instead of a prompt.
        #[arg(long)]
        passphrase_stdin: bool,
    },
    /// Import an escrow file: its passwords become the current ones in the keychain.
    Import {
        /// The escrow file.
        file: PathBuf,
        /// Read the passphrase from the first line of standard input instead of a prompt.
        #[arg(long)]
        passphrase_stdin: bool,
    },
}

/// Exit codes: 0 ok; 2 usage (clap); 3 could not talk to the camera; 4 the camera refused;
/// 5 local problem (keychain, input); 6 a guided step waits for a person (and nothing failed).
const EXIT_WAITING_FOR_PERSON: u8 = 6;

fn exit_code(err: &CoreError) -> u8 {
    match err.code.as_str() {
        "guided_step_pending" => EXIT_WAITING_FOR_PERSON,
        "timeout" | "unreachable" | "connection_broken" | "reply_truncated" | "tls"
        | "response_too_large" | "malformed_reply" | "not_onvif" | "invalid_url" => 3,
        "not_authorized"
        | "locked_out"
        | "not_supported"
        | "device_fault"
        | "http_status"
        | "not_factory_fresh"
        | "no_such_user"
        | "new_password_refused"
        | "old_password_accepted"
        | "no_password_accepted"
        | "attempt_budget_spent" => 4,
        _ => 5,
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(&cli.log))
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(5);
        }
    };
    let config = Config {
        db: cli.db,
        keychain: match cli.keychain_service {
            Some(service) => Keychain::with_service(service),
            None => Keychain::default(),
        },
    };
    match runtime.block_on(run(cli.command, &config)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!(
                "error: {}: {}: {} [{}]",
                e.camera, e.step, e.message, e.code
            );
            ExitCode::from(exit_code(&e))
        }
    }
}

/// Where secrets and records live for this run.
#[derive(Debug)]
struct Config {
    db: Option<PathBuf>,
    keychain: Keychain,
}

impl Config {
    fn vault(&self) -> Result<Vault, CoreError> {
        let path = match &self.db {
            Some(p) => p.clone(),
            None => camward_vault::default_db_path()
                .map_err(|e| local_error(e.code(), "-", "open inventory", e.to_string()))?,
        };
        let inventory = Inventory::open(&path)
            .map_err(|e| local_error(e.code(), "-", "open inventory", e.to_string()))?;
        let ledger = CredentialLedger::new(Arc::new(self.keychain.clone()), &inventory);
        Ok(Vault { ledger, inventory })
    }
}

fn local_error(code: &str, camera: &str, step: &str, message: String) -> CoreError {
    CoreError {
        code: code.into(),
        message,
        camera: camera.into(),
        step: step.into(),
    }
}

/// Reads the password without ever taking it from argv.
fn read_password(
    from_stdin: bool,
    key: &CredentialKey,
    url: &str,
    ledger: Option<&CredentialLedger>,
) -> Result<Sensitive<String>, CoreError> {
    if from_stdin {
        return read_stdin_line(url, "read password");
    }
    if let Some(ledger) = ledger {
        match ledger.current(key) {
            Ok(Some(secret)) => return Ok(secret),
            Ok(None) => {}
            Err(e) => tracing::debug!(error = %e, "keychain not usable, falling back to a prompt"),
        }
    }
    if std::io::stdin().is_terminal() {
        let prompt = format!("Password for {key}: ");
        return rpassword::prompt_password(prompt)
            .map(Sensitive::new)
            .map_err(|e| local_error("input", url, "read password", e.to_string()));
    }
    Err(local_error(
        "no_password",
        url,
        "read password",
        format!("no password for {key}: use --password-stdin, store one with `camward credentials set`, or run in a terminal"),
    ))
}

/// The first line of standard input, as a secret.
fn read_stdin_line(camera: &str, step: &str) -> Result<Sensitive<String>, CoreError> {
    let mut raw = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut raw)
        .map_err(|e| local_error("input", camera, step, e.to_string()))?;
    let trimmed = raw.trim_end_matches(['\r', '\n']).to_owned();
    zeroize_string(&mut raw);
    if trimmed.is_empty() {
        return Err(local_error(
            "input",
            camera,
            step,
            "standard input was empty".into(),
        ));
    }
    Ok(Sensitive::new(trimmed))
}

fn zeroize_string(s: &mut String) {
    // Overwrite before freeing so the secret does not linger in freed memory.
    let len = s.len();
    s.clear();
    s.extend(std::iter::repeat_n('\0', len));
    s.clear();
}

/// The passphrase of a PKCS#12 file: stdin, or a prompt.
fn read_pkcs12_passphrase(
    from_stdin: bool,
    file: &std::path::Path,
) -> Result<Sensitive<String>, CoreError> {
    if from_stdin || !std::io::stdin().is_terminal() {
        return read_stdin_line("-", "read the PKCS#12 passphrase");
    }
    rpassword::prompt_password(format!("Passphrase of {}: ", file.display()))
        .map(Sensitive::new)
        .map_err(|e| local_error("input", "-", "read the PKCS#12 passphrase", e.to_string()))
}

/// A passphrase for an escrow: stdin, or a prompt (asked twice when sealing).
fn read_passphrase(from_stdin: bool, confirm: bool) -> Result<Sensitive<String>, CoreError> {
    if from_stdin || !std::io::stdin().is_terminal() {
        return read_stdin_line("-", "read passphrase");
    }
    let ask = |prompt: &str| {
        rpassword::prompt_password(prompt)
            .map(Sensitive::new)
            .map_err(|e| local_error("input", "-", "read passphrase", e.to_string()))
    };
    let first = ask("Escrow passphrase: ")?;
    if confirm && ask("Repeat the passphrase: ")? != first {
        return Err(local_error(
            "input",
            "-",
            "read passphrase",
            "the two passphrases differ".into(),
        ));
    }
    Ok(first)
}

/// Prints one line per credential and returns the worst exit code among the failures.
fn report(out: &mut impl Write, outcomes: &[CameraOutcome]) -> Result<u8, CoreError> {
    let write_err = |e: std::io::Error| local_error("output", "-", "write", e.to_string());
    let mut worst = 0;
    for o in outcomes {
        match &o.result {
            Ok(result) => writeln!(
                out,
                "ok      {} {}: {}",
                o.camera,
                o.user,
                serde_json::to_value(result)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            )
            .map_err(write_err)?,
            Err(e) => {
                worst = worst.max(exit_code(e));
                writeln!(
                    out,
                    "failed  {} {}: {}: {} [{}]",
                    o.camera, o.user, e.step, e.message, e.code
                )
                .map_err(write_err)?;
            }
        }
    }
    Ok(worst)
}

/// The new password: typed (one camera only, so that no two cameras share one) or generated.
fn new_password(password_stdin: bool, targets: &[String]) -> Result<NewPassword, CoreError> {
    if password_stdin && targets.len() > 1 {
        return Err(local_error(
            "shared_password",
            "-",
            "read password",
            "a typed password is for one camera only, so that no two cameras share it; leave out --password-stdin to generate one per camera".into(),
        ));
    }
    Ok(if password_stdin {
        NewPassword::Given(read_stdin_line("-", "read password")?)
    } else {
        NewPassword::Generate
    })
}

/// The credentials the vault knows: each camera's administrator from the inventory, plus every
/// credential with a change in flight.
fn known_credentials(vault: &Vault) -> Result<Vec<CredentialKey>, CoreError> {
    let inv = |e: camward_vault::InventoryError| {
        local_error(e.code(), "-", "read inventory", e.to_string())
    };
    let led =
        |e: camward_vault::LedgerError| local_error(e.code(), "-", "read ledger", e.to_string());
    let mut keys: Vec<CredentialKey> = vault
        .inventory
        .cameras(None)
        .map_err(inv)?
        .into_iter()
        .filter_map(|c| c.credential)
        .collect();
    keys.extend(vault.ledger.pending().map_err(led)?);
    keys.extend(vault.ledger.awaiting_retirement().map_err(led)?);
    keys.sort_by(|a, b| (&a.camera, &a.user).cmp(&(&b.camera, &b.user)));
    keys.dedup();
    Ok(keys)
}

/// Runs one command; `Ok` carries the exit code (a batch that printed per-camera failures).
async fn run(command: Command, config: &Config) -> Result<u8, CoreError> {
    let mut out = std::io::stdout().lock();
    let write_err = |e: std::io::Error| local_error("output", "-", "write", e.to_string());
    match command {
        Command::Probe { url, json } => {
            let report = camward_core::probe::probe(&url).await?;
            if json {
                let text = serde_json::to_string(&report)
                    .map_err(|e| local_error("output", &url, "encode", e.to_string()))?;
                writeln!(out, "{text}").map_err(write_err)?;
            } else {
                write!(out, "{}", camward_core::probe::render_text(&report)).map_err(write_err)?;
            }
        }
        Command::Info {
            url,
            user,
            password_stdin,
            json,
        } => {
            let key = CredentialKey::new(camward_core::camera_key(&url), &user);
            let vault = config.vault();
            if let Err(e) = &vault {
                tracing::debug!(error = %e.message, "inventory not usable, falling back to a prompt");
            }
            let ledger = vault.as_ref().ok().map(|v| &v.ledger);
            let password = read_password(password_stdin, &key, &url, ledger)?;
            let report = camward_core::info::info(&url, &user, &password).await?;
            if json {
                let text = serde_json::to_string(&report)
                    .map_err(|e| local_error("output", &url, "encode", e.to_string()))?;
                writeln!(out, "{text}").map_err(write_err)?;
            } else {
                write!(out, "{}", camward_core::info::render_text(&report)).map_err(write_err)?;
            }
        }
        Command::Credentials { action } => match action {
            CredentialsAction::Set {
                url,
                user,
                password_stdin,
            } => {
                let key = CredentialKey::new(camward_core::camera_key(&url), &user);
                let password = read_password(password_stdin, &key, &url, None)?;
                // Through the ledger (refused while a change of this password is in flight), and
                // the camera filed in the inventory, so that audits compare it with the others.
                let vault = config.vault()?;
                vault
                    .ledger
                    .record_current(&key, &password)
                    .map_err(|e| local_error(e.code(), &url, "store credential", e.to_string()))?;
                let inv = |e: camward_vault::InventoryError| {
                    local_error(e.code(), &url, "file the camera", e.to_string())
                };
                let mut record = vault
                    .inventory
                    .camera(&key.camera)
                    .map_err(inv)?
                    .unwrap_or_else(|| camward_vault::CameraRecord {
                        key: key.camera.clone(),
                        addresses: vec![url.clone()],
                        ..Default::default()
                    });
                if record.credential.is_none() {
                    record.credential = Some(key.clone());
                    vault.inventory.upsert_camera(&record).map_err(inv)?;
                }
                writeln!(out, "stored the password for {key} in the OS keychain")
                    .map_err(write_err)?;
            }
            CredentialsAction::Forget { url, user } => {
                let key = CredentialKey::new(camward_core::camera_key(&url), &user);
                // Every slot (current, pending, previous) and the inventory's pointer to it, so that
                // nothing (an escrow export, an audit) goes looking for a password that is gone.
                let vault = config.vault()?;
                vault
                    .ledger
                    .forget(&key)
                    .map_err(|e| local_error(e.code(), &url, "forget credential", e.to_string()))?;
                let inv = |e: camward_vault::InventoryError| {
                    local_error(e.code(), &url, "update the inventory", e.to_string())
                };
                if let Some(mut record) = vault.inventory.camera(&key.camera).map_err(inv)? {
                    if record.credential.as_ref() == Some(&key) {
                        record.credential = None;
                        vault.inventory.upsert_camera(&record).map_err(inv)?;
                    }
                }
                writeln!(out, "removed the password for {key} from the OS keychain")
                    .map_err(write_err)?;
            }
            CredentialsAction::List => {
                let vault = config.vault()?;
                for key in known_credentials(&vault)? {
                    let phase = vault
                        .ledger
                        .change(&key)
                        .ok()
                        .flatten()
                        .map_or_else(|| "settled".to_owned(), |c| c.phase.to_string());
                    writeln!(out, "{}\t{}\t{phase}", key.camera, key.user).map_err(write_err)?;
                }
            }
            CredentialsAction::Export {
                out: path,
                passphrase_stdin,
            } => {
                let vault = config.vault()?;
                let keys = known_credentials(&vault)?;
                let passphrase = read_passphrase(passphrase_stdin, true)?;
                let sealed = vault
                    .ledger
                    .export_escrow(&keys, &passphrase)
                    .map_err(|e| local_error(e.code(), "-", "seal escrow", e.to_string()))?;
                std::fs::write(&path, sealed).map_err(|e| {
                    local_error(
                        "output",
                        "-",
                        "write escrow",
                        format!("{}: {e}", path.display()),
                    )
                })?;
                writeln!(
                    out,
                    "sealed {} credentials into {}",
                    keys.len(),
                    path.display()
                )
                .map_err(write_err)?;
            }
            CredentialsAction::Import {
                file,
                passphrase_stdin,
            } => {
                let vault = config.vault()?;
                let bytes = std::fs::read(&file).map_err(|e| {
                    local_error(
                        "input",
                        "-",
                        "read escrow",
                        format!("{}: {e}", file.display()),
                    )
                })?;
                let passphrase = read_passphrase(passphrase_stdin, false)?;
                let entries = camward_vault::import_escrow(&bytes, &passphrase)
                    .map_err(|e| local_error(e.code(), "-", "open escrow", e.to_string()))?;
                for (key, secret) in &entries {
                    vault.ledger.record_current(key, secret).map_err(|e| {
                        local_error(e.code(), &key.camera, "store credential", e.to_string())
                    })?;
                    writeln!(out, "imported {key}").map_err(write_err)?;
                }
            }
        },
        Command::InitAdmin {
            targets,
            user,
            password_stdin,
            generate: _,
            show_password,
            confirm,
        } => {
            let vault = config.vault()?;
            let choice = new_password(password_stdin && !confirm, &targets)?;
            let mut worst = 0;
            let mut waiting = false;
            for target in &targets {
                let camera = camward_core::device_url(target)
                    .map_or_else(|_| target.clone(), |u| camward_core::camera_key(&u));
                let mut result = if confirm {
                    credentials::confirm_guided_admin(&vault, target, &user).await
                } else {
                    credentials::init_admin(&vault, target, &user, &choice).await
                };
                if let Ok(done) = &result {
                    if let InitAdminStatus::AwaitingPerson { page } = &done.status {
                        // The person needs the password to type it into the camera's page: this
                        // is the one place it is shown without --show-password.
                        writeln!(
                            out,
                            "action  {camera} {user}: this camera takes its first administrator on its own page.\n\
                             \x20       1. open {page}\n\
                             \x20       2. create the administrator {user} with the password: {}\n\
                             \x20       3. confirm: camward init-admin --confirm {target}",
                            done.password.expose()
                        )
                        .map_err(write_err)?;
                        if std::io::stdin().is_terminal() {
                            write!(out, "        press Enter once it is done: ")
                                .map_err(write_err)?;
                            out.flush().map_err(write_err)?;
                            let mut line = String::new();
                            std::io::stdin().read_line(&mut line).map_err(|e| {
                                local_error("input", &camera, "confirm", e.to_string())
                            })?;
                            result = credentials::confirm_guided_admin(&vault, target, &user).await;
                        }
                    }
                }
                match &result {
                    Ok(done) if done.status == InitAdminStatus::Created => {
                        if show_password {
                            writeln!(
                                out,
                                "password for {} on {}: {}",
                                done.user,
                                done.camera,
                                done.password.expose()
                            )
                            .map_err(write_err)?;
                        }
                        writeln!(out, "ok      {camera} {user}: administrator created")
                            .map_err(write_err)?;
                    }
                    Ok(_) => {
                        writeln!(
                            out,
                            "waiting {camera} {user}: for the person at the camera's page"
                        )
                        .map_err(write_err)?;
                        waiting = true;
                    }
                    Err(e) => {
                        let code = exit_code(e);
                        if code == EXIT_WAITING_FOR_PERSON {
                            waiting = true;
                        } else {
                            worst = worst.max(code);
                        }
                        writeln!(
                            out,
                            "failed  {camera} {user}: {}: {} [{}]",
                            e.step, e.message, e.code
                        )
                        .map_err(write_err)?;
                    }
                }
            }
            if worst == 0 && waiting {
                return Ok(EXIT_WAITING_FOR_PERSON);
            }
            return Ok(worst);
        }
        Command::Audit {
            targets,
            user,
            level,
            plan,
            firmware_catalog,
            outside,
            concurrency,
            json,
        } => {
            let vault = config.vault()?;
            let plan = plan
                .map(|p| camward_policy::plan::load(&p))
                .transpose()
                .map_err(|e| local_error(e.code(), "-", "read the site plan", e.to_string()))?;
            let firmware = firmware_catalog
                .map(|p| camward_policy::firmware::FirmwareCatalog::load(&p))
                .transpose()
                .map_err(|e| {
                    local_error(e.code(), "-", "read the firmware catalog", e.to_string())
                })?;
            let options = camward_core::hardening::audit::AuditOptions {
                level,
                plan: plan.as_ref(),
                firmware: firmware.as_ref(),
                outside,
                peers: None,
            };
            let results = camward_core::hardening::audit::audit_all_or_prelogin(
                &vault,
                &targets,
                &user,
                &options,
                concurrency,
            )
            .await;
            return scorecards(&mut out, &results, json);
        }
        Command::Commission {
            plan,
            targets,
            user,
            dry_run,
            outside,
            firmware_catalog,
            concurrency,
            json,
        } => {
            let vault = config.vault()?;
            let plan = camward_policy::plan::load(&plan)
                .map_err(|e| local_error(e.code(), "-", "read the site plan", e.to_string()))?;
            let firmware = firmware_catalog
                .map(|p| camward_policy::firmware::FirmwareCatalog::load(&p))
                .transpose()
                .map_err(|e| {
                    local_error(e.code(), "-", "read the firmware catalog", e.to_string())
                })?;
            let options = camward_core::hardening::commission::CommissionOptions {
                plan: &plan,
                user: &user,
                dry_run,
                outside,
                firmware: firmware.as_ref(),
            };
            let bars = progress::CommissionProgress::new(
                json,
                targets.len(),
                camward_core::hardening::catalog::for_level(plan.level()).count(),
            );
            let progress = |event| bars.event(event);
            let results = camward_core::hardening::commission::commission_all(
                &vault,
                &targets,
                &options,
                concurrency,
                &progress,
            )
            .await;
            bars.finish();
            return commission_report(&mut out, &results, json);
        }
        Command::Report {
            site,
            format,
            out: path,
        } => {
            use camward_core::hardening::report::{self, Format};
            let vault = config.vault()?;
            let format = match format {
                ReportFormat::Html => Format::Html,
                ReportFormat::Pdf => Format::Pdf,
                ReportFormat::Json => Format::Json,
            };
            let written = report::write(&vault, site.as_deref(), format, &path).await?;
            let s = &written.summary;
            let percent = |v: Option<u8>| v.map_or_else(|| "-".to_owned(), |v| format!("{v}%"));
            writeln!(
                out,
                "{}: {} cameras, mean score {} before, {} now, {} tasks left for a person",
                path.display(),
                s.cameras,
                percent(s.mean_before),
                percent(s.mean_now),
                s.person_tasks
            )
            .map_err(write_err)?;
        }
        Command::Rotate {
            targets,
            user,
            admin,
            password_stdin,
            generate: _,
            concurrency,
            resume,
        } => {
            let vault = config.vault()?;
            let outcomes = if resume {
                camward_core::credentials::resume(&vault, concurrency).await?
            } else {
                let request = RotationRequest {
                    user,
                    admin,
                    password: new_password(password_stdin, &targets)?,
                    concurrency,
                };
                camward_core::credentials::rotate(&vault, &targets, request).await
            };
            if resume && outcomes.is_empty() {
                writeln!(out, "nothing to resume").map_err(write_err)?;
            }
            let worst = report(&mut out, &outcomes)?;
            return Ok(worst);
        }
        Command::Discover {
            interfaces,
            timeout,
            methods,
            add_link_local,
            sweep_rate,
            list_interfaces,
            json,
        } => {
            if list_interfaces {
                for i in camward_core::discover::interfaces()? {
                    let line = if json {
                        serde_json::to_string(&i)
                            .map_err(|e| local_error("output", "-", "encode", e.to_string()))?
                    } else {
                        let addresses: Vec<String> =
                            i.addresses.iter().map(ToString::to_string).collect();
                        let note = if i.loopback {
                            "  (loopback: not scanned by default)"
                        } else if camward_discovery::linklocal::own_link_local(&i.addresses)
                            .is_none()
                        {
                            "  (no link-local address: the sweep needs one, see --add-link-local)"
                        } else {
                            ""
                        };
                        format!("{:<16} {}{note}", i.name, addresses.join(", "))
                    };
                    writeln!(out, "{line}").map_err(write_err)?;
                }
                return Ok(0);
            }
            let chosen = camward_core::discover::choose(&interfaces)?;
            if chosen.is_empty() {
                return Err(local_error(
                    "no_interface",
                    "-",
                    "choose interfaces",
                    "no network interface with an IPv4 address to scan".into(),
                ));
            }
            if !timeout.is_finite() {
                return Err(local_error(
                    "invalid_timeout",
                    "-",
                    "read options",
                    format!("--timeout must be a number of seconds, not {timeout}"),
                ));
            }
            let options = camward_core::discover::DiscoverOptions {
                methods,
                wait: std::time::Duration::from_secs_f64(timeout.clamp(0.2, 120.0)),
                add_link_local,
                sweep_rate: sweep_rate.clamp(10, 100_000),
            };
            discover(&mut out, &chosen, &options, json).await?;
        }
        Command::Decommission {
            targets,
            keep_network,
            yes,
            user,
            record,
            format,
            reboot_timeout,
            interfaces,
            json,
        } => {
            let vault = config.vault()?;
            let request = DecommissionRequest {
                options: camward_core::decommission::DecommissionOptions {
                    user,
                    keep_network,
                    reboot_timeout: std::time::Duration::from_secs(reboot_timeout),
                    interfaces,
                    ..Default::default()
                },
                yes,
                record,
                format,
                json,
            };
            return decommission(&mut out, &vault, &targets, &request).await;
        }
        Command::Certs { action } => return certs(&mut out, config, action).await,
        Command::Inventory { action } => {
            let vault = config.vault()?;
            let inv = |e: camward_vault::InventoryError| {
                local_error(e.code(), "-", "read inventory", e.to_string())
            };
            match action {
                InventoryAction::List => {
                    for c in vault.inventory.cameras(None).map_err(inv)? {
                        writeln!(
                            out,
                            "{}\t{}\t{}\t{}",
                            c.key,
                            c.model.as_deref().unwrap_or("-"),
                            c.firmware.as_deref().unwrap_or("-"),
                            c.addresses.first().map_or("-", String::as_str)
                        )
                        .map_err(write_err)?;
                    }
                }
                InventoryAction::Show { camera } => {
                    // Inventory keys name their kind (`host:`, `mac:`); anything else is an address.
                    let key = if camera.starts_with("host:") || camera.starts_with("mac:") {
                        camera.clone()
                    } else {
                        camward_core::camera_key(&camera)
                    };
                    let record = vault.inventory.camera(&key).map_err(inv)?.ok_or_else(|| {
                        local_error(
                            "unknown_camera",
                            &key,
                            "read inventory",
                            "no such camera in the inventory".into(),
                        )
                    })?;
                    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
                    writeln!(out, "camera:       {}", record.key).map_err(write_err)?;
                    writeln!(out, "manufacturer: {}", opt(&record.manufacturer))
                        .map_err(write_err)?;
                    writeln!(out, "model:        {}", opt(&record.model)).map_err(write_err)?;
                    writeln!(out, "firmware:     {}", opt(&record.firmware)).map_err(write_err)?;
                    writeln!(out, "serial:       {}", opt(&record.serial)).map_err(write_err)?;
                    writeln!(out, "addresses:    {}", record.addresses.join(", "))
                        .map_err(write_err)?;
                    writeln!(
                        out,
                        "credential:   {}",
                        record
                            .credential
                            .as_ref()
                            .map_or("-".into(), |k| k.user.clone())
                    )
                    .map_err(write_err)?;
                    writeln!(out, "audit trail:").map_err(write_err)?;
                    for a in vault.inventory.audit_log(Some(&key)).map_err(inv)? {
                        writeln!(
                            out,
                            "  {} {} {} {}: {}",
                            a.at, a.actor, a.action, a.result, a.detail
                        )
                        .map_err(write_err)?;
                    }
                }
            }
        }
    }
    Ok(0)
}

/// What `camward decommission` was asked to do.
struct DecommissionRequest {
    options: camward_core::decommission::DecommissionOptions,
    yes: bool,
    record: Option<PathBuf>,
    format: Option<ReportFormat>,
    json: bool,
}

/// Where the disposal record of the `index`-th of `count` cameras goes: `path` itself for one
/// camera, `STEM-SERIAL.EXT` (or `STEM-N.EXT`) for several.
fn record_path(
    path: &std::path::Path,
    count: usize,
    index: usize,
    serial: Option<&str>,
) -> PathBuf {
    if count <= 1 {
        return path.to_owned();
    }
    let tag: String = serial
        .map(|s| {
            s.chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect::<String>()
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| (index + 1).to_string());
    let stem = path
        .file_stem()
        .map_or_else(|| "disposal".into(), |s| s.to_string_lossy().into_owned());
    let name = match path.extension() {
        Some(ext) => format!("{stem}-{tag}.{}", ext.to_string_lossy()),
        None => format!("{stem}-{tag}"),
    };
    path.with_file_name(name)
}

/// Asks the person to confirm one camera's decommissioning on the terminal; true for yes.
fn confirm_decommission(
    plan: &camward_core::decommission::DecommissionPlan,
    keep_network: bool,
) -> Result<bool, CoreError> {
    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let mut err = std::io::stderr().lock();
    let write_err = |e: std::io::Error| local_error("output", &plan.url, "confirm", e.to_string());
    writeln!(
        err,
        "Decommission {} {} serial {} (firmware {}, MAC {}) at {}?",
        dash(&plan.manufacturer),
        dash(&plan.model),
        dash(&plan.serial),
        dash(&plan.firmware),
        dash(&plan.mac),
        plan.url
    )
    .map_err(write_err)?;
    writeln!(
        err,
        "  It is reset to its factory settings ({}), then Camward deletes its keychain entries ({}){}.",
        if keep_network { "network settings kept" } else { "network settings NOT kept" },
        if plan.credentials.is_empty() { "none".to_owned() } else { plan.credentials.join(", ") },
        plan.certificate
            .as_ref()
            .map(|c| format!(" and retires its certificate {}", c.sha256_fingerprint))
            .unwrap_or_default()
    )
    .map_err(write_err)?;
    write!(err, "Type y to go on [y/N]: ").map_err(write_err)?;
    err.flush().map_err(write_err)?;
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| local_error("input", &plan.url, "confirm", e.to_string()))?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}

/// `camward decommission`: one camera after the other (a person confirms each), a disposal record
/// per camera, and the worst exit code.
async fn decommission(
    out: &mut impl Write,
    vault: &Vault,
    targets: &[String],
    request: &DecommissionRequest,
) -> Result<u8, CoreError> {
    use camward_core::decommission::{self as dc, DecommissionEvent};
    use camward_core::disposal::{self, DisposalResult};
    use camward_core::hardening::report::Format;
    let write_err = |e: std::io::Error| local_error("output", "-", "write", e.to_string());
    if !request.yes && !std::io::stdin().is_terminal() {
        // Never a factory reset nobody agreed to: without a terminal only --yes says yes.
        return Err(local_error(
            "confirmation_required",
            "-",
            "confirm",
            "decommissioning factory-resets cameras and deletes their passwords: confirm on a terminal, or pass --yes in scripts".into(),
        ));
    }
    let format = match (request.format, &request.record) {
        (Some(ReportFormat::Html), _) => Format::Html,
        (Some(ReportFormat::Pdf), _) => Format::Pdf,
        (Some(ReportFormat::Json), _) => Format::Json,
        (None, Some(path)) => match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("html") || e.eq_ignore_ascii_case("htm") => {
                Format::Html
            }
            Some(e) if e.eq_ignore_ascii_case("pdf") => Format::Pdf,
            _ => Format::Json,
        },
        (None, None) => Format::Json,
    };
    let mut worst = 0;
    for (index, target) in targets.iter().enumerate() {
        let fail = |out: &mut dyn Write, e: &CoreError| -> Result<u8, CoreError> {
            if request.json {
                writeln!(out, "{}", error_line(target, e)).map_err(write_err)?;
            } else {
                writeln!(
                    out,
                    "{target}: not decommissioned: {}: {} [{}]",
                    e.step, e.message, e.code
                )
                .map_err(write_err)?;
            }
            Ok(if e.code == "reset_not_proven" {
                3
            } else {
                exit_code(e)
            })
        };
        if !request.yes {
            let plan = match dc::plan(vault, target, &request.options.user).await {
                Ok(plan) => plan,
                Err(e) => {
                    worst = worst.max(fail(out, &e)?);
                    continue;
                }
            };
            if !confirm_decommission(&plan, request.options.keep_network)? {
                let e = local_error(
                    "not_confirmed",
                    &plan.url,
                    "confirm",
                    "not confirmed: nothing was sent to the camera".into(),
                );
                worst = worst.max(fail(out, &e)?);
                continue;
            }
        }
        let quiet = request.json;
        let progress = |event: &DecommissionEvent| {
            if quiet {
                return;
            }
            let line = match event {
                DecommissionEvent::FinalStateRecorded => {
                    "final state recorded in the audit trail".to_owned()
                }
                DecommissionEvent::ResetSent { via } => format!("factory reset sent ({via})"),
                DecommissionEvent::Waiting { waited_s: 0 } => {
                    "waiting for the camera to come back factory-fresh".to_owned()
                }
                DecommissionEvent::Waiting { .. } => return,
                DecommissionEvent::FactoryStateSeen { address } => {
                    format!("factory state seen at {address}")
                }
                DecommissionEvent::CredentialsRetired { users } => format!(
                    "keychain entries deleted: {}",
                    if users.is_empty() {
                        "none".to_owned()
                    } else {
                        users.join(", ")
                    }
                ),
                DecommissionEvent::Recorded => "marked decommissioned in the inventory".to_owned(),
            };
            eprintln!("{target}: {line}");
        };
        let record = match dc::decommission(vault, target, &request.options, progress).await {
            Ok(record) => record,
            Err(e) => {
                worst = worst.max(fail(out, &e)?);
                continue;
            }
        };
        let written = match &request.record {
            Some(path) => {
                let path = record_path(path, targets.len(), index, record.serial.as_deref());
                disposal::write(&record, format, &path).await?;
                Some(path)
            }
            None => None,
        };
        if request.json {
            let line = serde_json::to_string(&record)
                .map_err(|e| local_error("output", "-", "encode", e.to_string()))?;
            writeln!(out, "{line}").map_err(write_err)?;
        }
        match &record.result {
            DisposalResult::Proven => {
                if !request.json {
                    let proof = record.proof.as_ref();
                    writeln!(
                        out,
                        "{target}: decommissioned: {} serial {}: factory-fresh at {} (found by {}; {}); keychain entries retired: {}; certificate to revoke: {}",
                        record.model.as_deref().unwrap_or("-"),
                        record.serial.as_deref().unwrap_or("-"),
                        proof.map_or("-", |p| p.address.as_str()),
                        proof.map_or_else(|| "-".to_owned(), |p| p.found_by.join(", ")),
                        proof.map_or("-", |p| p.factory_state.as_str()),
                        if record.credentials_retired.is_empty() { "none".to_owned() } else { record.credentials_retired.join(", ") },
                        record.certificate_to_revoke.as_ref().map_or("none", |c| c.sha256_fingerprint.as_str()),
                    )
                    .map_err(write_err)?;
                }
            }
            DisposalResult::NotProven { code, message } => {
                let e = local_error(
                    code,
                    &record.url,
                    "prove the factory state",
                    message.clone(),
                );
                if request.json {
                    worst = worst.max(if e.code == "reset_not_proven" {
                        3
                    } else {
                        exit_code(&e)
                    });
                } else {
                    worst = worst.max(fail(out, &e)?);
                }
            }
        }
        if let (Some(path), false) = (written, request.json) {
            writeln!(out, "{target}: disposal record: {}", path.display()).map_err(write_err)?;
        }
    }
    Ok(worst)
}

fn parse_method(name: &str) -> Result<camward_discovery::Method, String> {
    camward_discovery::Method::from_name(name).ok_or_else(|| {
        let all: Vec<&str> = camward_discovery::Method::ALL
            .iter()
            .map(|m| m.name())
            .collect();
        format!("unknown method {name:?}; one of: {}", all.join(", "))
    })
}

fn camera_line(c: &camward_core::discover::FoundCamera) -> String {
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let methods: Vec<&str> = c.methods.iter().map(|m| m.name()).collect();
    format!(
        "{:<15} {:<44} {:<10} {:<18} {:<17} {:<16} {}{}",
        c.ips
            .first()
            .map_or_else(|| "-".into(), ToString::to_string),
        c.addresses.first().map_or("-", String::as_str),
        opt(&c.vendor),
        opt(&c.model),
        opt(&c.mac),
        opt(&c.serial),
        methods.join(","),
        if c.factory_fresh {
            "  factory-fresh"
        } else {
            ""
        }
    )
}

/// `camward discover`: a live list while it runs (stderr when it is a terminal), then the table,
/// or one JSON object per camera.
async fn discover(
    out: &mut impl Write,
    interfaces: &[camward_core::discover::Interface],
    options: &camward_core::discover::DiscoverOptions,
    json: bool,
) -> Result<(), CoreError> {
    use camward_core::discover::DiscoveryEvent;
    let live = std::io::stderr().is_terminal();
    if !json {
        let names: Vec<&str> = interfaces.iter().map(|i| i.name.as_str()).collect();
        let sweeping = options.methods.is_empty()
            || options
                .methods
                .contains(&camward_discovery::Method::LinkLocal);
        let sweep = if sweeping {
            format!(
                "; the link-local sweep takes about {:.0} s",
                65_534.0 / f64::from(options.sweep_rate)
            )
        } else {
            String::new()
        };
        eprintln!(
            "scanning {} (listening {:.1} s{sweep}; Ctrl-C stops) …",
            names.join(", "),
            options.wait.as_secs_f64()
        );
    }
    let mut count = 0usize;
    let cancel = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let found = camward_core::discover::discover(interfaces, options, cancel, |event| {
        let clear = if live { "\r\x1b[2K" } else { "" };
        match event {
            DiscoveryEvent::Found { camera } => {
                count += 1;
                if live && !json {
                    eprintln!("{clear}+ {}", camera_line(camera));
                }
            }
            DiscoveryEvent::Gone { camera } => {
                count = count.saturating_sub(1);
                if !json {
                    eprintln!("{clear}- left: {}", camera_line(camera));
                }
            }
            DiscoveryEvent::Updated { .. } => {}
            DiscoveryEvent::Warning(w) => {
                eprintln!("{clear}warning [{}] {} on {}: {}", w.code, w.method, w.interface, w.message);
            }
            DiscoveryEvent::Sweep { sent, total, hosts } => {
                if live && !json {
                    eprint!(
                        "{clear}link-local sweep {sent}/{total} · {hosts} live host(s) · {count} camera(s)"
                    );
                }
            }
        }
    })
    .await;
    if live && !json {
        eprint!("\r\x1b[2K");
    }
    for c in &found.cameras {
        let line = if json {
            serde_json::to_string(c)
                .map_err(|e| local_error("output", "-", "encode", e.to_string()))?
        } else {
            camera_line(c)
        };
        writeln!(out, "{line}").map_err(|e| local_error("output", "-", "write", e.to_string()))?;
    }
    if !json {
        eprintln!(
            "{} camera(s) found{}",
            found.cameras.len(),
            if found.cancelled {
                " before the scan was stopped"
            } else {
                ""
            }
        );
    }
    Ok(())
}

/// One camera's error as a JSON line of a batch's `--json` output.
fn error_line(camera: &str, e: &CoreError) -> serde_json::Value {
    serde_json::json!({"camera": camera, "error": {"code": e.code, "message": e.message, "step": e.step}})
}

fn parse_level(name: &str) -> Result<camward_core::hardening::Level, String> {
    match name.to_ascii_lowercase().as_str() {
        "entry" => Ok(camward_core::hardening::Level::Entry),
        "standard" => Ok(camward_core::hardening::Level::Standard),
        "advanced" => Ok(camward_core::hardening::Level::Advanced),
        _ => Err(format!(
            "unknown level {name:?}; one of: entry, standard, advanced"
        )),
    }
}

/// Prints the scorecards (a table per camera and a site line, or JSON lines) and returns the
/// worst exit code among cameras that could not be audited.
fn scorecards(
    out: &mut impl Write,
    results: &[(
        String,
        Result<camward_core::hardening::audit::Audited, CoreError>,
    )],
    json: bool,
) -> Result<u8, CoreError> {
    use camward_core::hardening::audit::Audited;
    use camward_core::hardening::Status;
    let write_err = |e: std::io::Error| local_error("output", "-", "write", e.to_string());
    let mut worst = 0;
    let (mut cards, mut pass, mut fail, mut manual) = (0, 0, 0, 0);
    for (camera, result) in results {
        match result {
            Ok(audited) if json => {
                let encode =
                    |e: serde_json::Error| local_error("output", "-", "encode", e.to_string());
                let mut line = serde_json::to_value(audited.scorecard()).map_err(encode)?;
                // A scorecard seen without a login says so, and why.
                if let (Audited::WithoutLogin { seen, why }, Some(fields)) =
                    (audited, line.as_object_mut())
                {
                    fields.insert("login".into(), false.into());
                    fields.insert("factory_fresh".into(), seen.factory_fresh.into());
                    fields.insert("why_no_login".into(), why.message.clone().into());
                }
                writeln!(out, "{line}").map_err(write_err)?;
            }
            Ok(audited) => {
                let card = audited.scorecard();
                if let Audited::WithoutLogin { seen, why } = audited {
                    let why = if seen.factory_fresh {
                        "factory-fresh, no administrator yet: `camward commission --plan FILE` or `camward init-admin` creates one".to_owned()
                    } else {
                        format!("{} [{}]", why.message, why.code)
                    };
                    writeln!(
                        out,
                        "{camera}: seen without a login (controls that need one are unknown): {why}"
                    )
                    .map_err(write_err)?;
                }
                cards += 1;
                pass += card.count(Status::Pass);
                fail += card.count(Status::Fail);
                manual += card.count(Status::ManualNeeded);
                writeln!(
                    out,
                    "{} — {} {} — level {}: score {}% ({} pass, {} FAIL, {} manual, {} unknown)",
                    card.camera,
                    card.model.as_deref().unwrap_or("-"),
                    card.serial.as_deref().unwrap_or("-"),
                    card.level,
                    card.score(),
                    card.count(Status::Pass),
                    card.count(Status::Fail),
                    card.count(Status::ManualNeeded),
                    card.count(Status::Unknown),
                )
                .map_err(write_err)?;
                for f in &card.findings {
                    writeln!(
                        out,
                        "  {:<8} {:<22} {}",
                        f.status.label(),
                        f.control,
                        f.evidence
                    )
                    .map_err(write_err)?;
                    if let Some(fix) = &f.fix {
                        writeln!(out, "  {:<8} {:<22} → {fix}", "", "").map_err(write_err)?;
                    }
                }
            }
            Err(e) => {
                worst = worst.max(exit_code(e));
                if json {
                    writeln!(out, "{}", error_line(camera, e)).map_err(write_err)?;
                } else {
                    writeln!(
                        out,
                        "{camera}: not audited: {}: {} [{}]",
                        e.step, e.message, e.code
                    )
                    .map_err(write_err)?;
                }
            }
        }
    }
    if !json && results.len() > 1 {
        writeln!(
            out,
            "site: {cards} of {} cameras audited; {pass} pass, {fail} FAIL, {manual} manual",
            results.len()
        )
        .map_err(write_err)?;
    }
    Ok(worst)
}

fn outcome_text(o: &camward_core::hardening::commission::Outcome) -> String {
    use camward_core::hardening::commission::Outcome as O;
    match o {
        O::AlreadyHardened => "already hardened".into(),
        O::WouldChange { change } => format!("would change: {change}"),
        O::Applied { change } => format!("applied: {change}"),
        O::Guided { step } => format!("for a person: {step}"),
        O::Refused { reason } => format!("refused: {reason}"),
        O::Failed { code, message } => format!("failed: {message} [{code}]"),
        O::Skipped { reason } => format!("skipped: {reason}"),
        O::Stopped => "stopped before it was started: run again to resume".into(),
    }
}

/// Prints each camera's result (the steps that did something, the score before and after) and
/// returns the worst exit code among cameras that stopped.
fn commission_report(
    out: &mut impl Write,
    results: &[(
        String,
        Result<camward_core::hardening::commission::CameraCommission, CoreError>,
    )],
    json: bool,
) -> Result<u8, CoreError> {
    use camward_core::hardening::commission::Outcome;
    let write_err = |e: std::io::Error| local_error("output", "-", "write", e.to_string());
    let mut worst = 0;
    for (camera, result) in results {
        if let Ok(c) = result {
            // A step that failed is the camera refusing (4); a first admin that waits for a
            // person is a guided step (6), as with init-admin.
            if c.steps
                .iter()
                .any(|s| matches!(s.outcome, Outcome::Failed { .. }))
            {
                worst = worst.max(4);
            }
            if c.awaiting_person {
                worst = worst.max(6);
            }
        }
        match result {
            Ok(c) if json => {
                let line = serde_json::to_string(c)
                    .map_err(|e| local_error("output", "-", "encode", e.to_string()))?;
                writeln!(out, "{line}").map_err(write_err)?;
            }
            Ok(c) => {
                let score = |s: &Option<camward_core::hardening::Scorecard>| {
                    s.as_ref()
                        .map_or_else(|| "-".into(), |s| format!("{}%", s.score()))
                };
                writeln!(
                    out,
                    "{camera}: score before {}, after {}",
                    score(&c.before),
                    score(&c.after)
                )
                .map_err(write_err)?;
                if let Some(admin) = &c.first_admin {
                    writeln!(out, "  {admin}").map_err(write_err)?;
                }
                for step in c
                    .steps
                    .iter()
                    .filter(|s| !matches!(s.outcome, Outcome::AlreadyHardened))
                {
                    writeln!(
                        out,
                        "  {:<22} {}",
                        step.control,
                        outcome_text(&step.outcome)
                    )
                    .map_err(write_err)?;
                }
            }
            Err(e) => {
                worst = worst.max(exit_code(e));
                if json {
                    writeln!(out, "{}", error_line(camera, e)).map_err(write_err)?;
                } else {
                    writeln!(
                        out,
                        "{camera}: stopped: {}: {} [{}]",
                        e.step, e.message, e.code
                    )
                    .map_err(write_err)?;
                }
            }
        }
    }
    Ok(worst)
}

/// Where the site CA's certificate of `site` lives: next to the inventory file.
fn site_ca_path(config: &Config, site: &str) -> Result<PathBuf, CoreError> {
    camward_core::certificates::routes::site_ca_path(config.db.as_deref(), site)
}

/// `camward certs trust` on one camera: show what it presents, confirm, pin.
async fn trust_one(
    out: &mut impl Write,
    vault: &Vault,
    target: &str,
    user: &str,
    port: Option<u16>,
    yes: bool,
    json: bool,
) -> Result<(), CoreError> {
    use camward_core::certificates::{inspect_for_trust, pin_trusted};
    let offer = inspect_for_trust(vault, target, user, port).await?;
    let write_err =
        |e: std::io::Error| local_error("output", &offer.camera, "write", e.to_string());
    if json {
        let line = serde_json::to_string(&offer)
            .map_err(|e| local_error("output", "-", "encode", e.to_string()))?;
        writeln!(out, "{line}").map_err(write_err)?;
    } else {
        writeln!(
            out,
            "{}: HTTPS port {} presents\n  subject  {}\n  issuer   {}\n  valid    {} to {}\n  SHA-256  {}",
            offer.camera,
            offer.port,
            offer.subject,
            offer.issuer,
            offer.not_before,
            offer.not_after,
            offer.sha256
        )
        .map_err(write_err)?;
        if let Some(old) = &offer.replaces {
            writeln!(
                out,
                "  CHANGED: the pinned certificate is SHA-256 {old}; a changed certificate is an alarm: pin the new one only if you know why it changed"
            )
            .map_err(write_err)?;
        }
    }
    if offer.already_pinned {
        if !json {
            writeln!(out, "{}: already pinned; nothing changed", offer.camera)
                .map_err(write_err)?;
        }
        return Ok(());
    }
    if !yes {
        if !std::io::stdin().is_terminal() {
            // Never a pin nobody looked at: without a terminal only --yes says yes.
            return Err(local_error(
                "confirmation_required",
                &offer.camera,
                "confirm",
                "pinning trusts this certificate from now on: compare its SHA-256 with the one the camera's own page shows, then confirm on a terminal, or pass --yes in scripts".into(),
            ));
        }
        let mut err = std::io::stderr().lock();
        write!(err, "Pin this certificate for {}? [y/N]: ", offer.camera).map_err(write_err)?;
        err.flush().map_err(write_err)?;
        let mut answer = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut answer)
            .map_err(|e| local_error("input", &offer.camera, "confirm", e.to_string()))?;
        if !matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
            return Err(local_error(
                "not_confirmed",
                &offer.camera,
                "confirm",
                "the person did not confirm; nothing pinned".into(),
            ));
        }
    }
    pin_trusted(vault, &offer).await?;
    if json {
        let line = serde_json::json!({"camera": offer.camera, "pinned": offer.sha256});
        writeln!(out, "{line}").map_err(write_err)?;
    } else {
        writeln!(
            out,
            "{}: pinned SHA-256 {} (a different certificate later is an alarm)",
            offer.camera, offer.sha256
        )
        .map_err(write_err)?;
    }
    Ok(())
}

async fn certs(
    out: &mut impl Write,
    config: &Config,
    action: CertsAction,
) -> Result<u8, CoreError> {
    let write_err = |e: std::io::Error| local_error("output", "-", "write", e.to_string());
    match action {
        CertsAction::CaInit { site, days } => {
            let path = site_ca_path(config, &site)?;
            let ca = camward_core::certificates::routes::create_site_ca(
                &config.keychain,
                &path,
                &site,
                days,
            )?;
            writeln!(
                out,
                "site CA of {}: certificate {} (SHA-256 {}); its private key is in the OS keychain only",
                ca.site(),
                path.display(),
                camward_certs::hex(&camward_certs::sha256(ca.certificate_der()))
            )
            .map_err(write_err)?;
            Ok(0)
        }
        CertsAction::Enrol {
            targets,
            site,
            user,
            days,
            names,
            json,
        } => {
            let vault = config.vault()?;
            let path = site_ca_path(config, &site)?;
            let ca =
                camward_core::certificates::routes::load_site_ca(&config.keychain, &path, &site)?;
            let extra: Vec<camward_certs::SubjectName> = names
                .iter()
                .map(|n| camward_certs::SubjectName::parse(n))
                .collect();
            let mut worst = 0;
            for target in &targets {
                let result = camward_core::certificates::enrol_camera(
                    &vault, target, &user, &ca, days, &extra,
                )
                .await;
                match result {
                    Ok(done) if json => {
                        let line = serde_json::to_string(&done)
                            .map_err(|e| local_error("output", "-", "encode", e.to_string()))?;
                        writeln!(out, "{line}").map_err(write_err)?;
                    }
                    Ok(done) => writeln!(
                        out,
                        "{}: certificate from site CA {site} for {} — SHA-256 {}, valid until {}{}; the camera presents it (TLS handshake checked)",
                        done.camera,
                        done.names.join(", "),
                        done.sha256,
                        done.not_after,
                        if done.replaced { ", replacing the one before" } else { "" }
                    )
                    .map_err(write_err)?,
                    Err(e) => {
                        worst = worst.max(exit_code(&e));
                        if json {
                            writeln!(out, "{}", error_line(target, &e)).map_err(write_err)?;
                        } else {
                            writeln!(
                                out,
                                "{}: not enrolled: {}: {} [{}]",
                                e.camera, e.step, e.message, e.code
                            )
                            .map_err(write_err)?;
                        }
                    }
                }
            }
            Ok(worst)
        }
        CertsAction::ExportCsr {
            targets,
            out: dir,
            organization,
            user,
            names,
        } => {
            let vault = config.vault()?;
            let extra: Vec<camward_certs::SubjectName> = names
                .iter()
                .map(|n| camward_certs::SubjectName::parse(n))
                .collect();
            let (manifest, errors) = camward_core::certificates::export_csrs(
                &vault,
                &targets,
                &user,
                &organization,
                &extra,
                &dir,
            )
            .await;
            for entry in &manifest.cameras {
                writeln!(
                    out,
                    "{}: {} (for {}; key SHA-256 {})",
                    entry.camera,
                    dir.join(&entry.file).display(),
                    entry.names.join(", "),
                    entry.key_sha256
                )
                .map_err(write_err)?;
            }
            let mut worst = 0;
            for e in &errors {
                worst = worst.max(exit_code(e));
                writeln!(
                    out,
                    "{}: no CSR: {}: {} [{}]",
                    e.camera, e.step, e.message, e.code
                )
                .map_err(write_err)?;
            }
            Ok(worst)
        }
        CertsAction::Import {
            dir,
            ca,
            user,
            json,
        } => {
            let vault = config.vault()?;
            let ca_der = camward_core::certificates::routes::read_ca_certificate(&ca)?;
            let (results, report) =
                camward_core::certificates::import_issued(&vault, &dir, &user, &ca_der).await?;
            let mut worst = 0;
            for (camera, result) in &results {
                match result {
                    Ok(done) if json => {
                        let line = serde_json::to_string(done)
                            .map_err(|e| local_error("output", "-", "encode", e.to_string()))?;
                        writeln!(out, "{line}").map_err(write_err)?;
                    }
                    Ok(done) => writeln!(
                        out,
                        "{}: certificate installed — SHA-256 {}, valid until {}; the camera presents it (TLS handshake checked)",
                        done.camera, done.sha256, done.not_after
                    )
                    .map_err(write_err)?,
                    Err(e) => {
                        worst = worst.max(exit_code(e));
                        if json {
                            writeln!(out, "{}", error_line(camera, e)).map_err(write_err)?;
                        } else {
                            writeln!(out, "{camera}: not installed: {}: {} [{}]", e.step, e.message, e.code)
                                .map_err(write_err)?;
                        }
                    }
                }
            }
            for file in &report.unmatched {
                eprintln!("{}: not used: {}", file.file.display(), file.reason);
            }
            for camera in &report.missing {
                eprintln!("{camera}: no issued certificate found in {}", dir.display());
                worst = worst.max(5);
            }
            Ok(worst)
        }
        CertsAction::Trust {
            targets,
            port,
            user,
            yes,
            json,
        } => {
            let vault = config.vault()?;
            let mut worst = 0;
            for target in &targets {
                let result = trust_one(out, &vault, target, &user, port, yes, json).await;
                if let Err(e) = result {
                    worst = worst.max(exit_code(&e));
                    if json {
                        writeln!(out, "{}", error_line(target, &e)).map_err(write_err)?;
                    } else {
                        writeln!(
                            out,
                            "{}: not pinned: {}: {} [{}]",
                            e.camera, e.step, e.message, e.code
                        )
                        .map_err(write_err)?;
                    }
                }
            }
            Ok(worst)
        }
        CertsAction::ImportKey {
            target,
            p12,
            pem_cert,
            pem_key,
            passphrase_stdin,
            ca,
            user,
            names,
            json,
        } => {
            use camward_core::certificates::routes::{
                read_ca_certificate, read_identity, KeyFiles,
            };
            let identity = match (p12, pem_cert, pem_key) {
                (Some(p12), _, _) => {
                    // A file that cannot be read is said before the passphrase is asked for.
                    std::fs::File::open(&p12).map_err(|e| {
                        local_error(
                            "io",
                            "-",
                            "read the PKCS#12 file",
                            format!("{}: {e}", p12.display()),
                        )
                    })?;
                    let passphrase = read_pkcs12_passphrase(passphrase_stdin, &p12)?;
                    read_identity(&KeyFiles::Pkcs12(p12), &passphrase)?
                }
                (None, Some(certificate), Some(key)) => read_identity(
                    &KeyFiles::Pem { certificate, key },
                    &Sensitive::new(String::new()),
                )?,
                _ => {
                    return Err(local_error(
                        "usage",
                        "-",
                        "arguments",
                        "give --p12 FILE, or --pem-cert FILE with --pem-key FILE".into(),
                    ))
                }
            };
            let ca_der = ca.as_deref().map(read_ca_certificate).transpose()?;
            let extra: Vec<camward_certs::SubjectName> = names
                .iter()
                .map(|n| camward_certs::SubjectName::parse(n))
                .collect();
            let vault = config.vault()?;
            let result = camward_core::certificates::import_key_camera(
                &vault,
                &target,
                &user,
                &identity,
                ca_der.as_deref(),
                &extra,
            )
            .await;
            drop(identity);
            match result {
                Ok(done) if json => {
                    let line = serde_json::to_string(&done)
                        .map_err(|e| local_error("output", "-", "encode", e.to_string()))?;
                    writeln!(out, "{line}").map_err(write_err)?;
                    Ok(0)
                }
                Ok(done) => {
                    writeln!(
                        out,
                        "{}: imported certificate and key for {} — SHA-256 {}, valid until {}{}; the camera presents it (TLS handshake checked)",
                        done.camera,
                        done.names.join(", "),
                        done.sha256,
                        done.not_after,
                        if done.replaced { ", replacing the one before" } else { "" }
                    )
                    .map_err(write_err)?;
                    Ok(0)
                }
                Err(e) if json => {
                    writeln!(out, "{}", error_line(&target, &e)).map_err(write_err)?;
                    Ok(exit_code(&e))
                }
                Err(e) => Err(e),
            }
        }
        CertsAction::List { site, json } => {
            let vault = config.vault()?;
            let mut cameras = vault
                .inventory
                .cameras(site.as_deref())
                .map_err(|e| local_error(e.code(), "-", "read the inventory", e.to_string()))?;
            cameras.sort_by_key(|c| c.certificate.as_ref().map(|cert| cert.not_after));
            let now = time::OffsetDateTime::now_utc();
            for camera in &cameras {
                let address = camera
                    .addresses
                    .first()
                    .cloned()
                    .unwrap_or_else(|| camera.key.clone());
                match &camera.certificate {
                    Some(cert) => {
                        let days = (cert.not_after - now).whole_days();
                        let until = cert
                            .not_after
                            .format(&time::format_description::well_known::Rfc3339)
                            .unwrap_or_default();
                        if json {
                            let line = serde_json::json!({
                                "camera": address,
                                "key": camera.key,
                                "sha256": cert.sha256_fingerprint,
                                "not_after": until,
                                "days_left": days,
                            });
                            writeln!(out, "{line}").map_err(write_err)?;
                        } else {
                            let when = if days < 0 {
                                format!("EXPIRED {} days ago", -days)
                            } else if days <= 30 {
                                format!("expires in {days} days: renew now")
                            } else {
                                format!("{days} days left")
                            };
                            writeln!(
                                out,
                                "{address}: {until} ({when}), SHA-256 {}",
                                cert.sha256_fingerprint
                            )
                            .map_err(write_err)?;
                        }
                    }
                    None if json => {
                        let line = serde_json::json!({"camera": address, "key": camera.key, "sha256": null});
                        writeln!(out, "{line}").map_err(write_err)?;
                    }
                    None => {
                        writeln!(out, "{address}: no certificate recorded").map_err(write_err)?
                    }
                }
            }
            Ok(0)
        }
    }
}
