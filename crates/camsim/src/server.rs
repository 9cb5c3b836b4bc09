//! One camera at runtime: its HTTP and HTTPS listeners, the request pipeline (IP filter, size limit,
//! injected faults, authentication, access classes, dispatch), persistence, reboots and resets.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Full, Limited, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rand::{Rng as _, SeedableRng as _};
use time::OffsetDateTime;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::watch;

use crate::access::{AccessClass, UserLevel};
use crate::auth::{Algorithm, Authenticator, Verdict};
use crate::device::{self, DeviceContext, Effect};
use crate::fault::SimFault;
use crate::state::{CameraState, LogKind, User};
use crate::tls::CertSlot;
use crate::vendor::{VendorReply, VendorRequest, VendorRuntime};
use crate::{AuthFlavour, CameraInfo, FaultConfig, Flavour, FleetConfig, InitialState, SimError};

/// Largest accepted request body.
const MAX_BODY: usize = 1024 * 1024;
/// Largest accepted XML tree, in nodes.
const MAX_NODES: u32 = 20_000;
const MODEL: &str = "CS-2000";
const FIRMWARE: &str = "1.4.2";

/// The body of every HTTP reply.
pub(crate) type Body = BoxBody<Bytes, std::io::Error>;

struct Runtime {
    auth: Authenticator,
    failures: u32,
    locked_until: Option<Instant>,
    faults: FaultConfig,
    rng: rand::rngs::StdRng,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Listener {
    Http,
    Https,
}

/// What a camera tells in the vendor set-up protocols ([`crate::sadp`], [`crate::easyip`]).
#[derive(Clone, Debug)]
pub(crate) struct SetupIdentity {
    /// MAC, serial, model, firmware.
    pub info: CameraInfo,
    /// The address it serves on.
    pub ip: std::net::Ipv4Addr,
    /// Its HTTP port.
    pub http_port: u16,
    /// The netmask it reports.
    pub netmask: std::net::Ipv4Addr,
    /// The default gateway it reports.
    pub gateway: std::net::Ipv4Addr,
    /// Whether DHCP is on.
    pub dhcp: bool,
    /// Its name (the hostname).
    pub name: String,
    /// Hikvision: whether it has been activated.
    pub activated: bool,
    /// Whether an administrator account exists (i-PRO: the first-access page has run).
    pub admin_registered: bool,
    /// Time since it last (re)booted.
    pub uptime: Duration,
    /// Its Easy IP Setup valid period ([`CameraState::easy_ip_period_s`]).
    pub easy_ip_period_s: Option<u64>,
}

/// A running simulated camera.
pub(crate) struct Camera {
    /// HTTP requests answered or refused since start (for benchmarks: round trips on the wire).
    requests: std::sync::atomic::AtomicU64,
    /// Of those, the ones that came over HTTPS.
    https_requests: std::sync::atomic::AtomicU64,
    /// Requests that got an injected fault (`FaultConfig`).
    faults_injected: std::sync::atomic::AtomicU64,
    /// TCP connections accepted on the HTTP and HTTPS listeners (the IP filter's refusals too).
    connections_accepted: std::sync::atomic::AtomicU64,
    cfg: Arc<FleetConfig>,
    index: usize,
    /// This camera's flavour ([`Flavour::Mix`] resolved).
    flavour: Flavour,
    /// Vendor API (VAPIX / ISAPI) nonces, lock-outs and key exchanges.
    vendor: Mutex<VendorRuntime>,
    id: String,
    mac: String,
    serial: String,
    guid: String,
    pub(crate) http_port: u16,
    pub(crate) https_port: u16,
    /// The address it serves on: [`FleetConfig::bind`] until a hard factory reset on an
    /// [`FleetConfig::autoip`] interface wipes it and AutoIP claims a link-local one.
    address: Mutex<IpAddr>,
    state: Mutex<CameraState>,
    runtime: Mutex<Runtime>,
    cert_slot: Arc<CertSlot>,
    /// Fault: the TLS server keeps presenting what it served before a new server certificate
    /// assignment (firmware that needs a restart to pick it up), see
    /// [`crate::SimCamera::set_tls_ignores_assignment`].
    tls_ignores_assignment: AtomicBool,
    /// Bumped whenever the listeners must re-check whether they should be open.
    listeners: watch::Sender<u64>,
    /// Bumped when every open connection must be cut (reboot, shutdown).
    connections: watch::Sender<u64>,
    rebooting: AtomicBool,
    /// When the camera last (re)booted: Easy IP Setup answers only for a while after it.
    booted: Mutex<Instant>,
    stopped: AtomicBool,
    /// Serializes Advanced Security operations, which run on a blocking thread.
    tas_lock: tokio::sync::Mutex<()>,
    /// FTP / RTSP / SNMP ports when the fleet runs [`crate::services`].
    services: crate::services::Ports,
}

impl std::fmt::Debug for Camera {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Camera")
            .field("id", &self.id)
            .field("http_port", &self.http_port)
            .finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves plain data behind; keep serving with it.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    // A reboot closes and re-opens the same port; without SO_REUSEADDR that fails while old
    // connections sit in TIME_WAIT.
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(1024)
}

/// The number a camera's identity (MAC, serial, endpoint reference) is made from.
fn identity_seed(seed: Option<u64>, index: usize) -> u64 {
    seed.unwrap_or(0)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(index as u64 + 1)
}

/// The MAC of camera `index` of a fleet started with `seed` (locally administered, `02:ca:5e:…`).
pub fn mac_of(seed: Option<u64>, index: usize) -> String {
    let tail = (identity_seed(seed, index) & 0x00ff_ffff) as u32;
    format!(
        "02:ca:5e:{:02x}:{:02x}:{:02x}",
        tail >> 16,
        (tail >> 8) & 0xff,
        tail & 0xff
    )
}

impl Camera {
    pub(crate) async fn start(
        cfg: Arc<FleetConfig>,
        index: usize,
    ) -> Result<(Arc<Camera>, Vec<tokio::task::JoinHandle<()>>), SimError> {
        let n = identity_seed(cfg.seed, index);
        let tail = (n & 0x00ff_ffff) as u32;
        let mac = mac_of(cfg.seed, index);
        let serial = format!("CS2K{:08X}", n as u32);
        let id = format!("camsim-{:06x}", tail);
        let guid = uuid::Uuid::from_u64_pair(n, index as u64).to_string();

        let port = |offset: usize| -> u16 {
            cfg.base_port
                .map(|b| b.saturating_add(offset as u16))
                .unwrap_or(0)
        };
        let http_addr = SocketAddr::new(cfg.bind, port(index));
        let https_addr = SocketAddr::new(cfg.bind, port(cfg.cameras + index));
        let http = bind(http_addr).map_err(|source| SimError::Bind {
            addr: http_addr,
            source,
        })?;
        let https = bind(https_addr).map_err(|source| SimError::Bind {
            addr: https_addr,
            source,
        })?;
        let http_port = http
            .local_addr()
            .map_err(|source| SimError::Bind {
                addr: http_addr,
                source,
            })?
            .port();
        let https_port = https
            .local_addr()
            .map_err(|source| SimError::Bind {
                addr: https_addr,
                source,
            })?
            .port();

        let services = crate::services::bind(&cfg)?;
        let mut state = CameraState::factory(index, &mac, http_port, https_port)
            .with_flavour_defaults(cfg.flavour.of_camera(index));
        state.clock_offset_s = cfg.clock_skew_s;
        if cfg.state == InitialState::Configured {
            if let Some((name, password)) = &cfg.admin {
                let admin = |name: &str| User {
                    name: name.to_owned(),
                    password: password.clone(),
                    level: UserLevel::Administrator,
                };
                state.users.push(admin(name));
                // A configured vendor camera has its own administrator too: Axis `root`,
                // Hikvision `admin` (activated, ONVIF enabled), with the same password.
                match cfg.flavour.of_camera(index) {
                    Flavour::Axis => state.vendor.vapix_users.push(admin("root")),
                    Flavour::Hikvision => {
                        state.vendor.activated = true;
                        state.vendor.onvif_enabled = true;
                        state.vendor.isapi_users.push(admin(crate::isapi::ADMIN));
                    }
                    Flavour::Generic | Flavour::Canon | Flavour::IPro | Flavour::Mix => {}
                }
            }
        }
        let path = cfg.state_dir.as_ref().map(|d| d.join(format!("{id}.json")));
        if let Some(path) = &path {
            if let Some(saved) = load(path)? {
                state = saved;
            }
        }
        let rng = match cfg.seed {
            Some(seed) => rand::rngs::StdRng::seed_from_u64(seed.wrapping_add(index as u64)),
            None => rand::rngs::StdRng::from_entropy(),
        };
        let cert_slot = Arc::new(CertSlot::default());
        cert_slot.set(state.keystore.assigned_server_identity());
        let flavour = cfg.flavour.of_camera(index);
        let vendor = Mutex::new(VendorRuntime::new(
            cfg.nonce_lifetime,
            cfg.lockout_failures,
            cfg.lockout_duration,
        ));
        let cfg_bind = cfg.bind;
        let camera = Arc::new(Camera {
            requests: std::sync::atomic::AtomicU64::new(0),
            https_requests: std::sync::atomic::AtomicU64::new(0),
            faults_injected: std::sync::atomic::AtomicU64::new(0),
            connections_accepted: std::sync::atomic::AtomicU64::new(0),
            flavour,
            vendor,
            runtime: Mutex::new(Runtime {
                auth: Authenticator::new(cfg.nonce_lifetime),
                failures: 0,
                locked_until: None,
                faults: cfg.faults,
                rng,
            }),
            cfg,
            index,
            id,
            mac,
            serial,
            guid,
            http_port,
            https_port,
            address: Mutex::new(cfg_bind),
            state: Mutex::new(state),
            cert_slot,
            tls_ignores_assignment: AtomicBool::new(false),
            listeners: watch::Sender::new(0),
            connections: watch::Sender::new(0),
            rebooting: AtomicBool::new(false),
            booted: Mutex::new(Instant::now()),
            stopped: AtomicBool::new(false),
            tas_lock: tokio::sync::Mutex::new(()),
            services: services
                .as_ref()
                .map(crate::services::Bound::ports)
                .unwrap_or_default(),
        });
        camera.persist();
        let mut tasks = vec![
            tokio::spawn(camera.clone().run_listener(Listener::Http, http)),
            tokio::spawn(camera.clone().run_listener(Listener::Https, https)),
        ];
        if let Some(bound) = services {
            tasks.extend(crate::services::spawn(&camera, bound));
        }
        tracing::info!(id = %camera.id, http_port, https_port, "camera started");
        Ok((camera, tasks))
    }

    /// The address the camera serves on now.
    pub(crate) fn address(&self) -> IpAddr {
        *lock(&self.address)
    }

    pub(crate) fn host(&self) -> String {
        match self.address() {
            IpAddr::V6(v6) => format!("[{v6}]"),
            v4 => v4.to_string(),
        }
    }

    /// What the camera announces in WS-Discovery: its endpoint reference, scopes and device
    /// service URL; `None` while it is NonDiscoverable or rebooting.
    pub(crate) fn discovery_identity(&self) -> Option<(String, Vec<String>, String)> {
        if self.is_rebooting() {
            return None;
        }
        let state = lock(&self.state);
        if !state.discoverable {
            return None;
        }
        let mut scopes = state.fixed_scopes(MODEL);
        scopes.extend(state.scopes.iter().cloned());
        scopes.push(format!("onvif://www.onvif.org/MacAddress/{}", self.mac));
        scopes.push(format!(
            "onvif://www.onvif.org/SerialNumber/{}",
            self.serial
        ));
        drop(state);
        Some((format!("urn:uuid:{}", self.guid), scopes, self.device_url()))
    }

    /// What the vendor set-up protocols (Hikvision SADP, i-PRO Easy IP Setup) tell about the
    /// camera; `None` while it is rebooting.
    pub(crate) fn setup_identity(&self) -> Option<SetupIdentity> {
        if self.is_rebooting() {
            return None;
        }
        let info = self.info();
        let ip = match self.address() {
            IpAddr::V4(v4) => v4,
            IpAddr::V6(v6) => v6
                .to_ipv4_mapped()
                .unwrap_or(std::net::Ipv4Addr::UNSPECIFIED),
        };
        let state = lock(&self.state);
        let interface = state.interfaces.first();
        let dhcp = interface.is_some_and(|i| i.dhcp);
        let prefix = interface
            .and_then(|i| {
                if i.dhcp {
                    Some(i.from_dhcp.1)
                } else {
                    i.manual.first().map(|m| m.1)
                }
            })
            .unwrap_or(24);
        let netmask = u32::MAX
            .checked_shl(32 - u32::from(prefix.min(32)))
            .unwrap_or(0);
        Some(SetupIdentity {
            info,
            ip,
            http_port: self.http_port,
            netmask: std::net::Ipv4Addr::from(netmask),
            gateway: state
                .gateway
                .first()
                .copied()
                .unwrap_or(std::net::Ipv4Addr::UNSPECIFIED),
            dhcp,
            name: state.hostname.clone(),
            activated: state.vendor.activated,
            admin_registered: state
                .users
                .iter()
                .any(|u| u.level == UserLevel::Administrator),
            uptime: lock(&self.booted).elapsed(),
            easy_ip_period_s: state.easy_ip_period_s,
        })
    }

    pub(crate) fn device_url(&self) -> String {
        format!(
            "http://{}:{}/onvif/device_service",
            self.host(),
            self.http_port
        )
    }

    pub(crate) fn https_url(&self) -> Option<String> {
        let state = lock(&self.state);
        let enabled = state.protocol("HTTPS").is_some_and(|p| p.enabled);
        (enabled && state.keystore.assigned_server_identity().is_some()).then(|| {
            format!(
                "https://{}:{}/onvif/device_service",
                self.host(),
                self.https_port
            )
        })
    }

    pub(crate) fn info(&self) -> CameraInfo {
        CameraInfo {
            id: self.id.clone(),
            device_url: self.device_url(),
            https_url: self.https_url(),
            mac: self.mac.clone(),
            serial: self.serial.clone(),
            flavour: self.flavour.name().into(),
            manufacturer: self.flavour.manufacturer().into(),
            model: MODEL.into(),
            firmware: FIRMWARE.into(),
            ftp_port: self.services.ftp,
            rtsp_port: self.services.rtsp,
            snmp_port: self.services.snmp,
        }
    }

    pub(crate) fn snapshot(&self) -> CameraState {
        lock(&self.state).clone()
    }

    /// Reads or changes the state under its lock; `f` must be short, every request waits on it.
    pub(crate) fn with_state<R>(&self, f: impl FnOnce(&mut CameraState) -> R) -> R {
        f(&mut lock(&self.state))
    }

    /// Like [`Camera::with_state`], with the vendor-API runtime (Digest nonces, lock-out) too.
    pub(crate) fn with_state_and_vendor<R>(
        &self,
        f: impl FnOnce(&mut CameraState, &mut VendorRuntime) -> R,
    ) -> R {
        let mut state = lock(&self.state);
        f(&mut state, &mut lock(&self.vendor))
    }

    /// After a settings change made outside ONVIF: persists it and makes listeners re-check.
    pub(crate) fn settings_changed(&self) {
        self.persist();
        self.listeners.send_modify(|e| *e += 1);
    }

    /// Changes whenever listeners must re-check whether they should be open.
    pub(crate) fn listener_changes(&self) -> watch::Receiver<u64> {
        self.listeners.subscribe()
    }

    /// Changes whenever every open connection must be cut (reboot, stop).
    pub(crate) fn connection_cuts(&self) -> watch::Receiver<u64> {
        self.connections.subscribe()
    }

    pub(crate) fn flavour(&self) -> Flavour {
        self.flavour
    }

    pub(crate) fn config(&self) -> &FleetConfig {
        &self.cfg
    }

    pub(crate) fn guid(&self) -> &str {
        &self.guid
    }

    pub(crate) fn bind_ip(&self) -> IpAddr {
        self.address()
    }

    pub(crate) fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }

    pub(crate) fn set_faults(&self, f: FaultConfig) {
        lock(&self.runtime).faults = f;
    }

    pub(crate) fn set_tls_ignores_assignment(&self, on: bool) {
        self.tls_ignores_assignment.store(on, Ordering::SeqCst);
    }

    pub(crate) fn set_clock_skew(&self, secs: i64) {
        lock(&self.state).clock_offset_s = secs;
    }

    pub(crate) fn is_locked_out(&self) -> bool {
        lock(&self.runtime)
            .locked_until
            .is_some_and(|t| Instant::now() < t)
    }

    pub(crate) fn https_requests(&self) -> u64 {
        self.https_requests.load(Ordering::Relaxed)
    }

    pub(crate) fn faults_injected(&self) -> u64 {
        self.faults_injected.load(Ordering::SeqCst)
    }

    pub(crate) fn connections_accepted(&self) -> u64 {
        self.connections_accepted.load(Ordering::Relaxed)
    }

    pub(crate) fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    pub(crate) fn failed_logins(&self) -> u32 {
        lock(&self.runtime).failures
    }

    pub(crate) fn is_rebooting(&self) -> bool {
        self.rebooting.load(Ordering::SeqCst)
    }

    pub(crate) fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        self.listeners.send_modify(|e| *e += 1);
        self.connections.send_modify(|e| *e += 1);
    }

    /// The camera clock: host time plus the camera's offset.
    fn now(&self) -> OffsetDateTime {
        let offset = lock(&self.state).clock_offset_s;
        OffsetDateTime::now_utc() + time::Duration::seconds(offset)
    }

    fn state_path(&self) -> Option<PathBuf> {
        self.cfg
            .state_dir
            .as_ref()
            .map(|d| d.join(format!("{}.json", self.id)))
    }

    fn persist(&self) {
        let Some(path) = self.state_path() else {
            return;
        };
        let json = match serde_json::to_vec_pretty(&*lock(&self.state)) {
            Ok(json) => json,
            Err(e) => {
                tracing::warn!(error = %e, "could not serialize camera state");
                return;
            }
        };
        let tmp = path.with_extension("json.tmp");
        if let Err(e) = std::fs::write(&tmp, json).and_then(|()| std::fs::rename(&tmp, &path)) {
            tracing::warn!(error = %e, path = %path.display(), "could not persist camera state");
        }
    }

    fn should_listen(&self, which: Listener) -> bool {
        if self.stopped.load(Ordering::SeqCst) || self.rebooting.load(Ordering::SeqCst) {
            return false;
        }
        let name = if which == Listener::Http {
            "HTTP"
        } else {
            "HTTPS"
        };
        lock(&self.state).protocol(name).is_some_and(|p| p.enabled)
    }

    async fn run_listener(self: Arc<Self>, which: Listener, initial: TcpListener) {
        let port = if which == Listener::Http {
            self.http_port
        } else {
            self.https_port
        };
        let mut listener = Some(initial);
        let mut changes = self.listeners.subscribe();
        let acceptor = crate::tls::acceptor(self.cert_slot.clone());
        loop {
            if self.stopped.load(Ordering::SeqCst) {
                return;
            }
            if !self.should_listen(which) {
                // Dropping the socket makes new connections fail with "connection refused".
                listener = None;
            } else if listener.is_none() {
                // The address may have changed while the listener was closed (a hard reset
                // that wiped a static address, see `reboot`).
                let addr = SocketAddr::new(self.address(), port);
                match bind(addr) {
                    Ok(l) => listener = Some(l),
                    Err(e) => {
                        tracing::warn!(error = %e, %addr, "could not re-open listener; retrying");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                }
            }
            match &listener {
                Some(l) => {
                    tokio::select! {
                        accepted = l.accept() => {
                            if let Ok((stream, peer)) = accepted {
                                self.connections_accepted.fetch_add(1, Ordering::Relaxed);
                                let camera = self.clone();
                                let acceptor = acceptor.clone();
                                tokio::spawn(async move { camera.serve_connection(which, stream, peer, acceptor).await });
                            }
                        }
                        changed = changes.changed() => if changed.is_err() { return },
                    }
                }
                None => {
                    if changes.changed().await.is_err() {
                        return;
                    }
                }
            }
        }
    }

    pub(crate) fn admits(&self, peer: IpAddr) -> bool {
        lock(&self.state).ip_filter.admits(peer)
    }

    async fn serve_connection(
        self: Arc<Self>,
        which: Listener,
        stream: tokio::net::TcpStream,
        peer: SocketAddr,
        acceptor: tokio_rustls::TlsAcceptor,
    ) {
        // ONVIF Core §8.2.12: the IP address filter decides who may connect at all.
        if !self.admits(peer.ip()) {
            tracing::debug!(%peer, "connection refused by IP address filter");
            return;
        }
        let mut cut = self.connections.subscribe();
        let camera = self.clone();
        let service = hyper::service::service_fn(move |req| {
            let camera = camera.clone();
            async move { camera.handle(req, peer, which == Listener::Https).await }
        });
        let mut builder = hyper::server::conn::http1::Builder::new();
        // Slow-header clients must not hold a connection forever.
        builder
            .timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(Duration::from_secs(30));
        match which {
            Listener::Http => {
                let conn = builder.serve_connection(TokioIo::new(stream), service);
                tokio::select! {
                    _ = conn => {}
                    _ = cut.changed() => {}
                }
            }
            Listener::Https => {
                let Ok(Ok(tls)) =
                    tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream)).await
                else {
                    return;
                };
                let conn = builder.serve_connection(TokioIo::new(tls), service);
                tokio::select! {
                    _ = conn => {}
                    _ = cut.changed() => {}
                }
            }
        }
    }

    /// The request pipeline. An `Err` makes hyper close the connection without a response.
    async fn handle(
        self: Arc<Self>,
        req: Request<Incoming>,
        peer: SocketAddr,
        https: bool,
    ) -> Result<Response<Body>, std::io::Error> {
        let closed =
            || std::io::Error::new(std::io::ErrorKind::ConnectionAborted, "closed by camera");
        if self.is_rebooting() || self.stopped.load(Ordering::SeqCst) || !self.admits(peer.ip()) {
            return Err(closed());
        }
        // Like firmware restarting its web server: with HTTP disabled, a connection opened
        // before gets no more answers on it (new ones are refused: the listener is closed).
        if !https && !self.should_listen(Listener::Http) {
            return Err(closed());
        }
        self.requests.fetch_add(1, Ordering::Relaxed);
        if https {
            self.https_requests.fetch_add(1, Ordering::Relaxed);
        }
        if self.cfg.latency_ms > 0 {
            // The wire's delay, to the tenth of a millisecond: async-io's timer thread sleeps on
            // a timerfd. tokio's timer wheel rounds every deadline up to its next 1 ms tick, which
            // made a 20 ms request take 21.2 ms on average even on an idle machine (6% more than
            // asked, on every round trip of every benchmark).
            async_io::Timer::after(Duration::from_millis(self.cfg.latency_ms)).await;
        }
        let fault = self.roll_fault();
        match fault {
            Some(Injected::Drop) => return Err(closed()),
            Some(Injected::Http500) => {
                return Ok(plain(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Internal Server Error",
                ))
            }
            _ => {}
        }
        let response = self.offer_basic(self.clone().answer(req, peer, https).await);
        Ok(match fault {
            Some(Injected::Malformed) => malformed(response),
            Some(Injected::Truncated) => truncated(response).await,
            Some(Injected::Slow) => slow(response).await,
            _ => response,
        })
    }

    fn roll_fault(&self) -> Option<Injected> {
        let mut rt = lock(&self.runtime);
        let f = rt.faults;
        let roll: f64 = rt.rng.gen();
        let mut edge = 0.0;
        for (p, kind) in [
            (f.drop_connection, Injected::Drop),
            (f.http_500, Injected::Http500),
            (f.malformed_xml, Injected::Malformed),
            (f.truncated_body, Injected::Truncated),
            (f.slow_body, Injected::Slow),
        ] {
            edge += p.clamp(0.0, 1.0);
            if roll < edge {
                self.faults_injected.fetch_add(1, Ordering::SeqCst);
                return Some(kind);
            }
        }
        None
    }

    async fn answer(
        self: Arc<Self>,
        req: Request<Incoming>,
        peer: SocketAddr,
        https: bool,
    ) -> Response<Body> {
        let path = req.uri().path();
        if crate::settings_page::serves(path) {
            return self.page_answer(req, peer).await;
        }
        let vendor_api = match self.flavour {
            Flavour::Axis => path.starts_with("/axis-cgi/"),
            Flavour::Hikvision => path.starts_with("/ISAPI/") || path.starts_with("/SDK/"),
            Flavour::Canon | Flavour::IPro => {
                path == "/" || path == crate::first_access::FIRST_ACCESS_PATH
            }
            Flavour::Generic | Flavour::Mix => false,
        };
        if vendor_api {
            return self.vendor_answer(req, peer).await;
        }
        if self.flavour == Flavour::Hikvision && !lock(&self.state).vendor.onvif_enabled {
            // Hikvision ships with ONVIF off; until it is enabled over ISAPI the ONVIF service
            // is simply not there.
            return plain(StatusCode::NOT_FOUND, "Not Found");
        }
        if req.method() != hyper::Method::POST {
            return plain(
                StatusCode::METHOD_NOT_ALLOWED,
                "ONVIF services accept POST only",
            );
        }
        let declared = req
            .headers()
            .get(hyper::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|n| n > MAX_BODY) {
            return plain(StatusCode::PAYLOAD_TOO_LARGE, "Request body too large");
        }
        let authorization = req
            .headers()
            .get(hyper::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let host = req
            .headers()
            .get(hyper::header::HOST)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .unwrap_or_else(|| {
                format!(
                    "{}:{}",
                    self.host(),
                    if https {
                        self.https_port
                    } else {
                        self.http_port
                    }
                )
            });
        let method = req.method().as_str().to_owned();
        let target = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| "/".into());
        // A client that announces a body and then dribbles it gets 30 s, like firmware's timeout.
        let collected = tokio::time::timeout(
            Duration::from_secs(30),
            Limited::new(req.into_body(), MAX_BODY).collect(),
        )
        .await;
        let Ok(collected) = collected else {
            return plain(StatusCode::REQUEST_TIMEOUT, "Request body too slow");
        };
        let body = match collected {
            Ok(b) => b.to_bytes(),
            Err(e)
                if e.downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some() =>
            {
                return plain(StatusCode::PAYLOAD_TOO_LARGE, "Request body too large")
            }
            Err(_) => return plain(StatusCode::BAD_REQUEST, "Unreadable body"),
        };
        let Ok(text) = std::str::from_utf8(&body) else {
            return fault_response(&SimFault::sender(&["WellFormed"], "Body is not UTF-8"));
        };
        let options = roxmltree::ParsingOptions {
            allow_dtd: false,
            nodes_limit: MAX_NODES,
            ..Default::default()
        };
        let doc = match roxmltree::Document::parse_with_options(text, options) {
            Ok(doc) => doc,
            Err(_) => {
                return fault_response(&SimFault::sender(
                    &["WellFormed"],
                    "Body is not well-formed XML",
                ))
            }
        };
        let root = doc.root_element();
        let Some(payload) = root
            .children()
            .find(|n| n.is_element() && n.tag_name().name() == "Body")
            .and_then(|b| b.children().find(|n| n.is_element()))
        else {
            return fault_response(&SimFault::sender(&["WellFormed"], "No SOAP body"));
        };
        let op = payload.tag_name().name().to_owned();
        let ns = payload
            .tag_name()
            .namespace()
            .unwrap_or_default()
            .to_owned();
        let class = match ns.as_str() {
            device::TDS_NS => device::access_class(&op),
            crate::media2::TR2_NS => crate::media2::access_class(&op),
            crate::security::TAS_NS => crate::security::access_class(&op),
            _ => None,
        };
        let level = match self.authorize(
            class,
            authorization.as_deref(),
            (&method, &target),
            root,
            peer,
        ) {
            Ok(level) => level,
            Err(response) => return *response,
        };
        let Some(class) = class else {
            return fault_response(&SimFault::action_not_supported());
        };
        if !level.may(class) {
            return fault_response(&SimFault::not_authorized());
        }
        let scheme = if https { "https" } else { "http" };
        let base_url = format!("{scheme}://{host}");
        let result = match ns.as_str() {
            device::TDS_NS => self.device_op(&op, payload, &base_url),
            crate::media2::TR2_NS => {
                let mut state = lock(&self.state);
                let rtsp = state.protocol("RTSP").map(|p| p.port).unwrap_or(554);
                let reply = crate::media2::handle(&mut state.media, &op, payload, &host, rtsp);
                drop(state);
                if reply.is_ok() && class == AccessClass::Actuate {
                    self.persist();
                }
                reply
            }
            _ => {
                drop(doc);
                self.clone().security_op(op.clone(), text.to_owned()).await
            }
        };
        match result {
            Ok(payload) => soap(StatusCode::OK, &payload),
            Err(fault) => fault_response(&fault),
        }
    }

    /// Serves a vendor API request (Axis VAPIX or Hikvision ISAPI).
    async fn vendor_answer(
        self: Arc<Self>,
        req: Request<Incoming>,
        peer: SocketAddr,
    ) -> Response<Body> {
        let method = req.method().as_str().to_owned();
        let path = req.uri().path().to_owned();
        let query = req.uri().query().unwrap_or_default().to_owned();
        let target = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| path.clone());
        let authorization = req
            .headers()
            .get(hyper::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let collected = tokio::time::timeout(
            Duration::from_secs(30),
            Limited::new(req.into_body(), MAX_BODY).collect(),
        )
        .await;
        let body = match collected {
            Ok(Ok(b)) => b.to_bytes(),
            Ok(Err(_)) => return plain(StatusCode::PAYLOAD_TOO_LARGE, "Request body too large"),
            Err(_) => return plain(StatusCode::REQUEST_TIMEOUT, "Request body too slow"),
        };
        let request = VendorRequest {
            method: &method,
            path: &path,
            query: &query,
            target: &target,
            authorization: authorization.as_deref(),
            body: &body,
            peer: peer.ip(),
        };
        let reply = {
            let mut state = lock(&self.state);
            let mut vendor = lock(&self.vendor);
            match self.flavour {
                Flavour::Axis => crate::vapix::handle(&mut state, &mut vendor, &request),
                Flavour::Canon | Flavour::IPro => crate::first_access::handle(&mut state, &request),
                _ => crate::isapi::handle(&mut state, &mut vendor, &request),
            }
        };
        if reply.status == 401 || reply.status == 403 {
            tracing::info!(camera = %self.id, %path, status = reply.status, "vendor API refused a request");
        }
        if reply.changed {
            self.persist();
        }
        if let Some(hard) = reply.factory_reset {
            tracing::info!(camera = %self.id, hard, "factory reset asked over the vendor API");
            tokio::spawn(self.clone().reboot(Some(hard)));
        }
        vendor_response(reply)
    }

    fn device_op(
        self: &Arc<Self>,
        op: &str,
        payload: roxmltree::Node<'_, '_>,
        base_url: &str,
    ) -> Result<String, SimFault> {
        let now = self.now();
        let ctx = DeviceContext {
            manufacturer: self.flavour.manufacturer(),
            model: MODEL,
            firmware: FIRMWARE,
            serial: &self.serial,
            base_url,
            guid: &self.guid,
            http_digest: self.cfg.auth != AuthFlavour::UsernameToken,
            now,
        };
        let mut state = lock(&self.state);
        let (reply, effect) = device::handle(&mut state, &ctx, op, payload)?;
        drop(state);
        match effect {
            Effect::None => {}
            Effect::Changed => {
                self.persist();
                self.listeners.send_modify(|e| *e += 1);
            }
            Effect::Reboot => {
                self.persist();
                tokio::spawn(self.clone().reboot(None));
            }
            Effect::FactoryReset { hard } => {
                tokio::spawn(self.clone().reboot(Some(hard)));
            }
        }
        Ok(reply)
    }

    async fn security_op(self: Arc<Self>, op: String, body: String) -> Result<String, SimFault> {
        let _serial = self.tas_lock.lock().await;
        let keystore = lock(&self.state).keystore.clone();
        let now = self.now();
        let assigns = matches!(
            op.as_str(),
            "AddServerCertificateAssignment" | "ReplaceServerCertificateAssignment"
        );
        // Key generation takes seconds: keep it off the async executor.
        let outcome = tokio::task::spawn_blocking(move || {
            let mut keystore = keystore;
            let options = roxmltree::ParsingOptions {
                allow_dtd: false,
                nodes_limit: MAX_NODES,
                ..Default::default()
            };
            let doc = roxmltree::Document::parse_with_options(&body, options)
                .map_err(|_| SimFault::sender(&["WellFormed"], "Body is not well-formed XML"))?;
            let payload = doc
                .descendants()
                .find(|n| n.is_element() && n.tag_name().name() == "Body")
                .and_then(|b| b.children().find(|n| n.is_element()))
                .ok_or_else(|| SimFault::sender(&["WellFormed"], "No SOAP body"))?;
            let reply = crate::security::handle(&mut keystore, &op, payload, now)?;
            Ok::<_, SimFault>((reply, keystore))
        })
        .await
        .map_err(|_| SimFault::receiver(&["Action"], "Internal error"))?;
        let (reply, keystore) = outcome?;
        let identity = keystore.assigned_server_identity();
        lock(&self.state).keystore = keystore;
        let stale = assigns && self.tls_ignores_assignment.load(Ordering::SeqCst);
        if !stale {
            self.cert_slot.set(identity);
        }
        self.persist();
        Ok(reply)
    }

    /// Decides who is asking (ONVIF Core §5.9.1): factory state is open, pre-authentication
    /// operations need no credentials, everything else needs a valid Digest or UsernameToken.
    fn authorize(
        &self,
        class: Option<AccessClass>,
        authorization: Option<&str>,
        (method, target): (&str, &str),
        envelope: roxmltree::Node<'_, '_>,
        peer: SocketAddr,
    ) -> Result<UserLevel, Box<Response<Body>>> {
        let now = self.now();
        let mut state = lock(&self.state);
        if state.is_factory() && self.flavour == Flavour::Generic {
            // Profile Q factory default state: no accounts, so nobody can be asked to log in.
            // Axis and Hikvision never open ONVIF anonymously: their first account comes from
            // their own API.
            return Ok(UserLevel::Administrator);
        }
        // Axis keeps ONVIF accounts apart from VAPIX ones; while there is no ONVIF account, a
        // VAPIX account may log in to ONVIF so the first ONVIF account can be created (see
        // `vapix.rs`).
        let users = if self.flavour == Flavour::Axis && state.users.is_empty() {
            state.vendor.vapix_users.clone()
        } else {
            state.users.clone()
        };
        // Pre-authentication operations ignore credentials, so a client whose clock is off can
        // still read the camera clock (ONVIF Core §5.9.4.1).
        if class == Some(AccessClass::PreAuth) {
            return Ok(UserLevel::Anonymous);
        }
        let mut rt = lock(&self.runtime);
        if let Some(until) = rt.locked_until {
            if Instant::now() < until {
                return Err(Box::new(locked_out()));
            }
            rt.locked_until = None;
            rt.failures = 0;
        }
        let algorithms: &[Algorithm] = match self.cfg.auth {
            AuthFlavour::DigestMd5 => &[Algorithm::Md5],
            AuthFlavour::DigestSha256AndMd5 => &[Algorithm::Sha256, Algorithm::Md5],
            AuthFlavour::UsernameToken => &[],
        };
        let digest = authorization.filter(|h| {
            !algorithms.is_empty() && h.trim_start().to_ascii_lowercase().starts_with("digest")
        });
        let token = crate::auth::username_token(envelope);
        // A failed UsernameToken is a WS-Security failure, answered with a SOAP fault (ONVIF Core
        // §5.12.2); a failed or missing Digest answer gets a fresh challenge.
        let challenge = token.is_none() || digest.is_some();
        let verdict = if let Some(header) = digest {
            rt.auth
                .verify_digest(header, method, target, algorithms, &users)
        } else if let Some(token) = &token {
            rt.auth.verify_username_token(token, now, &users)
        } else {
            return Err(Box::new(self.refusal(&mut rt, algorithms, true, false)));
        };
        match verdict {
            Verdict::Authenticated(name) => {
                rt.failures = 0;
                let level = users
                    .iter()
                    .find(|u| u.name == name)
                    .map(|u| u.level)
                    .unwrap_or(UserLevel::Anonymous);
                Ok(level)
            }
            Verdict::WrongCredentials(user) => {
                rt.failures += 1;
                let user = user.unwrap_or_default();
                state.log(
                    now,
                    LogKind::Access,
                    format!("Failed login for user '{user}' from {}", peer.ip()),
                );
                tracing::info!(camera = %self.id, %user, failures = rt.failures, "failed login");
                if rt.failures >= self.cfg.lockout_failures {
                    rt.locked_until = Some(Instant::now() + self.cfg.lockout_duration);
                    state.log(
                        now,
                        LogKind::Access,
                        "Account locked out after repeated failed logins",
                    );
                }
                drop(state);
                self.persist();
                Err(Box::new(
                    self.refusal(&mut rt, algorithms, challenge, false),
                ))
            }
            Verdict::Stale => Err(Box::new(self.refusal(&mut rt, algorithms, challenge, true))),
            Verdict::Refused(reason) => {
                tracing::debug!(camera = %self.id, reason, "credentials refused");
                Err(Box::new(
                    self.refusal(&mut rt, algorithms, challenge, false),
                ))
            }
        }
    }

    /// The refusal firmware sends: a Digest challenge (RFC 7616 §3.3) when Digest is offered and
    /// `challenge` is set, otherwise HTTP 400 with `ter:NotAuthorized`.
    fn refusal(
        &self,
        rt: &mut Runtime,
        algorithms: &[Algorithm],
        challenge: bool,
        stale: bool,
    ) -> Response<Body> {
        if algorithms.is_empty() || !challenge {
            return fault_response(&SimFault::not_authorized());
        }
        let mut response =
            fault_response_with_status(&SimFault::not_authorized(), StatusCode::UNAUTHORIZED);
        for challenge in rt.auth.challenges(algorithms, stale) {
            if let Ok(value) = hyper::header::HeaderValue::from_str(&challenge) {
                response
                    .headers_mut()
                    .append(hyper::header::WWW_AUTHENTICATE, value);
            }
        }
        response
    }

    /// After a hard reset on an [`FleetConfig::autoip`] interface: the network settings are gone,
    /// so a static address is removed from the interface and, as a camera without a DHCP server
    /// does, AutoIP (RFC 3927) claims a link-local address, which the listeners then serve on. A
    /// camera already on its link-local address keeps it (AutoIP asks for the same one again).
    async fn renew_address(&self) {
        let Some(interface) = self.cfg.autoip.clone() else {
            return;
        };
        let old = self.address();
        if matches!(old, IpAddr::V4(v4) if v4.is_link_local()) {
            return;
        }
        let mac = self.mac.clone();
        let claimed = tokio::task::spawn_blocking(move || {
            crate::autoip::forget_addresses(&interface)?;
            crate::autoip::claim(&interface, &mac)
        })
        .await;
        match claimed {
            Ok(Ok(address)) => {
                tracing::info!(camera = %self.id, %old, %address, "static address wiped; AutoIP address claimed");
                *lock(&self.address) = IpAddr::V4(address);
            }
            Ok(Err(e)) => {
                tracing::warn!(camera = %self.id, error = %e, "AutoIP after the reset failed")
            }
            Err(e) => tracing::warn!(camera = %self.id, error = %e, "AutoIP task failed"),
        }
    }

    /// Reboots, optionally after a factory reset (`Some(hard)`).
    pub(crate) async fn reboot(self: Arc<Self>, reset: Option<bool>) {
        // Let the reply to SystemReboot / SetSystemFactoryDefault reach the client first.
        tokio::time::sleep(Duration::from_millis(200)).await;
        self.rebooting.store(true, Ordering::SeqCst);
        self.listeners.send_modify(|e| *e += 1);
        self.connections.send_modify(|e| *e += 1);
        tracing::info!(camera = %self.id, ?reset, "rebooting");
        if let Some(hard) = reset {
            let mut state = lock(&self.state);
            let mut fresh =
                CameraState::factory(self.index, &self.mac, self.http_port, self.https_port)
                    .with_flavour_defaults(self.flavour);
            fresh.clock_offset_s = state.clock_offset_s;
            if !hard {
                // A soft reset keeps what is needed to stay reachable on the network.
                fresh.hostname = state.hostname.clone();
                fresh.hostname_from_dhcp = state.hostname_from_dhcp;
                fresh.dns_from_dhcp = state.dns_from_dhcp;
                fresh.dns_search = state.dns_search.clone();
                fresh.dns_manual = state.dns_manual.clone();
                fresh.gateway = state.gateway.clone();
                fresh.interfaces = state.interfaces.clone();
                fresh.protocols = state.protocols.clone();
                fresh.zero_conf = state.zero_conf.clone();
                fresh.ip_filter = state.ip_filter.clone();
                fresh.ntp = state.ntp.clone();
                fresh.discoverable = state.discoverable;
            }
            *state = fresh;
            drop(state);
            self.cert_slot.set(None);
            if hard {
                if let Some(path) = self.state_path() {
                    if let Err(e) = std::fs::remove_file(&path) {
                        if e.kind() != std::io::ErrorKind::NotFound {
                            tracing::warn!(error = %e, "could not wipe state file");
                        }
                    }
                }
            } else {
                self.persist();
            }
        }
        if reset == Some(true) {
            self.renew_address().await;
        }
        tokio::time::sleep(self.cfg.reboot_duration).await;
        // Boot: what survives is what was persisted (or, without a state dir, the memory image).
        if let Some(path) = self.state_path() {
            match load(&path) {
                Ok(Some(saved)) => *lock(&self.state) = saved,
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "could not reload state after reboot"),
            }
        }
        {
            let mut rt = lock(&self.runtime);
            rt.auth.clear();
            rt.failures = 0;
            rt.locked_until = None;
        }
        lock(&self.vendor).clear();
        let now = self.now();
        let identity = {
            let mut state = lock(&self.state);
            state.log(now, LogKind::System, "System booted");
            state.keystore.assigned_server_identity()
        };
        self.cert_slot.set(identity);
        if reset != Some(true) {
            self.persist();
        }
        *lock(&self.booted) = Instant::now();
        self.rebooting.store(false, Ordering::SeqCst);
        self.listeners.send_modify(|e| *e += 1);
        tracing::info!(camera = %self.id, "back after reboot");
    }
}

fn load(path: &std::path::Path) -> Result<Option<CameraState>, SimError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| SimError::State {
                path: path.to_owned(),
                reason: e.to_string(),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(SimError::State {
            path: path.to_owned(),
            reason: e.to_string(),
        }),
    }
}

#[derive(Clone, Copy, Debug)]
enum Injected {
    Drop,
    Http500,
    Malformed,
    Truncated,
    Slow,
}

/// A reply body of `bytes`.
pub(crate) fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never: Infallible| match never {})
        .boxed()
}

fn vendor_response(reply: VendorReply) -> Response<Body> {
    let mut r = Response::new(full(reply.body));
    *r.status_mut() =
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(reply.content_type),
    );
    for (name, value) in reply.headers {
        if let Ok(value) = hyper::header::HeaderValue::from_str(&value) {
            r.headers_mut().append(name, value);
        }
    }
    r
}

fn plain(status: StatusCode, text: &'static str) -> Response<Body> {
    let mut r = Response::new(full(text));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain"),
    );
    r
}

const ENV_NS: &str = "http://www.w3.org/2003/05/soap-envelope";

fn envelope(payload: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<env:Envelope xmlns:env=\"{ENV_NS}\" \
         xmlns:ter=\"http://www.onvif.org/ver10/error\"><env:Body>{payload}</env:Body></env:Envelope>"
    )
}

fn soap(status: StatusCode, payload: &str) -> Response<Body> {
    let mut r = Response::new(full(envelope(payload)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/soap+xml; charset=utf-8"),
    );
    r
}

/// A SOAP 1.2 fault (SOAP 1.2 Part 1 §5.4; ONVIF Core §5.11 for the `ter:` subcodes).
pub(crate) fn fault_xml(fault: &SimFault) -> String {
    let mut subcodes = String::new();
    for code in fault.subcodes.iter().rev() {
        subcodes =
            format!("<env:Subcode><env:Value>ter:{code}</env:Value>{subcodes}</env:Subcode>");
    }
    format!(
        "<env:Fault><env:Code><env:Value>{}</env:Value>{subcodes}</env:Code>\
         <env:Reason><env:Text xml:lang=\"en\">{}</env:Text></env:Reason></env:Fault>",
        if fault.receiver {
            "env:Receiver"
        } else {
            "env:Sender"
        },
        quick_xml::escape::escape(fault.reason.as_str())
    )
}

fn fault_response_with_status(fault: &SimFault, status: StatusCode) -> Response<Body> {
    soap(status, &fault_xml(fault))
}

fn fault_response(fault: &SimFault) -> Response<Body> {
    let status = StatusCode::from_u16(fault.http_status).unwrap_or(StatusCode::BAD_REQUEST);
    fault_response_with_status(fault, status)
}

fn locked_out() -> Response<Body> {
    fault_response_with_status(
        &SimFault::sender(&["NotAuthorized"], "Account locked out"),
        StatusCode::FORBIDDEN,
    )
}

fn malformed(response: Response<Body>) -> Response<Body> {
    let (mut parts, _) = response.into_parts();
    parts.status = StatusCode::OK;
    parts.headers.remove(hyper::header::CONTENT_LENGTH);
    let broken = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<env:Envelope xmlns:env=\"http://www.w3.org/2003/05/soap-envelope\"><env:Body><tds:GetDeviceInformationResponse><tds:Manufacturer>Cam</env:Body>";
    Response::from_parts(parts, full(broken))
}

async fn body_bytes(response: Response<Body>) -> (hyper::http::response::Parts, Bytes) {
    let (parts, body) = response.into_parts();
    let bytes = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    (parts, bytes)
}

async fn truncated(response: Response<Body>) -> Response<Body> {
    let (mut parts, bytes) = body_bytes(response).await;
    let half = bytes.slice(..bytes.len() / 2);
    parts.headers.insert(
        hyper::header::CONTENT_LENGTH,
        hyper::header::HeaderValue::from(bytes.len()),
    );
    // The stream ends with an error after half the body, so hyper closes the connection short of
    // the announced Content-Length.
    // The pause lets hyper flush the head and the first half before the error aborts the
    // connection; without it both would be dropped together.
    let stream = futures_util::stream::unfold(0u8, move |step| {
        let half = half.clone();
        async move {
            match step {
                0 => Some((Ok(Frame::data(half)), 1)),
                1 => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    Some((
                        Err(std::io::Error::new(
                            std::io::ErrorKind::BrokenPipe,
                            "truncated by fault injection",
                        )),
                        2,
                    ))
                }
                _ => None,
            }
        }
    });
    Response::from_parts(parts, BodyExt::boxed(StreamBody::new(stream)))
}

async fn slow(response: Response<Body>) -> Response<Body> {
    let (mut parts, bytes) = body_bytes(response).await;
    parts.headers.insert(
        hyper::header::CONTENT_LENGTH,
        hyper::header::HeaderValue::from(bytes.len()),
    );
    // About 30 seconds in total, in 60 pieces.
    let piece = bytes.len().div_ceil(60).max(1);
    let stream = futures_util::stream::unfold(0usize, move |sent| {
        let bytes = bytes.clone();
        async move {
            if sent >= bytes.len() {
                return None;
            }
            if sent > 0 {
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            let end = (sent + piece).min(bytes.len());
            Some((
                Ok::<_, std::io::Error>(Frame::data(bytes.slice(sent..end))),
                end,
            ))
        }
    });
    Response::from_parts(parts, BodyExt::boxed(StreamBody::new(stream)))
}
