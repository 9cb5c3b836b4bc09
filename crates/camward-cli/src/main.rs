//! `camward`: the command line over camward-core. Same use cases as the desktop app.
//!
//! Passwords never come from argv: `--password-stdin`, the OS keychain, or an interactive prompt.
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use camward_core::CoreError;
use camward_vault::{CredentialKey, Keychain, SecretStore, Sensitive};
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
    #[command(subcommand)]
    command: Command,
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
}

/// Exit codes: 0 ok; 2 usage (clap); 3 could not talk to the camera; 4 the camera refused;
/// 5 local problem (keychain, input).
fn exit_code(err: &CoreError) -> u8 {
    match err.code.as_str() {
        "timeout" | "unreachable" | "connection_broken" | "tls" | "response_too_large"
        | "malformed_reply" | "not_onvif" | "invalid_url" => 3,
        "not_authorized" | "locked_out" | "not_supported" | "device_fault" | "http_status" => 4,
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
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!(
                "error: {}: {}: {} [{}]",
                e.camera, e.step, e.message, e.code
            );
            ExitCode::from(exit_code(&e))
        }
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
    use_keychain: bool,
) -> Result<Sensitive<String>, CoreError> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| local_error("input", url, "read password", e.to_string()))?;
        let password = line.trim_end_matches(['\r', '\n']).to_owned();
        line.clear();
        if password.is_empty() {
            return Err(local_error(
                "input",
                url,
                "read password",
                "standard input was empty".into(),
            ));
        }
        return Ok(Sensitive::new(password));
    }
    if use_keychain {
        match Keychain::default().get(key) {
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

async fn run(command: Command) -> Result<(), CoreError> {
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
            let password = read_password(password_stdin, &key, &url, true)?;
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
                let password = read_password(password_stdin, &key, &url, false)?;
                Keychain::default()
                    .set(&key, &password)
                    .map_err(|e| local_error(e.code(), &url, "store credential", e.to_string()))?;
                writeln!(out, "stored the password for {key} in the OS keychain")
                    .map_err(write_err)?;
            }
            CredentialsAction::Forget { url, user } => {
                let key = CredentialKey::new(camward_core::camera_key(&url), &user);
                Keychain::default()
                    .delete(&key)
                    .map_err(|e| local_error(e.code(), &url, "forget credential", e.to_string()))?;
                writeln!(out, "removed the password for {key} from the OS keychain")
                    .map_err(write_err)?;
            }
        },
    }
    Ok(())
}
