//! The services a hardening audit checks from outside, over real sockets on 127.0.0.1: the FTP
//! banner and a closed port once FTP is off, RTSP challenges with and without Basic, SNMP answers
//! for the right community only, and the settings page a person would click, persisted.
mod common;

use std::net::SocketAddr;
use std::time::Duration;

use camsim::{Flavour, Fleet, FleetConfig, InitialState, SimCamera};
use common::*;
use rasn::types::{Integer, ObjectIdentifier, OctetString};
use rasn_snmp::v2::{self, Pdu, Pdus, VarBind, VarBindValue};
use rasn_snmp::v2c::Message;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const ADMIN: &str = "admin";
const PASSWORD: &str = "Vq7#mT2x-Lp9!zR4";

async fn fleet(flavour: Flavour, state_dir: Option<std::path::PathBuf>) -> Fleet {
    Fleet::start(FleetConfig {
        flavour,
        state: InitialState::Configured,
        admin: Some((ADMIN.into(), PASSWORD.into())),
        services: true,
        state_dir,
        ..FleetConfig::default()
    })
    .await
    .expect("start")
}

fn base(camera: &SimCamera) -> String {
    format!("http://127.0.0.1:{}", camera.http_port())
}

fn at(port: Option<u16>) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port.expect("services run")))
}

/// Sends an HTTP request with a form body.
async fn request(
    url: &str,
    method: &str,
    body: &str,
    authorization: Option<&str>,
) -> std::io::Result<Reply> {
    let (host, path) = split_url(url);
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if let Some(a) = authorization {
        req.push_str(&format!("Authorization: {a}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    parse_reply(&raw(url, req.into_bytes()).await?)
}

/// Changes settings on the settings page as the administrator, with Digest MD5.
async fn set(camera: &SimCamera, form: &str) -> Reply {
    let url = format!("{}/admin/settings", base(camera));
    let first = request(&url, "POST", form, None).await.expect("reachable");
    assert_eq!(first.status, 401, "{}", first.body);
    let challenge = first
        .header_all("www-authenticate")
        .into_iter()
        .find(|c| param(c, "algorithm").as_deref() == Some("MD5"))
        .expect("an MD5 challenge");
    let authorization = digest_authorization(&challenge, ADMIN, PASSWORD, "/admin/settings", 1);
    let reply = request(&url, "POST", form, Some(&authorization))
        .await
        .expect("reachable");
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply
}

async fn ftp_banner(addr: SocketAddr) -> std::io::Result<String> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let mut buf = vec![0u8; 512];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
        .await
        .map_err(|_| std::io::Error::other("timeout"))??;
    Ok(String::from_utf8_lossy(&buf[..n]).into_owned())
}

async fn ftp_command(stream: &mut tokio::net::TcpStream, line: &str) -> String {
    stream
        .write_all(format!("{line}\r\n").as_bytes())
        .await
        .expect("sent");
    let mut buf = vec![0u8; 512];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
        .await
        .expect("in time")
        .expect("read");
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

/// Waits until a TCP port refuses (`open == false`) or accepts connections.
async fn port_becomes(addr: SocketAddr, open: bool) -> bool {
    for _ in 0..40 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() == open {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

async fn rtsp(addr: SocketAddr, request: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("sent");
    let mut out = Vec::new();
    let mut buf = vec![0u8; 4096];
    while !String::from_utf8_lossy(&out).contains("\r\n\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
            .await
            .expect("in time")
            .expect("read");
        assert!(n > 0, "closed early");
        out.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn describe(addr: SocketAddr) -> String {
    format!("DESCRIBE rtsp://{addr}/media/profile_1 RTSP/1.0\r\nCSeq: 2\r\nAccept: application/sdp\r\n\r\n")
}

fn challenges(reply: &str) -> Vec<&str> {
    reply
        .lines()
        .filter_map(|l| l.strip_prefix("WWW-Authenticate: "))
        .collect()
}

fn sys_descr_request(community: &str) -> Vec<u8> {
    rasn::ber::encode(&Message {
        version: Integer::from(1),
        community: OctetString::from_slice(community.as_bytes()),
        data: Pdus::GetRequest(v2::GetRequest(Pdu {
            request_id: 99,
            error_status: 0,
            error_index: 0,
            variable_bindings: vec![VarBind {
                name: ObjectIdentifier::new(vec![1, 3, 6, 1, 2, 1, 1, 1, 0]).expect("an OID"),
                value: VarBindValue::Unspecified,
            }],
        })),
    })
    .expect("encodes")
}

/// The sysDescr an agent answers, or `None` without an answer within 500 ms.
async fn snmp_get(addr: SocketAddr, community: &str) -> Option<String> {
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0")
        .await
        .expect("bind");
    socket
        .send_to(&sys_descr_request(community), addr)
        .await
        .expect("sent");
    let mut buf = vec![0u8; 4096];
    let (n, _) = tokio::time::timeout(Duration::from_millis(500), socket.recv_from(&mut buf))
        .await
        .ok()?
        .ok()?;
    let reply: Message<Pdus> = rasn::ber::decode(&buf[..n]).expect("a message");
    let Pdus::Response(v2::Response(pdu)) = reply.data else {
        panic!("not a response")
    };
    assert_eq!(pdu.request_id, 99);
    match &pdu.variable_bindings[0].value {
        VarBindValue::Value(rasn_smi::v2::ObjectSyntax::Simple(
            rasn_smi::v2::SimpleSyntax::String(s),
        )) => Some(String::from_utf8_lossy(s).into_owned()),
        other => panic!("not a string: {other:?}"),
    }
}

#[tokio::test]
async fn ftp_greets_until_the_settings_page_turns_it_off_and_the_port_closes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fleet = fleet(Flavour::IPro, Some(dir.path().to_owned())).await;
    let camera = &fleet.cameras()[0];
    let ftp = at(camera.info().ftp_port);
    assert_ne!(ftp.port(), 21, "free ports on a shared address");
    assert_eq!(
        ftp_banner(ftp).await.expect("open"),
        "220 camsim FTP server ready\r\n"
    );

    let mut session = tokio::net::TcpStream::connect(ftp).await.expect("connect");
    let mut banner = vec![0u8; 64];
    let _ = session.read(&mut banner).await.expect("banner");
    assert!(ftp_command(&mut session, "USER admin")
        .await
        .starts_with("331"));
    assert!(ftp_command(&mut session, "PASS wrong")
        .await
        .starts_with("530"));
    assert!(ftp_command(&mut session, "USER admin")
        .await
        .starts_with("331"));
    assert!(ftp_command(&mut session, &format!("PASS {PASSWORD}"))
        .await
        .starts_with("230"));
    assert!(ftp_command(&mut session, "QUIT").await.starts_with("221"));

    let page = set(camera, "ftp_server=off").await;
    assert!(page
        .body
        .contains("name=\"ftp_server\" data-current=\"off\""));
    assert!(port_becomes(ftp, false).await, "FTP port still open");
    assert!(!camera.state().ftp_server);
    let saved = std::fs::read_to_string(dir.path().join(format!("{}.json", camera.info().id)))
        .expect("state file");
    assert!(saved.contains("\"ftp_server\": false"), "not persisted");

    set(camera, "ftp_server=on").await;
    assert!(port_becomes(ftp, true).await, "FTP port not re-opened");
    assert!(ftp_banner(ftp).await.expect("open").starts_with("220 "));
    fleet.shutdown().await;
}

#[tokio::test]
async fn rtsp_and_http_challenges_offer_basic_only_while_it_is_on() {
    let fleet = fleet(Flavour::IPro, None).await;
    let camera = &fleet.cameras()[0];
    let rtsp_at = at(camera.info().rtsp_port);
    let options = rtsp(rtsp_at, "OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n").await;
    assert!(
        options.starts_with("RTSP/1.0 200 OK\r\nCSeq: 1\r\n"),
        "{options}"
    );
    assert!(options.contains("Public: OPTIONS, DESCRIBE"));

    let digest_only = rtsp(rtsp_at, &describe(rtsp_at)).await;
    assert!(
        digest_only.starts_with("RTSP/1.0 401 Unauthorized\r\nCSeq: 2\r\n"),
        "{digest_only}"
    );
    let offered = challenges(&digest_only);
    assert_eq!(offered.len(), 1, "{offered:?}");
    assert!(offered[0].starts_with("Digest realm=\"camsim\", nonce=\""));
    assert!(offered[0].ends_with("algorithm=MD5"));
    let onvif = post(
        &camera.device_url(),
        &envelope("<tds:GetUsers/>", None),
        None,
    )
    .await
    .expect("reply");
    assert_eq!(onvif.status, 401);
    assert!(onvif
        .header_all("www-authenticate")
        .iter()
        .all(|c| c.starts_with("Digest ")));

    set(camera, "rtsp_basic=on").await;
    let both = rtsp(rtsp_at, &describe(rtsp_at)).await;
    let offered = challenges(&both);
    assert_eq!(offered.len(), 2, "{offered:?}");
    assert_eq!(offered[1], "Basic realm=\"camsim\"");
    let onvif = post(
        &camera.device_url(),
        &envelope("<tds:GetUsers/>", None),
        None,
    )
    .await
    .expect("reply");
    assert!(onvif
        .header_all("www-authenticate")
        .contains(&"Basic realm=\"camsim\"".to_owned()));
    fleet.shutdown().await;
}

#[tokio::test]
async fn canon_ships_with_basic_and_guest_access_which_the_page_turns_off() {
    let fleet = fleet(Flavour::Canon, None).await;
    let camera = &fleet.cameras()[0];
    let rtsp_at = at(camera.info().rtsp_port);
    assert_eq!(
        challenges(&rtsp(rtsp_at, &describe(rtsp_at)).await).len(),
        2
    );
    let snapshot = format!("{}/snapshot.jpg", base(camera));
    let guest = request(&snapshot, "GET", "", None).await.expect("reply");
    assert_eq!(guest.status, 200);
    assert_eq!(guest.header("content-type").as_deref(), Some("image/jpeg"));

    set(camera, "rtsp_basic=off&guest_access=off").await;
    assert_eq!(
        challenges(&rtsp(rtsp_at, &describe(rtsp_at)).await).len(),
        1
    );
    let refused = request(&snapshot, "GET", "", None).await.expect("reply");
    assert_eq!(refused.status, 401);
    assert!(refused
        .header_all("www-authenticate")
        .iter()
        .all(|c| c.starts_with("Digest ")));
    // Canon ships with SNMPv1/v2c disabled.
    assert_eq!(snmp_get(at(camera.info().snmp_port), "public").await, None);
    fleet.shutdown().await;
}

#[tokio::test]
async fn snmp_answers_the_right_community_until_v2c_is_off() {
    let fleet = fleet(Flavour::IPro, None).await;
    let camera = &fleet.cameras()[0];
    let info = camera.info();
    let snmp = at(info.snmp_port);
    assert_eq!(
        snmp_get(snmp, "public").await.as_deref(),
        Some(format!("{} {} {}", info.manufacturer, info.model, info.firmware).as_str())
    );
    assert_eq!(snmp_get(snmp, "private").await, None);
    set(camera, "snmp_v2c=off").await;
    assert_eq!(snmp_get(snmp, "public").await, None);
    fleet.shutdown().await;
}

#[tokio::test]
async fn without_services_there_are_no_ports_and_the_json_has_none() {
    let fleet = Fleet::start(FleetConfig::default()).await.expect("start");
    let info = fleet.cameras()[0].info();
    assert_eq!(
        (info.ftp_port, info.rtsp_port, info.snmp_port),
        (None, None, None)
    );
    let json = serde_json::to_string(&info).expect("json");
    assert!(!json.contains("ftp_port"));
    fleet.shutdown().await;
}
