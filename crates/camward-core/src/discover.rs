//! Discovery as a person uses it: pick interfaces (default: every up, non-loopback IPv4 one),
//! scan them, get one de-duplicated list of cameras with the methods that saw each.
//!
//! Today the method is WS-Discovery; mDNS, the link-local sweep, Easy IP Setup and SADP join the
//! same list as issue 3 adds them. Cameras are merged by endpoint reference, then MAC, then serial.
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::time::Duration;

use camward_discovery::scan;
use serde::Serialize;

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

/// The interfaces of this machine that have an IPv4 address.
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
                        "no interface {name} with an IPv4 address; these have one: {}",
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
#[derive(Clone, Debug, Serialize)]
pub struct FoundCamera {
    /// The WS-Discovery endpoint reference (`urn:uuid:…`), when it answered WS-Discovery.
    pub endpoint: Option<String>,
    /// Device service URLs it gave.
    pub addresses: Vec<String>,
    /// Model (`hardware` scope).
    pub model: Option<String>,
    /// Name scope.
    pub name: Option<String>,
    /// MAC address.
    pub mac: Option<String>,
    /// Serial number.
    pub serial: Option<String>,
    /// True when it says it is in its factory state (Profile Q FactoryDefault).
    pub factory_fresh: bool,
    /// Methods that saw it (`ws-discovery`, …).
    pub methods: Vec<String>,
    /// Interfaces it was seen on.
    pub interfaces: Vec<String>,
}

/// Scans `interfaces` with WS-Discovery for `wait` each (all at once) and merges the answers.
pub async fn discover(
    interfaces: &[Interface],
    wait: Duration,
) -> Result<Vec<FoundCamera>, CoreError> {
    let mut scans = tokio::task::JoinSet::new();
    for interface in interfaces {
        for address in &interface.addresses {
            let name = interface.name.clone();
            let address = *address;
            scans.spawn(async move { (name, address, scan::probe(address, wait).await) });
        }
    }
    let mut cameras: Vec<FoundCamera> = Vec::new();
    while let Some(joined) = scans.join_next().await {
        let Ok((name, address, result)) = joined else {
            continue;
        };
        let report = result.map_err(|e| CoreError {
            code: "discovery_socket".into(),
            message: format!("could not probe from {address}: {e}"),
            camera: "-".into(),
            step: format!("WS-Discovery on {name}"),
        })?;
        tracing::debug!(interface = %name, found = report.found.len(), dropped = report.dropped, "WS-Discovery scan done");
        for f in report.found {
            let seen = FoundCamera {
                endpoint: Some(f.endpoint.address.clone()),
                addresses: f.endpoint.xaddrs.clone(),
                model: f.scopes.hardware.clone(),
                name: f.scopes.name.clone(),
                mac: f.scopes.mac.clone(),
                serial: f.scopes.serial.clone(),
                factory_fresh: f.scopes.factory_default,
                methods: vec!["ws-discovery".into()],
                interfaces: vec![name.clone()],
            };
            merge(&mut cameras, seen);
        }
    }
    cameras.sort_by(|a, b| a.addresses.cmp(&b.addresses));
    Ok(cameras)
}

/// Adds `seen` to the list, merged into the entry with the same endpoint, MAC or serial.
fn merge(cameras: &mut Vec<FoundCamera>, seen: FoundCamera) {
    let same = |a: &Option<String>, b: &Option<String>| a.is_some() && a == b;
    let existing = cameras.iter_mut().find(|c| {
        same(&c.endpoint, &seen.endpoint)
            || same(&c.mac, &seen.mac)
            || same(&c.serial, &seen.serial)
    });
    match existing {
        None => cameras.push(seen),
        Some(c) => {
            for (into, from) in [
                (&mut c.addresses, seen.addresses),
                (&mut c.methods, seen.methods),
                (&mut c.interfaces, seen.interfaces),
            ] {
                for v in from {
                    if !into.contains(&v) {
                        into.push(v);
                    }
                }
            }
            c.endpoint = c.endpoint.take().or(seen.endpoint);
            c.model = c.model.take().or(seen.model);
            c.name = c.name.take().or(seen.name);
            c.mac = c.mac.take().or(seen.mac);
            c.serial = c.serial.take().or(seen.serial);
            c.factory_fresh |= seen.factory_fresh;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cam(endpoint: &str, mac: &str, addr: &str, iface: &str) -> FoundCamera {
        FoundCamera {
            endpoint: (!endpoint.is_empty()).then(|| endpoint.into()),
            addresses: vec![addr.into()],
            model: None,
            name: None,
            mac: (!mac.is_empty()).then(|| mac.into()),
            serial: None,
            factory_fresh: false,
            methods: vec!["ws-discovery".into()],
            interfaces: vec![iface.into()],
        }
    }

    #[test]
    fn the_same_camera_seen_twice_is_listed_once() {
        let mut list = Vec::new();
        merge(
            &mut list,
            cam("urn:uuid:1", "02:00:00:00:00:01", "http://a/", "eth0"),
        );
        merge(&mut list, cam("urn:uuid:1", "", "http://b/", "eth1"));
        merge(&mut list, cam("", "02:00:00:00:00:01", "http://a/", "eth0"));
        merge(
            &mut list,
            cam("urn:uuid:2", "02:00:00:00:00:02", "http://c/", "eth0"),
        );
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].addresses, ["http://a/", "http://b/"]);
        assert_eq!(list[0].interfaces, ["eth0", "eth1"]);
    }
}
