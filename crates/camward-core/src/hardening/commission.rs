//! `commission`: bring cameras to a site plan's level, in the catalog's lock-out-safe order, and
//! prove it.
//!
//! Per camera: a factory-fresh camera first gets its administrator (the credential lifecycle's
//! `init_admin`: stored before sent, verified after); then an audit says what fails; then each
//! failing control is applied — through ONVIF or the vendor's API where one exists, as a guided
//! step naming the menu path where none does — each change recorded in the audit trail; then a
//! second audit is the proof. A dry run stops after the first audit and lists what would change.
//!
//! Guards that are never skipped:
//! - a host filter that leaves out this computer's own address toward the camera is refused
//!   before anything is sent;
//! - HTTP is turned off (last) only once HTTPS is proven: a pinned certificate, a handshake
//!   presenting exactly it and a logged-in ONVIF read over HTTPS (`certificates::apply_https_only`);
//! - AutoIP is not turned off while Camward reaches the camera on its link-local address;
//! - NTP servers are asked (SNTP) before the camera is told to use them.
//!
//! Applying is idempotent (a passing control is left alone), so running again is the resume:
//! whatever an interrupted run did not finish still fails its audit and is applied then.
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use camward_onvif::device::{
    DateTimeType, DiscoveryMode, FilterType, IpAddressFilter, IpFilterAction, NetworkHost,
    PrefixedAddress, SetDateTime,
};
use camward_onvif::Credentials;
use camward_policy::plan::{NtpServer, Service, SitePlan};
use camward_vault::{AuditEntry, CredentialKey};
use serde::Serialize;

use super::audit::{audit, AuditOptions};
use super::{Finding, Scorecard, Status};
use crate::credentials::{self, InitAdminStatus, NewPassword, RotationRequest, Vault};
use crate::session::{onvif_error, open};
use crate::CoreError;

/// How to commission.
#[derive(Clone, Copy, Debug)]
pub struct CommissionOptions<'a> {
    /// The site plan (level, NTP, allowed hosts, users and services to keep).
    pub plan: &'a SitePlan,
    /// The administrator account.
    pub user: &'a str,
    /// Only say what would change.
    pub dry_run: bool,
    /// Verify from outside too (ports, FTP, SNMP, RTSP).
    pub outside: bool,
    /// Firmware catalog for firmware-current.
    pub firmware: Option<&'a camward_policy::firmware::FirmwareCatalog>,
}

/// What happened to one control.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Outcome {
    /// Already hardened: nothing sent.
    AlreadyHardened,
    /// Would be changed (dry run): what.
    WouldChange {
        /// The change.
        change: String,
    },
    /// Changed, and the re-check passed.
    Applied {
        /// The change.
        change: String,
    },
    /// A person must do it on the camera's page; it stays not-pass until a check sees it.
    Guided {
        /// What to do, and where.
        step: String,
    },
    /// Camward refused to apply it (a lock-out guard, or a prerequisite missing).
    Refused {
        /// Why.
        reason: String,
    },
    /// Sending it failed.
    Failed {
        /// Stable error code.
        code: String,
        /// The error.
        message: String,
    },
    /// Left as it is: not applicable, unknown or out of scope.
    Skipped {
        /// Why.
        reason: String,
    },
    /// Not started: the run was stopped before this control; running again resumes it.
    Stopped,
}

/// One control's step on one camera.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Step {
    /// The catalog id.
    pub control: &'static str,
    /// The status before.
    pub before: Status,
    /// What was done.
    pub outcome: Outcome,
}

/// One camera's commissioning.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CameraCommission {
    /// The device service URL.
    pub camera: String,
    /// The first administrator, when this run created it (or is waiting for a person to).
    pub first_admin: Option<String>,
    /// The camera's first administrator waits for a person to create it on the camera's page (a
    /// guided first boot), since this run or an earlier one: nothing else is done on the camera
    /// until then. Front ends list the step from this, never from `first_admin`'s wording.
    pub awaiting_person: bool,
    /// The scorecard before anything was applied.
    pub before: Option<Scorecard>,
    /// Every control's step, in the catalog order.
    pub steps: Vec<Step>,
    /// The scorecard after (the proof); absent in a dry run.
    pub after: Option<Scorecard>,
}

/// Progress, for the CLI's lines and the desktop app's bars.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum CommissionEvent {
    /// Work on a camera began.
    CameraStarted {
        /// The camera.
        camera: String,
    },
    /// One control's step ended.
    Step {
        /// The camera.
        camera: String,
        /// The step.
        step: Step,
    },
    /// A camera is done (or failed: `error`).
    CameraDone {
        /// The camera.
        camera: String,
        /// Score after, in percent.
        score: Option<u8>,
        /// Why it stopped, if it did.
        error: Option<String>,
    },
}

/// What a person controls while a run goes on (the desktop wizard): the password they typed for
/// the administrator, and a stop.
#[derive(Clone, Debug, Default)]
pub struct RunControl<'a> {
    /// The administrator's password for every camera (checked by the policy per camera); `None`
    /// generates a unique one per camera.
    pub password: Option<&'a NewPassword>,
    /// Set to stop: the control being applied finishes, the camera's remaining controls are
    /// skipped as `cancelled`, and cameras not started yet fail with code `cancelled`. Running
    /// again is the resume (applying is idempotent).
    pub stop: Option<Arc<AtomicBool>>,
}

impl RunControl<'_> {
    fn stopped(&self) -> bool {
        self.stop.as_ref().is_some_and(|s| s.load(Ordering::SeqCst))
    }

    fn choice(&self) -> &NewPassword {
        self.password.unwrap_or(&NewPassword::Generate)
    }
}

/// Commissions every camera of `targets` (`concurrency` at a time); a camera that fails is its
/// own result and the others go on.
pub async fn commission_all(
    vault: &Vault,
    targets: &[String],
    options: &CommissionOptions<'_>,
    concurrency: usize,
    on_event: &(dyn Fn(CommissionEvent) + Sync),
) -> Vec<(String, Result<CameraCommission, CoreError>)> {
    commission_all_with(
        vault,
        targets,
        options,
        RunControl::default(),
        concurrency,
        on_event,
    )
    .await
}

/// What every camera's task of a run shares: owned copies of the run's inputs.
struct RunInputs {
    vault: Vault,
    plan: SitePlan,
    user: String,
    dry_run: bool,
    outside: bool,
    firmware: Option<camward_policy::firmware::FirmwareCatalog>,
    password: Option<NewPassword>,
    stop: Option<Arc<AtomicBool>>,
    peers: super::audit::PeerDigests,
}

/// [`commission_all`] with a typed password and a stop ([`RunControl`]).
///
/// Each camera is commissioned in a tokio task of its own, so that one camera's work never holds
/// up another's: its TLS, XML and SQLite work runs on any core, and a keychain call that blocks
/// its thread (`block_in_place`) blocks that camera alone. (With every camera's future polled by
/// one task, a keychain write stopped every camera of the run, and all of Camward's own CPU work
/// ran on one core.) Events reach `on_event` in order, one at a time, from this function's own
/// task, so `on_event` need not be `Send`; a stop set meanwhile is seen before each camera's next
/// control and before any camera not started yet. Results come back in the order of `targets`;
/// a camera whose task panicked is an `internal` error of its own and the others go on.
pub async fn commission_all_with(
    vault: &Vault,
    targets: &[String],
    options: &CommissionOptions<'_>,
    run: RunControl<'_>,
    concurrency: usize,
    on_event: &(dyn Fn(CommissionEvent) + Sync),
) -> Vec<(String, Result<CameraCommission, CoreError>)> {
    credentials::warm_password_checks();
    let inputs = Arc::new(RunInputs {
        vault: vault.clone(),
        plan: options.plan.clone(),
        user: options.user.to_owned(),
        dry_run: options.dry_run,
        outside: options.outside,
        firmware: options.firmware.cloned(),
        password: run.password.cloned(),
        stop: run.stop.clone(),
        peers: super::audit::PeerDigests::default(),
    });
    let (events, mut delivered) = tokio::sync::mpsc::unbounded_channel::<CommissionEvent>();
    let mut tasks = tokio::task::JoinSet::new();
    let mut index_of = std::collections::HashMap::new();
    let mut results: Vec<Option<Result<CameraCommission, CoreError>>> =
        targets.iter().map(|_| None).collect();
    let mut next = 0;
    loop {
        while tasks.len() < concurrency.max(1) && next < targets.len() {
            let handle = tasks.spawn(commission_in_task(
                inputs.clone(),
                targets[next].clone(),
                events.clone(),
            ));
            index_of.insert(handle.id(), next);
            next += 1;
        }
        if tasks.is_empty() {
            break;
        }
        // Events first: a stop they lead to is set before the next camera starts.
        tokio::select! {
            biased;
            Some(event) = delivered.recv() => on_event(event),
            Some(joined) = tasks.join_next_with_id() => {
                let (id, result) = match joined {
                    Ok(done) => done,
                    Err(e) => {
                        let camera = index_of
                            .get(&e.id())
                            .and_then(|&i| targets.get(i))
                            .cloned()
                            .unwrap_or_default();
                        let failed = CoreError {
                            code: "internal".into(),
                            message: format!("stopped unexpectedly: {e}"),
                            camera,
                            step: "commission".into(),
                        };
                        (e.id(), Err(failed))
                    }
                };
                if let Some(index) = index_of.remove(&id) {
                    results[index] = Some(result);
                }
            }
        }
    }
    drop(events);
    while let Some(event) = delivered.recv().await {
        on_event(event);
    }
    credentials::settle_journals(vault).await;
    targets
        .iter()
        .cloned()
        .zip(results)
        .map(|(target, result)| {
            let result = result.unwrap_or_else(|| {
                Err(CoreError {
                    code: "internal".into(),
                    message: "stopped unexpectedly: no result".into(),
                    camera: target.clone(),
                    step: "commission".into(),
                })
            });
            (target, result)
        })
        .collect()
}

/// One camera of [`commission_all_with`], in its own task, its events sent to the run's.
async fn commission_in_task(
    inputs: Arc<RunInputs>,
    target: String,
    events: tokio::sync::mpsc::UnboundedSender<CommissionEvent>,
) -> Result<CameraCommission, CoreError> {
    let emit = |event| {
        // The run only stops listening once every camera is done.
        let _ = events.send(event);
    };
    emit(CommissionEvent::CameraStarted {
        camera: target.clone(),
    });
    let run = RunControl {
        password: inputs.password.as_ref(),
        stop: inputs.stop.clone(),
    };
    let result = if run.stopped() {
        Err(CoreError {
            code: "cancelled".into(),
            message: "stopped before this camera was started; run again to resume".into(),
            camera: target.clone(),
            step: "commission".into(),
        })
    } else {
        let options = CommissionOptions {
            plan: &inputs.plan,
            user: &inputs.user,
            dry_run: inputs.dry_run,
            outside: inputs.outside,
            firmware: inputs.firmware.as_ref(),
        };
        // The camera's sessions, one after the other, keep using the same connections.
        crate::session::sharing_connections(commission_with(
            &inputs.vault,
            &target,
            &options,
            Some(&inputs.peers),
            run,
            &emit,
        ))
        .await
    };
    emit(CommissionEvent::CameraDone {
        camera: target,
        score: result
            .as_ref()
            .ok()
            .and_then(|c| c.after.as_ref().or(c.before.as_ref()))
            .map(Scorecard::score),
        error: result
            .as_ref()
            .err()
            .map(|e| format!("{}: {} [{}]", e.step, e.message, e.code)),
    });
    result
}

/// Commissions one camera.
pub async fn commission(
    vault: &Vault,
    target: &str,
    options: &CommissionOptions<'_>,
    on_event: &(dyn Fn(CommissionEvent) + Sync),
) -> Result<CameraCommission, CoreError> {
    commission_with(
        vault,
        target,
        options,
        None,
        RunControl::default(),
        on_event,
    )
    .await
}

async fn commission_with(
    vault: &Vault,
    target: &str,
    options: &CommissionOptions<'_>,
    peers: Option<&super::audit::PeerDigests>,
    run: RunControl<'_>,
    on_event: &(dyn Fn(CommissionEvent) + Sync),
) -> Result<CameraCommission, CoreError> {
    let url = crate::target::device_url(target)?;
    let span = tracing::info_span!("commission", camera = %url);
    let result = tracing::Instrument::instrument(
        commission_camera(vault, url.clone(), options, peers, run, on_event),
        span,
    )
    .await?;
    // Kept for reports, also when it stopped early to wait for a person (no scorecard yet).
    if !options.dry_run {
        let camera = crate::camera_key(&url);
        keep_site(vault, &camera, options.plan.site());
        super::keep_run(
            vault,
            &camera,
            Some(options.plan.site()),
            camward_vault::RunKind::Commission,
            options.plan.level(),
            &result,
        );
    }
    Ok(result)
}

/// Files the camera under the plan's site in the inventory (reports select cameras by site).
fn keep_site(vault: &Vault, camera: &str, site: &str) {
    let record = match vault.inventory.camera(camera) {
        Ok(Some(record)) if record.site.as_deref() == Some(site) => return,
        Ok(Some(record)) => record,
        Ok(None) => camward_vault::CameraRecord {
            key: camera.to_owned(),
            ..Default::default()
        },
        Err(e) => {
            tracing::warn!(camera, error = %e, "site not recorded");
            return;
        }
    };
    let record = camward_vault::CameraRecord {
        site: Some(site.to_owned()),
        ..record
    };
    if let Err(e) = vault.inventory.upsert_camera(&record) {
        tracing::warn!(camera, error = %e, "site not recorded");
    }
}

async fn commission_camera(
    vault: &Vault,
    url: String,
    options: &CommissionOptions<'_>,
    peers: Option<&super::audit::PeerDigests>,
    run: RunControl<'_>,
    on_event: &(dyn Fn(CommissionEvent) + Sync),
) -> Result<CameraCommission, CoreError> {
    let mut result = CameraCommission {
        camera: url.clone(),
        first_admin: None,
        awaiting_person: false,
        before: None,
        steps: Vec::new(),
        after: None,
    };
    // 1. The administrator (lock-out-safe order, step 2): a factory-fresh camera gets one first.
    match credentials::first_admin(vault, &url, options.user).await? {
        credentials::FirstAdmin::Present => {}
        _ if options.dry_run => {
            result.first_admin = Some(format!("would create administrator {}", options.user));
            return factory_dry_run(vault, url, options, run, result, on_event).await;
        }
        credentials::FirstAdmin::WaitingForPerson => {
            // Its password is pending in the keychain and shown by init-admin.
            result.first_admin = Some(format!("still waiting for a person to create administrator {} with the pending password (camward init-admin {url} --show-password, then --confirm)", options.user));
            result.awaiting_person = true;
            return Ok(result);
        }
        credentials::FirstAdmin::Missing(method) => {
            let created =
                credentials::init_admin_seen(vault, &url, options.user, run.choice(), Some(method))
                    .await?;
            match created.status {
                InitAdminStatus::Created => {
                    result.first_admin = Some(format!(
                        "administrator {} created ({:?})",
                        options.user, created.method
                    ));
                }
                InitAdminStatus::AwaitingPerson { page } => {
                    result.first_admin = Some(format!("waiting for a person to create administrator {} on {page} (then: camward init-admin {url} --confirm)", options.user));
                    result.awaiting_person = true;
                    return Ok(result);
                }
            }
        }
    }

    let audit_options = AuditOptions {
        level: options.plan.level(),
        plan: Some(options.plan),
        firmware: options.firmware,
        outside: options.outside,
        peers,
    };
    let before = audit(vault, &url, options.user, &audit_options).await?;
    let key = CredentialKey::new(crate::camera_key(&url), options.user);

    // One logged-in session for every control after the administrator's password (which the
    // admin-password step may rotate first): the keychain is read once, not once per control.
    let session = tokio::sync::OnceCell::new();
    // HTTP goes off last: the controls before it share a session that may still be over HTTP.
    // The steps are reported in the catalog order all the same.
    let mut order: Vec<&Finding> = before.findings.iter().collect();
    // 802.1X after that: a wrong configuration takes the camera off its switch port.
    order.sort_by_key(|f| (f.control == "dot1x", f.control == "https-only"));
    for f in order {
        let outcome = if f.status == Status::Pass {
            Outcome::AlreadyHardened
        } else if run.stopped() {
            Outcome::Stopped
        } else {
            apply(vault, &url, &key, f, options, run.clone(), &session).await
        };
        if let Outcome::Applied { change } = &outcome {
            let _ = vault.inventory.append_audit(&AuditEntry::camera(
                key.camera.clone(),
                "control.apply",
                format!("{}: {change}", f.control),
                "ok",
            ));
        }
        if let Outcome::Failed { code, message } = &outcome {
            let _ = vault.inventory.append_audit(&AuditEntry::camera(
                key.camera.clone(),
                "control.apply",
                format!("{}: {message}", f.control),
                code.clone(),
            ));
        }
        let step = Step {
            control: f.control,
            before: f.status,
            outcome,
        };
        on_event(CommissionEvent::Step {
            camera: url.clone(),
            step: step.clone(),
        });
        result.steps.push(step);
    }
    result
        .steps
        .sort_by_key(|s| before.findings.iter().position(|f| f.control == s.control));
    result.before = Some(before);
    if !options.dry_run && !run.stopped() {
        result.after = Some(audit(vault, &url, options.user, &audit_options).await?);
    }
    Ok(result)
}

/// The dry run of a factory-fresh camera: nothing can be read behind a login yet, so the diff is
/// built from what the camera tells anyone ([`super::prelogin`]): every control that is not seen
/// passing is taken as in its factory default (failing) and put through the same decisions as a
/// logged-in dry run — guards included (an allow-list that leaves this computer out, NTP servers
/// that do not answer). Controls whose decision needs the camera's own answers say so.
async fn factory_dry_run(
    vault: &Vault,
    url: String,
    options: &CommissionOptions<'_>,
    run: RunControl<'_>,
    mut result: CameraCommission,
    on_event: &(dyn Fn(CommissionEvent) + Sync),
) -> Result<CameraCommission, CoreError> {
    let why = CoreError {
        code: "no_password".into(),
        message: "the camera has no administrator yet".into(),
        camera: url.clone(),
        step: "dry run".into(),
    };
    let seen = super::prelogin::audit(&url, options.plan.level(), &why).await?;
    let later = || Outcome::Skipped {
        reason:
            "decided once the administrator exists: Camward logs in then and reads this setting"
                .into(),
    };
    let session = tokio::sync::OnceCell::new();
    let key = CredentialKey::new(crate::camera_key(&url), options.user);
    for f in &seen.scorecard.findings {
        let outcome = match (f.status, f.control) {
            (Status::Pass, _) => Outcome::AlreadyHardened,
            (Status::NotApplicable, _) => Outcome::Skipped {
                reason: format!("{}: {}", f.status.label(), f.evidence),
            },
            (_, "admin-password") => Outcome::WouldChange {
                change: format!(
                    "create administrator {} with {}",
                    options.user,
                    if run.password.is_some() {
                        "the password typed for the site"
                    } else {
                        "a generated unique password"
                    }
                ),
            },
            // What the plan alone decides (its guards included), and what the camera already
            // told anyone it fails: the same decision as a logged-in dry run.
            (status, control) if status == Status::Fail || PLAN_DECIDED.contains(&control) => {
                let assumed = Finding {
                    status: Status::Fail,
                    ..f.clone()
                };
                // A dry run: `apply` sends nothing. One that needs the camera's own answers
                // (a login) is decided later, not reported as a failure.
                match apply(vault, &url, &key, &assumed, options, run.clone(), &session).await {
                    Outcome::Failed { .. } => later(),
                    outcome => outcome,
                }
            }
            _ => later(),
        };
        let step = Step {
            control: f.control,
            before: f.status,
            outcome,
        };
        on_event(CommissionEvent::Step {
            camera: url.clone(),
            step: step.clone(),
        });
        result.steps.push(step);
    }
    result.before = Some(seen.scorecard);
    Ok(result)
}

/// Controls whose dry-run decision needs only the plan and this computer (their guards: the NTP
/// servers asked, the allow-list against this computer's address), not the camera's settings.
const PLAN_DECIDED: &[&str] = &[
    "time-sync",
    "host-restriction",
    "autoip-off",
    "wsdiscovery-off",
];

/// The lock-out guard of `host-restriction`: this computer's own address toward the camera at
/// `url`, when the plan's allow-list keeps it in; else why the restriction is refused.
pub fn host_guard(plan: &SitePlan, url: &str) -> Result<IpAddr, String> {
    let Some(laptop) = laptop_toward(url) else {
        return Err("cannot tell this computer's address toward the camera".into());
    };
    match plan.allowed_hosts() {
        Some(nets) if !plan.allows(laptop) => Err(format!(
            "the allow-list {} leaves out this computer's own address {laptop}: the camera would lock Camward out (only a factory reset would undo it)",
            nets.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
        )),
        _ => Ok(laptop),
    }
}

/// The lock-out guard's verdict for one camera, before anything is sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HostGuard {
    /// The device service URL.
    pub camera: String,
    /// This computer's own address toward the camera, when known.
    pub laptop: Option<IpAddr>,
    /// Why the allow-list would be refused for this camera; `None` when it keeps this computer in.
    pub refused: Option<String>,
}

/// [`host_guard`] for every camera of `targets`.
pub fn host_guards(plan: &SitePlan, targets: &[String]) -> Vec<HostGuard> {
    targets
        .iter()
        .map(|target| {
            let url = crate::target::device_url(target).unwrap_or_else(|_| target.clone());
            let laptop = laptop_toward(&url);
            HostGuard {
                refused: host_guard(plan, &url).err(),
                camera: url,
                laptop,
            }
        })
        .collect()
}

/// This computer's own address toward each camera of `targets` (`None` where unknown): what
/// an allow-list must keep in.
pub fn laptop_addresses(targets: &[String]) -> Vec<(String, Option<IpAddr>)> {
    targets
        .iter()
        .map(|target| {
            let url = crate::target::device_url(target).unwrap_or_else(|_| target.clone());
            let laptop = laptop_toward(&url);
            (url, laptop)
        })
        .collect()
}

/// The administrator's password of one camera, for the person who asked to see it: the one a
/// guided first boot waits for them to type on the camera's page (pending) while it waits, else
/// the current one ([`credentials::reveal`], recorded in the audit trail).
pub fn reveal_admin(
    vault: &Vault,
    target: &str,
    user: &str,
) -> Result<camward_vault::Sensitive<String>, CoreError> {
    let url = crate::target::device_url(target)?;
    let key = CredentialKey::new(crate::camera_key(&url), user);
    if let Ok(Some(pending)) = vault.ledger.pending_secret(&key) {
        let _ = vault.inventory.append_audit(&AuditEntry::camera(
            key.camera.clone(),
            "credential.revealed",
            format!(
                "the pending password of {user} was shown to {} for the camera's first-access page",
                camward_vault::os_user()
            ),
            "ok",
        ));
        return Ok(pending);
    }
    credentials::reveal(vault, &url, user)
}

/// What one NTP server answered to an SNTP query.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NtpCheck {
    /// The server as the plan names it.
    pub server: String,
    /// Its clock minus this computer's, in seconds, when it answered.
    pub offset_s: Option<f64>,
    /// Why it did not answer.
    pub error: Option<String>,
}

/// Asks each NTP server (SNTP, 2 s each, all at once), as `time-sync` does before a camera is
/// told to use them.
pub async fn check_ntp(servers: &[NtpServer]) -> Vec<NtpCheck> {
    let client = rsntp::AsyncSntpClient::with_config(
        rsntp::Config::default().timeout(Duration::from_secs(2)),
    );
    let client = &client;
    futures_util::future::join_all(servers.iter().map(|server| async move {
        let answer = match server {
            NtpServer::Address(ip) => client.synchronize((*ip, 123)).await,
            NtpServer::Host(h) => client.synchronize(h.as_str()).await,
        };
        match answer {
            Ok(r) => NtpCheck {
                server: server.to_string(),
                offset_s: Some(r.clock_offset().as_secs_f64()),
                error: None,
            },
            Err(e) => NtpCheck {
                server: server.to_string(),
                offset_s: None,
                error: Some(e.to_string()),
            },
        }
    }))
    .await
}

/// A step for a person: the finding's fix (the menu path, or what to check).
fn guided(f: &Finding) -> Outcome {
    Outcome::Guided {
        step: f.fix.clone().unwrap_or_else(|| f.evidence.clone()),
    }
}

fn failed(e: CoreError) -> Outcome {
    Outcome::Failed {
        code: e.code,
        message: format!("{}: {}", e.step, e.message),
    }
}

/// This computer's own address on the path to the camera at `url`.
fn laptop_toward(url: &str) -> Option<IpAddr> {
    super::audit::host_of(url).and_then(super::audit::laptop_address_toward)
}

/// The first plan NTP server that answers an SNTP query, with its clock offset.
async fn answering_ntp(servers: &[NtpServer]) -> Result<(NtpServer, f64), String> {
    let client = rsntp::AsyncSntpClient::with_config(
        rsntp::Config::default().timeout(Duration::from_secs(2)),
    );
    let mut tried = Vec::new();
    for server in servers {
        let answer = match server {
            NtpServer::Address(ip) => client.synchronize((*ip, 123)).await,
            NtpServer::Host(h) => client.synchronize(h.as_str()).await,
        };
        match answer {
            Ok(r) => return Ok((server.clone(), r.clock_offset().as_secs_f64())),
            Err(e) => tried.push(format!("{server}: {e}")),
        }
    }
    Err(format!(
        "no NTP server of the plan answered an SNTP query ({})",
        tried.join("; ")
    ))
}

async fn apply(
    vault: &Vault,
    url: &str,
    key: &CredentialKey,
    f: &Finding,
    options: &CommissionOptions<'_>,
    run: RunControl<'_>,
    session: &tokio::sync::OnceCell<crate::session::CameraSession>,
) -> Outcome {
    let plan = options.plan;
    if matches!(f.status, Status::NotApplicable | Status::Unknown) {
        return Outcome::Skipped {
            reason: format!("{}: {}", f.status.label(), f.evidence),
        };
    }
    let dry = |change: String| Outcome::WouldChange { change };
    match f.control {
        "password-policy" => Outcome::Skipped {
            reason: "the administrator's password is replaced by admin-password".into(),
        },
        "admin-password" => {
            if run.password.is_some() {
                // Rotating to the typed password would not make it unique, and rotating to a
                // generated one would overrule the person's choice: say so instead.
                return Outcome::Refused {
                    reason: "the administrator keeps the one password typed for the site, the same on every camera, so it is not unique: choose generated passwords to pass this control".into(),
                };
            }
            let change = format!(
                "rotate the password of {} to a generated unique one",
                options.user
            );
            if options.dry_run {
                return dry(change);
            }
            let outcomes = credentials::rotate(
                vault,
                &[url.to_owned()],
                RotationRequest {
                    user: options.user.to_owned(),
                    admin: options.user.to_owned(),
                    password: match run.choice() {
                        NewPassword::Given(typed) => NewPassword::Given(typed.clone()),
                        NewPassword::Generate => NewPassword::Generate,
                    },
                    concurrency: 1,
                },
            )
            .await;
            match outcomes.into_iter().next().map(|o| o.result) {
                Some(Ok(_)) => Outcome::Applied { change },
                Some(Err(e)) => failed(e),
                None => Outcome::Skipped {
                    reason: "nothing to rotate".into(),
                },
            }
        }
        "time-sync" => {
            let Some(time) = plan.time() else {
                return Outcome::Refused {
                    reason: "the site plan has no [time] section with NTP servers".into(),
                };
            };
            let (server, offset) = match answering_ntp(&time.ntp).await {
                Ok(s) => s,
                Err(reason) => return Outcome::Refused { reason },
            };
            let hosts: Vec<NetworkHost> = time
                .ntp
                .iter()
                .map(|s| match s {
                    NtpServer::Address(IpAddr::V4(a)) => NetworkHost::Ipv4(a.to_string()),
                    NtpServer::Address(IpAddr::V6(a)) => NetworkHost::Ipv6(a.to_string()),
                    NtpServer::Host(h) => NetworkHost::Dns(h.clone()),
                })
                .collect();
            let names: Vec<String> = time.ntp.iter().map(ToString::to_string).collect();
            let change = format!("NTP servers {} (SNTP: {server} answers, {offset:+.3} s from this computer), DateTimeType NTP", names.join(", "));
            if options.dry_run {
                return dry(change);
            }
            let camera = match session
                .get_or_try_init(|| crate::session::logged_in(vault, url, key))
                .await
            {
                Ok(c) => c,
                Err(e) => return failed(e),
            };
            if let Err(e) = camera.set_ntp(false, &hosts).await {
                return failed(onvif_error(url, "SetNTP", e));
            }
            let req = SetDateTime {
                date_time_type: DateTimeType::Ntp,
                daylight_savings: false,
                time_zone: None,
                utc: None,
            };
            if let Err(e) = camera.set_system_date_and_time(&req).await {
                return failed(onvif_error(url, "SetSystemDateAndTime", e));
            }
            Outcome::Applied { change }
        }
        "user-accounts" => {
            let camera = match session
                .get_or_try_init(|| crate::session::logged_in(vault, url, key))
                .await
            {
                Ok(c) => c,
                Err(e) => return failed(e),
            };
            let users = match camera.get_users().await {
                Ok(u) => u,
                Err(e) => return failed(onvif_error(url, "GetUsers", e)),
            };
            let kept = plan.users();
            if kept.is_empty() {
                return Outcome::Refused {
                    reason: "the site plan lists no [users] to keep: Camward deletes accounts only against a plan's list (a recorder's account may be among them)".into(),
                };
            }
            // Never an account whose password Camward holds: someone relies on it.
            let held = |name: &str| {
                vault
                    .ledger
                    .current(&CredentialKey::new(key.camera.clone(), name))
                    .is_ok_and(|p| p.is_some())
            };
            let extra: Vec<&str> = users
                .iter()
                .map(|u| u.username.as_str())
                .filter(|name| *name != options.user && !kept.iter().any(|k| k.name == *name))
                .filter(|name| !held(name))
                .collect();
            if extra.is_empty() {
                return Outcome::Guided {
                    step: "lower the roles the site plan does not give (ONVIF SetUser)".into(),
                };
            }
            let change = format!(
                "delete accounts the site plan does not keep: {}",
                extra.join(", ")
            );
            if options.dry_run {
                return dry(change);
            }
            match camera.delete_users(&extra).await {
                Ok(()) => Outcome::Applied { change },
                Err(e) => failed(onvif_error(url, "DeleteUsers", e)),
            }
        }
        "host-restriction" => {
            let Some(nets) = plan.allowed_hosts() else {
                return Outcome::Refused {
                    reason: "the site plan lists no allowed hosts ([access] allowed_hosts)".into(),
                };
            };
            // The lock-out guard: this computer must stay inside the list, checked before sending.
            let laptop = match host_guard(plan, url) {
                Ok(laptop) => laptop,
                Err(reason) => return Outcome::Refused { reason },
            };
            let prefixed = |n: &ipnet::IpNet| PrefixedAddress {
                address: n.network().to_string(),
                prefix_length: n.prefix_len(),
            };
            let filter = IpAddressFilter {
                filter_type: FilterType::Allow,
                ipv4: nets
                    .iter()
                    .filter(|n| n.addr().is_ipv4())
                    .map(prefixed)
                    .collect(),
                ipv6: nets
                    .iter()
                    .filter(|n| n.addr().is_ipv6())
                    .map(prefixed)
                    .collect(),
            };
            let change = format!(
                "allow only {} (this computer: {laptop})",
                nets.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            if options.dry_run {
                return dry(change);
            }
            let camera = match session
                .get_or_try_init(|| crate::session::logged_in(vault, url, key))
                .await
            {
                Ok(c) => c,
                Err(e) => return failed(e),
            };
            if let Err(e) = camera
                .change_ip_address_filter(IpFilterAction::Set, &filter)
                .await
            {
                return failed(onvif_error(url, "SetIPAddressFilter", e));
            }
            // Still reachable on a fresh connection?
            match open(url) {
                Ok(fresh) => match fresh.get_system_date_and_time().await {
                    Ok(_) => Outcome::Applied { change },
                    Err(e) => failed(onvif_error(
                        url,
                        "GetSystemDateAndTime after SetIPAddressFilter",
                        e,
                    )),
                },
                Err(e) => failed(e),
            }
        }
        "https-only" => {
            let camera = match session
                .get_or_try_init(|| crate::session::logged_in(vault, url, key))
                .await
            {
                Ok(c) => c,
                Err(e) => return failed(e),
            };
            match crate::certificates::apply_https_only(vault, url, key, camera, options.dry_run)
                .await
            {
                crate::certificates::HttpsOnly::Applied(change) => Outcome::Applied { change },
                crate::certificates::HttpsOnly::WouldChange(change) => dry(change),
                crate::certificates::HttpsOnly::Refused(reason) => Outcome::Refused { reason },
                crate::certificates::HttpsOnly::Failed(e) => failed(e),
            }
        }
        "autoip-off" => {
            if plan.keeps(Service::Autoip) {
                return Outcome::Skipped {
                    reason: "the site plan keeps AutoIP".into(),
                };
            }
            if super::audit::host_of(url)
                .is_some_and(|a| matches!(a, IpAddr::V4(v4) if v4.is_link_local()))
            {
                return Outcome::Refused { reason: "Camward reaches this camera on a link-local address: give it its final address first".into() };
            }
            if options.dry_run {
                return dry("AutoIP off (SetZeroConfiguration Enabled=false)".into());
            }
            let camera = match session
                .get_or_try_init(|| crate::session::logged_in(vault, url, key))
                .await
            {
                Ok(c) => c,
                Err(e) => return failed(e),
            };
            let token = match camera.get_zero_configuration().await {
                Ok(z) => z.interface_token,
                Err(e) => return failed(onvif_error(url, "GetZeroConfiguration", e)),
            };
            match camera.set_zero_configuration(&token, false).await {
                Ok(()) => Outcome::Applied {
                    change: format!("AutoIP off on {token}"),
                },
                Err(e) => failed(onvif_error(url, "SetZeroConfiguration", e)),
            }
        }
        "wsdiscovery-off" => {
            if plan.keeps(Service::WsDiscovery) {
                return Outcome::Skipped {
                    reason: "the site plan keeps WS-Discovery".into(),
                };
            }
            if options.dry_run {
                return dry("WS-Discovery NonDiscoverable".into());
            }
            let camera = match session
                .get_or_try_init(|| crate::session::logged_in(vault, url, key))
                .await
            {
                Ok(c) => c,
                Err(e) => return failed(e),
            };
            match camera
                .set_discovery_mode(DiscoveryMode::NonDiscoverable)
                .await
            {
                Ok(()) => Outcome::Applied {
                    change: "WS-Discovery NonDiscoverable".into(),
                },
                Err(e) => failed(onvif_error(url, "SetDiscoveryMode", e)),
            }
        }
        "mdns-off" | "upnp-off" | "easy-ip-setup-limited" => {
            let service = match f.control {
                "mdns-off" => Service::Mdns,
                "upnp-off" => Service::Upnp,
                _ => Service::EasyIp,
            };
            if plan.keeps(service) {
                return Outcome::Skipped {
                    reason: format!("the site plan keeps {service}"),
                };
            }
            // Axis has an API for mDNS (VAPIX Bonjour); Canon and i-PRO only their web page, and
            // nobody has one for UPnP or Easy IP Setup: a guided step naming the menu path.
            if f.control == "mdns-off" {
                if let Some(outcome) = axis_mdns_off(vault, url, key, options, session).await {
                    return outcome;
                }
            }
            guided(f)
        }
        "dot1x" => match plan.dot1x() {
            // No [dot1x]: the site's 802.1X infrastructure is not described, so a person does it.
            None => guided(f),
            Some(dot1x) if options.dry_run => dry(format!(
                "802.1X EAP-TLS as {} (client certificate from the site CA, RADIUS CA {}), applied last",
                dot1x.identity.as_str(),
                dot1x.radius_ca.display()
            )),
            // A session of its own, over the camera's route as it is now (HTTPS once HTTP is off).
            Some(dot1x) => match apply_dot1x(vault, url, key, plan, dot1x).await {
                Ok(change) => Outcome::Applied { change },
                Err(e) => failed(e),
            },
        },
        "ports-changed" => {
            // Moving a port moves every client of the camera (recorder, viewers, Camward's own
            // inventory address), so it is the person's step, with the plan's numbers.
            let ports = plan.ports();
            Outcome::Guided {
                step: format!(
                    "{}: set HTTP {}, HTTPS {}, RTSP {} (the site plan's [ports]), then point the recorder and viewers at them; Camward does not move ports itself because every client of the camera has to follow",
                    f.fix.as_deref().unwrap_or("on the camera's network page"),
                    ports.effective_http(),
                    ports.effective_https(),
                    ports.effective_rtsp(),
                ),
            }
        }
        _ => guided(f),
    }
}

/// dot1x with the plan's `[dot1x]`: the site CA (certificate file, key in the keychain) and the
/// RADIUS CA file are read, then [`super::dot1x::apply`] on the camera's first interface.
async fn apply_dot1x(
    vault: &Vault,
    url: &str,
    key: &CredentialKey,
    plan: &SitePlan,
    dot1x: &camward_policy::plan::Dot1xPlan,
) -> Result<String, CoreError> {
    let local = |code: &str, step: &str, message: String| CoreError {
        code: code.into(),
        message,
        camera: url.to_owned(),
        step: step.into(),
    };
    let ca = camward_certs::SiteCa::load(plan.site(), vault.ledger.store(), &dot1x.site_ca)
        .map_err(|e| local(e.code(), "load the site CA", e.to_string()))?;
    let radius = std::fs::read(&dot1x.radius_ca).map_err(|e| {
        local(
            "io_error",
            "read the RADIUS CA",
            format!("{}: {e}", dot1x.radius_ca.display()),
        )
    })?;
    let radius_der = camward_certs::read_certificates(&radius, "the RADIUS CA certificate")
        .map_err(|e| local(e.code(), "read the RADIUS CA", e.to_string()))?
        .swap_remove(0);
    let camera = crate::session::logged_in(vault, url, key).await?;
    let device = camera
        .get_device_information()
        .await
        .map_err(|e| onvif_error(url, "GetDeviceInformation", e))?;
    let interface = camera
        .get_network_interfaces()
        .await
        .map_err(|e| onvif_error(url, "GetNetworkInterfaces", e))?
        .into_iter()
        .next()
        .ok_or_else(|| {
            local(
                "no_interface",
                "GetNetworkInterfaces",
                "the camera lists no network interface".into(),
            )
        })?;
    let mac = interface.mac.clone().unwrap_or_default();
    let names = camward_policy::plan::CameraNames {
        site: plan.site(),
        model: &device.model,
        serial: &device.serial_number,
        mac: &mac,
        index: 1,
    };
    super::dot1x::apply(
        &camera,
        url,
        &interface.token,
        dot1x,
        &names,
        &ca,
        &radius_der,
        397,
    )
    .await
}

/// mdns-off on an Axis camera: Bonjour off over VAPIX as root, with root's password from the
/// keychain (the audited account when it is root). `None` for another make.
async fn axis_mdns_off(
    vault: &Vault,
    url: &str,
    key: &CredentialKey,
    options: &CommissionOptions<'_>,
    session: &tokio::sync::OnceCell<crate::session::CameraSession>,
) -> Option<Outcome> {
    use camward_vendors::axis;
    let camera = match session
        .get_or_try_init(|| crate::session::logged_in(vault, url, key))
        .await
    {
        Ok(c) => c,
        Err(e) => return Some(failed(e)),
    };
    match camera.get_device_information().await {
        Ok(d) if d.manufacturer.to_ascii_lowercase().contains("axis") => {}
        Ok(_) => return None,
        Err(e) => return Some(failed(onvif_error(url, "GetDeviceInformation", e))),
    }
    let change = "mDNS (Bonjour) off over VAPIX (Network.Bonjour.Enabled=no)".to_owned();
    // Only a password the keychain holds for root is tried: a guessed one would be a failed login.
    let root = CredentialKey::new(key.camera.clone(), axis::ROOT);
    let Some(password) = vault.ledger.current(&root).ok().flatten() else {
        return Some(Outcome::Guided {
            step: format!("Camward holds no password for {} on this camera: as {}, turn Bonjour off (VAPIX param.cgi Network.Bonjour.Enabled=no, or the camera's web page)", axis::ROOT, axis::ROOT),
        });
    };
    if options.dry_run {
        return Some(Outcome::WouldChange { change });
    }
    let http = match camward_vendors::VendorHttp::new(url) {
        Ok(h) => h.login(Credentials::new(axis::ROOT, password.expose().as_str())),
        Err(e) => {
            return Some(failed(crate::first_boot::vendor_error(
                url,
                "open connection",
                e,
            )))
        }
    };
    if let Err(e) = axis::set_mdns(&http, false).await {
        return Some(failed(crate::first_boot::vendor_error(
            url,
            "VAPIX Bonjour off",
            e,
        )));
    }
    Some(match axis::mdns_enabled(&http).await {
        Ok(false) => {
            // The announcer stops a moment later (goodbyes sent): with outside verification, wait
            // a few seconds at most for the camera to fall silent, so the proof audit sees it.
            if options.outside {
                if let Some(ip) = super::audit::host_of(url) {
                    for _ in 0..10 {
                        let answer = camward_discovery::outside::mdns_unicast_answers(
                            ip,
                            camward_discovery::outside::MDNS_PORT,
                            Duration::from_millis(500),
                        )
                        .await;
                        if !matches!(answer, Ok(Some(_))) {
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(250)).await;
                    }
                }
            }
            Outcome::Applied { change }
        }
        Ok(true) => Outcome::Failed {
            code: "vendor_not_applied".into(),
            message: "VAPIX Bonjour off: the camera still lists Network.Bonjour.Enabled=yes".into(),
        },
        Err(e) => failed(crate::first_boot::vendor_error(
            url,
            "VAPIX read Bonjour",
            e,
        )),
    })
}
