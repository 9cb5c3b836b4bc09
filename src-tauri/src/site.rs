//! The site the app works on: the real one (OS keychain, the user's inventory, the machine's
//! interfaces), or the simulated one of `--demo` (an in-process camsim fleet of mixed vendors in
//! their factory state, with an inventory and secret store in memory that go when the app goes).
//!
//! Everything here is glue the shell needs around camward-core; the use cases themselves are the
//! core's. Two pieces are work-arounds for what the core does not offer yet (see
//! [`identify`] and `camward_core::hardening::prelogin`).
use std::sync::{Arc, Mutex, MutexGuard};

use camward_core::credentials::Vault;
use camward_core::discover::{DiscoveryEvent, FoundCamera};
use camward_core::first_boot::{FactoryState, FirstBootMethod};
use camward_core::CoreError;
use camward_vault::{CredentialLedger, Inventory, Keychain, MemoryStore};
use tokio::sync::oneshot;

/// How many simulated cameras `--demo` starts: one of each camsim flavour (generic ONVIF, Axis,
/// Hikvision, Canon, i-PRO), all in their factory state.
pub const DEMO_CAMERAS: usize = 5;

/// The account audits log in as, as the CLI's `audit --user` defaults to.
pub const AUDIT_USER: &str = "admin";

/// What the app holds for the whole run.
#[derive(Debug, Default)]
pub struct Site {
    /// The simulated fleet, while the app runs in demo mode.
    fleet: Mutex<Option<camsim::Fleet>>,
    /// The demo's inventory and secrets (in memory), created with the fleet.
    demo_vault: Mutex<Option<Arc<Vault>>>,
    /// Stops the discovery that is running, if one is.
    scan: Mutex<Option<oneshot::Sender<()>>>,
    /// How many cameras the simulated site has when it is started ([`DEMO_CAMERAS`] unless
    /// `--demo-cameras=N` says otherwise, e.g. to measure the app with a large site).
    demo_size: Option<usize>,
    /// How late every simulated camera answers, in milliseconds (`--demo-latency-ms=N`: a site
    /// behind a slow link, for training, and for the desktop test that stops a run half-way).
    demo_latency_ms: u64,
}

/// Locks `mutex`, also after a panic elsewhere: what it guards stays usable (a fleet, a vault
/// handle, a cancel sender), so a poisoned lock only means another command failed.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn local_error(code: &str, step: &str, message: String) -> CoreError {
    CoreError {
        code: code.into(),
        message,
        camera: "-".into(),
        step: step.into(),
    }
}

impl Site {
    /// A site whose simulated fleet, once started, has `cameras` cameras (the flavours in turn).
    pub fn with_demo_size(cameras: usize) -> Self {
        Self {
            demo_size: Some(cameras.max(1)),
            ..Self::default()
        }
    }

    /// The same site, whose simulated cameras answer every request `ms` milliseconds late.
    pub fn with_demo_latency(self, ms: u64) -> Self {
        Self {
            demo_latency_ms: ms,
            ..self
        }
    }

    /// Starts the simulated site (once; later calls return the running one's cameras).
    pub async fn start_demo(&self) -> Result<Vec<camsim::CameraInfo>, CoreError> {
        if let Some(cameras) = self.demo_cameras() {
            return Ok(cameras);
        }
        let fleet = camsim::Fleet::start(camsim::FleetConfig {
            cameras: self.demo_size.unwrap_or(DEMO_CAMERAS),
            flavour: camsim::Flavour::Mix,
            state: camsim::InitialState::Factory,
            latency_ms: self.demo_latency_ms,
            ..Default::default()
        })
        .await
        .map_err(|e| local_error("demo_start", "start the simulated site", e.to_string()))?;
        let inventory = Inventory::open_in_memory()
            .map_err(|e| local_error(e.code(), "open the demo inventory", e.to_string()))?;
        let ledger = CredentialLedger::new(Arc::new(MemoryStore::default()), &inventory);
        let cameras: Vec<camsim::CameraInfo> =
            fleet.cameras().iter().map(|camera| camera.info()).collect();
        for camera in &cameras {
            tracing::info!(device_url = %camera.device_url, flavour = %camera.flavour, "simulated camera ready");
        }
        let mut slot = lock(&self.fleet);
        if slot.is_some() {
            // Another call started a fleet meanwhile; keep that one.
            drop(slot);
            tauri::async_runtime::spawn(fleet.shutdown());
            return Ok(self.demo_cameras().unwrap_or_default());
        }
        *slot = Some(fleet);
        *lock(&self.demo_vault) = Some(Arc::new(Vault { ledger, inventory }));
        Ok(cameras)
    }

    /// The simulated cameras, or `None` outside demo mode.
    pub fn demo_cameras(&self) -> Option<Vec<camsim::CameraInfo>> {
        lock(&self.fleet)
            .as_ref()
            .map(|fleet| fleet.cameras().iter().map(|camera| camera.info()).collect())
    }

    /// Stops the simulated site (on exit).
    pub fn take_fleet(&self) -> Option<camsim::Fleet> {
        lock(&self.fleet).take()
    }

    /// The vault audits use: the demo's in memory in demo mode, else the user's, opened the way
    /// the CLI opens it (`CAMWARD_DB`, `CAMWARD_KEYCHAIN_SERVICE`, else the defaults).
    pub fn vault(&self) -> Result<Arc<Vault>, CoreError> {
        if let Some(vault) = lock(&self.demo_vault).as_ref() {
            return Ok(Arc::clone(vault));
        }
        let path = match std::env::var_os("CAMWARD_DB") {
            Some(path) => path.into(),
            None => camward_vault::default_db_path()
                .map_err(|e| local_error(e.code(), "open inventory", e.to_string()))?,
        };
        let inventory = Inventory::open(&path)
            .map_err(|e| local_error(e.code(), "open inventory", e.to_string()))?;
        let keychain = match std::env::var("CAMWARD_KEYCHAIN_SERVICE") {
            Ok(service) if !service.is_empty() => Keychain::with_service(service),
            _ => Keychain::default(),
        };
        let ledger = CredentialLedger::new(Arc::new(keychain), &inventory);
        Ok(Arc::new(Vault { ledger, inventory }))
    }

    /// Where the site CA's certificate of `name` lives: next to the user's inventory, as the
    /// CLI keeps it (`camward_core::certificates::routes::site_ca_path`); in demo mode in a
    /// folder of this process under the temporary directory (its key is in the demo's memory
    /// store, so it goes when the app goes).
    pub fn site_ca_path(&self, name: &str) -> Result<std::path::PathBuf, CoreError> {
        let db: Option<std::path::PathBuf> = if lock(&self.demo_vault).is_some() {
            Some(
                std::env::temp_dir()
                    .join(format!("camward-demo-{}", std::process::id()))
                    .join("inventory.db"),
            )
        } else {
            std::env::var_os("CAMWARD_DB").map(Into::into)
        };
        camward_core::certificates::routes::site_ca_path(db.as_deref(), name)
    }

    /// Registers a new scan and returns what stops it; a scan still running is stopped first.
    pub fn begin_scan(&self) -> oneshot::Receiver<()> {
        let (stop, stopped) = oneshot::channel();
        if let Some(previous) = lock(&self.scan).replace(stop) {
            let _ = previous.send(());
        }
        stopped
    }

    /// Stops the running scan, if any (what it found so far stays listed).
    pub fn stop_scan(&self) {
        if let Some(stop) = lock(&self.scan).take() {
            let _ = stop.send(());
        }
    }
}

/// The manufacturer a first-boot method proves: only Axis VAPIX and Hikvision ISAPI are vendor
/// APIs; a generic ONVIF or guided first boot says nothing about the make.
fn vendor_of(state: &FactoryState) -> Option<String> {
    match state.method {
        FirstBootMethod::Axis => Some("AXIS".into()),
        FirstBootMethod::Hikvision => Some("HIKVISION".into()),
        FirstBootMethod::Onvif | FirstBootMethod::Guided => None,
    }
}

/// Identifies the camera at `url` the way discovery identifies a link-local host (the
/// unauthenticated ONVIF calls of `camward_core::probe`, then `first_boot::detect` for the
/// factory state), as a [`FoundCamera`] seen by no network method.
///
/// Work-around: camward-core's `identify_host` does exactly this for swept hosts but is private,
/// and the demo cameras listen on 127.0.0.1 ports that no discovery method may scan (tests must
/// never multicast on the machine's interfaces). A core `discover::identify(urls, on_event)`
/// would let the shell pass this through.
pub async fn identify(url: &str) -> Result<FoundCamera, CoreError> {
    let (report, state) = tokio::join!(
        camward_core::probe::probe(url),
        camward_core::first_boot::detect(url)
    );
    let (report, state) = match (report, state) {
        (Err(e), Err(_)) => return Err(e),
        (report, state) => (report.ok(), state.ok()),
    };
    let seen = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let from_probe = |field: fn(&camward_core::probe::ProbeReport) -> &Option<String>| {
        report.as_ref().and_then(|r| field(r).clone())
    };
    Ok(FoundCamera {
        ips: ipv4_of(url).into_iter().collect(),
        addresses: vec![report
            .as_ref()
            .map_or_else(|| url.to_owned(), |r| r.url.clone())],
        endpoint: None,
        vendor: from_probe(|r| &r.manufacturer).or_else(|| state.as_ref().and_then(vendor_of)),
        model: from_probe(|r| &r.model),
        name: None,
        mac: None,
        serial: from_probe(|r| &r.serial),
        firmware: from_probe(|r| &r.firmware),
        factory_fresh: state.as_ref().is_some_and(|s| s.factory_fresh)
            || report.as_ref().is_some_and(|r| r.anonymous_access),
        methods: Vec::new(),
        interfaces: Vec::new(),
        first_seen: seen.clone(),
        last_seen: seen,
    })
}

/// The IPv4 address in a device service URL (`None` for a host name or IPv6).
fn ipv4_of(url: &str) -> Option<std::net::Ipv4Addr> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split('/').next()?;
    let host = authority
        .rsplit_once(':')
        .map_or(authority, |(host, _)| host);
    host.parse().ok()
}

/// Lists the simulated cameras at `urls` as discovery would: one `Found` event per camera as it
/// is identified (concurrently), a warning for one that does not answer, then the whole list.
pub async fn discover_urls(
    urls: Vec<String>,
    cancel: oneshot::Receiver<()>,
    mut on_event: impl FnMut(&DiscoveryEvent),
) -> camward_core::discover::Discovery {
    use futures_util::stream::{FuturesUnordered, StreamExt};
    let mut pending: FuturesUnordered<_> = urls
        .iter()
        .enumerate()
        .map(|(index, url)| async move { (index, identify(url).await) })
        .collect();
    let mut found: Vec<(usize, FoundCamera)> = Vec::new();
    let mut discovery = camward_core::discover::Discovery::default();
    tokio::pin!(cancel);
    loop {
        tokio::select! {
            next = pending.next() => match next {
                None => break,
                Some((index, Ok(camera))) => {
                    on_event(&DiscoveryEvent::Found { camera: camera.clone() });
                    found.push((index, camera));
                }
                Some((index, Err(e))) => {
                    tracing::warn!(camera = %urls[index], code = %e.code, "simulated camera not identified: {}", e.message);
                }
            },
            _ = &mut cancel => {
                discovery.cancelled = true;
                break;
            }
        }
    }
    // The fleet's order (one flavour after the other), not the order they answered in.
    found.sort_by_key(|(index, _)| *index);
    discovery.cameras = found.into_iter().map(|(_, camera)| camera).collect();
    discovery
}

// ------------------------------------------------------------------------------------------------
// Journeys 2 and 3 in demo mode (rotate passwords, decommission; commands in `crate::lifecycle`).
// ------------------------------------------------------------------------------------------------

impl Site {
    /// The demo's vault and its cameras' device service URLs; `no_demo_site` outside demo mode.
    pub fn demo_targets(&self) -> Result<(Arc<Vault>, Vec<String>), CoreError> {
        let cameras = self.demo_cameras().ok_or_else(|| {
            local_error(
                "no_demo_site",
                "list the simulated cameras",
                "the simulated site is not running; start it with “Try with simulated cameras”"
                    .into(),
            )
        })?;
        Ok((
            self.vault()?,
            cameras
                .into_iter()
                .map(|camera| camera.device_url)
                .collect(),
        ))
    }
}

/// Gives each simulated camera at `urls` its first administrator `user` with a generated password,
/// through `camward_core::credentials::init_admin` (password stored pending, sent, verified by a
/// login, promoted, camera recorded), so that rotation and decommissioning can be walked without
/// hardware. A camera that takes its first administrator only on its own page (Canon, i-PRO:
/// `FirstBootMethod::Guided`) is left to a person, as on a real site: it is reported with its
/// page and nothing is stored for it. A camera that already has one is reported with the core's
/// `not_factory_fresh` error.
pub async fn give_demo_admins(
    vault: &Vault,
    urls: &[String],
    user: &str,
) -> Vec<crate::ipc::lifecycle::DemoAdmin> {
    use crate::ipc::lifecycle::DemoAdmin;
    use camward_core::credentials::{init_admin, NewPassword};
    let mut out = Vec::with_capacity(urls.len());
    for url in urls {
        let result = match camward_core::first_boot::detect(url).await {
            Ok(state) if state.factory_fresh && state.method == FirstBootMethod::Guided => {
                match camward_core::first_boot::first_access_page(url).await {
                    Ok(page) => {
                        out.push(DemoAdmin {
                            url: url.clone(),
                            camera: None,
                            user: None,
                            method: Some(state.method.into()),
                            awaiting_person_at: Some(page),
                            error: None,
                        });
                        continue;
                    }
                    Err(e) => Err(e),
                }
            }
            _ => init_admin(vault, url, user, &NewPassword::Generate).await,
        };
        out.push(DemoAdmin::from_result(url.clone(), result));
    }
    out
}

#[cfg(test)]
mod tests {
    use camward_core::hardening::{Level, Status};

    use super::*;

    /// The demo site's journey up to the audit, on loopback: every flavour identified and
    /// factory-fresh, and each audited without credentials with the administrator control failed.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_demo_site_is_listed_factory_fresh_and_audited_without_credentials() {
        let site = Site::default();
        let cameras = site.start_demo().await.expect("starting the demo site");
        assert_eq!(cameras.len(), DEMO_CAMERAS);
        let urls: Vec<String> = cameras.iter().map(|c| c.device_url.clone()).collect();

        let mut events = Vec::new();
        let (_keep, never) = oneshot::channel();
        let found = discover_urls(urls.clone(), never, |event| events.push(event.clone())).await;
        assert_eq!(events.len(), DEMO_CAMERAS, "one Found event per camera");
        assert!(events
            .iter()
            .all(|event| matches!(event, DiscoveryEvent::Found { .. })));
        let listed: Vec<&str> = found
            .cameras
            .iter()
            .map(|c| c.addresses[0].as_str())
            .collect();
        assert_eq!(listed, urls, "listed in the fleet's order");
        assert!(found.cameras.iter().all(|c| c.factory_fresh));
        let vendors: Vec<Option<&str>> =
            found.cameras.iter().map(|c| c.vendor.as_deref()).collect();
        assert_eq!(
            vendors,
            [Some("Camsim"), Some("AXIS"), Some("HIKVISION"), None, None]
        );

        let vault = site.vault().expect("the demo vault");
        let options = camward_core::hardening::audit::AuditOptions {
            level: Level::Entry,
            plan: None,
            firmware: None,
            outside: false,
            peers: None,
        };
        for url in &urls {
            let why = camward_core::hardening::audit::audit(&vault, url, AUDIT_USER, &options)
                .await
                .expect_err("no password is known for a factory-fresh camera");
            assert_eq!(why.code, "no_password");
            let seen = camward_core::hardening::prelogin::audit(url, Level::Entry, &why)
                .await
                .expect("the pre-login audit");
            assert!(seen.factory_fresh, "{url}");
            let status = |id: &str| {
                seen.scorecard
                    .findings
                    .iter()
                    .find(|f| f.control == id)
                    .map(|f| f.status)
            };
            assert_eq!(status("admin-password"), Some(Status::Fail), "{url}");
            assert!(
                seen.scorecard
                    .findings
                    .iter()
                    .all(|f| f.status != Status::Pass),
                "nothing passes without a login: {url}"
            );
        }
        assert_eq!(
            camward_core::hardening::prelogin::audit(
                &urls[0],
                Level::Entry,
                &camward_core::CoreError {
                    code: "no_password".into(),
                    message: String::new(),
                    camera: urls[0].clone(),
                    step: String::new(),
                }
            )
            .await
            .map(|seen| seen
                .scorecard
                .findings
                .iter()
                .find(|f| f.control == "guest-off")
                .map(|f| f.status)),
            Ok(Some(Status::Fail)),
            "the generic camera answers anonymously"
        );

        if let Some(fleet) = site.take_fleet() {
            fleet.shutdown().await;
        }
    }
}
