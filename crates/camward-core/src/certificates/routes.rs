//! The three certificate routes carried out for the selected cameras of a commissioning, as the
//! desktop wizard's Certificates step (and the `camward certs` commands) need them: where the site
//! CA lives and what it is, the site CA created or loaded, the CA certificate file and a
//! certificate with its key read, and each route run camera by camera with progress events and
//! the checks' results per camera.
//!
//! The routes themselves are [`super::enrol_camera`], [`super::export_csrs`] /
//! [`super::import_issued`] and [`super::import_key_camera`]. A camera of a commissioning is
//! usually still factory-fresh when its certificate is made, so [`ensure_admin`] first gives it
//! its administrator, as step 1 of `hardening::commission` would; a camera whose administrator a
//! person creates on its own page (Canon, i-PRO) is refused with `admin_needs_person` and gets its
//! certificate after the wizard's manual steps.
use std::path::{Path, PathBuf};

use camward_certs::{CertProblem, ImportedIdentity, SiteCa, SubjectName, Validity};
use camward_vault::{SecretStore, Sensitive};

use super::{step_error, Enrolled, EnrolmentError};
use crate::credentials::{InitAdminStatus, NewPassword, Vault};
use crate::first_boot::FirstBootMethod;
use crate::CoreError;

/// How long a site CA created here is valid, in days (as `camward certs ca-init`).
pub const CA_DAYS: i64 = 3650;
/// How long the cameras' certificates are valid, in days (browsers accept at most 398).
pub const LEAF_DAYS: i64 = 397;

/// Where the site CA's certificate of `site` lives: `site-ca/` next to the inventory file at
/// `db` (the default inventory's when `None`). Its private key is only in the keychain.
pub fn site_ca_path(db: Option<&Path>, site: &str) -> Result<PathBuf, CoreError> {
    let db = match db {
        Some(p) => p.to_path_buf(),
        None => camward_vault::default_db_path()
            .map_err(|e| step_error(e.code(), "-", "open inventory", e.to_string()))?,
    };
    let dir = db
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    Ok(SiteCa::default_path(&dir.join("site-ca"), site))
}

/// Creates the CA of `site` (`camward certs ca-init`): its key into `store`, its certificate to
/// `path`; refused when the keychain already holds one.
pub fn create_site_ca(
    store: &dyn SecretStore,
    path: &Path,
    site: &str,
    days: i64,
) -> Result<SiteCa, CoreError> {
    let validity = Validity::days_from(time::OffsetDateTime::now_utc(), days);
    SiteCa::create(site, validity, store, path)
        .map_err(|e| step_error(e.code(), "-", "create the site CA", e.to_string()))
}

/// Loads the CA of `site` kept by Camward (key from `store`, certificate from `path`).
pub fn load_site_ca(store: &dyn SecretStore, path: &Path, site: &str) -> Result<SiteCa, CoreError> {
    SiteCa::load(site, store, path).map_err(|e| {
        step_error(
            e.code(),
            "-",
            "load the site CA (camward certs ca-init first)",
            e.to_string(),
        )
    })
}

/// The site CA as a person is shown it before anything is issued.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SiteCaInfo {
    /// The site.
    pub site: String,
    /// Where its certificate is (or will be) kept.
    pub path: String,
    /// False when it does not exist yet and will be created on first use.
    pub exists: bool,
    /// Its subject (RFC 4514), when it exists.
    pub subject: Option<String>,
    /// SHA-256 of its certificate, hex, when it exists.
    pub sha256: Option<String>,
    /// End of its validity (RFC 3339), when it exists.
    pub not_after: Option<String>,
}

/// What the site CA of `site` is, or that it will be created: a certificate on disk without its
/// key in the keychain (or the other way round) is an error, never silently replaced.
pub fn site_ca_info(
    store: &dyn SecretStore,
    path: &Path,
    site: &str,
) -> Result<SiteCaInfo, CoreError> {
    let mut info = SiteCaInfo {
        site: site.to_owned(),
        path: path.display().to_string(),
        exists: false,
        subject: None,
        sha256: None,
        not_after: None,
    };
    let key_kept = store
        .get(&camward_certs::ca::keychain_key(site))
        .map_err(|e| step_error(e.code(), "-", "read the site CA key", e.to_string()))?
        .is_some();
    if !key_kept && !path.exists() {
        return Ok(info);
    }
    let ca = load_site_ca(store, path, site)?;
    let summary = camward_certs::describe(ca.certificate_der())
        .map_err(|e| step_error(e.code(), "-", "read the site CA", e.to_string()))?;
    info.exists = true;
    info.subject = Some(summary.subject);
    info.sha256 = Some(camward_certs::hex(&summary.sha256));
    info.not_after = Some(
        summary
            .not_after
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
    );
    Ok(info)
}

/// The CA of `site`, created (valid [`CA_DAYS`]) when the keychain holds none yet.
pub fn load_or_create_site_ca(
    store: &dyn SecretStore,
    path: &Path,
    site: &str,
) -> Result<SiteCa, CoreError> {
    if site_ca_info(store, path, site)?.exists {
        load_site_ca(store, path, site)
    } else {
        create_site_ca(store, path, site, CA_DAYS)
    }
}

/// The first certificate of the file at `path` (PEM or DER): the CA certificates must chain to.
pub fn read_ca_certificate(path: &Path) -> Result<Vec<u8>, CoreError> {
    let step = "read the CA certificate";
    let bytes = std::fs::read(path)
        .map_err(|e| step_error("io", "-", step, format!("{}: {e}", path.display())))?;
    camward_certs::read_certificates(&bytes, "the CA certificate")
        .map_err(|e| step_error(e.code(), "-", step, e.to_string()))?
        .into_iter()
        .next()
        .ok_or_else(|| {
            step_error(
                "cert_missing",
                "-",
                step,
                format!("{} holds no certificate", path.display()),
            )
        })
}

/// Where a certificate made elsewhere and its key are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyFiles {
    /// A PKCS#12 file, opened with a passphrase.
    Pkcs12(PathBuf),
    /// A PEM certificate (chain) file and a PEM private key file.
    Pem {
        /// The certificate, leaf first.
        certificate: PathBuf,
        /// The private key.
        key: PathBuf,
    },
}

/// Reads a certificate with its key: a PKCS#12 file opened with `passphrase`, or a PEM pair.
/// The key stays [`Sensitive`]; the passphrase is only read.
pub fn read_identity(
    files: &KeyFiles,
    passphrase: &Sensitive<String>,
) -> Result<ImportedIdentity, CoreError> {
    let read = |path: &Path, what: &str| {
        std::fs::read(path)
            .map_err(|e| step_error("io", "-", what, format!("{}: {e}", path.display())))
    };
    match files {
        KeyFiles::Pkcs12(p12) => {
            let bytes = read(p12, "read the PKCS#12 file")?;
            camward_certs::import_pkcs12(&bytes, passphrase)
                .map_err(|e| step_error(e.code(), "-", "open the PKCS#12 file", e.to_string()))
        }
        KeyFiles::Pem { certificate, key } => {
            let chain = read(certificate, "read the certificate file")?;
            let key_text = String::from_utf8(read(key, "read the key file")?).map_err(|_| {
                step_error(
                    "cert_unreadable",
                    "-",
                    "read the key file",
                    format!("{} is not PEM text", key.display()),
                )
            })?;
            camward_certs::import_pem(&chain, &Sensitive::new(key_text))
                .map_err(|e| step_error(e.code(), "-", "read the PEM pair", e.to_string()))
        }
    }
}

/// What [`ensure_admin`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AdminReady {
    /// The camera had its administrator already.
    Existing,
    /// Camward created it now (factory-fresh camera, ONVIF / Axis / Hikvision).
    Created,
}

/// Step 1 of commissioning for a front end that needs a logged-in camera before the run: a
/// factory-fresh camera gets its administrator `user` with `choice` (through
/// [`crate::credentials::init_admin`]: pending in the keychain before the camera sees it). A
/// camera whose first administrator only a person can create is refused (`admin_needs_person`),
/// so its guided step stays in the run's manual steps; a camera reached over HTTPS only has its
/// administrator and is not asked (factory detection speaks plain HTTP).
pub async fn ensure_admin(
    vault: &Vault,
    url: &str,
    user: &str,
    choice: &NewPassword,
) -> Result<AdminReady, CoreError> {
    use crate::credentials::FirstAdmin;
    let method = match crate::credentials::first_admin(vault, url, user).await? {
        FirstAdmin::Present => return Ok(AdminReady::Existing),
        FirstAdmin::Missing(FirstBootMethod::Guided) | FirstAdmin::WaitingForPerson => {
            return Err(step_error(
                "admin_needs_person",
                url,
                "first administrator",
                "a person creates this camera's administrator on its own page (the manual steps after Apply); give it its certificate afterwards",
            ));
        }
        FirstAdmin::Missing(method) => method,
    };
    let created =
        crate::credentials::init_admin_seen(vault, url, user, choice, Some(method)).await?;
    match created.status {
        InitAdminStatus::Created => Ok(AdminReady::Created),
        InitAdminStatus::AwaitingPerson { page } => Err(step_error(
            "admin_needs_person",
            url,
            "first administrator",
            format!("a person creates this camera's administrator on {page} (the manual steps after Apply); give it its certificate afterwards"),
        )),
    }
}

/// One check of a camera's certificate and what it found.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CertificateCheck {
    /// Which check: `names`, `key`, `validity`, `chain` or `served`.
    pub check: String,
    /// `pass`, `fail`, or `not_run` (an earlier step stopped before it).
    pub result: String,
    /// What it saw, for a person.
    pub detail: String,
}

/// A route's result on one camera.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CameraCertificate {
    /// The device service URL.
    pub camera: String,
    /// Whether Camward created the camera's administrator first.
    pub admin_created: bool,
    /// The certificate the camera now presents, proven by a TLS handshake.
    pub enrolled: Option<Enrolled>,
    /// The checks' results: every one passed with `enrolled`, the failing one otherwise.
    pub checks: Vec<CertificateCheck>,
    /// Why it stopped.
    pub error: Option<CoreError>,
}

/// Progress of a route over several cameras.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum CertificateEvent {
    /// Work on `camera` began.
    Started {
        /// The camera.
        camera: String,
    },
    /// `camera` is done (`ok`: it presents its new certificate).
    Finished {
        /// The camera.
        camera: String,
        /// Whether it succeeded.
        ok: bool,
    },
}

/// Which check a problem found before upload belongs to.
fn check_of(problem: &CertProblem) -> &'static str {
    match problem {
        CertProblem::NameNotCovered { .. } => "names",
        CertProblem::WeakRsaKey { .. }
        | CertProblem::WeakCurve { .. }
        | CertProblem::UnsupportedKey { .. }
        | CertProblem::KeyMismatch { .. } => "key",
        CertProblem::NotYetValid { .. }
        | CertProblem::Expired { .. }
        | CertProblem::IssuerNotValid { .. } => "validity",
        CertProblem::NoCertificate
        | CertProblem::Unparsable { .. }
        | CertProblem::WrongChain { .. }
        | CertProblem::NotForTlsServer { .. } => "chain",
    }
}

const CHECKS: [&str; 5] = ["names", "key", "validity", "chain", "served"];

fn check(check: &str, result: &str, detail: String) -> CertificateCheck {
    CertificateCheck {
        check: check.to_owned(),
        result: result.to_owned(),
        detail,
    }
}

/// The checks' results of one camera's outcome: all passed for a proven certificate; for a
/// refusal, every problem under its check (the checks report all problems at once, so a check
/// without one passed) and nothing uploaded; a handshake that did not present the certificate
/// fails the last check after the others passed; any other failure ran none of them.
pub fn checks_of(result: &Result<Enrolled, EnrolmentError>) -> Vec<CertificateCheck> {
    match result {
        Ok(done) => vec![
            check("names", "pass", format!("covers {}", done.names.join(", "))),
            check("key", "pass", done.checks.key.clone()),
            check(
                "validity",
                "pass",
                format!(
                    "valid {} to {}; the camera's clock says {}",
                    done.checks.not_before, done.not_after, done.checks.camera_time
                ),
            ),
            check(
                "chain",
                "pass",
                format!("leads to {}", done.checks.chain_to),
            ),
            check(
                "served",
                "pass",
                format!(
                    "HTTPS presents exactly it: SHA-256 {}, valid until {}",
                    done.sha256, done.not_after
                ),
            ),
        ],
        Err(EnrolmentError::Refused { problems, .. }) => CHECKS
            .iter()
            .map(|id| {
                let found: Vec<String> = problems
                    .iter()
                    .filter(|p| check_of(p) == *id)
                    .map(ToString::to_string)
                    .collect();
                if *id == "served" {
                    check(id, "not_run", "nothing was uploaded".into())
                } else if found.is_empty() {
                    check(id, "pass", String::new())
                } else {
                    check(id, "fail", found.join("; "))
                }
            })
            .collect(),
        Err(EnrolmentError::Failed(e))
            if matches!(
                e.code.as_str(),
                "tls_verification_failed" | "certificate_not_stored"
            ) =>
        {
            CHECKS
                .iter()
                .map(|id| {
                    if *id == "served" {
                        check(id, "fail", e.message.clone())
                    } else {
                        check(id, "pass", String::new())
                    }
                })
                .collect()
        }
        Err(EnrolmentError::Failed(e)) => CHECKS
            .iter()
            .map(|id| check(id, "not_run", format!("stopped at {}", e.step)))
            .collect(),
    }
}

fn outcome(
    camera: String,
    admin_created: bool,
    result: Result<Enrolled, EnrolmentError>,
) -> CameraCertificate {
    let checks = checks_of(&result);
    let (enrolled, error) = match result {
        Ok(done) => (Some(done), None),
        Err(e) => (None, Some(e.to_core())),
    };
    CameraCertificate {
        camera,
        admin_created,
        enrolled,
        checks,
        error,
    }
}

/// Runs `one` on each of `targets` in turn after [`ensure_admin`], reporting each camera's start
/// and end to `on_event`.
async fn each_camera<'a, F, Fut>(
    vault: &'a Vault,
    targets: &'a [String],
    user: &'a str,
    choice: &'a NewPassword,
    on_event: &'a (dyn Fn(CertificateEvent) + Sync),
    one: F,
) -> Vec<CameraCertificate>
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Result<Enrolled, EnrolmentError>> + 'a,
{
    let mut out = Vec::with_capacity(targets.len());
    for target in targets {
        on_event(CertificateEvent::Started {
            camera: target.clone(),
        });
        let url = match crate::target::device_url(target) {
            Ok(url) => url,
            Err(e) => {
                on_event(CertificateEvent::Finished {
                    camera: target.clone(),
                    ok: false,
                });
                out.push(outcome(target.clone(), false, Err(e.into())));
                continue;
            }
        };
        let (admin_created, result) = match ensure_admin(vault, &url, user, choice).await {
            Ok(ready) => (ready == AdminReady::Created, one(url).await),
            Err(e) => (false, Err(e.into())),
        };
        on_event(CertificateEvent::Finished {
            camera: target.clone(),
            ok: result.is_ok(),
        });
        out.push(outcome(target.clone(), admin_created, result));
    }
    out
}

/// The site-CA route for every camera of `targets`: each gets its administrator if it has none
/// (with `choice`), then a certificate from `ca` valid [`LEAF_DAYS`] days
/// ([`super::enrol_camera`]).
pub async fn enrol_cameras(
    vault: &Vault,
    targets: &[String],
    user: &str,
    choice: &NewPassword,
    ca: &SiteCa,
    on_event: &(dyn Fn(CertificateEvent) + Sync),
) -> Vec<CameraCertificate> {
    each_camera(vault, targets, user, choice, on_event, |url| async move {
        super::enrol_camera_checked(vault, &url, user, ca, LEAF_DAYS, &[]).await
    })
    .await
}

/// One camera's CSR, written for the site's own CA.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ExportedCsr {
    /// The device service URL.
    pub camera: String,
    /// The CSR file.
    pub file: String,
    /// The names it asks for.
    pub names: Vec<String>,
}

/// What [`export_csrs_for`] wrote, and the cameras it could not.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CsrExport {
    /// The folder.
    pub dir: String,
    /// One CSR per camera that made a key.
    pub csrs: Vec<ExportedCsr>,
    /// The cameras that did not, each with why.
    pub errors: Vec<CoreError>,
}

/// The site's own CA, step one, for the cameras of a commissioning: each gets its administrator
/// if it has none, then makes its key and CSR ([`super::export_csrs`]), its start and end
/// reported to `on_event` (a camera's key generation can take many seconds); then the CSRs and
/// their manifest are written to `dir`.
pub async fn export_csrs_for(
    vault: &Vault,
    targets: &[String],
    user: &str,
    choice: &NewPassword,
    organization: &str,
    dir: &Path,
    on_event: &(dyn Fn(CertificateEvent) + Sync),
) -> CsrExport {
    let mut csrs = Vec::new();
    let mut errors = Vec::new();
    for target in targets {
        on_event(CertificateEvent::Started {
            camera: target.clone(),
        });
        let made = match crate::target::device_url(target) {
            Ok(url) => match ensure_admin(vault, &url, user, choice).await {
                Ok(_) => super::csr_for_export(vault, &url, user, organization, &[]).await,
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        };
        on_event(CertificateEvent::Finished {
            camera: target.clone(),
            ok: made.is_ok(),
        });
        match made {
            Ok(csr) => csrs.push(csr),
            Err(e) => errors.push(e),
        }
    }
    let (manifest, errors) = super::write_csr_batch(dir, &csrs, errors);
    CsrExport {
        dir: dir.display().to_string(),
        csrs: manifest
            .cameras
            .into_iter()
            .map(|entry| ExportedCsr {
                camera: entry.camera,
                file: dir.join(&entry.file).display().to_string(),
                names: entry.names,
            })
            .collect(),
        errors,
    }
}

/// A file of the import folder that matched no camera.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct UnusedFile {
    /// The file.
    pub file: String,
    /// Why, for a person.
    pub reason: String,
}

/// What [`import_issued_for`] installed.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct IssuedImport {
    /// One result per camera a certificate was found for.
    pub cameras: Vec<CameraCertificate>,
    /// Files that matched no camera, with their reasons.
    pub unmatched: Vec<UnusedFile>,
    /// Cameras of the manifest no certificate was found for.
    pub missing: Vec<String>,
}

/// The site's own CA, step two: [`super::import_issued`] from `dir`, checked against the CA
/// certificate in the file `ca_file`, with each camera's checks.
pub async fn import_issued_for(
    vault: &Vault,
    dir: &Path,
    user: &str,
    ca_file: &Path,
) -> Result<IssuedImport, CoreError> {
    let ca_der = read_ca_certificate(ca_file)?;
    let (results, report) = super::import_issued_checked(vault, dir, user, &ca_der).await?;
    Ok(IssuedImport {
        cameras: results
            .into_iter()
            .map(|(camera, result)| outcome(camera, false, result))
            .collect(),
        unmatched: report
            .unmatched
            .into_iter()
            .map(|u| UnusedFile {
                file: u.file.display().to_string(),
                reason: u.reason,
            })
            .collect(),
        missing: report.missing,
    })
}

/// Route (3) on one camera of a commissioning: its administrator if it has none, then the
/// certificate and key of `files` (a PKCS#12 file opened with `passphrase`, or a PEM pair),
/// checked against `ca_file` when given (else the chain's own last certificate), installed and
/// proven ([`super::import_key_camera`]). The key and the passphrase are dropped when it returns.
pub async fn import_key_for(
    vault: &Vault,
    target: &str,
    user: &str,
    choice: &NewPassword,
    files: &KeyFiles,
    passphrase: &Sensitive<String>,
    ca_file: Option<&Path>,
) -> CameraCertificate {
    let identity = match read_identity(files, passphrase) {
        Ok(identity) => identity,
        Err(mut e) => {
            target.clone_into(&mut e.camera);
            return outcome(target.to_owned(), false, Err(e.into()));
        }
    };
    let ca_der = match ca_file.map(read_ca_certificate).transpose() {
        Ok(der) => der,
        Err(e) => return outcome(target.to_owned(), false, Err(e.into())),
    };
    let targets = [target.to_owned()];
    let identity = &identity;
    let ca_der = ca_der.as_deref();
    each_camera(vault, &targets, user, choice, &|_| {}, |url| async move {
        super::with_key::import_key_camera_checked(
            vault,
            &url,
            user,
            identity,
            ca_der,
            &[] as &[SubjectName],
        )
        .await
    })
    .await
    .pop()
    .unwrap_or_else(|| {
        outcome(
            target.to_owned(),
            false,
            Err(step_error("internal", target, "import", "no result").into()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_fails_the_checks_of_its_problems_and_a_handshake_failure_the_last() {
        let refused = Err(EnrolmentError::Refused {
            camera: "cam".into(),
            problems: vec![
                CertProblem::NameNotCovered {
                    name: SubjectName::parse("10.0.0.1"),
                    covered: vec!["10.0.0.2".into()],
                },
                CertProblem::WeakRsaKey { bits: 1024 },
            ],
        });
        let results: Vec<(String, String)> = checks_of(&refused)
            .into_iter()
            .map(|c| (c.check, c.result))
            .collect();
        let expected = [
            ("names", "fail"),
            ("key", "fail"),
            ("validity", "pass"),
            ("chain", "pass"),
            ("served", "not_run"),
        ]
        .map(|(a, b)| (a.to_owned(), b.to_owned()));
        assert_eq!(results, expected);
        let served = checks_of(&Err(step_error(
            "tls_verification_failed",
            "cam",
            "verify TLS",
            "other",
        )
        .into()));
        assert_eq!(served.last().map(|c| c.result.as_str()), Some("fail"));
        assert!(served[..4].iter().all(|c| c.result == "pass"));
        let login = checks_of(&Err(step_error(
            "not_authorized",
            "cam",
            "GetDeviceInformation",
            "no",
        )
        .into()));
        assert!(login.iter().all(|c| c.result == "not_run"));
    }

    #[test]
    fn the_site_ca_is_shown_as_to_be_created_then_created_once() {
        let store = camward_vault::MemoryStore::default();
        let dir = std::env::temp_dir().join(format!("camward-routes-{}", std::process::id()));
        let path = site_ca_path(Some(&dir.join("inventory.db")), "Test site").unwrap();
        assert!(path.starts_with(dir.join("site-ca")), "{path:?}");
        let before = site_ca_info(&store, &path, "Test site").unwrap();
        assert!(!before.exists && before.sha256.is_none());
        let ca = load_or_create_site_ca(&store, &path, "Test site").unwrap();
        let after = site_ca_info(&store, &path, "Test site").unwrap();
        assert_eq!(
            after.sha256.as_deref(),
            Some(camward_certs::hex(&camward_certs::sha256(ca.certificate_der())).as_str())
        );
        assert!(after.subject.unwrap_or_default().contains("Test site"));
        let again = load_or_create_site_ca(&store, &path, "Test site").unwrap();
        assert_eq!(again.certificate_der(), ca.certificate_der());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
