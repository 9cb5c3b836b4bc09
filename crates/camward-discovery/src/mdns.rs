//! mDNS / DNS-SD discovery on one interface (RFC 6762 Multicast DNS, RFC 6763 DNS-Based Service
//! Discovery), with the `mdns-sd` daemon doing the wire protocol.
//!
//! RFC 6763 §4.1: "A DNS query for PTR records with the name `<Service>.<Domain>` yields a set of
//! zero or more PTR records, giving Service Instance Names of the form
//! `<Instance>.<Service>.<Domain>`"; §6: the instance's TXT record carries `key=value` strings.
//! Cameras publish themselves this way: AXIS OS announces `_axis-video._tcp` with
//! `macaddress=ACCC8E123456` in its TXT record, others `_http._tcp`, `_onvif._tcp`, `_rtsp._tcp`
//! with `mac`, `serial`, `model`, `vendor`, `fw` keys, so one browse per type finds them without
//! credentials.
//!
//! Glossary (the names `mdns-sd` uses): *ty_domain* is a service type with its domain
//! (`_http._tcp.local.`); *fullname* a Service Instance Name (`AXIS M3045 - ACCC8E123456.
//! _axis-video._tcp.local.`); *instance* its first label, the friendly name; the *meta-query*
//! `_services._dns-sd._udp.local.` (RFC 6763 §9) lists the service types present on the link.
//!
//! The daemon is restricted to the chosen interface's IPv4 address: a scan never queries out of
//! another interface. What the daemon hands over is read by [`ServiceInstance::sighting`], a pure
//! function written for hostile input: any host on the link can answer mDNS with anything.
use std::collections::{HashMap, HashSet};
use std::net::Ipv4Addr;
use std::time::Duration;

use futures_util::stream::{SelectAll, StreamExt as _};
use mdns_sd::{IfKind, ServiceDaemon, ServiceEvent};

use crate::scopes::normalise_mac;
use crate::sighting::{Method, ScanStats, Sighting, Sightings};

/// The service types cameras announce, browsed by every scan.
pub const SERVICE_TYPES: [&str; 7] = [
    "_axis-video._tcp.local.",
    "_onvif._tcp.local.",
    "_http._tcp.local.",
    "_https._tcp.local.",
    "_rtsp._tcp.local.",
    "_psia._tcp.local.",
    "_CGI._tcp.local.",
];

/// The DNS-SD service type enumeration (RFC 6763 §9): answers name the types on the link.
pub const META_QUERY: &str = "_services._dns-sd._udp.local.";

/// At most this many service instances are tracked per scan; more are dropped (and counted).
pub const MAX_SERVICES: usize = 1024;

/// TXT values longer than this are ignored (RFC 6763 §6.1: one TXT string is at most 255 bytes,
/// key included, so a longer value is not from a conforming responder).
pub const MAX_TXT_VALUE: usize = 255;

/// At most this many TXT strings are read per instance.
const MAX_TXT_ENTRIES: usize = 64;

/// Longest instance name, service type or fullname accepted, in bytes (a DNS name is at most
/// 255 bytes on the wire, RFC 1035 §2.3.4).
const MAX_NAME: usize = 255;

/// At most this many service types revealed by the meta-query are logged per scan.
const MAX_REVEALED_TYPES: usize = 64;

/// How long a clean shutdown waits for the daemon thread to confirm.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(1);

/// One resolved service instance, as the daemon reported it (SRV, TXT and A records joined).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServiceInstance {
    /// The Service Instance Name, `<Instance>.<Service>.<Domain>` (dots and backslashes inside
    /// the instance label escaped with a backslash, as `mdns-sd` writes them).
    pub fullname: String,
    /// The service type with its domain, `_http._tcp.local.`.
    pub ty_domain: String,
    /// The IPv4 addresses of the instance's host.
    pub addresses: Vec<Ipv4Addr>,
    /// The SRV port.
    pub port: u16,
    /// TXT `key=value` strings, in record order (a key without `=` has an empty value).
    pub txt: Vec<(String, String)>,
}

impl ServiceInstance {
    /// Reads what the daemon resolved: IPv4 addresses only; TXT values longer than
    /// [`MAX_TXT_VALUE`] are left out, the rest decoded as UTF-8 (lossily).
    fn from_resolved(service: &mdns_sd::ResolvedService) -> ServiceInstance {
        let mut addresses: Vec<Ipv4Addr> = service.get_addresses_v4().into_iter().collect();
        addresses.sort_unstable();
        let txt = service
            .get_properties()
            .iter()
            .take(MAX_TXT_ENTRIES)
            .filter(|p| p.val().is_none_or(|v| v.len() <= MAX_TXT_VALUE))
            .map(|p| {
                let value = p.val().map(String::from_utf8_lossy).unwrap_or_default();
                (p.key().to_owned(), value.into_owned())
            })
            .collect();
        ServiceInstance {
            fullname: service.get_fullname().to_owned(),
            ty_domain: service.ty_domain.clone(),
            addresses,
            port: service.get_port(),
            txt,
        }
    }

    /// The instance label, unescaped: the device's friendly name.
    pub fn instance_name(&self) -> Option<String> {
        instance_name(&self.fullname, &self.ty_domain)
    }

    /// The sighting this instance makes, seen from `interface`; `None` when it gives no usable
    /// IPv4 address (none, or only loopback, multicast, broadcast or unspecified ones).
    ///
    /// Of several addresses, the one sharing the longest prefix with `interface` is taken: an
    /// address in the interface's subnet always shares more leading bits than one outside it.
    pub fn sighting(&self, interface: Ipv4Addr) -> Option<Sighting> {
        let ip = self
            .addresses
            .iter()
            .copied()
            .filter(|a| usable(*a, interface))
            .max_by_key(|a| (common_prefix(*a, interface), std::cmp::Reverse(*a)))?;
        let mut s = Sighting::new(Method::Mdns);
        s.ip = Some(ip);
        if self.port != 0 {
            s.urls
                .push(format!("{}://{ip}:{}/", scheme(&self.ty_domain), self.port));
        }
        s.name = self.instance_name();
        let get = |keys: &[&str]| txt_value(&self.txt, keys);
        s.mac = txt_first(&self.txt, &["macaddress", "mac", "hwaddr"], |v| {
            normalise_mac(v)
        });
        s.serial = get(&["serial", "sn", "serialnumber"]);
        s.model = get(&["model", "hardware", "mdl"]);
        s.vendor = get(&["vendor", "manufacturer", "mfg"]).or_else(|| {
            // The type itself is Axis's own (VAPIX "Bonjour"): only AXIS OS announces it.
            type_is(&self.ty_domain, "_axis-video._tcp.local.").then(|| "AXIS".to_owned())
        });
        s.firmware = get(&["fw", "firmware", "fwversion"]);
        Some(s)
    }
}

/// The sighting for a ServiceRemoved (an mDNS goodbye, RFC 6762 §10.1, or an expired record):
/// the last sighting of that instance with `gone` set, or just its name when it was not seen.
fn goodbye(last: Option<&Sighting>, fullname: &str, ty_domain: &str) -> Sighting {
    let mut s = last.cloned().unwrap_or_else(|| {
        let mut s = Sighting::new(Method::Mdns);
        s.name = instance_name(fullname, ty_domain);
        s
    });
    s.gone = true;
    s
}

fn type_is(ty_domain: &str, wanted: &str) -> bool {
    ty_domain.eq_ignore_ascii_case(wanted)
}

fn scheme(ty_domain: &str) -> &'static str {
    if type_is(ty_domain, "_https._tcp.local.") {
        "https"
    } else if type_is(ty_domain, "_rtsp._tcp.local.") {
        "rtsp"
    } else {
        "http"
    }
}

/// An address a camera could really have on the link: a responder naming loopback (on any but
/// a loopback scan), a group, the broadcast or `0.0.0.0` is not taken at its word.
fn usable(a: Ipv4Addr, interface: Ipv4Addr) -> bool {
    !(a.is_unspecified()
        || a.is_multicast()
        || a.is_broadcast()
        || (a.is_loopback() && !interface.is_loopback())
        || a.octets()[0] == 0)
}

fn common_prefix(a: Ipv4Addr, b: Ipv4Addr) -> u32 {
    (u32::from(a) ^ u32::from(b)).leading_zeros()
}

/// Drops control characters and surrounding blanks; `None` when nothing is left or the text is
/// over [`MAX_TXT_VALUE`] bytes.
fn clean(raw: &str) -> Option<String> {
    if raw.len() > MAX_TXT_VALUE {
        return None;
    }
    let text: String = raw.chars().filter(|c| !c.is_control()).collect();
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// The first of `keys` present whose value `read` accepts. Keys are matched case-insensitively
/// and only their first occurrence counts (RFC 6763 §6.4: "a client MUST silently ignore all but
/// the first occurrence").
fn txt_first<T>(
    txt: &[(String, String)],
    keys: &[&str],
    read: impl Fn(&str) -> Option<T>,
) -> Option<T> {
    keys.iter().find_map(|key| {
        txt.iter()
            .find(|(k, _)| k.trim().eq_ignore_ascii_case(key))
            .and_then(|(_, v)| clean(v))
            .and_then(|v| read(&v))
    })
}

fn txt_value(txt: &[(String, String)], keys: &[&str]) -> Option<String> {
    txt_first(txt, keys, |v| Some(v.to_owned()))
}

/// The instance label of `fullname` (the part before `.<ty_domain>`), with `mdns-sd`'s escapes
/// (`\.`, `\\`) undone and control characters dropped.
fn instance_name(fullname: &str, ty_domain: &str) -> Option<String> {
    if fullname.len() > MAX_NAME {
        return None;
    }
    let cut = fullname.len().checked_sub(ty_domain.len() + 1)?;
    let (label, rest) = (fullname.get(..cut)?, fullname.get(cut..)?);
    if !rest.starts_with('.') || !type_is(&rest[1..], ty_domain) {
        return None;
    }
    let mut out = String::with_capacity(label.len());
    let mut chars = label.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    let out = out.trim();
    (!out.is_empty()).then(|| out.to_owned())
}

/// A service type as RFC 6763 §7 shapes it: `_name._tcp.local.` or `_name._udp.local.`.
fn is_service_type(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    name.len() <= MAX_NAME
        && name.starts_with('_')
        && (lower.ends_with("._tcp.local.") || lower.ends_with("._udp.local."))
        && name.chars().all(|c| c.is_ascii_graphic())
}

fn io_error(e: mdns_sd::Error) -> std::io::Error {
    std::io::Error::other(format!("mDNS: {e}"))
}

/// The mDNS daemon of one scan. It runs on a thread of its own, which only a shutdown ends, so
/// the guard shuts it down when dropped: a cancelled scan leaves nothing behind.
struct Daemon {
    daemon: ServiceDaemon,
    down: bool,
}

impl Daemon {
    /// A daemon on the interface that holds `interface`, IPv4 only.
    fn open(interface: Ipv4Addr) -> std::io::Result<Daemon> {
        let daemon = Daemon {
            daemon: ServiceDaemon::new().map_err(io_error)?,
            down: false,
        };
        // Selections apply in order: everything off, then only this interface's IPv4 side
        // (the daemon resolves the address to that interface's index).
        daemon
            .daemon
            .disable_interface(IfKind::All)
            .map_err(io_error)?;
        daemon
            .daemon
            .enable_interface(IfKind::Addr(interface.into()))
            .map_err(io_error)?;
        Ok(daemon)
    }

    /// Shuts the daemon down and waits (briefly) until its thread has stopped.
    async fn shutdown(mut self) {
        self.down = true;
        if let Ok(status) = self.daemon.shutdown() {
            let _ = tokio::time::timeout(SHUTDOWN_WAIT, status.recv_async()).await;
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if !self.down {
            let _ = self.daemon.shutdown();
        }
    }
}

/// Fails unless `interface` is an address of this host (the daemon would otherwise silently run
/// on no interface at all).
fn check_local(interface: Ipv4Addr) -> std::io::Result<()> {
    std::net::UdpSocket::bind((interface, 0)).map(drop)
}

/// Browses for cameras' mDNS services on the interface that holds `interface` for `wait`,
/// sending one [`Sighting`] per resolved instance (again when it changes, and with `gone` set
/// when it says goodbye) to `found`. Dropping the future stops the scan and the daemon.
///
/// In the [`ScanStats`], `sent` counts the service types browsed (the daemon repeats each query
/// on its own schedule, RFC 6762 §5.2), `accepted` the sightings sent, and `dropped` the
/// instances refused: no usable IPv4 address, or beyond [`MAX_SERVICES`].
pub async fn scan(
    interface: Ipv4Addr,
    wait: Duration,
    found: Sightings,
) -> std::io::Result<ScanStats> {
    check_local(interface)?;
    let deadline = tokio::time::Instant::now() + wait;
    let daemon = Daemon::open(interface)?;
    let mut stats = ScanStats::default();
    let mut events = SelectAll::new();
    for ty in SERVICE_TYPES.iter().chain([&META_QUERY]) {
        events.push(daemon.daemon.browse(ty).map_err(io_error)?.into_stream());
        stats.sent += 1;
    }
    let mut monitor = daemon.daemon.monitor().map_err(io_error)?.into_stream();
    let mut seen: HashMap<String, Sighting> = HashMap::new();
    let mut revealed: HashSet<String> = HashSet::new();
    loop {
        let event = tokio::select! {
            e = events.next() => match e {
                Some(e) => e,
                None => break,
            },
            Some(event) = monitor.next() => {
                if let mdns_sd::DaemonEvent::Error(e) = event {
                    tracing::warn!(%interface, error = %e, "mDNS daemon error");
                }
                continue;
            }
            () = tokio::time::sleep_until(deadline) => break,
        };
        let sighting = match event {
            ServiceEvent::ServiceFound(ty, name) if type_is(&ty, META_QUERY) => {
                // Logged, not browsed: the other types on a link are printers, speakers and
                // laptops, and a camera announces at least one of SERVICE_TYPES.
                if is_service_type(&name)
                    && revealed.len() < MAX_REVEALED_TYPES
                    && revealed.insert(name.to_ascii_lowercase())
                {
                    tracing::debug!(%interface, service_type = %name, "mDNS service type on the link");
                }
                continue;
            }
            ServiceEvent::ServiceResolved(service) => {
                let key = service.get_fullname().to_ascii_lowercase();
                if !seen.contains_key(&key) && seen.len() >= MAX_SERVICES {
                    stats.dropped += 1;
                    continue;
                }
                match ServiceInstance::from_resolved(&service).sighting(interface) {
                    Some(s) if seen.get(&key) == Some(&s) => continue,
                    Some(s) => {
                        seen.insert(key, s.clone());
                        s
                    }
                    None => {
                        stats.dropped += 1;
                        continue;
                    }
                }
            }
            ServiceEvent::ServiceRemoved(ty, fullname) => {
                let key = fullname.to_ascii_lowercase();
                let last = seen.remove(&key);
                if last.is_none() && fullname.len() > MAX_NAME {
                    stats.dropped += 1;
                    continue;
                }
                goodbye(last.as_ref(), &fullname, &ty)
            }
            _ => continue,
        };
        stats.accepted += 1;
        if found.send(sighting).is_err() {
            // Nobody is listening any more.
            break;
        }
    }
    daemon.shutdown().await;
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn axis() -> ServiceInstance {
        ServiceInstance {
            fullname: "AXIS M3045-V - ACCC8E123456._axis-video._tcp.local.".into(),
            ty_domain: "_axis-video._tcp.local.".into(),
            addresses: vec![Ipv4Addr::new(169, 254, 40, 2)],
            port: 80,
            txt: vec![("macaddress".into(), "ACCC8E123456".into())],
        }
    }

    const HERE: Ipv4Addr = Ipv4Addr::new(169, 254, 40, 1);

    #[test]
    fn an_axis_announcement_reads() {
        let s = axis().sighting(HERE).unwrap();
        assert_eq!(s.method, Method::Mdns);
        assert_eq!(s.ip, Some(Ipv4Addr::new(169, 254, 40, 2)));
        assert_eq!(s.urls, ["http://169.254.40.2:80/"]);
        assert_eq!(s.mac.as_deref(), Some("ac:cc:8e:12:34:56"));
        assert_eq!(s.name.as_deref(), Some("AXIS M3045-V - ACCC8E123456"));
        assert_eq!(s.vendor.as_deref(), Some("AXIS"));
        assert!(!s.gone);
    }

    #[test]
    fn onvif_style_keys_read_case_insensitively_first_occurrence_wins() {
        let inst = ServiceInstance {
            fullname: r"Cam\.one\\x._https._tcp.local.".into(),
            ty_domain: "_https._tcp.local.".into(),
            addresses: vec![Ipv4Addr::new(10, 0, 0, 9)],
            port: 443,
            txt: vec![
                ("MAC".into(), "00-11-22-33-44-55".into()),
                ("mac".into(), "66:77:88:99:aa:bb".into()),
                ("sn".into(), " S123 ".into()),
                ("hardware".into(), "M1".into()),
                ("Manufacturer".into(), "Acme".into()),
                ("firmware".into(), "2.0".into()),
            ],
        };
        let s = inst.sighting(HERE).unwrap();
        assert_eq!(s.urls, ["https://10.0.0.9:443/"]);
        assert_eq!(s.name.as_deref(), Some(r"Cam.one\x"));
        assert_eq!(s.mac.as_deref(), Some("00:11:22:33:44:55"));
        assert_eq!(s.serial.as_deref(), Some("S123"));
        assert_eq!(s.model.as_deref(), Some("M1"));
        assert_eq!(s.vendor.as_deref(), Some("Acme"));
        assert_eq!(s.firmware.as_deref(), Some("2.0"));
    }

    #[test]
    fn the_address_in_the_interfaces_subnet_is_preferred() {
        let mut inst = axis();
        inst.addresses = vec![
            Ipv4Addr::new(10, 1, 2, 3),
            Ipv4Addr::new(127, 0, 0, 1),
            Ipv4Addr::new(169, 254, 99, 7),
            Ipv4Addr::new(224, 0, 0, 251),
        ];
        assert_eq!(
            inst.sighting(HERE).unwrap().ip,
            Some(Ipv4Addr::new(169, 254, 99, 7))
        );
        inst.addresses = vec![Ipv4Addr::new(127, 0, 0, 1), Ipv4Addr::BROADCAST];
        assert_eq!(inst.sighting(HERE), None, "only hostile addresses");
        assert_eq!(
            inst.sighting(Ipv4Addr::LOCALHOST).unwrap().ip,
            Some(Ipv4Addr::LOCALHOST),
            "loopback is fine on a loopback scan"
        );
    }

    #[test]
    fn hostile_instances_do_not_panic_and_yield_little() {
        let huge = "x".repeat(100_000);
        let cases = [
            ServiceInstance::default(),
            ServiceInstance {
                fullname: huge.clone(),
                ty_domain: huge.clone(),
                addresses: vec![HERE],
                port: 0,
                txt: vec![(huge.clone(), huge.clone()), (String::new(), String::new())],
            },
            ServiceInstance {
                fullname: "é\u{0}\u{1b}[31m._http._tcp.local.".into(),
                ty_domain: "_http._tcp.local.".into(),
                addresses: vec![HERE],
                port: 1,
                txt: vec![
                    ("mac".into(), "zz:11:22:33:44:55".into()),
                    ("serial".into(), "\u{fffd}\u{fffd}".into()),
                    ("model".into(), "\u{7}\u{8}".into()),
                    ("vendor".into(), huge.clone()),
                    ("=".into(), "=".into()),
                ],
            },
            ServiceInstance {
                fullname: "._http._tcp.local.".into(),
                ty_domain: "_http._tcp.local.".into(),
                addresses: vec![HERE],
                port: 80,
                txt: vec![("macaddress".into(), "ACCC8E12345".into())],
            },
            ServiceInstance {
                fullname: "ü".into(),
                ty_domain: "ü._tcp.local.".into(),
                addresses: vec![HERE],
                port: 80,
                txt: vec![],
            },
        ];
        assert_eq!(cases[0].sighting(HERE), None, "no address");
        let s = cases[1].sighting(HERE).unwrap();
        assert!(s.urls.is_empty(), "port 0 gives no URL");
        assert_eq!((s.name, s.vendor), (None, None));
        let s = cases[2].sighting(HERE).unwrap();
        assert_eq!(
            s.name.as_deref(),
            Some("é[31m"),
            "control characters dropped"
        );
        assert_eq!(s.mac, None);
        assert_eq!(s.serial.as_deref(), Some("\u{fffd}\u{fffd}"));
        assert_eq!((s.model, s.vendor), (None, None));
        let s = cases[3].sighting(HERE).unwrap();
        assert_eq!((s.name, s.mac), (None, None));
        assert_eq!(cases[4].sighting(HERE).unwrap().name, None);
    }

    #[test]
    fn a_goodbye_keeps_what_was_known() {
        let last = axis().sighting(HERE).unwrap();
        let bye = goodbye(Some(&last), &axis().fullname, &axis().ty_domain);
        assert!(bye.gone);
        assert_eq!(bye.mac, last.mac);
        let bye = goodbye(None, &axis().fullname, &axis().ty_domain);
        assert!(bye.gone);
        assert_eq!(bye.name.as_deref(), Some("AXIS M3045-V - ACCC8E123456"));
        assert_eq!(bye.ip, None);
    }

    #[test]
    fn service_types_are_recognised() {
        assert!(is_service_type("_axis-video._tcp.local."));
        assert!(is_service_type("_Foo._UDP.local."));
        assert!(!is_service_type("printer._ipp._tcp.local. x"));
        assert!(!is_service_type("_x._sctp.local."));
        assert!(!is_service_type(&format!(
            "_{}._tcp.local.",
            "a".repeat(300)
        )));
    }

    #[tokio::test]
    async fn an_address_not_on_this_host_is_refused_before_any_traffic() {
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
        // TEST-NET-1 (RFC 5737) is never assigned to a host.
        let err = scan(Ipv4Addr::new(192, 0, 2, 1), Duration::from_millis(10), tx)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::AddrNotAvailable);
    }
}
