//! camsim behaves like firmware: authentication, access classes, lock-out, reboots, persistence,
//! IP filtering and injected faults, all over real sockets on 127.0.0.1.
mod common;

use std::time::Duration;

use camsim::{AuthFlavour, FaultConfig, Fleet, FleetConfig, InitialState};
use common::*;

const ADMIN: &str = "admin";
const PASSWORD: &str = "Vq7#mT2x-Lp9!zR4";

fn configured() -> FleetConfig {
    FleetConfig {
        state: InitialState::Configured,
        admin: Some((ADMIN.into(), PASSWORD.into())),
        ..FleetConfig::default()
    }
}

const INFO: &str = "<tds:GetDeviceInformation/>";

#[tokio::test]
async fn digest_md5_only_flavour_offers_one_md5_challenge_and_checks_the_password() {
    let fleet = Fleet::start(FleetConfig {
        auth: AuthFlavour::DigestMd5,
        ..configured()
    })
    .await
    .expect("start");
    let url = fleet.cameras()[0].device_url();
    let first = post(&url, &envelope(INFO, None), None)
        .await
        .expect("reply");
    assert_eq!(first.status, 401);
    let challenges = first.header_all("www-authenticate");
    assert_eq!(challenges.len(), 1, "{challenges:?}");
    assert_eq!(param(&challenges[0], "algorithm").as_deref(), Some("MD5"));
    assert_eq!(param(&challenges[0], "qop").as_deref(), Some("auth"));

    let ok = digest_call(&url, INFO, ADMIN, PASSWORD).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert!(ok.body.contains("CS-2000"));
    // An answer computed for another resource is refused (RFC 7616 §3.4 digest-uri).
    let body = envelope(INFO, None);
    let c = challenge(&url, &body, "MD5").await;
    let elsewhere = post(
        &url,
        &body,
        Some(&digest_authorization(
            &c,
            ADMIN,
            PASSWORD,
            "/onvif/other",
            1,
        )),
    )
    .await
    .expect("reply");
    assert_eq!(elsewhere.status, 401);
    let wrong = digest_call(&url, INFO, ADMIN, "not-the-password").await;
    assert_eq!(wrong.status, 401);
    assert_eq!(fleet.cameras()[0].failed_logins(), 1);
    let log = fleet.cameras()[0].state().log;
    assert!(log
        .iter()
        .any(|e| e.message.contains("Failed login for user 'admin'")));
    assert!(!log.iter().any(|e| e.message.contains("not-the-password")));
    fleet.shutdown().await;
}

#[tokio::test]
async fn sha256_and_md5_challenges_come_sha256_first_and_both_work() {
    let fleet = Fleet::start(configured()).await.expect("start");
    let url = fleet.cameras()[0].device_url();
    let first = post(&url, &envelope(INFO, None), None)
        .await
        .expect("reply");
    let challenges = first.header_all("www-authenticate");
    assert_eq!(challenges.len(), 2, "{challenges:?}");
    assert_eq!(
        param(&challenges[0], "algorithm").as_deref(),
        Some("SHA-256")
    );
    assert_eq!(param(&challenges[1], "algorithm").as_deref(), Some("MD5"));
    let body = envelope(INFO, None);
    let (_, path) = split_url(&url);
    for alg in ["SHA-256", "MD5"] {
        let c = challenge(&url, &body, alg).await;
        let reply = post(
            &url,
            &body,
            Some(&digest_authorization(&c, ADMIN, PASSWORD, &path, 1)),
        )
        .await
        .expect("reply");
        assert_eq!(reply.status, 200, "{alg}: {}", reply.body);
    }
    fleet.shutdown().await;
}

#[tokio::test]
async fn expired_nonce_is_stale_and_a_replayed_nonce_count_is_refused() {
    let fleet = Fleet::start(FleetConfig {
        nonce_lifetime: Duration::from_millis(800),
        ..configured()
    })
    .await
    .expect("start");
    let url = fleet.cameras()[0].device_url();
    let body = envelope(INFO, None);
    let (_, path) = split_url(&url);

    let c = challenge(&url, &body, "SHA-256").await;
    let once = post(
        &url,
        &body,
        Some(&digest_authorization(&c, ADMIN, PASSWORD, &path, 1)),
    )
    .await
    .expect("reply");
    assert_eq!(once.status, 200);
    let replay = post(
        &url,
        &body,
        Some(&digest_authorization(&c, ADMIN, PASSWORD, &path, 1)),
    )
    .await
    .expect("reply");
    assert_eq!(replay.status, 401, "same nc twice must be refused");
    let next = post(
        &url,
        &body,
        Some(&digest_authorization(&c, ADMIN, PASSWORD, &path, 2)),
    )
    .await
    .expect("reply");
    assert_eq!(next.status, 200, "a higher nc is fine");

    tokio::time::sleep(Duration::from_millis(1200)).await;
    let stale = post(
        &url,
        &body,
        Some(&digest_authorization(&c, ADMIN, PASSWORD, &path, 3)),
    )
    .await
    .expect("reply");
    assert_eq!(stale.status, 401);
    assert!(
        stale
            .header_all("www-authenticate")
            .iter()
            .all(|h| h.contains("stale=true")),
        "{:?}",
        stale.headers
    );
    // A stale nonce or a replay is not a wrong password.
    assert_eq!(fleet.cameras()[0].failed_logins(), 0);
    fleet.shutdown().await;
}

#[tokio::test]
async fn username_token_checks_the_camera_clock_window_and_refuses_nonce_replay() {
    let fleet = Fleet::start(FleetConfig {
        auth: AuthFlavour::UsernameToken,
        clock_skew_s: 7200,
        ..configured()
    })
    .await
    .expect("start");
    let url = fleet.cameras()[0].device_url();

    // No challenge in this flavour: HTTP 400 with ter:NotAuthorized.
    let anonymous = post(&url, &envelope(INFO, None), None)
        .await
        .expect("reply");
    assert_eq!(anonymous.status, 400);
    assert!(anonymous.header("www-authenticate").is_none());
    assert_eq!(subcodes(&anonymous.body), ["ter:NotAuthorized"]);
    // Pre-authentication operations stay open.
    let clock = post(&url, &envelope("<tds:GetSystemDateAndTime/>", None), None)
        .await
        .expect("reply");
    assert_eq!(clock.status, 200);

    // Host clock: two hours off the camera clock, refused.
    assert_eq!(ut_call(&url, INFO, ADMIN, PASSWORD, 0).await.status, 400);
    // Camera clock, within ±5 s: accepted.
    assert_eq!(ut_call(&url, INFO, ADMIN, PASSWORD, 7200).await.status, 200);
    assert_eq!(ut_call(&url, INFO, ADMIN, PASSWORD, 7203).await.status, 200);
    assert_eq!(ut_call(&url, INFO, ADMIN, PASSWORD, 7197).await.status, 200);
    assert_eq!(ut_call(&url, INFO, ADMIN, PASSWORD, 7210).await.status, 400);
    assert_eq!(ut_call(&url, INFO, ADMIN, PASSWORD, 7190).await.status, 400);
    // Clock refusals are not failed logins; a wrong password is.
    assert_eq!(fleet.cameras()[0].failed_logins(), 0);
    assert_eq!(ut_call(&url, INFO, ADMIN, "wrong", 7200).await.status, 400);
    assert_eq!(fleet.cameras()[0].failed_logins(), 1);

    // The same token twice: refused the second time.
    let created = time::OffsetDateTime::now_utc() + time::Duration::seconds(7200);
    let body = envelope(INFO, Some(&username_token(ADMIN, PASSWORD, created)));
    assert_eq!(post(&url, &body, None).await.expect("reply").status, 200);
    let replay = post(&url, &body, None).await.expect("reply");
    assert_eq!(replay.status, 400);
    assert_eq!(subcodes(&replay.body), ["ter:NotAuthorized"]);
    fleet.shutdown().await;
}

#[tokio::test]
async fn user_levels_follow_the_access_classes() {
    let fleet = Fleet::start(configured()).await.expect("start");
    let url = fleet.cameras()[0].device_url();
    let create = "<tds:CreateUsers><tds:User><tt:Username>oper</tt:Username><tt:Password>Op3r-Pass!</tt:Password><tt:UserLevel>Operator</tt:UserLevel></tds:User>\
                  <tds:User><tt:Username>viewer</tt:Username><tt:Password>V13w-Pass!</tt:Password><tt:UserLevel>User</tt:UserLevel></tds:User></tds:CreateUsers>";
    assert_eq!(digest_call(&url, create, ADMIN, PASSWORD).await.status, 200);

    let users = "<tds:GetUsers/>";
    let set_host = "<tds:SetHostname><tds:Name>changed</tds:Name></tds:SetHostname>";
    let interfaces = "<tds:GetNetworkInterfaces/>";
    assert_eq!(digest_call(&url, users, ADMIN, PASSWORD).await.status, 200);
    for (user, pass) in [("oper", "Op3r-Pass!"), ("viewer", "V13w-Pass!")] {
        let r = digest_call(&url, users, user, pass).await;
        assert_eq!(r.status, 400, "{user} must not read users");
        assert_eq!(subcodes(&r.body), ["ter:NotAuthorized"]);
        assert_eq!(
            digest_call(&url, set_host, user, pass).await.status,
            400,
            "{user} must not write"
        );
        assert_eq!(
            digest_call(&url, interfaces, user, pass).await.status,
            200,
            "{user} reads system"
        );
    }
    assert!(!fleet.cameras()[0].state().hostname.contains("changed"));
    fleet.shutdown().await;
}

#[tokio::test]
async fn factory_state_is_open_until_the_first_administrator_exists() {
    let fleet = Fleet::start(FleetConfig::default()).await.expect("start");
    let camera = &fleet.cameras()[0];
    let url = camera.device_url();
    let scopes = post(&url, &envelope("<tds:GetScopes/>", None), None)
        .await
        .expect("reply");
    assert_eq!(scopes.status, 200);
    assert!(scopes.body.contains("Profile/Q/FactoryDefault"));
    assert_eq!(
        post(&url, &envelope(INFO, None), None)
            .await
            .expect("reply")
            .status,
        200
    );

    let create = format!("<tds:CreateUsers><tds:User><tt:Username>{ADMIN}</tt:Username><tt:Password>{PASSWORD}</tt:Password><tt:UserLevel>Administrator</tt:UserLevel></tds:User></tds:CreateUsers>");
    assert_eq!(
        post(&url, &envelope(&create, None), None)
            .await
            .expect("reply")
            .status,
        200
    );

    assert_eq!(
        post(&url, &envelope(INFO, None), None)
            .await
            .expect("reply")
            .status,
        401
    );
    assert_eq!(
        post(&url, &envelope("<tds:GetSystemDateAndTime/>", None), None)
            .await
            .expect("reply")
            .status,
        200
    );
    let scopes = digest_call(&url, "<tds:GetScopes/>", ADMIN, PASSWORD).await;
    assert!(
        scopes.body.contains("Profile/Q/Operational"),
        "{}",
        scopes.body
    );
    assert!(!scopes.body.contains("FactoryDefault"));
    fleet.shutdown().await;
}

#[tokio::test]
async fn firmware_validation_faults() {
    let fleet = Fleet::start(configured()).await.expect("start");
    let url = fleet.cameras()[0].device_url();
    let long = "x".repeat(65);
    let too_long = format!("<tds:CreateUsers><tds:User><tt:Username>someone</tt:Username><tt:Password>{long}</tt:Password><tt:UserLevel>User</tt:UserLevel></tds:User></tds:CreateUsers>");
    let r = digest_call(&url, &too_long, ADMIN, PASSWORD).await;
    assert_eq!(
        subcodes(&r.body),
        ["ter:OperationProhibited", "ter:PasswordTooLong"]
    );
    let r = digest_call(&url, "<tds:SetNTP><tds:FromDHCP>false</tds:FromDHCP><tds:NTPManual><tt:Type>IPv4</tt:Type><tt:IPv4Address>300.1.1.1</tt:IPv4Address></tds:NTPManual></tds:SetNTP>", ADMIN, PASSWORD).await;
    assert_eq!(
        subcodes(&r.body),
        ["ter:InvalidArgVal", "ter:InvalidIPv4Address"]
    );
    let r = digest_call(&url, "<tds:SetNTP><tds:FromDHCP>false</tds:FromDHCP><tds:NTPManual><tt:Type>DNS</tt:Type><tt:DNSname>bad name</tt:DNSname></tds:NTPManual></tds:SetNTP>", ADMIN, PASSWORD).await;
    assert_eq!(
        subcodes(&r.body),
        ["ter:InvalidArgVal", "ter:InvalidDnsName"]
    );
    let r = digest_call(&url, "<tds:UpgradeSystemFirmware/>", ADMIN, PASSWORD).await;
    assert_eq!(r.status, 500);
    assert!(r.body.contains("env:Receiver"));
    assert_eq!(subcodes(&r.body), ["ter:ActionNotSupported"]);
    let r = digest_call(
        &url,
        &format!("<tds:DeleteUsers><tds:Username>{ADMIN}</tds:Username></tds:DeleteUsers>"),
        ADMIN,
        PASSWORD,
    )
    .await;
    assert_eq!(subcodes(&r.body), ["ter:InvalidArgVal", "ter:FixedUser"]);
    // Oversized bodies are refused before parsing.
    let huge = envelope(
        &format!(
            "<tds:GetHostname>{}</tds:GetHostname>",
            "a".repeat(1_100_000)
        ),
        None,
    );
    assert_eq!(post(&url, &huge, None).await.expect("reply").status, 413);
    fleet.shutdown().await;
}

#[tokio::test]
async fn lock_out_after_five_failures_answers_403_then_lifts() {
    let fleet = Fleet::start(FleetConfig {
        lockout_duration: Duration::from_secs(2),
        ..configured()
    })
    .await
    .expect("start");
    let camera = &fleet.cameras()[0];
    let url = camera.device_url();
    for _ in 0..5 {
        assert_eq!(digest_call(&url, INFO, ADMIN, "guess").await.status, 401);
    }
    assert!(camera.is_locked_out());
    let body = envelope(INFO, None);
    let locked = post(&url, &body, None).await.expect("reply");
    assert_eq!(locked.status, 403);
    assert!(locked.body.contains("Account locked out"));
    assert_eq!(subcodes(&locked.body), ["ter:NotAuthorized"]);
    // Even the right password is refused while locked out.
    let right = ut_call(&url, INFO, ADMIN, PASSWORD, 0).await;
    assert_eq!(right.status, 403);
    let log = camera.state().log;
    assert_eq!(
        log.iter()
            .filter(|e| e.message.starts_with("Failed login"))
            .count(),
        5
    );

    tokio::time::sleep(Duration::from_millis(2300)).await;
    assert!(!camera.is_locked_out());
    assert_eq!(digest_call(&url, INFO, ADMIN, PASSWORD).await.status, 200);
    assert_eq!(camera.failed_logins(), 0);
    fleet.shutdown().await;
}

async fn wait_until_reachable(url: &str, within: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    while tokio::time::Instant::now() < deadline {
        if post(url, &envelope("<tds:GetSystemDateAndTime/>", None), None)
            .await
            .is_ok()
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test]
async fn reboot_makes_the_camera_unreachable_then_it_returns_with_persisted_state() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cfg = FleetConfig {
        reboot_duration: Duration::from_secs(1),
        state_dir: Some(dir.path().to_owned()),
        ..configured()
    };
    let fleet = Fleet::start(cfg.clone()).await.expect("start");
    let camera = &fleet.cameras()[0];
    let url = camera.device_url();
    let set = "<tds:SetHostname><tds:Name>lobby-cam</tds:Name></tds:SetHostname>";
    assert_eq!(digest_call(&url, set, ADMIN, PASSWORD).await.status, 200);
    let file = dir.path().join(format!("{}.json", camera.info().id));
    assert!(std::fs::read_to_string(&file)
        .expect("state file")
        .contains("lobby-cam"));

    let reboot = digest_call(&url, "<tds:SystemReboot/>", ADMIN, PASSWORD).await;
    assert_eq!(reboot.status, 200);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let err = post(&url, &envelope("<tds:GetSystemDateAndTime/>", None), None)
        .await
        .expect_err("unreachable while rebooting");
    assert!(err.kind() == std::io::ErrorKind::ConnectionRefused, "{err}");
    assert!(wait_until_reachable(&url, Duration::from_secs(5)).await);
    assert_eq!(camera.state().hostname, "lobby-cam");
    assert_eq!(digest_call(&url, INFO, ADMIN, PASSWORD).await.status, 200);
    fleet.shutdown().await;

    // A new process over the same state dir comes up with the saved state.
    let again = Fleet::start(cfg).await.expect("restart");
    assert_eq!(again.cameras()[0].state().hostname, "lobby-cam");
    let again_url = again.cameras()[0].device_url();

    // A hard factory reset wipes the file and the users.
    let reset = "<tds:SetSystemFactoryDefault><tds:FactoryDefault>Hard</tds:FactoryDefault></tds:SetSystemFactoryDefault>";
    assert_eq!(
        digest_call(&again_url, reset, ADMIN, PASSWORD).await.status,
        200
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(!file.exists(), "hard reset wipes the state file");
    assert!(wait_until_reachable(&again_url, Duration::from_secs(5)).await);
    let state = again.cameras()[0].state();
    assert!(state.users.is_empty());
    assert_ne!(state.hostname, "lobby-cam");
    assert_eq!(
        post(&again_url, &envelope(INFO, None), None)
            .await
            .expect("reply")
            .status,
        200,
        "factory: open again"
    );
    again.shutdown().await;
}

#[tokio::test]
async fn soft_factory_reset_keeps_network_settings() {
    let fleet = Fleet::start(FleetConfig {
        reboot_duration: Duration::from_millis(300),
        ..configured()
    })
    .await
    .expect("start");
    let url = fleet.cameras()[0].device_url();
    let set = "<tds:SetHostname><tds:Name>kept-name</tds:Name></tds:SetHostname>";
    assert_eq!(digest_call(&url, set, ADMIN, PASSWORD).await.status, 200);
    let reset = "<tds:SetSystemFactoryDefault><tds:FactoryDefault>Soft</tds:FactoryDefault></tds:SetSystemFactoryDefault>";
    assert_eq!(digest_call(&url, reset, ADMIN, PASSWORD).await.status, 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(wait_until_reachable(&url, Duration::from_secs(5)).await);
    let state = fleet.cameras()[0].state();
    assert!(state.users.is_empty());
    assert_eq!(state.hostname, "kept-name");
    fleet.shutdown().await;
}

#[tokio::test]
async fn ip_filter_allow_list_without_loopback_refuses_us() {
    let fleet = Fleet::start(configured()).await.expect("start");
    let url = fleet.cameras()[0].device_url();
    let allow_loopback = "<tds:SetIPAddressFilter><tds:IPAddressFilter><tt:Type>Allow</tt:Type><tt:IPv4Address><tt:Address>127.0.0.0</tt:Address><tt:PrefixLength>8</tt:PrefixLength></tt:IPv4Address></tds:IPAddressFilter></tds:SetIPAddressFilter>";
    assert_eq!(
        digest_call(&url, allow_loopback, ADMIN, PASSWORD)
            .await
            .status,
        200
    );
    assert_eq!(
        digest_call(&url, INFO, ADMIN, PASSWORD).await.status,
        200,
        "loopback is allowed"
    );
    // 10.0.0.0/8 is only written into the filter; no traffic goes there.
    let allow_other = "<tds:SetIPAddressFilter><tds:IPAddressFilter><tt:Type>Allow</tt:Type><tt:IPv4Address><tt:Address>10.0.0.0</tt:Address><tt:PrefixLength>8</tt:PrefixLength></tt:IPv4Address></tds:IPAddressFilter></tds:SetIPAddressFilter>";
    assert_eq!(
        digest_call(&url, allow_other, ADMIN, PASSWORD).await.status,
        200
    );
    assert!(
        post(&url, &envelope("<tds:GetSystemDateAndTime/>", None), None)
            .await
            .is_err(),
        "refused"
    );
    fleet.shutdown().await;
}

#[tokio::test]
async fn disabling_http_closes_the_listener() {
    let fleet = Fleet::start(configured()).await.expect("start");
    let url = fleet.cameras()[0].device_url();
    let off = "<tds:SetNetworkProtocols><tds:NetworkProtocols><tt:Name>HTTP</tt:Name><tt:Enabled>false</tt:Enabled></tds:NetworkProtocols></tds:SetNetworkProtocols>";
    assert_eq!(digest_call(&url, off, ADMIN, PASSWORD).await.status, 200);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let err = post(&url, &envelope("<tds:GetSystemDateAndTime/>", None), None)
        .await
        .expect_err("HTTP is off");
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
    fleet.shutdown().await;
}

#[tokio::test]
async fn with_http_disabled_an_open_http_connection_gets_no_answer_and_https_still_serves() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let fleet = Fleet::start(configured()).await.expect("start");
    let camera = &fleet.cameras()[0];
    let url = camera.device_url();
    // A connection opened while HTTP was on (a client's keep-alive connection).
    let mut open = tokio::net::TcpStream::connect(("127.0.0.1", camera.http_port()))
        .await
        .expect("HTTP is on");
    let off = "<tds:SetNetworkProtocols><tds:NetworkProtocols><tt:Name>HTTP</tt:Name><tt:Enabled>false</tt:Enabled></tds:NetworkProtocols></tds:SetNetworkProtocols>";
    assert_eq!(digest_call(&url, off, ADMIN, PASSWORD).await.status, 200);
    let body = envelope("<tds:GetSystemDateAndTime/>", None);
    let request = format!(
        "POST /onvif/device_service HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/soap+xml\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let _ = open.write_all(request.as_bytes()).await;
    let mut reply = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), open.read_to_end(&mut reply)).await;
    assert!(
        matches!(read, Ok(Ok(0)) | Ok(Err(_))),
        "no answer over HTTP once it is off: {:?}",
        String::from_utf8_lossy(&reply)
    );
    // HTTPS is untouched (its handshake fails only for want of a certificate: it is listening).
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", camera.https_port()))
            .await
            .is_ok(),
        "HTTPS still listens"
    );
    fleet.shutdown().await;
}

#[tokio::test]
async fn each_injected_fault_kind() {
    let fleet = Fleet::start(FleetConfig {
        seed: Some(7),
        ..FleetConfig::default()
    })
    .await
    .expect("start");
    let camera = &fleet.cameras()[0];
    let url = camera.device_url();
    let body = envelope("<tds:GetSystemDateAndTime/>", None);

    camera.set_faults(FaultConfig {
        drop_connection: 1.0,
        ..FaultConfig::default()
    });
    assert!(
        post(&url, &body, None).await.is_err(),
        "dropped without reply"
    );

    camera.set_faults(FaultConfig {
        http_500: 1.0,
        ..FaultConfig::default()
    });
    let r = post(&url, &body, None).await.expect("reply");
    assert_eq!(r.status, 500);
    assert!(!r.body.contains("Envelope"));

    camera.set_faults(FaultConfig {
        malformed_xml: 1.0,
        ..FaultConfig::default()
    });
    let r = post(&url, &body, None).await.expect("reply");
    assert_eq!(r.status, 200);
    assert!(
        roxmltree::Document::parse(&r.body).is_err(),
        "malformed: {}",
        r.body
    );

    camera.set_faults(FaultConfig {
        truncated_body: 1.0,
        ..FaultConfig::default()
    });
    let bytes = raw(&url, request_bytes(&url, &body, None)).await;
    let bytes = bytes.expect("the head and part of the body arrive before the close");
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(
        text.contains("<env:Envelope"),
        "part of the body is sent: {text}"
    );
    assert!(
        parse_reply(&bytes).is_err(),
        "truncated reply parsed as complete"
    );

    camera.set_faults(FaultConfig {
        slow_body: 1.0,
        ..FaultConfig::default()
    });
    let started = std::time::Instant::now();
    let slow = tokio::time::timeout(Duration::from_secs(3), post(&url, &body, None)).await;
    assert!(slow.is_err(), "a slow body is still arriving after 3 s");
    assert!(started.elapsed() >= Duration::from_secs(3));

    camera.set_faults(FaultConfig::default());
    assert_eq!(post(&url, &body, None).await.expect("reply").status, 200);
    fleet.shutdown().await;
}

#[tokio::test]
async fn manual_time_becomes_the_camera_clock() {
    let fleet = Fleet::start(FleetConfig::default()).await.expect("start");
    let url = fleet.cameras()[0].device_url();
    let set = "<tds:SetSystemDateAndTime><tds:DateTimeType>Manual</tds:DateTimeType><tds:DaylightSavings>false</tds:DaylightSavings>\
               <tds:UTCDateTime><tt:Time><tt:Hour>12</tt:Hour><tt:Minute>0</tt:Minute><tt:Second>0</tt:Second></tt:Time>\
               <tt:Date><tt:Year>2030</tt:Year><tt:Month>1</tt:Month><tt:Day>2</tt:Day></tt:Date></tds:UTCDateTime></tds:SetSystemDateAndTime>";
    assert_eq!(
        post(&url, &envelope(set, None), None)
            .await
            .expect("reply")
            .status,
        200
    );
    let r = post(&url, &envelope("<tds:GetSystemDateAndTime/>", None), None)
        .await
        .expect("reply");
    assert!(r.body.contains("<tt:Year>2030</tt:Year>"), "{}", r.body);
    assert!(r.body.contains("<tt:DateTimeType>Manual</tt:DateTimeType>"));
    fleet.shutdown().await;
}
