//! Route (3): a certificate and private key made elsewhere (PKCS#12 or PEM, read by
//! `camward_certs::import`) onto a camera that cannot make its own key (ONVIF Advanced Security
//! `UploadCertificateWithPrivateKeyInPKCS12`).
//!
//! The flow, each step named in errors:
//! 1. The key must belong to the leaf, and every check of `camward_certs::check` must pass
//!    against the **camera's** clock: validity, the chain to the chosen CA (or, when none is
//!    given, to the last certificate of the file), key strength, SANs covering how the camera is
//!    reached, serverAuth. Nothing is sent before.
//! 2. The identity is sealed again into a new PKCS#12 file with a one-time passphrase (PBES2
//!    AES-256): the person's own passphrase never leaves this computer, and a PEM pair travels
//!    the same way. `UploadCertificateWithPrivateKeyInPKCS12` carries file and one-time
//!    passphrase; the camera creates the certification path.
//! 3. `AddServerCertificateAssignment`, or `ReplaceServerCertificateAssignment` when a path is
//!    already assigned.
//! 4. A TLS handshake that trusts only the leaf's SHA-256: only exactly that certificate is
//!    success. [`import_key_camera`] then records fingerprint and expiry like the other routes.
//!
//! Over plain HTTP the sealed key and its one-time passphrase travel in the same request, so
//! anyone on the path could open it: prefer a session over HTTPS (the camera's current,
//! pinned certificate) when the camera has one.
use camward_certs::check::{check_certificate, Expectations};
use camward_certs::{ImportedIdentity, SubjectName};
use camward_onvif::clock::Clock;
use camward_onvif::security::Pkcs12Upload;

use super::{
    camera_time, https_endpoint, names_for, record_installed,
    replace_server_certificate_assignment, step_error, verify_presented, Enrolled, EnrolmentError,
    Installed, ALIAS,
};
use crate::session::{onvif_error, CameraSession};
use crate::CoreError;

/// Checks `identity` (leaf first, its key) against the camera's clock, `trust_anchor_der` (the
/// file's last certificate when `None`) and `names`, then uploads it with its key, assigns it
/// to the TLS server and proves by a TLS handshake that the camera presents exactly its leaf.
pub async fn install_with_key(
    session: &CameraSession,
    camera: &str,
    identity: &ImportedIdentity,
    trust_anchor_der: Option<&[u8]>,
    names: &[SubjectName],
    clock: &dyn Clock,
) -> Result<Installed, EnrolmentError> {
    let step = "check certificate";
    if !identity.key_matches_leaf() {
        return Err(step_error(
            "key_mismatch",
            camera,
            step,
            "the private key does not belong to the certificate (different public keys)",
        )
        .into());
    }
    let anchor: &[u8] = match trust_anchor_der {
        Some(der) => der,
        None => identity
            .chain_der
            .last()
            .ok_or_else(|| step_error("cert_missing", camera, step, "no certificate"))?,
    };
    let now = camera_time(session, clock);
    let checked = check_certificate(
        &identity.chain_der,
        &Expectations {
            trust_anchor_der: anchor,
            camera_time: now,
            reached_by: names,
            camera_spki_der: None,
        },
    )
    .map_err(|problems| EnrolmentError::Refused {
        camera: camera.to_owned(),
        problems,
    })?;
    // The anchor ends the chain the camera keeps, so it can send the whole chain.
    let mut chain = identity.chain_der.clone();
    if chain.last().map(Vec::as_slice) != Some(anchor) {
        chain.push(anchor.to_vec());
    }
    let sealed = ImportedIdentity {
        chain_der: chain,
        key_pkcs8_der: camward_vault::Sensitive::new(identity.key_pkcs8_der.expose().clone()),
    };
    let once = camward_certs::one_time_passphrase();
    let pkcs12 = camward_certs::to_pkcs12(&sealed, &once)
        .map_err(|e| step_error(e.code(), camera, "seal the PKCS#12 file", e.to_string()))?;
    drop(sealed);
    let upload = "UploadCertificateWithPrivateKeyInPKCS12";
    let uploaded = session
        .upload_pkcs12(&Pkcs12Upload {
            pkcs12_der: pkcs12,
            certification_path_alias: Some(ALIAS.into()),
            key_alias: Some(ALIAS.into()),
            ignore_additional_certificates: false,
            passphrase: once.expose().clone(),
        })
        .await
        .map_err(|e| onvif_error(camera, upload, e))?;
    let path_id = uploaded.certification_path_id;
    let certificate_id = session
        .get_all_certificates()
        .await
        .map_err(|e| onvif_error(camera, "GetAllCertificates", e))?
        .into_iter()
        .find(|c| c.der == identity.chain_der[0])
        .map(|c| c.certificate_id)
        .ok_or_else(|| {
            step_error(
                "certificate_not_stored",
                camera,
                upload,
                "the camera accepted the file but does not list its certificate",
            )
        })?;
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
    let (host, port) = https_endpoint(session, camera).await?;
    verify_presented(&host, port, checked.leaf_sha256)
        .await
        .map_err(|message| step_error("tls_verification_failed", camera, "verify TLS", message))?;
    Ok(Installed {
        certificate_id,
        path_id,
        replaced,
        leaf_sha256: checked.leaf_sha256,
        not_after: checked.not_after,
        camera_time: now,
        checked,
    })
}

/// Route (3) on one camera, end to end: logs in with the keychain's password of `user`, installs
/// `identity` for the camera's address (and `extra` names) with [`install_with_key`], then
/// records the certificate's fingerprint and expiry in the inventory and the audit trail.
pub async fn import_key_camera(
    vault: &crate::credentials::Vault,
    target: &str,
    user: &str,
    identity: &ImportedIdentity,
    trust_anchor_der: Option<&[u8]>,
    extra: &[SubjectName],
) -> Result<Enrolled, CoreError> {
    import_key_camera_checked(vault, target, user, identity, trust_anchor_der, extra)
        .await
        .map_err(|e| e.to_core())
}

/// [`import_key_camera`], a refusal by the checks keeping every problem they found.
pub async fn import_key_camera_checked(
    vault: &crate::credentials::Vault,
    target: &str,
    user: &str,
    identity: &ImportedIdentity,
    trust_anchor_der: Option<&[u8]>,
    extra: &[SubjectName],
) -> Result<Enrolled, EnrolmentError> {
    let url = crate::target::device_url(target)?;
    let key = camward_vault::CredentialKey::new(crate::camera_key(&url), user);
    let session = crate::session::logged_in(vault, &url, &key).await?;
    let names = names_for(&url, extra);
    let clock = camward_onvif::clock::SystemClock;
    let installed =
        install_with_key(&session, &url, identity, trust_anchor_der, &names, &clock).await?;
    record_installed(
        vault,
        &url,
        &key,
        "certificate and key imported",
        &names,
        &installed,
    )
    .map_err(EnrolmentError::Failed)
}
