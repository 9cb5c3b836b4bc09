//! The keystore drives the HTTPS listener end to end, and the `camsim` binary prints its cameras.
mod common;

use std::io::{BufRead as _, Write as _};
use std::sync::Arc;

use camsim::{Fleet, FleetConfig};
use common::*;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const TAS: &str = "http://www.onvif.org/ver10/advancedsecurity/wsdl";

fn tas(payload: &str) -> String {
    // Declare the namespace on the payload element itself.
    envelope(
        &payload.replacen('>', &format!(" xmlns:tas=\"{TAS}\">"), 1),
        None,
    )
}

fn field(body: &str, name: &str) -> String {
    let doc = roxmltree::Document::parse(body).expect("XML");
    doc.descendants()
        .find(|n| n.tag_name().name() == name)
        .and_then(|n| n.text())
        .unwrap_or_else(|| panic!("no {name} in {body}"))
        .to_owned()
}

/// Accepts exactly one certificate (pinning), still checking handshake signatures.
#[derive(Debug)]
struct Pinned(Vec<u8>, Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &rustls_pki_types::CertificateDer<'_>,
        _: &[rustls_pki_types::CertificateDer<'_>],
        _: &rustls_pki_types::ServerName<'_>,
        _: &[u8],
        _: rustls_pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.0.as_slice() {
            Ok(rustls::client::danger::ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General("not the pinned certificate".into()))
        }
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls_pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.1.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls_pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.1.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.1.signature_verification_algorithms.supported_schemes()
    }
}

async fn https_post(port: u16, pinned: Vec<u8>, body: &str) -> std::io::Result<String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(std::io::Error::other)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Pinned(pinned, provider)))
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    let name =
        rustls_pki_types::ServerName::try_from("127.0.0.1").map_err(std::io::Error::other)?;
    let mut tls = connector.connect(name.to_owned(), tcp).await?;
    let url = format!("http://127.0.0.1:{port}/onvif/device_service");
    tls.write_all(&request_bytes(&url, body, None)).await?;
    let mut out = Vec::new();
    let _ = tls.read_to_end(&mut out).await;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assigned_self_signed_certificate_is_served_over_https() {
    let fleet = Fleet::start(FleetConfig::default()).await.expect("start");
    let camera = &fleet.cameras()[0];
    let url = camera.device_url();
    assert!(camera.https_url().is_none(), "no certificate yet");
    // Without a certificate, handshakes fail.
    assert!(https_post(
        camera.https_port(),
        Vec::new(),
        &envelope("<tds:GetSystemDateAndTime/>", None)
    )
    .await
    .is_err());

    let key = post(
        &url,
        &tas("<tas:CreateRSAKeyPair><tas:KeyLength>2048</tas:KeyLength></tas:CreateRSAKeyPair>"),
        None,
    )
    .await
    .expect("reply");
    assert_eq!(key.status, 200, "{}", key.body);
    let key_id = field(&key.body, "KeyID");
    let cert = post(&url, &tas(&format!(
        "<tas:CreateSelfSignedCertificate><tas:Subject><tas:CommonName>cam-1</tas:CommonName></tas:Subject><tas:KeyID>{key_id}</tas:KeyID>\
         <tas:SignatureAlgorithm><tas:algorithm>1.2.840.113549.1.1.11</tas:algorithm></tas:SignatureAlgorithm></tas:CreateSelfSignedCertificate>")), None).await.expect("reply");
    assert_eq!(cert.status, 200, "{}", cert.body);
    let cert_id = field(&cert.body, "CertificateID");
    let got = post(&url, &tas(&format!("<tas:GetCertificate><tas:CertificateID>{cert_id}</tas:CertificateID></tas:GetCertificate>")), None).await.expect("reply");
    use base64::Engine as _;
    let der = base64::engine::general_purpose::STANDARD
        .decode(field(&got.body, "CertificateContent").trim())
        .expect("base64");
    let path = post(&url, &tas(&format!("<tas:CreateCertificationPath><tas:CertificateIDs><tas:CertificateID>{cert_id}</tas:CertificateID></tas:CertificateIDs></tas:CreateCertificationPath>")), None).await.expect("reply");
    assert_eq!(path.status, 200, "{}", path.body);
    let path_id = field(&path.body, "CertificationPathID");
    let assign = post(&url, &tas(&format!("<tas:AddServerCertificateAssignment><tas:CertificationPathID>{path_id}</tas:CertificationPathID></tas:AddServerCertificateAssignment>")), None).await.expect("reply");
    assert_eq!(assign.status, 200, "{}", assign.body);

    assert!(camera.https_url().is_some());
    let reply = https_post(
        camera.https_port(),
        der,
        &envelope("<tds:GetSystemDateAndTime/>", None),
    )
    .await
    .expect("TLS works");
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.contains("SystemDateAndTime"));
    fleet.shutdown().await;
}

#[test]
fn binary_prints_one_json_line_per_camera_with_the_password_from_stdin() {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_camsim"))
        .args([
            "--cameras",
            "2",
            "--bind",
            "127.0.0.1",
            "--port",
            "0",
            "--state",
            "configured",
            "--json",
            "--admin-user",
            "admin",
            "--password-stdin",
            "--seed",
            "3",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("camsim runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"Secret-Passw0rd!\n")
        .expect("write");
    let mut lines = std::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut infos = Vec::new();
    for _ in 0..2 {
        let line = lines.next().expect("a line").expect("utf-8");
        let info: serde_json::Value = serde_json::from_str(&line).expect("JSON");
        infos.push(info);
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_ne!(infos[0]["mac"], infos[1]["mac"]);
    assert_ne!(infos[0]["serial"], infos[1]["serial"]);
    assert_eq!(infos[0]["manufacturer"], "Camsim");
    assert!(infos[0]["device_url"].as_str().is_some_and(
        |u| u.starts_with("http://127.0.0.1:") && u.ends_with("/onvif/device_service")
    ));
}
