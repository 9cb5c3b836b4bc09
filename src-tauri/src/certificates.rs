//! The commands of the commissioning wizard's Certificates step: the site CA shown, then one of
//! the routes carried out for the selected cameras — the site CA kept by Camward, CSRs exported
//! for the site's own CA and its issued certificates imported, or a certificate with its key.
//!
//! Each is a pass-through to `camward_core::certificates::routes`. `password` is the wizard's
//! administrator choice (none: a unique generated one per camera), used only for a camera that
//! has no administrator yet, as the run would. A PKCS#12 passphrase crosses once, into
//! [`import_certificate_with_key`], and is dropped when it returns; nothing here logs it.
use std::path::PathBuf;

use camward_core::certificates::routes::{self as core, KeyFiles};
use camward_core::credentials::NewPassword;
use camward_vault::Sensitive;
use tauri::ipc::Channel;
use tauri::State;

use crate::ipc::certificates::{
    CameraCertificate, CertificateEvent, CsrExport, IssuedImport, SiteCaInfo,
};
use crate::ipc::CoreError;
use crate::site::{Site, AUDIT_USER};

fn internal(step: &str, error: impl std::fmt::Display) -> CoreError {
    CoreError {
        code: "internal".into(),
        message: format!("stopped unexpectedly: {error}"),
        camera: "-".into(),
        step: step.into(),
    }
}

fn choice(password: Option<String>) -> NewPassword {
    password.map_or(NewPassword::Generate, |typed| {
        NewPassword::Given(Sensitive::new(typed))
    })
}

/// Hands each of a route's events to the web view's `channel`.
fn forward(channel: &Channel<CertificateEvent>) -> impl Fn(core::CertificateEvent) + Sync + '_ {
    move |event| {
        if let Err(error) = channel.send(event.into()) {
            tracing::debug!(%error, "certificate event not delivered");
        }
    }
}

/// The site CA of `name` (subject, SHA-256, expiry), or that it will be created.
#[tauri::command]
pub fn site_ca(site: State<'_, Site>, name: String) -> Result<SiteCaInfo, CoreError> {
    let vault = site.vault()?;
    let path = site.site_ca_path(&name)?;
    Ok(core::site_ca_info(vault.ledger.store(), &path, &name)?.into())
}

/// The site-CA route: the CA of `name` loaded (created when there is none), then a certificate
/// issued to each camera of `targets`, progress per camera over `on_event`.
#[tauri::command]
pub async fn enrol_with_site_ca(
    site: State<'_, Site>,
    name: String,
    targets: Vec<String>,
    password: Option<String>,
    on_event: Channel<CertificateEvent>,
) -> Result<Vec<CameraCertificate>, CoreError> {
    let vault = site.vault()?;
    let path = site.site_ca_path(&name)?;
    let ca = core::load_or_create_site_ca(vault.ledger.store(), &path, &name)?;
    let choice = choice(password);
    // As the commissioning command: the core's future is not `Send` for every lifetime.
    tauri::async_runtime::spawn_blocking(move || {
        tokio::runtime::Handle::current()
            .block_on(core::enrol_cameras(
                &vault,
                &targets,
                AUDIT_USER,
                &choice,
                &ca,
                &forward(&on_event),
            ))
            .into_iter()
            .map(Into::into)
            .collect()
    })
    .await
    .map_err(|e| internal("issue certificates", e))
}

/// The site's own CA, step one: the cameras' CSRs written to `dir` with a manifest, progress
/// per camera over `on_event` (a camera may take many seconds to make its key).
#[tauri::command]
pub async fn export_camera_csrs(
    site: State<'_, Site>,
    targets: Vec<String>,
    organization: String,
    dir: String,
    password: Option<String>,
    on_event: Channel<CertificateEvent>,
) -> Result<CsrExport, CoreError> {
    let vault = site.vault()?;
    let choice = choice(password);
    tauri::async_runtime::spawn_blocking(move || {
        tokio::runtime::Handle::current()
            .block_on(core::export_csrs_for(
                &vault,
                &targets,
                AUDIT_USER,
                &choice,
                &organization,
                &PathBuf::from(dir),
                &forward(&on_event),
            ))
            .into()
    })
    .await
    .map_err(|e| internal("export the CSRs", e))
}

/// The site's own CA, step two: the certificates it issued, in `dir`, matched, checked against
/// the CA certificate file `ca_file`, installed and proven.
#[tauri::command]
pub async fn import_issued_certificates(
    site: State<'_, Site>,
    dir: String,
    ca_file: String,
) -> Result<IssuedImport, CoreError> {
    let vault = site.vault()?;
    Ok(tauri::async_runtime::spawn_blocking(move || {
        tokio::runtime::Handle::current().block_on(core::import_issued_for(
            &vault,
            &PathBuf::from(dir),
            AUDIT_USER,
            &PathBuf::from(ca_file),
        ))
    })
    .await
    .map_err(|e| internal("import the issued certificates", e))??
    .into())
}

/// A certificate with its key onto the camera `target`: the PKCS#12 file `pkcs12` opened with
/// `passphrase`, or the PEM pair `pem_certificate` + `pem_key`; checked against `ca_file` when
/// given. The passphrase is wrapped at once and never sent back.
#[tauri::command]
#[allow(clippy::too_many_arguments)]
pub async fn import_certificate_with_key(
    site: State<'_, Site>,
    target: String,
    pkcs12: Option<String>,
    pem_certificate: Option<String>,
    pem_key: Option<String>,
    passphrase: String,
    ca_file: Option<String>,
    password: Option<String>,
) -> Result<CameraCertificate, CoreError> {
    let passphrase = Sensitive::new(passphrase);
    let files = match (pkcs12, pem_certificate, pem_key) {
        (Some(p12), _, _) if !p12.is_empty() => KeyFiles::Pkcs12(p12.into()),
        (_, Some(certificate), Some(key)) => KeyFiles::Pem {
            certificate: certificate.into(),
            key: key.into(),
        },
        _ => {
            return Err(CoreError {
                code: "usage".into(),
                message: "name a PKCS#12 file, or a PEM certificate file and its key file".into(),
                camera: target,
                step: "choose the files".into(),
            })
        }
    };
    let vault = site.vault()?;
    let choice = choice(password);
    tauri::async_runtime::spawn_blocking(move || {
        tokio::runtime::Handle::current()
            .block_on(core::import_key_for(
                &vault,
                &target,
                AUDIT_USER,
                &choice,
                &files,
                &passphrase,
                ca_file
                    .as_deref()
                    .filter(|f| !f.is_empty())
                    .map(std::path::Path::new),
            ))
            .into()
    })
    .await
    .map_err(|e| internal("import the certificate and key", e))
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use camward_core::certificates::routes::{self as core, CertificateEvent};
    use camward_core::credentials::NewPassword;

    use crate::site::{Site, AUDIT_USER};

    /// The site-CA route on the demo site through the same core calls [`super::enrol_with_site_ca`]
    /// makes: the CA is created in the demo's memory store (its certificate in this process's
    /// temporary folder), the three cameras with an API first administrator get theirs and then a
    /// certificate that a handshake sees, and the two guided ones say a person comes first.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_demo_site_gets_certificates_from_its_site_ca() {
        let site = Site::default();
        site.start_demo().await.expect("starting the demo site");
        let (vault, urls) = site.demo_targets().expect("demo targets");
        let path = site.site_ca_path("Demo site").expect("a CA path");
        let before = core::site_ca_info(vault.ledger.store(), &path, "Demo site").unwrap();
        assert!(!before.exists, "{before:?}");
        let ca = core::load_or_create_site_ca(vault.ledger.store(), &path, "Demo site").unwrap();
        let after = core::site_ca_info(vault.ledger.store(), &path, "Demo site").unwrap();
        assert!(after.exists && after.sha256.is_some(), "{after:?}");

        let events = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&events);
        let results = core::enrol_cameras(
            &vault,
            &urls,
            AUDIT_USER,
            &NewPassword::Generate,
            &ca,
            &move |event| seen.lock().unwrap().push(event),
        )
        .await;
        let _ = std::fs::remove_dir_all(path.parent().and_then(|p| p.parent()).unwrap());
        assert_eq!(results.len(), urls.len());
        let proven: Vec<_> = results.iter().filter(|r| r.enrolled.is_some()).collect();
        assert_eq!(proven.len(), 3, "{results:#?}");
        for result in &proven {
            assert!(result.admin_created, "{result:#?}");
            assert!(
                result.checks.iter().all(|c| c.result == "pass"),
                "{result:#?}"
            );
            let done = result.enrolled.as_ref().unwrap();
            let host_port = done
                .camera
                .strip_prefix("http://")
                .and_then(|r| r.split('/').next())
                .unwrap();
            assert!(host_port.starts_with("127.0.0.1:"), "{done:?}");
        }
        let waiting: Vec<_> = results
            .iter()
            .filter_map(|r| r.error.as_ref())
            .map(|e| e.code.as_str())
            .collect();
        assert_eq!(waiting, ["admin_needs_person"; 2], "{results:#?}");
        let events = events.lock().unwrap().clone();
        assert_eq!(events.len(), 2 * urls.len());
        assert!(matches!(events[0], CertificateEvent::Started { .. }));
        if let Some(fleet) = site.take_fleet() {
            fleet.shutdown().await;
        }
    }

    /// The CSR route on the demo site through the calls [`super::export_camera_csrs`] and
    /// [`super::import_issued_certificates`] make: CSRs written for the three cameras with an API
    /// first administrator, issued by another CA under file names of its own, matched back and
    /// proven; a stray certificate in the folder is listed with its reason.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_demo_sites_csrs_come_back_issued_by_the_sites_own_ca() {
        let site = Site::default();
        site.start_demo().await.expect("starting the demo site");
        let (vault, urls) = site.demo_targets().expect("demo targets");
        let root = std::env::temp_dir().join(format!("camward-csr-route-{}", std::process::id()));
        let dir = root.join("csrs");
        let events = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&events);
        let exported = core::export_csrs_for(
            &vault,
            &urls,
            AUDIT_USER,
            &NewPassword::Generate,
            "Demo site",
            &dir,
            &move |event| seen.lock().unwrap().push(event),
        )
        .await;
        assert_eq!(exported.csrs.len(), 3, "{exported:#?}");
        // Each camera's start and end, in order, the three with a CSR ending well.
        let events = events.lock().unwrap().clone();
        assert_eq!(events.len(), 2 * urls.len(), "{events:?}");
        for (url, pair) in urls.iter().zip(events.chunks(2)) {
            assert_eq!(
                pair[0],
                core::CertificateEvent::Started {
                    camera: url.clone()
                }
            );
            let ok = exported.csrs.iter().any(|c| &c.camera == url);
            assert_eq!(
                pair[1],
                core::CertificateEvent::Finished {
                    camera: url.clone(),
                    ok
                },
                "{events:?}"
            );
        }
        assert!(
            exported
                .errors
                .iter()
                .all(|e| e.code == "admin_needs_person"),
            "{exported:#?}"
        );

        // The site's own CA, played by a CA of its own kept elsewhere.
        let store = camward_vault::MemoryStore::default();
        let ca_path = root.join("own-ca.pem");
        let now = time::OffsetDateTime::now_utc();
        let own = camward_certs::SiteCa::create(
            "Own CA",
            camward_certs::Validity::days_from(now, 30),
            &store,
            &ca_path,
        )
        .unwrap();
        let manifest = camward_certs::read_manifest(&dir).unwrap();
        for (i, entry) in manifest.cameras.iter().enumerate() {
            let csr = std::fs::read(dir.join(&entry.file)).unwrap();
            let names: Vec<camward_certs::SubjectName> = entry
                .names
                .iter()
                .map(|n| camward_certs::SubjectName::parse(n))
                .collect();
            let leaf = own
                .sign_csr(&csr, &names, camward_certs::Validity::days_from(now, 30))
                .unwrap();
            std::fs::write(
                dir.join(format!("issued-{i}.crt")),
                camward_certs::to_pem("CERTIFICATE", &leaf),
            )
            .unwrap();
        }
        std::fs::write(dir.join("stray.pem"), own.certificate_pem()).unwrap();

        let imported = core::import_issued_for(&vault, &dir, AUDIT_USER, &ca_path)
            .await
            .expect("the import");
        let _ = std::fs::remove_dir_all(&root);
        assert_eq!(imported.cameras.len(), 3, "{imported:#?}");
        for camera in &imported.cameras {
            assert!(camera.enrolled.is_some(), "{camera:#?}");
            assert!(
                camera.checks.iter().all(|c| c.result == "pass"),
                "{camera:#?}"
            );
        }
        assert_eq!(imported.unmatched.len(), 1, "{imported:#?}");
        assert!(imported.unmatched[0].file.ends_with("stray.pem"));
        assert!(imported.missing.is_empty(), "{imported:#?}");
        if let Some(fleet) = site.take_fleet() {
            fleet.shutdown().await;
        }
    }

    fn openssl(dir: &std::path::Path, args: &[&str]) {
        let out = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("running openssl");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The certificate-with-its-key route on a demo camera through the call
    /// [`super::import_certificate_with_key`] makes: an openssl PKCS#12 (CA, RSA 2048 leaf for
    /// 127.0.0.1) refused with a wrong passphrase before the camera is touched, then installed
    /// with the right one and proven.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_demo_camera_takes_a_pkcs12_certificate_with_its_passphrase() {
        let root = std::env::temp_dir().join(format!("camward-p12-route-{}", std::process::id()));
        std::fs::create_dir_all(&root).unwrap();
        for args in [
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "30",
                "-subj",
                "/CN=Import CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ][..],
            &[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
                "leaf.key",
            ],
            &[
                "req",
                "-new",
                "-key",
                "leaf.key",
                "-subj",
                "/CN=127.0.0.1",
                "-out",
                "leaf.csr",
            ],
        ] {
            openssl(&root, args);
        }
        std::fs::write(
            root.join("ext.cnf"),
            "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n",
        )
        .unwrap();
        openssl(
            &root,
            &[
                "x509",
                "-req",
                "-in",
                "leaf.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "30",
                "-extfile",
                "ext.cnf",
                "-out",
                "leaf.pem",
            ],
        );
        // The passphrase reaches openssl in a file, never on its command line.
        std::fs::write(root.join("pass"), "right-Passphrase-1").expect("write");
        openssl(
            &root,
            &[
                "pkcs12",
                "-export",
                "-in",
                "leaf.pem",
                "-inkey",
                "leaf.key",
                "-certfile",
                "ca.pem",
                "-passout",
                "file:pass",
                "-out",
                "id.p12",
            ],
        );
        // openssl starts validity at this second; the camera's clock must have reached it.
        std::thread::sleep(std::time::Duration::from_secs(2));

        let site = Site::default();
        site.start_demo().await.expect("starting the demo site");
        let (vault, urls) = site.demo_targets().expect("demo targets");
        let files = core::KeyFiles::Pkcs12(root.join("id.p12"));
        let ca = root.join("ca.pem");
        let wrong = core::import_key_for(
            &vault,
            &urls[0],
            AUDIT_USER,
            &NewPassword::Generate,
            &files,
            &camward_vault::Sensitive::new("wrong".into()),
            Some(&ca),
        )
        .await;
        assert_eq!(
            wrong.error.as_ref().map(|e| e.code.as_str()),
            Some("pkcs12_unreadable"),
            "{wrong:#?}"
        );
        assert!(!wrong.admin_created, "refused before the camera is asked");
        let done = core::import_key_for(
            &vault,
            &urls[0],
            AUDIT_USER,
            &NewPassword::Generate,
            &files,
            &camward_vault::Sensitive::new("right-Passphrase-1".into()),
            Some(&ca),
        )
        .await;
        let _ = std::fs::remove_dir_all(&root);
        assert!(done.enrolled.is_some(), "{done:#?}");
        assert!(done.admin_created, "{done:#?}");
        assert!(done.checks.iter().all(|c| c.result == "pass"), "{done:#?}");
        assert!(!format!("{done:?}").contains("right-Passphrase-1"));
        if let Some(fleet) = site.take_fleet() {
            fleet.shutdown().await;
        }
    }
}
