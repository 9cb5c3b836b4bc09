//! Decommissioning a camera with proof (issue 6): the camera ends factory-fresh, Camward has seen
//! it so, and only then forgets everything it held for it.
//!
//! Order, each step named in errors and in the audit trail:
//! 1. [`plan`]: log in as the administrator whose password the keychain holds and read what a
//!    person confirms (serial, model, firmware, MAC), the accounts on the camera, the keychain
//!    entries and the certificate that will be retired.
//! 2. The camera's final state goes into the audit trail (`camera.decommission_started`).
//! 3. The factory reset: the vendor's own call where the keychain holds its administrator's
//!    password (Axis VAPIX `hardfactorydefault.cgi` / `factorydefault.cgi` as `root`; Hikvision
//!    ISAPI `PUT /ISAPI/System/factoryReset?mode=full` as `admin`), else ONVIF
//!    `SetSystemFactoryDefault` (ONVIF Device Management WSDL) `Hard`, or `Soft` with
//!    `keep_network` (network settings kept). A reply lost because the camera already went
//!    down is not a failure: only the proof decides.
//! 4. The reboot is waited out, bounded by [`DecommissionOptions::reboot_timeout`]:
//!    - network kept: the old address is polled without credentials (`first_boot::detect`,
//!      which begins with the pre-authentication GetSystemDateAndTime) until the camera answers
//!      in its factory state;
//!    - network not kept: the camera lost its address, so it is looked for the way a factory-fresh
//!      camera is found ([`crate::discover`]: the link-local sweep of 169.254/16, WS-Discovery,
//!      mDNS), matched by MAC or serial, and must answer factory-fresh there. Coming back
//!      factory-fresh on its old address (a DHCP reservation) is accepted too, and says so.
//! 5. Only with that proof: every keychain entry of the camera (every user Camward knows of, every
//!    slot: current, pending, previous) is deleted through the ledger, the certificate is marked
//!    retired (what to revoke at the CA is listed), and the inventory marks the camera
//!    decommissioned with its [`DisposalRecord`].
//!
//! **Secrets are never retired before the reset is proven.** A camera that refused the reset or was
//! never seen factory-fresh keeps its credentials; its record says `not_proven` and puts the reset
//! switch first on the checklist.
use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use camward_discovery::Method;
use camward_onvif::device::FactoryDefault;
use camward_onvif::{AuthMode, Credentials, OnvifError};
use camward_vault::inventory::NewDecommission;
use camward_vault::{AuditEntry, CredentialKey};
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::credentials::Vault;
use crate::discover::{self, DiscoverOptions};
use crate::disposal::{
    checklist, CertificateToRevoke, DisposalRecord, DisposalResult, Proof, ResetDone,
};
use crate::first_boot::{self, FactoryState, FirstBootMethod};
use crate::session::{first_contact_error, onvif_error, open, CameraSession};
use crate::target::{camera_key, device_url};
use crate::CoreError;

/// Account names whose keychain entries are always looked for: the vendors' built-in
/// administrators (Axis `root`, Hikvision `admin`), which first boot gives a password too.
const BUILT_IN_ACCOUNTS: [&str; 2] = ["root", "admin"];

/// How to decommission.
#[derive(Clone, Debug)]
pub struct DecommissionOptions {
    /// The administrator account to log in as (its password comes from the keychain).
    pub user: String,
    /// Soft reset that keeps the network settings; default: hard, nothing kept.
    pub keep_network: bool,
    /// How long the reboot and the proof may take.
    pub reboot_timeout: Duration,
    /// Interfaces to look for the camera on after a hard reset (empty: every non-loopback one).
    pub interfaces: Vec<String>,
    /// How long the listening discovery methods listen per round.
    pub listen: Duration,
    /// After a hard reset, look for the camera with discovery on `interfaces` when it is not
    /// factory-fresh at its old address. Off only for cameras on this computer (the desktop's
    /// simulated site on 127.0.0.1, where no discovery method may run): then the proof can only be
    /// the camera answering in its factory state at its old address, and the record says so
    /// (`found_by: same-address`).
    pub rediscover: bool,
    /// What the person typed to confirm, when a front end asks them to type the camera's serial
    /// number (its model when it reports no serial). Checked against what the camera reports
    /// before anything is recorded or sent: a mismatch is `not_confirmed` and nothing happens.
    /// `None`: the caller confirmed otherwise (the CLI's prompt or `--yes`).
    pub confirm_serial: Option<String>,
}

impl Default for DecommissionOptions {
    fn default() -> Self {
        Self {
            user: "admin".into(),
            keep_network: false,
            reboot_timeout: Duration::from_secs(300),
            interfaces: Vec::new(),
            listen: Duration::from_secs(2),
            rediscover: true,
            confirm_serial: None,
        }
    }
}

/// What will be reset and retired, shown to the person before anything happens.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DecommissionPlan {
    /// The camera's inventory key.
    pub camera: String,
    /// Its device service URL.
    pub url: String,
    /// Manufacturer.
    pub manufacturer: Option<String>,
    /// Model.
    pub model: Option<String>,
    /// Serial number.
    pub serial: Option<String>,
    /// Firmware version.
    pub firmware: Option<String>,
    /// MAC address (the camera's, else the inventory's).
    pub mac: Option<String>,
    /// Accounts on the camera now.
    pub camera_users: Vec<String>,
    /// Accounts whose keychain entries will be retired.
    pub credentials: Vec<String>,
    /// The certificate that will be retired, to revoke at the CA.
    pub certificate: Option<CertificateToRevoke>,
}

/// Progress, for a front end to show.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum DecommissionEvent {
    /// The final state is in the audit trail.
    FinalStateRecorded,
    /// The factory reset was asked for.
    ResetSent {
        /// The call.
        via: String,
    },
    /// Waiting for the camera to come back factory-fresh.
    Waiting {
        /// Seconds waited so far.
        waited_s: u64,
    },
    /// The camera was seen factory-fresh.
    FactoryStateSeen {
        /// Where.
        address: String,
    },
    /// Keychain entries deleted.
    CredentialsRetired {
        /// Their user names.
        users: Vec<String>,
    },
    /// The inventory marks the camera decommissioned.
    Recorded,
}

fn error(code: &str, camera: &str, step: &str, message: impl Into<String>) -> CoreError {
    CoreError {
        code: code.to_owned(),
        message: message.into(),
        camera: camera.to_owned(),
        step: step.to_owned(),
    }
}

fn now_text() -> String {
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_else(|_| "-".to_owned())
}

fn audit(vault: &Vault, camera: &str, action: &str, detail: String, result: &str) {
    if let Err(e) = vault
        .inventory
        .append_audit(&AuditEntry::camera(camera, action, detail, result))
    {
        tracing::warn!(camera = %camera, error = %e, "audit entry not written");
    }
}

/// A session logged in as `user` with the password the keychain holds for it.
async fn logged_in(
    vault: &Vault,
    url: &str,
    key: &CredentialKey,
) -> Result<CameraSession, CoreError> {
    let step = "read the password from the keychain";
    let password = vault
        .ledger
        .current(key)
        .map_err(|e| error(e.code(), url, step, e.to_string()))?
        .ok_or_else(|| {
            error(
                "no_password",
                url,
                step,
                format!(
                    "the keychain holds no password for {} on this camera, so Camward cannot ask it to reset: use the camera's reset switch",
                    key.user
                ),
            )
        })?;
    // Over HTTPS with the pin once the camera's HTTP is off.
    let camera = crate::session::open_for(vault, url).await?;
    camera
        .sync_clock()
        .await
        .map_err(|e| first_contact_error(url, "GetSystemDateAndTime", e))?;
    camera.set_credentials(
        Some(Credentials::new(&key.user, password.expose().as_str())),
        AuthMode::Auto,
    );
    Ok(camera)
}

/// The accounts of `camera` whose keychain entries hold anything (any slot, or a change row). A
/// keychain that cannot be read is an error, never "nothing held": a secret must not be left
/// behind unnoticed.
fn held_credentials(
    vault: &Vault,
    url: &str,
    camera: &str,
    names: &BTreeSet<String>,
) -> Result<Vec<String>, CoreError> {
    let failed = |e: camward_vault::LedgerError| {
        error(
            e.code(),
            url,
            "read the keychain",
            format!("the keychain could not be read: {e}"),
        )
    };
    let mut held = Vec::new();
    for name in names {
        let key = CredentialKey::new(camera, name.as_str());
        if vault.ledger.current(&key).map_err(failed)?.is_some()
            || vault.ledger.previous(&key).map_err(failed)?.is_some()
            || vault.ledger.change(&key).map_err(failed)?.is_some()
        {
            held.push(name.clone());
        }
    }
    Ok(held)
}

/// Every account name Camward may hold a password for on `camera`.
fn known_names(vault: &Vault, camera: &str, user: &str, on_camera: &[String]) -> BTreeSet<String> {
    let mut names: BTreeSet<String> = BUILT_IN_ACCOUNTS.iter().map(|s| (*s).to_owned()).collect();
    names.insert(user.to_owned());
    names.extend(on_camera.iter().cloned());
    names.extend(vault.inventory.credential_users(camera).unwrap_or_default());
    if let Ok(Some(record)) = vault.inventory.camera(camera) {
        names.extend(record.credential.map(|k| k.user));
    }
    names
}

/// Logs in to the camera at `target` and reads what the person confirms and what will be retired.
pub async fn plan(vault: &Vault, target: &str, user: &str) -> Result<DecommissionPlan, CoreError> {
    let url = device_url(target)?;
    let camera_id = camera_key(&url);
    let key = CredentialKey::new(camera_id.clone(), user);
    let record = vault
        .inventory
        .camera(&camera_id)
        .map_err(|e| error(e.code(), &url, "read inventory", e.to_string()))?;
    let session = logged_in(vault, &url, &key).await?;
    let device = session
        .get_device_information()
        .await
        .map_err(|e| onvif_error(&url, "GetDeviceInformation", e))?;
    let mac = match session.get_network_interfaces().await {
        Ok(interfaces) => interfaces.into_iter().find_map(|i| i.mac),
        Err(e) => {
            tracing::debug!(camera = %url, error = %e, "no MAC from GetNetworkInterfaces");
            None
        }
    }
    .or_else(|| record.as_ref().and_then(|r| r.mac.clone()));
    let camera_users: Vec<String> = match session.get_users().await {
        Ok(users) => users.into_iter().map(|u| u.username).collect(),
        Err(e) => {
            tracing::debug!(camera = %url, error = %e, "GetUsers refused");
            Vec::new()
        }
    };
    let names = known_names(vault, &camera_id, user, &camera_users);
    let credentials = held_credentials(vault, &url, &camera_id, &names)?;
    let certificate = record
        .as_ref()
        .and_then(|r| r.certificate.as_ref())
        .map(|c| CertificateToRevoke {
            sha256_fingerprint: c.sha256_fingerprint.clone(),
            not_after: c.not_after.format(&Rfc3339).ok(),
            action: "revoke it at the CA that issued it (the site CA, or the site's own CA), publish the CRL, and remove any pin of this fingerprint".into(),
        });
    Ok(DecommissionPlan {
        camera: camera_id,
        url,
        manufacturer: Some(device.manufacturer),
        model: Some(device.model),
        serial: Some(device.serial_number),
        firmware: Some(device.firmware_version),
        mac,
        camera_users,
        credentials,
        certificate,
    })
}

/// Resets the camera at `target` to its factory state, proves it, retires what Camward held for
/// it and records it decommissioned. `Ok` carries the disposal record, proven or not (a camera
/// that could not be proven reset keeps its credentials, and the record says so); `Err` means
/// nothing was sent (no login, no password).
pub async fn decommission(
    vault: &Vault,
    target: &str,
    options: &DecommissionOptions,
    mut on_event: impl FnMut(&DecommissionEvent),
) -> Result<DisposalRecord, CoreError> {
    let started_at = now_text();
    let plan = plan(vault, target, &options.user).await?;
    let url = plan.url.clone();
    let camera = plan.camera.clone();
    if let Some(typed) = &options.confirm_serial {
        confirm(&plan, typed)?;
    }
    audit(
        vault,
        &camera,
        "camera.decommission_started",
        format!(
            "final state: {} {} serial {} firmware {} MAC {} at {url}; accounts on the camera: {}; keychain entries: {}; certificate: {}",
            plan.manufacturer.as_deref().unwrap_or("-"),
            plan.model.as_deref().unwrap_or("-"),
            plan.serial.as_deref().unwrap_or("-"),
            plan.firmware.as_deref().unwrap_or("-"),
            plan.mac.as_deref().unwrap_or("-"),
            list(&plan.camera_users),
            list(&plan.credentials),
            plan.certificate.as_ref().map_or("none", |c| c.sha256_fingerprint.as_str()),
        ),
        "ok",
    );
    on_event(&DecommissionEvent::FinalStateRecorded);

    let kind = if options.keep_network { "soft" } else { "hard" };
    let mut reset = ResetDone {
        kind: kind.into(),
        via: String::new(),
        network_kept: options.keep_network,
    };
    let key = CredentialKey::new(camera.clone(), options.user.as_str());
    let outcome = reset_and_prove(vault, &plan, &key, options, &mut reset.via, &mut on_event).await;
    match &outcome {
        Ok(proof) => audit(
            vault,
            &camera,
            "camera.factory_reset",
            format!(
                "{}: factory state seen at {} ({})",
                reset.via, proof.address, proof.factory_state
            ),
            "ok",
        ),
        Err(e) => audit(
            vault,
            &camera,
            "camera.factory_reset",
            format!(
                "{}: {} — credentials kept; use the reset switch",
                reset.via, e.message
            ),
            &e.code,
        ),
    }

    let mut record = DisposalRecord {
        camera: camera.clone(),
        url: url.clone(),
        manufacturer: plan.manufacturer.clone(),
        model: plan.model.clone(),
        serial: plan.serial.clone(),
        firmware: plan.firmware.clone(),
        mac: plan.mac.clone(),
        decommissioned_by: camward_vault::os_user(),
        started_at,
        finished_at: String::new(),
        reset,
        result: DisposalResult::Proven,
        proof: None,
        credentials_retired: Vec::new(),
        credentials_kept: Vec::new(),
        certificate_to_revoke: plan.certificate.clone(),
        checklist: Vec::new(),
    };
    let proof = match outcome {
        Ok(proof) => proof,
        Err(e) => {
            record.result = DisposalResult::NotProven {
                code: e.code,
                message: e.message,
            };
            record.credentials_kept = plan.credentials.clone();
            record.checklist = checklist(false, options.keep_network);
            record.finished_at = now_text();
            return Ok(record);
        }
    };
    record.proof = Some(proof);

    // Proven: only now is anything forgotten. Names are read again (the plan is minutes old) and
    // joined with the plan's, so an entry a keychain read missed now is still deleted.
    let names = known_names(vault, &camera, &options.user, &plan.camera_users);
    let mut to_retire: BTreeSet<String> = held_credentials(vault, &url, &camera, &names)?
        .into_iter()
        .collect();
    to_retire.extend(plan.credentials.iter().cloned());
    let mut retired = Vec::new();
    for name in to_retire {
        let key = CredentialKey::new(camera.clone(), name.as_str());
        if let Err(e) = vault.ledger.forget(&key) {
            return Err(error(
                e.code(),
                &url,
                "retire credentials",
                format!("the camera is factory-fresh, but the keychain entry of {name} could not be deleted: {e}; delete it with `camward credentials forget {url} --user {name}`"),
            ));
        }
        retired.push(name);
    }
    on_event(&DecommissionEvent::CredentialsRetired {
        users: retired.clone(),
    });
    record.credentials_retired = retired;
    record.checklist = checklist(true, options.keep_network);
    record.finished_at = now_text();
    let json = crate::disposal::render_json(&record);
    vault
        .inventory
        .record_decommission(&NewDecommission {
            camera: &camera,
            serial: record.serial.as_deref(),
            model: record.model.as_deref(),
            certificate_sha256: record
                .certificate_to_revoke
                .as_ref()
                .map(|c| c.sha256_fingerprint.as_str()),
            record_json: &json,
        })
        .map_err(|e| error(e.code(), &url, "record decommissioned", e.to_string()))?;
    on_event(&DecommissionEvent::Recorded);
    Ok(record)
}

/// Checks what a person typed against the camera's serial number (its model when it reports no
/// serial), ignoring case and surrounding blanks.
pub fn confirm(plan: &DecommissionPlan, typed: &str) -> Result<(), CoreError> {
    let expected = plan
        .serial
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .or(plan.model.as_deref())
        .unwrap_or_default()
        .trim();
    if expected.is_empty() || !typed.trim().eq_ignore_ascii_case(expected) {
        return Err(error(
            "not_confirmed",
            &plan.url,
            "confirm",
            format!(
                "what was typed does not match this camera's serial number {expected}: nothing was reset or forgotten"
            ),
        ));
    }
    Ok(())
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(", ")
    }
}

/// The vendor API that resets this camera, when its vendor has one and the keychain holds the
/// password of the vendor's administrator: Axis VAPIX as `root` (hard or keeping the network),
/// Hikvision ISAPI `factoryReset?mode=full` as `admin` (hard only: `mode=basic` keeps the users,
/// which would leave nothing to prove).
fn vendor_reset(
    vault: &Vault,
    plan: &DecommissionPlan,
    hard: bool,
) -> Option<(&'static str, Credentials)> {
    let maker = plan
        .manufacturer
        .as_deref()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let (vendor, account) = if maker.contains("axis") {
        ("axis", camward_vendors::axis::ROOT)
    } else if maker.contains("hikvision") && hard {
        ("hikvision", camward_vendors::hikvision::ADMIN)
    } else {
        return None;
    };
    let password = vault
        .ledger
        .current(&CredentialKey::new(plan.camera.as_str(), account))
        .ok()
        .flatten()?;
    Some((
        vendor,
        Credentials::new(account, password.expose().as_str()),
    ))
}

/// Asks for the factory reset (vendor API where possible, else ONVIF); `via` says which. A reply
/// lost because the camera went down is not an error: the proof decides.
async fn send_reset(
    vault: &Vault,
    plan: &DecommissionPlan,
    key: &CredentialKey,
    hard: bool,
    via: &mut String,
) -> Result<(), CoreError> {
    let url = &plan.url;
    if let Some((vendor, credentials)) = vendor_reset(vault, plan, hard) {
        let http = camward_vendors::VendorHttp::new(url)
            .map_err(|e| first_boot::vendor_error(url, "open connection", e))?
            .login(credentials);
        let (name, sent) = match vendor {
            "axis" => (
                if hard {
                    "Axis VAPIX hardfactorydefault.cgi"
                } else {
                    "Axis VAPIX factorydefault.cgi"
                },
                camward_vendors::axis::factory_default(&http, hard).await,
            ),
            _ => (
                "Hikvision ISAPI factoryReset mode=full",
                camward_vendors::hikvision::factory_reset(&http, true).await,
            ),
        };
        *via = name.to_owned();
        match sent {
            Ok(()) => return Ok(()),
            Err(camward_vendors::VendorError::Transport(e)) => {
                tracing::info!(camera = %url, error = %e, "no reply to the reset; looking for the proof");
                return Ok(());
            }
            Err(e) => {
                tracing::info!(camera = %url, error = %e, "vendor reset refused; trying ONVIF");
            }
        }
    }
    let kind = if hard {
        FactoryDefault::Hard
    } else {
        FactoryDefault::Soft
    };
    *via = format!("ONVIF SetSystemFactoryDefault {kind:?}");
    let session = logged_in(vault, url, key).await?;
    match session.set_system_factory_default(kind).await {
        Ok(()) => Ok(()),
        Err(OnvifError::Transport(e)) => {
            tracing::info!(camera = %url, error = %e, "no reply to the reset; looking for the proof");
            Ok(())
        }
        Err(e) => {
            let e = onvif_error(url, "SetSystemFactoryDefault", e);
            Err(CoreError {
                message: format!(
                    "the camera refused the factory reset: {}; its credentials are kept: reset it with its reset switch",
                    e.message
                ),
                ..e
            })
        }
    }
}

/// Sends the reset and waits for the proof.
async fn reset_and_prove(
    vault: &Vault,
    plan: &DecommissionPlan,
    key: &CredentialKey,
    options: &DecommissionOptions,
    via: &mut String,
    on_event: &mut impl FnMut(&DecommissionEvent),
) -> Result<Proof, CoreError> {
    let url = &plan.url;
    send_reset(vault, plan, key, !options.keep_network, via).await?;
    on_event(&DecommissionEvent::ResetSent { via: via.clone() });
    let started = Instant::now();
    let deadline = started + options.reboot_timeout;
    let mut last_seen = String::from("the camera was not seen again");
    while Instant::now() < deadline {
        on_event(&DecommissionEvent::Waiting {
            waited_s: started.elapsed().as_secs(),
        });
        if let Some(proof) = fresh_at(url, "same-address", "address", &mut last_seen).await {
            if !options.keep_network {
                tracing::info!(camera = %url, "factory-fresh on its old address despite a hard reset (DHCP?)");
            }
            on_event(&DecommissionEvent::FactoryStateSeen {
                address: proof.address.clone(),
            });
            return Ok(proof);
        }
        if options.keep_network || !options.rediscover {
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        if let Some(proof) = rediscover(plan, options, &mut last_seen).await? {
            on_event(&DecommissionEvent::FactoryStateSeen {
                address: proof.address.clone(),
            });
            return Ok(proof);
        }
    }
    Err(error(
        "reset_not_proven",
        url,
        "wait for the factory state",
        format!(
            "the camera was not seen in its factory state within {} s ({last_seen}); its credentials are kept: reset it with its reset switch, then decommission it again",
            options.reboot_timeout.as_secs()
        ),
    ))
}

/// Asks the camera at `url` without credentials whether it is factory-fresh; `Some` is the proof.
async fn fresh_at(
    url: &str,
    found_by: &str,
    matched_by: &str,
    last_seen: &mut String,
) -> Option<Proof> {
    match tokio::time::timeout(Duration::from_secs(5), first_boot::detect(url)).await {
        Ok(Ok(state)) if state.factory_fresh => {
            let address = host_of(url);
            let link_local = address
                .parse::<Ipv4Addr>()
                .is_ok_and(|ip| ip.is_link_local());
            Some(Proof {
                factory_state: describe(&state),
                users: users_after(url, &state).await,
                address,
                found_by: vec![found_by.to_owned()],
                link_local,
                matched_by: matched_by.to_owned(),
                seen_at: now_text(),
            })
        }
        Ok(Ok(_)) => {
            *last_seen = format!("{url} still answers with an administrator");
            None
        }
        Ok(Err(e)) => {
            *last_seen = format!("{url}: {} [{}]", e.message, e.code);
            None
        }
        Err(_) => {
            *last_seen = format!("{url} did not answer in time");
            None
        }
    }
}

/// One round of discovery on the chosen interfaces, looking for the camera by MAC or serial.
async fn rediscover(
    plan: &DecommissionPlan,
    options: &DecommissionOptions,
    last_seen: &mut String,
) -> Result<Option<Proof>, CoreError> {
    let interfaces = discover::choose(&options.interfaces)?;
    let discover_options = DiscoverOptions {
        methods: vec![Method::LinkLocal, Method::WsDiscovery, Method::Mdns],
        wait: options.listen,
        ..DiscoverOptions::default()
    };
    let found = discover::discover(
        &interfaces,
        &discover_options,
        std::future::pending(),
        |_| {},
    )
    .await;
    let same = |a: &Option<String>, b: &Option<String>| match (a, b) {
        (Some(a), Some(b)) => !a.is_empty() && a.eq_ignore_ascii_case(b),
        _ => false,
    };
    for camera in &found.cameras {
        let matched_by = if same(&camera.mac, &plan.mac) {
            "mac"
        } else if same(&camera.serial, &plan.serial) {
            "serial"
        } else {
            continue;
        };
        // The address it is reachable at now: a link-local one first.
        let mut ips = camera.ips.clone();
        ips.sort_by_key(|ip| !ip.is_link_local());
        for ip in ips {
            let url = camera
                .addresses
                .iter()
                .find(|a| a.contains("/onvif/") && a.contains(&ip.to_string()))
                .cloned()
                .unwrap_or_else(|| format!("http://{ip}/onvif/device_service"));
            if let Some(mut proof) = fresh_at(&url, "", matched_by, last_seen).await {
                proof.found_by = camera.methods.iter().map(|m| m.name().to_owned()).collect();
                return Ok(Some(proof));
            }
        }
    }
    if found.cameras.is_empty() {
        *last_seen = "no camera found on the link-local network yet".into();
    }
    Ok(None)
}

fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or(rest);
    match authority.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') && port.chars().all(|c| c.is_ascii_digit()) => {
            host.to_owned()
        }
        _ => authority.to_owned(),
    }
}

fn describe(state: &FactoryState) -> String {
    match state.method {
        FirstBootMethod::Onvif => "ONVIF answers without credentials (factory state: no users)",
        FirstBootMethod::Axis => {
            "Axis root has no password (pwdgrp.cgi answers without credentials)"
        }
        FirstBootMethod::Hikvision => "Hikvision not activated (/SDK/activateStatus)",
        FirstBootMethod::Guided => "the first-access page is shown (no administrator yet)",
    }
    .to_owned()
}

/// The users seen after the reset: an anonymous GetUsers where the factory state allows it.
async fn users_after(url: &str, state: &FactoryState) -> String {
    if state.method == FirstBootMethod::Onvif {
        if let Ok(camera) = open(url) {
            if camera.sync_clock().await.is_ok() {
                if let Ok(users) = camera.get_users().await {
                    let names: Vec<String> = users.into_iter().map(|u| u.username).collect();
                    return if names.is_empty() {
                        "none (GetUsers without credentials lists no user)".into()
                    } else {
                        names.join(", ")
                    };
                }
            }
        }
    }
    "none (no administrator: the camera waits for its first one)".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_cameras_own_serial_confirms() {
        let plan = DecommissionPlan {
            camera: "host:127.0.0.1:8000".into(),
            url: "http://127.0.0.1:8000/onvif/device_service".into(),
            manufacturer: Some("Camsim".into()),
            model: Some("CS-2000".into()),
            serial: Some("CS0001".into()),
            firmware: None,
            mac: None,
            camera_users: Vec::new(),
            credentials: Vec::new(),
            certificate: None,
        };
        assert!(confirm(&plan, " cs0001 ").is_ok());
        assert_eq!(confirm(&plan, "CS0002").unwrap_err().code, "not_confirmed");
        assert_eq!(confirm(&plan, "").unwrap_err().code, "not_confirmed");
        assert_eq!(
            confirm(&plan, "CS-2000").unwrap_err().code,
            "not_confirmed",
            "the model does not confirm a camera that reports a serial"
        );
        let no_serial = DecommissionPlan {
            serial: None,
            ..plan
        };
        assert!(confirm(&no_serial, "cs-2000").is_ok());
    }

    #[test]
    fn host_of_drops_scheme_port_and_path() {
        assert_eq!(
            host_of("http://169.254.3.4:80/onvif/device_service"),
            "169.254.3.4"
        );
        assert_eq!(host_of("http://10.0.0.1/onvif/device_service"), "10.0.0.1");
        assert_eq!(host_of("http://[fe80::1]/x"), "[fe80::1]");
    }
}
