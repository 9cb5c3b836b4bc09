//! The client against camsim over real loopback sockets: every operation, every auth flavour,
//! clocks two hours off either way, wrong passwords, lock-out, injected faults, hostile sizes.
//! Every request sent and every reply received is validated against the official ONVIF schemas.
#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use camsim::{AuthFlavour, FaultConfig, Fleet, FleetConfig, InitialState};
use camward_onvif::clock::SystemClock;
use camward_onvif::device::{
    DateTimeType, DiscoveryMode, FactoryDefault, FilterType, IpAddress, IpAddressFilter,
    IpFilterAction, NetworkHost, PrefixedAddress, ProtocolName, SetDateTime, SystemLogType, User,
    UserLevel,
};
use camward_onvif::http::{HttpConfig, ReqwestTransport};
use camward_onvif::transport::{Exchange, RecordingTransport};
use camward_onvif::{AuthMode, Camera, Credentials, DeviceRefusal, OnvifError, TransportError};

const ADMIN: &str = "admin";
const PASSWORD: &str = "Ad7#kLq2-Vz9!xW4";

type Recorded = Arc<RecordingTransport<ReqwestTransport>>;

fn recorder(config: &HttpConfig) -> Recorded {
    Arc::new(RecordingTransport::new(
        ReqwestTransport::new(config).expect("client"),
    ))
}

fn session(url: &str, transport: &Recorded) -> Camera<Recorded> {
    Camera::new(transport.clone(), url, Arc::new(SystemClock)).expect("camera")
}

async fn start(auth: AuthFlavour, skew: i64, state: InitialState) -> Fleet {
    Fleet::start(FleetConfig {
        cameras: 1,
        state,
        auth,
        admin: matches!(state, InitialState::Configured).then(|| (ADMIN.into(), PASSWORD.into())),
        clock_skew_s: skew,
        lockout_duration: Duration::from_millis(1500),
        reboot_duration: Duration::from_millis(400),
        ..FleetConfig::default()
    })
    .await
    .expect("camsim starts")
}

fn validator() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/onvif-schema/validate");
    assert!(
        p.exists(),
        "the ONVIF schema validator is missing at {}",
        p.display()
    );
    p
}

/// The payload of a SOAP envelope is a fault (schemas for env:Fault are not ONVIF's to check).
fn is_fault(xml: &str) -> bool {
    roxmltree::Document::parse(xml).is_ok_and(|d| {
        d.descendants().any(|n| {
            n.tag_name().name() == "Fault"
                && n.tag_name().namespace() == Some(camward_onvif::ns::SOAP_ENV)
        })
    })
}

/// Writes every request and every non-fault reply to files and validates them all in one run.
fn assert_schema_valid(exchanges: &[Exchange]) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut files = Vec::new();
    for (i, ex) in exchanges.iter().enumerate() {
        let req = dir.path().join(format!("{i:04}-request.xml"));
        std::fs::write(&req, &ex.request).expect("write");
        files.push(req);
        if !ex.response.trim().is_empty() && !is_fault(&ex.response) {
            let resp = dir.path().join(format!("{i:04}-response.xml"));
            std::fs::write(&resp, &ex.response).expect("write");
            files.push(resp);
        }
    }
    assert!(!files.is_empty());
    let out = Command::new(validator())
        .args(&files)
        .output()
        .expect("validator runs");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "schema validation failed:\n{text}");
    let valid = text.lines().filter(|l| l.ends_with(": valid")).count();
    assert_eq!(valid, files.len(), "{text}");
}

async fn every_device_operation(auth: AuthFlavour, skew: i64) {
    let fleet = start(auth, skew, InitialState::Configured).await;
    let sim = &fleet.cameras()[0];
    let transport = recorder(&HttpConfig::default());
    let cam = session(&sim.device_url(), &transport);
    cam.set_credentials(Some(Credentials::new(ADMIN, PASSWORD)), AuthMode::Auto);

    let offset = cam.sync_clock().await.expect("clock");
    assert!(
        (offset.whole_seconds() - skew).abs() <= 2,
        "offset {offset} for skew {skew}"
    );

    let info = cam
        .get_device_information()
        .await
        .expect("device information");
    assert_eq!(info.model, sim.info().model);
    assert_eq!(info.serial_number, sim.info().serial);
    let expected_auth = if matches!(auth, AuthFlavour::UsernameToken) {
        AuthMode::UsernameToken
    } else {
        AuthMode::Digest
    };
    assert_eq!(cam.working_auth(), Some(expected_auth));

    // Time: NTP servers, then NTP mode, then manual with a given time.
    cam.set_ntp(
        false,
        &[
            NetworkHost::Ipv4("192.0.2.123".into()),
            NetworkHost::Dns("ntp.example.org".into()),
        ],
    )
    .await
    .expect("SetNTP");
    let ntp = cam.get_ntp().await.expect("GetNTP");
    assert!(!ntp.from_dhcp);
    assert_eq!(ntp.manual.len(), 2);
    cam.set_system_date_and_time(&SetDateTime {
        date_time_type: DateTimeType::Ntp,
        daylight_savings: false,
        time_zone: Some("CET-1CEST,M3.5.0,M10.5.0/3".into()),
        utc: None,
    })
    .await
    .expect("SetSystemDateAndTime NTP");
    let dt = cam
        .get_system_date_and_time()
        .await
        .expect("GetSystemDateAndTime");
    assert_eq!(dt.date_time_type, DateTimeType::Ntp);
    assert_eq!(dt.time_zone.as_deref(), Some("CET-1CEST,M3.5.0,M10.5.0/3"));

    // Users: create, change, delete.
    let operator = User {
        username: "operator1".into(),
        password: Some("Op3r@tor-Strong9".into()),
        level: UserLevel::Operator,
    };
    cam.create_users(std::slice::from_ref(&operator))
        .await
        .expect("CreateUsers");
    let clash = cam
        .create_users(std::slice::from_ref(&operator))
        .await
        .expect_err("a second user of the same name");
    assert!(
        matches!(&clash, OnvifError::Refused(DeviceRefusal::Fault(f)) if f.has_subcode("UsernameClash")),
        "{clash:?}"
    );
    let users = cam.get_users().await.expect("GetUsers");
    assert!(users
        .iter()
        .any(|u| u.username == "operator1" && u.level == UserLevel::Operator));
    let promoted = User {
        level: UserLevel::User,
        ..operator.clone()
    };
    cam.set_user(&[promoted]).await.expect("SetUser");
    assert!(cam
        .get_users()
        .await
        .unwrap()
        .iter()
        .any(|u| u.username == "operator1" && u.level == UserLevel::User));
    cam.delete_users(&["operator1"]).await.expect("DeleteUsers");
    assert!(!cam
        .get_users()
        .await
        .unwrap()
        .iter()
        .any(|u| u.username == "operator1"));

    // Discovery of what the camera offers.
    let services = cam.get_services(true).await.expect("GetServices");
    assert!(services
        .iter()
        .any(|s| s.namespace == camward_onvif::ns::TDS));
    cam.get_capabilities().await.expect("GetCapabilities");
    let caps = cam
        .get_device_service_capabilities()
        .await
        .expect("GetServiceCapabilities");
    let _ = caps;
    let scopes = cam.get_scopes().await.expect("GetScopes");
    assert!(!scopes.is_empty());

    // Host name and DNS.
    cam.set_hostname("lobby-cam-01").await.expect("SetHostname");
    assert_eq!(
        cam.get_hostname().await.unwrap().name.as_deref(),
        Some("lobby-cam-01")
    );
    cam.set_dns(
        false,
        &["site.example".into()],
        &[IpAddress::Ipv4("192.0.2.53".into())],
    )
    .await
    .expect("SetDNS");
    let dns = cam.get_dns().await.expect("GetDNS");
    assert_eq!(dns.manual, vec![IpAddress::Ipv4("192.0.2.53".into())]);

    // Network.
    let ifaces = cam
        .get_network_interfaces()
        .await
        .expect("GetNetworkInterfaces");
    assert!(!ifaces.is_empty());
    let mut protocols = cam
        .get_network_protocols()
        .await
        .expect("GetNetworkProtocols");
    for p in &mut protocols {
        if p.name == ProtocolName::Rtsp {
            p.ports = vec![8554];
        }
    }
    cam.set_network_protocols(&protocols)
        .await
        .expect("SetNetworkProtocols");
    let after = cam.get_network_protocols().await.unwrap();
    assert!(after
        .iter()
        .any(|p| p.name == ProtocolName::Rtsp && p.ports == vec![8554]));
    cam.set_discovery_mode(DiscoveryMode::NonDiscoverable)
        .await
        .expect("SetDiscoveryMode");
    assert_eq!(
        cam.get_discovery_mode().await.unwrap(),
        DiscoveryMode::NonDiscoverable
    );
    let zc = cam
        .get_zero_configuration()
        .await
        .expect("GetZeroConfiguration");
    cam.set_zero_configuration(&zc.interface_token, false)
        .await
        .expect("SetZeroConfiguration");
    assert!(!cam.get_zero_configuration().await.unwrap().enabled);

    // Host restriction that keeps us (loopback) in.
    let allow_loopback = IpAddressFilter {
        filter_type: FilterType::Allow,
        ipv4: vec![PrefixedAddress {
            address: "127.0.0.0".into(),
            prefix_length: 8,
        }],
        ipv6: vec![],
    };
    cam.change_ip_address_filter(IpFilterAction::Set, &allow_loopback)
        .await
        .expect("SetIPAddressFilter");
    let extra = IpAddressFilter {
        filter_type: FilterType::Allow,
        ipv4: vec![PrefixedAddress {
            address: "192.0.2.0".into(),
            prefix_length: 24,
        }],
        ipv6: vec![],
    };
    cam.change_ip_address_filter(IpFilterAction::Add, &extra)
        .await
        .expect("AddIPAddressFilter");
    assert_eq!(cam.get_ip_address_filter().await.unwrap().ipv4.len(), 2);
    cam.change_ip_address_filter(IpFilterAction::Remove, &extra)
        .await
        .expect("RemoveIPAddressFilter");
    assert_eq!(cam.get_ip_address_filter().await.unwrap().ipv4.len(), 1);

    media_and_certificates(&cam, sim).await;

    // Logs and the lifecycle operations.
    cam.get_system_log(SystemLogType::System)
        .await
        .expect("GetSystemLog System");
    cam.get_system_log(SystemLogType::Access)
        .await
        .expect("GetSystemLog Access");
    cam.system_reboot().await.expect("SystemReboot");
    wait_until_back(&cam).await;
    // State survives the reboot.
    assert_eq!(
        cam.get_hostname().await.unwrap().name.as_deref(),
        Some("lobby-cam-01")
    );
    cam.set_system_factory_default(FactoryDefault::Hard)
        .await
        .expect("SetSystemFactoryDefault");
    wait_until_back(&cam).await;
    // Factory state: no users, the admin we used is gone.
    assert!(sim.state().users.is_empty());

    assert_schema_valid(&transport.exchanges());
    fleet.shutdown().await;
}

/// Media2 profiles and stream URIs; the Advanced Security keystore end to end: a key made on the
/// camera, a CSR it signs, a self-signed certificate, a CA-issued certificate uploaded and matched to
/// the key, a certification path assigned to the HTTPS listener — and a real TLS handshake that
/// sees exactly that certificate.
async fn media_and_certificates(cam: &Camera<Recorded>, sim: &camsim::SimCamera) {
    use camward_onvif::media2::StreamProtocol;
    use camward_onvif::security::{
        CsrRequest, DistinguishedName, KeyStatus, SelfSignedRequest, UploadRequest,
    };

    // GetServices teaches the session where Media2 and Advanced Security live.
    cam.get_services(false).await.expect("GetServices");
    let profiles = cam.get_profiles().await.expect("GetProfiles");
    assert!(profiles.len() >= 2, "{profiles:?}");
    let uri = cam
        .get_stream_uri(StreamProtocol::RtspUnicast, &profiles[0].token)
        .await
        .expect("GetStreamUri");
    assert!(uri.starts_with("rtsp://"), "{uri}");
    let missing = cam
        .get_stream_uri(StreamProtocol::RtspUnicast, "no-such-profile")
        .await
        .expect_err("unknown profile");
    assert!(
        matches!(&missing, OnvifError::Refused(DeviceRefusal::Fault(f)) if f.has_subcode("NoProfile")),
        "{missing:?}"
    );

    let caps = cam
        .get_security_capabilities()
        .await
        .expect("GetServiceCapabilities (tas)");
    assert!(caps.rsa_key_lengths.contains(&2048), "{caps:?}");
    let key = cam
        .create_rsa_key_pair(2048, Some("https-key"))
        .await
        .expect("CreateRSAKeyPair");
    assert_eq!(
        cam.get_key_status(&key.key_id).await.expect("GetKeyStatus"),
        KeyStatus::Ok
    );
    let subject = DistinguishedName {
        common_name: Some("lobby-cam-01".into()),
        organization: Some("Example Site & Sons".into()),
        country: Some("DE".into()),
        ..DistinguishedName::default()
    };
    let sha256_rsa = "1.2.840.113549.1.1.11".to_owned();
    let csr = cam
        .create_pkcs10_csr(&CsrRequest {
            subject: subject.clone(),
            key_id: key.key_id.clone(),
            extensions: vec![],
            signature_algorithm: sha256_rsa.clone(),
        })
        .await
        .expect("CreatePKCS10CSR");
    let self_signed = cam
        .create_self_signed_certificate(&SelfSignedRequest {
            x509_version: Some(3),
            subject,
            key_id: key.key_id.clone(),
            alias: Some("factory-like".into()),
            not_valid_before: None,
            not_valid_after: None,
            signature_algorithm: sha256_rsa,
        })
        .await
        .expect("CreateSelfSignedCertificate");

    // A site CA (test-only) issues the certificate for the camera's CSR, naming how it is reached.
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::default();
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Test Site CA");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let ca_pem = ca_cert.pem();
    let ca_der = ca_cert.der().to_vec();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let mut request = rcgen::CertificateSigningRequestParams::from_der(&csr.clone().into())
        .expect("the camera's CSR is well-formed and self-signed by its key");
    request.params.subject_alt_names = vec![rcgen::SanType::IpAddress(std::net::IpAddr::V4(
        std::net::Ipv4Addr::LOCALHOST,
    ))];
    let leaf_der = request.signed_by(&issuer).unwrap().der().to_vec();

    let uploaded = cam
        .upload_certificate(&UploadRequest {
            certificate_der: leaf_der.clone(),
            alias: Some("site-issued".into()),
            key_alias: None,
            private_key_required: true,
        })
        .await
        .expect("UploadCertificate (leaf)");
    assert_eq!(
        uploaded.key_id, key.key_id,
        "the certificate is matched to the camera's key"
    );
    let ca_uploaded = cam
        .upload_certificate(&UploadRequest {
            certificate_der: ca_der,
            alias: Some("site-ca".into()),
            key_alias: None,
            private_key_required: false,
        })
        .await
        .expect("UploadCertificate (CA)");
    let all = cam
        .get_all_certificates()
        .await
        .expect("GetAllCertificates");
    assert!(all.iter().any(|c| c.certificate_id == self_signed));
    assert!(all
        .iter()
        .any(|c| c.certificate_id == uploaded.certificate_id && c.der == leaf_der));
    let path = cam
        .create_certification_path(
            &[&uploaded.certificate_id, &ca_uploaded.certificate_id],
            Some("https"),
        )
        .await
        .expect("CreateCertificationPath");
    cam.add_server_certificate_assignment(&path)
        .await
        .expect("AddServerCertificateAssignment");
    assert_eq!(
        cam.get_assigned_server_certificates()
            .await
            .expect("GetAssignedServerCertificates"),
        vec![path.clone()]
    );

    // A real handshake over HTTPS, trusting only the site CA, sees exactly the new certificate.
    let https = sim
        .https_url()
        .expect("HTTPS is served once a certificate is assigned");
    let tls_config = HttpConfig {
        trust: Some(camward_onvif::http::TlsTrust::CaPem(ca_pem.into_bytes())),
        ..HttpConfig::default()
    };
    let over_tls = session(&https, &recorder(&tls_config));
    over_tls
        .get_system_date_and_time()
        .await
        .expect("ONVIF over HTTPS with the site CA");
    let pinned = HttpConfig {
        trust: Some(camward_onvif::http::TlsTrust::PinnedSha256(
            camward_onvif::http::certificate_sha256(&leaf_der),
        )),
        ..HttpConfig::default()
    };
    session(&https, &recorder(&pinned))
        .get_system_date_and_time()
        .await
        .expect("the pinned leaf is what the camera presents");
    let wrong_pin = HttpConfig {
        trust: Some(camward_onvif::http::TlsTrust::PinnedSha256([7u8; 32])),
        ..HttpConfig::default()
    };
    let e = session(&https, &recorder(&wrong_pin))
        .get_system_date_and_time()
        .await
        .expect_err("a different certificate is an alarm, not a silent accept");
    assert!(
        matches!(e, OnvifError::Transport(TransportError::Tls(_))),
        "{e:?}"
    );

    cam.remove_server_certificate_assignment(&path)
        .await
        .expect("RemoveServerCertificateAssignment");
    assert!(cam
        .get_assigned_server_certificates()
        .await
        .unwrap()
        .is_empty());
}

async fn wait_until_back<T: camward_onvif::transport::Transport>(cam: &Camera<T>) {
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if cam.get_system_date_and_time().await.is_ok() {
            return;
        }
    }
    panic!("the camera did not come back after its reboot");
}

#[tokio::test]
async fn every_device_operation_digest_md5_camera_two_hours_ahead() {
    every_device_operation(AuthFlavour::DigestMd5, 7200).await;
}

#[tokio::test]
async fn every_device_operation_digest_sha256_camera_two_hours_behind() {
    every_device_operation(AuthFlavour::DigestSha256AndMd5, -7200).await;
}

#[tokio::test]
async fn every_device_operation_username_token_camera_two_hours_ahead() {
    every_device_operation(AuthFlavour::UsernameToken, 7200).await;
}

#[tokio::test]
async fn every_device_operation_username_token_camera_two_hours_behind() {
    every_device_operation(AuthFlavour::UsernameToken, -7200).await;
}

#[tokio::test]
async fn factory_camera_takes_its_first_admin_anonymously_then_closes() {
    let fleet = start(AuthFlavour::DigestSha256AndMd5, 0, InitialState::Factory).await;
    let sim = &fleet.cameras()[0];
    let transport = recorder(&HttpConfig::default());
    let cam = session(&sim.device_url(), &transport);
    cam.get_device_information()
        .await
        .expect("anonymous while in factory state");
    let admin = User {
        username: ADMIN.into(),
        password: Some(PASSWORD.into()),
        level: UserLevel::Administrator,
    };
    cam.create_users(&[admin])
        .await
        .expect("first admin, anonymously");
    let refused = cam
        .get_device_information()
        .await
        .expect_err("anonymous access is closed now");
    assert_eq!(refused.code(), "not_authorized", "{refused:?}");
    cam.set_credentials(Some(Credentials::new(ADMIN, PASSWORD)), AuthMode::Auto);
    cam.get_device_information()
        .await
        .expect("the new admin logs in");
    assert_schema_valid(&transport.exchanges());
    fleet.shutdown().await;
}

#[tokio::test]
async fn a_wrong_password_is_refused_and_counts_once() {
    for auth in [
        AuthFlavour::DigestMd5,
        AuthFlavour::DigestSha256AndMd5,
        AuthFlavour::UsernameToken,
    ] {
        let fleet = start(auth, 3600, InitialState::Configured).await;
        let sim = &fleet.cameras()[0];
        let transport = recorder(&HttpConfig::default());
        let cam = session(&sim.device_url(), &transport);
        cam.set_credentials(
            Some(Credentials::new(ADMIN, "Not-the-password-1")),
            AuthMode::Auto,
        );
        let err = cam.get_users().await.expect_err("wrong password");
        assert!(
            matches!(err, OnvifError::Refused(DeviceRefusal::NotAuthorized)),
            "{auth:?}: {err:?}"
        );
        assert!(!err.is_retryable());
        assert_eq!(
            sim.failed_logins(),
            1,
            "{auth:?}: one wrong password must cost one failed login"
        );
        let log = sim.state().log;
        assert!(
            log.iter()
                .any(|e| e.message.to_lowercase().contains("fail")),
            "{auth:?}: failed login logged"
        );
        fleet.shutdown().await;
    }
}

#[tokio::test]
async fn lock_out_is_its_own_error_and_lifts() {
    let fleet = start(AuthFlavour::DigestSha256AndMd5, 0, InitialState::Configured).await;
    let sim = &fleet.cameras()[0];
    let transport = recorder(&HttpConfig::default());
    let cam = session(&sim.device_url(), &transport);
    cam.set_credentials(
        Some(Credentials::new(ADMIN, "Wrong-password-7")),
        AuthMode::Auto,
    );
    for _ in 0..5 {
        let e = cam.get_users().await.expect_err("wrong");
        assert_eq!(e.code(), "not_authorized");
    }
    assert!(sim.is_locked_out());
    cam.set_credentials(Some(Credentials::new(ADMIN, PASSWORD)), AuthMode::Auto);
    let e = cam
        .get_users()
        .await
        .expect_err("locked out even with the right password");
    assert!(
        matches!(e, OnvifError::Refused(DeviceRefusal::LockedOut)),
        "{e:?}"
    );
    assert_eq!(e.code(), "locked_out");
    tokio::time::sleep(Duration::from_millis(1700)).await;
    cam.get_users()
        .await
        .expect("the lock-out lifts after its duration");
    fleet.shutdown().await;
}

async fn fault_error(faults: FaultConfig) -> OnvifError {
    let fleet = start(AuthFlavour::DigestSha256AndMd5, 0, InitialState::Configured).await;
    let sim = &fleet.cameras()[0];
    sim.set_faults(faults);
    let config = HttpConfig {
        request_timeout: Duration::from_secs(2),
        ..HttpConfig::default()
    };
    let transport = recorder(&config);
    let cam = session(&sim.device_url(), &transport);
    let err = cam
        .get_system_date_and_time()
        .await
        .expect_err("fault injected");
    fleet.shutdown().await;
    err
}

#[tokio::test]
async fn each_injected_fault_is_its_own_typed_error() {
    let e = fault_error(FaultConfig {
        malformed_xml: 1.0,
        ..FaultConfig::default()
    })
    .await;
    assert!(
        matches!(e, OnvifError::Transport(TransportError::Malformed(_))),
        "malformed: {e:?}"
    );
    let e = fault_error(FaultConfig {
        truncated_body: 1.0,
        ..FaultConfig::default()
    })
    .await;
    assert!(
        matches!(e, OnvifError::Transport(TransportError::Truncated { .. })),
        "truncated: {e:?}"
    );
    let e = fault_error(FaultConfig {
        slow_body: 1.0,
        ..FaultConfig::default()
    })
    .await;
    assert!(
        matches!(e, OnvifError::Transport(TransportError::Timeout)),
        "slow: {e:?}"
    );
    let e = fault_error(FaultConfig {
        drop_connection: 1.0,
        ..FaultConfig::default()
    })
    .await;
    assert!(
        matches!(e, OnvifError::Transport(TransportError::Broken(_))),
        "dropped: {e:?}"
    );
    let e = fault_error(FaultConfig {
        http_500: 1.0,
        ..FaultConfig::default()
    })
    .await;
    assert!(
        matches!(e, OnvifError::Refused(DeviceRefusal::HttpStatus(500))),
        "500: {e:?}"
    );
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::test]
async fn a_hostile_endless_reply_is_cut_at_the_cap_with_memory_bounded() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let _ = s.read(&mut buf).await;
                let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml\r\nContent-Length: 1073741824\r\n\r\n").await;
                let chunk = vec![b'<'; 64 * 1024];
                // Up to 1 GiB, unless the client hangs up first (which it must, at 4 MiB).
                for _ in 0..16384 {
                    if s.write_all(&chunk).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    let before = rss_kib();
    let transport = recorder(&HttpConfig::default());
    let cam = session(&format!("http://{addr}/onvif/device_service"), &transport);
    for _ in 0..3 {
        let e = cam.get_system_date_and_time().await.expect_err("too large");
        assert!(
            matches!(
                e,
                OnvifError::Transport(TransportError::ResponseTooLarge { limit: 4194304 })
            ),
            "{e:?}"
        );
    }
    let grown = rss_kib().saturating_sub(before);
    assert!(
        grown < 64 * 1024,
        "resident memory grew by {grown} KiB for capped replies"
    );
    server.abort();
}
