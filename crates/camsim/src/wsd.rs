//! The cameras' WS-Discovery responder (ONVIF Core §7.3; WS-Discovery 2005/04 over SOAP 1.2).
//!
//! One UDP socket per fleet on port 3702 joins 239.255.255.250 on the interface of the fleet's
//! bind address. A Probe whose `d:Types` ask for `dn:NetworkVideoTransmitter` or `tds:Device`
//! (or ask for nothing) is answered by unicast with one ProbeMatches per *discoverable* camera
//! (`SetDiscoveryMode NonDiscoverable` silences a camera, ONVIF Core §8.3.3), `a:RelatesTo` set to
//! the Probe's `a:MessageID`, the camera's `urn:uuid` endpoint reference, its scopes (including
//! the Profile Q factory state) and its device service URL.
//!
//! This is written independently of Camward's own discovery client, so the two meet only on the
//! wire. It is off unless asked for ([`crate::FleetConfig::ws_discovery`]): multicast belongs in a
//! test's own network namespace, never on a real interface.
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::Arc;

use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

use crate::server::Camera;

const SOAP_ENV: &str = "http://www.w3.org/2003/05/soap-envelope";
const WSA: &str = "http://schemas.xmlsoap.org/ws/2004/08/addressing";
const WSD: &str = "http://schemas.xmlsoap.org/ws/2005/04/discovery";
const DN: &str = "http://www.onvif.org/ver10/network/wsdl";
const TDS: &str = "http://www.onvif.org/ver10/device/wsdl";
const ANONYMOUS: &str = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous";
/// The WS-Discovery multicast group and port.
pub const GROUP: Ipv4Addr = Ipv4Addr::new(239, 255, 255, 250);
/// The WS-Discovery port.
pub const PORT: u16 = 3702;
/// A device answers a multicast Probe after a random delay of up to this (WS-Discovery 2005/04
/// §3.1.3, APP_MAX_DELAY), so that a switch full of cameras does not answer in one burst.
pub const APP_MAX_DELAY_MS: u64 = 500;

/// A Probe as a camera reads it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ProbeRequest {
    pub message_id: String,
    /// True when the probe's types include one an ONVIF camera has (or it asks for none).
    pub wants_cameras: bool,
}

fn child<'a, 'i>(
    n: roxmltree::Node<'a, 'i>,
    ns: &str,
    local: &str,
) -> Option<roxmltree::Node<'a, 'i>> {
    n.children()
        .find(|c| c.tag_name().namespace() == Some(ns) && c.tag_name().name() == local)
}

/// Reads a Probe; anything else (or anything malformed) is `None` and is ignored, as firmware does.
pub(crate) fn parse_probe(datagram: &[u8]) -> Option<ProbeRequest> {
    let doc = roxmltree::Document::parse(std::str::from_utf8(datagram).ok()?).ok()?;
    let root = doc.root_element();
    if root.tag_name().namespace() != Some(SOAP_ENV) {
        return None;
    }
    let header = child(root, SOAP_ENV, "Header")?;
    let action = child(header, WSA, "Action")?.text()?.trim().to_owned();
    if action != format!("{WSD}/Probe") {
        return None;
    }
    let message_id = child(header, WSA, "MessageID")?.text()?.trim().to_owned();
    let probe = child(child(root, SOAP_ENV, "Body")?, WSD, "Probe")?;
    let wants_cameras = match child(probe, WSD, "Types").and_then(|t| t.text().map(|s| (t, s))) {
        None => true,
        Some((node, text)) => text.split_whitespace().any(|q| {
            let (prefix, local) = q.split_once(':').map_or((None, q), |(p, l)| (Some(p), l));
            let ns = node.lookup_namespace_uri(prefix).unwrap_or_default();
            (ns == DN && local == "NetworkVideoTransmitter") || (ns == TDS && local == "Device")
        }),
    };
    Some(ProbeRequest {
        message_id,
        wants_cameras,
    })
}

fn text(w: &mut Writer<Vec<u8>>, name: &str, value: &str) {
    let _ = w.write_event(Event::Start(BytesStart::new(name)));
    let _ = w.write_event(Event::Text(BytesText::new(value)));
    let _ = w.write_event(Event::End(BytesEnd::new(name)));
}

/// The ProbeMatches a camera sends back.
pub(crate) fn probe_matches(relates_to: &str, epr: &str, scopes: &[String], xaddr: &str) -> String {
    let mut w = Writer::new(Vec::new());
    let envelope = BytesStart::new("SOAP-ENV:Envelope").with_attributes([
        ("xmlns:SOAP-ENV", SOAP_ENV),
        ("xmlns:wsa", WSA),
        ("xmlns:wsdd", WSD),
        ("xmlns:tdn", DN),
        ("xmlns:tds", TDS),
    ]);
    let _ = w.write_event(Event::Start(envelope));
    let _ = w.write_event(Event::Start(BytesStart::new("SOAP-ENV:Header")));
    text(
        &mut w,
        "wsa:MessageID",
        &format!("urn:uuid:{}", uuid::Uuid::new_v4()),
    );
    text(&mut w, "wsa:RelatesTo", relates_to);
    text(&mut w, "wsa:To", ANONYMOUS);
    text(&mut w, "wsa:Action", &format!("{WSD}/ProbeMatches"));
    let _ = w.write_event(Event::End(BytesEnd::new("SOAP-ENV:Header")));
    let _ = w.write_event(Event::Start(BytesStart::new("SOAP-ENV:Body")));
    let _ = w.write_event(Event::Start(BytesStart::new("wsdd:ProbeMatches")));
    let _ = w.write_event(Event::Start(BytesStart::new("wsdd:ProbeMatch")));
    let _ = w.write_event(Event::Start(BytesStart::new("wsa:EndpointReference")));
    text(&mut w, "wsa:Address", epr);
    let _ = w.write_event(Event::End(BytesEnd::new("wsa:EndpointReference")));
    text(
        &mut w,
        "wsdd:Types",
        "tdn:NetworkVideoTransmitter tds:Device",
    );
    text(&mut w, "wsdd:Scopes", &scopes.join(" "));
    text(&mut w, "wsdd:XAddrs", xaddr);
    text(&mut w, "wsdd:MetadataVersion", "1");
    let _ = w.write_event(Event::End(BytesEnd::new("wsdd:ProbeMatch")));
    let _ = w.write_event(Event::End(BytesEnd::new("wsdd:ProbeMatches")));
    let _ = w.write_event(Event::End(BytesEnd::new("SOAP-ENV:Body")));
    let _ = w.write_event(Event::End(BytesEnd::new("SOAP-ENV:Envelope")));
    String::from_utf8_lossy(&w.into_inner()).into_owned()
}

/// A Hello (with the camera's types, scopes and address) or a Bye (endpoint reference only),
/// multicast to the group (WS-Discovery 2005/04 §4.1, §4.2).
pub(crate) fn announcement(kind: &str, epr: &str, hello: Option<(&[String], &str)>) -> String {
    let mut w = Writer::new(Vec::new());
    let envelope = BytesStart::new("SOAP-ENV:Envelope").with_attributes([
        ("xmlns:SOAP-ENV", SOAP_ENV),
        ("xmlns:wsa", WSA),
        ("xmlns:wsdd", WSD),
        ("xmlns:tdn", DN),
        ("xmlns:tds", TDS),
    ]);
    let _ = w.write_event(Event::Start(envelope));
    let _ = w.write_event(Event::Start(BytesStart::new("SOAP-ENV:Header")));
    text(
        &mut w,
        "wsa:MessageID",
        &format!("urn:uuid:{}", uuid::Uuid::new_v4()),
    );
    text(
        &mut w,
        "wsa:To",
        "urn:schemas-xmlsoap-org:ws:2005:04:discovery",
    );
    text(&mut w, "wsa:Action", &format!("{WSD}/{kind}"));
    let _ = w.write_event(Event::Start(
        BytesStart::new("wsdd:AppSequence")
            .with_attributes([("InstanceId", "1"), ("MessageNumber", "1")]),
    ));
    let _ = w.write_event(Event::End(BytesEnd::new("wsdd:AppSequence")));
    let _ = w.write_event(Event::End(BytesEnd::new("SOAP-ENV:Header")));
    let _ = w.write_event(Event::Start(BytesStart::new("SOAP-ENV:Body")));
    let element = format!("wsdd:{kind}");
    let _ = w.write_event(Event::Start(BytesStart::new(element.as_str())));
    let _ = w.write_event(Event::Start(BytesStart::new("wsa:EndpointReference")));
    text(&mut w, "wsa:Address", epr);
    let _ = w.write_event(Event::End(BytesEnd::new("wsa:EndpointReference")));
    if let Some((scopes, xaddr)) = hello {
        text(
            &mut w,
            "wsdd:Types",
            "tdn:NetworkVideoTransmitter tds:Device",
        );
        text(&mut w, "wsdd:Scopes", &scopes.join(" "));
        text(&mut w, "wsdd:XAddrs", xaddr);
        text(&mut w, "wsdd:MetadataVersion", "1");
    }
    let _ = w.write_event(Event::End(BytesEnd::new(element.as_str())));
    let _ = w.write_event(Event::End(BytesEnd::new("SOAP-ENV:Body")));
    let _ = w.write_event(Event::End(BytesEnd::new("SOAP-ENV:Envelope")));
    String::from_utf8_lossy(&w.into_inner()).into_owned()
}

/// Binds the fleet's responder: port 3702 (shared, so several fleets in one namespace can each
/// answer), joined to the group on the interface that holds `bind`.
fn socket(bind: Ipv4Addr) -> std::io::Result<tokio::net::UdpSocket> {
    let socket = socket2::Socket::new(
        socket2::Domain::IPV4,
        socket2::Type::DGRAM,
        Some(socket2::Protocol::UDP),
    )?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    socket.bind(&SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, PORT)).into())?;
    socket.join_multicast_v4(&GROUP, &bind)?;
    socket.set_multicast_if_v4(&bind)?;
    socket.set_multicast_ttl_v4(1)?;
    socket.set_nonblocking(true)?;
    tokio::net::UdpSocket::from_std(socket.into())
}

/// A fleet's WS-Discovery responder: answers probes until stopped, and says Hello when it starts
/// and Bye when it stops, as ONVIF Core §7.3.1 has a device do when it joins and leaves.
pub(crate) struct Responder {
    socket: Arc<tokio::net::UdpSocket>,
    cameras: Vec<Arc<Camera>>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for Responder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Responder")
            .field("cameras", &self.cameras.len())
            .finish_non_exhaustive()
    }
}

impl Responder {
    /// Multicasts a Bye for every discoverable camera and stops answering.
    pub(crate) async fn stop(self) {
        self.task.abort();
        let _ = self.task.await;
        for camera in &self.cameras {
            if let Some((epr, _, _)) = camera.discovery_identity() {
                let bye = announcement("Bye", &epr, None);
                let _ = self.socket.send_to(bye.as_bytes(), (GROUP, PORT)).await;
            }
        }
    }
}

/// Starts answering probes for `cameras` (after multicasting a Hello for each discoverable one).
pub(crate) async fn start(cameras: Vec<Arc<Camera>>, bind: Ipv4Addr) -> std::io::Result<Responder> {
    let socket = Arc::new(socket(bind)?);
    for camera in &cameras {
        if let Some((epr, scopes, xaddr)) = camera.discovery_identity() {
            let hello = announcement("Hello", &epr, Some((&scopes, &xaddr)));
            socket.send_to(hello.as_bytes(), (GROUP, PORT)).await?;
        }
    }
    let answering = Arc::clone(&socket);
    let all = cameras.clone();
    let task = tokio::spawn(async move {
        let socket = answering;
        let cameras = all;
        let mut buf = vec![0u8; 65_536];
        loop {
            let Ok((n, from)) = socket.recv_from(&mut buf).await else {
                continue;
            };
            let Some(probe) = parse_probe(&buf[..n]) else {
                continue;
            };
            if !probe.wants_cameras {
                continue;
            }
            for camera in &cameras {
                let Some((epr, scopes, xaddr)) = camera.discovery_identity() else {
                    continue;
                };
                let reply = probe_matches(&probe.message_id, &epr, &scopes, &xaddr);
                let delay = rand::Rng::gen_range(&mut rand::thread_rng(), 0..APP_MAX_DELAY_MS);
                let socket = Arc::clone(&socket);
                tokio::spawn(async move {
                    tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
                    if let Err(e) = socket.send_to(reply.as_bytes(), from).await {
                        tracing::debug!(error = %e, "ProbeMatches not sent");
                    }
                });
            }
        }
    });
    Ok(Responder {
        socket,
        cameras,
        task,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(types: &str) -> String {
        format!(
            r#"<s:Envelope xmlns:s="{SOAP_ENV}" xmlns:a="{WSA}" xmlns:d="{WSD}" xmlns:x="{DN}" xmlns:y="{TDS}"><s:Header><a:Action>{WSD}/Probe</a:Action><a:MessageID>urn:uuid:42</a:MessageID></s:Header><s:Body><d:Probe>{types}</d:Probe></s:Body></s:Envelope>"#
        )
    }

    #[test]
    fn probes_for_cameras_are_answered_and_others_ignored() {
        let p =
            parse_probe(probe("<d:Types>x:NetworkVideoTransmitter</d:Types>").as_bytes()).unwrap();
        assert_eq!(p.message_id, "urn:uuid:42");
        assert!(p.wants_cameras);
        assert!(
            parse_probe(probe("<d:Types>y:Device</d:Types>").as_bytes())
                .unwrap()
                .wants_cameras
        );
        assert!(parse_probe(probe("").as_bytes()).unwrap().wants_cameras);
        assert!(
            !parse_probe(probe("<d:Types>x:Printer</d:Types>").as_bytes())
                .unwrap()
                .wants_cameras
        );
        assert!(parse_probe(b"<not xml").is_none());
        let matches = probe_matches(
            "urn:uuid:42",
            "urn:uuid:7",
            &["onvif://www.onvif.org/hardware/M".into()],
            "http://a/onvif/device_service",
        );
        assert!(
            parse_probe(matches.as_bytes()).is_none(),
            "a reply is not a probe"
        );
        let doc = roxmltree::Document::parse(&matches).unwrap();
        assert!(doc
            .descendants()
            .any(|n| n.tag_name().name() == "RelatesTo" && n.text() == Some("urn:uuid:42")));
    }

    #[test]
    fn hello_and_bye_name_the_camera_and_are_not_probes() {
        let scopes = vec!["onvif://www.onvif.org/hardware/M".to_owned()];
        let hello = announcement("Hello", "urn:uuid:7", Some((&scopes, "http://a/")));
        let bye = announcement("Bye", "urn:uuid:7", None);
        for (xml, kind) in [(&hello, "Hello"), (&bye, "Bye")] {
            assert!(parse_probe(xml.as_bytes()).is_none());
            let doc = roxmltree::Document::parse(xml).unwrap();
            let body = doc
                .descendants()
                .find(|n| n.tag_name().name() == kind)
                .unwrap();
            assert!(body
                .descendants()
                .any(|n| n.tag_name().name() == "Address" && n.text() == Some("urn:uuid:7")));
        }
        assert!(hello.contains("http://a/") && !bye.contains("XAddrs"));
    }
}
