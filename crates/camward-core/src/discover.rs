//! Discovery as a person uses it: pick interfaces (default: every up, non-loopback IPv4 one) and
//! methods (default: all), and get one de-duplicated, live list of cameras, each with the methods
//! that saw it and how to reach it.
//!
//! Every method runs on every chosen interface at once and reports [`Sighting`]s down one
//! channel; [`discover`] merges them as they arrive (same MAC, serial or WS-Discovery endpoint
//! reference = same camera), tells the caller about each new or changed camera through
//! [`DiscoveryEvent`]s, and stops when every method is done or when `cancel` completes (the
//! scanners are dropped, which stops them). A method that cannot run on an interface (no
//! link-local address, no raw-socket privilege, a port in use) is a warning naming the interface,
//! the method and the fix; the other methods go on.
//!
//! The link-local method sweeps 169.254.0.0/16 by ARP ([`camward_discovery::linklocal`]), tries
//! the camera ports of each live host, and identifies those that answer with the unauthenticated
//! ONVIF calls of [`crate::probe`].
use std::collections::BTreeMap;
use std::future::Future;
use std::net::Ipv4Addr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use camward_discovery::linklocal::{self, Host, SweepConfig, SweepProgress};
use camward_discovery::{Method, Sighting};
use serde::Serialize;
use time::OffsetDateTime;
use tokio::sync::mpsc;

use crate::CoreError;

/// A network interface with its IPv4 addresses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Interface {
    /// OS name (`eth0`, `enp3s0`, …).
    pub name: String,
    /// Its IPv4 addresses.
    pub addresses: Vec<Ipv4Addr>,
    /// True for loopback.
    pub loopback: bool,
}

/// The interfaces of this machine that are up or have an IPv4 address, with their IPv4
/// addresses (an interface that is up without any address is listed too: a laptop on an
/// isolated switch of factory-fresh cameras, where only a link-local address of its own helps).
pub fn interfaces() -> Result<Vec<Interface>, CoreError> {
    let all = if_addrs::get_if_addrs().map_err(|e| CoreError {
        code: "interfaces".into(),
        message: format!("could not list the network interfaces: {e}"),
        camera: "-".into(),
        step: "list interfaces".into(),
    })?;
    let mut by_name: BTreeMap<String, Interface> = BTreeMap::new();
    for i in all {
        if let std::net::IpAddr::V4(v4) = i.ip() {
            let entry = by_name.entry(i.name.clone()).or_insert_with(|| Interface {
                name: i.name.clone(),
                addresses: Vec::new(),
                loopback: i.is_loopback(),
            });
            entry.addresses.push(v4);
        }
    }
    for link in pnet_datalink::interfaces() {
        if link.is_up() && !link.is_loopback() && link.mac.is_some() {
            by_name
                .entry(link.name.clone())
                .or_insert_with(|| Interface {
                    name: link.name.clone(),
                    addresses: Vec::new(),
                    loopback: false,
                });
        }
    }
    Ok(by_name.into_values().collect())
}

/// The interfaces to scan: those named, or every non-loopback one.
pub fn choose(names: &[String]) -> Result<Vec<Interface>, CoreError> {
    let all = interfaces()?;
    if names.is_empty() {
        return Ok(all.into_iter().filter(|i| !i.loopback).collect());
    }
    names
        .iter()
        .map(|name| {
            all.iter()
                .find(|i| &i.name == name)
                .cloned()
                .ok_or_else(|| CoreError {
                    code: "unknown_interface".into(),
                    message: format!(
                        "no interface {name} that is up; these are: {}",
                        all.iter()
                            .map(|i| i.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    camera: "-".into(),
                    step: "choose interfaces".into(),
                })
        })
        .collect()
}

/// One camera found, however many methods and interfaces saw it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FoundCamera {
    /// Its IPv4 addresses.
    pub ips: Vec<Ipv4Addr>,
    /// URLs to reach it: ONVIF device service first, then web pages.
    pub addresses: Vec<String>,
    /// The WS-Discovery endpoint reference (`urn:uuid:…`), when it answered WS-Discovery.
    pub endpoint: Option<String>,
    /// Manufacturer.
    pub vendor: Option<String>,
    /// Model.
    pub model: Option<String>,
    /// A friendly name.
    pub name: Option<String>,
    /// MAC address.
    pub mac: Option<String>,
    /// Serial number.
    pub serial: Option<String>,
    /// Firmware version.
    pub firmware: Option<String>,
    /// True when a method says it is in its factory state (Profile Q FactoryDefault, SADP not
    /// activated, Easy IP Setup without an administrator, anonymous ONVIF access).
    pub factory_fresh: bool,
    /// Methods that saw it, in [`Method::ALL`] order.
    pub methods: Vec<Method>,
    /// Interfaces it was seen on.
    pub interfaces: Vec<String>,
    /// When it was first seen (RFC 3339).
    pub first_seen: String,
    /// When it was last seen (RFC 3339).
    pub last_seen: String,
}

/// Something the caller may show while a scan runs.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum DiscoveryEvent {
    /// A camera seen for the first time.
    Found {
        /// The camera.
        camera: FoundCamera,
    },
    /// A known camera seen again with something new (another method, address, field).
    Updated {
        /// The camera, merged.
        camera: FoundCamera,
    },
    /// A camera said goodbye (WS-Discovery Bye, mDNS goodbye) and left the list.
    Gone {
        /// The camera as it was.
        camera: FoundCamera,
    },
    /// A method could not run (fully) on an interface.
    Warning(DiscoveryWarning),
    /// The link-local sweep's progress, summed over interfaces.
    Sweep {
        /// ARP requests sent.
        sent: usize,
        /// ARP requests the sweep sends in all.
        total: usize,
        /// Live hosts found.
        hosts: usize,
    },
}

/// A method that could not run (fully) on an interface, and what to do about it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DiscoveryWarning {
    /// The interface.
    pub interface: String,
    /// The method.
    pub method: Method,
    /// A stable code (`no_link_local_address`, `no_raw_socket`, `socket`, …).
    pub code: String,
    /// What happened and the fix.
    pub message: String,
}

/// How to scan.
#[derive(Clone, Debug)]
pub struct DiscoverOptions {
    /// Methods to use; empty means all.
    pub methods: Vec<Method>,
    /// How long the listening methods listen.
    pub wait: Duration,
    /// Give an interface without a link-local address one (needs root), for the sweep.
    pub add_link_local: bool,
    /// ARP requests per second of the link-local sweep.
    pub sweep_rate: u32,
}

impl Default for DiscoverOptions {
    fn default() -> Self {
        DiscoverOptions {
            methods: Vec::new(),
            wait: Duration::from_secs(3),
            add_link_local: false,
            sweep_rate: linklocal::DEFAULT_RATE,
        }
    }
}

/// What a scan found.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Discovery {
    /// The cameras, sorted by address.
    pub cameras: Vec<FoundCamera>,
    /// Methods that could not run (fully), with the fix.
    pub warnings: Vec<DiscoveryWarning>,
    /// True when the scan was stopped before every method was done.
    pub cancelled: bool,
}

/// What a scanner task sends the merger.
enum Report {
    Seen(Sighting, String),
    Warning(DiscoveryWarning),
}

type Reports = mpsc::UnboundedSender<Report>;

fn warn(reports: &Reports, interface: &str, method: Method, code: &str, message: String) {
    let _ = reports.send(Report::Warning(DiscoveryWarning {
        interface: interface.to_owned(),
        method,
        code: code.to_owned(),
        message,
    }));
}

/// Runs one listening method (`scan`) on one interface address, forwarding its sightings.
async fn listen<F, Fut>(
    scan: F,
    interface: String,
    address: Ipv4Addr,
    wait: Duration,
    method: Method,
    reports: Reports,
) where
    F: FnOnce(Ipv4Addr, Duration, camward_discovery::Sightings) -> Fut,
    Fut: Future<Output = std::io::Result<camward_discovery::ScanStats>>,
{
    let (tx, mut rx) = mpsc::unbounded_channel();
    let forward = async {
        while let Some(s) = rx.recv().await {
            let _ = reports.send(Report::Seen(s, interface.clone()));
        }
    };
    let (result, ()) = tokio::join!(scan(address, wait, tx), forward);
    match result {
        Ok(stats) => {
            tracing::debug!(%method, interface = %interface, sent = stats.sent, accepted = stats.accepted, dropped = stats.dropped, "scan done")
        }
        Err(e) => warn(
            &reports,
            &interface,
            method,
            "socket",
            format!("{method} from {address}: {e}"),
        ),
    }
}

/// The link-local address suggested for `interface`, seeded by its MAC (Linux's sysfs; elsewhere
/// by nothing, which still gives a valid address).
fn suggestion_for(interface: &str) -> Ipv4Addr {
    let mac =
        std::fs::read_to_string(format!("/sys/class/net/{interface}/address")).unwrap_or_default();
    linklocal::suggested_address(mac.trim().as_bytes())
}

/// Gives `interface` the link-local `address` (Linux, as root).
fn add_link_local_address(interface: &str, address: Ipv4Addr) -> Result<Ipv4Addr, String> {
    let out = std::process::Command::new("ip")
        .args(["addr", "add", &format!("{address}/16"), "dev", interface])
        .output()
        .map_err(|e| format!("could not run ip: {e}"))?;
    if out.status.success() {
        Ok(address)
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
    }
}

/// The link-local method on one interface: neighbour table, ARP sweep, ports, ONVIF identify.
async fn link_local(
    interface: Interface,
    options: DiscoverOptions,
    progress: Arc<SweepProgress>,
    reports: Reports,
) {
    let method = Method::LinkLocal;
    let name = interface.name.clone();
    let own = match linklocal::own_link_local(&interface.addresses) {
        Some(own) => own,
        None => {
            let suggestion = suggestion_for(&name);
            let fix = linklocal::fix_for_missing_address(&name, suggestion);
            if !options.add_link_local {
                let e = linklocal::SweepError::NoLinkLocalAddress {
                    interface: name.clone(),
                    fix,
                };
                warn(&reports, &name, method, e.code(), e.to_string());
                return;
            }
            match add_link_local_address(&name, suggestion) {
                Ok(address) => {
                    tracing::info!(interface = %name, %address, "link-local address added");
                    warn(&reports, &name, method, "link_local_address_added", format!("gave {name} the link-local address {address}/16 for the sweep (remove it with: sudo ip addr del {address}/16 dev {name})"));
                    address
                }
                Err(why) => {
                    warn(
                        &reports,
                        &name,
                        method,
                        "no_link_local_address",
                        format!(
                            "{name} has no link-local address and adding one failed ({why}); {fix}"
                        ),
                    );
                    return;
                }
            }
        }
    };
    let (hosts_tx, mut hosts_rx) = mpsc::unbounded_channel::<Host>();
    for host in linklocal::neighbour_table(&name) {
        let _ = hosts_tx.send(host);
    }
    let config = SweepConfig {
        rate: options.sweep_rate,
        ..SweepConfig::default()
    };
    let sweep = {
        let name = name.clone();
        let reports = reports.clone();
        async move {
            if let Err(e) = linklocal::arp_sweep(&name, own, config, hosts_tx, progress).await {
                warn(&reports, &name, method, e.code(), e.to_string());
            }
        }
    };
    let identify = async {
        let limit = Arc::new(tokio::sync::Semaphore::new(32));
        let mut tasks = tokio::task::JoinSet::new();
        let mut seen = std::collections::BTreeSet::new();
        while let Some(host) = hosts_rx.recv().await {
            if !seen.insert(host.ip) {
                continue;
            }
            let limit = Arc::clone(&limit);
            let reports = reports.clone();
            let name = name.clone();
            tasks.spawn(async move {
                let Ok(_permit) = limit.acquire().await else {
                    return;
                };
                if let Some(s) = identify_host(&host).await {
                    let _ = reports.send(Report::Seen(s, name));
                }
            });
        }
        while tasks.join_next().await.is_some() {}
    };
    tokio::join!(sweep, identify);
}

/// What a live link-local host is: `None` when no camera port answers.
async fn identify_host(host: &Host) -> Option<Sighting> {
    let open = linklocal::open_ports(
        host.ip,
        &linklocal::CAMERA_PORTS,
        Duration::from_millis(800),
    )
    .await;
    if open.is_empty() {
        return None;
    }
    let mut s = Sighting::new(Method::LinkLocal);
    s.ip = Some(host.ip);
    s.mac = Some(host.mac.clone());
    if open.contains(&80) || open.contains(&443) {
        let scheme = if open.contains(&80) { "http" } else { "https" };
        let url = format!("{scheme}://{}/onvif/device_service", host.ip);
        match tokio::time::timeout(Duration::from_secs(4), crate::probe::probe(&url)).await {
            Ok(Ok(report)) => {
                s.urls.push(report.url.clone());
                s.vendor = report.manufacturer;
                s.model = report.model;
                s.serial = report.serial;
                s.firmware = report.firmware;
            }
            Ok(Err(e)) => {
                tracing::debug!(ip = %host.ip, code = %e.code, "not identified over ONVIF")
            }
            Err(_) => tracing::debug!(ip = %host.ip, "ONVIF identify timed out"),
        }
        // The factory state, asked the way first boot asks it (vendor APIs, then ONVIF), all
        // without credentials.
        if let Ok(Ok(state)) =
            tokio::time::timeout(Duration::from_secs(4), crate::first_boot::detect(&url)).await
        {
            s.factory_fresh = Some(state.factory_fresh);
        }
    }
    for (port, url) in [(80, "http"), (443, "https"), (554, "rtsp")] {
        if open.contains(&port) {
            s.urls.push(format!("{url}://{}/", host.ip));
        }
    }
    Some(s)
}

/// Scans `interfaces` with the chosen methods and merges what they see. `on_event` hears every
/// change as it happens; `cancel` stops the scan early (what was found so far is returned).
pub async fn discover(
    interfaces: &[Interface],
    options: &DiscoverOptions,
    cancel: impl Future<Output = ()>,
    mut on_event: impl FnMut(&DiscoveryEvent),
) -> Discovery {
    let methods: Vec<Method> = if options.methods.is_empty() {
        Method::ALL.to_vec()
    } else {
        Method::ALL
            .into_iter()
            .filter(|m| options.methods.contains(m))
            .collect()
    };
    let (reports, mut incoming) = mpsc::unbounded_channel::<Report>();
    let mut scans = tokio::task::JoinSet::new();
    let mut sweeps: Vec<Arc<SweepProgress>> = Vec::new();
    let wait = options.wait;
    for interface in interfaces {
        let listening: Vec<&Method> = methods
            .iter()
            .filter(|m| **m != Method::LinkLocal)
            .collect();
        if interface.addresses.is_empty() && !listening.is_empty() {
            let names: Vec<&str> = listening.iter().map(|m| m.name()).collect();
            let suggestion = suggestion_for(&interface.name);
            warn(
                &reports,
                &interface.name,
                *listening[0],
                "no_ipv4_address",
                format!(
                    "{} has no IPv4 address, so {} cannot run on it; {}",
                    interface.name,
                    names.join(", "),
                    linklocal::fix_for_missing_address(&interface.name, suggestion)
                ),
            );
        }
        for method in &methods {
            let name = interface.name.clone();
            if *method == Method::LinkLocal {
                let progress = Arc::new(SweepProgress::default());
                sweeps.push(Arc::clone(&progress));
                scans.spawn(link_local(
                    interface.clone(),
                    options.clone(),
                    progress,
                    reports.clone(),
                ));
                continue;
            }
            for address in interface.addresses.iter().copied() {
                let (name, r) = (name.clone(), reports.clone());
                match method {
                    Method::WsDiscovery => scans.spawn(listen(
                        camward_discovery::scan::scan,
                        name,
                        address,
                        wait,
                        *method,
                        r,
                    )),
                    Method::Mdns => scans.spawn(listen(
                        camward_discovery::mdns::scan,
                        name,
                        address,
                        wait,
                        *method,
                        r,
                    )),
                    Method::EasyIp => scans.spawn(listen(
                        camward_discovery::easyip::scan,
                        name,
                        address,
                        wait,
                        *method,
                        r,
                    )),
                    Method::Sadp => scans.spawn(listen(
                        camward_discovery::sadp::scan,
                        name,
                        address,
                        wait,
                        *method,
                        r,
                    )),
                    Method::LinkLocal => continue,
                };
            }
        }
    }
    drop(reports);

    let mut merged = Merged::default();
    let mut discovery = Discovery::default();
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    tokio::pin!(cancel);
    loop {
        tokio::select! {
            report = incoming.recv() => match report {
                None => break,
                Some(Report::Warning(w)) => {
                    tracing::warn!(interface = %w.interface, method = %w.method, code = %w.code, "{}", w.message);
                    on_event(&DiscoveryEvent::Warning(w.clone()));
                    discovery.warnings.push(w);
                }
                Some(Report::Seen(s, interface)) => {
                    if let Some(event) = merged.add(s, &interface) {
                        on_event(&event);
                    }
                }
            },
            _ = tick.tick(), if !sweeps.is_empty() => {
                let sum = |f: fn(&SweepProgress) -> usize| sweeps.iter().map(|p| f(p)).sum::<usize>();
                on_event(&DiscoveryEvent::Sweep {
                    sent: sum(|p| p.sent.load(Ordering::Relaxed)),
                    total: sum(|p| p.total.load(Ordering::Relaxed)),
                    hosts: sum(|p| p.hosts.load(Ordering::Relaxed)),
                });
            }
            () = &mut cancel => {
                discovery.cancelled = true;
                break;
            }
        }
    }
    scans.abort_all();
    discovery.cameras = merged.cameras;
    discovery
        .cameras
        .sort_by(|a, b| (&a.ips, &a.addresses).cmp(&(&b.ips, &b.addresses)));
    discovery
}

fn now() -> String {
    OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The list being built.
#[derive(Default)]
struct Merged {
    cameras: Vec<FoundCamera>,
}

impl Merged {
    /// Adds one sighting; returns the event it makes (`None` when it told nothing new).
    fn add(&mut self, s: Sighting, interface: &str) -> Option<DiscoveryEvent> {
        let same = |a: &Option<String>, b: &Option<String>| a.is_some() && a == b;
        let at = self.cameras.iter().position(|c| {
            same(&c.endpoint, &s.endpoint) || same(&c.mac, &s.mac) || same(&c.serial, &s.serial)
        });
        if s.gone {
            return at.map(|i| DiscoveryEvent::Gone {
                camera: self.cameras.remove(i),
            });
        }
        let seen_at = now();
        let Some(i) = at else {
            let mut c = FoundCamera {
                ips: s.ip.into_iter().collect(),
                addresses: Vec::new(),
                endpoint: s.endpoint,
                vendor: s.vendor,
                model: s.model,
                name: s.name,
                mac: s.mac,
                serial: s.serial,
                firmware: s.firmware,
                factory_fresh: s.factory_fresh == Some(true),
                methods: vec![s.method],
                interfaces: vec![interface.to_owned()],
                first_seen: seen_at.clone(),
                last_seen: seen_at,
            };
            add_urls(&mut c.addresses, s.urls);
            return Some(DiscoveryEvent::Found { camera: c.clone() })
                .inspect(|_| self.cameras.push(c));
        };
        let c = &mut self.cameras[i];
        let before = c.clone();
        if let Some(ip) = s.ip {
            if !c.ips.contains(&ip) {
                c.ips.push(ip);
            }
        }
        add_urls(&mut c.addresses, s.urls);
        if !c.methods.contains(&s.method) {
            c.methods.push(s.method);
            c.methods.sort();
        }
        if !c.interfaces.iter().any(|n| n == interface) {
            c.interfaces.push(interface.to_owned());
        }
        for (into, from) in [
            (&mut c.endpoint, s.endpoint),
            (&mut c.vendor, s.vendor),
            (&mut c.model, s.model),
            (&mut c.name, s.name),
            (&mut c.mac, s.mac),
            (&mut c.serial, s.serial),
            (&mut c.firmware, s.firmware),
        ] {
            if into.is_none() {
                *into = from;
            }
        }
        c.factory_fresh |= s.factory_fresh == Some(true);
        let changed = *c != before;
        c.last_seen = seen_at;
        changed.then(|| DiscoveryEvent::Updated { camera: c.clone() })
    }
}

/// `url` without the scheme's default port (`http://a:80/` is `http://a/`).
fn without_default_port(url: &str) -> String {
    for (scheme, port) in [
        ("http://", ":80/"),
        ("https://", ":443/"),
        ("rtsp://", ":554/"),
    ] {
        if let Some(rest) = url.strip_prefix(scheme) {
            if let Some((host, path)) = rest.split_once(port) {
                if !host.contains('/') {
                    return format!("{scheme}{host}/{path}");
                }
            }
        }
    }
    url.to_owned()
}

/// Adds URLs not yet listed, ONVIF device service URLs first.
fn add_urls(into: &mut Vec<String>, urls: Vec<String>) {
    for url in urls.iter().map(|u| without_default_port(u)) {
        if !into.contains(&url) {
            into.push(url);
        }
    }
    into.sort_by_key(|u| !u.contains("/onvif/device_service"));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(method: Method, endpoint: &str, mac: &str, url: &str) -> Sighting {
        let mut s = Sighting::new(method);
        s.endpoint = (!endpoint.is_empty()).then(|| endpoint.into());
        s.mac = (!mac.is_empty()).then(|| mac.into());
        s.urls = vec![url.into()];
        s
    }

    #[test]
    fn the_same_camera_seen_by_several_methods_is_listed_once() {
        let mut list = Merged::default();
        let first = list.add(
            seen(
                Method::WsDiscovery,
                "urn:uuid:1",
                "02:00:00:00:00:01",
                "http://a/onvif/device_service",
            ),
            "eth0",
        );
        assert!(matches!(first, Some(DiscoveryEvent::Found { .. })));
        let again = list.add(
            seen(
                Method::WsDiscovery,
                "urn:uuid:1",
                "",
                "http://a/onvif/device_service",
            ),
            "eth0",
        );
        assert_eq!(again, None, "nothing new");
        let mut sadp = seen(Method::Sadp, "", "02:00:00:00:00:01", "http://a/");
        sadp.factory_fresh = Some(true);
        sadp.serial = Some("S1".into());
        assert!(matches!(
            list.add(sadp, "eth1"),
            Some(DiscoveryEvent::Updated { .. })
        ));
        let mut by_serial = seen(Method::Mdns, "", "", "http://a:80/");
        by_serial.serial = Some("S1".into());
        list.add(by_serial, "eth0");
        list.add(
            seen(
                Method::WsDiscovery,
                "urn:uuid:2",
                "02:00:00:00:00:02",
                "http://c/",
            ),
            "eth0",
        );
        assert_eq!(list.cameras.len(), 2);
        let c = &list.cameras[0];
        assert_eq!(
            c.addresses,
            ["http://a/onvif/device_service", "http://a/"],
            "http://a:80/ is http://a/"
        );
        assert_eq!(c.methods, [Method::WsDiscovery, Method::Mdns, Method::Sadp]);
        assert_eq!(c.interfaces, ["eth0", "eth1"]);
        assert!(c.factory_fresh);
        assert_eq!(
            without_default_port("http://1.2.3.4:80/onvif/device_service"),
            "http://1.2.3.4/onvif/device_service"
        );
        assert_eq!(without_default_port("https://h:443/"), "https://h/");
        assert_eq!(
            without_default_port("http://h:8080/x:80/"),
            "http://h:8080/x:80/"
        );

        let mut bye = Sighting::new(Method::WsDiscovery);
        bye.endpoint = Some("urn:uuid:2".into());
        bye.gone = true;
        assert!(matches!(
            list.add(bye.clone(), "eth0"),
            Some(DiscoveryEvent::Gone { .. })
        ));
        assert_eq!(list.cameras.len(), 1);
        assert_eq!(
            list.add(bye, "eth0"),
            None,
            "a Bye of an unknown camera tells nothing"
        );
    }
}
