//! `audit`: every control of a level checked on one camera, read-only.
//!
//! Order of work: the clock is read pre-auth (as always); the unauthenticated probes come next,
//! before any credential is sent (does the camera answer anonymously, which schemes does its 401
//! offer); then Camward logs in with the password the keychain holds and reads the configuration
//! once; then each control turns what was read (and, with [`AuditOptions::outside`], what the
//! outside checks saw) into a [`Finding`]. A read the camera refuses makes the controls that need
//! it *unknown*, with the refusal as evidence; the other controls go on.
use std::net::IpAddr;
use std::time::Duration;

use camward_discovery::outside;
use camward_onvif::device::{
    DateTimeType, DeviceInformation, DiscoveryMode, FilterType, IpAddressFilter, NetworkInterface,
    NetworkProtocol, NtpInformation, ProtocolName, SystemLogType, User, UserLevel,
    ZeroConfiguration,
};
use camward_onvif::{AuthMode, Credentials, OnvifError};
use camward_policy::firmware::FirmwareCatalog;
use camward_policy::plan::SitePlan;
use camward_vault::{AuditEntry, CredentialKey};
use sha2::{Digest, Sha256};

use super::catalog::{self, ControlInfo};
use super::{Finding, Level, Scorecard, Status};
use crate::credentials::Vault;
use crate::session::first_contact_error;
use crate::CoreError;

/// How to audit.
#[derive(Clone, Copy, Debug)]
pub struct AuditOptions<'a> {
    /// The protection level whose controls are checked (the plan's level wins when a plan is given).
    pub level: Level,
    /// The site plan: NTP servers, allowed hosts, users and services to keep, skipped controls.
    pub plan: Option<&'a SitePlan>,
    /// The newest known firmware per model.
    pub firmware: Option<&'a FirmwareCatalog>,
    /// Also verify from outside, by unicast to the camera's own address only: ports, FTP, SNMP
    /// v2c, RTSP and HTTP challenges, mDNS (5353), SSDP (1900), Easy IP Setup (10670).
    pub outside: bool,
    /// The other cameras' password digests, shared by a batch so that each password is read
    /// from the keychain once per batch instead of once per audit ([`PeerDigests`]).
    pub peers: Option<&'a PeerDigests>,
}

/// SHA-256 digests of the passwords of the cameras Camward knows, kept in memory for one batch
/// of audits (never written anywhere): each camera's password is read from the keychain once,
/// and each audit updates its own camera's entry with what it read.
#[derive(Default)]
pub struct PeerDigests {
    known: std::sync::Mutex<Option<Digests>>,
}

impl std::fmt::Debug for PeerDigests {
    // Digests of passwords are secrets too: only how many.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self
            .known
            .lock()
            .map(|k| k.as_ref().map_or(0, std::collections::BTreeMap::len))
            .unwrap_or(0);
        write!(f, "PeerDigests({n} cameras)")
    }
}

/// Password digests by (camera key, user).
type Digests = std::collections::BTreeMap<(String, String), [u8; 32]>;

impl PeerDigests {
    /// Records `this` camera's digest and returns the others' (`None`: the inventory could not be
    /// read, so uniqueness is not known).
    fn others(
        &self,
        vault: &Vault,
        this: &CredentialKey,
        digest: [u8; 32],
    ) -> Option<Vec<[u8; 32]>> {
        let mut known = self
            .known
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if known.is_none() {
            let cameras = vault.inventory.cameras(None).ok()?;
            let mut all = std::collections::BTreeMap::new();
            for key in cameras.into_iter().filter_map(|c| c.credential) {
                if let Ok(Some(secret)) = vault.ledger.current(&key) {
                    all.insert((key.camera, key.user), self::digest(secret.expose()));
                }
            }
            *known = Some(all);
        }
        let all = known.as_mut()?;
        let this = (this.camera.clone(), this.user.clone());
        let others = all
            .iter()
            .filter(|(k, _)| **k != this)
            .map(|(_, d)| *d)
            .collect();
        all.insert(this, digest);
        Some(others)
    }
}

/// The vendor family, for the menu paths of guided steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Make {
    Canon,
    IPro,
    Axis,
    Hikvision,
    Other,
}

fn make_of(manufacturer: &str) -> Make {
    let m = manufacturer.to_ascii_lowercase();
    if m.contains("canon") {
        Make::Canon
    } else if m.contains("i-pro") || m.contains("panasonic") {
        Make::IPro
    } else if m.contains("axis") {
        Make::Axis
    } else if m.contains("hikvision") {
        Make::Hikvision
    } else {
        Make::Other
    }
}

/// What the unauthenticated probes and the outside checks saw.
#[derive(Debug, Default)]
struct Outside {
    /// Anonymous GetDeviceInformation answered.
    anonymous_onvif: Option<bool>,
    /// The snapshot URL (Media2 GetSnapshotUri) and the status an anonymous GET of it got.
    anonymous_snapshot: Option<(String, Result<u16, String>)>,
    /// Schemes of the HTTP 401 on the device service.
    http_schemes: Option<Result<Vec<String>, String>>,
    /// Schemes of the RTSP DESCRIBE 401 (None: not checked; Some(Err): RTSP did not answer).
    rtsp_schemes: Option<Result<Vec<String>, String>>,
    /// The FTP greeting on TCP 21 (None inside: none read).
    ftp: Option<Result<Option<String>, String>>,
    /// Whether TCP 21 accepts a connection.
    ftp_open: Option<bool>,
    /// sysDescr over SNMP v2c "public" (Ok(None): no answer; Err: the check failed).
    snmp: Option<Result<Option<String>, String>>,
    /// Camera ports that accept a TCP connection.
    open_ports: Option<Vec<u16>>,
    /// What a unicast mDNS query to the camera's UDP 5353 got back: the names its answer points to
    /// (Ok(None): no answer; Err: the check failed).
    mdns: Option<Result<Option<Vec<String>>, String>>,
    /// The answers a unicast SSDP M-SEARCH to the camera's UDP 1900 got (empty: none).
    ssdp: Option<Result<Vec<outside::SsdpAnswer>, String>>,
    /// The answer a unicast Easy IP Setup search to the camera's UDP 10670 got (i-PRO only;
    /// Ok(None): no answer).
    easy_ip: Option<Result<Option<camward_discovery::easyip::Answer>, String>>,
    /// The certificate Camward installed (hex SHA-256 and expiry, from the inventory), and whether
    /// a TLS handshake to the camera's HTTPS port saw exactly it (Err: what it saw instead).
    pinned: Option<(String, String, Result<(), String>)>,
}

/// What the logged-in reads returned.
struct Reads {
    device: DeviceInformation,
    users: Result<Vec<User>, OnvifError>,
    ntp: Result<NtpInformation, OnvifError>,
    date_time_type: Result<DateTimeType, OnvifError>,
    protocols: Result<Vec<NetworkProtocol>, OnvifError>,
    filter: Result<IpAddressFilter, OnvifError>,
    zero_conf: Result<ZeroConfiguration, OnvifError>,
    discovery: Result<DiscoveryMode, OnvifError>,
    interfaces: Result<Vec<NetworkInterface>, OnvifError>,
    access_log: Result<String, OnvifError>,
    dot1x: Result<super::dot1x::Dot1xSeen, OnvifError>,
}

/// Ports looked at for exposure: FTP, SSH, Telnet, HTTP, HTTPS, RTSP, and common alternates.
const EXPOSURE_PORTS: [u16; 10] = [21, 22, 23, 80, 443, 554, 8000, 8080, 8443, 8554];
const OUTSIDE_TIMEOUT: Duration = Duration::from_millis(1500);
/// Failed logins in the access log that make log-review fail.
const FAILED_LOGIN_ALARM: usize = 3;

fn finding(
    control: &'static str,
    status: Status,
    evidence: impl Into<String>,
    fix: Option<String>,
) -> Finding {
    Finding {
        control,
        status,
        evidence: evidence.into(),
        fix,
    }
}

/// The camera's IP address in a device service URL (`None` for a host name).
pub(crate) fn host_of(url: &str) -> Option<IpAddr> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split('/').next()?;
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next()?
    } else {
        authority.rsplit_once(':').map_or(authority, |(h, _)| h)
    };
    host.parse().ok()
}

fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// Audits the camera at `target`, logged in as `user` with the password the keychain holds.
pub async fn audit(
    vault: &Vault,
    target: &str,
    user: &str,
    options: &AuditOptions<'_>,
) -> Result<Scorecard, CoreError> {
    let url = crate::target::device_url(target)?;
    let span = tracing::info_span!("audit", camera = %url, user = %user);
    tracing::Instrument::instrument(audit_camera(vault, url, user, options), span).await
}

async fn audit_camera(
    vault: &Vault,
    url: String,
    user: &str,
    options: &AuditOptions<'_>,
) -> Result<Scorecard, CoreError> {
    let key = CredentialKey::new(crate::camera_key(&url), user);
    // An interrupted change leaves it open which password the camera has: logging in with either
    // could be a failed login. Finishing it is the credential lifecycle's job.
    if vault.ledger.pending().is_ok_and(|p| p.contains(&key)) {
        return Err(CoreError {
            code: "credential_change_in_progress".into(),
            message: format!("a password change for {user} on this camera was interrupted; finish it first with: camward rotate --resume (or camward init-admin {url} --confirm for a guided first admin)"),
            camera: url.clone(),
            step: "check the credential".into(),
        });
    }
    let password = vault
        .ledger
        .current(&key)
        .map_err(|e| CoreError {
            code: e.code().into(),
            message: e.to_string(),
            camera: url.clone(),
            step: "read the password from the keychain".into(),
        })?
        .ok_or_else(|| CoreError {
            code: "no_password".into(),
            message: format!("the keychain holds no password for {user} on this camera; store it with: camward credentials set {url} --user {user}"),
            camera: url.clone(),
            step: "read the password from the keychain".into(),
        })?;

    // Over HTTPS with the pin once HTTP is off; a changed certificate stops here, typed.
    let route = crate::session::route(vault, &url).await?;
    let camera = route.open(&url)?;
    let offset = camera
        .sync_clock()
        .await
        .map_err(|e| first_contact_error(&url, "GetSystemDateAndTime", e))?;

    // Unauthenticated first: nothing below has sent a credential yet.
    let mut seen = Outside {
        anonymous_onvif: Some(camera.get_device_information().await.is_ok()),
        ..Outside::default()
    };
    seen.http_schemes = Some(
        outside::onvif_auth_schemes_with(&route.device_url(&url), OUTSIDE_TIMEOUT, route.trust())
            .await
            .map_err(|e| e.to_string()),
    );

    camera.set_credentials(
        Some(Credentials::new(user, password.expose().as_str())),
        AuthMode::Auto,
    );
    // Not even the device information: the login itself failed. That is the camera's answer to
    // this audit, not a finding.
    let device = camera
        .get_device_information()
        .await
        .map_err(|e| crate::session::onvif_error(&url, "GetDeviceInformation", e))?;
    let reads = Reads {
        device,
        users: camera.get_users().await,
        ntp: camera.get_ntp().await,
        date_time_type: camera
            .get_system_date_and_time()
            .await
            .map(|d| d.date_time_type),
        protocols: camera.get_network_protocols().await,
        filter: camera.get_ip_address_filter().await,
        zero_conf: camera.get_zero_configuration().await,
        discovery: camera.get_discovery_mode().await,
        interfaces: camera.get_network_interfaces().await,
        access_log: camera.get_system_log(SystemLogType::Access).await,
        dot1x: Err(OnvifError::Refused(
            camward_onvif::DeviceRefusal::NotSupported,
        )),
    };
    let mut reads = reads;
    // 802.1X is an Advanced control: asked only when this audit checks it.
    let wants_dot1x = options.plan.map_or(options.level, SitePlan::level) >= Level::Advanced
        && options.plan.is_none_or(|p| p.applies("dot1x"));
    if let (true, Ok(first)) = (
        wants_dot1x,
        reads
            .interfaces
            .as_ref()
            .map(|i| i.first().map(|i| i.token.clone())),
    ) {
        reads.dot1x = match first {
            Some(token) => super::dot1x::read(&camera, &token).await,
            None => Ok(super::dot1x::Dot1xSeen::NotCapable),
        };
    }
    // The certificate Camward installed must still be the one the camera presents: a changed
    // certificate is an alarm, never a silent accept.
    let record = vault.inventory.camera(&key.camera).ok().flatten();
    if let (Some(cert), Ok(protocols)) = (record.and_then(|r| r.certificate), &reads.protocols) {
        let https = protocols
            .iter()
            .find(|p| p.name == ProtocolName::Https && p.enabled)
            .and_then(|p| p.ports.first().copied());
        let expected = (0..32)
            .map(|i| {
                cert.sha256_fingerprint
                    .get(2 * i..2 * i + 2)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
            })
            .collect::<Option<Vec<u8>>>()
            .and_then(|v| <[u8; 32]>::try_from(v).ok());
        let host = host_of(&url).map(|ip| ip.to_string());
        if let (Some(port), Some(expected), Some(host)) = (https, expected, host) {
            let seen_now = crate::certificates::verify_presented(&host, port, expected).await;
            let until = cert
                .not_after
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default();
            seen.pinned = Some((cert.sha256_fingerprint.clone(), until, seen_now));
        }
    }
    // A guest sees snapshots: fetch the camera's own snapshot URL without credentials.
    if let Ok(profiles) = camera.get_profiles().await {
        if let Some(profile) = profiles.first() {
            if let Ok(uri) = camera.get_snapshot_uri(&profile.token).await {
                let status = outside::anonymous_get_status(&uri, OUTSIDE_TIMEOUT)
                    .await
                    .map_err(|e| e.to_string());
                seen.anonymous_snapshot = Some((uri, status));
            }
        }
    }

    if options.outside {
        if let Some(ip) = host_of(&url) {
            let rtsp_port = reads
                .protocols
                .as_ref()
                .ok()
                .and_then(|ps| {
                    ps.iter()
                        .find(|p| p.name == ProtocolName::Rtsp && p.enabled)
                })
                .and_then(|p| p.ports.first().copied());
            seen.rtsp_schemes = Some(match rtsp_port {
                Some(port) => outside::rtsp_auth_schemes(ip, port, OUTSIDE_TIMEOUT)
                    .await
                    .map_err(|e| e.to_string()),
                None => Err("the camera lists no RTSP server".into()),
            });
            let ftp_open = outside::tcp_open(ip, 21, OUTSIDE_TIMEOUT).await;
            seen.ftp_open = Some(ftp_open);
            seen.ftp = Some(Ok(if ftp_open {
                outside::ftp_banner(ip, 21, OUTSIDE_TIMEOUT).await
            } else {
                None
            }));
            seen.snmp = Some(
                outside::snmp_v2c_answers(ip, 161, "public", OUTSIDE_TIMEOUT)
                    .await
                    .map_err(|e| e.to_string()),
            );
            let mut open_ports = Vec::new();
            for port in EXPOSURE_PORTS {
                if outside::tcp_open(ip, port, OUTSIDE_TIMEOUT).await {
                    open_ports.push(port);
                }
            }
            seen.open_ports = Some(open_ports);
            // Discovery protocols, asked by unicast to the camera's address only: never
            // multicast or broadcast from an audit.
            let ipro = make_of(&reads.device.manufacturer) == Make::IPro;
            let (mdns, ssdp, easy_ip) = tokio::join!(
                outside::mdns_unicast_answers(ip, outside::MDNS_PORT, OUTSIDE_TIMEOUT),
                outside::ssdp_unicast_search(ip, outside::SSDP_PORT, OUTSIDE_TIMEOUT),
                async {
                    match ip {
                        IpAddr::V4(v4) if ipro => Some(
                            camward_discovery::easyip::query(
                                v4,
                                camward_discovery::easyip::SEARCH_PORT,
                                OUTSIDE_TIMEOUT,
                            )
                            .await
                            .map(|a| a.map(|(answer, _)| answer))
                            .map_err(|e| e.to_string()),
                        ),
                        IpAddr::V4(_) => None,
                        IpAddr::V6(_) => Some(Err("Easy IP Setup is an IPv4 protocol".to_owned())),
                    }
                },
            );
            seen.mdns = Some(mdns.map_err(|e| e.to_string()));
            seen.ssdp = Some(ssdp.map_err(|e| e.to_string()));
            seen.easy_ip = easy_ip;
        }
    }

    let device = &reads.device;
    let make = make_of(&device.manufacturer);
    let single = PeerDigests::default();
    let others = options
        .peers
        .unwrap_or(&single)
        .others(vault, &key, digest(password.expose()));
    let level = options.plan.map_or(options.level, SitePlan::level);
    let skipped = |id: &str| options.plan.is_some_and(|p| !p.applies(id));
    let ctx = Ctx {
        url: &url,
        user,
        password: password.expose(),
        reads: &reads,
        seen: &seen,
        make,
        offset_s: offset.as_seconds_f64(),
        others,
        options,
        laptop: host_of(&url).and_then(laptop_address_toward),
        verdict: std::sync::OnceLock::new(),
    };
    let findings = catalog::for_level(level)
        .map(|info| {
            if skipped(info.id) {
                return finding(
                    info.id,
                    Status::NotApplicable,
                    "left out by the site plan",
                    None,
                );
            }
            check(info, &ctx)
        })
        .collect();
    let card = Scorecard {
        camera: url.clone(),
        model: Some(format!("{} {}", device.manufacturer, device.model)),
        serial: Some(device.serial_number.clone()),
        level,
        findings,
    };
    let summary = format!(
        "level {level}: {} pass, {} fail, {} manual, {} unknown (score {}%)",
        card.count(Status::Pass),
        card.count(Status::Fail),
        card.count(Status::ManualNeeded),
        card.count(Status::Unknown),
        card.score()
    );
    tracing::info!(
        pass = card.count(Status::Pass),
        fail = card.count(Status::Fail),
        "audit done"
    );
    let _ = vault.inventory.append_audit(&AuditEntry::camera(
        key.camera.clone(),
        "hardening.audit",
        summary,
        "ok",
    ));
    super::keep_run(
        vault,
        &key.camera,
        options.plan.map(|p| p.site()),
        camward_vault::RunKind::Audit,
        level,
        &card,
    );
    Ok(card)
}

/// Audits every camera of `targets`, `concurrency` at a time; one camera's failure (unreachable,
/// wrong password, malformed reply) is its own result and the others go on. Results come back in
/// the order of `targets`.
pub async fn audit_all(
    vault: &Vault,
    targets: &[String],
    user: &str,
    options: &AuditOptions<'_>,
    concurrency: usize,
) -> Vec<(String, Result<Scorecard, CoreError>)> {
    use futures_util::stream::{self, StreamExt};
    let peers = PeerDigests::default();
    let options = &AuditOptions {
        peers: Some(options.peers.unwrap_or(&peers)),
        ..*options
    };
    stream::iter(targets)
        .map(|t| async move { (t.clone(), audit(vault, t, user, options).await) })
        .buffered(concurrency.max(1))
        .collect()
        .await
}

/// How far the audit of one camera got (see [`audit_all_or_prelogin`]).
#[derive(Debug)]
pub enum Audited {
    /// Logged in: every control read from the camera.
    LoggedIn(Scorecard),
    /// Camward holds no password for the camera — a factory-fresh one has no administrator at
    /// all —, so the scorecard is what it tells anyone ([`super::prelogin`]); `why` is the
    /// audit's `no_password` error.
    WithoutLogin {
        seen: super::prelogin::PreLogin,
        why: CoreError,
    },
}

impl Audited {
    /// The scorecard, logged in or not.
    pub fn scorecard(&self) -> &Scorecard {
        match self {
            Audited::LoggedIn(card) => card,
            Audited::WithoutLogin { seen, .. } => &seen.scorecard,
        }
    }
}

/// [`audit_all`], except that a camera Camward holds no password for is not an error: it is
/// audited from what it tells anyone, the way an installer meets a switch full of factory-fresh
/// cameras. A camera that cannot be reached even so keeps its error.
pub async fn audit_all_or_prelogin(
    vault: &Vault,
    targets: &[String],
    user: &str,
    options: &AuditOptions<'_>,
    concurrency: usize,
) -> Vec<(String, Result<Audited, CoreError>)> {
    use futures_util::stream::{self, StreamExt};
    let peers = PeerDigests::default();
    let options = &AuditOptions {
        peers: Some(options.peers.unwrap_or(&peers)),
        ..*options
    };
    stream::iter(targets)
        .map(|t| async move {
            let audited = match audit(vault, t, user, options).await {
                Ok(card) => Ok(Audited::LoggedIn(card)),
                Err(why) if why.code == "no_password" => {
                    super::prelogin::audit(t, options.level, &why)
                        .await
                        .map(|seen| Audited::WithoutLogin { seen, why })
                }
                Err(e) => Err(e),
            };
            (t.clone(), audited)
        })
        .buffered(concurrency.max(1))
        .collect()
        .await
}

/// This computer's own address on the path to `camera` (the source address the OS would use).
pub(super) fn laptop_address_toward(camera: IpAddr) -> Option<IpAddr> {
    let bind: IpAddr = match camera {
        IpAddr::V4(_) => std::net::Ipv4Addr::UNSPECIFIED.into(),
        IpAddr::V6(_) => std::net::Ipv6Addr::UNSPECIFIED.into(),
    };
    // A UDP "connect" sends nothing: it only asks the routing table for the source address.
    let socket = std::net::UdpSocket::bind((bind, 0)).ok()?;
    socket.connect((camera, 9)).ok()?;
    socket.local_addr().ok().map(|a| a.ip())
}

struct Ctx<'a> {
    url: &'a str,
    user: &'a str,
    password: &'a str,
    reads: &'a Reads,
    seen: &'a Outside,
    make: Make,
    offset_s: f64,
    others: Option<Vec<[u8; 32]>>,
    options: &'a AuditOptions<'a>,
    laptop: Option<IpAddr>,
    /// The policy's verdict on the password, worked out once for admin-password and
    /// password-policy (zxcvbn is the dearest part of an audit's own work).
    verdict: std::sync::OnceLock<camward_policy::Verdict>,
}

impl Ctx<'_> {
    /// The menu path for a person, for this camera's make.
    fn menu(&self, info: &ControlInfo) -> Option<String> {
        // The guides give Canon's and i-PRO's menus; other makes' menus differ, so none is shown.
        let path = match self.make {
            Make::Canon => info.canon_menu,
            Make::IPro => info.ipro_menu,
            _ => None,
        }?;
        Some(format!("on the camera's web page: {path}"))
    }
}

fn unknown(info: &ControlInfo, step: &str, e: &OnvifError) -> Finding {
    finding(
        info.id,
        Status::Unknown,
        format!("{step} failed: {e}"),
        None,
    )
}

fn manual(info: &ControlInfo, ctx: &Ctx<'_>, why: &str) -> Finding {
    let fix = ctx
        .menu(info)
        .unwrap_or_else(|| format!("check on the camera that: {}", info.hardened));
    finding(info.id, Status::ManualNeeded, why, Some(fix))
}

fn check(info: &ControlInfo, ctx: &Ctx<'_>) -> Finding {
    let r = ctx.reads;
    let id = info.id;
    match id {
        "admin-password" | "password-policy" => {
            let users = match &r.users {
                Ok(u) => u,
                Err(e) => return unknown(info, "GetUsers", e),
            };
            let is_admin = users
                .iter()
                .any(|u| u.username == ctx.user && u.level == UserLevel::Administrator);
            let verdict = ctx.verdict.get_or_init(|| {
                camward_policy::check(
                    ctx.password,
                    &camward_policy::Context {
                        user: ctx.user.to_owned(),
                        model: Some(r.device.model.clone()),
                        hostname: None,
                    },
                    &camward_policy::DeviceLimits::default(),
                )
            });
            let chars = ctx.password.chars().count();
            let shared = ctx
                .others
                .as_ref()
                .map(|o| o.contains(&digest(ctx.password)));
            let reasons: Vec<String> = verdict.reasons.iter().map(ToString::to_string).collect();
            if id == "password-policy" {
                return if verdict.is_ok() {
                    finding(id, Status::Pass, format!("the password Camward holds for {} ({chars} characters) passes both guides' rules (zxcvbn score {})", ctx.user, verdict.score), None)
                } else {
                    finding(id, Status::Fail, format!("the password of {} breaks: {}", ctx.user, reasons.join("; ")), Some(format!("camward rotate {} --user {}", ctx.url, ctx.user)))
                };
            }
            if !is_admin {
                return finding(id, Status::Fail, format!("{} is not an Administrator on this camera", ctx.user), Some("audit as the camera's administrator".into()));
            }
            match (verdict.is_ok(), shared) {
                (true, Some(false)) => finding(id, Status::Pass, format!("administrator {} logs in; its password has {chars} characters, passes the policy and no other camera Camward knows shares it", ctx.user), None),
                (true, None) => finding(id, Status::Pass, format!("administrator {} logs in; its password passes the policy (uniqueness not checked: the inventory could not be read)", ctx.user), None),
                (_, Some(true)) => finding(id, Status::Fail, format!("another camera has the same password as {} here", ctx.user), Some(format!("camward rotate {} (every camera gets its own generated password)", ctx.url))),
                (false, _) => finding(id, Status::Fail, format!("the password of {} breaks: {}", ctx.user, reasons.join("; ")), Some(format!("camward rotate {}", ctx.url))),
            }
        }
        "user-accounts" => {
            let users = match &r.users {
                Ok(u) => u,
                Err(e) => return unknown(info, "GetUsers", e),
            };
            let listed: Vec<String> = users.iter().map(|u| format!("{} ({:?})", u.username, u.level)).collect();
            let keep: Option<Vec<(String, UserLevel)>> = ctx.options.plan.map(|p| {
                p.users()
                    .iter()
                    .map(|k| (k.name.clone(), role_level(k.role)))
                    .collect()
            });
            let extra: Vec<&User> = users
                .iter()
                .filter(|u| u.username != ctx.user)
                .filter(|u| match &keep {
                    Some(keep) => !keep.iter().any(|(name, level)| *name == u.username && *level == u.level),
                    None => u.level == UserLevel::Administrator,
                })
                .collect();
            if extra.is_empty() {
                finding(id, Status::Pass, format!("accounts: {}", listed.join(", ")), None)
            } else {
                let names: Vec<&str> = extra.iter().map(|u| u.username.as_str()).collect();
                let why = if keep.is_some() { "not in the site plan with that role" } else { "a second administrator" };
                finding(id, Status::Fail, format!("accounts: {}; {why}: {}", listed.join(", "), names.join(", ")), Some("remove them or lower their role (ONVIF DeleteUsers / SetUser)".into()))
            }
        }
        "guest-off" => {
            let onvif = match ctx.seen.anonymous_onvif {
                Some(true) => return finding(id, Status::Fail, "the camera answered GetDeviceInformation without credentials", ctx.menu(info).or(Some("create an administrator; clear every anonymous privilege".into()))),
                Some(false) => "an anonymous GetDeviceInformation was refused",
                None => return finding(id, Status::Unknown, "not probed", None),
            };
            match &ctx.seen.anonymous_snapshot {
                Some((uri, Ok(200))) => finding(id, Status::Fail, format!("{onvif}, but the snapshot {uri} is served to anyone (guest access)"), ctx.menu(info).or(Some("clear the guest (anonymous viewer) privileges".into()))),
                Some((uri, Ok(status))) => finding(id, Status::Pass, format!("{onvif}; an anonymous GET of the snapshot {uri} got {status}"), None),
                Some((uri, Err(e))) => finding(id, Status::Pass, format!("{onvif}; the snapshot {uri} did not answer ({e})"), None),
                None => finding(id, Status::Pass, format!("{onvif} (the camera offers no snapshot URL)"), None),
            }
        }
        "digest-auth" => {
            let http = match &ctx.seen.http_schemes {
                Some(Ok(s)) => s.clone(),
                Some(Err(e)) => return finding(id, Status::Unknown, format!("HTTP challenge not read: {e}"), None),
                None => return finding(id, Status::Unknown, "not probed", None),
            };
            let basic = |s: &[String]| s.iter().any(|x| x.eq_ignore_ascii_case("basic"));
            let digest_offered = |s: &[String]| s.iter().any(|x| x.eq_ignore_ascii_case("digest"));
            if http.is_empty() {
                return finding(id, Status::Unknown, "the device service answered an unauthenticated GetUsers without a 401 challenge (WS-UsernameToken only?)", None);
            }
            if basic(&http) || !digest_offered(&http) {
                return finding(id, Status::Fail, format!("HTTP 401 offers {}", http.join(", ")), ctx.menu(info).or(Some("turn Basic authentication off".into())));
            }
            match &ctx.seen.rtsp_schemes {
                None => finding(id, Status::Pass, format!("HTTP 401 offers {} (RTSP not checked: run with outside verification)", http.join(", ")), None),
                Some(Err(e)) => finding(id, Status::Unknown, format!("HTTP 401 offers {}; the RTSP challenge could not be read: {e}", http.join(", ")), None),
                Some(Ok(rtsp)) if basic(rtsp) || !digest_offered(rtsp) => finding(id, Status::Fail, format!("HTTP 401 offers {}; RTSP DESCRIBE 401 offers {}", http.join(", "), rtsp.join(", ")), ctx.menu(info).or(Some("set the RTSP authentication method to Digest".into()))),
                Some(Ok(rtsp)) => finding(id, Status::Pass, format!("HTTP 401 offers {}; RTSP DESCRIBE 401 offers {}", http.join(", "), rtsp.join(", ")), None),
            }
        }
        "time-sync" => {
            let ntp = match &r.ntp {
                Ok(n) => n,
                Err(e) => return unknown(info, "GetNTP", e),
            };
            let mode = match &r.date_time_type {
                Ok(m) => *m,
                Err(e) => return unknown(info, "GetSystemDateAndTime", e),
            };
            let servers: Vec<String> = ntp.manual.iter().chain(&ntp.from_dhcp_servers).map(host_text).collect();
            let max_skew = ctx
                .options
                .plan
                .and_then(SitePlan::time)
                .map_or(5.0, |t| f64::from(t.max_skew_s));
            let skew = ctx.offset_s.abs();
            let evidence = format!("NTP servers: {}; DateTimeType {:?}; clock {:.1} s off this computer's", if servers.is_empty() { "none".into() } else { servers.join(", ") }, mode, ctx.offset_s);
            if servers.is_empty() || mode != DateTimeType::Ntp || skew > max_skew {
                finding(id, Status::Fail, evidence, Some("ONVIF SetNTP and SetSystemDateAndTime(DateTimeType=NTP), after an SNTP query shows the server answers".into()))
            } else {
                finding(id, Status::Pass, evidence, None)
            }
        }
        "firmware-current" => {
            let device = &r.device;
            let Some(catalog) = ctx.options.firmware else {
                return finding(id, Status::Unknown, format!("firmware {}; no firmware catalog given (--firmware-catalog)", device.firmware_version), None);
            };
            match catalog.latest_for(&device.manufacturer, &device.model) {
                None => finding(id, Status::Unknown, format!("firmware {}; the catalog lists nothing for {} {}", device.firmware_version, device.manufacturer, device.model), None),
                Some(entry) => match camward_policy::firmware::compare_versions(&device.firmware_version, &entry.latest) {
                    std::cmp::Ordering::Less => finding(id, Status::Fail, format!("firmware {} is older than {} (catalog)", device.firmware_version, entry.latest), ctx.menu(info).or(Some("upgrade the firmware".into()))),
                    _ => finding(id, Status::Pass, format!("firmware {} is the newest the catalog knows ({})", device.firmware_version, entry.latest), None),
                },
            }
        }
        "network-config" => {
            let ifs = match &r.interfaces {
                Ok(i) => i,
                Err(e) => return unknown(info, "GetNetworkInterfaces", e),
            };
            let described: Vec<String> = ifs
                .iter()
                .map(|i| {
                    let mode = if i.ipv4_dhcp { "DHCP" } else { "static" };
                    let addresses: Vec<String> = i.ipv4_manual.iter().chain(&i.ipv4_from_dhcp).map(|a| format!("{}/{}", a.address, a.prefix_length)).collect();
                    format!("{} {mode} {}", i.token, addresses.join(" "))
                })
                .collect();
            manual(info, ctx, &format!("interfaces: {}; confirm this addressing is the site's design", described.join("; ")))
        }
        "log-review" => {
            let log = match &r.access_log {
                Ok(l) => l,
                Err(e) => return unknown(info, "GetSystemLog(Access)", e),
            };
            let failures = log
                .lines()
                .filter(|l| {
                    let l = l.to_ascii_lowercase();
                    (l.contains("fail") && (l.contains("login") || l.contains("auth") || l.contains("password")))
                        || l.contains("locked out")
                })
                .count();
            let lines = log.lines().count();
            if failures >= FAILED_LOGIN_ALARM {
                finding(id, Status::Fail, format!("{failures} failed or locked-out logins among {lines} access-log lines"), Some("find out who tried: the log names the source addresses".into()))
            } else {
                finding(id, Status::Pass, format!("access log read ({lines} lines, {failures} failed logins)"), None)
            }
        }
        "host-restriction" => {
            let filter = match &r.filter {
                Ok(f) => f,
                Err(e) => return unknown(info, "GetIPAddressFilter", e),
            };
            let entries: Vec<String> = filter.ipv4.iter().chain(&filter.ipv6).map(|a| format!("{}/{}", a.address, a.prefix_length)).collect();
            if filter.filter_type == FilterType::Allow && !filter.ipv4.is_empty() {
                let laptop = ctx.laptop.map_or_else(|| "this computer".into(), |a| a.to_string());
                finding(id, Status::Pass, format!("allow-list {} (this computer reaches it from {laptop}); with IPv6 on, add IPv6 entries too: an IPv4-only list does not cover IPv6", entries.join(", ")), None)
            } else {
                finding(id, Status::Fail, format!("{:?} list with {} entries: every host may connect", filter.filter_type, entries.len()), Some("an allow-list of the site's hosts (ONVIF SetIPAddressFilter), never one that leaves this computer out".into()))
            }
        }
        "ports-changed" => {
            let protocols = match &r.protocols {
                Ok(p) => p,
                Err(e) => return unknown(info, "GetNetworkProtocols", e),
            };
            let defaults: Vec<String> = protocols
                .iter()
                .filter(|p| p.enabled)
                .filter(|p| {
                    let default = match p.name {
                        ProtocolName::Http => 80,
                        ProtocolName::Https => 443,
                        ProtocolName::Rtsp => 554,
                    };
                    p.ports.contains(&default)
                })
                .map(|p| format!("{:?} on {:?}", p.name, p.ports))
                .collect();
            if defaults.is_empty() {
                finding(id, Status::Pass, "no service on its default port", None)
            } else {
                finding(id, Status::Fail, format!("default ports: {}", defaults.join(", ")), ctx.menu(info).or_else(|| Some("on the camera's network page".into())))
            }
        }
        "autoip-off" => match &r.zero_conf {
            Ok(z) if !z.enabled => finding(id, Status::Pass, "zero configuration (AutoIP) is off", None),
            Ok(z) => finding(id, Status::Fail, format!("AutoIP is on{}", if z.addresses.is_empty() { String::new() } else { format!(" ({})", z.addresses.join(", ")) }), Some("ONVIF SetZeroConfiguration(Enabled=false), after the final address is recorded".into())),
            Err(e) => unknown(info, "GetZeroConfiguration", e),
        },
        "wsdiscovery-off" => match &r.discovery {
            Ok(DiscoveryMode::NonDiscoverable) => finding(id, Status::Pass, "DiscoveryMode NonDiscoverable (verify: camward discover --method ws-discovery)", None),
            Ok(DiscoveryMode::Discoverable) => finding(id, Status::Fail, "DiscoveryMode Discoverable", Some("ONVIF SetDiscoveryMode(NonDiscoverable)".into())),
            Err(e) => unknown(info, "GetDiscoveryMode", e),
        },
        "https-only" => {
            let protocols = match &r.protocols {
                Ok(p) => p,
                Err(e) => return unknown(info, "GetNetworkProtocols", e),
            };
            let on = |name: ProtocolName| protocols.iter().any(|p| p.name == name && p.enabled);
            if let Some((sha, _, Err(seen))) = &ctx.seen.pinned {
                return finding(id, Status::Fail, format!("ALARM: the camera no longer presents the certificate Camward installed (SHA-256 {sha}): {seen}. Someone replaced it, or the camera was reset"), Some("find out who changed it; then enrol the camera again (camward certs enrol)".into()));
            }
            if let Some((sha, until, Ok(()))) = &ctx.seen.pinned {
                return match on(ProtocolName::Http) {
                    false => finding(id, Status::Pass, format!("HTTP off; HTTPS presents the certificate Camward installed (SHA-256 {sha}, valid until {until})"), None),
                    true => finding(id, Status::Fail, format!("HTTPS presents the certificate Camward installed (SHA-256 {sha}, valid until {until}), but HTTP is still on"), Some("turn HTTP off (ONVIF SetNetworkProtocols), now that HTTPS is proven".into())),
                };
            }
            match (on(ProtocolName::Http), on(ProtocolName::Https)) {
                (false, true) => finding(id, Status::Pass, "HTTP off, HTTPS on (the certificate is checked by the certificate step)", None),
                (true, true) => finding(id, Status::Fail, "HTTP and HTTPS both on", Some("turn HTTP off once HTTPS answers with the site's certificate (ONVIF SetNetworkProtocols)".into())),
                (_, false) => finding(id, Status::Fail, "HTTPS is off", Some("give the camera the site's certificate, turn HTTPS on, then HTTP off".into())),
            }
        }
        "easy-ip-setup-limited" if ctx.make != Make::IPro => finding(id, Status::NotApplicable, "Easy IP Setup is i-PRO's protocol", None),
        "easy-ip-setup-limited" => {
            use camward_discovery::easyip::ValidPeriod;
            // The catalog's limit: i-PRO's "20 minutes".
            const LIMIT_S: u32 = 20 * 60;
            let fix = || ctx.menu(info).or(Some("set the Easy IP Setup valid period to 20 minutes".into()));
            match &ctx.seen.easy_ip {
                Some(Ok(None)) => finding(id, Status::Pass, "no answer to a unicast Easy IP Setup search on UDP 10670: the valid period is over (or Easy IP Setup is off)", None),
                Some(Ok(Some(answer))) => {
                    let who = format!("the camera answers a unicast Easy IP Setup search on UDP 10670 (MAC {}{})", answer.mac, answer.model.as_deref().map(|m| format!(", model {m}")).unwrap_or_default());
                    match answer.valid_period {
                        Some(ValidPeriod::Unlimited) => finding(id, Status::Fail, format!("{who} and states an unlimited valid period: it answers for as long as it runs"), fix()),
                        Some(ValidPeriod::Limited { seconds }) if seconds > LIMIT_S => finding(id, Status::Fail, format!("{who} and states a valid period of {} minutes, longer than 20", seconds.div_ceil(60)), fix()),
                        Some(ValidPeriod::Limited { seconds }) => finding(id, Status::Pass, format!("{who} and states a valid period of {} after (re)boot: it falls silent after that", if seconds.is_multiple_of(60) { format!("{} minutes", seconds / 60) } else { format!("{seconds} s") }), None),
                        None => manual(info, ctx, &format!("{who}; it does not state its valid period, so whether it falls silent 20 minutes after (re)boot is not known: check the setting")),
                    }
                }
                Some(Err(e)) => finding(id, Status::Unknown, format!("the Easy IP Setup check failed: {e}"), None),
                None => manual(info, ctx, "not verified from outside (run with outside verification)"),
            }
        }
        "mdns-off" => match &ctx.seen.mdns {
            Some(Ok(None)) => finding(id, Status::Pass, "no answer to a unicast mDNS query (DNS-SD services and camera service types) on UDP 5353", None),
            Some(Ok(Some(names))) => finding(
                id,
                Status::Fail,
                format!("the camera answers a unicast mDNS query on UDP 5353: {}", if names.is_empty() { "(no names)".into() } else { names.join(", ") }),
                ctx.menu(info).or(Some(if ctx.make == Make::Axis { "turn Bonjour off (VAPIX Network.Bonjour.Enabled=no)".into() } else { "turn mDNS (Bonjour) off on the camera's web page".into() })),
            ),
            Some(Err(e)) => finding(id, Status::Unknown, format!("the mDNS check failed: {e}"), None),
            None => manual(info, ctx, "not verified from outside (run with outside verification)"),
        },
        "upnp-off" => match &ctx.seen.ssdp {
            Some(Ok(answers)) if answers.is_empty() => finding(id, Status::Pass, "no answer to a unicast SSDP M-SEARCH (ssdp:all) on UDP 1900", None),
            Some(Ok(answers)) => {
                let said: Vec<String> = answers
                    .iter()
                    .map(|a| {
                        let mut one = format!("ST {} USN {}", a.st, a.usn);
                        if let Some(location) = &a.location {
                            one.push_str(&format!(" at {location}"));
                        }
                        one
                    })
                    .collect();
                let server = answers.iter().find_map(|a| a.server.as_deref()).map(|s| format!(" (SERVER {s})")).unwrap_or_default();
                finding(id, Status::Fail, format!("the camera answers a unicast SSDP M-SEARCH on UDP 1900{server}: {}", said.join("; ")), ctx.menu(info).or(Some("turn UPnP off on the camera's web page".into())))
            }
            Some(Err(e)) => finding(id, Status::Unknown, format!("the SSDP check failed: {e}"), None),
            None => manual(info, ctx, "not verified from outside (run with outside verification)"),
        },
        "ftp-server-off" => match (&ctx.seen.ftp, ctx.seen.ftp_open) {
            (Some(Ok(Some(banner))), _) => finding(id, Status::Fail, format!("an FTP server answers on TCP 21: {banner:?}"), ctx.menu(info).or(Some("turn the FTP server off".into()))),
            (Some(_), Some(false)) => finding(id, Status::Pass, "TCP 21 is closed", None),
            (Some(_), Some(true)) => finding(id, Status::Unknown, "TCP 21 accepts connections but sent no FTP greeting", None),
            _ => manual(info, ctx, "not verified from outside (run with outside verification)"),
        },
        "snmp-v3" => match &ctx.seen.snmp {
            Some(Ok(None)) => finding(id, Status::Pass, "no answer to an SNMP v2c get with community \"public\" on UDP 161", None),
            Some(Ok(Some(descr))) => finding(id, Status::Fail, format!("SNMP v2c answers with community \"public\": {descr:?}"), ctx.menu(info).or(Some("turn SNMP v1/v2c off; use v3 if SNMP is needed".into()))),
            Some(Err(e)) => finding(id, Status::Unknown, format!("the SNMP v2c check failed: {e}"), None),
            None => manual(info, ctx, "not verified from outside (run with outside verification)"),
        },
        "exposure" => match &ctx.seen.open_ports {
            Some(open) => manual(info, ctx, &format!("from this computer these ports answer: {}; confirm none is forwarded to the internet (remote access only through a VPN)", if open.is_empty() { "none".into() } else { open.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ") })),
            None => manual(info, ctx, "ports not checked (run with outside verification); confirm the camera is not reachable from the internet"),
        },
        "dot1x" => {
            use super::dot1x::Dot1xSeen;
            match &r.dot1x {
                Ok(Dot1xSeen::NotCapable) => finding(id, Status::NotApplicable, "the camera has no 802.1X supplicant (no Dot1XCapabilities in Advanced Security)", None),
                Ok(Dot1xSeen::Capable { interface, assigned: Some(c) }) if c.outer.method != "EAP-MD5" => finding(id, Status::Pass, format!("802.1X {} on {interface}{}{}", c.outer.method, c.outer.identity.as_deref().map(|i| format!(" as {i}")).unwrap_or_default(), if c.outer.cert_path_validation_policy_id.is_some() { ", the authentication server's certificate validated" } else { "" }), None),
                Ok(Dot1xSeen::Capable { interface, assigned: Some(c) }) => finding(id, Status::Fail, format!("802.1X {} on {interface}: no server authentication, and its password falls to a dictionary attack", c.outer.method), ctx.menu(info).or(Some("use EAP-TLS (site plan [dot1x])".into()))),
                Ok(Dot1xSeen::Capable { interface, assigned: None }) => finding(id, Status::Fail, format!("no 802.1X configuration on {interface}: anything plugged into the port reaches the network"), ctx.menu(info).or(Some("describe EAP-TLS in the site plan's [dot1x] and commission again, or set it on the camera's page".into()))),
                Err(e) => unknown(info, "GetNetworkInterfaceDot1XConfiguration", e),
            }
        }
        _ => manual(info, ctx, "Camward cannot read this setting over ONVIF"),
    }
}

/// The ONVIF user level of a plan role.
fn role_level(role: camward_policy::plan::Role) -> UserLevel {
    match role {
        camward_policy::plan::Role::Administrator => UserLevel::Administrator,
        camward_policy::plan::Role::Operator => UserLevel::Operator,
        camward_policy::plan::Role::User => UserLevel::User,
    }
}

fn host_text(h: &camward_onvif::device::NetworkHost) -> String {
    use camward_onvif::device::NetworkHost;
    match h {
        NetworkHost::Ipv4(a) | NetworkHost::Ipv6(a) | NetworkHost::Dns(a) => a.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_read_from_device_urls() {
        assert_eq!(
            host_of("http://192.0.2.7:8080/onvif/device_service"),
            Some("192.0.2.7".parse().unwrap_or(IpAddr::from([0, 0, 0, 0])))
        );
        assert_eq!(
            host_of("http://[2001:db8::1]:80/x"),
            "2001:db8::1".parse().ok()
        );
        assert_eq!(host_of("http://cam.example/x"), None);
        assert_eq!(make_of("HIKVISION"), Make::Hikvision);
        assert_eq!(make_of("i-PRO"), Make::IPro);
        assert_eq!(make_of("Canon"), Make::Canon);
    }
}
