//! The one place in Camward that builds HTTP clients (ARCHITECTURE.md invariant; `clippy.toml`
//! forbids `reqwest::Client::new/builder` elsewhere).
//!
//! Every client has connect and request timeouts, follows no redirects (a camera redirecting a
//! SOAP POST elsewhere is not something to follow with credentials), caps the reply size while
//! streaming, and verifies TLS against a CA or a pinned certificate fingerprint. There is no way to
//! accept an invalid certificate.

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use sha2::{Digest as _, Sha256};

use crate::error::TransportError;
use crate::transport::{HttpRequest, HttpResponse, Transport};

/// Default reply size cap: ONVIF replies are kilobytes; 4 MiB leaves room for certificate chains.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;

/// How the camera's TLS certificate is trusted.
#[derive(Clone)]
pub enum TlsTrust {
    /// Certificates chaining to these CA certificates (PEM, one or more) with a matching name.
    CaPem(Vec<u8>),
    /// Exactly the certificate whose DER encoding has this SHA-256 fingerprint (trust on first use
    /// of a camera's self-signed certificate). Name and validity dates are not checked: the pin
    /// is the identity. The handshake signature is still verified.
    PinnedSha256([u8; 32]),
}

impl std::fmt::Debug for TlsTrust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TlsTrust::CaPem(p) => write!(f, "CaPem({} bytes)", p.len()),
            TlsTrust::PinnedSha256(fp) => write!(f, "PinnedSha256({})", hex(fp)),
        }
    }
}

/// Settings of an HTTP client.
#[derive(Clone, Debug)]
pub struct HttpConfig {
    /// TCP + TLS connect timeout.
    pub connect_timeout: Duration,
    /// Whole-request timeout, body included.
    pub request_timeout: Duration,
    /// Replies larger than this fail with [`TransportError::ResponseTooLarge`].
    pub max_response_bytes: usize,
    /// TLS trust for `https` URLs. `None` allows plain `http` only: an `https` URL then fails
    /// with a TLS error rather than trusting anything.
    pub trust: Option<TlsTrust>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(20),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            trust: None,
        }
    }
}

/// Lower-case hex of bytes (fingerprints in messages).
pub fn hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// SHA-256 fingerprint of a DER certificate, as used by [`TlsTrust::PinnedSha256`].
pub fn certificate_sha256(der: &[u8]) -> [u8; 32] {
    Sha256::digest(der).into()
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Builds the rustls configuration for a trust setting.
pub fn tls_config(trust: &TlsTrust) -> Result<rustls::ClientConfig, TransportError> {
    use rustls::pki_types::pem::PemObject as _;
    let provider = provider();
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| TransportError::Tls(e.to_string()))?;
    let config = match trust {
        TlsTrust::CaPem(pem) => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(pem) {
                let cert = cert.map_err(|e| TransportError::Tls(format!("bad CA PEM: {e}")))?;
                roots
                    .add(cert)
                    .map_err(|e| TransportError::Tls(format!("bad CA certificate: {e}")))?;
            }
            if roots.is_empty() {
                return Err(TransportError::Tls("no CA certificate in the PEM".into()));
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        TlsTrust::PinnedSha256(pin) => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(PinnedCertificate {
                pin: *pin,
                provider,
            }))
            .with_no_client_auth(),
    };
    Ok(config)
}

/// The chain a server presented, captured by an [`inspection_config`] handshake.
#[derive(Clone, Debug, Default)]
pub struct PresentedChain(Arc<std::sync::Mutex<Option<Vec<Vec<u8>>>>>);

impl PresentedChain {
    /// The chain (leaf first, DER), once a handshake got that far.
    pub fn take(&self) -> Option<Vec<Vec<u8>>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }
}

/// A configuration that trusts nothing and only looks: the server's chain is kept in `sink` and
/// the handshake is then aborted, so nothing is ever sent over it. For showing a person a
/// camera's certificate before it is pinned (trust on first use), and for telling "another
/// certificate" from "no answer" when a pin does not match.
pub fn inspection_config(sink: &PresentedChain) -> Result<rustls::ClientConfig, TransportError> {
    let provider = provider();
    Ok(
        rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| TransportError::Tls(e.to_string()))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(InspectOnly {
                sink: sink.clone(),
                provider,
            }))
            .with_no_client_auth(),
    )
}

/// Keeps the presented chain and refuses it: a look, never a trust decision.
#[derive(Debug)]
struct InspectOnly {
    sink: PresentedChain,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for InspectOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let chain = std::iter::once(end_entity)
            .chain(intermediates)
            .map(|c| c.as_ref().to_vec())
            .collect();
        *self
            .sink
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(chain);
        Err(rustls::Error::General(
            "certificate captured for inspection, not trusted".into(),
        ))
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Err(rustls::Error::General("inspection only".into()))
    }

    fn verify_tls13_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Err(rustls::Error::General("inspection only".into()))
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Accepts exactly one certificate, by SHA-256 fingerprint, and still checks that the server
/// proved possession of its key (the handshake signature, RFC 8446 §4.4.3 / RFC 5246 §7.4.8).
#[derive(Debug)]
struct PinnedCertificate {
    pin: [u8; 32],
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for PinnedCertificate {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let got = certificate_sha256(end_entity.as_ref());
        if got == self.pin {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::Other(rustls::OtherError(Arc::new(PinMismatch {
                    got: hex(&got),
                }))),
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[derive(Debug)]
struct PinMismatch {
    got: String,
}

impl std::fmt::Display for PinMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "certificate fingerprint {} does not match the pinned one",
            self.got
        )
    }
}

impl std::error::Error for PinMismatch {}

/// The real transport: reqwest with the settings of an [`HttpConfig`].
#[derive(Debug, Clone)]
pub struct ReqwestTransport {
    client: reqwest::Client,
    max_response_bytes: usize,
    tls: bool,
}

impl ReqwestTransport {
    /// Builds the client.
    pub fn new(config: &HttpConfig) -> Result<Self, TransportError> {
        #[allow(clippy::disallowed_methods)] // This module is the one allowed place.
        let mut builder = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(concat!("camward/", env!("CARGO_PKG_VERSION")));
        // reqwest is built without a default TLS provider, so it always gets a configuration;
        // with no trust setting that configuration has an empty root store and trusts nobody.
        let tls = match &config.trust {
            Some(trust) => tls_config(trust)?,
            None => rustls::ClientConfig::builder_with_provider(provider())
                .with_safe_default_protocol_versions()
                .map_err(|e| TransportError::Tls(e.to_string()))?
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth(),
        };
        builder = builder.use_preconfigured_tls(tls);
        let client = builder
            .build()
            .map_err(|e| TransportError::Tls(error_chain(&e)))?;
        Ok(Self {
            client,
            max_response_bytes: config.max_response_bytes,
            tls: config.trust.is_some(),
        })
    }
}

/// The error and its sources, joined, for messages (never contains headers or bodies).
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

/// True when a rustls error is somewhere in the source chain. `io::Error::source` skips the
/// error an `io::Error` wraps, and hyper wraps TLS failures in two of them, so those are
/// unwrapped through `get_ref` instead.
fn is_tls_error(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cur {
        if c.is::<rustls::Error>() {
            return true;
        }
        cur = match c
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
        {
            Some(inner) => Some(inner),
            None => c.source(),
        };
    }
    false
}

fn map_reqwest_error(e: reqwest::Error) -> TransportError {
    if e.is_timeout() {
        return TransportError::Timeout;
    }
    let msg = error_chain(&e);
    if is_tls_error(&e) {
        TransportError::Tls(msg)
    } else if e.is_connect() {
        TransportError::Connect(msg)
    } else if e.is_builder() {
        TransportError::InvalidUrl(msg)
    } else {
        TransportError::Broken(msg)
    }
}

impl Transport for ReqwestTransport {
    async fn post(&self, req: HttpRequest) -> Result<HttpResponse, TransportError> {
        self.request("POST", req).await
    }
}

impl ReqwestTransport {
    /// Sends one request with any method (`GET`, `PUT`, ...), with the same timeouts, TLS trust and
    /// response cap as [`Transport::post`]. Vendor APIs (Axis VAPIX, Hikvision ISAPI) need more
    /// than POST; ONVIF itself only ever posts.
    pub async fn request(
        &self,
        method: &str,
        req: HttpRequest,
    ) -> Result<HttpResponse, TransportError> {
        let method = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|e| TransportError::InvalidUrl(format!("bad method: {e}")))?;
        let url =
            reqwest::Url::parse(&req.url).map_err(|e| TransportError::InvalidUrl(e.to_string()))?;
        if url.scheme() == "https" && !self.has_tls() {
            return Err(TransportError::Tls(
                "no TLS trust configured for an https URL".into(),
            ));
        }
        let mut rb = self.client.request(method, url);
        for (name, value) in &req.headers {
            rb = rb.header(name.as_str(), value.as_str());
        }
        let mut resp = rb.body(req.body).send().await.map_err(map_reqwest_error)?;
        let limit = self.max_response_bytes;
        if resp.content_length().is_some_and(|n| n > limit as u64) {
            return Err(TransportError::ResponseTooLarge { limit });
        }
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        // The cap is checked per chunk so a camera that lies about (or omits) Content-Length
        // cannot make us buffer more than the cap plus one chunk.
        let mut body = BytesMut::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| {
            // The head arrived, so a broken connection here is a reply cut short, not a camera
            // that could not be reached; a stalled body is still a timeout.
            match map_reqwest_error(e) {
                TransportError::Broken(message) => TransportError::Truncated {
                    received: body.len(),
                    message,
                },
                other => other,
            }
        })? {
            if body.len() + chunk.len() > limit {
                return Err(TransportError::ResponseTooLarge { limit });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(HttpResponse {
            status,
            headers,
            body: Bytes::from(body),
        })
    }
}

impl ReqwestTransport {
    fn has_tls(&self) -> bool {
        // Without a trust setting there is no TLS configuration at all (the crate is built with
        // `rustls-tls-manual-roots-no-provider`), so say so plainly instead of failing obscurely.
        self.tls
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Serves one raw HTTP response on 127.0.0.1 after reading the request head.
    async fn serve_once(response: Vec<u8>, delay: Duration) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 65536];
            let _ = sock.read(&mut buf).await;
            tokio::time::sleep(delay).await;
            let _ = sock.write_all(&response).await;
            let _ = sock.shutdown().await;
        });
        format!("http://{addr}/onvif/device_service")
    }

    fn request(url: String) -> HttpRequest {
        HttpRequest {
            url,
            headers: vec![("content-type".into(), "application/soap+xml".into())],
            body: b"<x/>".to_vec(),
        }
    }

    fn config(cap: usize) -> HttpConfig {
        HttpConfig {
            max_response_bytes: cap,
            request_timeout: Duration::from_secs(3),
            ..HttpConfig::default()
        }
    }

    #[tokio::test]
    async fn small_reply_passes_with_headers() {
        let url = serve_once(b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Digest a\r\nWWW-Authenticate: Digest b\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok".to_vec(), Duration::ZERO).await;
        let t = ReqwestTransport::new(&config(1024)).unwrap();
        let r = t.post(request(url)).await.unwrap();
        assert_eq!(r.status, 401);
        assert_eq!(r.header_values("www-authenticate").count(), 2);
        assert_eq!(&r.body[..], b"ok");
    }

    #[tokio::test]
    async fn size_cap_is_enforced_while_streaming_without_content_length() {
        let mut resp =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n".to_vec();
        for _ in 0..64 {
            resp.extend_from_slice(b"400\r\n");
            resp.extend_from_slice(&[b'a'; 0x400]);
            resp.extend_from_slice(b"\r\n");
        }
        resp.extend_from_slice(b"0\r\n\r\n");
        let url = serve_once(resp, Duration::ZERO).await;
        let t = ReqwestTransport::new(&config(10_000)).unwrap();
        let e = t.post(request(url)).await.unwrap_err();
        assert!(
            matches!(e, TransportError::ResponseTooLarge { limit: 10_000 }),
            "{e:?}"
        );
    }

    #[tokio::test]
    async fn declared_oversize_is_refused_before_reading() {
        let url = serve_once(
            b"HTTP/1.1 200 OK\r\nContent-Length: 999999999\r\n\r\nabc".to_vec(),
            Duration::ZERO,
        )
        .await;
        let t = ReqwestTransport::new(&config(1024)).unwrap();
        assert!(matches!(
            t.post(request(url)).await,
            Err(TransportError::ResponseTooLarge { .. })
        ));
    }

    #[tokio::test]
    async fn timeout_refused_connection_and_truncated_body_are_told_apart() {
        let url = serve_once(
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".to_vec(),
            Duration::from_secs(5),
        )
        .await;
        let t = ReqwestTransport::new(&HttpConfig {
            request_timeout: Duration::from_millis(300),
            ..config(1024)
        })
        .unwrap();
        assert!(matches!(
            t.post(request(url)).await,
            Err(TransportError::Timeout)
        ));

        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let e = t
            .post(request(format!("http://{addr}/")))
            .await
            .unwrap_err();
        assert!(matches!(e, TransportError::Connect(_)), "{e:?}");

        let url = serve_once(
            b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort".to_vec(),
            Duration::ZERO,
        )
        .await;
        let e = ReqwestTransport::new(&config(1024))
            .unwrap()
            .post(request(url))
            .await
            .unwrap_err();
        assert!(
            matches!(e, TransportError::Truncated { received: 5, .. }),
            "{e:?}"
        );
    }

    #[tokio::test]
    async fn https_without_trust_and_bad_ca_pem_are_tls_errors() {
        let t = ReqwestTransport::new(&config(1024)).unwrap();
        let e = t
            .post(request("https://127.0.0.1:1/".into()))
            .await
            .unwrap_err();
        assert!(matches!(e, TransportError::Tls(_)), "{e:?}");
        assert!(matches!(
            ReqwestTransport::new(&HttpConfig {
                trust: Some(TlsTrust::CaPem(b"nothing".to_vec())),
                ..config(1)
            }),
            Err(TransportError::Tls(_))
        ));
        // A pinned client builds; the pin itself is exercised against camsim's TLS slot.
        assert!(ReqwestTransport::new(&HttpConfig {
            trust: Some(TlsTrust::PinnedSha256([7; 32])),
            ..config(1)
        })
        .is_ok());
    }

    #[test]
    fn pin_mismatch_is_rejected_and_match_accepted() {
        let der = CertificateDer::from(vec![1u8, 2, 3]);
        let v = PinnedCertificate {
            pin: certificate_sha256(&[1, 2, 3]),
            provider: provider(),
        };
        let name = ServerName::try_from("camera.local").unwrap();
        assert!(v
            .verify_server_cert(&der, &[], &name, &[], UnixTime::now())
            .is_ok());
        let v = PinnedCertificate {
            pin: [0; 32],
            provider: provider(),
        };
        assert!(v
            .verify_server_cert(&der, &[], &name, &[], UnixTime::now())
            .is_err());
        assert!(!v.supported_verify_schemes().is_empty());
    }

    /// A camera CA and a leaf certificate for 127.0.0.1 signed by it.
    fn camera_certificates() -> (
        String,
        CertificateDer<'static>,
        rustls::pki_types::PrivateKeyDer<'static>,
    ) {
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = rcgen::Issuer::new(ca_params, ca_key);
        let leaf_key = rcgen::KeyPair::generate().unwrap();
        let leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()])
            .unwrap()
            .signed_by(&leaf_key, &issuer)
            .unwrap();
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into());
        (ca_cert.pem(), leaf.der().clone(), key)
    }

    /// Serves HTTPS on 127.0.0.1 with `cert`, answering every connection with a tiny reply.
    async fn serve_tls(
        cert: CertificateDer<'static>,
        key: rustls::pki_types::PrivateKeyDer<'static>,
    ) -> String {
        let config = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert], key)
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(sock).await else {
                        return;
                    };
                    let mut buf = vec![0u8; 65536];
                    let _ = tls.read(&mut buf).await;
                    let _ = tls
                        .write_all(
                            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                        )
                        .await;
                    let _ = tls.shutdown().await;
                });
            }
        });
        format!("https://{addr}/onvif/device_service")
    }

    #[tokio::test]
    async fn an_inspection_handshake_captures_the_chain_and_never_completes() {
        let (_, leaf, key) = camera_certificates();
        let url = serve_tls(leaf.clone(), key).await;
        let addr = url
            .trim_start_matches("https://")
            .split('/')
            .next()
            .unwrap()
            .to_owned();
        let sink = PresentedChain::default();
        let connector =
            tokio_rustls::TlsConnector::from(Arc::new(inspection_config(&sink).unwrap()));
        let tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let name = ServerName::try_from("127.0.0.1").unwrap();
        assert!(
            connector.connect(name, tcp).await.is_err(),
            "nothing is ever trusted"
        );
        let chain = sink.take().expect("the chain was captured");
        assert_eq!(chain[0], leaf.as_ref());
        assert!(sink.take().is_none(), "taken once");
    }

    #[tokio::test]
    async fn tls_is_verified_against_a_pin_or_a_ca() {
        let (ca_pem, leaf, key) = camera_certificates();
        let pin = certificate_sha256(leaf.as_ref());
        let url = serve_tls(leaf, key).await;
        let with = |trust| {
            ReqwestTransport::new(&HttpConfig {
                trust: Some(trust),
                ..config(1024)
            })
            .unwrap()
        };

        let r = with(TlsTrust::PinnedSha256(pin))
            .post(request(url.clone()))
            .await
            .unwrap();
        assert_eq!(&r.body[..], b"ok");
        let r = with(TlsTrust::CaPem(ca_pem.into_bytes()))
            .post(request(url.clone()))
            .await
            .unwrap();
        assert_eq!(r.status, 200);

        let mut wrong = pin;
        wrong[0] ^= 1;
        let e = with(TlsTrust::PinnedSha256(wrong))
            .post(request(url.clone()))
            .await
            .unwrap_err();
        assert!(matches!(e, TransportError::Tls(_)), "{e:?}");
        let (other_ca, _, _) = camera_certificates();
        let e = with(TlsTrust::CaPem(other_ca.into_bytes()))
            .post(request(url.clone()))
            .await
            .unwrap_err();
        assert!(matches!(e, TransportError::Tls(_)), "{e:?}");
        let e = ReqwestTransport::new(&config(1024))
            .unwrap()
            .post(request(url))
            .await
            .unwrap_err();
        assert!(matches!(e, TransportError::Tls(_)), "{e:?}");
    }
}
