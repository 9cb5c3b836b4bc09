//! Hikvision SADP ("Search Active Devices Protocol"), the protocol of Hikvision's SADP Tool.
//!
//! Hikvision publishes no specification; what follows is what the SADP Tool and the cameras put
//! on the wire, as public captures and client implementations show it:
//!
//! - A client sends an **inquiry** by UDP to the multicast group 239.255.255.250, port 37020
//!   (the SSDP group, another port): a bare XML document
//!   `<Probe><Uuid>…</Uuid><Types>inquiry</Types></Probe>` whose `Uuid` is a fresh upper-case
//!   UUID.
//! - Every Hikvision device on the segment answers with a **ProbeMatch**, multicast back to the
//!   group on port 37020 (some firmware unicasts it to the sender instead), carrying the same
//!   `Uuid` and `Types`, and what the device is: `DeviceDescription` (the model), `DeviceSN`,
//!   `MAC`, `IPv4Address`, `IPv4SubnetMask`, `IPv4Gateway`, `HttpPort`, `CommandPort` (the SDK
//!   port), `DHCP`, `SoftwareVersion`, and, since activation arrived (2015 firmware), `Activated`:
//!   `false` for a device still in its factory state, without an `admin` password.
//!
//! Glossary: *inquiry* the search (`Types` = `inquiry`); *activation* Hikvision's first-boot step
//! that sets the `admin` password (there is no default password); *SDK port* `CommandPort`, the
//! proprietary binary API (8000).
//!
//! Because answers are multicast, every client on the segment sees every answer; they are told
//! apart by `Uuid` alone ([`ProbeMatch::parse`] accepts only an answer to our inquiry). Datagrams
//! are hostile input: the parser caps the size and the node count, refuses DTDs (roxmltree does),
//! caps every field's length and drops anything else with a typed reason ([`SadpError`]).
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::Duration;

use serde::Serialize;

use crate::scopes::normalise_mac;
use crate::sighting::{Method, ScanStats, Sighting, Sightings};

/// The SADP multicast group and port.
pub const GROUP: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(239, 255, 255, 250), PORT);
/// The SADP port: inquiries and answers both go to it.
pub const PORT: u16 = 37020;
/// The largest datagram read. A ProbeMatch is about 1.6 KiB; anything much larger is not one.
pub const MAX_DATAGRAM: usize = 8192;
/// The largest XML tree read, in nodes (a ProbeMatch has about 120).
pub const MAX_NODES: u32 = 1024;
/// The longest field value kept, in bytes.
pub const MAX_FIELD: usize = 256;
/// The vendor name put in sightings.
pub const VENDOR: &str = "Hikvision";

/// The receive buffer asked for: a full segment of cameras answers within a few hundred ms.
const RECEIVE_BUFFER: usize = 4 << 20;

/// An SADP inquiry, ready to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inquiry {
    /// Upper-case UUID; answers echo it.
    pub uuid: String,
}

impl Inquiry {
    /// An inquiry with a fresh random UUID.
    pub fn new() -> Self {
        Self {
            uuid: uuid::Uuid::new_v4().to_string().to_ascii_uppercase(),
        }
    }

    /// The datagram, as the SADP Tool sends it.
    pub fn to_xml(&self) -> String {
        format!(
            r#"<?xml version="1.0" encoding="utf-8"?><Probe><Uuid>{}</Uuid><Types>inquiry</Types></Probe>"#,
            self.uuid
        )
    }
}

impl Default for Inquiry {
    fn default() -> Self {
        Self::new()
    }
}

/// What a device says about itself in a ProbeMatch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProbeMatch {
    /// The inquiry answered.
    pub uuid: String,
    /// MAC address, lower-case with colons.
    pub mac: String,
    /// `DeviceType` (a numeric class code).
    pub device_type: Option<String>,
    /// `DeviceDescription`: the model, e.g. `DS-2CD2143G2-I`.
    pub model: Option<String>,
    /// `DeviceSN`.
    pub serial: Option<String>,
    /// `IPv4Address`; `None` when absent, unreadable or `0.0.0.0`.
    pub ipv4: Option<Ipv4Addr>,
    /// `IPv4SubnetMask`.
    pub subnet_mask: Option<Ipv4Addr>,
    /// `IPv4Gateway`.
    pub gateway: Option<Ipv4Addr>,
    /// `HttpPort`.
    pub http_port: Option<u16>,
    /// `CommandPort`: the SDK port.
    pub command_port: Option<u16>,
    /// `DHCP`.
    pub dhcp: Option<bool>,
    /// `SoftwareVersion`: the firmware.
    pub firmware: Option<String>,
    /// `Activated`; `false` for a device in its factory state. Firmware from before activation
    /// existed does not send it.
    pub activated: Option<bool>,
}

/// Why an SADP datagram was dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SadpError {
    /// Larger than [`MAX_DATAGRAM`].
    #[error("datagram of {0} bytes is larger than any ProbeMatch")]
    TooLarge(usize),
    /// Not well-formed XML (or not UTF-8, or with a DTD, or too many nodes).
    #[error("not well-formed XML: {0}")]
    NotXml(String),
    /// An inquiry (`Probe`): ours looping back, or another client's.
    #[error("an inquiry, not an answer")]
    Inquiry,
    /// Well-formed, but its root is not `ProbeMatch`.
    #[error("root element {0:?} is not ProbeMatch")]
    NotProbeMatch(String),
    /// A ProbeMatch answering another client's inquiry.
    #[error("answers inquiry {0:?}, not ours")]
    OtherInquiry(String),
    /// A ProbeMatch of another type than `inquiry`.
    #[error("ProbeMatch of type {0:?}, not inquiry")]
    OtherType(String),
    /// A required field is missing or empty.
    #[error("{0} is missing")]
    Missing(&'static str),
    /// A required field is unreadable.
    #[error("{0} is not valid")]
    Invalid(&'static str),
    /// A field is longer than [`MAX_FIELD`].
    #[error("{0} is longer than {MAX_FIELD} bytes")]
    FieldTooLong(&'static str),
}

impl SadpError {
    /// Stable code for logs and the UI.
    pub fn code(&self) -> &'static str {
        match self {
            SadpError::TooLarge(_) => "sadp_too_large",
            SadpError::NotXml(_) => "sadp_not_xml",
            SadpError::Inquiry => "sadp_inquiry",
            SadpError::NotProbeMatch(_) => "sadp_not_probe_match",
            SadpError::OtherInquiry(_) => "sadp_other_inquiry",
            SadpError::OtherType(_) => "sadp_other_type",
            SadpError::Missing(_) => "sadp_incomplete",
            SadpError::Invalid(_) => "sadp_invalid_field",
            SadpError::FieldTooLong(_) => "sadp_field_too_long",
        }
    }
}

type Node<'a, 'input> = roxmltree::Node<'a, 'input>;

/// At most this many characters of a foreign name go into an error.
const NAME_IN_ERROR: usize = 64;

fn clip(text: &str) -> String {
    text.chars().take(NAME_IN_ERROR).collect()
}

/// The trimmed, non-empty text of the first child element `name`; an over-long value is an error.
fn field<'a>(root: Node<'a, '_>, name: &'static str) -> Result<Option<&'a str>, SadpError> {
    let Some(text) = root
        .children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
        .and_then(|c| c.text())
        .map(str::trim)
        .filter(|t| !t.is_empty())
    else {
        return Ok(None);
    };
    if text.len() > MAX_FIELD {
        return Err(SadpError::FieldTooLong(name));
    }
    Ok(Some(text))
}

fn string(root: Node<'_, '_>, name: &'static str) -> Result<Option<String>, SadpError> {
    Ok(field(root, name)?.map(str::to_owned))
}

fn address(root: Node<'_, '_>, name: &'static str) -> Result<Option<Ipv4Addr>, SadpError> {
    Ok(field(root, name)?.and_then(|t| t.parse().ok()))
}

fn port(root: Node<'_, '_>, name: &'static str) -> Result<Option<u16>, SadpError> {
    Ok(field(root, name)?
        .and_then(|t| t.parse().ok())
        .filter(|p| *p != 0))
}

fn flag(root: Node<'_, '_>, name: &'static str) -> Result<Option<bool>, SadpError> {
    Ok(field(root, name)?.and_then(|t| {
        if t.eq_ignore_ascii_case("true") {
            Some(true)
        } else if t.eq_ignore_ascii_case("false") {
            Some(false)
        } else {
            None
        }
    }))
}

impl ProbeMatch {
    /// Reads one datagram and accepts it only as a ProbeMatch answering `inquiry` (its `Uuid`
    /// compared without regard to case). Nothing here panics on any input.
    pub fn parse(datagram: &[u8], inquiry: &Inquiry) -> Result<ProbeMatch, SadpError> {
        if datagram.len() > MAX_DATAGRAM {
            return Err(SadpError::TooLarge(datagram.len()));
        }
        let text = std::str::from_utf8(datagram).map_err(|e| SadpError::NotXml(e.to_string()))?;
        let options = roxmltree::ParsingOptions {
            allow_dtd: false,
            nodes_limit: MAX_NODES,
            ..Default::default()
        };
        let doc = roxmltree::Document::parse_with_options(text, options)
            .map_err(|e| SadpError::NotXml(e.to_string()))?;
        let root = doc.root_element();
        match root.tag_name().name() {
            "ProbeMatch" => {}
            "Probe" => return Err(SadpError::Inquiry),
            other => return Err(SadpError::NotProbeMatch(clip(other))),
        }
        let uuid = field(root, "Uuid")?.ok_or(SadpError::Missing("Uuid"))?;
        if !uuid.eq_ignore_ascii_case(&inquiry.uuid) {
            return Err(SadpError::OtherInquiry(clip(uuid)));
        }
        if let Some(types) = field(root, "Types")? {
            if !types.eq_ignore_ascii_case("inquiry") {
                return Err(SadpError::OtherType(clip(types)));
            }
        }
        let mac = field(root, "MAC")?.ok_or(SadpError::Missing("MAC"))?;
        let mac = normalise_mac(mac).ok_or(SadpError::Invalid("MAC"))?;
        Ok(ProbeMatch {
            uuid: uuid.to_owned(),
            mac,
            device_type: string(root, "DeviceType")?,
            model: string(root, "DeviceDescription")?,
            serial: string(root, "DeviceSN")?,
            ipv4: address(root, "IPv4Address")?.filter(|a| !a.is_unspecified()),
            subnet_mask: address(root, "IPv4SubnetMask")?,
            gateway: address(root, "IPv4Gateway")?,
            http_port: port(root, "HttpPort")?,
            command_port: port(root, "CommandPort")?,
            dhcp: flag(root, "DHCP")?,
            firmware: string(root, "SoftwareVersion")?,
            activated: flag(root, "Activated")?,
        })
    }

    /// The sighting: the address the device states, else the one its datagram came from.
    pub fn to_sighting(&self, from: SocketAddr) -> Sighting {
        let ip = self.ipv4.or(match from.ip() {
            IpAddr::V4(v4) => Some(v4),
            IpAddr::V6(v6) => v6.to_ipv4_mapped(),
        });
        let mut sighting = Sighting::new(Method::Sadp);
        sighting.ip = ip;
        sighting.urls = ip
            .map(|ip| vec![format!("http://{ip}:{}/", self.http_port.unwrap_or(80))])
            .unwrap_or_default();
        sighting.mac = Some(self.mac.clone());
        sighting.vendor = Some(VENDOR.into());
        sighting.model = self.model.clone();
        sighting.serial = self.serial.clone();
        sighting.firmware = self.firmware.clone();
        sighting.factory_fresh = self.activated.map(|a| !a);
        sighting
    }
}

fn socket(interface: Ipv4Addr) -> std::io::Result<tokio::net::UdpSocket> {
    let socket = socket2::Socket::new(
        socket2::Domain::IPV4,
        socket2::Type::DGRAM,
        Some(socket2::Protocol::UDP),
    )?;
    // Answers are multicast to the group on port 37020, so the socket must own that port on the
    // wildcard address (a socket bound to a unicast address does not receive multicast). Shared,
    // so that the SADP Tool, another scan or camsim can hold it too; answers are told apart by
    // Uuid, not by socket.
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    socket.bind(&SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, PORT)).into())?;
    socket.join_multicast_v4(GROUP.ip(), &interface)?;
    // The inquiry leaves through this interface alone, with a TTL of 1: it never crosses a router.
    socket.set_multicast_if_v4(&interface)?;
    socket.set_multicast_ttl_v4(1)?;
    let _ = socket.set_recv_buffer_size(RECEIVE_BUFFER);
    socket.set_nonblocking(true)?;
    tokio::net::UdpSocket::from_std(socket.into())
}

/// Sends an SADP inquiry out of the interface that holds `interface` (twice, 100 ms apart: UDP
/// loses datagrams) and reports each device that answers it, once, to `found`, listening for
/// `wait`. Answers to other clients' inquiries and anything unreadable are dropped and counted.
pub async fn scan(
    interface: Ipv4Addr,
    wait: Duration,
    found: Sightings,
) -> std::io::Result<ScanStats> {
    let socket = socket(interface)?;
    let inquiry = Inquiry::new();
    let message = inquiry.to_xml();
    let mut stats = ScanStats::default();
    socket.send_to(message.as_bytes(), GROUP).await?;
    stats.sent += 1;
    let deadline = tokio::time::Instant::now() + wait;
    let mut resend = Some(tokio::time::Instant::now() + Duration::from_millis(100));
    let mut seen = std::collections::HashSet::new();
    // One byte more than accepted, so that an oversized datagram shows as one.
    let mut buf = vec![0u8; MAX_DATAGRAM + 1];
    loop {
        let until = resend.map_or(deadline, |r| r.min(deadline));
        match tokio::time::timeout_at(until, socket.recv_from(&mut buf)).await {
            Err(_) if Some(until) == resend => {
                socket.send_to(message.as_bytes(), GROUP).await?;
                stats.sent += 1;
                resend = None;
            }
            Err(_) => break,
            Ok(Err(e)) => return Err(e),
            // Our own inquiry, looped back by the kernel: neither an answer nor hostile.
            Ok(Ok((n, _))) if buf[..n] == *message.as_bytes() => {}
            Ok(Ok((n, from))) => match ProbeMatch::parse(&buf[..n], &inquiry) {
                Ok(answer) => {
                    stats.accepted += 1;
                    if seen.insert(answer.mac.clone())
                        && found.send(answer.to_sighting(from)).is_err()
                    {
                        // Nobody listens any more.
                        break;
                    }
                }
                Err(_) => stats.dropped += 1,
            },
        }
    }
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ProbeMatch as a factory-fresh camera sends it.
    fn answer(uuid: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><ProbeMatch><Uuid>{uuid}</Uuid><Types>inquiry</Types><DeviceType>138153</DeviceType><DeviceDescription>DS-2CD2143G2-I</DeviceDescription><DeviceSN>DS-2CD2143G2-I20230101AAWRJ12345678</DeviceSN><CommandPort>8000</CommandPort><HttpPort>80</HttpPort><MAC>44-19-b6-12-34-56</MAC><IPv4Address>169.254.20.1</IPv4Address><IPv4SubnetMask>255.255.0.0</IPv4SubnetMask><IPv4Gateway>0.0.0.0</IPv4Gateway><IPv6Address>::</IPv6Address><IPv6Gateway>::</IPv6Gateway><IPv6MaskLen>64</IPv6MaskLen><DHCP>false</DHCP><AnalogChannelNum>0</AnalogChannelNum><DigitalChannelNum>1</DigitalChannelNum><SoftwareVersion>V5.7.3build 220112</SoftwareVersion><DSPVersion>V7.3 build 220112</DSPVersion><BootTime>2026-12-01 09:00:00</BootTime><Encrypt>true</Encrypt><ResetAbility>false</ResetAbility><DiskNumber>0</DiskNumber><Activated>false</Activated><PasswordResetAbility>true</PasswordResetAbility><PasswordResetModeSecond>true</PasswordResetModeSecond><SupportSecurityQuestion>true</SupportSecurityQuestion><SupportHCPlatform>true</SupportHCPlatform><HCPlatformEnable>false</HCPlatformEnable><IsModifyVerificationCode>false</IsModifyVerificationCode><Salt>0123456789abcdef</Salt><DeviceLock>false</DeviceLock><SDKServerStatus>true</SDKServerStatus><SDKOverTLSPort>8443</SDKOverTLSPort></ProbeMatch>"#
        )
    }

    fn from() -> SocketAddr {
        "169.254.20.1:37020".parse().unwrap()
    }

    #[test]
    fn a_probe_match_answering_our_inquiry_becomes_a_sighting() {
        let inquiry = Inquiry::new();
        // Firmware echoes the Uuid, but not always in the case it was sent in.
        let m = ProbeMatch::parse(
            answer(&inquiry.uuid.to_ascii_lowercase()).as_bytes(),
            &inquiry,
        )
        .unwrap();
        assert_eq!(m.mac, "44:19:b6:12:34:56");
        assert_eq!(m.model.as_deref(), Some("DS-2CD2143G2-I"));
        assert_eq!(m.http_port, Some(80));
        assert_eq!(m.command_port, Some(8000));
        assert_eq!(m.dhcp, Some(false));
        assert_eq!(m.subnet_mask, Some(Ipv4Addr::new(255, 255, 0, 0)));
        assert_eq!(m.activated, Some(false));
        let s = m.to_sighting(from());
        assert_eq!(s.method, Method::Sadp);
        assert_eq!(s.ip, Some(Ipv4Addr::new(169, 254, 20, 1)));
        assert_eq!(s.urls, ["http://169.254.20.1:80/"]);
        assert_eq!(s.vendor.as_deref(), Some("Hikvision"));
        assert_eq!(
            s.serial.as_deref(),
            Some("DS-2CD2143G2-I20230101AAWRJ12345678")
        );
        assert_eq!(s.firmware.as_deref(), Some("V5.7.3build 220112"));
        assert_eq!(s.factory_fresh, Some(true));
        assert!(!s.gone);
    }

    #[test]
    fn the_inquiry_is_what_the_sadp_tool_sends() {
        let inquiry = Inquiry::new();
        assert_eq!(inquiry.uuid, inquiry.uuid.to_ascii_uppercase());
        let xml = inquiry.to_xml();
        let doc = roxmltree::Document::parse(&xml).unwrap();
        assert_eq!(doc.root_element().tag_name().name(), "Probe");
        assert!(doc
            .descendants()
            .any(|n| n.tag_name().name() == "Types" && n.text() == Some("inquiry")));
        // An inquiry (ours looping back, or another client's) is never taken for an answer.
        assert_eq!(
            ProbeMatch::parse(xml.as_bytes(), &inquiry),
            Err(SadpError::Inquiry)
        );
    }

    #[test]
    fn the_address_falls_back_to_the_sender_and_activation_may_be_unknown() {
        let inquiry = Inquiry::new();
        let xml = answer(&inquiry.uuid)
            .replace("<IPv4Address>169.254.20.1</IPv4Address>", "")
            .replace("<HttpPort>80</HttpPort>", "<HttpPort>8080</HttpPort>")
            .replace("<Activated>false</Activated>", "");
        let s = ProbeMatch::parse(xml.as_bytes(), &inquiry)
            .unwrap()
            .to_sighting("169.254.7.7:37020".parse().unwrap());
        assert_eq!(s.ip, Some(Ipv4Addr::new(169, 254, 7, 7)));
        assert_eq!(s.urls, ["http://169.254.7.7:8080/"]);
        assert_eq!(s.factory_fresh, None);
        let activated = answer(&inquiry.uuid).replace(">false</Activated>", ">true</Activated>");
        let m = ProbeMatch::parse(activated.as_bytes(), &inquiry).unwrap();
        assert_eq!(m.to_sighting(from()).factory_fresh, Some(false));
    }

    #[test]
    fn hostile_datagrams_are_dropped_with_a_reason() {
        let inquiry = Inquiry::new();
        let good = answer(&inquiry.uuid);
        let code = |bytes: &[u8]| ProbeMatch::parse(bytes, &inquiry).map_err(|e| e.code());
        assert_eq!(
            code(&answer(&Inquiry::new().uuid).into_bytes()),
            Err("sadp_other_inquiry")
        );
        assert_eq!(code(&vec![b' '; MAX_DATAGRAM + 1]), Err("sadp_too_large"));
        assert_eq!(code(b"<ProbeMatch>"), Err("sadp_not_xml"));
        assert_eq!(code(&[0xff, 0xfe, 0x00]), Err("sadp_not_xml"));
        let dtd = format!(
            "<!DOCTYPE ProbeMatch [<!ENTITY e \"boom\">]>{}",
            &good[good.find("<ProbeMatch>").unwrap()..]
        );
        assert_eq!(code(dtd.as_bytes()), Err("sadp_not_xml"));
        let many_nodes = format!("<ProbeMatch>{}</ProbeMatch>", "<x/>".repeat(2000));
        assert_eq!(code(many_nodes.as_bytes()), Err("sadp_not_xml"));
        assert_eq!(code(b"<Envelope/>"), Err("sadp_not_probe_match"));
        let no_uuid = good.replace(&format!("<Uuid>{}</Uuid>", inquiry.uuid), "");
        assert_eq!(code(no_uuid.as_bytes()), Err("sadp_incomplete"));
        let no_mac = good.replace("<MAC>44-19-b6-12-34-56</MAC>", "");
        assert_eq!(code(no_mac.as_bytes()), Err("sadp_incomplete"));
        let bad_mac = good.replace("44-19-b6-12-34-56", "44-19-b6");
        assert_eq!(code(bad_mac.as_bytes()), Err("sadp_invalid_field"));
        let update = good.replace("<Types>inquiry</Types>", "<Types>update</Types>");
        assert_eq!(code(update.as_bytes()), Err("sadp_other_type"));
        let long = good.replace(
            "DS-2CD2143G2-I<",
            &format!("{}<", "M".repeat(MAX_FIELD + 1)),
        );
        assert_eq!(code(long.as_bytes()), Err("sadp_field_too_long"));
        // Unreadable optional values are left out, not fatal.
        let odd = good
            .replace("<HttpPort>80</HttpPort>", "<HttpPort>http</HttpPort>")
            .replace("<IPv4Address>169.254.20.1<", "<IPv4Address>0.0.0.0<");
        let m = ProbeMatch::parse(odd.as_bytes(), &inquiry).unwrap();
        assert_eq!((m.http_port, m.ipv4), (None, None));
    }
}
