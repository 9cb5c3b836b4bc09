//! PKCS#10 certificate signing requests (RFC 2986): read and verified, and exchanged with a site's
//! own CA as files.
//!
//! Batch exchange: [`export_batch`] writes one `<camera>.csr.pem` per camera and a `manifest.json`
//! naming, for each camera, its file, subject, the names it is reached by and its key fingerprint.
//! The site's CA issues the certificates; whatever it names the files, [`import_batch`] matches
//! each certificate to its camera by public key ([`crate::key_fingerprint`]), and reports every
//! file it could not match and every camera left without a certificate.
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rcgen::DnType;
use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::FromDer as _;

use crate::{hex, key_fingerprint, looks_like_pem, CertError, SubjectName};

/// The manifest's file name inside an export directory.
pub const MANIFEST: &str = "manifest.json";
const CSR_SUFFIX: &str = ".csr.pem";

/// A CSR whose signature verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedCsr {
    /// The CSR, DER.
    pub der: Vec<u8>,
    /// The subject, RFC 4514 text.
    pub subject: String,
    /// The subject's attributes Camward carries into a certificate (CN, O, OU, C, ST, L).
    pub subject_attributes: Vec<(DnType, String)>,
    /// The SubjectAltNames the CSR requests (addresses and DNS names; others are ignored).
    pub names: Vec<SubjectName>,
    /// The key to certify, DER SubjectPublicKeyInfo.
    pub spki_der: Vec<u8>,
}

/// Reads a CSR (DER, or PEM `CERTIFICATE REQUEST`) and verifies its signature with its own key
/// (RFC 2986 §3: proof of possession).
pub fn parse_csr(bytes: &[u8]) -> Result<ParsedCsr, CertError> {
    let der = if looks_like_pem(bytes) {
        let block = pem::parse(bytes)
            .map_err(|e| CertError::unreadable("the CSR", format!("bad PEM ({e})")))?;
        if !matches!(
            block.tag(),
            "CERTIFICATE REQUEST" | "NEW CERTIFICATE REQUEST"
        ) {
            return Err(CertError::unreadable(
                "the CSR",
                format!("the PEM holds a {}, not a CERTIFICATE REQUEST", block.tag()),
            ));
        }
        block.into_contents()
    } else {
        bytes.to_vec()
    };
    let (rest, csr) = X509CertificationRequest::from_der(&der).map_err(|e| {
        CertError::unreadable("the CSR", format!("not a DER PKCS#10 request ({e})"))
    })?;
    if !rest.is_empty() {
        return Err(CertError::unreadable(
            "the CSR",
            "trailing bytes after the request",
        ));
    }
    csr.verify_signature()
        .map_err(|e| CertError::CsrSignature(e.to_string()))?;
    let info = &csr.certification_request_info;
    let subject_attributes = info
        .subject
        .iter_attributes()
        .filter_map(|attr| {
            let ty = match attr.attr_type().to_id_string().as_str() {
                "2.5.4.3" => DnType::CommonName,
                "2.5.4.10" => DnType::OrganizationName,
                "2.5.4.11" => DnType::OrganizationalUnitName,
                "2.5.4.6" => DnType::CountryName,
                "2.5.4.8" => DnType::StateOrProvinceName,
                "2.5.4.7" => DnType::LocalityName,
                _ => return None,
            };
            Some((ty, attr.as_str().ok()?.to_owned()))
        })
        .collect();
    let mut names = Vec::new();
    if let Some(extensions) = csr.requested_extensions() {
        for ext in extensions {
            if let ParsedExtension::SubjectAlternativeName(san) = ext {
                for name in &san.general_names {
                    match name {
                        GeneralName::DNSName(host) => names.push(SubjectName::parse(host)),
                        GeneralName::IPAddress(bytes) => {
                            if let Ok(v4) = <[u8; 4]>::try_from(*bytes) {
                                names.push(SubjectName::Ip(v4.into()));
                            } else if let Ok(v6) = <[u8; 16]>::try_from(*bytes) {
                                names.push(SubjectName::Ip(v6.into()));
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    Ok(ParsedCsr {
        subject: info.subject.to_string(),
        subject_attributes,
        names,
        spki_der: info.subject_pki.raw.to_vec(),
        der,
    })
}

/// OID of the SubjectAltName extension (RFC 5280 §4.2.1.6).
pub const SUBJECT_ALT_NAME_OID: &str = "2.5.29.17";

/// The DER of a SubjectAltName extension value (`GeneralNames`, RFC 5280 §4.2.1.6) naming
/// `names`: what a camera is asked to put into its CSR. Host names must be ASCII (IDNs in their
/// `xn--` form).
pub fn subject_alt_name_der(names: &[SubjectName]) -> Result<Vec<u8>, CertError> {
    if let Some(bad) = names
        .iter()
        .find(|n| matches!(n, SubjectName::Dns(h) if h.is_empty() || !h.is_ascii()))
    {
        return Err(CertError::unreadable(
            format!("host name {bad}"),
            "not an ASCII DNS name (use the xn-- form of international names)",
        ));
    }
    Ok(yasna::construct_der(|writer| {
        writer.write_sequence(|seq| {
            for name in names {
                match name {
                    SubjectName::Dns(host) => seq
                        .next()
                        .write_tagged_implicit(yasna::Tag::context(2), |w| {
                            w.write_ia5_string(host)
                        }),
                    SubjectName::Ip(ip) => {
                        let octets = match ip {
                            std::net::IpAddr::V4(v4) => v4.octets().to_vec(),
                            std::net::IpAddr::V6(v6) => v6.octets().to_vec(),
                        };
                        seq.next()
                            .write_tagged_implicit(yasna::Tag::context(7), |w| {
                                w.write_bytes(&octets)
                            })
                    }
                }
            }
        })
    }))
}

/// A file name part made from a camera name (URLs and addresses included): letters, digits, `.`,
/// `_` and `-`; everything else becomes `_`.
pub fn file_stem(name: &str) -> String {
    let stem: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let stem = stem.trim_matches('.').to_owned();
    if stem.is_empty() {
        "camera".to_owned()
    } else {
        stem
    }
}

/// One camera's CSR to export.
#[derive(Clone, Debug)]
pub struct CsrForExport {
    /// The camera's name (inventory name or URL).
    pub camera: String,
    /// Its CSR, DER.
    pub csr_der: Vec<u8>,
}

/// What an export directory holds.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    /// Format version (1).
    pub version: u32,
    /// One entry per camera.
    pub cameras: Vec<ManifestEntry>,
}

/// One camera in a [`Manifest`].
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ManifestEntry {
    /// The camera's name.
    pub camera: String,
    /// The CSR's file name in the directory.
    pub file: String,
    /// The CSR's subject.
    pub subject: String,
    /// The names the CSR asks for.
    pub names: Vec<String>,
    /// Hex [`key_fingerprint`] of the CSR's key: what an issued certificate is matched by.
    pub key_sha256: String,
}

/// Writes each CSR (verified first) as `<camera>.csr.pem` into `dir`, plus [`MANIFEST`].
pub fn export_batch(dir: &Path, csrs: &[CsrForExport]) -> Result<Manifest, CertError> {
    std::fs::create_dir_all(dir).map_err(|e| CertError::io(dir, e))?;
    let mut used: HashMap<String, usize> = HashMap::new();
    let mut cameras = Vec::new();
    for item in csrs {
        let parsed = parse_csr(&item.csr_der)?;
        let stem = file_stem(&item.camera);
        let n = used.entry(stem.clone()).or_default();
        *n += 1;
        let file = if *n == 1 {
            format!("{stem}{CSR_SUFFIX}")
        } else {
            format!("{stem}-{n}{CSR_SUFFIX}")
        };
        let path = dir.join(&file);
        std::fs::write(&path, crate::to_pem("CERTIFICATE REQUEST", &parsed.der))
            .map_err(|e| CertError::io(&path, e))?;
        let key = key_fingerprint(&parsed.spki_der)
            .ok_or_else(|| CertError::unreadable("the CSR's public key", "unparsable"))?;
        cameras.push(ManifestEntry {
            camera: item.camera.clone(),
            file,
            subject: parsed.subject,
            names: parsed.names.iter().map(ToString::to_string).collect(),
            key_sha256: hex(&key),
        });
    }
    let manifest = Manifest {
        version: 1,
        cameras,
    };
    let path = dir.join(MANIFEST);
    let json = serde_json::to_string_pretty(&manifest)
        .map_err(|e| CertError::unreadable("the manifest", e))?;
    std::fs::write(&path, json).map_err(|e| CertError::io(&path, e))?;
    Ok(manifest)
}

/// Reads the [`MANIFEST`] of an export directory.
pub fn read_manifest(dir: &Path) -> Result<Manifest, CertError> {
    let path = dir.join(MANIFEST);
    let text = std::fs::read_to_string(&path).map_err(|e| CertError::io(&path, e))?;
    serde_json::from_str(&text).map_err(|e| CertError::unreadable(path.display().to_string(), e))
}

/// A certificate matched to its camera.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issued {
    /// The camera (from the manifest).
    pub camera: String,
    /// The file it came from.
    pub file: PathBuf,
    /// The chain, DER: the matching certificate first, the file's other certificates after.
    pub chain_der: Vec<Vec<u8>>,
}

/// A file that was not matched to any camera.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unmatched {
    /// The file.
    pub file: PathBuf,
    /// Why, for a person.
    pub reason: String,
}

/// What [`import_batch`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Certificates matched to cameras.
    pub issued: Vec<Issued>,
    /// Files that could not be matched, each with its reason.
    pub unmatched: Vec<Unmatched>,
    /// Cameras of the manifest that got no certificate.
    pub missing: Vec<String>,
}

/// Reads every certificate file (`.pem`, `.crt`, `.cer`, `.der`) in `dir` and matches each to a
/// camera of `manifest` by public key. The CSR files and the manifest themselves are skipped.
pub fn import_batch(dir: &Path, manifest: &Manifest) -> Result<ImportReport, CertError> {
    let by_key: HashMap<&str, &ManifestEntry> = manifest
        .cameras
        .iter()
        .map(|e| (e.key_sha256.as_str(), e))
        .collect();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| CertError::io(dir, e))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    let mut report = ImportReport::default();
    let mut taken: HashMap<String, PathBuf> = HashMap::new();
    for path in files {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name == MANIFEST
            || name.ends_with(CSR_SUFFIX)
            || name.ends_with(".csr")
            || name.starts_with('.')
        {
            continue;
        }
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let mut unmatched = |reason: String| {
            report.unmatched.push(Unmatched {
                file: path.clone(),
                reason,
            })
        };
        if !matches!(ext.as_str(), "pem" | "crt" | "cer" | "der") {
            unmatched("not a certificate file (expected .pem, .crt, .cer or .der)".into());
            continue;
        }
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                unmatched(format!("cannot be read: {e}"));
                continue;
            }
        };
        let certs = match crate::read_certificates(&bytes, &name) {
            Ok(c) => c,
            Err(e) => {
                unmatched(e.to_string());
                continue;
            }
        };
        let found = certs.iter().enumerate().find_map(|(i, der)| {
            let spki = crate::certificate_spki(der).ok()?;
            let key = hex(&key_fingerprint(&spki)?);
            by_key.get(key.as_str()).map(|entry| (i, *entry))
        });
        let Some((index, entry)) = found else {
            unmatched(
                "its certificate's public key belongs to none of the exported cameras; it was issued for another CSR".into(),
            );
            continue;
        };
        if let Some(first) = taken.get(&entry.camera) {
            unmatched(format!(
                "a second certificate for {}, which already has one from {}",
                entry.camera,
                first.display()
            ));
            continue;
        }
        let mut chain = vec![certs[index].clone()];
        chain.extend(
            certs
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != index)
                .map(|(_, c)| c.clone()),
        );
        taken.insert(entry.camera.clone(), path.clone());
        report.issued.push(Issued {
            camera: entry.camera.clone(),
            file: path,
            chain_der: chain,
        });
    }
    report.missing = manifest
        .cameras
        .iter()
        .filter(|e| !taken.contains_key(&e.camera))
        .map(|e| e.camera.clone())
        .collect();
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ca::{SiteCa, Validity};
    use crate::test_support::{
        camera_names, key_pair, now, openssl, openssl_available, openssl_rsa_key_pem, MemoryStore,
    };
    use rcgen::PublicKeyData as _;
    use rcgen::{CertificateParams, KeyPair};

    fn csr_with_names(key: &KeyPair, names: &[SubjectName]) -> Vec<u8> {
        let mut params = CertificateParams::default();
        params
            .distinguished_name
            .push(DnType::CommonName, "cam-lobby.example.net");
        params
            .distinguished_name
            .push(DnType::OrganizationName, "Site A");
        params.subject_alt_names = names
            .iter()
            .map(crate::ca::san_type)
            .collect::<Result<_, _>>()
            .expect("SAN");
        params.serialize_request(key).expect("CSR").der().to_vec()
    }

    #[test]
    fn parse_reads_subject_names_and_key_from_der_and_pem() {
        let key = key_pair();
        let der = csr_with_names(&key, &camera_names());
        let parsed = parse_csr(&der).expect("DER");
        assert_eq!(parsed.names, camera_names());
        assert!(parsed.subject.contains("cam-lobby.example.net"));
        assert!(crate::same_key(
            &parsed.spki_der,
            &key.subject_public_key_info()
        ));
        assert!(parsed
            .subject_attributes
            .contains(&(DnType::OrganizationName, "Site A".into())));
        let pem = crate::to_pem("CERTIFICATE REQUEST", &der);
        assert_eq!(parse_csr(pem.as_bytes()).expect("PEM"), parsed);
        let wrong = crate::to_pem("CERTIFICATE", &der);
        assert_eq!(
            parse_csr(wrong.as_bytes()).unwrap_err().code(),
            "cert_unreadable"
        );
        assert_eq!(parse_csr(b"junk").unwrap_err().code(), "cert_unreadable");
    }

    #[test]
    fn the_subject_alt_name_extension_carries_every_name() {
        let names = vec![
            SubjectName::parse("192.0.2.10"),
            SubjectName::parse("2001:db8::10"),
            SubjectName::parse("cam-lobby.example.net"),
        ];
        let der = subject_alt_name_der(&names).expect("DER");
        let key = key_pair();
        let mut params = CertificateParams::default();
        params.custom_extensions = vec![rcgen::CustomExtension::from_oid_content(
            &[2, 5, 29, 17],
            der,
        )];
        let csr = params.serialize_request(&key).expect("CSR");
        assert_eq!(parse_csr(csr.der()).expect("parses").names, names);
        assert!(subject_alt_name_der(&[SubjectName::parse("kamera-müller.example")]).is_err());
    }

    #[test]
    fn a_1024_bit_rsa_csr_is_refused() {
        // ring verifies RSA signatures only from 2048 bits, so the weak key's CSR fails its
        // proof of possession and is never signed.
        let Some((key_pem, _)) = openssl_rsa_key_pem(1024) else {
            return;
        };
        let dir = tempfile::tempdir().expect("tempdir");
        let key_path = dir.path().join("weak.pem");
        let csr_path = dir.path().join("weak.csr");
        std::fs::write(&key_path, key_pem).expect("write");
        let (ok, out) = openssl(&[
            "req",
            "-new",
            "-key",
            key_path.to_str().expect("utf-8"),
            "-subj",
            "/CN=weak",
            "-outform",
            "DER",
            "-out",
            csr_path.to_str().expect("utf-8"),
        ]);
        assert!(ok, "{out}");
        let csr = std::fs::read(&csr_path).expect("csr");
        assert_eq!(parse_csr(&csr).unwrap_err().code(), "csr_bad_signature");
    }

    #[test]
    fn export_writes_csrs_openssl_accepts_and_import_matches_by_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let keys: Vec<KeyPair> = (0..3).map(|_| key_pair()).collect();
        // "lobby " and "lobby" make the same file stem; their files must not collide.
        let names = ["http://192.0.2.10/onvif", "lobby ", "lobby"];
        let csrs: Vec<CsrForExport> = keys
            .iter()
            .zip(names)
            .map(|(k, n)| CsrForExport {
                camera: n.to_owned(),
                csr_der: csr_with_names(k, &camera_names()),
            })
            .collect();
        let manifest = export_batch(dir.path(), &csrs).expect("exported");
        assert_eq!(read_manifest(dir.path()).expect("manifest"), manifest);
        let files: Vec<&str> = manifest.cameras.iter().map(|c| c.file.as_str()).collect();
        assert_eq!(
            files,
            [
                "http___192.0.2.10_onvif.csr.pem",
                "lobby_.csr.pem",
                "lobby.csr.pem"
            ]
        );
        if openssl_available() {
            for file in &files {
                let path = dir.path().join(file);
                let (ok, out) = openssl(&[
                    "req",
                    "-verify",
                    "-in",
                    path.to_str().expect("utf-8"),
                    "-noout",
                ]);
                assert!(ok, "openssl req -verify refused {file}: {out}");
            }
        }

        // The site's CA issues certificates under names of its own choosing.
        let store = MemoryStore::default();
        let ca_dir = tempfile::tempdir().expect("tempdir");
        let ca = SiteCa::create(
            "Site A",
            Validity::days_from(now(), 3650),
            &store,
            &ca_dir.path().join("ca.pem"),
        )
        .expect("CA");
        let issued_dir = tempfile::tempdir().expect("tempdir");
        for (i, file) in files.iter().enumerate().take(2) {
            let csr = std::fs::read(dir.path().join(file)).expect("csr");
            let leaf = ca
                .sign_csr(&csr, &camera_names(), Validity::days_from(now(), 90))
                .expect("signed");
            // A chain file: leaf then CA.
            let text = crate::to_pem("CERTIFICATE", &leaf) + ca.certificate_pem();
            std::fs::write(issued_dir.path().join(format!("issued-{i}.crt")), text).expect("write");
        }
        // Noise: a certificate for an unknown key, a duplicate, a non-certificate file.
        let stray = ca
            .sign_csr(
                &csr_with_names(&key_pair(), &camera_names()),
                &camera_names(),
                Validity::days_from(now(), 90),
            )
            .expect("signed");
        std::fs::write(issued_dir.path().join("stray.der"), &stray).expect("write");
        std::fs::copy(
            issued_dir.path().join("issued-0.crt"),
            issued_dir.path().join("zz-copy.pem"),
        )
        .expect("copy");
        std::fs::write(issued_dir.path().join("notes.txt"), "hello").expect("write");
        std::fs::write(
            issued_dir.path().join("broken.pem"),
            "-----BEGIN CERTIFICATE-----\nnope\n",
        )
        .expect("write");

        let report = import_batch(issued_dir.path(), &manifest).expect("imported");
        let matched: Vec<&str> = report.issued.iter().map(|i| i.camera.as_str()).collect();
        assert_eq!(matched, ["http://192.0.2.10/onvif", "lobby "]);
        assert_eq!(report.issued[0].chain_der.len(), 2);
        assert!(crate::same_key(
            &crate::certificate_spki(&report.issued[0].chain_der[0]).expect("spki"),
            &keys[0].subject_public_key_info()
        ));
        assert_eq!(report.missing, ["lobby"]);
        let reasons: HashMap<String, String> = report
            .unmatched
            .iter()
            .map(|u| {
                (
                    u.file
                        .file_name()
                        .expect("name")
                        .to_string_lossy()
                        .into_owned(),
                    u.reason.clone(),
                )
            })
            .collect();
        assert_eq!(reasons.len(), 4, "{reasons:?}");
        assert!(reasons["stray.der"].contains("none of the exported cameras"));
        assert!(reasons["zz-copy.pem"].contains("second certificate"));
        assert!(reasons["notes.txt"].contains("not a certificate file"));
        assert!(
            reasons["broken.pem"].contains("cannot be read"),
            "{}",
            reasons["broken.pem"]
        );
    }
}
