//! Control `dot1x` (IEEE 802.1X port authentication, EAP-TLS): read, checked, applied **last**.
//!
//! A wrong 802.1X configuration takes the camera off its switch port, so it is the last change
//! of a commissioning run (after HTTPS-only, on a session of its own over the camera's route),
//! and only when the site plan has a `[dot1x]` section; otherwise it is a guided step naming the
//! camera's menu.
//!
//! Apply (ONVIF Advanced Security, §5.4 802.1X): the camera makes a key and a CSR, the site CA
//! signs it into a clientAuth certificate (`UploadCertificate` + the site CA, `CreateCertificationPath`: the client
//! certificate); the RADIUS server's CA is uploaded and made the trust anchor of a certification
//! path validation policy (`CreateCertPathValidationPolicy`); `AddDot1XConfiguration` (EAP-TLS,
//! the identity, the client path, the policy); then `SetNetworkInterfaceDot1XConfiguration` on
//! the camera's interface; proven by reading both back.
use camward_certs::{SiteCa, SubjectName, Validity};
use camward_onvif::security::{Dot1xConfiguration, Dot1xStage, UploadRequest};
use camward_onvif::OnvifError;
use camward_policy::plan::{CameraNames, Dot1xPlan};

use crate::session::{onvif_error, CameraSession};
use crate::CoreError;

/// The EAP method Camward configures.
pub const EAP_TLS: &str = "EAP-TLS";
const ALIAS: &str = "camward-dot1x";

/// What the camera says about 802.1X.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Dot1xSeen {
    /// No 802.1X supplicant (no Dot1XCapabilities, or the operations are not supported).
    NotCapable,
    /// Capable; `assigned` is the configuration in use on `interface`, if any.
    Capable {
        /// The network interface token.
        interface: String,
        /// The configuration assigned to it.
        assigned: Option<Dot1xConfiguration>,
    },
}

/// Reads the 802.1X state of `interface`.
pub async fn read(camera: &CameraSession, interface: &str) -> Result<Dot1xSeen, OnvifError> {
    let caps = camera.get_security_capabilities().await?;
    if caps.dot1x.is_none() {
        return Ok(Dot1xSeen::NotCapable);
    }
    let id = match camera.get_network_interface_dot1x(interface).await {
        Ok(id) => id,
        Err(OnvifError::Refused(camward_onvif::DeviceRefusal::NotSupported)) => {
            return Ok(Dot1xSeen::NotCapable)
        }
        Err(e) => return Err(e),
    };
    let assigned = match id {
        None => None,
        Some(id) => camera
            .get_all_dot1x_configurations()
            .await?
            .into_iter()
            .find(|c| c.id.as_deref() == Some(id.as_str())),
    };
    Ok(Dot1xSeen::Capable {
        interface: interface.to_owned(),
        assigned,
    })
}

fn step_error(code: &str, camera: &str, step: &str, message: impl Into<String>) -> CoreError {
    CoreError {
        code: code.to_owned(),
        message: message.into(),
        camera: camera.to_owned(),
        step: step.to_owned(),
    }
}

/// Applies the plan's `[dot1x]` on `interface`: client certificate from `ca` (key made on the
/// camera, valid `days` from the camera's clock), the RADIUS CA `radius_ca_der` as trust anchor,
/// the EAP-TLS configuration, then its assignment, read back. Returns what changed.
#[allow(clippy::too_many_arguments)]
pub async fn apply(
    camera: &CameraSession,
    url: &str,
    interface: &str,
    plan: &Dot1xPlan,
    names: &CameraNames<'_>,
    ca: &SiteCa,
    radius_ca_der: &[u8],
    days: i64,
) -> Result<String, CoreError> {
    let identity = plan.identity.render(names);
    // The client certificate: the site-CA route, key made on the camera.
    let enrolment = crate::certificates::Enrolment {
        subject: camward_onvif::security::DistinguishedName {
            organization: Some(ca.site().to_owned()),
            common_name: Some(identity.clone()),
            ..Default::default()
        },
        names: vec![SubjectName::parse(&identity)],
        key_bits: crate::certificates::MIN_KEY_BITS,
        key_wait: crate::certificates::KeyWait::default(),
    };
    let key = crate::certificates::create_key_and_csr(camera, url, &enrolment).await?;
    let clock = camward_onvif::clock::SystemClock;
    let validity = Validity::days_from(crate::certificates::camera_time(camera, &clock), days);
    let leaf = ca
        .sign_client_csr(&key.csr_der, &enrolment.names, validity)
        .map_err(|e| step_error(e.code(), url, "sign the 802.1X CSR", e.to_string()))?;
    let upload = |der: &[u8], private: bool, alias: &str| UploadRequest {
        certificate_der: der.to_vec(),
        alias: Some(alias.to_owned()),
        key_alias: None,
        private_key_required: private,
    };
    let leaf_id = camera
        .upload_certificate(&upload(&leaf, true, ALIAS))
        .await
        .map_err(|e| onvif_error(url, "UploadCertificate (802.1X client)", e))?
        .certificate_id;
    let stored = camera
        .get_all_certificates()
        .await
        .map_err(|e| onvif_error(url, "GetAllCertificates", e))?;
    let stored_id = |der: &[u8]| {
        stored
            .iter()
            .find(|c| c.der == der)
            .map(|c| c.certificate_id.clone())
    };
    let ca_id = match stored_id(ca.certificate_der()) {
        Some(id) => id,
        None => {
            camera
                .upload_certificate(&upload(ca.certificate_der(), false, "camward-ca"))
                .await
                .map_err(|e| onvif_error(url, "UploadCertificate (site CA)", e))?
                .certificate_id
        }
    };
    let path_id = camera
        .create_certification_path(&[&leaf_id, &ca_id], Some(ALIAS))
        .await
        .map_err(|e| onvif_error(url, "CreateCertificationPath (802.1X client)", e))?;
    let radius_id = match stored_id(radius_ca_der) {
        Some(id) => id,
        None => {
            camera
                .upload_certificate(&upload(radius_ca_der, false, "camward-radius-ca"))
                .await
                .map_err(|e| onvif_error(url, "UploadCertificate (RADIUS CA)", e))?
                .certificate_id
        }
    };
    let policy_id = camera
        .create_cert_path_validation_policy(Some("camward-radius"), &[&radius_id])
        .await
        .map_err(|e| onvif_error(url, "CreateCertPathValidationPolicy", e))?;
    let dot1x_id = camera
        .add_dot1x_configuration(&Dot1xConfiguration {
            id: None,
            alias: Some(ALIAS.into()),
            outer: Dot1xStage {
                method: EAP_TLS.into(),
                identity: Some(identity.clone()),
                certification_path_id: Some(path_id.clone()),
                cert_path_validation_policy_id: Some(policy_id),
                ..Dot1xStage::default()
            },
        })
        .await
        .map_err(|e| onvif_error(url, "AddDot1XConfiguration", e))?;
    let reboot = camera
        .set_network_interface_dot1x(interface, &dot1x_id)
        .await
        .map_err(|e| onvif_error(url, "SetNetworkInterfaceDot1XConfiguration", e))?;
    // Proven by reading it back.
    let seen = read(camera, interface)
        .await
        .map_err(|e| onvif_error(url, "GetNetworkInterfaceDot1XConfiguration", e))?;
    match seen {
        Dot1xSeen::Capable {
            assigned: Some(c), ..
        } if c.id.as_deref() == Some(dot1x_id.as_str())
            && c.outer.method == EAP_TLS
            && c.outer.certification_path_id.as_deref() == Some(path_id.as_str()) => {}
        other => {
            return Err(step_error(
                "dot1x_not_applied",
                url,
                "verify 802.1X",
                format!(
                    "the camera does not report the 802.1X configuration it accepted: {other:?}"
                ),
            ))
        }
    }
    Ok(format!(
        "802.1X EAP-TLS on {interface} as {identity} (client certificate from site CA {}, RADIUS server trusted through its CA){}",
        ca.site(),
        if reboot { "; the camera asks for a reboot" } else { "" }
    ))
}
