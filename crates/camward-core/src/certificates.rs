//! A CA-issued TLS certificate onto one logged-in camera, with the key made on the camera
//! (ONVIF Advanced Security Service Specification §5.2 keystore, §5.3 TLS server).
//!
//! The flow, each step named in errors:
//! 1. `CreateRSAKeyPair` (2048 bits or more), then `GetKeyStatus` polled, bounded, until `ok`.
//! 2. `CreatePKCS10CSR` with the subject and a SubjectAltName of every address and host name the
//!    camera is reached by; the CSR's signature is verified on arrival ([`create_key_and_csr`]).
//! 3. The certificate: signed by the site CA kept by Camward ([`enrol_with_site_ca`]), or issued by
//!    the site's own CA from exported CSR files and imported back, matched by public key
//!    (`camward_certs::csr`), then [`install`]ed.
//! 4. [`install`]: every check of `camward_certs::check` against the **camera's** clock, before
//!    anything is sent; then `UploadCertificate` (the leaf, whose private key the camera must hold,
//!    and the CA certificates not already stored), `CreateCertificationPath`, and
//!    `AddServerCertificateAssignment`, or `ReplaceServerCertificateAssignment` when a path is
//!    already assigned (most firmware serves one path at a time).
//! 5. A TLS handshake to the camera's HTTPS port that trusts only the uploaded certificate's
//!    SHA-256 fingerprint: only a handshake presenting exactly that certificate is success.
//!
//! Certificates and keys made elsewhere (`camward_certs::import`) need the camera to accept a
//! private key (`UploadCertificateWithPrivateKeyInPKCS12`): [`with_key`]; [`install`] takes a
//! chain whose key the camera holds.
//!
//! Pinning: a camera's self-signed certificate is pinned on first use; [`compare_pin`] says
//! whether a presented fingerprint is the pinned one, and a changed one is an alarm.
use std::sync::Arc;
use std::time::Duration;

use camward_certs::check::{check_certificate, CertProblem, Expectations};
use camward_certs::{hex, SiteCa, SubjectName, Validity};
use camward_onvif::clock::Clock;
use camward_onvif::device::ProtocolName;
use camward_onvif::http::{certificate_sha256, tls_config, TlsTrust};
use camward_onvif::security::{
    CsrRequest, DistinguishedName, KeyStatus, UploadRequest, X509Extension, SHA256_WITH_RSA,
};
use camward_onvif::{OnvifError, Service};

use crate::session::{onvif_error, CameraSession};
use crate::CoreError;

pub mod routes;
pub mod with_key;
pub use with_key::{import_key_camera, install_with_key};

/// The smallest RSA key Camward asks a camera for.
pub const MIN_KEY_BITS: u32 = 2048;

/// Alias Camward gives the keys, certificates and paths it creates on a camera.
const ALIAS: &str = "camward";

/// What the camera's certificate must say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Enrolment {
    /// The certificate's subject (the common name is usually the camera's host name).
    pub subject: DistinguishedName,
    /// Every address and host name the camera is reached by; the SubjectAltName names them all.
    pub names: Vec<SubjectName>,
    /// RSA key length to ask the camera for, [`MIN_KEY_BITS`] or more.
    pub key_bits: u32,
    /// How long to wait for the camera's key generation.
    pub key_wait: KeyWait,
}

/// How long to poll `GetKeyStatus`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyWait {
    /// Between polls.
    pub interval: Duration,
    /// Polls before giving up.
    pub attempts: u32,
}

impl Default for KeyWait {
    fn default() -> Self {
        // Cameras take seconds to a few minutes for a 2048-4096-bit RSA key.
        Self {
            interval: Duration::from_secs(2),
            attempts: 150,
        }
    }
}

/// A key generated on the camera, with its verified CSR.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CameraKey {
    /// The camera's KeyID.
    pub key_id: String,
    /// The CSR, DER.
    pub csr_der: Vec<u8>,
    /// The key, DER SubjectPublicKeyInfo (from the CSR): the certificate must carry exactly it.
    pub spki_der: Vec<u8>,
}

/// A certificate the camera now presents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Installed {
    /// The leaf's CertificateID on the camera.
    pub certificate_id: String,
    /// The CertificationPathID assigned to the TLS server.
    pub path_id: String,
    /// The path it replaced, when one was assigned.
    pub replaced: Option<String>,
    /// SHA-256 of the leaf's DER, as seen in the verifying handshake: the new pin.
    pub leaf_sha256: [u8; 32],
    /// End of the leaf's validity.
    pub not_after: time::OffsetDateTime,
    /// The camera's clock the checks ran against.
    pub camera_time: time::OffsetDateTime,
    /// What the checks found before the upload.
    pub checked: camward_certs::Checked,
}

/// Why an enrolment stopped.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EnrolmentError {
    /// The certificate failed the checks; nothing was uploaded.
    #[error("{camera}: the certificate was refused before upload: {}", join(.problems))]
    Refused {
        /// The camera.
        camera: String,
        /// Every problem found.
        problems: Vec<CertProblem>,
    },
    /// A step on the camera (or on the way to it) failed.
    #[error(transparent)]
    Failed(#[from] CoreError),
}

fn join(problems: &[CertProblem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl EnrolmentError {
    /// Stable code: the first problem's code for a refusal, the step's code otherwise.
    pub fn code(&self) -> &str {
        match self {
            EnrolmentError::Refused { problems, .. } => {
                problems.first().map_or("cert_refused", CertProblem::code)
            }
            EnrolmentError::Failed(e) => &e.code,
        }
    }

    /// The error as it crosses the IPC/CLI boundary.
    pub fn to_core(&self) -> CoreError {
        match self {
            EnrolmentError::Refused { camera, problems } => CoreError {
                code: self.code().to_owned(),
                message: join(problems),
                camera: camera.clone(),
                step: "check certificate".into(),
            },
            EnrolmentError::Failed(e) => e.clone(),
        }
    }
}

fn step_error(code: &str, camera: &str, step: &str, message: impl Into<String>) -> CoreError {
    CoreError {
        code: code.to_owned(),
        message: message.into(),
        camera: camera.to_owned(),
        step: step.to_owned(),
    }
}

/// Steps 1 and 2: a new key on the camera and its CSR for `enrolment`.
pub async fn create_key_and_csr(
    session: &CameraSession,
    camera: &str,
    enrolment: &Enrolment,
) -> Result<CameraKey, CoreError> {
    if enrolment.key_bits < MIN_KEY_BITS {
        return Err(step_error(
            "key_too_short",
            camera,
            "CreateRSAKeyPair",
            format!(
                "an RSA key of {} bits is too short; ask for {MIN_KEY_BITS} or more",
                enrolment.key_bits
            ),
        ));
    }
    if enrolment.names.is_empty() {
        return Err(step_error(
            "no_subject_names",
            camera,
            "CreatePKCS10CSR",
            "no address or host name to certify; say how the camera is reached",
        ));
    }
    let san = camward_certs::subject_alt_name_der(&enrolment.names)
        .map_err(|e| step_error(e.code(), camera, "CreatePKCS10CSR", e.to_string()))?;
    let created = session
        .create_rsa_key_pair(enrolment.key_bits, Some(ALIAS))
        .await
        .map_err(|e| onvif_error(camera, "CreateRSAKeyPair", e))?;
    wait_for_key(session, camera, &created.key_id, enrolment.key_wait).await?;
    let csr_der = session
        .create_pkcs10_csr(&CsrRequest {
            subject: enrolment.subject.clone(),
            key_id: created.key_id.clone(),
            extensions: vec![X509Extension {
                oid: camward_certs::csr::SUBJECT_ALT_NAME_OID.into(),
                critical: false,
                value_der: san,
            }],
            signature_algorithm: SHA256_WITH_RSA.into(),
        })
        .await
        .map_err(|e| onvif_error(camera, "CreatePKCS10CSR", e))?;
    let parsed = camward_certs::parse_csr(&csr_der)
        .map_err(|e| step_error(e.code(), camera, "CreatePKCS10CSR", e.to_string()))?;
    Ok(CameraKey {
        key_id: created.key_id,
        csr_der: parsed.der,
        spki_der: parsed.spki_der,
    })
}

async fn wait_for_key(
    session: &CameraSession,
    camera: &str,
    key_id: &str,
    wait: KeyWait,
) -> Result<(), CoreError> {
    for attempt in 0..wait.attempts.max(1) {
        if attempt > 0 {
            tokio::time::sleep(wait.interval).await;
        }
        match session
            .get_key_status(key_id)
            .await
            .map_err(|e| onvif_error(camera, "GetKeyStatus", e))?
        {
            KeyStatus::Ok => return Ok(()),
            KeyStatus::Generating => {}
            KeyStatus::Corrupt => {
                return Err(step_error(
                    "key_corrupt",
                    camera,
                    "GetKeyStatus",
                    format!("the camera reports key {key_id} as corrupt; try again"),
                ))
            }
            KeyStatus::Other(s) => {
                return Err(step_error(
                    "key_status_unknown",
                    camera,
                    "GetKeyStatus",
                    format!("the camera reports key {key_id} as {s:?}"),
                ))
            }
        }
    }
    Err(step_error(
        "key_generation_timeout",
        camera,
        "GetKeyStatus",
        format!(
            "key {key_id} was still being generated after {} checks; try again later",
            wait.attempts
        ),
    ))
}

/// The camera's clock now: `clock` corrected by the session's measured offset (the laptop's
/// clock when the offset was not measured).
pub fn camera_time(session: &CameraSession, clock: &dyn Clock) -> time::OffsetDateTime {
    clock.now() + session.clock_offset().unwrap_or(time::Duration::ZERO)
}

/// The whole flow with the site CA kept by Camward: key and CSR on the camera, the CSR signed
/// for `validity`, then [`install`].
pub async fn enrol_with_site_ca(
    session: &CameraSession,
    camera: &str,
    enrolment: &Enrolment,
    ca: &SiteCa,
    validity: Validity,
    clock: &dyn Clock,
) -> Result<Installed, EnrolmentError> {
    let key = create_key_and_csr(session, camera, enrolment).await?;
    let leaf = ca
        .sign_csr(&key.csr_der, &enrolment.names, validity)
        .map_err(|e| step_error(e.code(), camera, "sign CSR", e.to_string()))?;
    let chain = vec![leaf, ca.certificate_der().to_vec()];
    install(
        session,
        camera,
        &chain,
        ca.certificate_der(),
        Some(&key),
        &enrolment.names,
        clock,
    )
    .await
}

/// Steps 4 and 5: checks `chain` (leaf first) against the camera's clock, the `trust_anchor_der`
/// CA, `names` and the camera's `key`, and only then uploads, assigns and verifies it.
pub async fn install(
    session: &CameraSession,
    camera: &str,
    chain: &[Vec<u8>],
    trust_anchor_der: &[u8],
    key: Option<&CameraKey>,
    names: &[SubjectName],
    clock: &dyn Clock,
) -> Result<Installed, EnrolmentError> {
    let now = camera_time(session, clock);
    let checked = check_certificate(
        chain,
        &Expectations {
            trust_anchor_der,
            camera_time: now,
            reached_by: names,
            camera_spki_der: key.map(|k| k.spki_der.as_slice()),
        },
    )
    .map_err(|problems| EnrolmentError::Refused {
        camera: camera.to_owned(),
        problems,
    })?;
    let Some((leaf, issuers)) = chain.split_first() else {
        unreachable!("check_certificate refuses an empty chain");
    };
    // The leaf's key must be on the camera: PrivateKeyRequired makes the camera refuse otherwise.
    let uploaded = session
        .upload_certificate(&UploadRequest {
            certificate_der: leaf.clone(),
            alias: Some(ALIAS.into()),
            key_alias: None,
            private_key_required: true,
        })
        .await
        .map_err(|e| onvif_error(camera, "UploadCertificate", e))?;
    let mut path_ids = vec![uploaded.certificate_id.clone()];
    // The anchor ends the path, so the camera can send the whole chain.
    let mut rest: Vec<&[u8]> = issuers.iter().map(Vec::as_slice).collect();
    if rest.last() != Some(&trust_anchor_der) {
        rest.push(trust_anchor_der);
    }
    // A CA certificate already on the camera (an earlier enrolment) is used, not stored twice.
    let stored = session
        .get_all_certificates()
        .await
        .map_err(|e| onvif_error(camera, "GetAllCertificates", e))?;
    for der in rest {
        let id = match stored.iter().find(|s| s.der == der) {
            Some(existing) => existing.certificate_id.clone(),
            None => {
                session
                    .upload_certificate(&UploadRequest {
                        certificate_der: der.to_vec(),
                        alias: Some(format!("{ALIAS}-ca")),
                        key_alias: None,
                        private_key_required: false,
                    })
                    .await
                    .map_err(|e| onvif_error(camera, "UploadCertificate (CA)", e))?
                    .certificate_id
            }
        };
        path_ids.push(id);
    }
    let ids: Vec<&str> = path_ids.iter().map(String::as_str).collect();
    let path_id = session
        .create_certification_path(&ids, Some(ALIAS))
        .await
        .map_err(|e| onvif_error(camera, "CreateCertificationPath", e))?;
    let assigned = session
        .get_assigned_server_certificates()
        .await
        .map_err(|e| onvif_error(camera, "GetAssignedServerCertificates", e))?;
    let replaced = match assigned.first() {
        None => {
            session
                .add_server_certificate_assignment(&path_id)
                .await
                .map_err(|e| onvif_error(camera, "AddServerCertificateAssignment", e))?;
            None
        }
        Some(old) if *old == path_id => None,
        Some(old) => {
            replace_server_certificate_assignment(session, old, &path_id)
                .await
                .map_err(|e| onvif_error(camera, "ReplaceServerCertificateAssignment", e))?;
            Some(old.clone())
        }
    };
    let verified = async {
        let (host, port) = https_endpoint(session, camera).await?;
        verify_presented(&host, port, checked.leaf_sha256)
            .await
            .map_err(|message| step_error("tls_verification_failed", camera, "verify TLS", message))
    }
    .await;
    if let Err(mut e) = verified {
        // The camera does not serve what was assigned: put back what it served before (or
        // remove the new assignment), so it is left as it was. HTTP stays on.
        let undone = match &replaced {
            Some(old) => replace_server_certificate_assignment(session, &path_id, old)
                .await
                .map(|()| format!("the previous assignment ({old}) was put back")),
            None if assigned.is_empty() => session
                .remove_server_certificate_assignment(&path_id)
                .await
                .map(|()| "the new assignment was removed".to_owned()),
            None => Ok("the assignment was already in place".to_owned()),
        };
        let undone = undone.unwrap_or_else(|r| {
            format!("putting the previous assignment back failed too ({r}): check the camera's certificate page")
        });
        tracing::warn!(camera, code = %e.code, "certificate not served; assignment rolled back");
        e.message = format!("{}; {undone}; HTTP stays on", e.message);
        return Err(e.into());
    }
    Ok(Installed {
        certificate_id: uploaded.certificate_id,
        path_id,
        replaced,
        leaf_sha256: checked.leaf_sha256,
        not_after: checked.not_after,
        camera_time: now,
        checked,
    })
}

/// ReplaceServerCertificateAssignment request (advancedsecurity.wsdl): swaps the assigned path
/// in one step, so the TLS server is never left without a certificate.
pub fn write_replace_server_certificate_assignment(old_path_id: &str, new_path_id: &str) -> String {
    use camward_onvif::xml::escape;
    format!(
        "<tas:ReplaceServerCertificateAssignment xmlns:tas=\"{ns}\">\
         <tas:OldCertificationPathID>{old}</tas:OldCertificationPathID>\
         <tas:NewCertificationPathID>{new}</tas:NewCertificationPathID>\
         </tas:ReplaceServerCertificateAssignment>",
        ns = camward_onvif::ns::TAS,
        old = escape(old_path_id),
        new = escape(new_path_id),
    )
}

async fn replace_server_certificate_assignment(
    session: &CameraSession,
    old_path_id: &str,
    new_path_id: &str,
) -> Result<(), OnvifError> {
    session
        .call(
            Service::AdvancedSecurity,
            "ReplaceServerCertificateAssignment",
            &write_replace_server_certificate_assignment(old_path_id, new_path_id),
            false,
        )
        .await?
        .with_payload(|_| Ok(()))
}

/// The host of a device service URL, without brackets around an IPv6 address.
pub(crate) fn url_host(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split('/').next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next()?
    } else {
        authority.split(':').next()?
    };
    (!host.is_empty()).then(|| host.to_owned())
}

/// The camera's HTTPS host and port: the device URL's host, the port of the HTTPS protocol the
/// camera reports (GetNetworkProtocols).
async fn https_endpoint(session: &CameraSession, camera: &str) -> Result<(String, u16), CoreError> {
    let step = "GetNetworkProtocols";
    let host = url_host(session.device_url())
        .ok_or_else(|| step_error("invalid_url", camera, step, "the device URL names no host"))?;
    let protocols = session
        .get_network_protocols()
        .await
        .map_err(|e| onvif_error(camera, step, e))?;
    let https = protocols
        .iter()
        .find(|p| p.name == ProtocolName::Https && p.enabled)
        .and_then(|p| p.ports.first().copied())
        .ok_or_else(|| {
            step_error(
                "https_disabled",
                camera,
                step,
                "HTTPS is off on the camera, so the new certificate cannot be verified; turn HTTPS on",
            )
        })?;
    Ok((host, https))
}

/// A TLS handshake with `host:port` that succeeds only when the server presents the certificate
/// whose DER has SHA-256 `expected` (and proves it holds its key). Returns why not otherwise.
pub async fn verify_presented(host: &str, port: u16, expected: [u8; 32]) -> Result<(), String> {
    let config = tls_config(&TlsTrust::PinnedSha256(expected)).map_err(|e| e.to_string())?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let name = rustls_pki_types::ServerName::try_from(host.to_owned())
        .map_err(|e| format!("{host} is not a usable TLS server name: {e}"))?;
    let handshake = async {
        let tcp = tokio::net::TcpStream::connect((host, port))
            .await
            .map_err(|e| format!("cannot connect to {host}:{port}: {e}"))?;
        let stream = connector.connect(name, tcp).await.map_err(|e| {
            format!(
                "the camera did not present the uploaded certificate (SHA-256 {}): {e}",
                hex(&expected)
            )
        })?;
        let presented = stream
            .get_ref()
            .1
            .peer_certificates()
            .and_then(|c| c.first())
            .map(|c| certificate_sha256(c.as_ref()));
        if presented == Some(expected) {
            Ok(())
        } else {
            Err("the camera presented another certificate".to_owned())
        }
    };
    tokio::time::timeout(Duration::from_secs(15), handshake)
        .await
        .map_err(|_| format!("the TLS handshake with {host}:{port} timed out"))?
}

/// How a presented certificate compares with the pinned one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PinOutcome {
    /// Nothing was pinned: this fingerprint is now the pin (trust on first use).
    Pinned([u8; 32]),
    /// The pinned certificate.
    Same,
    /// Another certificate than the pinned one: an alarm until a person confirms the change.
    Changed {
        /// The pin.
        pinned: [u8; 32],
        /// What the camera presented.
        presented: [u8; 32],
    },
}

impl PinOutcome {
    /// Whether a person must look: the certificate changed without Camward changing it.
    pub fn is_alarm(&self) -> bool {
        matches!(self, PinOutcome::Changed { .. })
    }
}

/// Compares the fingerprint a camera presented with the `pinned` one (if any).
pub fn compare_pin(pinned: Option<[u8; 32]>, presented: [u8; 32]) -> PinOutcome {
    match pinned {
        None => PinOutcome::Pinned(presented),
        Some(pin) if pin == presented => PinOutcome::Same,
        Some(pin) => PinOutcome::Changed {
            pinned: pin,
            presented,
        },
    }
}

/// A SHA-256 fingerprint from lower-case (or upper-case) hex, as the inventory keeps it.
pub fn parse_fingerprint(hex_text: &str) -> Option<[u8; 32]> {
    let bytes = hex_text.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks(2).enumerate() {
        let pair = std::str::from_utf8(pair).ok()?;
        out[i] = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(out)
}

/// The typed alarm: `camera` presents another certificate than the pinned one. Never a
/// fallback to HTTP, never a silent accept.
pub fn certificate_changed(
    camera: &str,
    step: &str,
    pinned: [u8; 32],
    presented: [u8; 32],
) -> CoreError {
    step_error(
        "certificate_changed",
        camera,
        step,
        format!(
            "ALARM: the camera presents another certificate (SHA-256 {}) than the one pinned for it (SHA-256 {}): someone replaced it, or the camera was reset. Camward does not fall back to HTTP: find out who changed it, then pin the new one (camward certs trust {camera}) or enrol the camera again (camward certs enrol)",
            hex(&presented),
            hex(&pinned)
        ),
    )
}

/// The chain `host:port` presents (leaf first, DER), looked at without trusting it: the
/// handshake is aborted as soon as the certificate arrives, so nothing is sent over it.
pub async fn presented_chain(host: &str, port: u16) -> Result<Vec<Vec<u8>>, String> {
    let sink = camward_onvif::http::PresentedChain::default();
    let config = camward_onvif::http::inspection_config(&sink).map_err(|e| e.to_string())?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let name = rustls_pki_types::ServerName::try_from(host.to_owned())
        .map_err(|e| format!("{host} is not a usable TLS server name: {e}"))?;
    let look = async {
        let tcp = tokio::net::TcpStream::connect((host, port))
            .await
            .map_err(|e| format!("cannot connect to {host}:{port}: {e}"))?;
        // Fails by design once the certificate is captured.
        let refused = connector.connect(name, tcp).await.err();
        sink.take().filter(|c| !c.is_empty()).ok_or_else(|| {
            format!(
                "{host}:{port} presented no certificate{}",
                refused.map(|e| format!(" ({e})")).unwrap_or_default()
            )
        })
    };
    tokio::time::timeout(Duration::from_secs(15), look)
        .await
        .map_err(|_| format!("the TLS handshake with {host}:{port} timed out"))?
}

/// A handshake with `host:port` must present exactly the certificate `pin` (and prove it holds
/// its key). Otherwise: `certificate_changed` when another certificate is presented,
/// `https_unreachable` when HTTPS does not answer, `tls_verification_failed` else.
pub async fn check_pin(
    camera: &str,
    host: &str,
    port: u16,
    pin: [u8; 32],
    step: &str,
) -> Result<(), CoreError> {
    let Err(why) = verify_presented(host, port, pin).await else {
        return Ok(());
    };
    match presented_chain(host, port).await {
        Ok(chain) => {
            let presented = certificate_sha256(&chain[0]);
            if presented == pin {
                Err(step_error("tls_verification_failed", camera, step, why))
            } else {
                Err(certificate_changed(camera, step, pin, presented))
            }
        }
        Err(e) => Err(step_error(
            "https_unreachable",
            camera,
            step,
            format!(
                "HTTPS on {host}:{port} did not answer ({e}); Camward does not fall back to HTTP"
            ),
        )),
    }
}

/// The TCP port of a plain `http` URL (80 when it names none).
fn http_url_port(url: &str) -> Option<u16> {
    let rest = url.strip_prefix("http://")?;
    let authority = rest.split('/').next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    let after_host = match authority.strip_prefix('[') {
        Some(v6) => v6.split_once(']')?.1,
        None => authority.rsplit_once(':').map_or("", |(_, p)| p),
    };
    match after_host.trim_start_matches(':') {
        "" => Some(80),
        port => port.parse().ok(),
    }
}

/// What [`apply_https_only`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HttpsOnly {
    /// HTTP is off, proven from outside; Camward now reaches the camera over HTTPS.
    Applied(String),
    /// Dry run: HTTPS is proven and this would change.
    WouldChange(String),
    /// Not done, HTTP left on: why (no pin, another certificate, HTTPS silent).
    Refused(String),
    /// A step failed.
    Failed(CoreError),
}

fn audit_row(
    vault: &crate::credentials::Vault,
    camera: &str,
    action: &str,
    detail: String,
    result: &str,
) {
    if let Err(e) = vault
        .inventory
        .append_audit(&camward_vault::AuditEntry::camera(
            camera.to_owned(),
            action,
            detail,
            result,
        ))
    {
        tracing::warn!(camera, error = %e, "audit entry not written");
    }
}

/// How long the HTTP port may take to close after SetNetworkProtocols.
const HTTP_CLOSE_WAIT: Duration = Duration::from_secs(10);

/// https-only, lock-out safe: HTTP is turned off only when the camera has a certificate Camward
/// installed or a person pinned (inventory), a fresh handshake to its HTTPS port presents exactly
/// that certificate, and a logged-in ONVIF read over HTTPS with that pin succeeds. Then
/// SetNetworkProtocols with HTTP off (HTTPS, RTSP as they are) over that HTTPS session, the
/// switch recorded first (write-ahead: HTTPS is proven, so sessions over it work either way),
/// and the result verified from outside: the HTTP port refuses, HTTPS answers with the pin.
/// `session` is a logged-in session (any route); every step lands in the audit trail.
pub async fn apply_https_only(
    vault: &crate::credentials::Vault,
    url: &str,
    key: &camward_vault::CredentialKey,
    session: &CameraSession,
    dry_run: bool,
) -> HttpsOnly {
    let camera = key.camera.as_str();
    let refused = |reason: String| {
        audit_row(
            vault,
            camera,
            "https-only.refused",
            reason.clone(),
            "refused",
        );
        HttpsOnly::Refused(reason)
    };
    let pinned = vault
        .inventory
        .camera(camera)
        .ok()
        .flatten()
        .and_then(|r| r.certificate)
        .and_then(|c| parse_fingerprint(&c.sha256_fingerprint));
    let Some(pin) = pinned else {
        return refused("no certificate pinned for this camera: HTTP stays on until Camward installed one (camward certs enrol) or a person pinned the camera's own (camward certs trust)".into());
    };
    let protocols = match session.get_network_protocols().await {
        Ok(p) => p,
        Err(e) => return HttpsOnly::Failed(onvif_error(url, "GetNetworkProtocols", e)),
    };
    let Some(port) = protocols
        .iter()
        .find(|p| p.name == ProtocolName::Https && p.enabled)
        .and_then(|p| p.ports.first().copied())
    else {
        return refused("HTTPS is off on the camera: HTTP stays on".into());
    };
    let Some(host) = url_host(url) else {
        return HttpsOnly::Failed(step_error(
            "invalid_url",
            url,
            "https-only",
            "the device URL names no host",
        ));
    };
    let step = "verify HTTPS before HTTP off";
    if let Err(e) = check_pin(url, &host, port, pin, step).await {
        return match e.code.as_str() {
            "certificate_changed" => refused(format!(
                "the handshake presented another certificate than the pinned one: {}",
                e.message
            )),
            "https_unreachable" => refused(format!("HTTPS did not answer: {}", e.message)),
            _ => refused(format!(
                "the TLS handshake did not prove the pinned certificate: {}",
                e.message
            )),
        };
    }
    let route = crate::session::Route::https(port, pin);
    let https = match crate::session::logged_in_via(vault, url, key, &route).await {
        Ok(s) => s,
        Err(e) => {
            return refused(format!(
                "ONVIF over HTTPS did not answer ({}: {}): HTTP stays on",
                e.step, e.message
            ))
        }
    };
    if let Err(e) = https.get_device_information().await {
        return refused(format!(
            "a logged-in ONVIF read over HTTPS failed ({e}): HTTP stays on"
        ));
    }
    let sha = hex(&pin);
    audit_row(
        vault,
        camera,
        "https-only.proven",
        format!("HTTPS on port {port} presents the pinned certificate (SHA-256 {sha}) and answers a logged-in ONVIF read"),
        "ok",
    );
    let mut http_ports: Vec<u16> = protocols
        .iter()
        .filter(|p| p.name == ProtocolName::Http && p.enabled)
        .flat_map(|p| p.ports.iter().copied())
        .collect();
    // The port Camward reached it on is checked too (a port mapping may differ from the camera's
    // own setting).
    if let Some(p) = http_url_port(url) {
        if !http_ports.contains(&p) {
            http_ports.push(p);
        }
    }
    let change = format!(
        "HTTP off (port {}), HTTPS on port {port} with the pinned certificate (SHA-256 {sha}); Camward now talks HTTPS to this camera",
        http_ports.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    );
    if dry_run {
        return HttpsOnly::WouldChange(change);
    }
    // Write-ahead: from here on sessions go over HTTPS, which is proven to work.
    if let Err(e) = vault.inventory.set_https_access(camera, port, &sha) {
        return HttpsOnly::Failed(step_error(
            e.code(),
            url,
            "record HTTPS access",
            e.to_string(),
        ));
    }
    audit_row(
        vault,
        camera,
        "https-only.switch",
        format!("sessions now use https on port {port}, pinned to SHA-256 {sha}"),
        "ok",
    );
    let next: Vec<camward_onvif::device::NetworkProtocol> = protocols
        .iter()
        .map(|p| camward_onvif::device::NetworkProtocol {
            enabled: p.enabled && p.name != ProtocolName::Http,
            ..p.clone()
        })
        .collect();
    if let Err(e) = https.set_network_protocols(&next).await {
        let e = onvif_error(url, "SetNetworkProtocols", e);
        audit_row(
            vault,
            camera,
            "https-only.http-off",
            e.message.clone(),
            &e.code,
        );
        return HttpsOnly::Failed(e);
    }
    audit_row(
        vault,
        camera,
        "https-only.http-off",
        "SetNetworkProtocols: HTTP off, HTTPS and RTSP as they were".into(),
        "ok",
    );
    // From outside: the HTTP port refuses, HTTPS still answers with the pin.
    let ip: Option<std::net::IpAddr> = host.parse().ok();
    let mut still_open = Vec::new();
    if let Some(ip) = ip {
        let deadline = tokio::time::Instant::now() + HTTP_CLOSE_WAIT;
        for &p in &http_ports {
            while camward_discovery::outside::tcp_open(ip, p, Duration::from_millis(500)).await {
                if tokio::time::Instant::now() >= deadline {
                    still_open.push(p);
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    if !still_open.is_empty() {
        let e = step_error("http_still_on", url, "verify HTTP off", format!("the camera accepted SetNetworkProtocols but its HTTP port {still_open:?} still accepts connections"));
        audit_row(
            vault,
            camera,
            "https-only.verified",
            e.message.clone(),
            &e.code,
        );
        return HttpsOnly::Failed(e);
    }
    let proof = async {
        check_pin(url, &host, port, pin, "verify HTTPS after HTTP off").await?;
        route
            .open(url)?
            .get_system_date_and_time()
            .await
            .map_err(|e| onvif_error(url, "GetSystemDateAndTime over HTTPS", e))
    }
    .await;
    match proof {
        Ok(_) => {
            audit_row(vault, camera, "https-only.verified", format!("HTTP port {http_ports:?} refuses connections; HTTPS on {port} answers with the pinned certificate"), "ok");
            HttpsOnly::Applied(change)
        }
        Err(e) => {
            audit_row(
                vault,
                camera,
                "https-only.verified",
                e.message.clone(),
                &e.code,
            );
            HttpsOnly::Failed(e)
        }
    }
}

/// What a camera presents on its HTTPS port, for a person to confirm before it is pinned.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TrustOffer {
    /// The device service URL.
    pub camera: String,
    /// Where it was seen.
    pub host: String,
    /// The HTTPS port.
    pub port: u16,
    /// The certificate's subject.
    pub subject: String,
    /// Its issuer (the subject again when self-signed).
    pub issuer: String,
    /// Start of validity (RFC 3339).
    pub not_before: String,
    /// End of validity (RFC 3339).
    pub not_after: String,
    /// SHA-256 of the certificate, hex: what would be pinned.
    pub sha256: String,
    /// The fingerprint pinned now, when it differs (the person must confirm the change).
    pub replaces: Option<String>,
    /// Already the pinned certificate: nothing to confirm.
    pub already_pinned: bool,
    #[serde(skip)]
    not_after_time: time::OffsetDateTime,
}

/// The HTTPS port to look at: `port`, else the one Camward reaches the camera on, else the one
/// the camera reports (logged in as `user`, when the keychain holds its password).
async fn trust_port(
    vault: &crate::credentials::Vault,
    url: &str,
    user: &str,
    port: Option<u16>,
) -> Result<u16, CoreError> {
    if let Some(port) = port {
        return Ok(port);
    }
    let camera = crate::camera_key(url);
    if let Ok(Some(access)) = vault.inventory.https_access(&camera) {
        return Ok(access.port);
    }
    let key = camward_vault::CredentialKey::new(camera, user);
    if vault.ledger.current(&key).is_ok_and(|p| p.is_some()) {
        let session =
            crate::session::logged_in_via(vault, url, &key, &crate::session::Route::default())
                .await?;
        return https_endpoint(&session, url).await.map(|(_, p)| p);
    }
    Err(step_error(
        "https_port_unknown",
        url,
        "find the HTTPS port",
        format!("Camward holds no password for {user} on this camera to ask it for its HTTPS port; give it with --port"),
    ))
}

/// Trust on first use, step one: what the camera at `target` presents on its HTTPS port, and
/// how it compares with the pin the inventory holds. Nothing is trusted or recorded yet.
pub async fn inspect_for_trust(
    vault: &crate::credentials::Vault,
    target: &str,
    user: &str,
    port: Option<u16>,
) -> Result<TrustOffer, CoreError> {
    let url = crate::target::device_url(target)?;
    let step = "read the presented certificate";
    let port = trust_port(vault, &url, user, port).await?;
    let host = url_host(&url)
        .ok_or_else(|| step_error("invalid_url", &url, step, "the device URL names no host"))?;
    let chain = presented_chain(&host, port)
        .await
        .map_err(|e| step_error("https_unreachable", &url, step, e))?;
    let summary = camward_certs::describe(&chain[0])
        .map_err(|e| step_error(e.code(), &url, step, e.to_string()))?;
    let pinned = vault
        .inventory
        .camera(&crate::camera_key(&url))
        .ok()
        .flatten()
        .and_then(|r| r.certificate)
        .and_then(|c| parse_fingerprint(&c.sha256_fingerprint));
    let outcome = compare_pin(pinned, summary.sha256);
    let rfc3339 = |t: time::OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    };
    Ok(TrustOffer {
        camera: url,
        host,
        port,
        subject: summary.subject,
        issuer: summary.issuer,
        not_before: rfc3339(summary.not_before),
        not_after: rfc3339(summary.not_after),
        sha256: hex(&summary.sha256),
        replaces: match outcome {
            PinOutcome::Changed { pinned, .. } => Some(hex(&pinned)),
            _ => None,
        },
        already_pinned: outcome == PinOutcome::Same,
        not_after_time: summary.not_after,
    })
}

/// Trust on first use, step two, after a person confirmed `offer`: a handshake must present
/// exactly that certificate and prove its key; then it is the camera's pin in the inventory
/// (also for HTTPS sessions when its HTTP is off), with a row in the audit trail.
pub async fn pin_trusted(
    vault: &crate::credentials::Vault,
    offer: &TrustOffer,
) -> Result<(), CoreError> {
    let url = offer.camera.as_str();
    let step = "pin the certificate";
    let sha = parse_fingerprint(&offer.sha256).ok_or_else(|| {
        step_error(
            "invalid_fingerprint",
            url,
            step,
            "not a SHA-256 fingerprint",
        )
    })?;
    check_pin(url, &offer.host, offer.port, sha, step).await?;
    let camera = crate::camera_key(url);
    let record_error =
        |e: camward_vault::InventoryError| step_error(e.code(), url, step, e.to_string());
    let mut record = vault
        .inventory
        .camera(&camera)
        .map_err(record_error)?
        .unwrap_or_else(|| camward_vault::CameraRecord {
            key: camera.clone(),
            ..camward_vault::CameraRecord::default()
        });
    if !record.addresses.iter().any(|a| a == url) {
        record.addresses.insert(0, url.to_owned());
    }
    record.certificate = Some(camward_vault::CertificateRecord {
        sha256_fingerprint: offer.sha256.clone(),
        not_after: offer.not_after_time,
    });
    vault
        .inventory
        .upsert_camera(&record)
        .map_err(record_error)?;
    vault
        .inventory
        .repin_https(&camera, &offer.sha256)
        .map_err(record_error)?;
    vault
        .inventory
        .append_audit(&camward_vault::AuditEntry::camera(
            camera,
            "certificate.trusted",
            format!(
                "a person confirmed the certificate on port {}: subject {}, issuer {}, valid {} to {}, SHA-256 {}{}",
                offer.port,
                offer.subject,
                offer.issuer,
                offer.not_before,
                offer.not_after,
                offer.sha256,
                offer
                    .replaces
                    .as_ref()
                    .map(|old| format!(" (replaces the pinned SHA-256 {old})"))
                    .unwrap_or_default()
            ),
            "ok",
        ))
        .map_err(record_error)?;
    Ok(())
}

/// What `camward certs enrol` did on one camera.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Enrolled {
    /// The device service URL.
    pub camera: String,
    /// The names the certificate covers (SubjectAltName).
    pub names: Vec<String>,
    /// SHA-256 of the certificate the camera now presents, hex: its pin in the inventory.
    pub sha256: String,
    /// End of its validity (RFC 3339).
    pub not_after: String,
    /// Whether it replaced a certificate the camera served before.
    pub replaced: bool,
    /// What the checks before the upload found.
    pub checks: CheckedSummary,
}

/// The checks a certificate passed before it was uploaded, as a person reads them.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CheckedSummary {
    /// The leaf's key (`RSA 2048 bits`, `EC P-384`).
    pub key: String,
    /// Start of its validity (RFC 3339).
    pub not_before: String,
    /// The camera's clock when it was checked (RFC 3339): the validity must include it.
    pub camera_time: String,
    /// The subject of the CA its chain leads to.
    pub chain_to: String,
}

/// The site-CA route on one camera, end to end: logs in with the keychain's password of `user`,
/// has the camera make a key and a CSR for its address (and `extra` names), signs it with `ca`
/// for `days` from the camera's own clock, installs and verifies it by a TLS handshake, then
/// records the new certificate's fingerprint and expiry in the inventory (the pin later
/// handshakes are compared with) and in the audit trail.
pub async fn enrol_camera(
    vault: &crate::credentials::Vault,
    target: &str,
    user: &str,
    ca: &SiteCa,
    days: i64,
    extra: &[SubjectName],
) -> Result<Enrolled, CoreError> {
    enrol_camera_checked(vault, target, user, ca, days, extra)
        .await
        .map_err(|e| e.to_core())
}

/// [`enrol_camera`], a refusal by the checks keeping every problem they found.
pub async fn enrol_camera_checked(
    vault: &crate::credentials::Vault,
    target: &str,
    user: &str,
    ca: &SiteCa,
    days: i64,
    extra: &[SubjectName],
) -> Result<Enrolled, EnrolmentError> {
    let url = crate::target::device_url(target)?;
    let key = camward_vault::CredentialKey::new(crate::camera_key(&url), user);
    let session = crate::session::logged_in(vault, &url, &key).await?;
    let names = names_for(&url, extra);
    let enrolment = enrolment_for(ca.site(), names.clone());
    let clock = camward_onvif::clock::SystemClock;
    let validity = Validity::days_from(camera_time(&session, &clock), days);
    let installed = enrol_with_site_ca(&session, &url, &enrolment, ca, validity, &clock).await?;
    record_installed(
        vault,
        &url,
        &key,
        &format!("site CA {}", ca.site()),
        &names,
        &installed,
    )
    .map_err(EnrolmentError::Failed)
}

/// Keeps what a camera now presents: fingerprint (its pin) and expiry in the inventory, and a
/// row in the audit trail.
fn record_installed(
    vault: &crate::credentials::Vault,
    url: &str,
    key: &camward_vault::CredentialKey,
    issuer: &str,
    names: &[SubjectName],
    installed: &Installed,
) -> Result<Enrolled, CoreError> {
    let sha256 = hex(&installed.leaf_sha256);
    let not_after = installed
        .not_after
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let record_error = |e: camward_vault::InventoryError| {
        step_error(e.code(), url, "record the certificate", e.to_string())
    };
    let mut record = vault
        .inventory
        .camera(&key.camera)
        .map_err(record_error)?
        .unwrap_or_else(|| camward_vault::CameraRecord {
            key: key.camera.clone(),
            ..camward_vault::CameraRecord::default()
        });
    if !record.addresses.iter().any(|a| a == url) {
        record.addresses.insert(0, url.to_owned());
    }
    record.certificate = Some(camward_vault::CertificateRecord {
        sha256_fingerprint: sha256.clone(),
        not_after: installed.not_after,
    });
    vault
        .inventory
        .upsert_camera(&record)
        .map_err(record_error)?;
    // A camera reached over HTTPS only is reached with the new pin from now on.
    vault
        .inventory
        .repin_https(&key.camera, &sha256)
        .map_err(record_error)?;
    let names_text: Vec<String> = names.iter().map(ToString::to_string).collect();
    vault
        .inventory
        .append_audit(&camward_vault::AuditEntry::camera(
            key.camera.clone(),
            "certificate.installed",
            format!(
                "{issuer}: SHA-256 {sha256}, valid until {not_after}, for {}{}",
                names_text.join(", "),
                if installed.replaced.is_some() {
                    " (replaced the one before)"
                } else {
                    ""
                }
            ),
            "ok",
        ))
        .map_err(record_error)?;
    let rfc3339 = |t: time::OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    };
    Ok(Enrolled {
        camera: url.to_owned(),
        names: names_text,
        sha256,
        not_after,
        replaced: installed.replaced.is_some(),
        checks: CheckedSummary {
            key: installed.checked.key.clone(),
            not_before: rfc3339(installed.checked.not_before),
            camera_time: rfc3339(installed.camera_time),
            chain_to: installed.checked.chain_to.clone(),
        },
    })
}

/// The names a camera is reached by: the host of its URL, then `extra`, each once.
fn names_for(url: &str, extra: &[SubjectName]) -> Vec<SubjectName> {
    let host = crate::hardening::audit::host_of(url).map_or_else(
        || {
            let rest = url.split_once("://").map_or(url, |(_, r)| r);
            let authority = rest.split('/').next().unwrap_or(rest);
            SubjectName::parse(authority.rsplit_once(':').map_or(authority, |(h, _)| h))
        },
        SubjectName::Ip,
    );
    let mut names = vec![host];
    for name in extra {
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    names
}

fn enrolment_for(organization: &str, names: Vec<SubjectName>) -> Enrolment {
    Enrolment {
        subject: DistinguishedName {
            organization: Some(organization.to_owned()),
            common_name: names.first().map(ToString::to_string),
            ..DistinguishedName::default()
        },
        names,
        key_bits: MIN_KEY_BITS,
        key_wait: KeyWait::default(),
    }
}

/// The site's own CA, step one: each camera makes a key, and its CSR (for its address and
/// `extra` names) is written to `dir` with a manifest, for the site's CA to issue.
pub async fn export_csrs(
    vault: &crate::credentials::Vault,
    targets: &[String],
    user: &str,
    organization: &str,
    extra: &[SubjectName],
    dir: &std::path::Path,
) -> (camward_certs::Manifest, Vec<CoreError>) {
    let mut csrs = Vec::new();
    let mut errors = Vec::new();
    for target in targets {
        match csr_for_export(vault, target, user, organization, extra).await {
            Ok(csr) => csrs.push(csr),
            Err(e) => errors.push(e),
        }
    }
    write_csr_batch(dir, &csrs, errors)
}

/// One camera of [`export_csrs`]: it makes a key on the camera and its CSR, logged in as `user`.
pub(crate) async fn csr_for_export(
    vault: &crate::credentials::Vault,
    target: &str,
    user: &str,
    organization: &str,
    extra: &[SubjectName],
) -> Result<camward_certs::CsrForExport, CoreError> {
    let url = crate::target::device_url(target)?;
    let key = camward_vault::CredentialKey::new(crate::camera_key(&url), user);
    let session = crate::session::logged_in(vault, &url, &key).await?;
    let enrolment = enrolment_for(organization, names_for(&url, extra));
    let made = create_key_and_csr(&session, &url, &enrolment).await?;
    Ok(camward_certs::CsrForExport {
        camera: url,
        csr_der: made.csr_der,
    })
}

/// The end of [`export_csrs`]: the CSRs and their manifest written to `dir`; a failure to
/// write them joins `errors`, with an empty manifest.
pub(crate) fn write_csr_batch(
    dir: &std::path::Path,
    csrs: &[camward_certs::CsrForExport],
    mut errors: Vec<CoreError>,
) -> (camward_certs::Manifest, Vec<CoreError>) {
    match camward_certs::export_batch(dir, csrs) {
        Ok(manifest) => (manifest, errors),
        Err(e) => {
            errors.push(step_error(
                e.code(),
                "-",
                "write the CSR files",
                e.to_string(),
            ));
            (
                camward_certs::Manifest {
                    version: 1,
                    cameras: Vec::new(),
                },
                errors,
            )
        }
    }
}

/// The site's own CA, step two: the certificates it issued (files in `dir`, next to the
/// manifest of [`export_csrs`]) matched to cameras by public key, checked against the camera's
/// clock and `ca_der`, installed and proven by a TLS handshake, one result per camera. Files
/// that match no camera come back with their reasons.
pub async fn import_issued(
    vault: &crate::credentials::Vault,
    dir: &std::path::Path,
    user: &str,
    ca_der: &[u8],
) -> Result<
    (
        Vec<(String, Result<Enrolled, CoreError>)>,
        camward_certs::ImportReport,
    ),
    CoreError,
> {
    let (results, report) = import_issued_checked(vault, dir, user, ca_der).await?;
    Ok((
        results
            .into_iter()
            .map(|(camera, result)| (camera, result.map_err(|e| e.to_core())))
            .collect(),
        report,
    ))
}

/// [`import_issued`], each refusal by the checks keeping every problem they found.
pub async fn import_issued_checked(
    vault: &crate::credentials::Vault,
    dir: &std::path::Path,
    user: &str,
    ca_der: &[u8],
) -> Result<
    (
        Vec<(String, Result<Enrolled, EnrolmentError>)>,
        camward_certs::ImportReport,
    ),
    CoreError,
> {
    let manifest = camward_certs::read_manifest(dir)
        .map_err(|e| step_error(e.code(), "-", "read the manifest", e.to_string()))?;
    let report = camward_certs::import_batch(dir, &manifest)
        .map_err(|e| step_error(e.code(), "-", "read the issued certificates", e.to_string()))?;
    let mut results = Vec::new();
    for issued in &report.issued {
        let names: Vec<SubjectName> = manifest
            .cameras
            .iter()
            .find(|c| c.camera == issued.camera)
            .map(|c| c.names.iter().map(|n| SubjectName::parse(n)).collect())
            .unwrap_or_default();
        let result = async {
            let url = crate::target::device_url(&issued.camera)?;
            let key = camward_vault::CredentialKey::new(crate::camera_key(&url), user);
            let session = crate::session::logged_in(vault, &url, &key).await?;
            let clock = camward_onvif::clock::SystemClock;
            let installed = install(
                &session,
                &url,
                &issued.chain_der,
                ca_der,
                None,
                &names,
                &clock,
            )
            .await?;
            record_installed(vault, &url, &key, "the site's CA", &names, &installed)
                .map_err(EnrolmentError::Failed)
        }
        .await;
        results.push((issued.camera.clone(), result));
    }
    Ok((results, report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_are_set_once_and_a_change_is_an_alarm() {
        let a = [1u8; 32];
        let b = [2u8; 32];
        assert_eq!(compare_pin(None, a), PinOutcome::Pinned(a));
        assert_eq!(compare_pin(Some(a), a), PinOutcome::Same);
        let changed = compare_pin(Some(a), b);
        assert!(changed.is_alarm());
        assert!(!compare_pin(Some(a), a).is_alarm() && !compare_pin(None, a).is_alarm());
    }

    #[test]
    fn hosts_come_out_of_device_urls() {
        assert_eq!(
            url_host("http://192.0.2.10:8080/onvif/device_service").as_deref(),
            Some("192.0.2.10")
        );
        assert_eq!(
            url_host("https://[2001:db8::1]:443/x").as_deref(),
            Some("2001:db8::1")
        );
        assert_eq!(
            url_host("http://cam.example.net/").as_deref(),
            Some("cam.example.net")
        );
        assert_eq!(url_host("nonsense"), None);
    }

    #[test]
    fn fingerprints_round_trip_through_hex_and_a_change_names_both() {
        let pin = [0xabu8; 32];
        assert_eq!(parse_fingerprint(&hex(&pin)), Some(pin));
        assert_eq!(parse_fingerprint(&hex(&pin).to_uppercase()), Some(pin));
        assert_eq!(parse_fingerprint("abcd"), None);
        assert_eq!(parse_fingerprint(&"zz".repeat(32)), None);
        let e = certificate_changed(
            "http://192.0.2.1/onvif/device_service",
            "open",
            pin,
            [1; 32],
        );
        assert_eq!(e.code, "certificate_changed");
        assert!(e.message.contains(&hex(&pin)) && e.message.contains(&hex(&[1; 32])));
        assert!(e.message.starts_with("ALARM"));
    }

    #[test]
    fn http_ports_come_out_of_device_urls() {
        assert_eq!(
            http_url_port("http://192.0.2.1:8080/onvif/device_service"),
            Some(8080)
        );
        assert_eq!(
            http_url_port("http://192.0.2.1/onvif/device_service"),
            Some(80)
        );
        assert_eq!(http_url_port("http://[2001:db8::1]:81/x"), Some(81));
        assert_eq!(http_url_port("http://[2001:db8::1]/x"), Some(80));
        assert_eq!(http_url_port("https://192.0.2.1:443/x"), None);
    }

    #[test]
    fn replace_request_escapes_ids() {
        let xml = write_replace_server_certificate_assignment("a<b", "c&d");
        assert!(xml.contains("a&lt;b") && xml.contains("c&amp;d"), "{xml}");
    }
}
