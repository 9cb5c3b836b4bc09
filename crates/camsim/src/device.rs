//! Device Management service (ONVIF Core §8, devicemgmt.wsdl): real state behind every operation,
//! validation and fault subcodes as in ONVIF Core §8 per-operation fault tables and §5.11.2.

use std::net::Ipv4Addr;

use quick_xml::escape::escape;
use time::OffsetDateTime;

use crate::access::{AccessClass, UserLevel};
use crate::fault::SimFault;
use crate::state::{CameraState, FilterType, LogKind, NtpServer, User};

/// Namespace of the device service (prefix `tds`).
pub const TDS_NS: &str = "http://www.onvif.org/ver10/device/wsdl";
/// Namespace of the ONVIF schema types (prefix `tt`).
pub const TT_NS: &str = "http://www.onvif.org/ver10/schema";

/// Limits advertised in GetServiceCapabilities and enforced by CreateUsers/SetUser.
pub const MAX_USERS: usize = 16;
/// Longest accepted user name.
pub const MAX_USERNAME_LEN: usize = 32;
/// Longest accepted password.
pub const MAX_PASSWORD_LEN: usize = 64;

/// Access class of a Device Management operation (ONVIF Core §5.9.4.3 table); `None` if unknown.
pub fn access_class(op: &str) -> Option<AccessClass> {
    use AccessClass::*;
    Some(match op {
        "GetSystemDateAndTime"
        | "GetServices"
        | "GetServiceCapabilities"
        | "GetCapabilities"
        | "GetHostname"
        | "GetWsdlUrl"
        | "GetEndpointReference" => PreAuth,
        "GetDeviceInformation"
        | "GetScopes"
        | "GetDiscoveryMode"
        | "GetNetworkInterfaces"
        | "GetNetworkProtocols"
        | "GetDNS"
        | "GetNTP"
        | "GetNetworkDefaultGateway"
        | "GetZeroConfiguration"
        | "GetIPAddressFilter" => ReadSystem,
        "GetUsers" | "GetSystemLog" => ReadSystemSecret,
        "SetSystemDateAndTime"
        | "SetNTP"
        | "SetHostname"
        | "SetHostnameFromDHCP"
        | "SetDNS"
        | "SetNetworkInterfaces"
        | "SetNetworkProtocols"
        | "SetNetworkDefaultGateway"
        | "SetDiscoveryMode"
        | "SetZeroConfiguration"
        | "SetIPAddressFilter"
        | "AddIPAddressFilter"
        | "RemoveIPAddressFilter"
        | "CreateUsers"
        | "DeleteUsers"
        | "SetUser"
        | "SetScopes"
        | "AddScopes"
        | "RemoveScopes" => WriteSystem,
        "SystemReboot" | "SetSystemFactoryDefault" => Unrecoverable,
        _ => return None,
    })
}

/// What the camera must do after answering.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Nothing beyond the reply.
    None,
    /// State changed: persist it and re-evaluate the listeners.
    Changed,
    /// Reboot (state already persisted).
    Reboot,
    /// Factory reset, then reboot.
    FactoryReset {
        /// Hard resets network settings as well.
        hard: bool,
    },
}

/// What a Device Management reply needs to know about the camera besides its state.
#[derive(Debug)]
pub struct DeviceContext<'a> {
    /// `Camsim`.
    pub manufacturer: &'a str,
    /// Model name.
    pub model: &'a str,
    /// Firmware version.
    pub firmware: &'a str,
    /// Serial number.
    pub serial: &'a str,
    /// `http://host:port` the request reached.
    pub base_url: &'a str,
    /// Endpoint reference GUID.
    pub guid: &'a str,
    /// HTTP Digest is offered.
    pub http_digest: bool,
    /// Camera clock.
    pub now: OffsetDateTime,
}

fn respond(op: &str, body: &str) -> String {
    format!(
        "<tds:{op}Response xmlns:tds=\"{TDS_NS}\" xmlns:tt=\"{TT_NS}\">{body}</tds:{op}Response>"
    )
}

fn el(name: &str, value: impl std::fmt::Display) -> String {
    let value = value.to_string();
    format!("<{name}>{}</{name}>", escape(value.as_str()))
}

fn child<'a, 'i>(node: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    node.children()
        .find(|n| n.is_element() && n.tag_name().name() == name)
}

fn children<'a, 'i>(
    node: roxmltree::Node<'a, 'i>,
    name: &'a str,
) -> impl Iterator<Item = roxmltree::Node<'a, 'i>> + 'a {
    node.children()
        .filter(move |n| n.is_element() && n.tag_name().name() == name)
}

fn text(node: roxmltree::Node<'_, '_>, name: &str) -> Option<String> {
    child(node, name).map(|n| n.text().unwrap_or_default().trim().to_owned())
}

fn required(node: roxmltree::Node<'_, '_>, name: &'static str) -> Result<String, SimFault> {
    text(node, name).ok_or_else(|| SimFault::sender(&["InvalidArgs"], format!("{name} is missing")))
}

fn boolean(node: roxmltree::Node<'_, '_>, name: &'static str) -> Result<Option<bool>, SimFault> {
    match text(node, name).as_deref() {
        None => Ok(None),
        Some("true") | Some("1") => Ok(Some(true)),
        Some("false") | Some("0") => Ok(Some(false)),
        Some(_) => Err(SimFault::sender(
            &["InvalidArgs"],
            format!("{name} is not a boolean"),
        )),
    }
}

fn ipv4(value: &str) -> Result<Ipv4Addr, SimFault> {
    value
        .parse()
        .map_err(|_| SimFault::invalid_arg("InvalidIPv4Address", "Not a valid IPv4 address"))
}

/// RFC 1123 host name: labels of letters, digits and hyphens, not starting or ending with a hyphen.
fn valid_hostname(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

fn level_name(level: UserLevel) -> &'static str {
    match level {
        UserLevel::Administrator => "Administrator",
        UserLevel::Operator => "Operator",
        UserLevel::User => "User",
        UserLevel::Anonymous => "Anonymous",
    }
}

fn parse_level(value: &str) -> Result<UserLevel, SimFault> {
    match value {
        "Administrator" => Ok(UserLevel::Administrator),
        "Operator" => Ok(UserLevel::Operator),
        "User" => Ok(UserLevel::User),
        "Anonymous" => Err(SimFault::invalid_arg(
            "AnonymousNotAllowed",
            "Anonymous users cannot be created",
        )),
        _ => Err(SimFault::sender(&["InvalidArgs"], "Unknown user level")),
    }
}

fn date_time_xml(t: OffsetDateTime) -> String {
    format!(
        "<tt:Time><tt:Hour>{}</tt:Hour><tt:Minute>{}</tt:Minute><tt:Second>{}</tt:Second></tt:Time>\
         <tt:Date><tt:Year>{}</tt:Year><tt:Month>{}</tt:Month><tt:Day>{}</tt:Day></tt:Date>",
        t.hour(),
        t.minute(),
        t.second(),
        t.year(),
        u8::from(t.month()),
        t.day()
    )
}

/// Device service capabilities (tds:DeviceServiceCapabilities).
pub fn service_capabilities(ctx: &DeviceContext<'_>, element: &str) -> String {
    format!(
        "<{element}>\
         <tds:Network IPFilter=\"true\" ZeroConfiguration=\"true\" IPVersion6=\"false\" DynDNS=\"false\" \
         HostnameFromDHCP=\"true\" NTP=\"4\"/>\
         <tds:Security TLS1.0=\"false\" TLS1.1=\"false\" TLS1.2=\"true\" OnboardKeyGeneration=\"true\" \
         AccessPolicyConfig=\"false\" DefaultAccessPolicy=\"true\" Dot1X=\"false\" RemoteUserHandling=\"false\" \
         X.509Token=\"false\" SAMLToken=\"false\" KerberosToken=\"false\" UsernameToken=\"true\" \
         HttpDigest=\"{}\" RELToken=\"false\" MaxUsers=\"{MAX_USERS}\" MaxUserNameLength=\"{MAX_USERNAME_LEN}\" \
         MaxPasswordLength=\"{MAX_PASSWORD_LEN}\"/>\
         <tds:System DiscoveryResolve=\"false\" DiscoveryBye=\"true\" RemoteDiscovery=\"false\" SystemBackup=\"false\" \
         SystemLogging=\"true\" FirmwareUpgrade=\"false\"/>\
         </{element}>",
        ctx.http_digest
    )
}

/// Handles one Device Management request. `payload` is the first element of the SOAP body.
pub fn handle(
    state: &mut CameraState,
    ctx: &DeviceContext<'_>,
    op: &str,
    payload: roxmltree::Node<'_, '_>,
) -> Result<(String, Effect), SimFault> {
    let done = |body: &str| Ok((respond(op, body), Effect::None));
    let changed = |body: &str| Ok((respond(op, body), Effect::Changed));
    match op {
        "GetSystemDateAndTime" => {
            let dt = &state.date_time;
            done(&format!(
                "<tds:SystemDateAndTime><tt:DateTimeType>{}</tt:DateTimeType>\
                 <tt:DaylightSavings>{}</tt:DaylightSavings><tt:TimeZone><tt:TZ>{}</tt:TZ></tt:TimeZone>\
                 <tt:UTCDateTime>{}</tt:UTCDateTime><tt:LocalDateTime>{}</tt:LocalDateTime></tds:SystemDateAndTime>",
                if dt.ntp { "NTP" } else { "Manual" },
                dt.daylight_savings,
                escape(dt.tz.as_str()),
                date_time_xml(ctx.now),
                date_time_xml(ctx.now)
            ))
        }
        "SetSystemDateAndTime" => {
            let kind = required(payload, "DateTimeType")?;
            let ntp = match kind.as_str() {
                "NTP" => true,
                "Manual" => false,
                _ => return Err(SimFault::sender(&["InvalidArgs"], "Unknown DateTimeType")),
            };
            let dst = boolean(payload, "DaylightSavings")?.unwrap_or(false);
            let tz = child(payload, "TimeZone").and_then(|t| text(t, "TZ"));
            if let Some(tz) = &tz {
                // POSIX TZ (IEEE 1003.1 §8.3): a name of at least three letters, then an offset.
                let name_len = tz.chars().take_while(|c| c.is_ascii_alphabetic()).count();
                if name_len < 3 || tz.len() > 64 || !tz.is_ascii() {
                    return Err(SimFault::invalid_arg(
                        "InvalidTimeZone",
                        "Not a POSIX TZ string",
                    ));
                }
            }
            let utc = match child(payload, "UTCDateTime") {
                Some(dt) if !ntp => Some(parse_date_time(dt)?),
                Some(_) => None,
                None if !ntp => {
                    return Err(SimFault::invalid_arg(
                        "InvalidDateTime",
                        "Manual mode needs UTCDateTime",
                    ))
                }
                None => None,
            };
            state.date_time.ntp = ntp;
            state.date_time.daylight_savings = dst;
            if let Some(tz) = tz {
                state.date_time.tz = tz;
            }
            if let Some(utc) = utc {
                // The set time becomes the camera clock: keep its offset from the host clock.
                let host = OffsetDateTime::now_utc();
                state.clock_offset_s = (utc - host).whole_seconds();
                state.log(utc, LogKind::System, "Clock set manually");
            }
            changed("")
        }
        "GetDeviceInformation" => done(&format!(
            "{}{}{}{}{}",
            el("tds:Manufacturer", ctx.manufacturer),
            el("tds:Model", ctx.model),
            el("tds:FirmwareVersion", ctx.firmware),
            el("tds:SerialNumber", ctx.serial),
            el("tds:HardwareId", "CS2000-HW1")
        )),
        "GetServiceCapabilities" => done(&service_capabilities(ctx, "tds:Capabilities")),
        "GetServices" => {
            let include = boolean(payload, "IncludeCapability")?.unwrap_or(false);
            let services = [
                (TDS_NS, "device_service", 2, 6),
                (crate::media2::TR2_NS, "media2_service", 2, 6),
                (crate::security::TAS_NS, "security_service", 1, 4),
            ];
            let body: String = services
                .iter()
                .map(|(ns, path, major, minor)| {
                    let caps = if include && *ns == TDS_NS {
                        service_capabilities(ctx, "tds:Capabilities")
                            .replacen("<tds:Capabilities>", "<tds:Capabilities><tds:Capabilities>", 1)
                            + "</tds:Capabilities>"
                    } else {
                        String::new()
                    };
                    format!(
                        "<tds:Service>{}{}{caps}<tds:Version><tt:Major>{major}</tt:Major><tt:Minor>{minor}</tt:Minor></tds:Version></tds:Service>",
                        el("tds:Namespace", ns),
                        el("tds:XAddr", format!("{}/onvif/{path}", ctx.base_url))
                    )
                })
                .collect();
            done(&body)
        }
        "GetCapabilities" => {
            let category = text(payload, "Category").unwrap_or_else(|| "All".into());
            if !matches!(category.as_str(), "All" | "Device") {
                return Err(SimFault::receiver(
                    &["ActionNotSupported", "NoSuchService"],
                    "Category not supported",
                ));
            }
            done(&format!(
                "<tds:Capabilities><tt:Device>{}\
                 <tt:Network><tt:IPFilter>true</tt:IPFilter><tt:ZeroConfiguration>true</tt:ZeroConfiguration>\
                 <tt:IPVersion6>false</tt:IPVersion6><tt:DynDNS>false</tt:DynDNS></tt:Network>\
                 <tt:System><tt:DiscoveryResolve>false</tt:DiscoveryResolve><tt:DiscoveryBye>true</tt:DiscoveryBye>\
                 <tt:RemoteDiscovery>false</tt:RemoteDiscovery><tt:SystemBackup>false</tt:SystemBackup>\
                 <tt:SystemLogging>true</tt:SystemLogging><tt:FirmwareUpgrade>false</tt:FirmwareUpgrade>\
                 <tt:SupportedVersions><tt:Major>2</tt:Major><tt:Minor>60</tt:Minor></tt:SupportedVersions></tt:System>\
                 <tt:Security><tt:TLS1.1>false</tt:TLS1.1><tt:TLS1.2>true</tt:TLS1.2>\
                 <tt:OnboardKeyGeneration>true</tt:OnboardKeyGeneration><tt:AccessPolicyConfig>false</tt:AccessPolicyConfig>\
                 <tt:X.509Token>false</tt:X.509Token><tt:SAMLToken>false</tt:SAMLToken>\
                 <tt:KerberosToken>false</tt:KerberosToken><tt:RELToken>false</tt:RELToken></tt:Security>\
                 </tt:Device></tds:Capabilities>",
                el("tt:XAddr", format!("{}/onvif/device_service", ctx.base_url))
            ))
        }
        "GetWsdlUrl" => done(&el(
            "tds:WsdlUrl",
            "http://www.onvif.org/Documents/Specifications.aspx",
        )),
        "GetEndpointReference" => done(&el("tds:GUID", format!("urn:uuid:{}", ctx.guid))),
        "GetHostname" => done(&format!(
            "<tds:HostnameInformation>{}{}</tds:HostnameInformation>",
            el("tt:FromDHCP", state.hostname_from_dhcp),
            el("tt:Name", &state.hostname)
        )),
        "SetHostname" => {
            let name = required(payload, "Name")?;
            if !valid_hostname(&name) {
                return Err(SimFault::invalid_arg(
                    "InvalidHostname",
                    "Not a valid host name",
                ));
            }
            state.hostname = name;
            state.hostname_from_dhcp = false;
            changed("")
        }
        "SetHostnameFromDHCP" => {
            state.hostname_from_dhcp = boolean(payload, "FromDHCP")?
                .ok_or_else(|| SimFault::sender(&["InvalidArgs"], "FromDHCP is missing"))?;
            changed(&el("tds:RebootNeeded", false))
        }
        "GetDNS" => {
            let search: String = state
                .dns_search
                .iter()
                .map(|d| el("tt:SearchDomain", d))
                .collect();
            let manual: String = state
                .dns_manual
                .iter()
                .map(|a| {
                    format!(
                        "<tt:DNSManual><tt:Type>IPv4</tt:Type>{}</tt:DNSManual>",
                        el("tt:IPv4Address", a)
                    )
                })
                .collect();
            let dhcp = if state.dns_from_dhcp {
                "<tt:DNSFromDHCP><tt:Type>IPv4</tt:Type><tt:IPv4Address>192.168.0.1</tt:IPv4Address></tt:DNSFromDHCP>"
            } else {
                ""
            };
            done(&format!(
                "<tds:DNSInformation>{}{search}{dhcp}{manual}</tds:DNSInformation>",
                el("tt:FromDHCP", state.dns_from_dhcp)
            ))
        }
        "SetDNS" => {
            let from_dhcp = boolean(payload, "FromDHCP")?.unwrap_or(false);
            let search: Vec<String> = children(payload, "SearchDomain")
                .map(|n| n.text().unwrap_or_default().trim().to_owned())
                .collect();
            if search.iter().any(|d| !valid_hostname(d)) {
                return Err(SimFault::invalid_arg(
                    "InvalidDnsName",
                    "Not a valid search domain",
                ));
            }
            let mut manual = Vec::new();
            for server in children(payload, "DNSManual") {
                match text(server, "Type").as_deref() {
                    Some("IPv4") => {
                        manual.push(ipv4(&text(server, "IPv4Address").unwrap_or_default())?)
                    }
                    _ => {
                        return Err(SimFault::invalid_arg(
                            "InvalidIPv6Address",
                            "Only IPv4 DNS servers are supported",
                        ))
                    }
                }
            }
            state.dns_from_dhcp = from_dhcp;
            state.dns_search = search;
            state.dns_manual = manual;
            changed("")
        }
        "GetNTP" => {
            let manual: String = state
                .ntp
                .manual
                .iter()
                .map(|s| network_host("tt:NTPManual", s))
                .collect();
            let dhcp = if state.ntp.from_dhcp {
                "<tt:NTPFromDHCP><tt:Type>IPv4</tt:Type><tt:IPv4Address>192.168.0.1</tt:IPv4Address></tt:NTPFromDHCP>"
            } else {
                ""
            };
            done(&format!(
                "<tds:NTPInformation>{}{dhcp}{manual}</tds:NTPInformation>",
                el("tt:FromDHCP", state.ntp.from_dhcp)
            ))
        }
        "SetNTP" => {
            let from_dhcp = boolean(payload, "FromDHCP")?
                .ok_or_else(|| SimFault::sender(&["InvalidArgs"], "FromDHCP is missing"))?;
            let mut manual = Vec::new();
            for host in children(payload, "NTPManual") {
                manual.push(match text(host, "Type").as_deref() {
                    Some("IPv4") => {
                        NtpServer::Ipv4(ipv4(&text(host, "IPv4Address").unwrap_or_default())?)
                    }
                    Some("IPv6") => {
                        let a = text(host, "IPv6Address").unwrap_or_default();
                        a.parse::<std::net::Ipv6Addr>().map_err(|_| {
                            SimFault::invalid_arg("InvalidIPv6Address", "Not a valid IPv6 address")
                        })?;
                        NtpServer::Ipv6(a)
                    }
                    Some("DNS") => {
                        let name = text(host, "DNSname").unwrap_or_default();
                        if !valid_hostname(&name) || name.parse::<Ipv4Addr>().is_ok() {
                            return Err(SimFault::invalid_arg(
                                "InvalidDnsName",
                                "Not a valid DNS name",
                            ));
                        }
                        NtpServer::Dns(name)
                    }
                    _ => {
                        return Err(SimFault::sender(
                            &["InvalidArgs"],
                            "Unknown NetworkHost type",
                        ))
                    }
                });
            }
            if manual.len() > 4 {
                return Err(SimFault::invalid_arg(
                    "TooManyNTPServers",
                    "At most 4 NTP servers",
                ));
            }
            state.ntp.from_dhcp = from_dhcp;
            state.ntp.manual = manual;
            changed("")
        }
        "GetNetworkInterfaces" => {
            let body: String = state
                .interfaces
                .iter()
                .map(|i| {
                    let manual: String = i
                        .manual
                        .iter()
                        .map(|(a, p)| format!("<tt:Manual>{}{}</tt:Manual>", el("tt:Address", a), el("tt:PrefixLength", p)))
                        .collect();
                    let link_local = if state.zero_conf.enabled && state.zero_conf.interface == i.token {
                        format!("<tt:LinkLocal>{}<tt:PrefixLength>16</tt:PrefixLength></tt:LinkLocal>", el("tt:Address", state.zero_conf.address))
                    } else {
                        String::new()
                    };
                    let from_dhcp = if i.dhcp {
                        format!("<tt:FromDHCP>{}{}</tt:FromDHCP>", el("tt:Address", i.from_dhcp.0), el("tt:PrefixLength", i.from_dhcp.1))
                    } else {
                        String::new()
                    };
                    format!(
                        "<tds:NetworkInterfaces token=\"{}\">{}<tt:Info>{}{}{}</tt:Info>\
                         <tt:IPv4><tt:Enabled>true</tt:Enabled><tt:Config>{manual}{link_local}{from_dhcp}{}</tt:Config></tt:IPv4>\
                         </tds:NetworkInterfaces>",
                        escape(i.token.as_str()),
                        el("tt:Enabled", i.enabled),
                        el("tt:Name", &i.token),
                        el("tt:HwAddress", &i.mac),
                        el("tt:MTU", i.mtu),
                        el("tt:DHCP", i.dhcp)
                    )
                })
                .collect();
            done(&body)
        }
        "SetNetworkInterfaces" => {
            let token = required(payload, "InterfaceToken")?;
            let config = child(payload, "NetworkInterface")
                .ok_or_else(|| SimFault::sender(&["InvalidArgs"], "NetworkInterface is missing"))?;
            let enabled = boolean(config, "Enabled")?;
            let mtu = text(config, "MTU")
                .map(|m| m.parse::<u32>().ok().filter(|m| (576..=9000).contains(m)))
                .map(|m| {
                    m.ok_or_else(|| SimFault::invalid_arg("InvalidMtuValue", "MTU out of range"))
                })
                .transpose()?;
            let mut dhcp = None;
            let mut manual = None;
            if let Some(v4) = child(config, "IPv4") {
                dhcp = boolean(v4, "DHCP")?;
                let mut list = Vec::new();
                for m in children(v4, "Manual") {
                    let address = ipv4(&text(m, "Address").unwrap_or_default())?;
                    let prefix = text(m, "PrefixLength")
                        .and_then(|p| p.parse::<u8>().ok())
                        .filter(|p| (1..=32).contains(p))
                        .ok_or_else(|| {
                            SimFault::invalid_arg("InvalidIPv4Address", "Bad prefix length")
                        })?;
                    list.push((address, prefix));
                }
                if child(v4, "Manual").is_some() {
                    manual = Some(list);
                }
            }
            if child(config, "IPv6")
                .is_some_and(|v6| text(v6, "Enabled").as_deref() == Some("true"))
            {
                return Err(SimFault::invalid_arg(
                    "IPv6NotSupported",
                    "IPv6 is not supported",
                ));
            }
            let interface = state
                .interfaces
                .iter_mut()
                .find(|i| i.token == token)
                .ok_or_else(|| {
                    SimFault::invalid_arg("InvalidNetworkInterface", "No such interface")
                })?;
            if let Some(e) = enabled {
                interface.enabled = e;
            }
            if let Some(m) = mtu {
                interface.mtu = m;
            }
            if let Some(d) = dhcp {
                interface.dhcp = d;
            }
            if let Some(m) = manual {
                interface.manual = m;
            }
            changed(&el("tds:RebootNeeded", false))
        }
        "GetNetworkProtocols" => {
            let body: String = state
                .protocols
                .iter()
                .map(|p| {
                    format!(
                        "<tds:NetworkProtocols>{}{}{}</tds:NetworkProtocols>",
                        el("tt:Name", &p.name),
                        el("tt:Enabled", p.enabled),
                        el("tt:Port", p.port)
                    )
                })
                .collect();
            done(&body)
        }
        "SetNetworkProtocols" => {
            let mut next = state.protocols.clone();
            for p in children(payload, "NetworkProtocols") {
                let name = required(p, "Name")?;
                let entry = next.iter_mut().find(|e| e.name == name).ok_or_else(|| {
                    SimFault::invalid_arg("ServiceNotSupported", "Unknown protocol")
                })?;
                if let Some(e) = boolean(p, "Enabled")? {
                    entry.enabled = e;
                }
                let ports: Vec<String> = children(p, "Port")
                    .map(|n| n.text().unwrap_or_default().trim().to_owned())
                    .collect();
                if let Some(port) = ports.first() {
                    entry.port = port
                        .parse::<u16>()
                        .ok()
                        .filter(|p| *p != 0)
                        .ok_or_else(|| SimFault::invalid_arg("PortAlreadyInUse", "Invalid port"))?;
                }
            }
            let ports: Vec<u16> = next.iter().filter(|p| p.enabled).map(|p| p.port).collect();
            if ports
                .iter()
                .enumerate()
                .any(|(i, p)| ports[..i].contains(p))
            {
                return Err(SimFault::invalid_arg(
                    "PortAlreadyInUse",
                    "Two protocols on one port",
                ));
            }
            if !next
                .iter()
                .any(|p| p.enabled && (p.name == "HTTP" || p.name == "HTTPS"))
            {
                return Err(SimFault::sender(
                    &["OperationProhibited"],
                    "Disabling both HTTP and HTTPS would lock the camera",
                ));
            }
            state.protocols = next;
            changed("")
        }
        "GetNetworkDefaultGateway" => {
            let body: String = state
                .gateway
                .iter()
                .map(|g| el("tt:IPv4Address", g))
                .collect();
            done(&format!("<tds:NetworkGateway>{body}</tds:NetworkGateway>"))
        }
        "SetNetworkDefaultGateway" => {
            let gateway = children(payload, "IPv4Address")
                .map(|n| ipv4(n.text().unwrap_or_default().trim()))
                .collect::<Result<Vec<_>, _>>()?;
            state.gateway = gateway;
            changed("")
        }
        "GetDiscoveryMode" => done(&el(
            "tds:DiscoveryMode",
            if state.discoverable {
                "Discoverable"
            } else {
                "NonDiscoverable"
            },
        )),
        "SetDiscoveryMode" => {
            state.discoverable = match required(payload, "DiscoveryMode")?.as_str() {
                "Discoverable" => true,
                "NonDiscoverable" => false,
                _ => return Err(SimFault::sender(&["InvalidArgs"], "Unknown discovery mode")),
            };
            changed("")
        }
        "GetZeroConfiguration" => {
            let z = &state.zero_conf;
            let addresses = if z.enabled {
                el("tt:Addresses", z.address)
            } else {
                String::new()
            };
            done(&format!(
                "<tds:ZeroConfiguration>{}{}{addresses}</tds:ZeroConfiguration>",
                el("tt:InterfaceToken", &z.interface),
                el("tt:Enabled", z.enabled)
            ))
        }
        "SetZeroConfiguration" => {
            let token = required(payload, "InterfaceToken")?;
            if !state.interfaces.iter().any(|i| i.token == token) {
                return Err(SimFault::invalid_arg(
                    "InvalidNetworkInterface",
                    "No such interface",
                ));
            }
            let enabled = boolean(payload, "Enabled")?
                .ok_or_else(|| SimFault::sender(&["InvalidArgs"], "Enabled is missing"))?;
            state.zero_conf.interface = token;
            state.zero_conf.enabled = enabled;
            changed("")
        }
        "GetIPAddressFilter" => {
            let f = &state.ip_filter;
            let v4: String = f
                .ipv4
                .iter()
                .map(|(a, p)| {
                    format!(
                        "<tt:IPv4Address>{}{}</tt:IPv4Address>",
                        el("tt:Address", a),
                        el("tt:PrefixLength", p)
                    )
                })
                .collect();
            let v6: String = f
                .ipv6
                .iter()
                .map(|(a, p)| {
                    format!(
                        "<tt:IPv6Address>{}{}</tt:IPv6Address>",
                        el("tt:Address", a),
                        el("tt:PrefixLength", p)
                    )
                })
                .collect();
            done(&format!(
                "<tds:IPAddressFilter>{}{v4}{v6}</tds:IPAddressFilter>",
                el(
                    "tt:Type",
                    if f.kind == FilterType::Allow {
                        "Allow"
                    } else {
                        "Deny"
                    }
                )
            ))
        }
        "SetIPAddressFilter" | "AddIPAddressFilter" | "RemoveIPAddressFilter" => {
            let filter = child(payload, "IPAddressFilter")
                .ok_or_else(|| SimFault::sender(&["InvalidArgs"], "IPAddressFilter is missing"))?;
            let kind = match required(filter, "Type")?.as_str() {
                "Allow" => FilterType::Allow,
                "Deny" => FilterType::Deny,
                _ => return Err(SimFault::sender(&["InvalidArgs"], "Unknown filter type")),
            };
            let mut v4 = Vec::new();
            for a in children(filter, "IPv4Address") {
                let address = ipv4(&text(a, "Address").unwrap_or_default())?;
                let prefix = text(a, "PrefixLength")
                    .and_then(|p| p.parse::<u8>().ok())
                    .filter(|p| *p <= 32)
                    .ok_or_else(|| {
                        SimFault::invalid_arg("InvalidIPv4Address", "Bad prefix length")
                    })?;
                v4.push((address, prefix));
            }
            let mut v6 = Vec::new();
            for a in children(filter, "IPv6Address") {
                let address = text(a, "Address")
                    .and_then(|a| a.parse::<std::net::Ipv6Addr>().ok())
                    .ok_or_else(|| {
                        SimFault::invalid_arg("InvalidIPv6Address", "Not a valid IPv6 address")
                    })?;
                let prefix = text(a, "PrefixLength")
                    .and_then(|p| p.parse::<u8>().ok())
                    .filter(|p| *p <= 128)
                    .ok_or_else(|| {
                        SimFault::invalid_arg("InvalidIPv6Address", "Bad prefix length")
                    })?;
                v6.push((address, prefix));
            }
            let f = &mut state.ip_filter;
            match op {
                "SetIPAddressFilter" => {
                    f.kind = kind;
                    f.ipv4 = v4;
                    f.ipv6 = v6;
                }
                "AddIPAddressFilter" => {
                    f.kind = kind;
                    if f.ipv4.len() + v4.len() > 32 || f.ipv6.len() + v6.len() > 32 {
                        return Err(SimFault::invalid_arg(
                            "IPFilterListIsFull",
                            "At most 32 entries",
                        ));
                    }
                    f.ipv4.extend(v4);
                    f.ipv6.extend(v6);
                }
                _ => {
                    if v4.iter().any(|a| !f.ipv4.contains(a))
                        || v6.iter().any(|a| !f.ipv6.contains(a))
                    {
                        return Err(SimFault::invalid_arg(
                            "NoIPv4Address",
                            "Address not in the filter",
                        ));
                    }
                    f.ipv4.retain(|a| !v4.contains(a));
                    f.ipv6.retain(|a| !v6.contains(a));
                }
            }
            changed("")
        }
        "GetScopes" => {
            let fixed = state.fixed_scopes(ctx.model);
            let body: String = fixed
                .iter()
                .map(|s| ("Fixed", s))
                .chain(state.scopes.iter().map(|s| ("Configurable", s)))
                .map(|(def, s)| {
                    format!(
                        "<tds:Scopes>{}{}</tds:Scopes>",
                        el("tt:ScopeDef", def),
                        el("tt:ScopeItem", s)
                    )
                })
                .collect();
            done(&body)
        }
        "SetScopes" | "AddScopes" => {
            let name = if op == "SetScopes" {
                "Scopes"
            } else {
                "ScopeItem"
            };
            let items: Vec<String> = children(payload, name)
                .map(|n| n.text().unwrap_or_default().trim().to_owned())
                .collect();
            if items
                .iter()
                .any(|s| !s.starts_with("onvif://www.onvif.org/"))
            {
                return Err(SimFault::invalid_arg(
                    "InvalidScope",
                    "Scopes must be onvif:// URIs",
                ));
            }
            let fixed = state.fixed_scopes(ctx.model);
            if items.iter().any(|s| fixed.contains(s)) {
                return Err(SimFault::sender(
                    &["OperationProhibited", "ScopeOverwrite"],
                    "A fixed scope cannot be set",
                ));
            }
            if op == "SetScopes" {
                state.scopes = items;
            } else {
                if state.scopes.len() + items.len() > 32 {
                    return Err(SimFault::receiver(
                        &["Action", "TooManyScopes"],
                        "Too many scopes",
                    ));
                }
                state.scopes.extend(items);
            }
            changed("")
        }
        "RemoveScopes" => {
            let items: Vec<String> = children(payload, "ScopeItem")
                .map(|n| n.text().unwrap_or_default().trim().to_owned())
                .collect();
            let fixed = state.fixed_scopes(ctx.model);
            if items.iter().any(|s| fixed.contains(s)) {
                return Err(SimFault::sender(
                    &["OperationProhibited", "FixedScope"],
                    "Fixed scopes cannot be removed",
                ));
            }
            if items.iter().any(|s| !state.scopes.contains(s)) {
                return Err(SimFault::invalid_arg("NoScope", "Scope does not exist"));
            }
            state.scopes.retain(|s| !items.contains(s));
            let body: String = items.iter().map(|s| el("tds:ScopeItem", s)).collect();
            changed(&body)
        }
        "GetUsers" => {
            let body: String = state
                .users
                .iter()
                .map(|u| {
                    format!(
                        "<tds:User>{}{}</tds:User>",
                        el("tt:Username", &u.name),
                        el("tt:UserLevel", level_name(u.level))
                    )
                })
                .collect();
            done(&body)
        }
        "CreateUsers" => {
            let mut next = state.users.clone();
            for u in children(payload, "User") {
                let user = parse_user(u, true)?;
                if next.iter().any(|e| e.name == user.name) {
                    return Err(SimFault::sender(
                        &["OperationProhibited", "UsernameClash"],
                        "Username already exists",
                    ));
                }
                if next.len() >= MAX_USERS {
                    return Err(SimFault::receiver(
                        &["Action", "TooManyUsers"],
                        "Maximum number of users reached",
                    ));
                }
                next.push(user);
            }
            let names: Vec<String> = next[state.users.len()..]
                .iter()
                .map(|u| u.name.clone())
                .collect();
            state.users = next;
            for name in names {
                state.log(ctx.now, LogKind::Access, format!("User {name} created"));
            }
            changed("")
        }
        "DeleteUsers" => {
            let names: Vec<String> = children(payload, "Username")
                .map(|n| n.text().unwrap_or_default().trim().to_owned())
                .collect();
            if names
                .iter()
                .any(|n| !state.users.iter().any(|u| &u.name == n))
            {
                return Err(SimFault::invalid_arg("UsernameMissing", "No such user"));
            }
            let remaining: Vec<User> = state
                .users
                .iter()
                .filter(|u| !names.contains(&u.name))
                .cloned()
                .collect();
            if !remaining
                .iter()
                .any(|u| u.level == UserLevel::Administrator)
            {
                return Err(SimFault::invalid_arg(
                    "FixedUser",
                    "The last administrator cannot be deleted",
                ));
            }
            state.users = remaining;
            for name in names {
                state.log(ctx.now, LogKind::Access, format!("User {name} deleted"));
            }
            changed("")
        }
        "SetUser" => {
            let mut next = state.users.clone();
            for u in children(payload, "User") {
                let user = parse_user(u, false)?;
                let entry = next
                    .iter_mut()
                    .find(|e| e.name == user.name)
                    .ok_or_else(|| SimFault::invalid_arg("UsernameMissing", "No such user"))?;
                entry.level = user.level;
                if !user.password.is_empty() {
                    entry.password = user.password;
                }
            }
            if !next.iter().any(|u| u.level == UserLevel::Administrator) {
                return Err(SimFault::invalid_arg(
                    "FixedUser",
                    "The last administrator must stay an administrator",
                ));
            }
            state.users = next;
            state.log(ctx.now, LogKind::Access, "User settings changed");
            changed("")
        }
        "GetSystemLog" => {
            let kind = match required(payload, "LogType")?.as_str() {
                "System" => LogKind::System,
                "Access" => LogKind::Access,
                _ => return Err(SimFault::sender(&["InvalidArgs"], "Unknown log type")),
            };
            let lines: String = state
                .log
                .iter()
                .filter(|e| e.kind == kind)
                .map(|e| format!("{} {}\n", e.time, e.message))
                .collect();
            done(&format!(
                "<tds:SystemLog>{}</tds:SystemLog>",
                el("tt:String", lines)
            ))
        }
        "SystemReboot" => {
            state.log(ctx.now, LogKind::System, "Reboot requested");
            Ok((respond(op, &el("tds:Message", "Rebooting")), Effect::Reboot))
        }
        "SetSystemFactoryDefault" => {
            let hard = match required(payload, "FactoryDefault")?.as_str() {
                "Hard" => true,
                "Soft" => false,
                _ => {
                    return Err(SimFault::sender(
                        &["InvalidArgs"],
                        "Unknown factory default type",
                    ))
                }
            };
            Ok((respond(op, ""), Effect::FactoryReset { hard }))
        }
        _ => Err(SimFault::action_not_supported()),
    }
}

fn network_host(element: &str, s: &NtpServer) -> String {
    let inner = match s {
        NtpServer::Ipv4(a) => format!("<tt:Type>IPv4</tt:Type>{}", el("tt:IPv4Address", a)),
        NtpServer::Ipv6(a) => format!("<tt:Type>IPv6</tt:Type>{}", el("tt:IPv6Address", a)),
        NtpServer::Dns(n) => format!("<tt:Type>DNS</tt:Type>{}", el("tt:DNSname", n)),
    };
    format!("<{element}>{inner}</{element}>")
}

fn parse_user(node: roxmltree::Node<'_, '_>, creating: bool) -> Result<User, SimFault> {
    let name = required(node, "Username")?;
    if name.chars().count() > MAX_USERNAME_LEN {
        return Err(SimFault::sender(
            &["OperationProhibited", "UsernameTooLong"],
            "Username too long",
        ));
    }
    if name.chars().count() < 3 || name.chars().any(|c| c.is_control() || c == ':') {
        return Err(SimFault::sender(
            &["OperationProhibited", "UsernameTooShort"],
            "Username too short or invalid",
        ));
    }
    let password = text(node, "Password").unwrap_or_default();
    if password.chars().count() > MAX_PASSWORD_LEN {
        return Err(SimFault::sender(
            &["OperationProhibited", "PasswordTooLong"],
            "Password too long",
        ));
    }
    if creating && password.is_empty() {
        return Err(SimFault::sender(
            &["OperationProhibited", "PasswordTooWeak"],
            "A password is required",
        ));
    }
    let level = parse_level(&required(node, "UserLevel")?)?;
    Ok(User {
        name,
        password,
        level,
    })
}

fn parse_date_time(node: roxmltree::Node<'_, '_>) -> Result<OffsetDateTime, SimFault> {
    let bad = || SimFault::invalid_arg("InvalidDateTime", "Not a valid date and time");
    let num = |parent: Option<roxmltree::Node<'_, '_>>, name: &str| -> Result<i32, SimFault> {
        parent
            .and_then(|p| text(p, name))
            .and_then(|v| v.parse::<i32>().ok())
            .ok_or_else(bad)
    };
    let date = child(node, "Date");
    let time_node = child(node, "Time");
    let month = time::Month::try_from(u8::try_from(num(date, "Month")?).map_err(|_| bad())?)
        .map_err(|_| bad())?;
    let date = time::Date::from_calendar_date(
        num(date, "Year")?,
        month,
        u8::try_from(num(date, "Day")?).map_err(|_| bad())?,
    )
    .map_err(|_| bad())?;
    let clock = time::Time::from_hms(
        u8::try_from(num(time_node, "Hour")?).map_err(|_| bad())?,
        u8::try_from(num(time_node, "Minute")?).map_err(|_| bad())?,
        u8::try_from(num(time_node, "Second")?).map_err(|_| bad())?,
    )
    .map_err(|_| bad())?;
    Ok(date.with_time(clock).assume_utc())
}
