//! The credential lifecycle on cameras: the first administrator on a factory-fresh camera
//! ([`init_admin`]), verified password rotation ([`rotate`]) and finishing whatever a crash
//! interrupted ([`resume`]).
//!
//! Every new password goes through the write-ahead [`CredentialLedger`]: it is stored as pending
//! *before* it is sent, promoted only after a fresh session logged in with it, and the old one is
//! retired only after the camera refused it. A crash at any point leaves enough in the keychain
//! for [`resume`] to find out, by logging in, which password the camera has.
//!
//! ## Attempt budget
//!
//! Cameras lock logins out after a few consecutive failures (camsim after 5). Every login whose
//! password might be wrong is charged to a per-camera [`AttemptBudget`] of
//! [`MAX_FAILED_LOGINS_PER_RUN`] failures per run (rotation *and* resume), and no login is tried once
//! it is spent. In a normal rotation the only expected failure is the check that the old password
//! no longer works; a resume needs at most "pending refused, current accepted" plus that check.
use std::collections::BTreeMap;
use std::sync::Arc;

use camward_onvif::device::{User, UserLevel};
use camward_onvif::{AuthMode, Credentials, DeviceRefusal, OnvifError};
use camward_policy::{Context, DeviceLimits};
use camward_vault::{
    AuditEntry, CameraRecord, CredentialKey, CredentialLedger, Inventory, LedgerError,
    PendingChange, Resolution, ResolveError, Sensitive,
};
use serde::Serialize;

use crate::first_boot::{self, FactoryState, FirstBootMethod};
use crate::session::{first_contact_error, onvif_error, open, CameraSession};
use crate::target::{camera_key, device_url};
use crate::CoreError;

/// At most this many failed logins per camera in one run. camsim (and many cameras) lock out after
/// 5 consecutive failures; 2 leaves room for a second run right after an interrupted one.
pub const MAX_FAILED_LOGINS_PER_RUN: u32 = 2;

/// Where the new password comes from.
#[derive(Clone, Debug)]
pub enum NewPassword {
    /// Generate a unique one per camera with camward-policy, within the camera's own limits.
    Generate,
    /// Use this one (typed by a person); refused with the policy's reasons when weak.
    Given(Sensitive<String>),
}

/// The secrets and records the use cases work on: the write-ahead ledger and the inventory.
#[derive(Clone, Debug)]
pub struct Vault {
    /// Secrets (keychain) and change phases (SQLite).
    pub ledger: CredentialLedger,
    /// Cameras and the audit trail.
    pub inventory: Inventory,
}

/// Failed logins a run may still cause on one camera.
#[derive(Debug)]
pub struct AttemptBudget {
    failures_left: u32,
    /// How the camera is reached (HTTPS with its pin once its HTTP is off).
    route: crate::session::Route,
}

impl Default for AttemptBudget {
    fn default() -> Self {
        Self {
            failures_left: MAX_FAILED_LOGINS_PER_RUN,
            route: crate::session::Route::default(),
        }
    }
}

impl AttemptBudget {
    /// A full budget for a camera reached along `route`.
    pub fn over(route: crate::session::Route) -> Self {
        Self {
            route,
            ..Self::default()
        }
    }

    /// Failures still allowed.
    pub fn failures_left(&self) -> u32 {
        self.failures_left
    }

    /// Logs in to `url` as `user` with `password` in a fresh session and runs one read operation
    /// (GetDeviceInformation). `Ok(true)` accepted, `Ok(false)` refused by the camera (charged to
    /// the budget), `Err` could not tell or the budget is spent (no login is tried then).
    pub async fn login(
        &mut self,
        url: &str,
        user: &str,
        password: &Sensitive<String>,
        step: &str,
    ) -> Result<bool, CoreError> {
        Ok(self
            .login_reading(url, user, password, step)
            .await?
            .is_some())
    }

    /// [`AttemptBudget::login`] that keeps what the login read: the camera's device information
    /// when the password was accepted, `None` when it was refused.
    pub async fn login_reading(
        &mut self,
        url: &str,
        user: &str,
        password: &Sensitive<String>,
        step: &str,
    ) -> Result<Option<camward_onvif::device::DeviceInformation>, CoreError> {
        if self.failures_left == 0 {
            return Err(CoreError {
                code: "attempt_budget_spent".into(),
                message: format!(
                    "not trying another login: this run already caused {MAX_FAILED_LOGINS_PER_RUN} failed logins, and more could lock the camera out"
                ),
                camera: url.to_owned(),
                step: step.to_owned(),
            });
        }
        let device = login(&self.route, url, user, password, step).await?;
        let accepted = device.is_some();
        if !accepted {
            self.failures_left -= 1;
        }
        tracing::debug!(camera = %url, user = %user, step, accepted, failures_left = self.failures_left, "login checked");
        Ok(device)
    }
}

/// One login in a fresh session (so nothing learned with another password is reused): the
/// device information it read when accepted, `None` when refused.
async fn login(
    route: &crate::session::Route,
    url: &str,
    user: &str,
    password: &Sensitive<String>,
    step: &str,
) -> Result<Option<camward_onvif::device::DeviceInformation>, CoreError> {
    let camera = route.open(url)?;
    camera
        .sync_clock()
        .await
        .map_err(|e| first_contact_error(url, step, e))?;
    camera.set_credentials(
        Some(Credentials::new(user, password.expose().as_str())),
        AuthMode::Auto,
    );
    match camera.get_device_information().await {
        Ok(device) => Ok(Some(device)),
        Err(OnvifError::Refused(DeviceRefusal::NotAuthorized)) => Ok(None),
        Err(e) => Err(onvif_error(url, step, e)),
    }
}

fn ledger_error(camera: &str, step: &str, e: LedgerError) -> CoreError {
    CoreError {
        code: e.code().to_owned(),
        message: e.to_string(),
        camera: camera.to_owned(),
        step: step.to_owned(),
    }
}

fn core_error(code: &str, camera: &str, step: &str, message: impl Into<String>) -> CoreError {
    CoreError {
        code: code.to_owned(),
        message: message.into(),
        camera: camera.to_owned(),
        step: step.to_owned(),
    }
}

/// Picks or checks the new password for this camera.
fn choose_password(
    choice: &NewPassword,
    ctx: &Context,
    limits: &DeviceLimits,
    url: &str,
) -> Result<Sensitive<String>, CoreError> {
    match choice {
        NewPassword::Generate => Ok(Sensitive::new(camward_policy::generate(ctx, limits))),
        NewPassword::Given(given) => {
            let verdict = camward_policy::check(given.expose(), ctx, limits);
            if verdict.is_ok() {
                return Ok(given.clone());
            }
            let reasons: Vec<String> = verdict.reasons.iter().map(ToString::to_string).collect();
            Err(core_error(
                "weak_password",
                url,
                "check password",
                format!("password refused: {}", reasons.join("; ")),
            ))
        }
    }
}

/// Reads what the camera says about passwords (ONVIF Core §8.1.2.3 MaxPasswordLength, a
/// pre-authentication operation) and, when the session may, its model and host name for the policy.
async fn limits_and_context(camera: &CameraSession, user: &str) -> (DeviceLimits, Context) {
    let max_length = camera
        .get_device_service_capabilities()
        .await
        .ok()
        .and_then(|c| c.max_password_length)
        .and_then(|n| usize::try_from(n).ok());
    let model = camera.get_device_information().await.ok().map(|d| d.model);
    let hostname = camera
        .get_hostname()
        .await
        .ok()
        .and_then(|h| h.name)
        .filter(|n| !n.is_empty());
    (
        DeviceLimits {
            max_length,
            ..DeviceLimits::default()
        },
        Context {
            user: user.to_owned(),
            model,
            hostname,
        },
    )
}

/// Records (or refreshes) the camera in the inventory. The credential reference is set only for
/// the administrator, whose password is the one the rest of Camward logs in with.
fn record_camera(
    vault: &Vault,
    key: &str,
    url: &str,
    admin: Option<&CredentialKey>,
    device: Option<&camward_onvif::device::DeviceInformation>,
) -> Result<(), CoreError> {
    let mut record = vault
        .inventory
        .camera(key)
        .map_err(|e| core_error(e.code(), url, "record camera", e.to_string()))?
        .unwrap_or_else(|| CameraRecord {
            key: key.to_owned(),
            ..CameraRecord::default()
        });
    if !record.addresses.iter().any(|a| a == url) {
        record.addresses.insert(0, url.to_owned());
    }
    if let Some(admin) = admin {
        record.credential = Some(admin.clone());
    }
    if let Some(d) = device {
        record.manufacturer = Some(d.manufacturer.clone());
        record.model = Some(d.model.clone());
        record.firmware = Some(d.firmware_version.clone());
        record.serial = Some(d.serial_number.clone());
    }
    vault
        .inventory
        .upsert_camera(&record)
        .map_err(|e| core_error(e.code(), url, "record camera", e.to_string()))
}

fn audit(vault: &Vault, key: &str, action: &str, detail: String, result: &str) {
    if let Err(e) = vault
        .inventory
        .append_audit(&AuditEntry::camera(key, action, detail, result))
    {
        tracing::warn!(camera = %key, error = %e, "audit entry not written");
    }
}

/// Where a first boot stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum InitAdminStatus {
    /// The administrator exists, a login with its password succeeded, the password is current.
    Created,
    /// A person has to create the administrator on `page` with the password Camward shows; the
    /// password waits as pending in the keychain until [`confirm_guided_admin`].
    AwaitingPerson {
        /// The camera's first-access page.
        page: String,
    },
}

/// The result of [`init_admin`] on one camera.
#[derive(Debug, Serialize)]
pub struct InitAdminOutcome {
    /// The device service URL.
    pub url: String,
    /// The inventory key of the camera.
    pub camera: String,
    /// The administrator created.
    pub user: String,
    /// How the administrator was created.
    pub method: FirstBootMethod,
    /// Done, or waiting for a person to act on the camera's page.
    pub status: InitAdminStatus,
    /// The password, for `--show-password` only; it refuses to serialize.
    #[serde(skip)]
    pub password: Sensitive<String>,
}

/// Where a camera stands with its first administrator, asked before anything is sent to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FirstAdmin {
    /// It has one: not factory-fresh, or reached over HTTPS only (Camward logged in to turn its
    /// HTTP off; factory detection speaks plain HTTP, so such a camera is not asked).
    Present,
    /// Factory-fresh: the administrator is created by `method`.
    Missing(FirstBootMethod),
    /// An earlier run left a guided first administrator waiting: its password is pending in the
    /// keychain, and only a person (then `init-admin --confirm`) moves it on.
    WaitingForPerson,
}

/// Step 1 of commissioning, asked: does the camera at `url` still need its administrator `user`?
/// The run and the desktop's certificates step both ask it before they log in.
pub async fn first_admin(vault: &Vault, url: &str, user: &str) -> Result<FirstAdmin, CoreError> {
    let camera = camera_key(url);
    if vault
        .inventory
        .https_access(&camera)
        .ok()
        .flatten()
        .is_some()
    {
        return Ok(FirstAdmin::Present);
    }
    let state = first_boot::detect(url).await?;
    if !state.factory_fresh {
        return Ok(FirstAdmin::Present);
    }
    let key = CredentialKey::new(camera, user);
    if vault.ledger.pending().is_ok_and(|p| p.contains(&key)) {
        return Ok(FirstAdmin::WaitingForPerson);
    }
    Ok(FirstAdmin::Missing(state.method))
}

/// Creates the first administrator `user` on the factory-fresh camera at `target`: picks (or
/// checks) the password, stores it as pending, creates the user, logs in with it in a fresh
/// session, promotes it and records the camera. An interrupted run is finished by [`resume`].
pub async fn init_admin(
    vault: &Vault,
    target: &str,
    user: &str,
    choice: &NewPassword,
) -> Result<InitAdminOutcome, CoreError> {
    init_admin_seen(vault, target, user, choice, None).await
}

/// [`init_admin`] for a caller whose [`first_admin`] has just answered
/// [`FirstAdmin::Missing`]`(method)`: the camera is not detected again; the method's own question
/// confirms the factory state while the password is being stored (`first_boot`).
pub async fn init_admin_seen(
    vault: &Vault,
    target: &str,
    user: &str,
    choice: &NewPassword,
    seen: Option<FirstBootMethod>,
) -> Result<InitAdminOutcome, CoreError> {
    let url = device_url(target)?;
    let camera_id = camera_key(&url);
    let key = CredentialKey::new(camera_id.clone(), user);

    let state = match seen {
        Some(method) => FactoryState {
            factory_fresh: true,
            method,
        },
        None => first_boot::detect(&url).await?,
    };
    if !state.factory_fresh {
        return Err(core_error(
            "not_factory_fresh",
            &url,
            "detect factory state",
            "the camera already has an administrator; use `camward rotate` to change its password",
        ));
    }
    // What the camera says about passwords, over ONVIF where it already answers (an inactive
    // Hikvision has ONVIF off until activation: then only the vendor's rule applies).
    let session = open(&url)?;
    let (mut limits, ctx) = match session.sync_clock().await {
        Ok(_) => limits_and_context(&session, user).await,
        Err(e) => {
            tracing::debug!(camera = %url, error = %e, "no ONVIF before the first administrator");
            (
                DeviceLimits::default(),
                Context {
                    user: user.to_owned(),
                    model: None,
                    hostname: None,
                },
            )
        }
    };
    if state.method == FirstBootMethod::Hikvision {
        // ONVIF is still off on an inactive Hikvision, so its own limit has to come from here.
        let max = camward_vendors::hikvision::MAX_PASSWORD_CHARS;
        limits.max_length = Some(limits.max_length.map_or(max, |m| m.min(max)));
    }
    let password = choose_password(choice, &ctx, &limits, &url)?;

    // Stored as pending before the camera sees it. The keychain write runs on a blocking thread
    // while the camera's factory state is read again, and the password goes out only after it.
    let store = {
        let (ledger, key, password, url) = (
            vault.ledger.clone(),
            key.clone(),
            password.clone(),
            url.clone(),
        );
        async move {
            let change = tokio::task::spawn_blocking(move || ledger.begin_change(&key, &password))
                .await
                .map_err(|e| core_error("internal", &url, STORE_PENDING, e.to_string()))?
                .map_err(|e| ledger_error(&url, STORE_PENDING, e))?;
            tracing::info!(camera = %url, user = %user, "new administrator password stored as pending");
            Ok(change)
        }
    };
    if state.method == FirstBootMethod::Guided {
        // Nothing can be sent: a person enters the password on the camera's own page. The change
        // stays pending (the password is safe in the keychain) until `confirm_guided_admin`.
        let _pending = store.await?;
        let page = first_boot::first_access_page(&url).await?;
        audit(
            vault,
            &camera_id,
            "camera.first_admin_guided",
            format!("waiting for a person to create administrator {user} on {page}"),
            "pending",
        );
        return Ok(InitAdminOutcome {
            url,
            camera: camera_id,
            user: user.to_owned(),
            method: state.method,
            status: InitAdminStatus::AwaitingPerson { page },
            password,
        });
    }
    let (method, change) = first_boot::create_first_admin_once_stored(
        &url,
        user,
        &password,
        Some(state.method),
        store,
    )
    .await
    .map_err(|e| {
        if e.step == STORE_PENDING {
            // Not stored, so not sent either: nothing is pending.
            return e;
        }
        CoreError {
            message: format!(
                "{}; the password is kept as pending, run `camward rotate --resume`",
                e.message
            ),
            ..e
        }
    })?;
    finish_first_admin(vault, &url, user, change, password, method).await
}

/// The step named by an error of storing a new password as pending (nothing was sent then).
const STORE_PENDING: &str = "store pending password";

/// Logs in with the new administrator password in a fresh session, promotes it, records the
/// camera and writes the audit entry.
async fn finish_first_admin(
    vault: &Vault,
    url: &str,
    user: &str,
    change: PendingChange,
    password: Sensitive<String>,
    method: FirstBootMethod,
) -> Result<InitAdminOutcome, CoreError> {
    let key = change.key().clone();
    let mut budget = AttemptBudget::default();
    let Some(device) = budget
        .login_reading(url, user, &password, "log in with the new password")
        .await?
    else {
        return Err(core_error(
            "new_password_refused",
            url,
            "log in with the new password",
            "the camera refused the new administrator password; it is kept as pending, run `camward rotate --resume`",
        ));
    };
    change
        .promote()
        .map_err(|e| ledger_error(url, "promote password", e))?;
    record_camera(vault, &key.camera, url, Some(&key), Some(&device))?;
    audit(
        vault,
        &key.camera,
        "camera.first_admin_created",
        format!("administrator {user} created ({method:?}); password in the keychain"),
        "ok",
    );
    Ok(InitAdminOutcome {
        url: url.to_owned(),
        camera: key.camera.clone(),
        user: user.to_owned(),
        method,
        status: InitAdminStatus::Created,
        password,
    })
}

/// The last step of a guided first boot: the person says they created `user` on the camera's
/// page with the password Camward showed. Verifies the login with the pending password and
/// promotes it. While the camera still shows its first-access page, nothing changes and the
/// error `guided_step_pending` says so; a refused login keeps the password pending too.
pub async fn confirm_guided_admin(
    vault: &Vault,
    target: &str,
    user: &str,
) -> Result<InitAdminOutcome, CoreError> {
    let url = device_url(target)?;
    let key = CredentialKey::new(camera_key(&url), user);
    let step = "confirm the guided step";
    let (Some(change), Some(password)) = (
        vault
            .ledger
            .reopen(&key)
            .map_err(|e| ledger_error(&url, step, e))?,
        vault
            .ledger
            .pending_secret(&key)
            .map_err(|e| ledger_error(&url, step, e))?,
    ) else {
        return Err(core_error(
            "nothing_to_confirm",
            &url,
            step,
            format!("no new password for {user} is waiting on this camera; run `camward init-admin` first"),
        ));
    };
    if first_boot::detect(&url).await?.factory_fresh {
        let page = first_boot::first_access_page(&url).await?;
        return Err(core_error(
            "guided_step_pending",
            &url,
            step,
            format!("the camera still has no administrator: open {page} and create {user} with the password Camward showed, then confirm again"),
        ));
    }
    finish_first_admin(vault, &url, user, change, password, FirstBootMethod::Guided).await
}

/// What a rotation or resume did to one credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RotationResult {
    /// The new password is set, verified, current; the old one is refused and retired.
    Rotated,
    /// (resume) The camera had the new password; the change was finished.
    Completed,
    /// (resume) The camera kept the old password; the pending one was discarded.
    RolledBack,
    /// (resume) The pending password never reached the keychain or the camera; dropped.
    Abandoned,
    /// (resume) An interrupted first-boot left the camera factory-fresh; the pending entry was
    /// dropped so `init-admin` can run again.
    StillFactoryFresh,
    /// (resume) The old password was confirmed refused and retired.
    Retired,
    /// (resume) A guided first boot still waits for the person at the camera's page; the
    /// password stays pending (`camward init-admin --confirm`).
    AwaitingPerson,
}

/// One credential's line in a batch report.
#[derive(Debug, Serialize)]
pub struct CameraOutcome {
    /// The camera (inventory key).
    pub camera: String,
    /// The user whose password changed.
    pub user: String,
    /// What happened, or the error naming the camera and step.
    pub result: Result<RotationResult, CoreError>,
}

/// What a rotation needs besides the vault.
#[derive(Debug)]
pub struct RotationRequest {
    /// The user whose password changes (the administrator or a secondary user).
    pub user: String,
    /// The administrator who logs in to send SetUser (the same as `user` for the admin itself).
    pub admin: String,
    /// Where the new password comes from.
    pub password: NewPassword,
    /// How many cameras are worked on at once (at least 1).
    pub concurrency: usize,
}

/// Rotates `request.user`'s password on every target, `request.concurrency` cameras at a time. One
/// camera's failure does not stop the others; each gets its own [`CameraOutcome`].
pub async fn rotate(
    vault: &Vault,
    targets: &[String],
    request: RotationRequest,
) -> Vec<CameraOutcome> {
    rotate_with_events(vault, targets, request, Arc::new(|_: &RotationEvent| {})).await
}

/// Where one camera's rotation (or resume) has got to, for a front end to show as it happens.
/// Carries no secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RotationStep {
    /// Logged in as the administrator with the current password (GetUsers answered).
    LoggedIn,
    /// The new password is in the keychain as pending, before any camera sees it.
    PendingStored,
    /// SetUser was sent with the new password.
    PasswordSent,
    /// A fresh session logged in with the new password.
    NewPasswordVerified,
    /// The camera refused the old password.
    OldPasswordRefused,
    /// The new password is current and the old one retired.
    Promoted,
}

/// What [`rotate_with_events`] and [`resume_with_events`] report while they work.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum RotationEvent {
    /// Work on this camera began.
    Started {
        /// The camera (inventory key).
        camera: String,
        /// The user whose password changes.
        user: String,
    },
    /// A step of this camera's rotation is done.
    Step {
        /// The camera (inventory key).
        camera: String,
        /// The step.
        step: RotationStep,
    },
    /// This camera is done, one way or the other (the same result the batch returns).
    Finished {
        /// The camera (inventory key).
        camera: String,
        /// The user.
        user: String,
        /// What happened, or the error naming the camera and step.
        result: Result<RotationResult, CoreError>,
    },
}

/// Where rotation events go; called from the tasks that work on each camera.
pub type RotationSink = Arc<dyn Fn(&RotationEvent) + Send + Sync>;

/// [`rotate`], telling `on_event` about each camera as it starts, at each step and when it is done.
pub async fn rotate_with_events(
    vault: &Vault,
    targets: &[String],
    request: RotationRequest,
    on_event: RotationSink,
) -> Vec<CameraOutcome> {
    warm_password_checks();
    let request = Arc::new(request);
    let semaphore = Arc::new(tokio::sync::Semaphore::new(request.concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for (index, target) in targets.iter().enumerate() {
        let vault = vault.clone();
        let request = Arc::clone(&request);
        let semaphore = Arc::clone(&semaphore);
        let target = target.clone();
        let on_event = Arc::clone(&on_event);
        tasks.spawn(async move {
            // The semaphore is never closed, so acquiring only waits.
            let _permit = semaphore.acquire_owned().await.ok();
            let camera = device_url(&target).map_or_else(|_| target.clone(), |u| camera_key(&u));
            on_event(&RotationEvent::Started {
                camera: camera.clone(),
                user: request.user.clone(),
            });
            let step = |step: RotationStep| {
                on_event(&RotationEvent::Step {
                    camera: camera.clone(),
                    step,
                })
            };
            let result = rotate_one(&vault, &target, &request, &step).await;
            on_event(&RotationEvent::Finished {
                camera: camera.clone(),
                user: request.user.clone(),
                result: result.clone(),
            });
            (
                index,
                CameraOutcome {
                    camera,
                    user: request.user.clone(),
                    result,
                },
            )
        });
    }
    let outcomes = collect_in_order(tasks).await;
    settle_journals(vault).await;
    outcomes
}

/// As a batch that chooses or checks passwords starts: zxcvbn's one-time set-up
/// ([`camward_policy::warm_up`]) runs on a blocking thread, alongside the cameras' first round
/// trips, instead of in the first camera's password step.
pub(crate) fn warm_password_checks() {
    drop(tokio::task::spawn_blocking(camward_policy::warm_up));
}

/// Before a batch returns: the passwords its cameras stored at the same moment went to the
/// keychain together, in journal entries (`camward_vault::ledger`, "Journals"); this waits until
/// each is in an entry of its own, and settles any journal an earlier run left. A failure here
/// loses nothing (the journal keeps the passwords, and the next batch or resume settles it), so
/// it is logged, not returned.
pub async fn settle_journals(vault: &Vault) {
    let ledger = vault.ledger.clone();
    match tokio::task::spawn_blocking(move || ledger.settle_journals()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "passwords stored together are not yet in entries of their own; the next run settles them")
        }
        Err(e) => tracing::warn!(error = %e, "settling the keychain journals stopped"),
    }
}

async fn collect_in_order(
    mut tasks: tokio::task::JoinSet<(usize, CameraOutcome)>,
) -> Vec<CameraOutcome> {
    let mut done = BTreeMap::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((index, outcome)) => {
                done.insert(index, outcome);
            }
            Err(e) => tracing::error!(error = %e, "a camera task panicked"),
        }
    }
    done.into_values().collect()
}

async fn rotate_one(
    vault: &Vault,
    target: &str,
    request: &RotationRequest,
    step: &(dyn Fn(RotationStep) + Send + Sync),
) -> Result<RotationResult, CoreError> {
    let url = device_url(target)?;
    let camera_id = camera_key(&url);
    let user = request.user.as_str();
    let key = CredentialKey::new(camera_id.clone(), user);
    let admin_key = CredentialKey::new(camera_id.clone(), request.admin.as_str());

    if vault
        .ledger
        .pending()
        .map_err(|e| ledger_error(&url, "read ledger", e))?
        .contains(&key)
    {
        return Err(core_error(
            "credential_change_in_progress",
            &url,
            "read ledger",
            format!("an earlier change of {user}'s password was interrupted; run `camward rotate --resume` first"),
        ));
    }
    let no_secret = |who: &str| {
        core_error(
            "credential_missing",
            &url,
            "read current password",
            format!("no password for {who} on this camera in the keychain; use `camward init-admin` or `camward credentials set`"),
        )
    };
    let current = vault
        .ledger
        .current(&key)
        .map_err(|e| ledger_error(&url, "read current password", e))?
        .ok_or_else(|| no_secret(user))?;
    let admin_password = if admin_key == key {
        current.clone()
    } else {
        vault
            .ledger
            .current(&admin_key)
            .map_err(|e| ledger_error(&url, "read current password", e))?
            .ok_or_else(|| no_secret(&request.admin))?
    };
    // Over HTTPS with the pin once the camera's HTTP is off (a changed certificate stops here).
    let route = crate::session::route(vault, &url).await?;
    let mut budget = AttemptBudget::over(route.clone());

    // Log in as the administrator with the current password; GetUsers is the first login, so a
    // wrong current password costs one failure and stops here.
    let session = route.open(&url)?;
    session
        .sync_clock()
        .await
        .map_err(|e| first_contact_error(&url, "GetSystemDateAndTime", e))?;
    session.set_credentials(
        Some(Credentials::new(
            request.admin.as_str(),
            admin_password.expose().as_str(),
        )),
        AuthMode::Auto,
    );
    let users = match session.get_users().await {
        Ok(users) => users,
        Err(OnvifError::Refused(DeviceRefusal::NotAuthorized)) => {
            // One failure, and the rotation stops here: nothing else is tried on this camera.
            return Err(core_error(
                "not_authorized",
                &url,
                "log in with the current password",
                format!(
                    "the camera refused the stored password of {}; nothing was changed",
                    request.admin
                ),
            ));
        }
        Err(e) => return Err(onvif_error(&url, "GetUsers", e)),
    };
    step(RotationStep::LoggedIn);
    let level = users
        .iter()
        .find(|u| u.username == user)
        .map(|u| u.level)
        .ok_or_else(|| {
            core_error(
                "no_such_user",
                &url,
                "GetUsers",
                format!("the camera has no user {user}"),
            )
        })?;
    let (limits, ctx) = limits_and_context(&session, user).await;
    let new = choose_password(&request.password, &ctx, &limits, &url)?;

    let change = vault
        .ledger
        .begin_change(&key, &new)
        .map_err(|e| ledger_error(&url, "store pending password", e))?;
    tracing::info!(camera = %url, user = %user, "new password stored as pending");
    step(RotationStep::PendingStored);
    session
        .set_user(&[User {
            username: user.to_owned(),
            password: Some(new.expose().clone()),
            level: if level == UserLevel::Anonymous {
                UserLevel::User
            } else {
                level
            },
        }])
        .await
        .map_err(|e| onvif_error(&url, "SetUser", e))?;
    drop(session);
    step(RotationStep::PasswordSent);

    if !budget
        .login(&url, user, &new, "log in with the new password")
        .await?
    {
        return Err(core_error(
            "new_password_refused",
            &url,
            "log in with the new password",
            "the camera accepted SetUser but refused the new password; it is kept as pending, run `camward rotate --resume`",
        ));
    }
    step(RotationStep::NewPasswordVerified);
    if budget
        .login(&url, user, &current, "check the old password is refused")
        .await?
    {
        return Err(core_error(
            "old_password_accepted",
            &url,
            "check the old password is refused",
            "the camera still accepts the old password; the change is kept as pending, run `camward rotate --resume`",
        ));
    }
    step(RotationStep::OldPasswordRefused);
    change
        .promote()
        .map_err(|e| ledger_error(&url, "promote password", e))?;
    vault
        .ledger
        .retire_previous(&key)
        .map_err(|e| ledger_error(&url, "retire old password", e))?;
    if user == request.admin {
        record_camera(vault, &camera_id, &url, Some(&key), None)?;
    } else {
        record_camera(vault, &camera_id, &url, None, None)?;
    }
    audit(
        vault,
        &camera_id,
        "credential.rotated",
        format!("password of {user} rotated and verified; old one refused by the camera"),
        "ok",
    );
    step(RotationStep::Promoted);
    Ok(RotationResult::Rotated)
}

/// Finishes every interrupted change: pending ones are resolved by logging in with the pending,
/// then the current password; promoted ones get the old password checked as refused and retired.
/// Works per camera, within one [`AttemptBudget`] per camera, `concurrency` cameras at a time.
pub async fn resume(vault: &Vault, concurrency: usize) -> Result<Vec<CameraOutcome>, CoreError> {
    resume_with_events(vault, concurrency, Arc::new(|_: &RotationEvent| {})).await
}

/// [`resume`], telling `on_event` about each credential as it starts and when it is done.
pub async fn resume_with_events(
    vault: &Vault,
    concurrency: usize,
    on_event: RotationSink,
) -> Result<Vec<CameraOutcome>, CoreError> {
    let err = |e: LedgerError| ledger_error("-", "read ledger", e);
    let mut per_camera: BTreeMap<String, Vec<CredentialKey>> = BTreeMap::new();
    for key in vault
        .ledger
        .pending()
        .map_err(err)?
        .into_iter()
        .chain(vault.ledger.awaiting_retirement().map_err(err)?)
    {
        per_camera.entry(key.camera.clone()).or_default().push(key);
    }
    let semaphore = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for (camera, keys) in per_camera {
        let vault = vault.clone();
        let semaphore = Arc::clone(&semaphore);
        let url = camera_url(&vault, &camera);
        let on_event = Arc::clone(&on_event);
        tasks.spawn(async move {
            let _permit = semaphore.acquire_owned().await.ok();
            let mut budget = AttemptBudget::default();
            let mut outcomes = Vec::new();
            for key in keys {
                on_event(&RotationEvent::Started {
                    camera: key.camera.clone(),
                    user: key.user.clone(),
                });
                let result = match &url {
                    Ok(url) => resume_one(&vault, url, &key, &mut budget).await,
                    Err(e) => Err(e.clone()),
                };
                on_event(&RotationEvent::Finished {
                    camera: key.camera.clone(),
                    user: key.user.clone(),
                    result: result.clone(),
                });
                outcomes.push(CameraOutcome {
                    camera: key.camera.clone(),
                    user: key.user.clone(),
                    result,
                });
            }
            outcomes
        });
    }
    let mut all = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(outcomes) => all.extend(outcomes),
            Err(e) => tracing::error!(error = %e, "a camera task panicked"),
        }
    }
    all.sort_by(|a, b| (&a.camera, &a.user).cmp(&(&b.camera, &b.user)));
    settle_journals(vault).await;
    Ok(all)
}

/// The device service URL of an inventory key: the address recorded for it, else the `host:`
/// authority the key was made from.
fn camera_url(vault: &Vault, camera: &str) -> Result<String, CoreError> {
    if let Ok(Some(record)) = vault.inventory.camera(camera) {
        if let Some(address) = record.addresses.first() {
            return device_url(address);
        }
    }
    match camera.strip_prefix("host:") {
        Some(authority) => device_url(authority),
        None => Err(core_error(
            "no_address",
            camera,
            "find camera address",
            "the inventory has no address for this camera",
        )),
    }
}

async fn resume_one(
    vault: &Vault,
    url: &str,
    key: &CredentialKey,
    budget: &mut AttemptBudget,
) -> Result<RotationResult, CoreError> {
    let change = vault
        .ledger
        .change(key)
        .map_err(|e| ledger_error(url, "read ledger", e))?;
    let pending = change.as_ref().is_some_and(|c| {
        matches!(
            c.phase,
            camward_vault::Phase::Pending | camward_vault::Phase::Promoting
        )
    });
    let mut result = RotationResult::Retired;
    if pending {
        // Over HTTPS with the pin once the camera's HTTP is off.
        budget.route = crate::session::route(vault, url).await?;
        result = resolve(vault, url, key, budget).await?;
        if result != RotationResult::Completed {
            return Ok(result);
        }
    }
    // Promoted: the old password must be refused before it is deleted, so that a camera that
    // somehow kept it is never left with a password only it knows.
    let previous = vault
        .ledger
        .previous(key)
        .map_err(|e| ledger_error(url, "read previous password", e))?;
    if let Some(previous) = previous {
        // A login with the current password first: cameras count consecutive failures, and a
        // success resets the count, so the expected failure below never adds to failures an
        // earlier interrupted run left.
        let current = vault
            .ledger
            .current(key)
            .map_err(|e| ledger_error(url, "read current password", e))?
            .ok_or_else(|| {
                core_error(
                    "credential_missing",
                    url,
                    "read current password",
                    "no current password in the keychain; nothing was deleted",
                )
            })?;
        if !budget
            .login(url, &key.user, &current, "log in with the current password")
            .await?
        {
            return Err(core_error(
                "not_authorized",
                url,
                "log in with the current password",
                "the camera refused the current password; the old one is kept as previous",
            ));
        }
        if budget
            .login(
                url,
                &key.user,
                &previous,
                "check the old password is refused",
            )
            .await?
        {
            return Err(core_error(
                "old_password_accepted",
                url,
                "check the old password is refused",
                "the camera still accepts the old password; it is kept in the keychain as previous",
            ));
        }
    }
    vault
        .ledger
        .retire_previous(key)
        .map_err(|e| ledger_error(url, "retire old password", e))?;
    audit(
        vault,
        &key.camera,
        "credential.resumed",
        format!("interrupted change of {}'s password finished", key.user),
        "ok",
    );
    Ok(result)
}

/// Resolves a pending change by asking the camera (each try a real login, charged to `budget`).
async fn resolve(
    vault: &Vault,
    url: &str,
    key: &CredentialKey,
    budget: &mut AttemptBudget,
) -> Result<RotationResult, CoreError> {
    let current = vault
        .ledger
        .current(key)
        .map_err(|e| ledger_error(url, "read current password", e))?;
    let factory = match current {
        None => Some(first_boot::detect(url).await?),
        Some(_) => None,
    };
    if let Some(FactoryState {
        factory_fresh: true,
        method,
    }) = factory
    {
        if method == FirstBootMethod::Guided {
            // A person may be typing this very password into the camera's page: keep it.
            return Ok(RotationResult::AwaitingPerson);
        }
        // An init-admin was cut before the camera took the password: no password is needed to
        // reach the camera, and none could be verified. Drop the entry so init-admin can run again.
        vault
            .ledger
            .forget(key)
            .map_err(|e| ledger_error(url, "drop pending password", e))?;
        return Ok(RotationResult::StillFactoryFresh);
    }
    // The ledger's resolve takes a synchronous verifier; run it on a blocking thread that drives
    // each login on this runtime, so the async runtime threads are never blocked.
    let handle = tokio::runtime::Handle::current();
    let ledger = vault.ledger.clone();
    let owned_key = key.clone();
    let owned_url = url.to_owned();
    let mut owned_budget = std::mem::take(budget);
    let joined = tokio::task::spawn_blocking(move || {
        let resolution = ledger.resolve(&owned_key, |password: &Sensitive<String>| {
            handle.block_on(owned_budget.login(
                &owned_url,
                &owned_key.user,
                password,
                "find which password the camera has",
            ))
        });
        (resolution, owned_budget)
    })
    .await
    .map_err(|e| core_error("internal", url, "resolve", e.to_string()))?;
    let (resolution, back) = joined;
    *budget = back;
    let resolution = resolution.map_err(|e| match e {
        ResolveError::Ledger(e) => ledger_error(url, "resolve", e),
        ResolveError::Camera(e) => e,
    })?;
    match resolution {
        Resolution::Promoted | Resolution::NothingPending => Ok(RotationResult::Completed),
        Resolution::KeptCurrent => {
            audit(
                vault,
                &key.camera,
                "credential.resumed",
                format!(
                    "camera kept {}'s old password; pending one discarded",
                    key.user
                ),
                "ok",
            );
            Ok(RotationResult::RolledBack)
        }
        Resolution::Abandoned => Ok(RotationResult::Abandoned),
        Resolution::NoneAccepted => Err(core_error(
            "no_password_accepted",
            url,
            "resolve",
            format!(
                "the camera refused both the pending and the current password of {}; nothing was deleted",
                key.user
            ),
        )),
    }
}

/// A credential change an earlier run left unfinished, for [`resume`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Interrupted {
    /// The camera (inventory key).
    pub camera: String,
    /// The user whose password was being changed.
    pub user: String,
    /// `pending` (the new password was not verified yet) or `promoted` (the old one still waits
    /// to be seen refused).
    pub phase: String,
}

/// Every change [`resume`] would finish, ordered by camera and user.
pub fn interrupted(vault: &Vault) -> Result<Vec<Interrupted>, CoreError> {
    let err = |e: LedgerError| ledger_error("-", "read ledger", e);
    let mut out: Vec<Interrupted> = vault
        .ledger
        .pending()
        .map_err(err)?
        .into_iter()
        .map(|key| (key, "pending"))
        .chain(
            vault
                .ledger
                .awaiting_retirement()
                .map_err(err)?
                .into_iter()
                .map(|key| (key, "promoted")),
        )
        .map(|(key, phase)| Interrupted {
            camera: key.camera,
            user: key.user,
            phase: phase.to_owned(),
        })
        .collect();
    out.sort_by(|a, b| (&a.camera, &a.user).cmp(&(&b.camera, &b.user)));
    Ok(out)
}

/// The current password of `user` on `camera` (an inventory key or an address), for a person who
/// asked to see it. Every reveal is written to the audit trail; the secret itself never is.
pub fn reveal(vault: &Vault, camera: &str, user: &str) -> Result<Sensitive<String>, CoreError> {
    let camera_id = if camera.starts_with("host:") || camera.starts_with("mac:") {
        camera.to_owned()
    } else {
        camera_key(&device_url(camera)?)
    };
    let key = CredentialKey::new(camera_id.clone(), user);
    let step = "read current password";
    let password = vault
        .ledger
        .current(&key)
        .map_err(|e| ledger_error(camera, step, e))?
        .ok_or_else(|| {
            core_error(
                "credential_missing",
                camera,
                step,
                format!("the keychain holds no password for {user} on this camera"),
            )
        })?;
    audit(
        vault,
        &camera_id,
        "credential.revealed",
        format!(
            "the password of {user} was shown to {}",
            camward_vault::os_user()
        ),
        "ok",
    );
    Ok(password)
}
