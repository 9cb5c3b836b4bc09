//! camsim: a simulated fleet of IP cameras that behaves like real firmware.
//!
//! Each camera has its own listener(s), real state for every ONVIF operation Camward uses, and
//! authenticates exactly like firmware does (HTTP Digest MD5 / SHA-256, WS-Security UsernameToken,
//! ONVIF access classes, a skewable clock, nonce replay refusal, lock-out). Faults can be injected
//! per request. Usable as a binary (`camsim --cameras N ...`) or in-process as a library.
//!
//! Network protocols: disabling HTTP (or HTTPS) with `SetNetworkProtocols` really closes that
//! listener. A port change is stored and reported by `GetNetworkProtocols`, but the loopback
//! listener keeps the port it was started on, so tests and the fleet's URLs stay valid.
pub mod access;
pub mod auth;
pub mod autoip;
pub mod device;
pub mod easyip;
pub mod fault;
pub mod first_access;
pub mod ftp;
pub mod isapi;
pub mod mdns;
pub mod media2;
pub mod rtsp;
pub mod sadp;
pub mod security;
mod server;
pub mod services;
pub mod settings_page;
pub mod snmp;
pub mod ssdp;
pub mod state;
pub mod tls;
pub mod vapix;
pub mod vendor;
pub mod wsd;

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

pub use server::mac_of;
pub use state::CameraState;

/// How a fleet is started.
#[derive(Clone, Debug)]
pub struct FleetConfig {
    /// Number of cameras.
    pub cameras: usize,
    /// Address every listener binds to (use loopback in tests).
    pub bind: IpAddr,
    /// Factory (no users) or configured (one administrator).
    pub state: InitialState,
    /// Vendor flavour.
    pub flavour: Flavour,
    /// Authentication scheme the cameras offer.
    pub auth: AuthFlavour,
    /// Administrator user and password; required for [`InitialState::Configured`].
    pub admin: Option<(String, String)>,
    /// Injected faults (per-request probabilities).
    pub faults: FaultConfig,
    /// Added to every reply.
    pub latency_ms: u64,
    /// Camera clock minus host clock, in seconds.
    pub clock_skew_s: i64,
    /// Consecutive failed logins before lock-out.
    pub lockout_failures: u32,
    /// How long a lock-out lasts.
    pub lockout_duration: Duration,
    /// How long a reboot keeps the camera unreachable.
    pub reboot_duration: Duration,
    /// Where to persist one JSON state file per camera.
    pub state_dir: Option<PathBuf>,
    /// Seed for MACs/serials and the fault RNG.
    pub seed: Option<u64>,
    /// First HTTP port (camera i gets `base_port + i`, HTTPS gets `base_port + cameras + i`);
    /// `None` picks free ports.
    pub base_port: Option<u16>,
    /// How long a Digest nonce stays valid before the camera answers `stale=true`.
    pub nonce_lifetime: Duration,
    /// Answer WS-Discovery probes on UDP 3702 (multicast): only inside a test's own network
    /// namespace, never on a real interface. Off by default.
    pub ws_discovery: bool,
    /// Start the SADP responder (UDP 37020, multicast) for Hikvision cameras and the Easy IP
    /// Setup responder (UDP 10670/10669, broadcast) for i-PRO cameras ([`sadp`], [`easyip`]):
    /// only inside a test's own network namespace, never on a real interface. Off by default.
    pub vendor_discovery: bool,
    /// Announce every camera over mDNS / DNS-SD (UDP 5353, multicast on the interface of
    /// [`bind`](FleetConfig::bind), see [`mdns`]): only inside a test's own network namespace.
    /// Off by default.
    pub mdns: bool,
    /// Start each camera's FTP, RTSP and SNMP listeners and, on a non-loopback IPv4 address, its
    /// SSDP (UPnP) responder, each honouring the camera's own on/off setting (see [`services`]).
    /// Standard ports (FTP 21, RTSP 554, SNMP 161) when [`base_port`](FleetConfig::base_port) is
    /// set and the fleet has one camera, free ports otherwise ([`CameraInfo::ftp_port`] …). SSDP
    /// multicasts: only inside a test's own network namespace. Off by default.
    pub services: bool,
    /// The interface whose address belongs to this camera's network settings (`--autoip`): a hard
    /// factory reset removes a static address from it and claims a link-local one by AutoIP
    /// (RFC 3927), as a camera without DHCP does. Needs root; only inside a test's own network
    /// namespace, because it ARPs. `None` (the default) leaves the address alone.
    pub autoip: Option<String>,
}

impl Default for FleetConfig {
    fn default() -> Self {
        Self {
            cameras: 1,
            bind: IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
            state: InitialState::Factory,
            flavour: Flavour::Generic,
            auth: AuthFlavour::DigestSha256AndMd5,
            admin: None,
            faults: FaultConfig::default(),
            latency_ms: 0,
            clock_skew_s: 0,
            lockout_failures: 5,
            lockout_duration: Duration::from_secs(30),
            reboot_duration: Duration::from_secs(2),
            state_dir: None,
            seed: None,
            base_port: None,
            nonce_lifetime: Duration::from_secs(300),
            ws_discovery: false,
            vendor_discovery: false,
            mdns: false,
            services: false,
            autoip: None,
        }
    }
}

/// The state a camera starts in (unless its state file exists under `state_dir`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InitialState {
    /// Out of the box: no users, anonymous access.
    Factory,
    /// One administrator from [`FleetConfig::admin`].
    Configured,
}

/// Vendor behaviour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavour {
    /// Plain ONVIF: anonymous access while no ONVIF account exists (Profile Q factory default).
    Generic,
    /// Axis: no root password out of the box; VAPIX `pwdgrp.cgi` sets it without credentials
    /// only while it is unset, and ONVIF stays closed until then (see [`vapix`]).
    Axis,
    /// Hikvision: inactive out of the box; ISAPI activation sets the `admin` password, and ONVIF
    /// is off until enabled over ISAPI, with its own user list (see [`isapi`]).
    Hikvision,
    /// Canon: ONVIF stays closed until a person sets the administrator on the camera's
    /// first-access web page (simulated, see [`first_access`]).
    Canon,
    /// i-PRO: like Canon, a first-access web page creates the administrator (simulated).
    IPro,
    /// Camera `i` takes the flavour `[Generic, Axis, Hikvision, Canon, IPro][i % 5]`.
    Mix,
}

impl Flavour {
    /// The manufacturer the camera reports (GetDeviceInformation, vendor APIs), as real firmware
    /// of that make spells it.
    pub fn manufacturer(self) -> &'static str {
        match self {
            Flavour::Axis => "AXIS",
            Flavour::Hikvision => "HIKVISION",
            Flavour::Canon => "Canon",
            Flavour::IPro => "i-PRO",
            Flavour::Generic | Flavour::Mix => "Camsim",
        }
    }

    /// The flavour of camera number `index` (resolves [`Flavour::Mix`]).
    pub fn of_camera(self, index: usize) -> Flavour {
        match self {
            Flavour::Mix => [
                Flavour::Generic,
                Flavour::Axis,
                Flavour::Hikvision,
                Flavour::Canon,
                Flavour::IPro,
            ][index % 5],
            other => other,
        }
    }

    /// The name shown in [`CameraInfo::flavour`].
    pub fn name(self) -> &'static str {
        match self {
            Flavour::Generic => "generic",
            Flavour::Axis => "axis",
            Flavour::Hikvision => "hikvision",
            Flavour::Canon => "canon",
            Flavour::IPro => "i-pro",
            Flavour::Mix => "mix",
        }
    }
}

/// Authentication schemes offered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthFlavour {
    /// HTTP Digest challenge with MD5 only (UsernameToken also accepted).
    DigestMd5,
    /// Two challenges, SHA-256 first, then MD5 (UsernameToken also accepted).
    DigestSha256AndMd5,
    /// WS-Security UsernameToken only: no HTTP challenge.
    UsernameToken,
}

/// Per-request fault probabilities (0.0 ..= 1.0).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FaultConfig {
    /// A broken XML body with status 200.
    pub malformed_xml: f64,
    /// Content-Length larger than the bytes sent, then close.
    pub truncated_body: f64,
    /// The body dribbles out over about 30 s.
    pub slow_body: f64,
    /// Close without any response.
    pub drop_connection: f64,
    /// HTTP 500 without SOAP.
    pub http_500: f64,
}

/// Errors starting a fleet.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A listener could not be bound.
    #[error("could not bind {addr}: {source}")]
    Bind {
        /// The address.
        addr: std::net::SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// The configuration is inconsistent.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A state file could not be read or written.
    #[error("state file {path}: {reason}")]
    State {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
}

/// Public description of a camera (one JSON line per camera from the binary).
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct CameraInfo {
    /// Stable identifier.
    pub id: String,
    /// `http://host:port/onvif/device_service`.
    pub device_url: String,
    /// HTTPS device URL while HTTPS is enabled and a certificate is assigned.
    pub https_url: Option<String>,
    /// MAC address.
    pub mac: String,
    /// Serial number.
    pub serial: String,
    /// Flavour name.
    pub flavour: String,
    /// `Camsim`.
    pub manufacturer: String,
    /// Model.
    pub model: String,
    /// Firmware version.
    pub firmware: String,
    /// The FTP server's TCP port, when the fleet runs [`FleetConfig::services`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ftp_port: Option<u16>,
    /// The RTSP server's TCP port, when the fleet runs [`FleetConfig::services`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rtsp_port: Option<u16>,
    /// The SNMP agent's UDP port, when the fleet runs [`FleetConfig::services`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snmp_port: Option<u16>,
}

/// One simulated camera of a running fleet.
#[derive(Clone, Debug)]
pub struct SimCamera {
    camera: Arc<server::Camera>,
}

impl SimCamera {
    /// Identity and URLs.
    pub fn info(&self) -> CameraInfo {
        self.camera.info()
    }
    /// `http://host:port/onvif/device_service`.
    pub fn device_url(&self) -> String {
        self.camera.device_url()
    }
    /// `https://host:port/onvif/device_service` while HTTPS is enabled and a certificate assigned.
    pub fn https_url(&self) -> Option<String> {
        self.camera.https_url()
    }
    /// A snapshot of the camera's state, for assertions.
    pub fn state(&self) -> CameraState {
        self.camera.snapshot()
    }
    /// Replaces the fault probabilities.
    pub fn set_faults(&self, f: FaultConfig) {
        self.camera.set_faults(f);
    }
    /// Fault: while on, a new server certificate assignment (Add / Replace) is stored but the
    /// TLS server keeps presenting what it served before, as firmware that only picks up a new
    /// certificate after a restart does. Removing an assignment still takes effect.
    pub fn set_tls_ignores_assignment(&self, on: bool) {
        self.camera.set_tls_ignores_assignment(on);
    }
    /// Sets the camera clock to host clock + `secs`.
    pub fn set_clock_skew(&self, secs: i64) {
        self.camera.set_clock_skew(secs);
    }
    /// Makes the camera a model with or without an 802.1X supplicant (default: with). Without,
    /// it reports no Dot1XCapabilities and answers 802.1X operations ActionNotSupported.
    pub fn set_dot1x_supported(&self, supported: bool) {
        self.camera
            .with_state(|s| s.keystore.set_dot1x_supported(supported));
    }
    /// Whether the camera currently refuses authenticated requests.
    pub fn is_locked_out(&self) -> bool {
        self.camera.is_locked_out()
    }
    /// HTTP requests the camera has received since it started (each one round trip).
    pub fn requests(&self) -> u64 {
        self.camera.requests()
    }
    /// Of [`SimCamera::requests`], those that got a fault of [`SimCamera::set_faults`].
    pub fn faults_injected(&self) -> u64 {
        self.camera.faults_injected()
    }
    /// Of [`SimCamera::requests`], those that came over HTTPS.
    pub fn https_requests(&self) -> u64 {
        self.camera.https_requests()
    }
    /// TCP connections the camera's HTTP and HTTPS listeners have accepted since it started.
    pub fn connections(&self) -> u64 {
        self.camera.connections_accepted()
    }
    /// Consecutive failed logins since the last success or lock-out expiry.
    pub fn failed_logins(&self) -> u32 {
        self.camera.failed_logins()
    }
    /// Whether the camera is rebooting (unreachable).
    pub fn is_rebooting(&self) -> bool {
        self.camera.is_rebooting()
    }
    /// Cuts the camera's power and turns it back on, as happens on a site: every connection
    /// drops and the camera is unreachable for the fleet's reboot duration, keeping its
    /// settings. Must be called from within the fleet's tokio runtime.
    pub fn power_cycle(&self) {
        let camera = self.camera.clone();
        tokio::spawn(async move { camera.reboot(None).await });
    }
    /// The actual HTTP listener port.
    pub fn http_port(&self) -> u16 {
        self.camera.http_port
    }
    /// The actual HTTPS listener port.
    pub fn https_port(&self) -> u16 {
        self.camera.https_port
    }
}

/// A running fleet of simulated cameras.
#[derive(Debug)]
pub struct Fleet {
    cameras: Vec<SimCamera>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    wsd: Option<wsd::Responder>,
}

impl Fleet {
    /// Binds every camera's listeners and starts serving.
    pub async fn start(cfg: FleetConfig) -> Result<Fleet, SimError> {
        if cfg.state == InitialState::Configured && cfg.admin.is_none() {
            return Err(SimError::Config(
                "a configured fleet needs an admin user and password".into(),
            ));
        }
        if let Some(dir) = &cfg.state_dir {
            std::fs::create_dir_all(dir).map_err(|e| SimError::State {
                path: dir.clone(),
                reason: e.to_string(),
            })?;
        }
        let shared = Arc::new(cfg);
        let mut cameras = Vec::new();
        let mut tasks = Vec::new();
        for index in 0..shared.cameras {
            let (camera, mut handles) = server::Camera::start(shared.clone(), index).await?;
            cameras.push(SimCamera { camera });
            tasks.append(&mut handles);
        }
        let mut wsd_responder = None;
        if shared.mdns {
            let bind = match shared.bind {
                IpAddr::V4(bind) if !bind.is_unspecified() => bind,
                _ => {
                    return Err(SimError::Config(
                        "mDNS is simulated on one IPv4 address only".into(),
                    ))
                }
            };
            let all = cameras.iter().map(|c| Arc::clone(&c.camera)).collect();
            let announcer = mdns::start(all, bind).map_err(|e| SimError::Bind {
                addr: std::net::SocketAddr::new(shared.bind, mdns_sd::MDNS_PORT),
                source: std::io::Error::other(e.to_string()),
            })?;
            tasks.push(announcer);
        }
        if shared.ws_discovery {
            let IpAddr::V4(bind) = shared.bind else {
                return Err(SimError::Config(
                    "WS-Discovery is simulated on IPv4 only".into(),
                ));
            };
            let all = cameras.iter().map(|c| Arc::clone(&c.camera)).collect();
            let responder = wsd::start(all, bind)
                .await
                .map_err(|source| SimError::Bind {
                    addr: std::net::SocketAddr::new(shared.bind, wsd::PORT),
                    source,
                })?;
            wsd_responder = Some(responder);
        }
        if shared.vendor_discovery {
            let IpAddr::V4(bind) = shared.bind else {
                return Err(SimError::Config(
                    "SADP and Easy IP Setup are simulated on IPv4 only".into(),
                ));
            };
            let of = |flavour: Flavour| -> Vec<Arc<server::Camera>> {
                cameras
                    .iter()
                    .enumerate()
                    .filter(|(index, _)| shared.flavour.of_camera(*index) == flavour)
                    .map(|(_, c)| Arc::clone(&c.camera))
                    .collect()
            };
            let hikvision = of(Flavour::Hikvision);
            if !hikvision.is_empty() {
                let responder = sadp::start(hikvision, bind).map_err(|source| SimError::Bind {
                    addr: std::net::SocketAddr::new(shared.bind, sadp::PORT),
                    source,
                })?;
                tasks.push(responder);
            }
            let ipro = of(Flavour::IPro);
            if !ipro.is_empty() {
                let responder = easyip::start(ipro, bind).map_err(|source| SimError::Bind {
                    addr: std::net::SocketAddr::new(shared.bind, easyip::SEARCH_PORT),
                    source,
                })?;
                tasks.push(responder);
            }
        }
        Ok(Fleet {
            cameras,
            tasks,
            wsd: wsd_responder,
        })
    }

    /// The cameras, in order.
    pub fn cameras(&self) -> &[SimCamera] {
        &self.cameras
    }

    /// Stops every listener and connection (saying WS-Discovery Bye first).
    pub async fn shutdown(self) {
        if let Some(responder) = self.wsd {
            responder.stop().await;
        }
        for camera in &self.cameras {
            camera.camera.stop();
        }
        for task in self.tasks {
            task.abort();
            let _ = task.await;
        }
    }
}
