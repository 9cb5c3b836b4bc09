//! Device Management operations (devicemgmt.wsdl, ONVIF Core §8).
use std::fmt;

use time::OffsetDateTime;

use crate::camera::{Camera, Service};
use crate::transport::Transport;

use crate::error::{malformed, OnvifError};
use crate::ns::{TDS, TT};
use crate::xml::{child, children, opt_text, parse_bool, parse_num, req_child, req_text, text};

/// How the camera sets its clock (tt:SetDateTimeType).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum DateTimeType {
    /// Set by hand (SetSystemDateAndTime with UTCDateTime).
    Manual,
    /// Synchronised with NTP.
    #[serde(rename = "NTP")]
    Ntp,
}

/// Reply of GetSystemDateAndTime (pre-authentication, ONVIF Core §8.3.10).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SystemDateAndTime {
    /// Manual or NTP.
    pub date_time_type: DateTimeType,
    /// Daylight saving in effect.
    pub daylight_savings: bool,
    /// POSIX TZ string, when the camera reports one.
    pub time_zone: Option<String>,
    /// The camera's UTC time, when it reports one (it is optional in the schema).
    pub utc: Option<OffsetDateTime>,
}

/// Reads a `tds:GetSystemDateAndTimeResponse` payload element.
pub(crate) fn parse_system_date_and_time(
    payload: roxmltree::Node<'_, '_>,
) -> Result<SystemDateAndTime, OnvifError> {
    let sdt = req_child(payload, TDS, "SystemDateAndTime")?;
    let date_time_type = match req_text(sdt, TT, "DateTimeType")?.as_str() {
        "Manual" => DateTimeType::Manual,
        "NTP" => DateTimeType::Ntp,
        other => return Err(malformed(format!("unknown DateTimeType {other:?}"))),
    };
    let daylight_savings = parse_bool(&req_text(sdt, TT, "DaylightSavings")?)?;
    let time_zone = child(sdt, TT, "TimeZone")
        .map(|tz| req_text(tz, TT, "TZ"))
        .transpose()?;
    let utc = child(sdt, TT, "UTCDateTime")
        .map(parse_date_time)
        .transpose()?;
    Ok(SystemDateAndTime {
        date_time_type,
        daylight_savings,
        time_zone,
        utc,
    })
}

/// Reads a `tt:DateTime` (separate Date and Time children, onvif.xsd) as a UTC instant.
fn parse_date_time(node: roxmltree::Node<'_, '_>) -> Result<OffsetDateTime, OnvifError> {
    let date = req_child(node, TT, "Date")?;
    let time_node = req_child(node, TT, "Time")?;
    let year: i32 = parse_num(&req_text(date, TT, "Year")?)?;
    let month: u8 = parse_num(&req_text(date, TT, "Month")?)?;
    let day: u8 = parse_num(&req_text(date, TT, "Day")?)?;
    let hour: u8 = parse_num(&req_text(time_node, TT, "Hour")?)?;
    let minute: u8 = parse_num(&req_text(time_node, TT, "Minute")?)?;
    let second: u8 = parse_num(&req_text(time_node, TT, "Second")?)?;
    let month = time::Month::try_from(month).map_err(|_| malformed("month out of range"))?;
    let date = time::Date::from_calendar_date(year, month, day)
        .map_err(|_| malformed("date out of range"))?;
    // Some cameras report a leap second as 60; clamp it rather than reject the whole clock.
    let t = time::Time::from_hms(hour, minute, second.min(59))
        .map_err(|_| malformed("time out of range"))?;
    Ok(time::PrimitiveDateTime::new(date, t).assume_utc())
}

// ---------------------------------------------------------------------------------------------
// Writing payloads.
// ---------------------------------------------------------------------------------------------

/// A request payload being written: one element that declares its own namespaces. Text and
/// attribute values are escaped by quick-xml.
pub(crate) struct Payload {
    w: quick_xml::Writer<Vec<u8>>,
}

impl Payload {
    /// Opens the root element `name` (prefixed) declaring the given `xmlns:*` namespaces.
    pub(crate) fn new(name: &str, namespaces: &[(&str, &str)]) -> Self {
        let mut p = Payload {
            w: quick_xml::Writer::new(Vec::new()),
        };
        p.start_with(name, namespaces);
        p
    }

    fn emit(&mut self, event: quick_xml::events::Event<'_>) {
        // Writing into a Vec<u8> has no I/O that could fail.
        self.w
            .write_event(event)
            .expect("writing to a Vec cannot fail");
    }

    /// Opens an element with attributes.
    pub(crate) fn start_with(&mut self, name: &str, attrs: &[(&str, &str)]) -> &mut Self {
        let start = quick_xml::events::BytesStart::new(name).with_attributes(attrs.iter().copied());
        self.emit(quick_xml::events::Event::Start(start));
        self
    }

    /// Opens an element.
    pub(crate) fn start(&mut self, name: &str) -> &mut Self {
        self.start_with(name, &[])
    }

    /// Closes an element.
    pub(crate) fn end(&mut self, name: &str) -> &mut Self {
        self.emit(quick_xml::events::Event::End(
            quick_xml::events::BytesEnd::new(name),
        ));
        self
    }

    /// Writes `<name>text</name>`.
    pub(crate) fn leaf(&mut self, name: &str, text: &str) -> &mut Self {
        self.start(name);
        self.emit(quick_xml::events::Event::Text(
            quick_xml::events::BytesText::new(text),
        ));
        self.end(name)
    }

    /// Writes `<name>true|false</name>`.
    pub(crate) fn flag(&mut self, name: &str, value: bool) -> &mut Self {
        self.leaf(name, if value { "true" } else { "false" })
    }

    /// Closes the root element `name` and returns the text.
    pub(crate) fn finish(mut self, name: &str) -> String {
        self.end(name);
        String::from_utf8_lossy(&self.w.into_inner()).into_owned()
    }
}

/// A payload with no content: `<tds:Action xmlns:tds="..." xmlns:tt="..."/>`.
pub(crate) fn empty_request(name: &str, namespaces: &[(&str, &str)]) -> String {
    Payload::new(name, namespaces).finish(name)
}

const DEV: &[(&str, &str)] = &[("xmlns:tds", TDS), ("xmlns:tt", TT)];

fn dev_empty(action: &str) -> String {
    empty_request(&format!("tds:{action}"), DEV)
}

// ---------------------------------------------------------------------------------------------
// Types.
// ---------------------------------------------------------------------------------------------

/// Reply of GetDeviceInformation (ONVIF Core §8.3.1).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeviceInformation {
    /// Manufacturer name.
    pub manufacturer: String,
    /// Model name.
    pub model: String,
    /// Firmware version.
    pub firmware_version: String,
    /// Serial number.
    pub serial_number: String,
    /// Hardware identifier.
    pub hardware_id: String,
}

/// What SetSystemDateAndTime sends (ONVIF Core §8.3.9).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SetDateTime {
    /// Manual or NTP.
    pub date_time_type: DateTimeType,
    /// Daylight saving in effect.
    pub daylight_savings: bool,
    /// POSIX TZ string (e.g. `CET-1CEST,M3.5.0,M10.5.0/3`).
    pub time_zone: Option<String>,
    /// The UTC time to set; required by the camera when `date_time_type` is Manual.
    pub utc: Option<OffsetDateTime>,
}

/// A network host (tt:NetworkHost): an NTP server, by address or name.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum NetworkHost {
    /// An IPv4 address.
    Ipv4(String),
    /// An IPv6 address.
    Ipv6(String),
    /// A DNS name.
    Dns(String),
}

/// An IP address (tt:IPAddress), as used for DNS servers.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum IpAddress {
    /// An IPv4 address.
    Ipv4(String),
    /// An IPv6 address.
    Ipv6(String),
}

/// Reply of GetNTP (tt:NTPInformation).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NtpInformation {
    /// NTP servers come from DHCP.
    pub from_dhcp: bool,
    /// Servers learnt from DHCP.
    pub from_dhcp_servers: Vec<NetworkHost>,
    /// Servers set by hand.
    pub manual: Vec<NetworkHost>,
}

/// An ONVIF user level (tt:UserLevel).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum UserLevel {
    /// Full control.
    Administrator,
    /// Operation without configuration.
    Operator,
    /// Viewing.
    User,
    /// No credentials.
    Anonymous,
    /// Vendor-specific.
    Extended,
}

impl UserLevel {
    fn as_str(self) -> &'static str {
        match self {
            UserLevel::Administrator => "Administrator",
            UserLevel::Operator => "Operator",
            UserLevel::User => "User",
            UserLevel::Anonymous => "Anonymous",
            UserLevel::Extended => "Extended",
        }
    }
    fn parse(s: &str) -> Result<Self, OnvifError> {
        Ok(match s {
            "Administrator" => UserLevel::Administrator,
            "Operator" => UserLevel::Operator,
            "User" => UserLevel::User,
            "Anonymous" => UserLevel::Anonymous,
            "Extended" => UserLevel::Extended,
            other => return Err(malformed(format!("unknown UserLevel {other:?}"))),
        })
    }
}

/// A camera account (tt:User). The password is only set when creating or changing a user, and
/// never appears in `Debug` output nor in serialized form.
#[derive(Clone, PartialEq, Eq, serde::Serialize)]
pub struct User {
    /// The user name.
    pub username: String,
    /// The password to set; cameras do not return it in GetUsers.
    #[serde(skip)]
    pub password: Option<String>,
    /// The user level.
    pub level: UserLevel,
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("level", &self.level)
            .finish()
    }
}

/// One service from GetServices (ONVIF Core §8.1.2.1).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ServiceEntry {
    /// The service namespace, e.g. `http://www.onvif.org/ver10/device/wsdl`.
    pub namespace: String,
    /// The service URL.
    pub xaddr: String,
    /// Version major.
    pub major: u32,
    /// Version minor.
    pub minor: u32,
}

/// The parts of GetCapabilities (ONVIF Core §8.1.2.2) that commissioning uses.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Capabilities {
    /// Device service URL.
    pub device_xaddr: Option<String>,
    /// Media (ver10) service URL.
    pub media_xaddr: Option<String>,
    /// tt:SecurityCapabilities TLS1.1.
    pub tls1_1: bool,
    /// tt:SecurityCapabilities TLS1.2.
    pub tls1_2: bool,
    /// tt:SecurityCapabilities OnboardKeyGeneration.
    pub onboard_key_generation: bool,
    /// tt:SecurityCapabilities AccessPolicyConfig.
    pub access_policy_config: bool,
    /// tt:SecurityCapabilities X.509Token.
    pub x509_token: bool,
}

/// Device service capabilities (tds:DeviceServiceCapabilities, ONVIF Core §8.1.2.3); an absent
/// attribute reads as false / `None`, as the schema's defaults say.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeviceServiceCapabilities {
    /// Security: TLS1.0 supported.
    pub tls1_0: bool,
    /// Security: TLS1.1 supported.
    pub tls1_1: bool,
    /// Security: TLS1.2 supported.
    pub tls1_2: bool,
    /// Security: on-board key generation.
    pub onboard_key_generation: bool,
    /// Security: WS-Security UsernameToken supported.
    pub username_token: bool,
    /// Security: HTTP Digest supported.
    pub http_digest: bool,
    /// Security: maximum number of users.
    pub max_users: Option<u32>,
    /// Security: maximum user name length.
    pub max_user_name_length: Option<u32>,
    /// Security: maximum password length.
    pub max_password_length: Option<u32>,
    /// Network: IP address filtering.
    pub ip_filter: bool,
    /// Network: zero configuration.
    pub zero_configuration: bool,
    /// Network: IPv6.
    pub ipv6: bool,
    /// Network: NTP server count supported.
    pub ntp: Option<u32>,
    /// System: discovery Bye messages.
    pub discovery_bye: bool,
    /// System: remote discovery.
    pub remote_discovery: bool,
    /// System: system logging via GetSystemLog.
    pub system_logging: bool,
    /// System: firmware upgrade.
    pub firmware_upgrade: bool,
}

/// A scope (tt:Scope).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Scope {
    /// True when the scope is Fixed, false when Configurable.
    pub fixed: bool,
    /// The scope URI.
    pub item: String,
}

/// Reply of GetHostname (tt:HostnameInformation).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HostnameInformation {
    /// The host name comes from DHCP.
    pub from_dhcp: bool,
    /// The host name.
    pub name: Option<String>,
}

/// Reply of GetDNS (tt:DNSInformation).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DnsInformation {
    /// DNS servers come from DHCP.
    pub from_dhcp: bool,
    /// Search domains.
    pub search_domains: Vec<String>,
    /// Servers learnt from DHCP.
    pub from_dhcp_servers: Vec<IpAddress>,
    /// Servers set by hand.
    pub manual: Vec<IpAddress>,
}

/// An address with a prefix length (tt:PrefixedIPv4Address / tt:PrefixedIPv6Address).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PrefixedAddress {
    /// The address.
    pub address: String,
    /// The prefix length.
    pub prefix_length: u8,
}

/// A network interface (tt:NetworkInterface), IPv4 part.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NetworkInterface {
    /// The interface token.
    pub token: String,
    /// Interface enabled.
    pub enabled: bool,
    /// MAC address, when reported.
    pub mac: Option<String>,
    /// IPv4 enabled.
    pub ipv4_enabled: bool,
    /// IPv4 from DHCP.
    pub ipv4_dhcp: bool,
    /// Manual IPv4 addresses.
    pub ipv4_manual: Vec<PrefixedAddress>,
    /// IPv4 link-local address.
    pub ipv4_link_local: Option<PrefixedAddress>,
    /// IPv4 address from DHCP.
    pub ipv4_from_dhcp: Option<PrefixedAddress>,
}

/// A network protocol name (tt:NetworkProtocolType).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ProtocolName {
    /// HTTP.
    #[serde(rename = "HTTP")]
    Http,
    /// HTTPS.
    #[serde(rename = "HTTPS")]
    Https,
    /// RTSP.
    #[serde(rename = "RTSP")]
    Rtsp,
}

impl ProtocolName {
    fn as_str(self) -> &'static str {
        match self {
            ProtocolName::Http => "HTTP",
            ProtocolName::Https => "HTTPS",
            ProtocolName::Rtsp => "RTSP",
        }
    }
}

/// A network protocol (tt:NetworkProtocol).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NetworkProtocol {
    /// HTTP, HTTPS or RTSP.
    pub name: ProtocolName,
    /// Enabled.
    pub enabled: bool,
    /// Ports (at least one in the schema).
    pub ports: Vec<u16>,
}

/// Whether the camera answers WS-Discovery (tt:DiscoveryMode).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum DiscoveryMode {
    /// Answers probes.
    Discoverable,
    /// Silent.
    NonDiscoverable,
}

/// Zero-configuration (link-local) addressing (tt:NetworkZeroConfiguration).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ZeroConfiguration {
    /// The interface token.
    pub interface_token: String,
    /// Enabled.
    pub enabled: bool,
    /// Current zero-configuration addresses.
    pub addresses: Vec<String>,
}

/// Allow or deny (tt:IPAddressFilterType).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum FilterType {
    /// Only the listed addresses may connect.
    Allow,
    /// The listed addresses may not connect.
    Deny,
}

/// An IP address filter (tt:IPAddressFilter).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IpAddressFilter {
    /// Allow or deny.
    pub filter_type: FilterType,
    /// IPv4 ranges.
    pub ipv4: Vec<PrefixedAddress>,
    /// IPv6 ranges.
    pub ipv6: Vec<PrefixedAddress>,
}

/// Which log GetSystemLog returns (tt:SystemLogType).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SystemLogType {
    /// The system log.
    System,
    /// The access log.
    Access,
}

/// Hard or soft factory reset (tt:FactoryDefaultType).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum FactoryDefault {
    /// Everything, including network settings.
    Hard,
    /// Everything except settings needed to keep the camera reachable.
    Soft,
}

// ---------------------------------------------------------------------------------------------
// Request writers.
// ---------------------------------------------------------------------------------------------

fn write_network_host(p: &mut Payload, name: &str, host: &NetworkHost) {
    p.start(name);
    match host {
        NetworkHost::Ipv4(a) => p.leaf("tt:Type", "IPv4").leaf("tt:IPv4Address", a),
        NetworkHost::Ipv6(a) => p.leaf("tt:Type", "IPv6").leaf("tt:IPv6Address", a),
        NetworkHost::Dns(a) => p.leaf("tt:Type", "DNS").leaf("tt:DNSname", a),
    };
    p.end(name);
}

fn write_ip_address(p: &mut Payload, name: &str, ip: &IpAddress) {
    p.start(name);
    match ip {
        IpAddress::Ipv4(a) => p.leaf("tt:Type", "IPv4").leaf("tt:IPv4Address", a),
        IpAddress::Ipv6(a) => p.leaf("tt:Type", "IPv6").leaf("tt:IPv6Address", a),
    };
    p.end(name);
}

fn write_prefixed(p: &mut Payload, name: &str, a: &PrefixedAddress) {
    p.start(name)
        .leaf("tt:Address", &a.address)
        .leaf("tt:PrefixLength", &a.prefix_length.to_string())
        .end(name);
}

/// GetSystemDateAndTime request.
pub fn write_get_system_date_and_time() -> String {
    dev_empty("GetSystemDateAndTime")
}

/// GetDeviceInformation request.
pub fn write_get_device_information() -> String {
    dev_empty("GetDeviceInformation")
}

/// SetSystemDateAndTime request (ONVIF Core §8.3.9).
pub fn write_set_system_date_and_time(req: &SetDateTime) -> String {
    let root = "tds:SetSystemDateAndTime";
    let mut p = Payload::new(root, DEV);
    p.leaf(
        "tds:DateTimeType",
        match req.date_time_type {
            DateTimeType::Manual => "Manual",
            DateTimeType::Ntp => "NTP",
        },
    );
    p.flag("tds:DaylightSavings", req.daylight_savings);
    if let Some(tz) = &req.time_zone {
        p.start("tds:TimeZone")
            .leaf("tt:TZ", tz)
            .end("tds:TimeZone");
    }
    if let Some(utc) = req.utc {
        let utc = utc.to_offset(time::UtcOffset::UTC);
        p.start("tds:UTCDateTime")
            .start("tt:Time")
            .leaf("tt:Hour", &utc.hour().to_string())
            .leaf("tt:Minute", &utc.minute().to_string())
            .leaf("tt:Second", &utc.second().to_string())
            .end("tt:Time")
            .start("tt:Date")
            .leaf("tt:Year", &utc.year().to_string())
            .leaf("tt:Month", &u8::from(utc.month()).to_string())
            .leaf("tt:Day", &utc.day().to_string())
            .end("tt:Date")
            .end("tds:UTCDateTime");
    }
    p.finish(root)
}

/// GetNTP request.
pub fn write_get_ntp() -> String {
    dev_empty("GetNTP")
}

/// SetNTP request: from DHCP, or the given servers.
pub fn write_set_ntp(from_dhcp: bool, manual: &[NetworkHost]) -> String {
    let root = "tds:SetNTP";
    let mut p = Payload::new(root, DEV);
    p.flag("tds:FromDHCP", from_dhcp);
    for host in manual {
        write_network_host(&mut p, "tds:NTPManual", host);
    }
    p.finish(root)
}

/// GetUsers request.
pub fn write_get_users() -> String {
    dev_empty("GetUsers")
}

fn write_users(root: &str, users: &[User]) -> String {
    let mut p = Payload::new(root, DEV);
    for user in users {
        p.start("tds:User").leaf("tt:Username", &user.username);
        if let Some(password) = &user.password {
            p.leaf("tt:Password", password);
        }
        p.leaf("tt:UserLevel", user.level.as_str()).end("tds:User");
    }
    p.finish(root)
}

/// CreateUsers request (ONVIF Core §8.4.4).
pub fn write_create_users(users: &[User]) -> String {
    write_users("tds:CreateUsers", users)
}

/// SetUser request (ONVIF Core §8.4.6).
pub fn write_set_user(users: &[User]) -> String {
    write_users("tds:SetUser", users)
}

/// DeleteUsers request.
pub fn write_delete_users(usernames: &[&str]) -> String {
    let root = "tds:DeleteUsers";
    let mut p = Payload::new(root, DEV);
    for name in usernames {
        p.leaf("tds:Username", name);
    }
    p.finish(root)
}

/// GetServices request.
pub fn write_get_services(include_capability: bool) -> String {
    let root = "tds:GetServices";
    let mut p = Payload::new(root, DEV);
    p.flag("tds:IncludeCapability", include_capability);
    p.finish(root)
}

/// GetCapabilities request for category All.
pub fn write_get_capabilities() -> String {
    let root = "tds:GetCapabilities";
    let mut p = Payload::new(root, DEV);
    p.leaf("tds:Category", "All");
    p.finish(root)
}

/// GetServiceCapabilities request of the device service.
pub fn write_get_device_service_capabilities() -> String {
    dev_empty("GetServiceCapabilities")
}

/// GetScopes request.
pub fn write_get_scopes() -> String {
    dev_empty("GetScopes")
}

/// GetHostname request.
pub fn write_get_hostname() -> String {
    dev_empty("GetHostname")
}

/// SetHostname request.
pub fn write_set_hostname(name: &str) -> String {
    let root = "tds:SetHostname";
    let mut p = Payload::new(root, DEV);
    p.leaf("tds:Name", name);
    p.finish(root)
}

/// GetDNS request.
pub fn write_get_dns() -> String {
    dev_empty("GetDNS")
}

/// SetDNS request.
pub fn write_set_dns(from_dhcp: bool, search_domains: &[String], manual: &[IpAddress]) -> String {
    let root = "tds:SetDNS";
    let mut p = Payload::new(root, DEV);
    p.flag("tds:FromDHCP", from_dhcp);
    for d in search_domains {
        p.leaf("tds:SearchDomain", d);
    }
    for ip in manual {
        write_ip_address(&mut p, "tds:DNSManual", ip);
    }
    p.finish(root)
}

/// GetNetworkInterfaces request.
pub fn write_get_network_interfaces() -> String {
    dev_empty("GetNetworkInterfaces")
}

/// GetNetworkProtocols request.
pub fn write_get_network_protocols() -> String {
    dev_empty("GetNetworkProtocols")
}

/// SetNetworkProtocols request.
pub fn write_set_network_protocols(protocols: &[NetworkProtocol]) -> String {
    let root = "tds:SetNetworkProtocols";
    let mut p = Payload::new(root, DEV);
    for proto in protocols {
        p.start("tds:NetworkProtocols")
            .leaf("tt:Name", proto.name.as_str())
            .flag("tt:Enabled", proto.enabled);
        for port in &proto.ports {
            p.leaf("tt:Port", &port.to_string());
        }
        p.end("tds:NetworkProtocols");
    }
    p.finish(root)
}

/// GetDiscoveryMode request.
pub fn write_get_discovery_mode() -> String {
    dev_empty("GetDiscoveryMode")
}

/// SetDiscoveryMode request.
pub fn write_set_discovery_mode(mode: DiscoveryMode) -> String {
    let root = "tds:SetDiscoveryMode";
    let mut p = Payload::new(root, DEV);
    p.leaf(
        "tds:DiscoveryMode",
        match mode {
            DiscoveryMode::Discoverable => "Discoverable",
            DiscoveryMode::NonDiscoverable => "NonDiscoverable",
        },
    );
    p.finish(root)
}

/// GetZeroConfiguration request.
pub fn write_get_zero_configuration() -> String {
    dev_empty("GetZeroConfiguration")
}

/// SetZeroConfiguration request.
pub fn write_set_zero_configuration(interface_token: &str, enabled: bool) -> String {
    let root = "tds:SetZeroConfiguration";
    let mut p = Payload::new(root, DEV);
    p.leaf("tds:InterfaceToken", interface_token)
        .flag("tds:Enabled", enabled);
    p.finish(root)
}

/// GetIPAddressFilter request.
pub fn write_get_ip_address_filter() -> String {
    dev_empty("GetIPAddressFilter")
}

/// SetIPAddressFilter, AddIPAddressFilter or RemoveIPAddressFilter request (`action` names which).
pub fn write_ip_address_filter(action: IpFilterAction, filter: &IpAddressFilter) -> String {
    let root = format!("tds:{}", action.as_str());
    let mut p = Payload::new(&root, DEV);
    p.start("tds:IPAddressFilter").leaf(
        "tt:Type",
        match filter.filter_type {
            FilterType::Allow => "Allow",
            FilterType::Deny => "Deny",
        },
    );
    for a in &filter.ipv4 {
        write_prefixed(&mut p, "tt:IPv4Address", a);
    }
    for a in &filter.ipv6 {
        write_prefixed(&mut p, "tt:IPv6Address", a);
    }
    p.end("tds:IPAddressFilter");
    p.finish(&root)
}

/// Which IP address filter operation to send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IpFilterAction {
    /// Replace the filter.
    Set,
    /// Add ranges to the filter.
    Add,
    /// Remove ranges from the filter.
    Remove,
}

impl IpFilterAction {
    fn as_str(self) -> &'static str {
        match self {
            IpFilterAction::Set => "SetIPAddressFilter",
            IpFilterAction::Add => "AddIPAddressFilter",
            IpFilterAction::Remove => "RemoveIPAddressFilter",
        }
    }
}

/// GetSystemLog request.
pub fn write_get_system_log(log_type: SystemLogType) -> String {
    let root = "tds:GetSystemLog";
    let mut p = Payload::new(root, DEV);
    p.leaf(
        "tds:LogType",
        match log_type {
            SystemLogType::System => "System",
            SystemLogType::Access => "Access",
        },
    );
    p.finish(root)
}

/// SystemReboot request.
pub fn write_system_reboot() -> String {
    dev_empty("SystemReboot")
}

/// SetSystemFactoryDefault request.
pub fn write_set_system_factory_default(kind: FactoryDefault) -> String {
    let root = "tds:SetSystemFactoryDefault";
    let mut p = Payload::new(root, DEV);
    p.leaf(
        "tds:FactoryDefault",
        match kind {
            FactoryDefault::Hard => "Hard",
            FactoryDefault::Soft => "Soft",
        },
    );
    p.finish(root)
}

// ---------------------------------------------------------------------------------------------
// Reply parsers.
// ---------------------------------------------------------------------------------------------

type Node<'a, 'i> = roxmltree::Node<'a, 'i>;

fn bool_child(node: Node<'_, '_>, ns: &str, local: &str) -> Result<bool, OnvifError> {
    parse_bool(&req_text(node, ns, local)?)
}

fn bool_attr(node: Node<'_, '_>, name: &str) -> Result<bool, OnvifError> {
    node.attribute(name)
        .map(parse_bool)
        .transpose()
        .map(Option::unwrap_or_default)
}

fn num_attr(node: Node<'_, '_>, name: &str) -> Result<Option<u32>, OnvifError> {
    node.attribute(name).map(parse_num).transpose()
}

/// Reads a GetDeviceInformationResponse payload.
pub fn parse_device_information(node: Node<'_, '_>) -> Result<DeviceInformation, OnvifError> {
    Ok(DeviceInformation {
        manufacturer: req_text(node, TDS, "Manufacturer")?,
        model: req_text(node, TDS, "Model")?,
        firmware_version: req_text(node, TDS, "FirmwareVersion")?,
        serial_number: req_text(node, TDS, "SerialNumber")?,
        hardware_id: req_text(node, TDS, "HardwareId")?,
    })
}

fn parse_network_host(node: Node<'_, '_>) -> Result<NetworkHost, OnvifError> {
    Ok(match req_text(node, TT, "Type")?.as_str() {
        "IPv4" => NetworkHost::Ipv4(req_text(node, TT, "IPv4Address")?),
        "IPv6" => NetworkHost::Ipv6(req_text(node, TT, "IPv6Address")?),
        "DNS" => NetworkHost::Dns(req_text(node, TT, "DNSname")?),
        other => return Err(malformed(format!("unknown NetworkHost type {other:?}"))),
    })
}

pub(crate) fn parse_ip_address(node: Node<'_, '_>) -> Result<IpAddress, OnvifError> {
    Ok(match req_text(node, TT, "Type")?.as_str() {
        "IPv4" => IpAddress::Ipv4(req_text(node, TT, "IPv4Address")?),
        "IPv6" => IpAddress::Ipv6(req_text(node, TT, "IPv6Address")?),
        other => return Err(malformed(format!("unknown IPAddress type {other:?}"))),
    })
}

fn parse_prefixed(node: Node<'_, '_>) -> Result<PrefixedAddress, OnvifError> {
    Ok(PrefixedAddress {
        address: req_text(node, TT, "Address")?,
        prefix_length: parse_num(&req_text(node, TT, "PrefixLength")?)?,
    })
}

/// Reads a GetNTPResponse payload.
pub fn parse_ntp(node: Node<'_, '_>) -> Result<NtpInformation, OnvifError> {
    let info = req_child(node, TDS, "NTPInformation")?;
    Ok(NtpInformation {
        from_dhcp: bool_child(info, TT, "FromDHCP")?,
        from_dhcp_servers: children(info, TT, "NTPFromDHCP")
            .map(parse_network_host)
            .collect::<Result<_, _>>()?,
        manual: children(info, TT, "NTPManual")
            .map(parse_network_host)
            .collect::<Result<_, _>>()?,
    })
}

/// Reads a GetUsersResponse payload.
pub fn parse_users(node: Node<'_, '_>) -> Result<Vec<User>, OnvifError> {
    children(node, TDS, "User")
        .map(|u| {
            Ok(User {
                username: req_text(u, TT, "Username")?,
                // A camera should never return passwords; drop one if it does.
                password: None,
                level: UserLevel::parse(&req_text(u, TT, "UserLevel")?)?,
            })
        })
        .collect()
}

/// Reads a GetServicesResponse payload.
pub fn parse_services(node: Node<'_, '_>) -> Result<Vec<ServiceEntry>, OnvifError> {
    children(node, TDS, "Service")
        .map(|s| {
            let version = req_child(s, TDS, "Version")?;
            Ok(ServiceEntry {
                namespace: req_text(s, TDS, "Namespace")?,
                xaddr: req_text(s, TDS, "XAddr")?,
                major: parse_num(&req_text(version, TT, "Major")?)?,
                minor: parse_num(&req_text(version, TT, "Minor")?)?,
            })
        })
        .collect()
}

/// Reads a GetCapabilitiesResponse payload.
pub fn parse_capabilities(node: Node<'_, '_>) -> Result<Capabilities, OnvifError> {
    let caps = req_child(node, TDS, "Capabilities")?;
    let mut out = Capabilities::default();
    if let Some(device) = child(caps, TT, "Device") {
        out.device_xaddr = Some(req_text(device, TT, "XAddr")?);
        if let Some(sec) = child(device, TT, "Security") {
            let flag = |name: &str| -> Result<bool, OnvifError> {
                opt_text(sec, TT, name)
                    .map(|t| parse_bool(&t))
                    .transpose()
                    .map(Option::unwrap_or_default)
            };
            out.tls1_1 = flag("TLS1.1")?;
            out.tls1_2 = flag("TLS1.2")?;
            out.onboard_key_generation = flag("OnboardKeyGeneration")?;
            out.access_policy_config = flag("AccessPolicyConfig")?;
            out.x509_token = flag("X.509Token")?;
        }
    }
    if let Some(media) = child(caps, TT, "Media") {
        out.media_xaddr = Some(req_text(media, TT, "XAddr")?);
    }
    Ok(out)
}

/// Reads a device GetServiceCapabilitiesResponse payload.
pub fn parse_device_service_capabilities(
    node: Node<'_, '_>,
) -> Result<DeviceServiceCapabilities, OnvifError> {
    let caps = req_child(node, TDS, "Capabilities")?;
    let network = req_child(caps, TDS, "Network")?;
    let security = req_child(caps, TDS, "Security")?;
    let system = req_child(caps, TDS, "System")?;
    Ok(DeviceServiceCapabilities {
        tls1_0: bool_attr(security, "TLS1.0")?,
        tls1_1: bool_attr(security, "TLS1.1")?,
        tls1_2: bool_attr(security, "TLS1.2")?,
        onboard_key_generation: bool_attr(security, "OnboardKeyGeneration")?,
        username_token: bool_attr(security, "UsernameToken")?,
        http_digest: bool_attr(security, "HttpDigest")?,
        max_users: num_attr(security, "MaxUsers")?,
        max_user_name_length: num_attr(security, "MaxUserNameLength")?,
        max_password_length: num_attr(security, "MaxPasswordLength")?,
        ip_filter: bool_attr(network, "IPFilter")?,
        zero_configuration: bool_attr(network, "ZeroConfiguration")?,
        ipv6: bool_attr(network, "IPVersion6")?,
        ntp: num_attr(network, "NTP")?,
        discovery_bye: bool_attr(system, "DiscoveryBye")?,
        remote_discovery: bool_attr(system, "RemoteDiscovery")?,
        system_logging: bool_attr(system, "SystemLogging")?,
        firmware_upgrade: bool_attr(system, "FirmwareUpgrade")?,
    })
}

/// Reads a GetScopesResponse payload.
pub fn parse_scopes(node: Node<'_, '_>) -> Result<Vec<Scope>, OnvifError> {
    children(node, TDS, "Scopes")
        .map(|s| {
            Ok(Scope {
                fixed: req_text(s, TT, "ScopeDef")? == "Fixed",
                item: req_text(s, TT, "ScopeItem")?,
            })
        })
        .collect()
}

/// Reads a GetHostnameResponse payload.
pub fn parse_hostname(node: Node<'_, '_>) -> Result<HostnameInformation, OnvifError> {
    let info = req_child(node, TDS, "HostnameInformation")?;
    Ok(HostnameInformation {
        from_dhcp: bool_child(info, TT, "FromDHCP")?,
        name: opt_text(info, TT, "Name"),
    })
}

/// Reads a GetDNSResponse payload.
pub fn parse_dns(node: Node<'_, '_>) -> Result<DnsInformation, OnvifError> {
    let info = req_child(node, TDS, "DNSInformation")?;
    Ok(DnsInformation {
        from_dhcp: bool_child(info, TT, "FromDHCP")?,
        search_domains: children(info, TT, "SearchDomain").map(text).collect(),
        from_dhcp_servers: children(info, TT, "DNSFromDHCP")
            .map(parse_ip_address)
            .collect::<Result<_, _>>()?,
        manual: children(info, TT, "DNSManual")
            .map(parse_ip_address)
            .collect::<Result<_, _>>()?,
    })
}

/// Reads a GetNetworkInterfacesResponse payload.
pub fn parse_network_interfaces(node: Node<'_, '_>) -> Result<Vec<NetworkInterface>, OnvifError> {
    children(node, TDS, "NetworkInterfaces")
        .map(|n| {
            let token = n
                .attribute("token")
                .ok_or_else(|| malformed("NetworkInterfaces has no token"))?
                .to_owned();
            let mac = child(n, TT, "Info")
                .map(|i| req_text(i, TT, "HwAddress"))
                .transpose()?;
            let mut iface = NetworkInterface {
                token,
                enabled: bool_child(n, TT, "Enabled")?,
                mac,
                ipv4_enabled: false,
                ipv4_dhcp: false,
                ipv4_manual: Vec::new(),
                ipv4_link_local: None,
                ipv4_from_dhcp: None,
            };
            if let Some(v4) = child(n, TT, "IPv4") {
                let config = req_child(v4, TT, "Config")?;
                iface.ipv4_enabled = bool_child(v4, TT, "Enabled")?;
                iface.ipv4_dhcp = bool_child(config, TT, "DHCP")?;
                iface.ipv4_manual = children(config, TT, "Manual")
                    .map(parse_prefixed)
                    .collect::<Result<_, _>>()?;
                iface.ipv4_link_local = child(config, TT, "LinkLocal")
                    .map(parse_prefixed)
                    .transpose()?;
                iface.ipv4_from_dhcp = child(config, TT, "FromDHCP")
                    .map(parse_prefixed)
                    .transpose()?;
            }
            Ok(iface)
        })
        .collect()
}

/// Reads a GetNetworkProtocolsResponse payload.
pub fn parse_network_protocols(node: Node<'_, '_>) -> Result<Vec<NetworkProtocol>, OnvifError> {
    children(node, TDS, "NetworkProtocols")
        .map(|n| {
            let name = match req_text(n, TT, "Name")?.as_str() {
                "HTTP" => ProtocolName::Http,
                "HTTPS" => ProtocolName::Https,
                "RTSP" => ProtocolName::Rtsp,
                other => return Err(malformed(format!("unknown protocol {other:?}"))),
            };
            Ok(NetworkProtocol {
                name,
                enabled: bool_child(n, TT, "Enabled")?,
                ports: children(n, TT, "Port")
                    .map(|p| parse_num(&text(p)))
                    .collect::<Result<_, _>>()?,
            })
        })
        .collect()
}

/// Reads a GetDiscoveryModeResponse payload.
pub fn parse_discovery_mode(node: Node<'_, '_>) -> Result<DiscoveryMode, OnvifError> {
    match req_text(node, TDS, "DiscoveryMode")?.as_str() {
        "Discoverable" => Ok(DiscoveryMode::Discoverable),
        "NonDiscoverable" => Ok(DiscoveryMode::NonDiscoverable),
        other => Err(malformed(format!("unknown DiscoveryMode {other:?}"))),
    }
}

/// Reads a GetZeroConfigurationResponse payload.
pub fn parse_zero_configuration(node: Node<'_, '_>) -> Result<ZeroConfiguration, OnvifError> {
    let z = req_child(node, TDS, "ZeroConfiguration")?;
    Ok(ZeroConfiguration {
        interface_token: req_text(z, TT, "InterfaceToken")?,
        enabled: bool_child(z, TT, "Enabled")?,
        addresses: children(z, TT, "Addresses").map(text).collect(),
    })
}

/// Reads a GetIPAddressFilterResponse payload.
pub fn parse_ip_address_filter(node: Node<'_, '_>) -> Result<IpAddressFilter, OnvifError> {
    let f = req_child(node, TDS, "IPAddressFilter")?;
    let filter_type = match req_text(f, TT, "Type")?.as_str() {
        "Allow" => FilterType::Allow,
        "Deny" => FilterType::Deny,
        other => return Err(malformed(format!("unknown filter type {other:?}"))),
    };
    Ok(IpAddressFilter {
        filter_type,
        ipv4: children(f, TT, "IPv4Address")
            .map(parse_prefixed)
            .collect::<Result<_, _>>()?,
        ipv6: children(f, TT, "IPv6Address")
            .map(parse_prefixed)
            .collect::<Result<_, _>>()?,
    })
}

/// Reads a GetSystemLogResponse payload: the String form of the log (empty when the camera only
/// offers the binary form).
pub fn parse_system_log(node: Node<'_, '_>) -> Result<String, OnvifError> {
    let log = req_child(node, TDS, "SystemLog")?;
    Ok(child(log, TT, "String")
        .and_then(|s| s.text())
        .unwrap_or_default()
        .to_owned())
}

/// Reads a SystemRebootResponse payload.
pub fn parse_system_reboot(node: Node<'_, '_>) -> Result<String, OnvifError> {
    req_text(node, TDS, "Message")
}

/// Checks that an empty `...Response` element came back.
pub(crate) fn parse_empty(_node: Node<'_, '_>) -> Result<(), OnvifError> {
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Operations.
// ---------------------------------------------------------------------------------------------

impl<T: Transport> Camera<T> {
    async fn device_op<R>(
        &self,
        action: &str,
        payload: &str,
        pre_auth: bool,
        parse: impl FnOnce(Node<'_, '_>) -> Result<R, OnvifError>,
    ) -> Result<R, OnvifError> {
        let reply = self
            .call(Service::Device, action, payload, pre_auth)
            .await?;
        reply.with_payload(parse)
    }

    /// GetDeviceInformation: manufacturer, model, firmware, serial number.
    pub async fn get_device_information(&self) -> Result<DeviceInformation, OnvifError> {
        self.device_op(
            "GetDeviceInformation",
            &write_get_device_information(),
            false,
            parse_device_information,
        )
        .await
    }

    /// GetSystemDateAndTime, without credentials.
    pub async fn get_system_date_and_time(&self) -> Result<SystemDateAndTime, OnvifError> {
        self.device_op(
            "GetSystemDateAndTime",
            &write_get_system_date_and_time(),
            true,
            parse_system_date_and_time,
        )
        .await
    }

    /// SetSystemDateAndTime.
    pub async fn set_system_date_and_time(&self, req: &SetDateTime) -> Result<(), OnvifError> {
        self.device_op(
            "SetSystemDateAndTime",
            &write_set_system_date_and_time(req),
            false,
            parse_empty,
        )
        .await
    }

    /// GetNTP.
    pub async fn get_ntp(&self) -> Result<NtpInformation, OnvifError> {
        self.device_op("GetNTP", &write_get_ntp(), false, parse_ntp)
            .await
    }

    /// SetNTP.
    pub async fn set_ntp(&self, from_dhcp: bool, manual: &[NetworkHost]) -> Result<(), OnvifError> {
        self.device_op(
            "SetNTP",
            &write_set_ntp(from_dhcp, manual),
            false,
            parse_empty,
        )
        .await
    }

    /// GetUsers (passwords are never returned).
    pub async fn get_users(&self) -> Result<Vec<User>, OnvifError> {
        self.device_op("GetUsers", &write_get_users(), false, parse_users)
            .await
    }

    /// CreateUsers.
    pub async fn create_users(&self, users: &[User]) -> Result<(), OnvifError> {
        self.device_op(
            "CreateUsers",
            &write_create_users(users),
            false,
            parse_empty,
        )
        .await
    }

    /// SetUser: changes passwords and levels of existing users.
    pub async fn set_user(&self, users: &[User]) -> Result<(), OnvifError> {
        self.device_op("SetUser", &write_set_user(users), false, parse_empty)
            .await
    }

    /// DeleteUsers.
    pub async fn delete_users(&self, usernames: &[&str]) -> Result<(), OnvifError> {
        self.device_op(
            "DeleteUsers",
            &write_delete_users(usernames),
            false,
            parse_empty,
        )
        .await
    }

    /// GetServices, without credentials.
    pub async fn get_services(
        &self,
        include_capability: bool,
    ) -> Result<Vec<ServiceEntry>, OnvifError> {
        let services = self
            .device_op(
                "GetServices",
                &write_get_services(include_capability),
                true,
                parse_services,
            )
            .await?;
        // Cameras serve Media2 and Advanced Security at URLs of their choosing (ONVIF Core
        // §5.1.1): remember them so the typed operations of those services go to the right place.
        for entry in &services {
            let service = match entry.namespace.as_str() {
                crate::ns::TR2 => Service::Media2,
                crate::ns::TAS => Service::AdvancedSecurity,
                crate::ns::TDS => Service::Device,
                _ => continue,
            };
            self.set_service_url(service, &entry.xaddr);
        }
        Ok(services)
    }

    /// GetCapabilities (category All), without credentials.
    pub async fn get_capabilities(&self) -> Result<Capabilities, OnvifError> {
        self.device_op(
            "GetCapabilities",
            &write_get_capabilities(),
            true,
            parse_capabilities,
        )
        .await
    }

    /// GetServiceCapabilities of the device service, without credentials.
    pub async fn get_device_service_capabilities(
        &self,
    ) -> Result<DeviceServiceCapabilities, OnvifError> {
        self.device_op(
            "GetServiceCapabilities",
            &write_get_device_service_capabilities(),
            true,
            parse_device_service_capabilities,
        )
        .await
    }

    /// GetScopes.
    pub async fn get_scopes(&self) -> Result<Vec<Scope>, OnvifError> {
        self.device_op("GetScopes", &write_get_scopes(), false, parse_scopes)
            .await
    }

    /// GetHostname, without credentials.
    pub async fn get_hostname(&self) -> Result<HostnameInformation, OnvifError> {
        self.device_op("GetHostname", &write_get_hostname(), true, parse_hostname)
            .await
    }

    /// SetHostname.
    pub async fn set_hostname(&self, name: &str) -> Result<(), OnvifError> {
        self.device_op("SetHostname", &write_set_hostname(name), false, parse_empty)
            .await
    }

    /// GetDNS.
    pub async fn get_dns(&self) -> Result<DnsInformation, OnvifError> {
        self.device_op("GetDNS", &write_get_dns(), false, parse_dns)
            .await
    }

    /// SetDNS.
    pub async fn set_dns(
        &self,
        from_dhcp: bool,
        search_domains: &[String],
        manual: &[IpAddress],
    ) -> Result<(), OnvifError> {
        self.device_op(
            "SetDNS",
            &write_set_dns(from_dhcp, search_domains, manual),
            false,
            parse_empty,
        )
        .await
    }

    /// GetNetworkInterfaces.
    pub async fn get_network_interfaces(&self) -> Result<Vec<NetworkInterface>, OnvifError> {
        self.device_op(
            "GetNetworkInterfaces",
            &write_get_network_interfaces(),
            false,
            parse_network_interfaces,
        )
        .await
    }

    /// GetNetworkProtocols.
    pub async fn get_network_protocols(&self) -> Result<Vec<NetworkProtocol>, OnvifError> {
        self.device_op(
            "GetNetworkProtocols",
            &write_get_network_protocols(),
            false,
            parse_network_protocols,
        )
        .await
    }

    /// SetNetworkProtocols.
    pub async fn set_network_protocols(
        &self,
        protocols: &[NetworkProtocol],
    ) -> Result<(), OnvifError> {
        self.device_op(
            "SetNetworkProtocols",
            &write_set_network_protocols(protocols),
            false,
            parse_empty,
        )
        .await
    }

    /// GetDiscoveryMode.
    pub async fn get_discovery_mode(&self) -> Result<DiscoveryMode, OnvifError> {
        self.device_op(
            "GetDiscoveryMode",
            &write_get_discovery_mode(),
            false,
            parse_discovery_mode,
        )
        .await
    }

    /// SetDiscoveryMode.
    pub async fn set_discovery_mode(&self, mode: DiscoveryMode) -> Result<(), OnvifError> {
        self.device_op(
            "SetDiscoveryMode",
            &write_set_discovery_mode(mode),
            false,
            parse_empty,
        )
        .await
    }

    /// GetZeroConfiguration.
    pub async fn get_zero_configuration(&self) -> Result<ZeroConfiguration, OnvifError> {
        self.device_op(
            "GetZeroConfiguration",
            &write_get_zero_configuration(),
            false,
            parse_zero_configuration,
        )
        .await
    }

    /// SetZeroConfiguration.
    pub async fn set_zero_configuration(
        &self,
        interface_token: &str,
        enabled: bool,
    ) -> Result<(), OnvifError> {
        self.device_op(
            "SetZeroConfiguration",
            &write_set_zero_configuration(interface_token, enabled),
            false,
            parse_empty,
        )
        .await
    }

    /// GetIPAddressFilter.
    pub async fn get_ip_address_filter(&self) -> Result<IpAddressFilter, OnvifError> {
        self.device_op(
            "GetIPAddressFilter",
            &write_get_ip_address_filter(),
            false,
            parse_ip_address_filter,
        )
        .await
    }

    /// SetIPAddressFilter, AddIPAddressFilter or RemoveIPAddressFilter.
    pub async fn change_ip_address_filter(
        &self,
        action: IpFilterAction,
        filter: &IpAddressFilter,
    ) -> Result<(), OnvifError> {
        self.device_op(
            action.as_str(),
            &write_ip_address_filter(action, filter),
            false,
            parse_empty,
        )
        .await
    }

    /// GetSystemLog, String form.
    pub async fn get_system_log(&self, log_type: SystemLogType) -> Result<String, OnvifError> {
        self.device_op(
            "GetSystemLog",
            &write_get_system_log(log_type),
            false,
            parse_system_log,
        )
        .await
    }

    /// SystemReboot; returns the camera's message.
    pub async fn system_reboot(&self) -> Result<String, OnvifError> {
        self.device_op(
            "SystemReboot",
            &write_system_reboot(),
            false,
            parse_system_reboot,
        )
        .await
    }

    /// SetSystemFactoryDefault.
    pub async fn set_system_factory_default(&self, kind: FactoryDefault) -> Result<(), OnvifError> {
        self.device_op(
            "SetSystemFactoryDefault",
            &write_set_system_factory_default(kind),
            false,
            parse_empty,
        )
        .await
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::error::TransportError;

    /// Runs `parse` on the root element of `xml`.
    pub(crate) fn on<R>(
        xml: &str,
        parse: impl FnOnce(Node<'_, '_>) -> Result<R, OnvifError>,
    ) -> Result<R, OnvifError> {
        let doc = roxmltree::Document::parse(xml).expect("test XML is well-formed");
        parse(doc.root_element())
    }

    /// Asserts that `result` is a malformed-reply error.
    pub(crate) fn assert_malformed<R: fmt::Debug>(result: Result<R, OnvifError>) {
        match result {
            Err(OnvifError::Transport(TransportError::Malformed(_))) => {}
            other => panic!("expected Malformed, got {other:?}"),
        }
    }

    macro_rules! reply {
        ($name:literal) => {
            include_str!(concat!("../tests/replies/", $name, ".xml"))
        };
    }
    pub(crate) use reply;

    #[test]
    fn system_date_and_time() {
        let sdt = on(reply!("system_date_and_time"), parse_system_date_and_time).unwrap();
        assert_eq!(sdt.date_time_type, DateTimeType::Ntp);
        assert!(sdt.daylight_savings);
        assert_eq!(sdt.time_zone.as_deref(), Some("CET-1CEST,M3.5.0,M10.5.0/3"));
        assert_eq!(
            sdt.utc,
            Some(time::macros::datetime!(2010-09-16 07:50:45 UTC))
        );
    }

    #[test]
    fn system_date_and_time_without_utc_and_malformed() {
        let xml = reply!("system_date_and_time");
        let start = xml.find("<sch:UTCDateTime>").unwrap();
        let end = xml.find("</sch:UTCDateTime>").unwrap() + "</sch:UTCDateTime>".len();
        let no_utc = format!("{}{}", &xml[..start], &xml[end..]);
        assert_eq!(on(&no_utc, parse_system_date_and_time).unwrap().utc, None);
        assert_malformed(on(
            &xml.replace("<sch:Hour>7</sch:Hour>", ""),
            parse_system_date_and_time,
        ));
        assert_malformed(on(
            &xml.replace("<sch:Month>9</sch:Month>", "<sch:Month>13</sch:Month>"),
            parse_system_date_and_time,
        ));
        assert_malformed(on(
            &xml.replace(">NTP<", ">Sundial<"),
            parse_system_date_and_time,
        ));
        // The reply element itself, without the SystemDateAndTime wrapper.
        assert_malformed(on(
            r#"<tds:GetSystemDateAndTimeResponse xmlns:tds="http://www.onvif.org/ver10/device/wsdl"/>"#,
            parse_system_date_and_time,
        ));
    }

    #[test]
    fn device_information() {
        let info = on(reply!("device_information"), parse_device_information).unwrap();
        assert_eq!(info.manufacturer, "ACME & Sons");
        assert_eq!(info.serial_number, "ACCC8E012345");
        assert_malformed(on(
            &reply!("device_information").replace("<ns7:HardwareId>7A1</ns7:HardwareId>", ""),
            parse_device_information,
        ));
    }

    #[test]
    fn elements_in_a_wrong_namespace_are_not_read() {
        let wrong = reply!("device_information").replace(
            "http://www.onvif.org/ver10/device/wsdl",
            "http://example.com/other",
        );
        assert_malformed(on(&wrong, parse_device_information));
    }

    #[test]
    fn ntp() {
        let ntp = on(reply!("ntp"), parse_ntp).unwrap();
        assert!(!ntp.from_dhcp);
        assert_eq!(
            ntp.manual,
            vec![
                NetworkHost::Ipv4("192.0.2.1".into()),
                NetworkHost::Dns("pool.ntp.org".into())
            ]
        );
        assert_malformed(on(
            &reply!("ntp").replace("<tt:DNSname>pool.ntp.org</tt:DNSname>", ""),
            parse_ntp,
        ));
    }

    #[test]
    fn users_and_redacted_debug() {
        let users = on(reply!("users"), parse_users).unwrap();
        assert_eq!(users.len(), 2);
        assert_eq!(users[0].username, "admin");
        assert_eq!(users[0].level, UserLevel::Administrator);
        assert_eq!(users[1].level, UserLevel::User);
        let user = User {
            username: "ops".into(),
            password: Some("hunter2-secret".into()),
            level: UserLevel::Operator,
        };
        let debug = format!("{user:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("redacted"));
        let json = serde_json::to_string(&user).unwrap();
        assert!(!json.contains("hunter2"), "{json}");
        assert_malformed(on(
            &reply!("users").replace("<s:UserLevel>User</s:UserLevel>", ""),
            parse_users,
        ));
        assert_malformed(on(
            &reply!("users").replace(">User<", ">Root<"),
            parse_users,
        ));
    }

    #[test]
    fn services() {
        let services = on(reply!("services"), parse_services).unwrap();
        assert_eq!(services.len(), 2);
        assert_eq!(services[1].namespace, crate::ns::TR2);
        assert_eq!(services[1].xaddr, "http://192.0.2.10/onvif/media2_service");
        assert_eq!((services[0].major, services[0].minor), (21, 12));
        assert_malformed(on(
            &reply!("services").replace("<tt:Minor>60</tt:Minor>", ""),
            parse_services,
        ));
    }

    #[test]
    fn capabilities() {
        let caps = on(reply!("capabilities"), parse_capabilities).unwrap();
        assert_eq!(
            caps.device_xaddr.as_deref(),
            Some("http://192.0.2.10/onvif/device_service")
        );
        assert_eq!(
            caps.media_xaddr.as_deref(),
            Some("http://192.0.2.10/onvif/media_service")
        );
        assert!(caps.tls1_2 && !caps.tls1_1 && caps.onboard_key_generation && !caps.x509_token);
        assert_malformed(on(
            &reply!("capabilities").replace(
                "<tt:XAddr>http://192.0.2.10/onvif/media_service</tt:XAddr>",
                "",
            ),
            parse_capabilities,
        ));
    }

    #[test]
    fn device_service_capabilities() {
        let caps = on(
            reply!("device_service_capabilities"),
            parse_device_service_capabilities,
        )
        .unwrap();
        assert_eq!(caps.max_users, Some(16));
        assert_eq!(caps.max_user_name_length, Some(32));
        assert_eq!(caps.max_password_length, Some(64));
        assert!(caps.username_token && caps.http_digest && caps.tls1_2 && !caps.tls1_0);
        assert!(caps.ip_filter && caps.zero_configuration && !caps.ipv6);
        assert_eq!(caps.ntp, Some(2));
        assert!(caps.discovery_bye && !caps.remote_discovery && caps.system_logging);
        assert_malformed(on(
            &reply!("device_service_capabilities").replace("MaxUsers=\"16\"", "MaxUsers=\"many\""),
            parse_device_service_capabilities,
        ));
    }

    #[test]
    fn scopes_hostname_dns() {
        let scopes = on(reply!("scopes"), parse_scopes).unwrap();
        assert!(scopes[0].fixed && !scopes[1].fixed);
        assert_eq!(scopes[1].item, "onvif://www.onvif.org/location/lobby");
        let host = on(reply!("hostname"), parse_hostname).unwrap();
        assert_eq!(
            host,
            HostnameInformation {
                from_dhcp: false,
                name: Some("cam-lobby".into())
            }
        );
        let dns = on(reply!("dns"), parse_dns).unwrap();
        assert!(dns.from_dhcp);
        assert_eq!(dns.search_domains, vec!["example.net".to_string()]);
        assert_eq!(
            dns.from_dhcp_servers,
            vec![IpAddress::Ipv4("192.0.2.53".into())]
        );
        assert_eq!(dns.manual, vec![IpAddress::Ipv6("2001:db8::53".into())]);
        assert_malformed(on(
            &reply!("hostname").replace("<tt:FromDHCP>false</tt:FromDHCP>", ""),
            parse_hostname,
        ));
    }

    #[test]
    fn network_interfaces() {
        let ifs = on(reply!("network_interfaces"), parse_network_interfaces).unwrap();
        let eth0 = &ifs[0];
        assert_eq!(eth0.token, "eth0");
        assert_eq!(eth0.mac.as_deref(), Some("AC:CC:8E:01:23:45"));
        assert!(eth0.enabled && eth0.ipv4_enabled && !eth0.ipv4_dhcp);
        assert_eq!(
            eth0.ipv4_manual,
            vec![PrefixedAddress {
                address: "192.0.2.10".into(),
                prefix_length: 24
            }]
        );
        assert_eq!(
            eth0.ipv4_link_local.as_ref().map(|a| a.prefix_length),
            Some(16)
        );
        assert_malformed(on(
            &reply!("network_interfaces").replace(" token=\"eth0\"", ""),
            parse_network_interfaces,
        ));
    }

    #[test]
    fn network_protocols() {
        let protocols = on(reply!("network_protocols"), parse_network_protocols).unwrap();
        assert_eq!(protocols.len(), 3);
        assert_eq!(
            protocols[1],
            NetworkProtocol {
                name: ProtocolName::Https,
                enabled: false,
                ports: vec![443]
            }
        );
        assert_eq!(protocols[2].ports, vec![554, 8554]);
        assert_malformed(on(
            &reply!("network_protocols")
                .replace("<tt:Port>80</tt:Port>", "<tt:Port>http</tt:Port>"),
            parse_network_protocols,
        ));
    }

    #[test]
    fn discovery_zero_conf_filter_log_reboot() {
        assert_eq!(
            on(reply!("discovery_mode"), parse_discovery_mode).unwrap(),
            DiscoveryMode::NonDiscoverable
        );
        let zc = on(reply!("zero_configuration"), parse_zero_configuration).unwrap();
        assert_eq!(zc.interface_token, "eth0");
        assert!(zc.enabled);
        assert_eq!(zc.addresses, vec!["169.254.10.20".to_string()]);
        let filter = on(reply!("ip_address_filter"), parse_ip_address_filter).unwrap();
        assert_eq!(filter.filter_type, FilterType::Allow);
        assert_eq!(filter.ipv4[0].address, "192.0.2.0");
        assert_eq!(filter.ipv6[0].prefix_length, 32);
        assert_eq!(
            on(reply!("system_log"), parse_system_log).unwrap(),
            "Jan  1 00:00:01 boot <ok>"
        );
        assert_eq!(
            on(reply!("system_reboot"), parse_system_reboot).unwrap(),
            "Rebooting in 30 seconds"
        );
        assert_malformed(on(
            &reply!("ip_address_filter").replace("<tt:Type>Allow</tt:Type>", ""),
            parse_ip_address_filter,
        ));
        assert_malformed(on(
            &reply!("system_reboot").replace("Message", "Note"),
            parse_system_reboot,
        ));
    }

    #[test]
    fn writers_escape_text_and_declare_namespaces() {
        let xml = write_set_hostname("cam<&>\"lobby\"");
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let root = doc.root_element();
        assert_eq!(root.tag_name().namespace(), Some(TDS));
        assert_eq!(req_text(root, TDS, "Name").unwrap(), "cam<&>\"lobby\"");
        let users = write_create_users(&[User {
            username: "ops".into(),
            password: Some("p<w>&d".into()),
            level: UserLevel::Operator,
        }]);
        let doc = roxmltree::Document::parse(&users).unwrap();
        let user = req_child(doc.root_element(), TDS, "User").unwrap();
        assert_eq!(req_text(user, TT, "Password").unwrap(), "p<w>&d");
        assert_eq!(req_text(user, TT, "UserLevel").unwrap(), "Operator");
    }

    #[test]
    fn set_date_time_writes_utc_fields() {
        let xml = write_set_system_date_and_time(&SetDateTime {
            date_time_type: DateTimeType::Manual,
            daylight_savings: false,
            time_zone: Some("UTC0".into()),
            utc: Some(time::macros::datetime!(2026-11-22 16:04:05 +01:00)),
        });
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let utc = req_child(doc.root_element(), TDS, "UTCDateTime").unwrap();
        let t = req_child(utc, TT, "Time").unwrap();
        assert_eq!(req_text(t, TT, "Hour").unwrap(), "15");
        assert_eq!(
            req_text(req_child(utc, TT, "Date").unwrap(), TT, "Day").unwrap(),
            "22"
        );
    }
}
