//! What every discovery method reports: one [`Sighting`] per device per answer, sent down a
//! channel as it arrives, so a caller can merge, show and stop at will (dropping the scan's task
//! cancels it). Each method fills what its protocol tells; the merger (in `camward-core`) joins
//! sightings of one device by MAC, serial or endpoint reference.
use std::net::Ipv4Addr;

use serde::Serialize;

/// A discovery method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// ONVIF WS-Discovery (Probe/ProbeMatches, Hello/Bye).
    WsDiscovery,
    /// mDNS / DNS-SD.
    Mdns,
    /// The link-local sweep of 169.254.0.0/16 (neighbour table, ARP, then TCP and ONVIF).
    LinkLocal,
    /// i-PRO (Panasonic) Easy IP Setup.
    EasyIp,
    /// Hikvision SADP.
    Sadp,
}

impl Method {
    /// Every method, in the order a scan starts them.
    pub const ALL: [Method; 5] = [
        Method::WsDiscovery,
        Method::Mdns,
        Method::LinkLocal,
        Method::EasyIp,
        Method::Sadp,
    ];

    /// The name used on the command line and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Method::WsDiscovery => "ws-discovery",
            Method::Mdns => "mdns",
            Method::LinkLocal => "link-local",
            Method::EasyIp => "easy-ip",
            Method::Sadp => "sadp",
        }
    }

    /// The method with this [`name`](Method::name).
    pub fn from_name(name: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.name() == name)
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One device as one method saw it once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Sighting {
    /// Which method saw it.
    pub method: Method,
    /// Its IPv4 address, when the method tells (or the datagram came from it).
    pub ip: Option<Ipv4Addr>,
    /// URLs to reach it (ONVIF device service, HTTP, …).
    pub urls: Vec<String>,
    /// WS-Discovery endpoint reference (`urn:uuid:…`).
    pub endpoint: Option<String>,
    /// MAC address, lower-case with colons ([`crate::scopes::normalise_mac`]).
    pub mac: Option<String>,
    /// Manufacturer.
    pub vendor: Option<String>,
    /// Model.
    pub model: Option<String>,
    /// A friendly name (mDNS instance name, ONVIF `name` scope, …).
    pub name: Option<String>,
    /// Serial number.
    pub serial: Option<String>,
    /// Firmware version.
    pub firmware: Option<String>,
    /// `Some(true)` when the device says it is in its factory state (not activated, no admin).
    pub factory_fresh: Option<bool>,
    /// True for a goodbye (WS-Discovery Bye, mDNS goodbye): the device is leaving.
    pub gone: bool,
}

impl Sighting {
    /// An empty sighting by `method`.
    pub fn new(method: Method) -> Sighting {
        Sighting {
            method,
            ip: None,
            urls: Vec::new(),
            endpoint: None,
            mac: None,
            vendor: None,
            model: None,
            name: None,
            serial: None,
            firmware: None,
            factory_fresh: None,
            gone: false,
        }
    }
}

/// Where scanners send what they see.
pub type Sightings = tokio::sync::mpsc::UnboundedSender<Sighting>;

/// What one scanner did, for logs and progress lines.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ScanStats {
    /// Datagrams or requests sent.
    pub sent: usize,
    /// Answers read and accepted.
    pub accepted: usize,
    /// Datagrams dropped: unreadable, hostile, or not an answer to us.
    pub dropped: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_names_round_trip() {
        for m in Method::ALL {
            assert_eq!(Method::from_name(m.name()), Some(m));
            assert_eq!(
                serde_json::to_value(m).ok(),
                Some(serde_json::Value::String(m.name().into()))
            );
        }
        assert_eq!(Method::from_name("upnp"), None);
    }
}
