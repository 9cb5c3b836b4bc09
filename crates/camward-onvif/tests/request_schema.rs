//! Every request payload the typed operations write, and every sample reply their parsers are
//! tested on, must be valid against the official ONVIF schemas. The check runs the shared
//! offline validator (`/work/shared/onvif-schema/validate`, xmllint underneath) once over all files.

use std::path::{Path, PathBuf};
use std::process::Command;

use camward_onvif::device::{self, *};
use camward_onvif::media2::{self, StreamProtocol};
use camward_onvif::security::*;

fn validator() -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/onvif-schema/validate");
    assert!(
        path.is_file(),
        "ONVIF schema validator not found at {} (expected the shared folder next to the repository)",
        path.display()
    );
    path
}

/// Tricky text for string fields: markup characters and quotes that must be escaped.
const TRICKY: &str = "a<b>&\"c'";

fn requests() -> Vec<(&'static str, String)> {
    let users = vec![
        User {
            username: "ops".into(),
            password: Some("P<a&ss>\"w'1".into()),
            level: UserLevel::Operator,
        },
        User {
            username: "viewer".into(),
            password: None,
            level: UserLevel::User,
        },
    ];
    let filter = IpAddressFilter {
        filter_type: FilterType::Allow,
        ipv4: vec![PrefixedAddress {
            address: "192.0.2.0".into(),
            prefix_length: 24,
        }],
        ipv6: vec![PrefixedAddress {
            address: "2001:db8::".into(),
            prefix_length: 32,
        }],
    };
    let subject = DistinguishedName {
        country: Some("DE".into()),
        organization: Some(TRICKY.into()),
        organizational_unit: Some("Facilities".into()),
        state_or_province: Some("Bayern".into()),
        locality: Some("München".into()),
        common_name: Some("cam-lobby.example.net".into()),
    };
    vec![
        ("get_system_date_and_time", write_get_system_date_and_time()),
        ("get_device_information", write_get_device_information()),
        (
            "set_system_date_and_time_manual",
            write_set_system_date_and_time(&SetDateTime {
                date_time_type: DateTimeType::Manual,
                daylight_savings: true,
                time_zone: Some("CET-1CEST,M3.5.0,M10.5.0/3".into()),
                utc: Some(time::macros::datetime!(2026-11-22 15:04:05 UTC)),
            }),
        ),
        (
            "set_system_date_and_time_ntp",
            write_set_system_date_and_time(&SetDateTime {
                date_time_type: DateTimeType::Ntp,
                daylight_savings: false,
                time_zone: None,
                utc: None,
            }),
        ),
        ("get_ntp", write_get_ntp()),
        (
            "set_ntp",
            write_set_ntp(
                false,
                &[
                    NetworkHost::Ipv4("192.0.2.1".into()),
                    NetworkHost::Ipv6("2001:db8::1".into()),
                    NetworkHost::Dns("ntp.example.net".into()),
                ],
            ),
        ),
        ("set_ntp_dhcp", write_set_ntp(true, &[])),
        ("get_users", write_get_users()),
        ("create_users", write_create_users(&users)),
        ("set_user", write_set_user(&users)),
        ("delete_users", write_delete_users(&["viewer", TRICKY])),
        ("get_services", write_get_services(true)),
        ("get_capabilities", write_get_capabilities()),
        (
            "get_device_service_capabilities",
            write_get_device_service_capabilities(),
        ),
        ("get_scopes", write_get_scopes()),
        ("get_hostname", write_get_hostname()),
        ("set_hostname", write_set_hostname("cam-lobby")),
        ("get_dns", write_get_dns()),
        (
            "set_dns",
            write_set_dns(
                false,
                &["example.net".into()],
                &[
                    IpAddress::Ipv4("192.0.2.53".into()),
                    IpAddress::Ipv6("2001:db8::53".into()),
                ],
            ),
        ),
        ("get_network_interfaces", write_get_network_interfaces()),
        ("get_network_protocols", write_get_network_protocols()),
        (
            "set_network_protocols",
            write_set_network_protocols(&[
                NetworkProtocol {
                    name: ProtocolName::Http,
                    enabled: false,
                    ports: vec![80],
                },
                NetworkProtocol {
                    name: ProtocolName::Https,
                    enabled: true,
                    ports: vec![443],
                },
                NetworkProtocol {
                    name: ProtocolName::Rtsp,
                    enabled: true,
                    ports: vec![554, 8554],
                },
            ]),
        ),
        ("get_discovery_mode", write_get_discovery_mode()),
        (
            "set_discovery_mode",
            write_set_discovery_mode(DiscoveryMode::NonDiscoverable),
        ),
        ("get_zero_configuration", write_get_zero_configuration()),
        (
            "set_zero_configuration",
            write_set_zero_configuration("eth0", false),
        ),
        ("get_ip_address_filter", write_get_ip_address_filter()),
        (
            "set_ip_address_filter",
            write_ip_address_filter(IpFilterAction::Set, &filter),
        ),
        (
            "add_ip_address_filter",
            write_ip_address_filter(IpFilterAction::Add, &filter),
        ),
        (
            "remove_ip_address_filter",
            write_ip_address_filter(IpFilterAction::Remove, &filter),
        ),
        (
            "get_system_log",
            write_get_system_log(SystemLogType::Access),
        ),
        ("system_reboot", write_system_reboot()),
        (
            "set_system_factory_default",
            write_set_system_factory_default(FactoryDefault::Soft),
        ),
        (
            "get_security_capabilities",
            write_get_security_capabilities(),
        ),
        (
            "create_rsa_key_pair",
            write_create_rsa_key_pair(3072, Some(TRICKY)),
        ),
        (
            "create_rsa_key_pair_no_alias",
            write_create_rsa_key_pair(2048, None),
        ),
        ("get_key_status", write_get_key_status("key-1")),
        (
            "create_pkcs10_csr",
            write_create_pkcs10_csr(&CsrRequest {
                subject: subject.clone(),
                key_id: "key-1".into(),
                // SubjectAltName: SEQUENCE { dNSName "cam" , iPAddress 192.0.2.10 }.
                extensions: vec![X509Extension {
                    oid: "2.5.29.17".into(),
                    critical: false,
                    value_der: vec![
                        0x30, 0x0b, 0x82, 0x03, b'c', b'a', b'm', 0x87, 0x04, 192, 0, 2, 10,
                    ],
                }],
                signature_algorithm: SHA256_WITH_RSA.into(),
            }),
        ),
        (
            "create_self_signed_certificate",
            write_create_self_signed_certificate(&SelfSignedRequest {
                x509_version: Some(3),
                subject,
                key_id: "key-1".into(),
                alias: Some(TRICKY.into()),
                not_valid_before: Some(time::macros::datetime!(2026-11-22 00:00:00 UTC)),
                not_valid_after: Some(time::macros::datetime!(2027-11-22 00:00:00 UTC)),
                signature_algorithm: SHA256_WITH_RSA.into(),
            }),
        ),
        (
            "upload_certificate",
            write_upload_certificate(&UploadRequest {
                certificate_der: vec![0x30, 0x82, 0x01, 0x0a, 0xff, 0x00],
                alias: Some("site CA".into()),
                key_alias: Some(TRICKY.into()),
                private_key_required: true,
            }),
        ),
        ("get_all_certificates", write_get_all_certificates()),
        (
            "create_certification_path",
            write_create_certification_path(&["cert-8", "cert-ca"], Some(TRICKY)),
        ),
        (
            "add_server_certificate_assignment",
            write_add_server_certificate_assignment("path-1"),
        ),
        (
            "get_assigned_server_certificates",
            write_get_assigned_server_certificates(),
        ),
        (
            "remove_server_certificate_assignment",
            write_remove_server_certificate_assignment("path-1"),
        ),
        (
            "upload_pkcs12",
            write_upload_pkcs12(&Pkcs12Upload {
                pkcs12_der: vec![0x30, 0x82, 0x01, 0x0a, 0xff, 0x00],
                certification_path_alias: Some(TRICKY.into()),
                key_alias: Some("camward".into()),
                ignore_additional_certificates: false,
                passphrase: TRICKY.into(),
            }),
        ),
        (
            "create_cert_path_validation_policy",
            write_create_cert_path_validation_policy(Some(TRICKY), &["cert-9", "cert-10"]),
        ),
        (
            "add_dot1x_configuration",
            write_add_dot1x_configuration(&Dot1xConfiguration {
                id: None,
                alias: Some(TRICKY.into()),
                outer: Dot1xStage {
                    method: "EAP-TLS".into(),
                    identity: Some(TRICKY.into()),
                    certification_path_id: Some("path-3".into()),
                    cert_path_validation_policy_id: Some("policy-1".into()),
                    ..Dot1xStage::default()
                },
            }),
        ),
        (
            "add_dot1x_configuration_peap",
            write_add_dot1x_configuration(&Dot1xConfiguration {
                id: None,
                alias: None,
                outer: Dot1xStage {
                    method: "EAP-PEAP".into(),
                    inner: Some(Box::new(Dot1xStage {
                        method: "MSCHAPv2".into(),
                        identity: Some("cam".into()),
                        passphrase_id: Some("pw-1".into()),
                        ..Dot1xStage::default()
                    })),
                    ..Dot1xStage::default()
                },
            }),
        ),
        (
            "get_all_dot1x_configurations",
            write_get_all_dot1x_configurations(),
        ),
        (
            "delete_dot1x_configuration",
            write_delete_dot1x_configuration("dot1x-1"),
        ),
        (
            "set_network_interface_dot1x",
            write_set_network_interface_dot1x(TRICKY, "dot1x-1"),
        ),
        (
            "get_network_interface_dot1x",
            write_get_network_interface_dot1x("eth0"),
        ),
        ("get_profiles", media2::write_get_profiles()),
        (
            "get_stream_uri_rtsps",
            media2::write_get_stream_uri(StreamProtocol::Rtsps, "Profile_1"),
        ),
        (
            "get_stream_uri_unicast",
            media2::write_get_stream_uri(StreamProtocol::RtspUnicast, TRICKY),
        ),
        ("get_snapshot_uri", media2::write_get_snapshot_uri(TRICKY)),
    ]
}

#[test]
fn requests_and_sample_replies_are_schema_valid() {
    let validator = validator();
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut files = Vec::new();
    for (name, xml) in requests() {
        let path = dir.path().join(format!("request_{name}.xml"));
        std::fs::write(&path, xml).expect("write request");
        files.push(path);
    }
    let replies = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/replies");
    let mut reply_count = 0;
    for entry in std::fs::read_dir(&replies).expect("sample replies folder") {
        let path = entry.expect("directory entry").path();
        if path.extension().is_some_and(|e| e == "xml") {
            files.push(path);
            reply_count += 1;
        }
    }
    assert!(
        reply_count >= 25,
        "expected the sample replies in {}",
        replies.display()
    );
    let output = Command::new(&validator)
        .args(&files)
        .output()
        .expect("run the validator");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "schema validation failed ({}):\n{report}",
        output.status
    );
    // Every file must have been looked at, not skipped.
    assert_eq!(report.matches(": valid").count(), files.len(), "{report}");
}

#[test]
fn tricky_text_is_escaped_in_requests() {
    let xml = device::write_delete_users(&[TRICKY]);
    let doc = roxmltree::Document::parse(&xml).expect("well-formed");
    let name = doc
        .descendants()
        .find(|n| n.has_tag_name("Username"))
        .expect("Username");
    assert_eq!(name.text(), Some(TRICKY));
}
