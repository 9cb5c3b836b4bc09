//! Everything a simulated camera remembers: the Device Management settings, its users, its log, its
//! keystore and media profiles. Serialized as one JSON document per camera under `--state-dir`.

use std::collections::VecDeque;
use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::access::UserLevel;
use crate::media2::MediaState;
use crate::security::Keystore;

/// How many system log entries a camera keeps; older ones are dropped, like a firmware ring buffer.
pub const LOG_CAPACITY: usize = 1000;

/// A camera account (tt:User). The password is kept in clear because HTTP Digest needs it on the
/// server side; it never appears in `Debug` output.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct User {
    /// Login name.
    pub name: String,
    /// Password (secret).
    pub password: String,
    /// ONVIF user level.
    pub level: UserLevel,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("name", &self.name)
            .field("password", &"<redacted>")
            .field("level", &self.level)
            .finish()
    }
}

/// A manually configured NTP server (tt:NetworkHost).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub enum NtpServer {
    /// An IPv4 address.
    Ipv4(Ipv4Addr),
    /// An IPv6 address, as written.
    Ipv6(String),
    /// A DNS name.
    Dns(String),
}

/// NTP settings (tt:NTPInformation).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Ntp {
    /// Whether the NTP servers come from DHCP.
    pub from_dhcp: bool,
    /// Manually configured servers.
    pub manual: Vec<NtpServer>,
}

/// Date and time settings (tt:SystemDateTime).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct DateTimeSettings {
    /// True for `NTP`, false for `Manual`.
    pub ntp: bool,
    /// POSIX TZ string.
    pub tz: String,
    /// Daylight saving in effect.
    pub daylight_savings: bool,
}

/// One protocol of GetNetworkProtocols.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Protocol {
    /// `HTTP`, `HTTPS` or `RTSP`.
    pub name: String,
    /// Whether it is enabled.
    pub enabled: bool,
    /// Configured port. For HTTP/HTTPS the loopback listener keeps its actual port; this is what
    /// the camera reports and what a client configured.
    pub port: u16,
}

/// IPv4 configuration of the one interface `eth0`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Interface {
    /// Interface token.
    pub token: String,
    /// Whether the interface is enabled.
    pub enabled: bool,
    /// MAC address, `aa:bb:cc:dd:ee:ff`.
    pub mac: String,
    /// DHCP on or off.
    pub dhcp: bool,
    /// Manual IPv4 addresses with prefix length.
    pub manual: Vec<(Ipv4Addr, u8)>,
    /// The DHCP-assigned address reported while DHCP is on.
    pub from_dhcp: (Ipv4Addr, u8),
    /// MTU.
    pub mtu: u32,
}

/// Zero-configuration (link-local, RFC 3927) settings.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ZeroConfiguration {
    /// Interface the settings apply to.
    pub interface: String,
    /// Whether link-local addressing is on.
    pub enabled: bool,
    /// The link-local address in use.
    pub address: Ipv4Addr,
}

/// Allow or deny list (tt:IPAddressFilterType).
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub enum FilterType {
    /// Only listed addresses may connect (an empty list allows everyone).
    Allow,
    /// Listed addresses are refused.
    Deny,
}

/// IP address filter (tt:IPAddressFilter), enforced on every connection and request.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct IpFilter {
    /// Allow or deny.
    pub kind: FilterType,
    /// IPv4 prefixes.
    pub ipv4: Vec<(Ipv4Addr, u8)>,
    /// IPv6 prefixes.
    pub ipv6: Vec<(std::net::Ipv6Addr, u8)>,
}

impl IpFilter {
    /// Whether a peer at `addr` may talk to the camera.
    pub fn admits(&self, addr: std::net::IpAddr) -> bool {
        let addr = match addr {
            std::net::IpAddr::V6(v6) => v6
                .to_ipv4_mapped()
                .map(std::net::IpAddr::V4)
                .unwrap_or(std::net::IpAddr::V6(v6)),
            v4 => v4,
        };
        let listed = match addr {
            std::net::IpAddr::V4(a) => self.ipv4.iter().any(|(net, len)| {
                let mask = if *len == 0 {
                    0
                } else {
                    u32::MAX << (32 - u32::from((*len).min(32)))
                };
                u32::from(a) & mask == u32::from(*net) & mask
            }),
            std::net::IpAddr::V6(a) => self.ipv6.iter().any(|(net, len)| {
                let mask = if *len == 0 {
                    0
                } else {
                    u128::MAX << (128 - u32::from((*len).min(128)))
                };
                u128::from(a) & mask == u128::from(*net) & mask
            }),
        };
        match self.kind {
            FilterType::Allow => (self.ipv4.is_empty() && self.ipv6.is_empty()) || listed,
            FilterType::Deny => !listed,
        }
    }
}

/// Which system log an entry belongs to (tt:SystemLogType).
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub enum LogKind {
    /// The system log.
    System,
    /// The access log (logins, refusals).
    Access,
}

/// One log line.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct LogEntry {
    /// Camera-clock time, RFC 3339.
    pub time: String,
    /// Which log.
    pub kind: LogKind,
    /// Text. Never contains a password.
    pub message: String,
}

/// The whole persisted state of one camera.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CameraState {
    /// Accounts; empty in factory state.
    pub users: Vec<User>,
    /// NTP settings.
    pub ntp: Ntp,
    /// Date/time mode.
    pub date_time: DateTimeSettings,
    /// Offset of the camera clock from the host clock, in seconds.
    pub clock_offset_s: i64,
    /// Hostname.
    pub hostname: String,
    /// Hostname from DHCP.
    pub hostname_from_dhcp: bool,
    /// DNS from DHCP.
    pub dns_from_dhcp: bool,
    /// DNS search domains.
    pub dns_search: Vec<String>,
    /// Manual DNS servers.
    pub dns_manual: Vec<Ipv4Addr>,
    /// Default gateway.
    pub gateway: Vec<Ipv4Addr>,
    /// Network interfaces.
    pub interfaces: Vec<Interface>,
    /// HTTP, HTTPS, RTSP.
    pub protocols: Vec<Protocol>,
    /// WS-Discovery mode: true for `Discoverable`.
    pub discoverable: bool,
    /// Whether the camera announces itself and answers on mDNS / DNS-SD (Axis
    /// `Network.Bonjour.Enabled`); on out of the box, off after the hardening control mdns-off.
    #[serde(default = "enabled")]
    pub mdns: bool,
    /// i-PRO "Easy IP Setup valid period", in seconds: the camera answers Easy IP Setup searches
    /// only this long after each (re)boot; `None` for unlimited. 20 minutes out of the box (only
    /// i-PRO cameras speak Easy IP Setup, see [`crate::easyip`]); the hardening control
    /// easy-ip-setup-limited keeps it limited.
    #[serde(default = "easy_ip_period")]
    pub easy_ip_period_s: Option<u64>,
    /// Whether the camera's FTP server listens ([`crate::ftp`]): on out of the box on Canon and
    /// i-PRO, off on the others; off after the hardening control ftp-server-off (Canon
    /// `[Server] > [Server] > [FTP Server]`; i-PRO "FTP access to camera" = Forbid). State files
    /// written before it load with it off, as do the services below.
    #[serde(default)]
    pub ftp_server: bool,
    /// Whether the SNMP agent answers SNMPv1/v2c requests that carry [`snmp_community`]
    /// ([`crate::snmp`]): on out of the box on i-PRO (its default is v1/v2), off on the others
    /// (Canon ships with v1/v2c disabled); off after the hardening control snmp-v3.
    ///
    /// [`snmp_community`]: CameraState::snmp_community
    #[serde(default)]
    pub snmp_v2c: bool,
    /// The SNMPv1/v2c read community: `public` out of the box.
    #[serde(default = "public_community")]
    pub snmp_community: String,
    /// Whether the camera speaks UPnP: SSDP announcements and answers ([`crate::ssdp`]) and its
    /// device description. On out of the box on i-PRO, off on the others; off after upnp-off.
    #[serde(default)]
    pub upnp: bool,
    /// Whether the HTTP and RTSP servers also offer (and accept) Basic authentication beside
    /// Digest ([`crate::rtsp`], [`crate::settings_page`]): off out of the box except on Canon, whose
    /// admin may pick Basic (`[Server] > [Server] > [Authentication Method]`); off after
    /// digest-auth.
    #[serde(default)]
    pub rtsp_basic: bool,
    /// Whether a guest (anyone, without credentials) may view the snapshot
    /// ([`crate::settings_page`]): on out of the box on Canon only; off after guest-off.
    #[serde(default)]
    pub guest_access: bool,
    /// Zero-configuration.
    pub zero_conf: ZeroConfiguration,
    /// IP address filter.
    pub ip_filter: IpFilter,
    /// Configurable scopes (the fixed ones are derived).
    pub scopes: Vec<String>,
    /// System and access log, newest last, capped at [`LOG_CAPACITY`].
    pub log: VecDeque<LogEntry>,
    /// Advanced Security keystore.
    pub keystore: Keystore,
    /// Media2 profiles and encoders.
    pub media: MediaState,
    /// What the vendor APIs (Axis VAPIX, Hikvision ISAPI) keep apart from ONVIF.
    #[serde(default)]
    pub vendor: VendorState,
}

/// Vendor-API state. On both vendors' firmware these accounts are separate from the ONVIF user
/// list ([`CameraState::users`]).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct VendorState {
    /// Axis VAPIX accounts (`pwdgrp.cgi`); `root` exists once its password is set.
    pub vapix_users: Vec<User>,
    /// Hikvision: whether the camera has been activated.
    pub activated: bool,
    /// Hikvision ISAPI accounts; `admin` exists once the camera is activated.
    pub isapi_users: Vec<User>,
    /// Hikvision: whether the ONVIF service is enabled (`/ISAPI/System/Network/Integrate`).
    pub onvif_enabled: bool,
}

/// The default of settings that are on out of the box, for state files written before them.
fn enabled() -> bool {
    true
}

/// The factory Easy IP Setup valid period, also for state files written before it.
fn easy_ip_period() -> Option<u64> {
    Some(crate::easyip::DEFAULT_PERIOD_S)
}

/// The factory SNMPv1/v2c community, also for state files written before it.
fn public_community() -> String {
    "public".into()
}

impl CameraState {
    /// The factory state of camera number `index` with MAC `mac`.
    pub fn factory(index: usize, mac: &str, http_port: u16, https_port: u16) -> Self {
        let octet = (index % 250) as u8 + 2;
        Self {
            users: Vec::new(),
            ntp: Ntp {
                from_dhcp: true,
                manual: Vec::new(),
            },
            date_time: DateTimeSettings {
                ntp: false,
                tz: "UTC0".into(),
                daylight_savings: false,
            },
            clock_offset_s: 0,
            hostname: format!("camsim-{}", mac.replace(':', "")[6..].to_owned()),
            hostname_from_dhcp: false,
            dns_from_dhcp: true,
            dns_search: Vec::new(),
            dns_manual: Vec::new(),
            gateway: vec![Ipv4Addr::new(192, 168, 0, 1)],
            interfaces: vec![Interface {
                token: "eth0".into(),
                enabled: true,
                mac: mac.to_owned(),
                dhcp: true,
                manual: Vec::new(),
                from_dhcp: (Ipv4Addr::new(192, 168, 0, octet), 24),
                mtu: 1500,
            }],
            protocols: vec![
                Protocol {
                    name: "HTTP".into(),
                    enabled: true,
                    port: http_port,
                },
                Protocol {
                    name: "HTTPS".into(),
                    enabled: true,
                    port: https_port,
                },
                Protocol {
                    name: "RTSP".into(),
                    enabled: true,
                    port: 554,
                },
            ],
            discoverable: true,
            mdns: true,
            easy_ip_period_s: easy_ip_period(),
            ftp_server: false,
            snmp_v2c: false,
            snmp_community: public_community(),
            upnp: false,
            rtsp_basic: false,
            guest_access: false,
            zero_conf: ZeroConfiguration {
                interface: "eth0".into(),
                enabled: true,
                address: Ipv4Addr::new(169, 254, 10, octet),
            },
            ip_filter: IpFilter {
                kind: FilterType::Allow,
                ipv4: Vec::new(),
                ipv6: Vec::new(),
            },
            scopes: vec![
                "onvif://www.onvif.org/name/Camsim".into(),
                "onvif://www.onvif.org/location/unknown".into(),
            ],
            log: VecDeque::new(),
            keystore: Keystore::default(),
            media: MediaState::default(),
            vendor: VendorState::default(),
        }
    }

    /// The factory state with the service defaults of `flavour` (the flavour-independent state
    /// of [`CameraState::factory`] has every service of [`crate::services`] off).
    pub fn with_flavour_defaults(mut self, flavour: crate::Flavour) -> Self {
        use crate::Flavour;
        self.ftp_server = matches!(flavour, Flavour::Canon | Flavour::IPro);
        self.snmp_v2c = flavour == Flavour::IPro;
        self.snmp_community = public_community();
        self.upnp = flavour == Flavour::IPro;
        self.rtsp_basic = flavour == Flavour::Canon;
        self.guest_access = flavour == Flavour::Canon;
        self
    }

    /// Whether the camera is still in factory state (no account yet, anonymous access allowed).
    pub fn is_factory(&self) -> bool {
        self.users.is_empty()
    }

    /// Enabled state and configured port of a protocol.
    pub fn protocol(&self, name: &str) -> Option<&Protocol> {
        self.protocols.iter().find(|p| p.name == name)
    }

    /// Appends a log entry, dropping the oldest beyond [`LOG_CAPACITY`].
    pub fn log(&mut self, now: OffsetDateTime, kind: LogKind, message: impl Into<String>) {
        let time = now
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        self.log.push_back(LogEntry {
            time,
            kind,
            message: message.into(),
        });
        while self.log.len() > LOG_CAPACITY {
            self.log.pop_front();
        }
    }

    /// The fixed scopes (ONVIF Core §7.3.2.1): profile, hardware, and the Profile Q state.
    pub fn fixed_scopes(&self, model: &str) -> Vec<String> {
        vec![
            "onvif://www.onvif.org/Profile/Streaming".into(),
            "onvif://www.onvif.org/Profile/T".into(),
            format!("onvif://www.onvif.org/hardware/{model}"),
            if self.is_factory() {
                "onvif://www.onvif.org/Profile/Q/FactoryDefault".into()
            } else {
                "onvif://www.onvif.org/Profile/Q/Operational".into()
            },
        ]
    }
}
