//! The site plan: what an installer decides for one site, written down as a TOML file.
//!
//! A plan names the protection level (the i-PRO guide's Entry / Standard / Advanced, see
//! `../shared/hardening-catalog.md`) and the site's facts the controls need: NTP servers, the hosts
//! allowed to reach the cameras, the accounts to keep, the services in use, the ports, the
//! certificate policy and the naming pattern. A control of the catalog *applies* when its level is at
//! or below the plan's level and it is not listed in `controls.skip` ([`SitePlan::applies`]).
//!
//! # Schema
//!
//! | key | type | required | meaning |
//! |---|---|---|---|
//! | `site` | string | yes | the site's name, not empty |
//! | `level` | `"entry"` \| `"standard"` \| `"advanced"` | yes | the protection level |
//! | `[time]` `ntp` | array of strings | when `time-sync` applies | NTP servers: IPv4 / IPv6 addresses or host names (RFC 1123, no port); at least one, no duplicates |
//! | `[time]` `max_skew_s` | integer 1–300 | no (5) | the clock difference to the laptop still accepted |
//! | `[access]` `allowed_hosts` | array of strings | when `host-restriction` applies | IPv4 / IPv6 networks in CIDR form or single addresses; not empty |
//! | `[users]` `keep` | array of `{ name, role }` | no (none) | accounts kept beside the administrator; `role` is `"administrator"` \| `"operator"` \| `"user"`; names 1–32 of `A-Z a-z 0-9 . _ -`, unique ignoring case, never `admin` or `root` |
//! | `[services]` `keep` | array of strings | yes | the services the site uses, from `http`, `https`, `rtsp`, `ftp`, `snmp`, `upnp`, `ws-discovery`, `mdns`, `easy-ip`, `autoip`, `rtp-multicast`; at least `https` or `http` |
//! | `[ports]` `http` / `https` / `rtsp` | integer 1–65535 | when `ports-changed` applies, for each of these services kept | non-default ports; no two services on one port |
//! | `[certificates]` `policy` | `"site-ca"` \| `"csr-export"` \| `"import"` \| `"self-signed-test"` | when `https-only` applies | how the camera's HTTPS certificate is obtained |
//! | `[certificates]` `san_hosts` | array of templates | no (none) | subject alternative names, e.g. `"cam-{serial}.example.net"`; each renders to a host name or an address |
//! | `[certificates]` `min_rsa_bits` | integer 2048–16384 | no (2048) | the smallest RSA key accepted |
//! | `[dot1x]` `method` | `"eap-tls"` | when Camward is to apply `dot1x` | the 802.1X method (EAP-TLS: the camera proves itself with a client certificate; EAP-MD5 is refused) |
//! | `[dot1x]` `identity` | template | no (`"{site}-{serial}"`) | the EAP identity, e.g. `"cam-{serial}"` |
//! | `[dot1x]` `radius_ca` | path | with `[dot1x]` | the CA certificate file (PEM or DER) the RADIUS server's certificate must chain to |
//! | `[dot1x]` `client_certificate` | `"site-ca"` | with `[dot1x]` | how the camera's client certificate is obtained: key made on the camera, CSR signed by the site CA |
//! | `[dot1x]` `site_ca` | path | with `client_certificate = "site-ca"` | the site CA's certificate file (`camward certs ca-init`); its key is read from the keychain |
//! | `[naming]` `pattern` | template | no (names left alone) | the camera name; must hold `{serial}`, `{mac}` or `{index}` so no two cameras share a name |
//! | `[controls]` `skip` | array of control ids | no (none) | catalog controls left out ([`CONTROL_IDS`]) |
//!
//! Templates use the placeholders `{site}`, `{model}`, `{serial}`, `{mac}` and `{index}`
//! ([`Placeholder`]); any other `{…}` is an error, and braces do not appear otherwise.
//!
//! ```toml
//! site = "Warehouse North"
//! level = "standard"
//!
//! [time]
//! ntp = ["ntp1.example.net", "192.0.2.123"]
//! max_skew_s = 5
//!
//! [access]
//! allowed_hosts = ["192.0.2.0/24", "2001:db8::/32", "198.51.100.7"]
//!
//! [users]
//! keep = [{ name = "operator1", role = "operator" }, { name = "viewer", role = "user" }]
//!
//! [services]
//! keep = ["https", "rtsp"]
//!
//! [ports]
//! http = 8080
//! https = 8443
//! rtsp = 8554
//!
//! [certificates]
//! policy = "site-ca"
//! san_hosts = ["cam-{serial}.example.net"]
//! min_rsa_bits = 2048
//!
//! [naming]
//! pattern = "{site}-{model}-{serial}"
//!
//! [controls]
//! skip = ["dot1x"]
//! ```
//!
//! # Decisions the plan enforces
//!
//! - **A plan does not contradict itself.** Keeping a service whose "off" control applies is an
//!   error (`http` with `https-only`, `ftp` with `ftp-server-off`, `upnp` with `upnp-off`,
//!   `ws-discovery` with `wsdiscovery-off`, `mdns` with `mdns-off`, `autoip` with `autoip-off`);
//!   so is a section a control needs being absent, e.g. no `[access]` at level standard. The remedy
//!   is always named: change the value or add the control to `controls.skip`. `rtp-multicast`,
//!   `easy-ip` and `snmp` may be kept: their controls say "off unless used", "limited" and "v3 only".
//! - **Ports: an error, not a warning.** While `ports-changed` applies, a port equal to its default
//!   (80, 443, 554) or a kept HTTP / HTTPS / RTSP service without a port would leave the control
//!   unsatisfied on every camera, so the plan is refused; skip `ports-changed` to keep defaults.
//!   A port for a service that is not kept is accepted (HTTP is still on while commissioning).
//!   Clashes count the defaults of the ports left unset (`https = 554` clashes with RTSP's 554).
//! - A service that is not kept is switched off by its control when that control applies; at a
//!   level where it does not apply the camera is left as it is and the audit reports it.
//! - Whether `allowed_hosts` includes the laptop's own address is checked when the restriction is
//!   applied (the lock-out hazard of `host-restriction`), not here: the plan does not know the laptop.
//!
//! # Errors
//!
//! [`parse`] stops at the first problem and returns a [`PlanError`] naming the 1-based line and
//! the field path, e.g. `site plan line 7, access.allowed_hosts[2]: '10.0.0.0/33' is not an IPv4 or
//! IPv6 network (CIDR)`, with a stable [`PlanError::code`]. Lines come from the TOML parser's spans
//! for syntax, unknown-field and type errors, and from the same spans, looked up by field path, for
//! the checks made here. The line is `None` only where no line exists (a missing top-level key, a
//! file that cannot be read).
use std::fmt::{self, Write as _};
use std::net::IpAddr;
use std::ops::Range;
use std::path::Path;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// Every control id of the hardening catalog (`../shared/hardening-catalog.md`), in its order.
pub const CONTROL_IDS: &[&str] = &[
    "admin-password",
    "password-policy",
    "user-accounts",
    "guest-off",
    "digest-auth",
    "time-sync",
    "firmware-current",
    "network-config",
    "audio-off",
    "sd-card-lock",
    "log-review",
    "ftp-server-off",
    "ftp-client-off",
    "upnp-off",
    "easy-ip-setup-limited",
    "smtp-tls",
    "host-restriction",
    "https-only",
    "ports-changed",
    "stream-encryption",
    "tamper-detection",
    "rtp-multicast-off",
    "autoip-off",
    "mdns-off",
    "wsdiscovery-off",
    "snmp-v3",
    "dot1x",
    "exposure",
    "backup-encrypted",
    "disposal",
];

/// The level at which the catalog recommends each control. Where the catalog gives a range
/// ("Entry / Standard") the lower bound is taken: that is where it first applies. `disposal` has
/// no level: it is a hand-over step, not a hardening control.
const CONTROL_LEVELS: &[(&str, Option<Level>)] = &[
    ("admin-password", Some(Level::Entry)),
    ("password-policy", Some(Level::Entry)),
    ("user-accounts", Some(Level::Entry)),
    ("guest-off", Some(Level::Entry)),
    ("digest-auth", Some(Level::Entry)),
    ("time-sync", Some(Level::Entry)),
    ("firmware-current", Some(Level::Entry)),
    ("network-config", Some(Level::Entry)),
    ("audio-off", Some(Level::Entry)),
    ("sd-card-lock", Some(Level::Entry)),
    ("log-review", Some(Level::Entry)),
    ("ftp-server-off", Some(Level::Standard)),
    ("ftp-client-off", Some(Level::Standard)),
    ("upnp-off", Some(Level::Standard)),
    ("easy-ip-setup-limited", Some(Level::Standard)),
    ("smtp-tls", Some(Level::Standard)),
    ("host-restriction", Some(Level::Standard)),
    ("https-only", Some(Level::Standard)),
    ("ports-changed", Some(Level::Standard)),
    ("stream-encryption", Some(Level::Standard)),
    ("tamper-detection", Some(Level::Standard)),
    ("rtp-multicast-off", Some(Level::Standard)),
    ("autoip-off", Some(Level::Advanced)),
    ("mdns-off", Some(Level::Advanced)),
    ("wsdiscovery-off", Some(Level::Advanced)),
    ("snmp-v3", Some(Level::Advanced)),
    ("dot1x", Some(Level::Advanced)),
    ("exposure", Some(Level::Entry)),
    ("backup-encrypted", Some(Level::Standard)),
    ("disposal", None),
];

/// The level at which the catalog first recommends control `id`; `None` for an unknown id and for
/// `disposal` (a hand-over step that belongs to no level).
pub fn control_level(id: &str) -> Option<Level> {
    CONTROL_LEVELS
        .iter()
        .find(|(known, _)| *known == id)
        .and_then(|(_, level)| *level)
}

/// The default HTTP port.
pub const DEFAULT_HTTP_PORT: u16 = 80;
/// The default HTTPS port.
pub const DEFAULT_HTTPS_PORT: u16 = 443;
/// The default RTSP port.
pub const DEFAULT_RTSP_PORT: u16 = 554;
/// The largest clock skew a plan may accept, in seconds.
pub const MAX_SKEW_LIMIT_S: u32 = 300;
/// `max_skew_s` when the plan does not say.
pub const DEFAULT_MAX_SKEW_S: u32 = 5;
/// The smallest RSA key a plan may accept (and the default of `min_rsa_bits`).
pub const MIN_RSA_BITS: u32 = 2048;
/// The largest `min_rsa_bits` a plan may ask for.
pub const MAX_RSA_BITS: u32 = 16384;
/// User names reserved for the administrator account camward manages (factory admin names).
pub const RESERVED_USER_NAMES: &[&str] = &["admin", "root"];

/// The protection level of the i-PRO guide: Entry (operator is the admin) < Standard (a company
/// with a full-time admin) < Advanced (large network with an IT department).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Small office where the operator is also the admin.
    Entry,
    /// A company with a full-time admin.
    Standard,
    /// A large network with an IT department.
    Advanced,
}

impl Level {
    /// The name used in the plan file.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Entry => "entry",
            Level::Standard => "standard",
            Level::Advanced => "advanced",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The role of a kept account (ONVIF `UserLevel`; Canon: administrator / authorized user, i-PRO:
/// Administrator / Camera control / Live only).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Full control.
    Administrator,
    /// Camera control, no configuration.
    Operator,
    /// Viewing only.
    User,
}

impl Role {
    /// The name used in the plan file.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Administrator => "administrator",
            Role::Operator => "operator",
            Role::User => "user",
        }
    }

    /// The ONVIF `tt:UserLevel` value.
    pub fn onvif_user_level(self) -> &'static str {
        match self {
            Role::Administrator => "Administrator",
            Role::Operator => "Operator",
            Role::User => "User",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A camera service a site may keep.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Service {
    /// Plain HTTP (web page, ONVIF).
    Http,
    /// HTTPS.
    Https,
    /// RTSP streaming.
    Rtsp,
    /// The camera's FTP server.
    Ftp,
    /// SNMP (v3 only once `snmp-v3` applies).
    Snmp,
    /// UPnP / SSDP.
    Upnp,
    /// ONVIF WS-Discovery.
    WsDiscovery,
    /// mDNS / DNS-SD announcements.
    Mdns,
    /// i-PRO Easy IP Setup.
    EasyIp,
    /// RFC 3927 link-local addressing.
    Autoip,
    /// RTP multicast streaming.
    RtpMulticast,
}

impl Service {
    /// Every service, in the order of the schema.
    pub const ALL: &'static [Service] = &[
        Service::Http,
        Service::Https,
        Service::Rtsp,
        Service::Ftp,
        Service::Snmp,
        Service::Upnp,
        Service::WsDiscovery,
        Service::Mdns,
        Service::EasyIp,
        Service::Autoip,
        Service::RtpMulticast,
    ];

    /// The name used in the plan file.
    pub fn as_str(self) -> &'static str {
        match self {
            Service::Http => "http",
            Service::Https => "https",
            Service::Rtsp => "rtsp",
            Service::Ftp => "ftp",
            Service::Snmp => "snmp",
            Service::Upnp => "upnp",
            Service::WsDiscovery => "ws-discovery",
            Service::Mdns => "mdns",
            Service::EasyIp => "easy-ip",
            Service::Autoip => "autoip",
            Service::RtpMulticast => "rtp-multicast",
        }
    }

    /// The catalog control that switches this service off, if keeping it contradicts one.
    pub fn off_control(self) -> Option<&'static str> {
        match self {
            Service::Http => Some("https-only"),
            Service::Ftp => Some("ftp-server-off"),
            Service::Upnp => Some("upnp-off"),
            Service::WsDiscovery => Some("wsdiscovery-off"),
            Service::Mdns => Some("mdns-off"),
            Service::Autoip => Some("autoip-off"),
            Service::Https
            | Service::Rtsp
            | Service::Snmp
            | Service::EasyIp
            | Service::RtpMulticast => None,
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a camera's HTTPS certificate is obtained (control `https-only`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CertificatePolicy {
    /// The key is made on the camera and its CSR signed by the site CA camward holds.
    SiteCa,
    /// The CSR is exported for the site's own CA; the certificate is uploaded later.
    CsrExport,
    /// A certificate and key prepared elsewhere are imported.
    Import,
    /// A self-signed certificate: for tests only (browsers warn and it can be impersonated).
    SelfSignedTest,
}

impl CertificatePolicy {
    /// The name used in the plan file.
    pub fn as_str(self) -> &'static str {
        match self {
            CertificatePolicy::SiteCa => "site-ca",
            CertificatePolicy::CsrExport => "csr-export",
            CertificatePolicy::Import => "import",
            CertificatePolicy::SelfSignedTest => "self-signed-test",
        }
    }
}

impl fmt::Display for CertificatePolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An NTP server of the plan.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum NtpServer {
    /// An IPv4 or IPv6 address.
    Address(IpAddr),
    /// A host name (RFC 1123).
    Host(String),
}

impl fmt::Display for NtpServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NtpServer::Address(a) => write!(f, "{a}"),
            NtpServer::Host(h) => f.write_str(h),
        }
    }
}

/// The `[time]` section (control `time-sync`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimePlan {
    /// NTP servers, at least one.
    pub ntp: Vec<NtpServer>,
    /// The clock difference to the laptop still accepted, in seconds.
    pub max_skew_s: u32,
}

/// An account kept beside the administrator (control `user-accounts`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeptUser {
    /// The user name.
    pub name: String,
    /// Its role.
    pub role: Role,
}

/// The `[ports]` section: ports moved off their defaults (control `ports-changed`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ports {
    /// The HTTP port, when the plan moves it.
    pub http: Option<u16>,
    /// The HTTPS port, when the plan moves it.
    pub https: Option<u16>,
    /// The RTSP port, when the plan moves it.
    pub rtsp: Option<u16>,
}

impl Ports {
    /// The HTTP port the camera should use: the plan's or the default.
    pub fn effective_http(&self) -> u16 {
        self.http.unwrap_or(DEFAULT_HTTP_PORT)
    }

    /// The HTTPS port the camera should use: the plan's or the default.
    pub fn effective_https(&self) -> u16 {
        self.https.unwrap_or(DEFAULT_HTTPS_PORT)
    }

    /// The RTSP port the camera should use: the plan's or the default.
    pub fn effective_rtsp(&self) -> u16 {
        self.rtsp.unwrap_or(DEFAULT_RTSP_PORT)
    }
}

/// The `[certificates]` section (control `https-only`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificatePlan {
    /// How the certificate is obtained.
    pub policy: CertificatePolicy,
    /// Subject alternative names, rendered per camera with [`Template::render_dns`].
    pub san_hosts: Vec<Template>,
    /// The smallest RSA key accepted, in bits.
    pub min_rsa_bits: u32,
}

/// How the camera's 802.1X client certificate is obtained.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Dot1xClientCertificate {
    /// The camera makes the key; the site CA kept by Camward signs its CSR.
    SiteCa,
}

/// The 802.1X method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub enum Dot1xMethod {
    /// EAP-TLS (RFC 5216): mutual certificate authentication.
    #[serde(rename = "eap-tls")]
    EapTls,
    /// EAP-MD5: refused by the checks (no server authentication, dictionary attacks).
    #[serde(rename = "eap-md5")]
    EapMd5,
}

/// The `[dot1x]` section (control `dot1x`): without it the control is a guided step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dot1xPlan {
    /// The method; always [`Dot1xMethod::EapTls`] in a checked plan.
    pub method: Dot1xMethod,
    /// The EAP identity, rendered per camera.
    pub identity: Template,
    /// The RADIUS server's CA certificate file.
    pub radius_ca: std::path::PathBuf,
    /// How the client certificate is obtained.
    pub client_certificate: Dot1xClientCertificate,
    /// The site CA's certificate file.
    pub site_ca: std::path::PathBuf,
}

/// A placeholder of a [`Template`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Placeholder {
    /// `{site}`: the plan's site name.
    Site,
    /// `{model}`: the camera's model.
    Model,
    /// `{serial}`: the camera's serial number.
    Serial,
    /// `{mac}`: the camera's MAC address.
    Mac,
    /// `{index}`: the camera's number within the site.
    Index,
}

impl Placeholder {
    /// Every placeholder.
    pub const ALL: &'static [Placeholder] = &[
        Placeholder::Site,
        Placeholder::Model,
        Placeholder::Serial,
        Placeholder::Mac,
        Placeholder::Index,
    ];

    /// The name between the braces.
    pub fn name(self) -> &'static str {
        match self {
            Placeholder::Site => "site",
            Placeholder::Model => "model",
            Placeholder::Serial => "serial",
            Placeholder::Mac => "mac",
            Placeholder::Index => "index",
        }
    }

    /// Whether the value differs from camera to camera.
    pub fn is_per_camera(self) -> bool {
        matches!(
            self,
            Placeholder::Serial | Placeholder::Mac | Placeholder::Index
        )
    }

    fn from_name(name: &str) -> Option<Placeholder> {
        Placeholder::ALL.iter().copied().find(|p| p.name() == name)
    }
}

/// The values a [`Template`] is rendered with, for one camera.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CameraNames<'a> {
    /// The plan's site name.
    pub site: &'a str,
    /// The camera's model.
    pub model: &'a str,
    /// The camera's serial number.
    pub serial: &'a str,
    /// The camera's MAC address.
    pub mac: &'a str,
    /// The camera's number within the site.
    pub index: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Literal(String),
    Placeholder(Placeholder),
}

/// A text with `{placeholder}`s, checked when the plan is read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    text: String,
    parts: Vec<Part>,
}

/// Why a template was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
enum TemplateError {
    Empty,
    Unknown(String),
    Unclosed,
    Unopened,
}

impl Template {
    fn parse(text: &str) -> Result<Template, TemplateError> {
        if text.trim().is_empty() {
            return Err(TemplateError::Empty);
        }
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(c) = rest.chars().next() {
            match c {
                '{' => {
                    let close = rest.find('}').ok_or(TemplateError::Unclosed)?;
                    let name = &rest[1..close];
                    if name.contains('{') {
                        return Err(TemplateError::Unclosed);
                    }
                    let p = Placeholder::from_name(name)
                        .ok_or_else(|| TemplateError::Unknown(format!("{{{name}}}")))?;
                    if !literal.is_empty() {
                        parts.push(Part::Literal(std::mem::take(&mut literal)));
                    }
                    parts.push(Part::Placeholder(p));
                    rest = &rest[close + 1..];
                }
                '}' => return Err(TemplateError::Unopened),
                _ => {
                    literal.push(c);
                    rest = &rest[c.len_utf8()..];
                }
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Literal(literal));
        }
        Ok(Template {
            text: text.to_string(),
            parts,
        })
    }

    /// The template as written in the plan.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The placeholders it uses, in order.
    pub fn placeholders(&self) -> impl Iterator<Item = Placeholder> + '_ {
        self.parts.iter().filter_map(|p| match p {
            Part::Placeholder(p) => Some(*p),
            Part::Literal(_) => None,
        })
    }

    /// The text with each placeholder replaced by its value as given.
    pub fn render(&self, names: &CameraNames<'_>) -> String {
        self.render_with(names, |v| v.to_string())
    }

    /// The text with each placeholder replaced by a DNS-safe form of its value (lower-case ASCII
    /// letters and digits, any other run of characters turned into one `-`), for host names:
    /// `{site}` = "Warehouse North" gives `warehouse-north`.
    pub fn render_dns(&self, names: &CameraNames<'_>) -> String {
        self.render_with(names, dns_label)
    }

    fn render_with(&self, names: &CameraNames<'_>, f: impl Fn(&str) -> String) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(l) => out.push_str(l),
                Part::Placeholder(p) => {
                    let index;
                    let value = match p {
                        Placeholder::Site => names.site,
                        Placeholder::Model => names.model,
                        Placeholder::Serial => names.serial,
                        Placeholder::Mac => names.mac,
                        Placeholder::Index => {
                            index = names.index.to_string();
                            &index
                        }
                    };
                    out.push_str(&f(value));
                }
            }
        }
        out
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn dns_label(value: &str) -> String {
    let mut out = String::new();
    for c in value.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// A validated site plan. Built only by [`parse`] / [`load`], so every value in it has passed the
/// checks of the module documentation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SitePlan {
    site: String,
    level: Level,
    time: Option<TimePlan>,
    allowed_hosts: Option<Vec<IpNet>>,
    users: Vec<KeptUser>,
    services: Vec<Service>,
    ports: Ports,
    certificates: Option<CertificatePlan>,
    naming: Option<Template>,
    skip: Vec<String>,
    dot1x: Option<Dot1xPlan>,
}

impl SitePlan {
    /// The site's name.
    pub fn site(&self) -> &str {
        &self.site
    }

    /// The protection level.
    pub fn level(&self) -> Level {
        self.level
    }

    /// Whether catalog control `id` is part of this plan: known, at or below the plan's level, and
    /// not skipped. `disposal` never applies (it is a hand-over step, run on request).
    pub fn applies(&self, id: &str) -> bool {
        applies(self.level, &self.skip, id)
    }

    /// The catalog controls this plan applies, in catalog order.
    pub fn controls(&self) -> impl Iterator<Item = &'static str> + '_ {
        CONTROL_IDS.iter().copied().filter(|id| self.applies(id))
    }

    /// The control ids listed in `controls.skip`.
    pub fn skipped(&self) -> &[String] {
        &self.skip
    }

    /// The `[time]` section; `None` only when `time-sync` is skipped and the section left out.
    pub fn time(&self) -> Option<&TimePlan> {
        self.time.as_ref()
    }

    /// The allow-list of `[access]`; `None` when the plan has none (then `host-restriction` does
    /// not apply).
    pub fn allowed_hosts(&self) -> Option<&[IpNet]> {
        self.allowed_hosts.as_deref()
    }

    /// Whether `ip` lies inside the allow-list. IPv4-mapped IPv6 addresses count as IPv4. A plan
    /// without `[access]` restricts nothing, so every address is allowed.
    pub fn allows(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        match &self.allowed_hosts {
            None => true,
            Some(nets) => nets.iter().any(|n| n.contains(&ip)),
        }
    }

    /// The accounts kept beside the administrator.
    pub fn users(&self) -> &[KeptUser] {
        &self.users
    }

    /// The services the site uses.
    pub fn services(&self) -> &[Service] {
        &self.services
    }

    /// Whether the site uses `service`.
    pub fn keeps(&self, service: Service) -> bool {
        self.services.contains(&service)
    }

    /// The `[ports]` section (all `None` when absent).
    pub fn ports(&self) -> &Ports {
        &self.ports
    }

    /// The `[certificates]` section; present whenever `https-only` applies.
    pub fn certificates(&self) -> Option<&CertificatePlan> {
        self.certificates.as_ref()
    }

    /// The naming pattern; `None` leaves camera names alone.
    pub fn naming(&self) -> Option<&Template> {
        self.naming.as_ref()
    }

    /// The `[dot1x]` section; `None`: 802.1X is left to a person.
    pub fn dot1x(&self) -> Option<&Dot1xPlan> {
        self.dot1x.as_ref()
    }
}

fn applies(level: Level, skip: &[String], id: &str) -> bool {
    control_level(id).is_some_and(|l| l <= level) && !skip.iter().any(|s| s == id)
}

/// What kind of problem a [`PlanError`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PlanErrorKind {
    /// Not valid TOML.
    Syntax,
    /// A key the schema does not have.
    UnknownField,
    /// A required key is absent.
    MissingField,
    /// A value of the wrong type (a string where an integer belongs, …).
    WrongType,
    /// A value outside a fixed set (level, role, service, certificate policy).
    UnknownValue,
    /// A value of the right type that is not acceptable (empty site, skew out of range, …).
    InvalidValue,
    /// An entry of `allowed_hosts` that is no address or network.
    InvalidCidr,
    /// An NTP server or SAN that is no address or host name.
    InvalidHost,
    /// A list that must not be empty.
    EmptyList,
    /// The same entry twice.
    Duplicate,
    /// A kept user named `admin` or `root`.
    ReservedUser,
    /// A port outside 1–65535.
    PortRange,
    /// Two services on one port.
    PortClash,
    /// A default port while `ports-changed` applies.
    DefaultPort,
    /// A kept service without a port while `ports-changed` applies.
    MissingPort,
    /// A `controls.skip` entry that is no catalog id.
    UnknownControl,
    /// A template placeholder that does not exist.
    UnknownPlaceholder,
    /// A template that is malformed (unbalanced braces, empty, no per-camera placeholder).
    InvalidTemplate,
    /// A section an applying control needs is absent.
    MissingSection,
    /// Two parts of the plan contradict each other (a kept service an applying control turns off).
    Conflict,
    /// The file could not be read.
    Io,
}

impl PlanErrorKind {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            PlanErrorKind::Syntax => "plan_syntax",
            PlanErrorKind::UnknownField => "plan_unknown_field",
            PlanErrorKind::MissingField => "plan_missing_field",
            PlanErrorKind::WrongType => "plan_wrong_type",
            PlanErrorKind::UnknownValue => "plan_unknown_value",
            PlanErrorKind::InvalidValue => "plan_invalid_value",
            PlanErrorKind::InvalidCidr => "plan_invalid_cidr",
            PlanErrorKind::InvalidHost => "plan_invalid_host",
            PlanErrorKind::EmptyList => "plan_empty_list",
            PlanErrorKind::Duplicate => "plan_duplicate",
            PlanErrorKind::ReservedUser => "plan_reserved_user",
            PlanErrorKind::PortRange => "plan_port_range",
            PlanErrorKind::PortClash => "plan_port_clash",
            PlanErrorKind::DefaultPort => "plan_default_port",
            PlanErrorKind::MissingPort => "plan_missing_port",
            PlanErrorKind::UnknownControl => "plan_unknown_control",
            PlanErrorKind::UnknownPlaceholder => "plan_unknown_placeholder",
            PlanErrorKind::InvalidTemplate => "plan_invalid_template",
            PlanErrorKind::MissingSection => "plan_missing_section",
            PlanErrorKind::Conflict => "plan_conflict",
            PlanErrorKind::Io => "plan_io",
        }
    }
}

/// A site plan that cannot be used, with where and why.
///
/// `Display`: `site plan line 7, access.allowed_hosts[2]: '10.0.0.0/33' is not an IPv4 or IPv6
/// network (CIDR)`; the line or the field is left out when there is none.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanError {
    /// The 1-based line the problem is on, when there is one.
    pub line: Option<usize>,
    /// The field path, e.g. `access.allowed_hosts[2]`; empty when no field is concerned.
    pub field: String,
    /// What is wrong, for a person.
    pub message: String,
    /// What kind of problem it is.
    pub kind: PlanErrorKind,
    /// The problems of the other sections, found in the same check (each section is checked even
    /// when another failed), in file order; `Display` shows each on a line of its own after this
    /// one. Their `also` is empty.
    pub also: Vec<PlanError>,
}

impl PlanError {
    /// A stable code for logs, JSON and the UI (e.g. `plan_invalid_cidr`).
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_located(f, "site plan", self.line, &self.field, &self.message)?;
        for also in &self.also {
            f.write_str("\n  and ")?;
            write_located(f, "site plan", also.line, &also.field, &also.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for PlanError {}

pub(crate) fn write_located(
    f: &mut fmt::Formatter<'_>,
    what: &str,
    line: Option<usize>,
    field: &str,
    message: &str,
) -> fmt::Result {
    f.write_str(what)?;
    if let Some(line) = line {
        write!(f, " line {line}")?;
    }
    if !field.is_empty() {
        write!(f, ", {field}")?;
    }
    write!(f, ": {message}")
}

/// Reads a site plan from TOML text and checks it.
///
/// ```
/// let plan = camward_policy::plan::parse(
///     "site = \"Lab\"\nlevel = \"entry\"\n[time]\nntp = [\"192.0.2.123\"]\n[services]\nkeep = [\"https\"]\n",
/// )
/// .expect("a valid plan");
/// assert!(plan.applies("time-sync"));
/// assert!(!plan.applies("https-only"));
/// ```
pub fn parse(text: &str) -> Result<SitePlan, PlanError> {
    let (raw, doc) = read_toml::<RawPlan>(text).map_err(|f| PlanError {
        line: f.line,
        field: f.field,
        message: f.message,
        kind: match f.class {
            TomlClass::Syntax => PlanErrorKind::Syntax,
            TomlClass::UnknownField => PlanErrorKind::UnknownField,
            TomlClass::MissingField => PlanErrorKind::MissingField,
            TomlClass::WrongType => PlanErrorKind::WrongType,
            TomlClass::UnknownValue => PlanErrorKind::UnknownValue,
            TomlClass::Other => PlanErrorKind::InvalidValue,
        },
        also: Vec::new(),
    })?;
    Checker { doc: &doc }.plan(raw)
}

/// Reads and checks the site plan in file `path`.
pub fn load(path: &Path) -> Result<SitePlan, PlanError> {
    let text = std::fs::read_to_string(path).map_err(|e| PlanError {
        line: None,
        field: String::new(),
        message: format!("cannot read {}: {e}", path.display()),
        kind: PlanErrorKind::Io,
        also: Vec::new(),
    })?;
    parse(&text)
}

// ---------------------------------------------------------------------------------------------
// The file as written: serde's view, before the checks.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlan {
    site: String,
    level: Level,
    time: Option<RawTime>,
    access: Option<RawAccess>,
    users: Option<RawUsers>,
    services: RawServices,
    ports: Option<RawPorts>,
    certificates: Option<RawCertificates>,
    naming: Option<RawNaming>,
    controls: Option<RawControls>,
    dot1x: Option<RawDot1x>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDot1x {
    method: Dot1xMethod,
    identity: Option<String>,
    radius_ca: String,
    client_certificate: Dot1xClientCertificate,
    site_ca: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTime {
    ntp: Vec<String>,
    max_skew_s: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAccess {
    allowed_hosts: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUsers {
    #[serde(default)]
    keep: Vec<RawUser>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUser {
    name: String,
    role: Role,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServices {
    keep: Vec<Service>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPorts {
    http: Option<i64>,
    https: Option<i64>,
    rtsp: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCertificates {
    policy: CertificatePolicy,
    #[serde(default)]
    san_hosts: Vec<String>,
    min_rsa_bits: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNaming {
    pattern: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawControls {
    #[serde(default)]
    skip: Vec<String>,
}

// ---------------------------------------------------------------------------------------------
// The checks.

/// `result`'s value, or `None` with its error added to `problems`.
fn noted<T>(problems: &mut Vec<PlanError>, result: Result<T, PlanError>) -> Option<T> {
    result.map_err(|e| problems.push(e)).ok()
}

/// The problems found, as one error: the first in the file, with the others in
/// [`PlanError::also`], in file order.
fn gathered(mut problems: Vec<PlanError>) -> PlanError {
    problems.sort_by_key(|p| p.line.unwrap_or(usize::MAX));
    let mut problems = problems.into_iter();
    let Some(mut first) = problems.next() else {
        return PlanError {
            line: None,
            field: String::new(),
            message: "the plan could not be checked".into(),
            kind: PlanErrorKind::InvalidValue,
            also: Vec::new(),
        };
    };
    first.also = problems.collect();
    first
}

struct Checker<'d, 'i> {
    doc: &'d Document<'i>,
}

impl Checker<'_, '_> {
    fn err(&self, kind: PlanErrorKind, field: &Field, message: impl Into<String>) -> PlanError {
        PlanError {
            line: self.doc.line(field),
            field: field.to_string(),
            message: message.into(),
            kind,
            also: Vec::new(),
        }
    }

    /// An error about a section that is absent: its line is the `level` line, since the level is
    /// what makes the section necessary.
    fn missing(&self, field: &Field, message: String) -> PlanError {
        PlanError {
            line: self.doc.line(&Field::root().key("level")),
            field: field.to_string(),
            message,
            kind: PlanErrorKind::MissingSection,
            also: Vec::new(),
        }
    }

    /// Checks every section, each even when one before it failed, so that a person sees every
    /// problem of the file at once (within a section, the first one).
    fn plan(&self, raw: RawPlan) -> Result<SitePlan, PlanError> {
        let root = Field::root();
        let mut problems = Vec::new();
        let site_named = !raw.site.trim().is_empty();
        if !site_named {
            problems.push(self.err(
                PlanErrorKind::InvalidValue,
                &root.key("site"),
                "the site name is empty",
            ));
        }
        let level = raw.level;
        // With a bad skip list, the sections are checked as if the catalog's ids in it were
        // skipped: a misspelt id then costs one problem, not one per section it would excuse.
        let listed: Vec<String> = raw.controls.as_ref().map_or_else(Vec::new, |c| {
            c.skip
                .iter()
                .filter(|id| CONTROL_IDS.contains(&id.as_str()))
                .cloned()
                .collect()
        });
        let skip = noted(&mut problems, self.skip(raw.controls));
        let skipped = skip.as_ref().unwrap_or(&listed);
        let applies = |id: &str| applies(level, skipped, id);
        let time = noted(
            &mut problems,
            self.time(raw.time, level, applies("time-sync")),
        );
        let allowed_hosts = noted(
            &mut problems,
            self.access(raw.access, level, applies("host-restriction")),
        );
        let users = noted(&mut problems, self.users(raw.users));
        let services = noted(&mut problems, self.services(raw.services, level, &applies));
        // Ports are checked against the kept services, so only once those are known.
        let ports = services.as_ref().and_then(|services| {
            noted(
                &mut problems,
                self.ports(raw.ports.as_ref(), level, services, &applies),
            )
        });
        let certificates = noted(
            &mut problems,
            self.certificates(raw.certificates, level, applies("https-only")),
        );
        let naming = noted(
            &mut problems,
            raw.naming.map(|n| self.naming(&n.pattern)).transpose(),
        );
        let dot1x = noted(&mut problems, raw.dot1x.map(|d| self.dot1x(d)).transpose());
        let (
            true,
            Some(skip),
            Some(time),
            Some(allowed_hosts),
            Some(users),
            Some(services),
            Some(ports),
            Some(certificates),
            Some(naming),
            Some(dot1x),
        ) = (
            site_named,
            skip,
            time,
            allowed_hosts,
            users,
            services,
            ports,
            certificates,
            naming,
            dot1x,
        )
        else {
            return Err(gathered(problems));
        };
        Ok(SitePlan {
            site: raw.site,
            level,
            time,
            allowed_hosts,
            users,
            services,
            ports,
            certificates,
            naming,
            skip,
            dot1x,
        })
    }

    fn dot1x(&self, raw: RawDot1x) -> Result<Dot1xPlan, PlanError> {
        let section = Field::root().key("dot1x");
        if raw.method == Dot1xMethod::EapMd5 {
            return Err(self.err(
                PlanErrorKind::InvalidValue,
                &section.key("method"),
                "EAP-MD5 does not authenticate the network to the camera and its password falls to                  a dictionary attack; use \"eap-tls\"",
            ));
        }
        let identity_field = section.key("identity");
        let identity = self.template(
            raw.identity.as_deref().unwrap_or("{site}-{serial}"),
            &identity_field,
        )?;
        for (name, value) in [("radius_ca", &raw.radius_ca), ("site_ca", &raw.site_ca)] {
            if value.trim().is_empty() {
                return Err(self.err(
                    PlanErrorKind::InvalidValue,
                    &section.key(name),
                    "the certificate file's path is empty",
                ));
            }
        }
        Ok(Dot1xPlan {
            method: raw.method,
            identity,
            radius_ca: raw.radius_ca.into(),
            client_certificate: raw.client_certificate,
            site_ca: raw.site_ca.into(),
        })
    }

    fn skip(&self, raw: Option<RawControls>) -> Result<Vec<String>, PlanError> {
        let list = Field::root().key("controls").key("skip");
        let skip = raw.map(|c| c.skip).unwrap_or_default();
        for (i, id) in skip.iter().enumerate() {
            let field = list.index(i);
            if !CONTROL_IDS.contains(&id.as_str()) {
                let hint = match closest(id, CONTROL_IDS) {
                    Some(c) => format!("; did you mean '{c}'?"),
                    None => String::from("; see the hardening catalog for the ids"),
                };
                return Err(self.err(
                    PlanErrorKind::UnknownControl,
                    &field,
                    format!("'{id}' is not a control of the hardening catalog{hint}"),
                ));
            }
            if let Some(first) = skip[..i].iter().position(|s| s == id) {
                return Err(self.err(
                    PlanErrorKind::Duplicate,
                    &field,
                    format!("'{id}' is listed twice (first at {})", list.index(first)),
                ));
            }
        }
        Ok(skip)
    }

    fn time(
        &self,
        raw: Option<RawTime>,
        level: Level,
        needed: bool,
    ) -> Result<Option<TimePlan>, PlanError> {
        let section = Field::root().key("time");
        let Some(raw) = raw else {
            if needed {
                return Err(self.missing(
                    &section,
                    format!(
                        "level {level} applies control time-sync, so [time] with at least one NTP \
                         server is required (or add \"time-sync\" to controls.skip)"
                    ),
                ));
            }
            return Ok(None);
        };
        let list = section.key("ntp");
        if raw.ntp.is_empty() {
            return Err(self.err(
                PlanErrorKind::EmptyList,
                &list,
                "at least one NTP server is required",
            ));
        }
        let mut ntp = Vec::new();
        for (i, entry) in raw.ntp.iter().enumerate() {
            let field = list.index(i);
            let server = match entry.parse::<IpAddr>() {
                Ok(a) => NtpServer::Address(a),
                Err(_) if is_host_name(entry) => NtpServer::Host(entry.to_ascii_lowercase()),
                Err(_) => {
                    return Err(self.err(
                        PlanErrorKind::InvalidHost,
                        &field,
                        format!(
                            "'{entry}' is not an IPv4 or IPv6 address or a host name \
                             (letters, digits, '-' and '.', no port)"
                        ),
                    ))
                }
            };
            if let Some(first) = ntp.iter().position(|s| *s == server) {
                return Err(self.err(
                    PlanErrorKind::Duplicate,
                    &field,
                    format!("'{entry}' is listed twice (first at {})", list.index(first)),
                ));
            }
            ntp.push(server);
        }
        let max_skew_s = match raw.max_skew_s {
            None => DEFAULT_MAX_SKEW_S,
            Some(s) => match u32::try_from(s) {
                Ok(s) if (1..=MAX_SKEW_LIMIT_S).contains(&s) => s,
                _ => {
                    return Err(self.err(
                        PlanErrorKind::InvalidValue,
                        &section.key("max_skew_s"),
                        format!(
                            "{s} is out of range: the accepted clock skew is 1 to \
                             {MAX_SKEW_LIMIT_S} seconds"
                        ),
                    ))
                }
            },
        };
        Ok(Some(TimePlan { ntp, max_skew_s }))
    }

    fn access(
        &self,
        raw: Option<RawAccess>,
        level: Level,
        needed: bool,
    ) -> Result<Option<Vec<IpNet>>, PlanError> {
        let list = Field::root().key("access").key("allowed_hosts");
        let Some(raw) = raw else {
            if needed {
                return Err(self.missing(
                    &list,
                    format!(
                        "level {level} applies control host-restriction, so [access] with \
                         allowed_hosts is required (or add \"host-restriction\" to controls.skip)"
                    ),
                ));
            }
            return Ok(None);
        };
        if raw.allowed_hosts.is_empty() {
            return Err(self.err(
                PlanErrorKind::EmptyList,
                &list,
                "an empty allow-list would refuse every host; list at least the networks camward \
                 and the recorders connect from",
            ));
        }
        let mut nets = Vec::new();
        for (i, entry) in raw.allowed_hosts.iter().enumerate() {
            let net = if entry.contains('/') {
                entry.parse::<IpNet>().ok().map(|n| n.trunc())
            } else {
                entry.parse::<IpAddr>().ok().map(IpNet::from)
            };
            let Some(net) = net else {
                let what = if entry.contains('/') {
                    "network (CIDR)"
                } else {
                    "address or network (CIDR)"
                };
                return Err(self.err(
                    PlanErrorKind::InvalidCidr,
                    &list.index(i),
                    format!("'{entry}' is not an IPv4 or IPv6 {what}"),
                ));
            };
            nets.push(net);
        }
        Ok(Some(nets))
    }

    fn users(&self, raw: Option<RawUsers>) -> Result<Vec<KeptUser>, PlanError> {
        let list = Field::root().key("users").key("keep");
        let mut users: Vec<KeptUser> = Vec::new();
        for (i, user) in raw
            .map(|u| u.keep)
            .unwrap_or_default()
            .into_iter()
            .enumerate()
        {
            let field = list.index(i).key("name");
            let name = user.name;
            let valid = (1..=32).contains(&name.chars().count())
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
            if !valid {
                return Err(self.err(
                    PlanErrorKind::InvalidValue,
                    &field,
                    format!("user name '{name}' must be 1 to 32 letters, digits, '.', '_' or '-'"),
                ));
            }
            if RESERVED_USER_NAMES
                .iter()
                .any(|r| r.eq_ignore_ascii_case(&name))
            {
                return Err(self.err(
                    PlanErrorKind::ReservedUser,
                    &field,
                    format!(
                        "'{name}' is reserved for the administrator account camward manages \
                         (control admin-password); keep the account under another name"
                    ),
                ));
            }
            if let Some(first) = users
                .iter()
                .position(|u| u.name.eq_ignore_ascii_case(&name))
            {
                return Err(self.err(
                    PlanErrorKind::Duplicate,
                    &field,
                    format!(
                        "user '{name}' is listed twice (first at {}; names are compared ignoring case)",
                        list.index(first).key("name")
                    ),
                ));
            }
            users.push(KeptUser {
                name,
                role: user.role,
            });
        }
        Ok(users)
    }

    fn services(
        &self,
        raw: RawServices,
        level: Level,
        applies: &dyn Fn(&str) -> bool,
    ) -> Result<Vec<Service>, PlanError> {
        let list = Field::root().key("services").key("keep");
        for (i, service) in raw.keep.iter().enumerate() {
            let field = list.index(i);
            if let Some(first) = raw.keep[..i].iter().position(|s| s == service) {
                return Err(self.err(
                    PlanErrorKind::Duplicate,
                    &field,
                    format!(
                        "'{service}' is listed twice (first at {})",
                        list.index(first)
                    ),
                ));
            }
            if let Some(control) = service.off_control().filter(|c| applies(c)) {
                return Err(self.err(
                    PlanErrorKind::Conflict,
                    &field,
                    format!(
                        "'{service}' is kept, but level {level} applies control {control}, which \
                         turns it off; remove it or add \"{control}\" to controls.skip"
                    ),
                ));
            }
        }
        let keeps = |s| raw.keep.contains(&s);
        if applies("https-only") && !keeps(Service::Https) {
            return Err(self.err(
                PlanErrorKind::Conflict,
                &list,
                format!(
                    "level {level} applies control https-only, so 'https' must be kept (or add \
                     \"https-only\" to controls.skip)"
                ),
            ));
        }
        if !keeps(Service::Https) && !keeps(Service::Http) {
            return Err(self.err(
                PlanErrorKind::Conflict,
                &list,
                "keep 'https' (or 'http'): camward manages the cameras over it",
            ));
        }
        Ok(raw.keep)
    }

    fn ports(
        &self,
        raw: Option<&RawPorts>,
        level: Level,
        services: &[Service],
        applies: &dyn Fn(&str) -> bool,
    ) -> Result<Ports, PlanError> {
        let section = Field::root().key("ports");
        let given = |name: &str| -> Option<i64> {
            let raw = raw?;
            match name {
                "http" => raw.http,
                "https" => raw.https,
                _ => raw.rtsp,
            }
        };
        // (name, service, default, configured port)
        let mut slots: Vec<(&str, Service, u16, Option<u16>)> = Vec::new();
        for (name, service, default) in [
            ("http", Service::Http, DEFAULT_HTTP_PORT),
            ("https", Service::Https, DEFAULT_HTTPS_PORT),
            ("rtsp", Service::Rtsp, DEFAULT_RTSP_PORT),
        ] {
            let port = match given(name) {
                None => None,
                Some(p) => match u16::try_from(p) {
                    Ok(p) if p != 0 => Some(p),
                    _ => {
                        return Err(self.err(
                            PlanErrorKind::PortRange,
                            &section.key(name),
                            format!("{p} is not a port (1 to 65535)"),
                        ))
                    }
                },
            };
            slots.push((name, service, default, port));
        }
        for (i, &(name, _, default, port)) in slots.iter().enumerate() {
            let Some(port) = port else { continue };
            for (j, &(other, _, other_default, other_port)) in slots.iter().enumerate() {
                if i == j {
                    continue;
                }
                let message = match other_port {
                    Some(p) if p == port && j < i => {
                        format!("port {port} is also given to ports.{other}")
                    }
                    None if other_default == port => format!(
                        "port {port} is the default port of {other}, which this plan leaves \
                         there; move {other} too or choose another port"
                    ),
                    _ => continue,
                };
                return Err(self.err(PlanErrorKind::PortClash, &section.key(name), message));
            }
            if applies("ports-changed") && port == default {
                return Err(self.err(
                    PlanErrorKind::DefaultPort,
                    &section.key(name),
                    format!(
                        "{port} is the default {name} port, so control ports-changed (level \
                         {level}) would not be satisfied; choose another port or add \
                         \"ports-changed\" to controls.skip"
                    ),
                ));
            }
        }
        if applies("ports-changed") {
            for &(name, service, default, port) in &slots {
                if port.is_none() && services.contains(&service) {
                    let field = section.key(name);
                    let line = self
                        .doc
                        .line(&section)
                        .or_else(|| self.doc.line(&Field::root().key("level")));
                    return Err(PlanError {
                        line,
                        field: field.to_string(),
                        message: format!(
                            "'{name}' is kept and level {level} applies control ports-changed, so \
                             it needs a port other than {default} here (or add \"ports-changed\" \
                             to controls.skip)"
                        ),
                        kind: PlanErrorKind::MissingPort,
                        also: Vec::new(),
                    });
                }
            }
        }
        Ok(Ports {
            http: slots[0].3,
            https: slots[1].3,
            rtsp: slots[2].3,
        })
    }

    fn certificates(
        &self,
        raw: Option<RawCertificates>,
        level: Level,
        needed: bool,
    ) -> Result<Option<CertificatePlan>, PlanError> {
        let section = Field::root().key("certificates");
        let Some(raw) = raw else {
            if needed {
                return Err(self.missing(
                    &section,
                    format!(
                        "level {level} applies control https-only, so [certificates] with a policy \
                         is required (or add \"https-only\" to controls.skip)"
                    ),
                ));
            }
            return Ok(None);
        };
        let list = section.key("san_hosts");
        let mut san_hosts = Vec::new();
        for (i, entry) in raw.san_hosts.iter().enumerate() {
            let field = list.index(i);
            let template = self.template(entry, &field)?;
            let sample = template.render_dns(&CameraNames {
                site: "site",
                model: "model",
                serial: "serial",
                mac: "00-00-5e-00-53-01",
                index: 1,
            });
            if !is_host_name(&sample) && sample.parse::<IpAddr>().is_err() {
                return Err(self.err(
                    PlanErrorKind::InvalidHost,
                    &field,
                    format!(
                        "'{entry}' does not make a host name or an address (letters, digits, '-' \
                         and '.', placeholders allowed)"
                    ),
                ));
            }
            san_hosts.push(template);
        }
        let min_rsa_bits = match raw.min_rsa_bits {
            None => MIN_RSA_BITS,
            Some(bits) => match u32::try_from(bits) {
                Ok(b) if (MIN_RSA_BITS..=MAX_RSA_BITS).contains(&b) => b,
                _ => {
                    return Err(self.err(
                        PlanErrorKind::InvalidValue,
                        &section.key("min_rsa_bits"),
                        format!(
                            "{bits} bits is out of range: RSA keys of {MIN_RSA_BITS} to \
                             {MAX_RSA_BITS} bits are accepted"
                        ),
                    ))
                }
            },
        };
        Ok(Some(CertificatePlan {
            policy: raw.policy,
            san_hosts,
            min_rsa_bits,
        }))
    }

    fn naming(&self, pattern: &str) -> Result<Template, PlanError> {
        let field = Field::root().key("naming").key("pattern");
        let template = self.template(pattern, &field)?;
        if !template.placeholders().any(Placeholder::is_per_camera) {
            return Err(self.err(
                PlanErrorKind::InvalidTemplate,
                &field,
                format!(
                    "'{pattern}' has none of {{serial}}, {{mac}}, {{index}}, so every camera would \
                     get the same name"
                ),
            ));
        }
        Ok(template)
    }

    fn template(&self, text: &str, field: &Field) -> Result<Template, PlanError> {
        Template::parse(text).map_err(|e| {
            let (kind, message) = match e {
                TemplateError::Empty => (PlanErrorKind::InvalidTemplate, "it is empty".to_string()),
                TemplateError::Unknown(p) => (
                    PlanErrorKind::UnknownPlaceholder,
                    format!(
                        "'{p}' in '{text}' is not a placeholder; use {{site}}, {{model}}, \
                         {{serial}}, {{mac}} or {{index}}"
                    ),
                ),
                TemplateError::Unclosed => (
                    PlanErrorKind::InvalidTemplate,
                    format!("'{text}' has a '{{' without its '}}'"),
                ),
                TemplateError::Unopened => (
                    PlanErrorKind::InvalidTemplate,
                    format!("'{text}' has a '}}' without its '{{'"),
                ),
            };
            self.err(kind, field, message)
        })
    }
}

/// Whether `s` is a host name by RFC 1123: dot-separated labels of 1–63 letters, digits and
/// hyphens, not starting or ending with a hyphen, 253 characters at most, one trailing dot
/// allowed. A last label of digits only is refused (RFC 3696 §2), so a mistyped IPv4 address such as
/// `192.0.2.256` is not taken for a name.
pub(crate) fn is_host_name(s: &str) -> bool {
    let s = s.strip_suffix('.').unwrap_or(s);
    if s.is_empty() || s.len() > 253 {
        return false;
    }
    let labels: Vec<&str> = s.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    labels.iter().all(label_ok)
        && labels
            .last()
            .is_some_and(|l| !l.chars().all(|c| c.is_ascii_digit()))
}

/// The candidate within edit distance 3 of `word`, nearest first, for "did you mean".
fn closest<'c>(word: &str, candidates: &[&'c str]) -> Option<&'c str> {
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|(d, _)| *d <= 3)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

// ---------------------------------------------------------------------------------------------
// Locating fields in TOML text (shared with the firmware catalog).

/// One step of a field path.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Seg {
    Key(String),
    Index(usize),
}

/// A field path such as `access.allowed_hosts[2]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Field(Vec<Seg>);

impl Field {
    /// The document itself.
    pub(crate) fn root() -> Field {
        Field::default()
    }

    /// The key `key` of this table.
    pub(crate) fn key(&self, key: &str) -> Field {
        let mut segs = self.0.clone();
        segs.push(Seg::Key(key.to_string()));
        Field(segs)
    }

    /// Entry `index` of this array.
    pub(crate) fn index(&self, index: usize) -> Field {
        let mut segs = self.0.clone();
        segs.push(Seg::Index(index));
        Field(segs)
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) => {
                    if n > 0 {
                        f.write_char('.')?;
                    }
                    let bare = !k.is_empty()
                        && k.chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                    if bare {
                        f.write_str(k)?;
                    } else {
                        write!(f, "{k:?}")?;
                    }
                }
                Seg::Index(i) => write!(f, "[{i}]")?,
            }
        }
        Ok(())
    }
}

/// A parsed TOML document with the spans of its keys and values.
pub(crate) struct Document<'i> {
    text: &'i str,
    root: Spanned<DeTable<'i>>,
}

impl Document<'_> {
    /// The 1-based line of byte `offset`.
    fn line_at(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    /// The line of `field`'s value (for a `[table]`, its header), or of the nearest enclosing
    /// field that is written in the file; `None` when not even the first key is there.
    pub(crate) fn line(&self, field: &Field) -> Option<usize> {
        fn lookup<'t, 'i>(table: &'t DeTable<'i>, key: &str) -> Option<&'t Spanned<DeValue<'i>>> {
            table
                .iter()
                .find(|(k, _)| k.get_ref() == key)
                .map(|(_, v)| v)
        }
        let mut span: Option<Range<usize>> = None;
        let mut current: Option<&Spanned<DeValue<'_>>> = None;
        for seg in &field.0 {
            let next = match (seg, current.map(|v| v.get_ref())) {
                (Seg::Key(k), None) => lookup(self.root.get_ref(), k),
                (Seg::Key(k), Some(DeValue::Table(t))) => lookup(t, k),
                (Seg::Index(i), Some(DeValue::Array(a))) => a.get(*i),
                _ => None,
            };
            let Some(next) = next else { break };
            if !next.span().is_empty() {
                span = Some(next.span());
            }
            current = Some(next);
        }
        span.map(|s| self.line_at(s.start))
    }

    /// The deepest field whose key or value span holds `offset`.
    fn field_at(&self, offset: usize) -> Option<Field> {
        fn find(value: &Spanned<DeValue<'_>>, offset: usize, path: &mut Vec<Seg>) -> bool {
            match value.get_ref() {
                DeValue::Table(t) => {
                    for (k, v) in t.iter() {
                        path.push(Seg::Key(k.get_ref().to_string()));
                        if find(v, offset, path) || k.span().contains(&offset) {
                            return true;
                        }
                        path.pop();
                    }
                }
                DeValue::Array(a) => {
                    for (i, v) in a.iter().enumerate() {
                        path.push(Seg::Index(i));
                        if find(v, offset, path) {
                            return true;
                        }
                        path.pop();
                    }
                }
                _ => {}
            }
            !path.is_empty() && value.span().contains(&offset)
        }
        let mut path = Vec::new();
        for (k, v) in self.root.get_ref().iter() {
            path.push(Seg::Key(k.get_ref().to_string()));
            if find(v, offset, &mut path) || k.span().contains(&offset) {
                return Some(Field(path));
            }
            path.pop();
        }
        None
    }

    /// The field a syntax error at `offset` is in, read from the text itself: after a syntax
    /// error the parser's recovered tree can put keys under the wrong table. The key written on
    /// the error's line, under the last `[table]` / `[[array]]` header above it (with the entry's
    /// index for an array of tables); for a header line, the header.
    fn syntax_field(&self, offset: usize) -> String {
        fn header(line: &str) -> Option<(bool, &str)> {
            let rest = line.trim_start().strip_prefix('[')?;
            let (array, rest) = match rest.strip_prefix('[') {
                Some(r) => (true, r),
                None => (false, rest),
            };
            Some((array, rest.split(']').next().unwrap_or("").trim()))
        }
        let text = self.text;
        let offset = offset.min(text.len());
        let start = text.as_bytes()[..offset]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |p| p + 1);
        let line = text[start..].lines().next().unwrap_or("");
        if let Some((_, name)) = header(line) {
            return name.to_string();
        }
        let before: Vec<&str> = text[..start].lines().collect();
        let table = before.iter().rposition(|l| header(l).is_some()).map(|at| {
            let (array, name) = header(before[at]).unwrap_or((false, ""));
            if array {
                let same = before[..at]
                    .iter()
                    .filter(|l| header(l) == Some((true, name)))
                    .count();
                format!("{name}[{same}]")
            } else {
                name.to_string()
            }
        });
        let key = line
            .split_once('=')
            .map(|(k, _)| k.trim())
            .filter(|k| !k.is_empty() && !k.contains(['[', '{', ',', '#']));
        match (table, key) {
            (Some(t), Some(k)) if !t.is_empty() => format!("{t}.{k}"),
            (_, Some(k)) => k.to_string(),
            (Some(t), None) => t,
            (None, None) => String::new(),
        }
    }
}

/// What kind of failure the TOML layer reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TomlClass {
    Syntax,
    UnknownField,
    MissingField,
    WrongType,
    UnknownValue,
    Other,
}

/// A failure of the TOML layer, located.
#[derive(Clone, Debug)]
pub(crate) struct TomlFailure {
    pub(crate) class: TomlClass,
    pub(crate) line: Option<usize>,
    pub(crate) field: String,
    pub(crate) message: String,
}

/// Parses `text` as TOML into `T`, keeping the spanned document for locating later errors.
pub(crate) fn read_toml<'i, T: Deserialize<'i>>(
    text: &'i str,
) -> Result<(T, Document<'i>), TomlFailure> {
    let (root, errors) = DeTable::parse_recoverable(text);
    let doc = Document { text, root };
    if let Some(e) = errors.first() {
        let offset = e.span().map(|s| s.start);
        return Err(TomlFailure {
            class: TomlClass::Syntax,
            line: offset.map(|o| doc.line_at(o)),
            field: offset.map(|o| doc.syntax_field(o)).unwrap_or_default(),
            message: e.message().to_string(),
        });
    }
    match toml::from_str::<T>(text) {
        Ok(value) => Ok((value, doc)),
        Err(e) => {
            let message = e.message();
            let class = if message.starts_with("unknown field") {
                TomlClass::UnknownField
            } else if message.starts_with("missing field") {
                TomlClass::MissingField
            } else if message.starts_with("invalid type")
                || message.starts_with("wanted string or table")
                || message.starts_with("invalid length")
                || message.starts_with("invalid value")
            {
                TomlClass::WrongType
            } else if message.starts_with("unknown variant") {
                TomlClass::UnknownValue
            } else {
                TomlClass::Other
            };
            // An empty span is the whole document (a missing top-level key): no line to show.
            let span = e.span().filter(|s| !s.is_empty());
            let mut field = span
                .as_ref()
                .and_then(|s| doc.field_at(s.start))
                .unwrap_or_default();
            if class == TomlClass::MissingField {
                if let Some(name) = message.split('`').nth(1) {
                    field = field.key(name);
                }
            }
            Err(TomlFailure {
                class,
                line: span.map(|s| doc.line_at(s.start)),
                field: field.to_string(),
                message: friendly(message),
            })
        }
    }
}

/// serde's wording with the Rust-side type names replaced by TOML's.
fn friendly(message: &str) -> String {
    // toml's words for a non-string where an enum (a name from a fixed set) belongs.
    if message == "wanted string or table" {
        return "invalid type, expected a string".to_string();
    }
    let (head, expected) = match message.split_once(", expected ") {
        Some((head, expected)) => (head, expected),
        None => return message.to_string(),
    };
    let expected = if expected.starts_with("struct ") || expected.starts_with("a map") {
        "a table"
    } else if expected.starts_with("enum ") {
        "a string"
    } else if expected == "a sequence" {
        "an array"
    } else if expected.starts_with("i64") || expected.starts_with("u32") {
        "an integer"
    } else {
        expected
    };
    format!("{head}, expected {expected}")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    const EXAMPLE: &str = include_str!("../data/site-plan.example.toml");

    /// The plan of the brief; its line numbers are the ones the tests below edit and assert.
    const BASE: &str = r#"site = "Warehouse North"
level = "standard"

[time]
ntp = ["ntp1.example.net", "192.0.2.123"]
max_skew_s = 5

[access]
allowed_hosts = ["192.0.2.0/24", "2001:db8::/32", "198.51.100.7"]

[users]
keep = [{ name = "operator1", role = "operator" }, { name = "viewer", role = "user" }]

[services]
keep = ["https", "rtsp"]

[ports]
http = 8080
https = 8443
rtsp = 8554

[certificates]
policy = "site-ca"
san_hosts = ["cam-{serial}.example.net"]
min_rsa_bits = 2048

[naming]
pattern = "{site}-{model}-{serial}"

[controls]
skip = ["dot1x"]
"#;

    /// BASE with line `n` (1-based) replaced by `new`.
    fn edit(n: usize, new: &str) -> String {
        let mut lines: Vec<&str> = BASE.lines().collect();
        lines[n - 1] = new;
        lines.join("\n") + "\n"
    }

    /// BASE without lines `from..=to`.
    fn without(from: usize, to: usize) -> String {
        BASE.lines()
            .enumerate()
            .filter(|(i, _)| !(from..=to).contains(&(i + 1)))
            .map(|(_, l)| format!("{l}\n"))
            .collect()
    }

    #[track_caller]
    fn fails(text: &str, code: &str, line: Option<usize>, field: &str) -> PlanError {
        let e = parse(text).expect_err("the plan must be refused");
        assert_eq!(e.code(), code, "{e}");
        assert_eq!(e.line, line, "{e}");
        assert_eq!(e.field, field, "{e}");
        let shown = e.to_string();
        let place = match (line, field) {
            (Some(l), "") => format!("site plan line {l}: "),
            (Some(l), f) => format!("site plan line {l}, {f}: "),
            (None, "") => "site plan: ".to_string(),
            (None, f) => format!("site plan, {f}: "),
        };
        assert!(shown.starts_with(&place), "{shown}");
        e
    }

    #[test]
    fn the_base_plan_is_read_completely() {
        let plan = parse(BASE).unwrap();
        assert_eq!(plan.site(), "Warehouse North");
        assert_eq!(plan.level(), Level::Standard);
        let time = plan.time().unwrap();
        assert_eq!(
            time.ntp,
            vec![
                NtpServer::Host("ntp1.example.net".into()),
                NtpServer::Address("192.0.2.123".parse().unwrap())
            ]
        );
        assert_eq!(time.max_skew_s, 5);
        assert_eq!(plan.allowed_hosts().unwrap().len(), 3);
        assert!(plan.allows("192.0.2.77".parse().unwrap()));
        assert!(plan.allows("198.51.100.7".parse().unwrap()));
        assert!(!plan.allows("198.51.100.8".parse().unwrap()));
        assert!(plan.allows("2001:db8:1::5".parse().unwrap()));
        assert!(!plan.allows("2001:db9::5".parse().unwrap()));
        assert!(
            plan.allows("::ffff:192.0.2.9".parse().unwrap()),
            "IPv4-mapped"
        );
        assert_eq!(
            plan.users(),
            &[
                KeptUser {
                    name: "operator1".into(),
                    role: Role::Operator
                },
                KeptUser {
                    name: "viewer".into(),
                    role: Role::User
                },
            ]
        );
        assert!(plan.keeps(Service::Https) && plan.keeps(Service::Rtsp));
        assert!(!plan.keeps(Service::Http));
        assert_eq!(
            *plan.ports(),
            Ports {
                http: Some(8080),
                https: Some(8443),
                rtsp: Some(8554)
            }
        );
        let certs = plan.certificates().unwrap();
        assert_eq!(certs.policy, CertificatePolicy::SiteCa);
        assert_eq!(certs.min_rsa_bits, 2048);
        let names = CameraNames {
            site: "Warehouse North",
            model: "CS-2000",
            serial: "SN0042",
            mac: "00:00:5e:00:53:01",
            index: 3,
        };
        assert_eq!(
            certs.san_hosts[0].render_dns(&names),
            "cam-sn0042.example.net"
        );
        let naming = plan.naming().unwrap();
        assert_eq!(naming.render(&names), "Warehouse North-CS-2000-SN0042");
        assert_eq!(naming.render_dns(&names), "warehouse-north-cs-2000-sn0042");
        assert_eq!(plan.skipped(), &["dot1x".to_string()]);
        assert!(plan.applies("https-only") && plan.applies("time-sync"));
        assert!(!plan.applies("mdns-off"), "advanced");
        assert!(!plan.applies("disposal"));
        assert!(!plan.applies("no-such-control"));
        assert!(plan
            .controls()
            .all(|c| control_level(c) <= Some(Level::Standard)));
    }

    #[test]
    fn every_section_is_checked_and_its_problems_shown_at_once_in_file_order() {
        let mut lines: Vec<&str> = BASE.lines().collect();
        lines[31 - 1] = r#"skip = ["dot1x", "time-sinc"]"#;
        lines[9 - 1] = r#"allowed_hosts = ["10.0.0.0/33"]"#;
        lines[28 - 1] = r#"pattern = "{site}-{colour}""#;
        let text = lines.join("\n") + "\n";
        let e = fails(
            &text,
            "plan_invalid_cidr",
            Some(9),
            "access.allowed_hosts[0]",
        );
        let also: Vec<(&str, Option<usize>, &str)> = e
            .also
            .iter()
            .map(|p| (p.code(), p.line, p.field.as_str()))
            .collect();
        assert_eq!(
            also,
            vec![
                ("plan_unknown_placeholder", Some(28), "naming.pattern"),
                ("plan_unknown_control", Some(31), "controls.skip[1]"),
            ],
            "{e}"
        );
        let shown = e.to_string();
        assert_eq!(shown.lines().count(), 3, "{shown}");
        assert!(
            shown
                .lines()
                .nth(2)
                .unwrap()
                .starts_with("  and site plan line 31, controls.skip[1]: "),
            "{shown}"
        );
    }

    #[test]
    fn a_misspelt_skip_entry_is_one_problem_not_one_per_section_it_would_excuse() {
        // No [time]: excused by the valid "time-sync" of a skip list that also holds a typo.
        let text = without(4, 7).replace(
            r#"skip = ["dot1x"]"#,
            r#"skip = ["time-sync", "dot1x", "host-restriktion"]"#,
        );
        let e = fails(&text, "plan_unknown_control", Some(27), "controls.skip[2]");
        assert!(e.also.is_empty(), "{e}");
        assert!(
            e.to_string().contains("did you mean 'host-restriction'?"),
            "{e}"
        );
    }

    #[test]
    fn the_example_file_is_valid() {
        let plan = parse(EXAMPLE).unwrap();
        assert!(!plan.site().is_empty());
        assert!(plan.time().is_some());
    }

    #[test]
    fn levels_are_ordered_and_shown_in_lower_case() {
        assert!(Level::Entry < Level::Standard && Level::Standard < Level::Advanced);
        assert_eq!(Level::Advanced.to_string(), "advanced");
        assert_eq!(Role::Operator.onvif_user_level(), "Operator");
        assert_eq!(Service::WsDiscovery.to_string(), "ws-discovery");
        assert_eq!(
            CertificatePolicy::SelfSignedTest.to_string(),
            "self-signed-test"
        );
    }

    #[test]
    fn an_entry_plan_needs_only_time_and_services() {
        let plan = parse(
            "site = \"Shop\"\nlevel = \"entry\"\n[time]\nntp = [\"pool.ntp.org\"]\n\
             [services]\nkeep = [\"http\", \"rtsp\", \"ftp\"]\n",
        )
        .unwrap();
        assert!(
            plan.allows("203.0.113.1".parse().unwrap()),
            "no [access]: no restriction"
        );
        assert!(plan.certificates().is_none());
        assert_eq!(plan.time().unwrap().max_skew_s, DEFAULT_MAX_SKEW_S);
        assert_eq!(plan.ports().effective_rtsp(), 554);
    }

    #[test]
    fn control_ids_and_levels_agree() {
        assert_eq!(CONTROL_IDS.len(), CONTROL_LEVELS.len());
        for (id, (known, _)) in CONTROL_IDS.iter().zip(CONTROL_LEVELS) {
            assert_eq!(id, known);
        }
    }

    #[test]
    fn control_ids_match_the_hardening_catalog() {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/hardening-catalog.md");
        let Ok(catalog) = std::fs::read_to_string(&path) else {
            eprintln!(
                "{} not found: the control ids are not compared",
                path.display()
            );
            return;
        };
        // The first table's rows, after its header and separator lines.
        let ids: Vec<&str> = catalog
            .lines()
            .skip_while(|l| !l.starts_with("| id |"))
            .skip(2)
            .take_while(|l| l.starts_with("| "))
            .filter_map(|l| l.strip_prefix("| "))
            .filter_map(|l| l.split(" |").next())
            .filter(|id| {
                !id.is_empty()
                    && id
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            })
            .collect();
        assert_eq!(ids, CONTROL_IDS);
    }

    #[test]
    fn syntax_errors_name_their_line() {
        let e = fails(
            &edit(5, "ntp = [\"ntp1.example.net\" \"192.0.2.123\"]"),
            "plan_syntax",
            Some(5),
            "time.ntp",
        );
        assert!(e.message.contains("array"), "{e}");
        // An array left open runs into the next line, where the parser notices.
        fails(
            &edit(5, "ntp = [\"ntp1.example.net\", "),
            "plan_syntax",
            Some(6),
            "time.max_skew_s",
        );
        fails(&edit(17, "[ports"), "plan_syntax", Some(17), "ports");
        let text = edit(12, "[[users.keep]]\nname = \"a\"\nrole = \"user\"\n[[users.keep]]\nname = \"b\nrole = \"user\"");
        fails(&text, "plan_syntax", Some(16), "users.keep[1].name");
        let e = fails(
            &edit(2, "level = \"standard"),
            "plan_syntax",
            Some(2),
            "level",
        );
        assert!(!e.message.is_empty());
        fails(&edit(3, "site = \"again\""), "plan_syntax", Some(3), "site");
    }

    #[test]
    fn unknown_fields_are_refused_with_their_line() {
        let e = fails(
            &edit(6, "max_skew = 5"),
            "plan_unknown_field",
            Some(6),
            "time.max_skew",
        );
        assert!(
            e.message.contains("max_skew_s"),
            "the known fields are listed: {e}"
        );
        fails(
            &edit(3, "owner = \"me\""),
            "plan_unknown_field",
            Some(3),
            "owner",
        );
        fails(
            &edit(
                12,
                "keep = [{ name = \"op\", role = \"operator\", pin = 1 }]",
            ),
            "plan_unknown_field",
            Some(12),
            "users.keep[0].pin",
        );
    }

    #[test]
    fn wrong_types_are_refused_with_their_line() {
        let e = fails(
            &edit(6, "max_skew_s = \"5\""),
            "plan_wrong_type",
            Some(6),
            "time.max_skew_s",
        );
        assert!(e.message.contains("expected an integer"), "{e}");
        let e = fails(
            &edit(5, "ntp = \"ntp1.example.net\""),
            "plan_wrong_type",
            Some(5),
            "time.ntp",
        );
        assert!(e.message.contains("expected an array"), "{e}");
        fails(
            &edit(5, "ntp = [\"a.example\", 7]"),
            "plan_wrong_type",
            Some(5),
            "time.ntp[1]",
        );
        let e = fails(&edit(2, "level = 2"), "plan_wrong_type", Some(2), "level");
        assert!(!e.message.contains("Level"), "no Rust names: {e}");
    }

    #[test]
    fn a_wrongly_typed_section_is_called_a_table() {
        let text =
            without(4, 6).replacen("level = \"standard\"", "level = \"standard\"\ntime = 5", 1);
        let e = fails(&text, "plan_wrong_type", Some(3), "time");
        assert!(e.message.ends_with("expected a table"), "{e}");
    }

    #[test]
    fn unknown_values_of_fixed_sets_are_refused() {
        let e = fails(
            &edit(2, "level = \"paranoid\""),
            "plan_unknown_value",
            Some(2),
            "level",
        );
        assert!(e.message.contains("`standard`"), "{e}");
        fails(
            &edit(15, "keep = [\"https\", \"telnet\"]"),
            "plan_unknown_value",
            Some(15),
            "services.keep[1]",
        );
        fails(
            &edit(12, "keep = [{ name = \"op\", role = \"guest\" }]"),
            "plan_unknown_value",
            Some(12),
            "users.keep[0].role",
        );
        fails(
            &edit(23, "policy = \"letsencrypt\""),
            "plan_unknown_value",
            Some(23),
            "certificates.policy",
        );
    }

    #[test]
    fn missing_fields_are_named() {
        fails(&without(1, 1), "plan_missing_field", None, "site");
        fails(&without(5, 5), "plan_missing_field", Some(4), "time.ntp");
        fails(
            &edit(12, "keep = [{ name = \"op\" }]"),
            "plan_missing_field",
            Some(12),
            "users.keep[0].role",
        );
        fails(
            &without(23, 23),
            "plan_missing_field",
            Some(22),
            "certificates.policy",
        );
    }

    #[test]
    fn an_invalid_cidr_is_refused_with_line_and_index() {
        let e = fails(
            &edit(
                9,
                "allowed_hosts = [\"192.0.2.0/24\", \"2001:db8::/32\", \"10.0.0.0/33\"]",
            ),
            "plan_invalid_cidr",
            Some(9),
            "access.allowed_hosts[2]",
        );
        assert_eq!(
            e.to_string(),
            "site plan line 9, access.allowed_hosts[2]: '10.0.0.0/33' is not an IPv4 or IPv6 network (CIDR)"
        );
        // One entry per line: the line is the entry's own.
        let text = edit(
            9,
            "allowed_hosts = [\n  \"192.0.2.0/24\",\n  \"gateway\",\n]",
        );
        fails(
            &text,
            "plan_invalid_cidr",
            Some(11),
            "access.allowed_hosts[1]",
        );
        fails(
            &edit(9, "allowed_hosts = [\"2001:db8::/129\"]"),
            "plan_invalid_cidr",
            Some(9),
            "access.allowed_hosts[0]",
        );
    }

    #[test]
    fn host_bits_are_cleared_and_single_addresses_are_hosts() {
        let plan = parse(&edit(
            9,
            "allowed_hosts = [\"192.0.2.77/24\", \"2001:db8::1\"]",
        ))
        .unwrap();
        let nets = plan.allowed_hosts().unwrap();
        assert_eq!(nets[0].to_string(), "192.0.2.0/24");
        assert_eq!(nets[1].to_string(), "2001:db8::1/128");
    }

    #[test]
    fn an_empty_allow_list_is_refused() {
        fails(
            &edit(9, "allowed_hosts = []"),
            "plan_empty_list",
            Some(9),
            "access.allowed_hosts",
        );
    }

    #[test]
    fn access_is_required_at_standard_unless_skipped() {
        let e = fails(
            &without(8, 9),
            "plan_missing_section",
            Some(2),
            "access.allowed_hosts",
        );
        assert!(e.message.contains("host-restriction"), "{e}");
        let text = without(8, 9).replace(
            "skip = [\"dot1x\"]",
            "skip = [\"dot1x\", \"host-restriction\"]",
        );
        assert!(parse(&text).unwrap().allowed_hosts().is_none());
    }

    #[test]
    fn ntp_servers_are_checked() {
        fails(&edit(5, "ntp = []"), "plan_empty_list", Some(5), "time.ntp");
        let e = fails(
            &edit(5, "ntp = [\"ntp1.example.net\", \"ntp..bad\"]"),
            "plan_invalid_host",
            Some(5),
            "time.ntp[1]",
        );
        assert!(e.message.contains("'ntp..bad'"), "{e}");
        fails(
            &edit(5, "ntp = [\"192.0.2.256\"]"),
            "plan_invalid_host",
            Some(5),
            "time.ntp[0]",
        );
        fails(
            &edit(5, "ntp = [\"ntp.example.net:123\"]"),
            "plan_invalid_host",
            Some(5),
            "time.ntp[0]",
        );
        fails(
            &edit(5, "ntp = [\"-ntp.example.net\"]"),
            "plan_invalid_host",
            Some(5),
            "time.ntp[0]",
        );
        fails(
            &edit(5, "ntp = [\"NTP.example.net\", \"ntp.example.net\"]"),
            "plan_duplicate",
            Some(5),
            "time.ntp[1]",
        );
        let plan = parse(&edit(5, "ntp = [\"2001:db8::123\", \"ntp.example.net.\"]")).unwrap();
        assert_eq!(
            plan.time().unwrap().ntp[0],
            NtpServer::Address("2001:db8::123".parse().unwrap())
        );
    }

    #[test]
    fn the_clock_skew_is_bounded() {
        fails(
            &edit(6, "max_skew_s = 0"),
            "plan_invalid_value",
            Some(6),
            "time.max_skew_s",
        );
        fails(
            &edit(6, "max_skew_s = 301"),
            "plan_invalid_value",
            Some(6),
            "time.max_skew_s",
        );
        fails(
            &edit(6, "max_skew_s = -4"),
            "plan_invalid_value",
            Some(6),
            "time.max_skew_s",
        );
    }

    #[test]
    fn time_is_required_unless_time_sync_is_skipped() {
        let e = fails(&without(4, 6), "plan_missing_section", Some(2), "time");
        assert!(e.message.contains("time-sync"), "{e}");
        let text = without(4, 6).replace("skip = [\"dot1x\"]", "skip = [\"time-sync\"]");
        assert!(parse(&text).unwrap().time().is_none());
    }

    #[test]
    fn users_are_checked() {
        fails(
            &edit(12, "keep = [{ name = \"op\", role = \"user\" }, { name = \"OP\", role = \"operator\" }]"),
            "plan_duplicate",
            Some(12),
            "users.keep[1].name",
        );
        let e = fails(
            &edit(
                12,
                "keep = [{ name = \"admin\", role = \"administrator\" }]",
            ),
            "plan_reserved_user",
            Some(12),
            "users.keep[0].name",
        );
        assert!(e.message.contains("reserved"), "{e}");
        fails(
            &edit(12, "keep = [{ name = \"Root\", role = \"user\" }]"),
            "plan_reserved_user",
            Some(12),
            "users.keep[0].name",
        );
        fails(
            &edit(12, "keep = [{ name = \"two words\", role = \"user\" }]"),
            "plan_invalid_value",
            Some(12),
            "users.keep[0].name",
        );
        fails(
            &edit(12, "keep = [{ name = \"\", role = \"user\" }]"),
            "plan_invalid_value",
            Some(12),
            "users.keep[0].name",
        );
        // Array-of-tables form: the line is the entry's own.
        let text = edit(12, "[[users.keep]]\nname = \"viewer\"\nrole = \"user\"\n[[users.keep]]\nname = \"viewer\"\nrole = \"user\"");
        fails(&text, "plan_duplicate", Some(16), "users.keep[1].name");
    }

    #[test]
    fn services_are_checked() {
        fails(
            &edit(15, "keep = [\"https\", \"rtsp\", \"https\"]"),
            "plan_duplicate",
            Some(15),
            "services.keep[2]",
        );
        let e = fails(
            &edit(15, "keep = [\"https\", \"http\"]"),
            "plan_conflict",
            Some(15),
            "services.keep[1]",
        );
        assert!(e.message.contains("https-only"), "{e}");
        fails(
            &edit(15, "keep = [\"https\", \"ftp\"]"),
            "plan_conflict",
            Some(15),
            "services.keep[1]",
        );
        fails(
            &edit(15, "keep = [\"rtsp\"]"),
            "plan_conflict",
            Some(15),
            "services.keep",
        );
        // Advanced turns mDNS off; keeping it there contradicts the plan.
        let text = edit(2, "level = \"advanced\"").replace(
            "keep = [\"https\", \"rtsp\"]",
            "keep = [\"https\", \"mdns\"]",
        );
        fails(&text, "plan_conflict", Some(15), "services.keep[1]");
        // rtp-multicast is "off unless used": keeping it is the "used" case.
        assert!(parse(&edit(
            15,
            "keep = [\"https\", \"rtsp\", \"rtp-multicast\", \"snmp\"]"
        ))
        .unwrap()
        .keeps(Service::RtpMulticast));
    }

    #[test]
    fn a_service_turned_off_by_a_skipped_control_may_be_kept() {
        let text = edit(15, "keep = [\"https\", \"rtsp\", \"ftp\"]")
            .replace("skip = [\"dot1x\"]", "skip = [\"ftp-server-off\"]");
        assert!(parse(&text).unwrap().keeps(Service::Ftp));
    }

    #[test]
    fn ports_are_checked() {
        let e = fails(
            &edit(19, "https = 70000"),
            "plan_port_range",
            Some(19),
            "ports.https",
        );
        assert!(e.message.contains("1 to 65535"), "{e}");
        fails(
            &edit(18, "http = 0"),
            "plan_port_range",
            Some(18),
            "ports.http",
        );
        let e = fails(
            &edit(20, "rtsp = 8443"),
            "plan_port_clash",
            Some(20),
            "ports.rtsp",
        );
        assert!(e.message.contains("ports.https"), "{e}");
        let e = fails(
            &edit(19, "https = 443"),
            "plan_default_port",
            Some(19),
            "ports.https",
        );
        assert!(e.message.contains("ports-changed"), "{e}");
        fails(
            &without(20, 20),
            "plan_missing_port",
            Some(17),
            "ports.rtsp",
        );
        fails(
            &without(17, 20),
            "plan_missing_port",
            Some(2),
            "ports.https",
        );
    }

    #[test]
    fn a_port_may_not_take_the_default_of_a_service_left_alone() {
        let text = edit(20, "").replace("skip = [\"dot1x\"]", "skip = [\"ports-changed\"]");
        let text = text.replace("https = 8443", "https = 554");
        fails(&text, "plan_port_clash", Some(19), "ports.https");
    }

    #[test]
    fn default_ports_are_fine_when_ports_changed_does_not_apply() {
        let text =
            edit(19, "https = 443").replace("skip = [\"dot1x\"]", "skip = [\"ports-changed\"]");
        let plan = parse(&text).unwrap();
        assert_eq!(plan.ports().effective_https(), 443);
        let text = without(17, 20).replace("skip = [\"dot1x\"]", "skip = [\"ports-changed\"]");
        assert_eq!(*parse(&text).unwrap().ports(), Ports::default());
    }

    #[test]
    fn certificates_are_checked() {
        fails(
            &without(22, 25),
            "plan_missing_section",
            Some(2),
            "certificates",
        );
        fails(
            &edit(25, "min_rsa_bits = 1024"),
            "plan_invalid_value",
            Some(25),
            "certificates.min_rsa_bits",
        );
        fails(
            &edit(24, "san_hosts = [\"cam-{serial}..example.net\"]"),
            "plan_invalid_host",
            Some(24),
            "certificates.san_hosts[0]",
        );
        fails(
            &edit(24, "san_hosts = [\"cam-{serail}.example.net\"]"),
            "plan_unknown_placeholder",
            Some(24),
            "certificates.san_hosts[0]",
        );
        let plan = parse(&edit(
            24,
            "san_hosts = [\"{site}-{index}.cams.example.net\", \"192.0.2.10\"]",
        ))
        .unwrap();
        assert_eq!(plan.certificates().unwrap().san_hosts.len(), 2);
    }

    #[test]
    fn dot1x_is_read_and_checked() {
        assert!(parse(BASE).unwrap().dot1x().is_none());
        let section = "[dot1x]\nmethod = \"eap-tls\"\nidentity = \"dot1x-{serial}\"\nradius_ca = \"radius-ca.pem\"\nclient_certificate = \"site-ca\"\nsite_ca = \"site-ca/lab.pem\"\n";
        let text = format!("{BASE}{section}");
        let plan = parse(&text).unwrap();
        let dot1x = plan.dot1x().unwrap();
        assert_eq!(dot1x.method, Dot1xMethod::EapTls);
        assert_eq!(dot1x.identity.as_str(), "dot1x-{serial}");
        assert_eq!(dot1x.radius_ca, std::path::PathBuf::from("radius-ca.pem"));
        assert_eq!(dot1x.client_certificate, Dot1xClientCertificate::SiteCa);
        // BASE has 31 lines: the section starts on line 32.
        fails(
            &text.replace("\"eap-tls\"", "\"eap-md5\""),
            "plan_invalid_value",
            Some(33),
            "dot1x.method",
        );
        fails(
            &text.replace("\"eap-tls\"", "\"peap\""),
            "plan_unknown_value",
            Some(33),
            "dot1x.method",
        );
        fails(
            &text.replace("dot1x-{serial}", "dot1x-{serail}"),
            "plan_unknown_placeholder",
            Some(34),
            "dot1x.identity",
        );
        fails(
            &text.replace("\"radius-ca.pem\"", "\" \""),
            "plan_invalid_value",
            Some(35),
            "dot1x.radius_ca",
        );
        fails(
            &text.replace("radius_ca = \"radius-ca.pem\"\n", ""),
            "plan_missing_field",
            Some(32),
            "dot1x.radius_ca",
        );
        fails(
            &text.replace("\"site-ca\"\n", "\"import\"\n"),
            "plan_unknown_value",
            Some(36),
            "dot1x.client_certificate",
        );
        fails(
            &format!("{text}eap = \"x\"\n"),
            "plan_unknown_field",
            Some(38),
            "dot1x.eap",
        );
        let default_identity = parse(&text.replace("identity = \"dot1x-{serial}\"\n", "")).unwrap();
        assert_eq!(
            default_identity.dot1x().unwrap().identity.as_str(),
            "{site}-{serial}"
        );
    }

    #[test]
    fn naming_placeholders_are_checked() {
        let e = fails(
            &edit(28, "pattern = \"{site}-{modle}-{serial}\""),
            "plan_unknown_placeholder",
            Some(28),
            "naming.pattern",
        );
        assert!(e.message.contains("'{modle}'"), "{e}");
        fails(
            &edit(28, "pattern = \"{site}-{serial\""),
            "plan_invalid_template",
            Some(28),
            "naming.pattern",
        );
        fails(
            &edit(28, "pattern = \"{site}-serial}\""),
            "plan_invalid_template",
            Some(28),
            "naming.pattern",
        );
        fails(
            &edit(28, "pattern = \"{site}-{model}\""),
            "plan_invalid_template",
            Some(28),
            "naming.pattern",
        );
        fails(
            &edit(28, "pattern = \"\""),
            "plan_invalid_template",
            Some(28),
            "naming.pattern",
        );
    }

    #[test]
    fn skipped_controls_must_exist_once() {
        let e = fails(
            &edit(31, "skip = [\"dot1x\", \"dot1\"]"),
            "plan_unknown_control",
            Some(31),
            "controls.skip[1]",
        );
        assert!(e.message.contains("did you mean 'dot1x'"), "{e}");
        fails(
            &edit(31, "skip = [\"telnet-off\"]"),
            "plan_unknown_control",
            Some(31),
            "controls.skip[0]",
        );
        fails(
            &edit(31, "skip = [\"dot1x\", \"dot1x\"]"),
            "plan_duplicate",
            Some(31),
            "controls.skip[1]",
        );
    }

    #[test]
    fn an_empty_site_name_is_refused() {
        fails(
            &edit(1, "site = \"  \""),
            "plan_invalid_value",
            Some(1),
            "site",
        );
    }

    #[test]
    fn load_reports_an_unreadable_file() {
        let e = load(Path::new("/nonexistent/site-plan.toml")).unwrap_err();
        assert_eq!(e.code(), "plan_io");
        assert_eq!(e.line, None);
        assert!(
            e.to_string()
                .starts_with("site plan: cannot read /nonexistent/site-plan.toml"),
            "{e}"
        );
    }

    #[test]
    fn host_names_follow_rfc_1123() {
        for good in [
            "a",
            "ntp1.example.net",
            "x-1.example",
            "ntp.example.net.",
            "1a.example",
        ] {
            assert!(is_host_name(good), "{good}");
        }
        for bad in [
            "",
            ".",
            "a..b",
            "-a",
            "a-",
            "a_b",
            "a b",
            "192.0.2.1",
            "10.0.0.256",
            &"a".repeat(64),
        ] {
            assert!(!is_host_name(bad), "{bad}");
        }
    }

    fn quoted_list(items: Vec<String>) -> String {
        let items: Vec<String> = items.iter().map(|i| format!("{i:?}")).collect();
        format!("[{}]", items.join(", "))
    }

    /// Well-formed plans with values right and wrong, so generated texts reach the checks and not
    /// only the TOML parser.
    fn plausible_plan() -> impl Strategy<Value = String> {
        let one_of =
            |xs: &'static [&'static str]| proptest::sample::select(xs).prop_map(String::from);
        // Mostly right values, a wrong one now and then: each wrong value ends the checks early.
        let mostly = |right: &'static [&'static str], wrong: &'static [&'static str]| prop_oneof![12 => one_of(right), 1 => one_of(wrong)];
        let level = mostly(&["entry", "standard", "advanced"], &["paranoid"]);
        let ntp = proptest::option::weighted(
            0.85,
            (
                proptest::collection::vec(
                    prop_oneof![
                        12 => mostly(&["ntp1.example.net", "192.0.2.123", "2001:db8::1"], &["a..b"]),
                        1 => "[a-z0-9.:-]{0,12}",
                    ],
                    0..4,
                ),
                proptest::option::of(-5i64..400),
            ),
        );
        let access = proptest::option::weighted(
            0.85,
            proptest::collection::vec(
                prop_oneof![
                    12 => mostly(&["192.0.2.0/24", "2001:db8::/32", "198.51.100.7"], &["10.0.0.0/33"]),
                    1 => "[0-9a-f.:/]{0,18}",
                ],
                0..4,
            ),
        );
        let users = proptest::collection::vec(
            (
                mostly(&["op", "OP", "viewer"], &["admin", "Root", "a b", ""]),
                mostly(&["operator", "user", "administrator"], &["guest"]),
            ),
            0..3,
        );
        let services = proptest::collection::vec(
            mostly(
                &[
                    "https",
                    "http",
                    "rtsp",
                    "ftp",
                    "mdns",
                    "upnp",
                    "snmp",
                    "rtp-multicast",
                ],
                &["telnet"],
            ),
            0..4,
        );
        let port = || {
            proptest::option::of(prop_oneof![
                Just(80i64),
                Just(443),
                Just(554),
                Just(8443),
                -1i64..70000
            ])
        };
        let ports = proptest::option::weighted(0.85, (port(), port(), port()));
        let certificates = proptest::option::weighted(
            0.85,
            (
                mostly(&["site-ca", "import", "self-signed-test"], &["x"]),
                proptest::collection::vec(
                    one_of(&[
                        "cam-{serial}.example.net",
                        "{site}.example",
                        "{nope}.x",
                        "a..b",
                        "192.0.2.1",
                    ]),
                    0..2,
                ),
                proptest::option::of(prop_oneof![Just(2048i64), Just(1024), Just(99999)]),
            ),
        );
        let naming = proptest::option::of(prop_oneof![
            one_of(&[
                "{site}-{model}-{serial}",
                "{site}",
                "{mac",
                "x}",
                "",
                "{index}"
            ]),
            "[a-z{}-]{0,12}",
        ]);
        let skip = proptest::collection::vec(
            prop_oneof![
                12 => proptest::sample::select(CONTROL_IDS).prop_map(String::from),
                1 => Just("dot1".to_string())
            ],
            0..4,
        );
        (
            level,
            ntp,
            access,
            users,
            services,
            ports,
            certificates,
            naming,
            skip,
        )
            .prop_map(
                |(level, ntp, access, users, services, ports, certificates, naming, skip)| {
                    let mut t = format!("site = \"S\"\nlevel = \"{level}\"\n");
                    if let Some((servers, skew)) = ntp {
                        t += &format!("[time]\nntp = {}\n", quoted_list(servers));
                        if let Some(skew) = skew {
                            t += &format!("max_skew_s = {skew}\n");
                        }
                    }
                    if let Some(hosts) = access {
                        t += &format!("[access]\nallowed_hosts = {}\n", quoted_list(hosts));
                    }
                    t += "[users]\nkeep = [";
                    for (name, role) in users {
                        t += &format!("{{ name = {name:?}, role = {role:?} }}, ");
                    }
                    t += "]\n";
                    t += &format!("[services]\nkeep = {}\n", quoted_list(services));
                    if let Some((http, https, rtsp)) = ports {
                        t += "[ports]\n";
                        for (name, port) in [("http", http), ("https", https), ("rtsp", rtsp)] {
                            if let Some(port) = port {
                                t += &format!("{name} = {port}\n");
                            }
                        }
                    }
                    if let Some((policy, sans, bits)) = certificates {
                        t += &format!(
                            "[certificates]\npolicy = {policy:?}\nsan_hosts = {}\n",
                            quoted_list(sans)
                        );
                        if let Some(bits) = bits {
                            t += &format!("min_rsa_bits = {bits}\n");
                        }
                    }
                    if let Some(pattern) = naming {
                        t += &format!("[naming]\npattern = {pattern:?}\n");
                    }
                    t += &format!("[controls]\nskip = {}\n", quoted_list(skip));
                    t
                },
            )
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(text in ".{0,400}") {
            let _ = parse(&text);
        }

        #[test]
        fn plausible_plans_never_panic_and_errors_point_into_the_text(text in plausible_plan()) {
            if let Err(e) = parse(&text) {
                let last = text.lines().count().max(1);
                if let Some(line) = e.line {
                    prop_assert!((1..=last + 1).contains(&line), "{} (of {} lines)", e, last);
                }
                prop_assert!(!e.message.is_empty());
            }
        }
    }
}
