//! The IPC types of the commissioning wizard's Certificates step, each built from its
//! `camward_core::certificates` type field by field like the rest of [`crate::ipc`], and listed
//! in [`decls`] for `ui/src/lib/bindings.ts`. No secret crosses here: a passphrase only goes in,
//! as a command argument.
use camward_core::certificates::routes::{
    CameraCertificate as CoreCameraCertificate, CertificateCheck as CoreCheck,
    CertificateEvent as CoreEvent, CsrExport as CoreCsrExport, ExportedCsr as CoreExportedCsr,
    IssuedImport as CoreIssuedImport, SiteCaInfo as CoreSiteCaInfo, UnusedFile as CoreUnusedFile,
};
use camward_core::certificates::{CheckedSummary as CoreSummary, Enrolled as CoreEnrolled};
use serde::Serialize;
use ts_rs::TS;

use super::CoreError;

/// The site CA kept by Camward, or that it will be created.
#[derive(Clone, Debug, Serialize, TS)]
pub struct SiteCaInfo {
    /// The site.
    pub site: String,
    /// Where its certificate is (or will be) kept.
    pub path: String,
    /// False when it will be created on first use.
    pub exists: bool,
    /// Its subject, when it exists.
    pub subject: Option<String>,
    /// SHA-256 of its certificate, hex.
    pub sha256: Option<String>,
    /// End of its validity (RFC 3339).
    pub not_after: Option<String>,
}

impl From<CoreSiteCaInfo> for SiteCaInfo {
    fn from(info: CoreSiteCaInfo) -> Self {
        let CoreSiteCaInfo {
            site,
            path,
            exists,
            subject,
            sha256,
            not_after,
        } = info;
        SiteCaInfo {
            site,
            path,
            exists,
            subject,
            sha256,
            not_after,
        }
    }
}

/// The checks a certificate passed before upload.
#[derive(Clone, Debug, Serialize, TS)]
pub struct CheckedSummary {
    /// The key (`RSA 2048 bits`).
    pub key: String,
    /// Start of validity (RFC 3339).
    pub not_before: String,
    /// The camera's clock at the check (RFC 3339).
    pub camera_time: String,
    /// The CA the chain leads to.
    pub chain_to: String,
}

impl From<CoreSummary> for CheckedSummary {
    fn from(summary: CoreSummary) -> Self {
        let CoreSummary {
            key,
            not_before,
            camera_time,
            chain_to,
        } = summary;
        CheckedSummary {
            key,
            not_before,
            camera_time,
            chain_to,
        }
    }
}

/// The certificate a camera now presents, proven by a TLS handshake.
#[derive(Clone, Debug, Serialize, TS)]
pub struct Enrolled {
    /// The device service URL.
    pub camera: String,
    /// The names it covers.
    pub names: Vec<String>,
    /// SHA-256 of the certificate the camera presents, hex.
    pub sha256: String,
    /// End of its validity (RFC 3339).
    pub not_after: String,
    /// Whether it replaced one the camera served before.
    pub replaced: bool,
    /// The checks before upload.
    pub checks: CheckedSummary,
}

impl From<CoreEnrolled> for Enrolled {
    fn from(done: CoreEnrolled) -> Self {
        let CoreEnrolled {
            camera,
            names,
            sha256,
            not_after,
            replaced,
            checks,
        } = done;
        Enrolled {
            camera,
            names,
            sha256,
            not_after,
            replaced,
            checks: checks.into(),
        }
    }
}

/// One check of a camera's certificate.
#[derive(Clone, Debug, Serialize, TS)]
pub struct CertificateCheck {
    /// `names`, `key`, `validity`, `chain` or `served`.
    pub check: String,
    /// `pass`, `fail` or `not_run`.
    pub result: String,
    /// What it saw.
    pub detail: String,
}

impl From<CoreCheck> for CertificateCheck {
    fn from(check: CoreCheck) -> Self {
        let CoreCheck {
            check,
            result,
            detail,
        } = check;
        CertificateCheck {
            check,
            result,
            detail,
        }
    }
}

/// A certificate route's result on one camera.
#[derive(Clone, Debug, Serialize, TS)]
pub struct CameraCertificate {
    /// The device service URL.
    pub camera: String,
    /// Whether Camward created its administrator first.
    pub admin_created: bool,
    /// What it presents now.
    pub enrolled: Option<Enrolled>,
    /// The checks' results.
    pub checks: Vec<CertificateCheck>,
    /// Why it stopped.
    pub error: Option<CoreError>,
}

impl From<CoreCameraCertificate> for CameraCertificate {
    fn from(result: CoreCameraCertificate) -> Self {
        let CoreCameraCertificate {
            camera,
            admin_created,
            enrolled,
            checks,
            error,
        } = result;
        CameraCertificate {
            camera,
            admin_created,
            enrolled: enrolled.map(Into::into),
            checks: checks.into_iter().map(Into::into).collect(),
            error: error.map(Into::into),
        }
    }
}

/// Progress of a route over the selected cameras, streamed over a channel.
#[derive(Clone, Debug, Serialize, TS)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum CertificateEvent {
    /// Work on the camera began.
    Started {
        /// The camera.
        camera: String,
    },
    /// The camera is done.
    Finished {
        /// The camera.
        camera: String,
        /// Whether it presents its new certificate.
        ok: bool,
    },
}

impl From<CoreEvent> for CertificateEvent {
    fn from(event: CoreEvent) -> Self {
        match event {
            CoreEvent::Started { camera } => CertificateEvent::Started { camera },
            CoreEvent::Finished { camera, ok } => CertificateEvent::Finished { camera, ok },
        }
    }
}

/// One camera's CSR file.
#[derive(Clone, Debug, Serialize, TS)]
pub struct ExportedCsr {
    /// The camera.
    pub camera: String,
    /// The CSR file.
    pub file: String,
    /// The names it asks for.
    pub names: Vec<String>,
}

impl From<CoreExportedCsr> for ExportedCsr {
    fn from(csr: CoreExportedCsr) -> Self {
        let CoreExportedCsr {
            camera,
            file,
            names,
        } = csr;
        ExportedCsr {
            camera,
            file,
            names,
        }
    }
}

/// The CSRs written, and the cameras that could not make one.
#[derive(Clone, Debug, Serialize, TS)]
pub struct CsrExport {
    /// The folder.
    pub dir: String,
    /// One per camera.
    pub csrs: Vec<ExportedCsr>,
    /// Why the others did not.
    pub errors: Vec<CoreError>,
}

impl From<CoreCsrExport> for CsrExport {
    fn from(export: CoreCsrExport) -> Self {
        let CoreCsrExport { dir, csrs, errors } = export;
        CsrExport {
            dir,
            csrs: csrs.into_iter().map(Into::into).collect(),
            errors: errors.into_iter().map(Into::into).collect(),
        }
    }
}

/// A file that matched no camera.
#[derive(Clone, Debug, Serialize, TS)]
pub struct UnusedFile {
    /// The file.
    pub file: String,
    /// Why.
    pub reason: String,
}

impl From<CoreUnusedFile> for UnusedFile {
    fn from(file: CoreUnusedFile) -> Self {
        let CoreUnusedFile { file, reason } = file;
        UnusedFile { file, reason }
    }
}

/// What the import of issued certificates installed.
#[derive(Clone, Debug, Serialize, TS)]
pub struct IssuedImport {
    /// One result per camera a certificate was found for.
    pub cameras: Vec<CameraCertificate>,
    /// Files that matched no camera.
    pub unmatched: Vec<UnusedFile>,
    /// Cameras no certificate was found for.
    pub missing: Vec<String>,
}

impl From<CoreIssuedImport> for IssuedImport {
    fn from(import: CoreIssuedImport) -> Self {
        let CoreIssuedImport {
            cameras,
            unmatched,
            missing,
        } = import;
        IssuedImport {
            cameras: cameras.into_iter().map(Into::into).collect(),
            unmatched: unmatched.into_iter().map(Into::into).collect(),
            missing,
        }
    }
}

/// The declarations of this module, in the order `bindings.ts` lists them.
#[cfg(test)]
pub(super) fn decls(cfg: &ts_rs::Config) -> Vec<String> {
    vec![
        SiteCaInfo::decl(cfg),
        CheckedSummary::decl(cfg),
        Enrolled::decl(cfg),
        CertificateCheck::decl(cfg),
        CameraCertificate::decl(cfg),
        CertificateEvent::decl(cfg),
        ExportedCsr::decl(cfg),
        CsrExport::decl(cfg),
        UnusedFile::decl(cfg),
        IssuedImport::decl(cfg),
    ]
}
