//! The outside checks against camsim on 127.0.0.1: each setting changed on the camera's settings
//! page (as the person doing a guided step would) shows from outside — the FTP port closes, the
//! Basic challenge goes from RTSP and HTTP, the snapshot stops being anonymous, SNMPv2c stops
//! answering.
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use camsim::{Flavour, Fleet, FleetConfig, InitialState, SimCamera};
use camward_discovery::outside::{
    ftp_banner, http_auth_schemes, rtsp_auth_schemes, snmp_v2c_answers, tcp_open, OutsideError,
};
use camward_onvif::auth::DigestChallenge;
use camward_onvif::http::{HttpConfig, ReqwestTransport};
use camward_onvif::transport::HttpRequest;
use camward_onvif::Credentials;

const ADMIN: &str = "admin";
const PASSWORD: &str = "Vq7#mT2x-Lp9!zR4";
const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const SHORT: Duration = Duration::from_millis(500);
const LONG: Duration = Duration::from_secs(5);

async fn fleet(flavour: Flavour) -> Fleet {
    Fleet::start(FleetConfig {
        flavour,
        state: InitialState::Configured,
        admin: Some((ADMIN.into(), PASSWORD.into())),
        services: true,
        ..FleetConfig::default()
    })
    .await
    .expect("camsim starts")
}

/// What the person does on the camera's web page: posts the settings form as the administrator.
async fn set(camera: &SimCamera, form: &str) {
    let transport = ReqwestTransport::new(&HttpConfig::default()).expect("a client");
    let url = format!("http://127.0.0.1:{}/admin/settings", camera.http_port());
    let post = |authorization: Option<String>| {
        let mut headers = vec![(
            "content-type".to_owned(),
            "application/x-www-form-urlencoded".to_owned(),
        )];
        headers.extend(authorization.map(|a| ("authorization".to_owned(), a)));
        transport.request(
            "POST",
            HttpRequest {
                url: url.clone(),
                headers,
                body: form.as_bytes().to_vec(),
            },
        )
    };
    let first = post(None).await.expect("the page answers");
    assert_eq!(first.status, 401);
    let mut challenge =
        DigestChallenge::choose(first.header_values("www-authenticate")).expect("a challenge");
    let authorization = challenge
        .answer(
            &Credentials::new(ADMIN, PASSWORD),
            "POST",
            "/admin/settings",
            None,
        )
        .expect("an answer");
    let saved = post(Some(authorization)).await.expect("the page answers");
    assert_eq!(
        saved.status,
        200,
        "{}",
        String::from_utf8_lossy(&saved.body)
    );
}

async fn becomes_closed(port: u16) -> bool {
    for _ in 0..40 {
        if !tcp_open(LOOPBACK, port, SHORT).await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test]
async fn ftp_is_seen_then_its_port_is_closed() {
    let fleet = fleet(Flavour::IPro).await;
    let camera = &fleet.cameras()[0];
    let port = camera.info().ftp_port.expect("services run");
    assert!(tcp_open(LOOPBACK, port, LONG).await);
    assert_eq!(
        ftp_banner(LOOPBACK, port, LONG).await.as_deref(),
        Some("220 camsim FTP server ready")
    );
    // Something that is not FTP (the camera's HTTP port) has no banner.
    assert_eq!(ftp_banner(LOOPBACK, camera.http_port(), SHORT).await, None);

    set(camera, "ftp_server=off").await;
    assert!(becomes_closed(port).await, "the FTP port stays open");
    assert_eq!(ftp_banner(LOOPBACK, port, SHORT).await, None);
    assert_eq!(
        rtsp_auth_schemes(LOOPBACK, port, SHORT).await,
        Err(OutsideError::Refused)
    );
    fleet.shutdown().await;
}

#[tokio::test]
async fn rtsp_and_http_offer_digest_only_until_basic_is_turned_on() {
    let fleet = fleet(Flavour::IPro).await;
    let camera = &fleet.cameras()[0];
    let rtsp = camera.info().rtsp_port.expect("services run");
    let snapshot = format!("http://127.0.0.1:{}/snapshot.jpg", camera.http_port());
    assert_eq!(
        rtsp_auth_schemes(LOOPBACK, rtsp, LONG).await,
        Ok(vec!["Digest".to_owned()])
    );
    assert_eq!(
        http_auth_schemes(&snapshot, LONG).await,
        Ok(vec!["Digest".to_owned()])
    );

    set(camera, "rtsp_basic=on").await;
    let both = vec!["Digest".to_owned(), "Basic".to_owned()];
    assert_eq!(
        rtsp_auth_schemes(LOOPBACK, rtsp, LONG).await,
        Ok(both.clone())
    );
    assert_eq!(http_auth_schemes(&snapshot, LONG).await, Ok(both));

    // A guest sees the snapshot without being asked to log in.
    set(camera, "rtsp_basic=off&guest_access=on").await;
    assert_eq!(http_auth_schemes(&snapshot, LONG).await, Ok(vec![]));
    // Not RTSP: the HTTP port answers DESCRIBE with an HTTP error.
    assert!(matches!(
        rtsp_auth_schemes(LOOPBACK, camera.http_port(), LONG).await,
        Err(OutsideError::NotRtsp(_))
    ));
    fleet.shutdown().await;
}

#[tokio::test]
async fn snmp_v2c_answers_public_until_it_is_turned_off() {
    let fleet = fleet(Flavour::IPro).await;
    let camera = &fleet.cameras()[0];
    let info = camera.info();
    let port = info.snmp_port.expect("services run");
    let descr = snmp_v2c_answers(LOOPBACK, port, "public", LONG)
        .await
        .expect("no socket error");
    assert_eq!(
        descr,
        Some(format!(
            "{} {} {}",
            info.manufacturer, info.model, info.firmware
        ))
    );
    assert_eq!(
        snmp_v2c_answers(LOOPBACK, port, "private", SHORT).await,
        Ok(None)
    );
    set(camera, "snmp_v2c=off").await;
    assert_eq!(
        snmp_v2c_answers(LOOPBACK, port, "public", SHORT).await,
        Ok(None)
    );
    fleet.shutdown().await;
}
