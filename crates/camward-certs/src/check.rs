//! The checks a certificate chain must pass before anything is uploaded to a camera.
//!
//! Every check runs and every failure is reported, each as a [`CertProblem`] with a stable
//! [`code`](CertProblem::code) and a message a person can act on:
//! - validity window against the **camera's** clock (RFC 5280 §4.1.2.5), since the camera is the
//!   one that will present it and clients compare with their own, close-to-real, time;
//! - the chain leads to the chosen CA: each certificate is signed by the next, the last by the trust
//!   anchor, and every issuer is a CA (RFC 5280 §6.1, §4.2.1.9);
//! - key strength: RSA of at least 2048 bits, EC only on P-256/P-384/P-521;
//! - SubjectAltName covers every address and host name the camera is reached by (RFC 6125 §6.4,
//!   one wildcard label at most on the left);
//! - key usage allows digitalSignature when present, extended key usage names serverAuth
//!   (RFC 5280 §4.2.1.3, §4.2.1.12);
//! - the certificate's public key is the camera's key, when the camera made the key.
use std::fmt;
use std::net::IpAddr;

use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;
use x509_parser::public_key::PublicKey;

use crate::{hex, parse_certificate, same_key, sha256, SubjectName};

/// The smallest RSA modulus accepted (NIST SP 800-131A: 1024-bit RSA is disallowed).
pub const MIN_RSA_BITS: usize = 2048;

/// Named curves accepted for EC keys: P-256, P-384, P-521.
const STRONG_CURVES: &[(&str, &str)] = &[
    ("1.2.840.10045.3.1.7", "P-256"),
    ("1.3.132.0.34", "P-384"),
    ("1.3.132.0.35", "P-521"),
];
const OID_RSA: &str = "1.2.840.113549.1.1.1";
const OID_EC: &str = "1.2.840.10045.2.1";
const OID_ED25519: &str = "1.3.101.112";

/// What a certificate for one camera must satisfy.
#[derive(Clone, Copy, Debug)]
pub struct Expectations<'a> {
    /// The chosen CA's certificate, DER: the chain must lead to it.
    pub trust_anchor_der: &'a [u8],
    /// The camera's clock now (the laptop's time corrected by the camera's clock offset).
    pub camera_time: OffsetDateTime,
    /// Every address and host name the camera is reached by.
    pub reached_by: &'a [SubjectName],
    /// The camera's own public key (DER SubjectPublicKeyInfo, from its CSR), when the camera
    /// generated the key; the certificate must carry exactly this key.
    pub camera_spki_der: Option<&'a [u8]>,
}

/// A chain that passed every check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checked {
    /// SHA-256 of the leaf certificate's DER: what the camera must present afterwards.
    pub leaf_sha256: [u8; 32],
    /// The leaf's subject, RFC 4514 text.
    pub subject: String,
    /// End of the leaf's validity.
    pub not_after: OffsetDateTime,
    /// Start of the leaf's validity.
    pub not_before: OffsetDateTime,
    /// The leaf's key, as a person reads it (`RSA 2048 bits`, `EC P-384`, `Ed25519`).
    pub key: String,
    /// The names its SubjectAltName covers.
    pub names: Vec<String>,
    /// The subject of the CA the chain leads to.
    pub chain_to: String,
}

/// One reason a certificate is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CertProblem {
    /// The chain is empty.
    NoCertificate,
    /// A certificate (index 0 is the leaf) cannot be parsed.
    Unparsable {
        /// Position in the chain; `None` for the trust anchor.
        index: Option<usize>,
        /// What the parser said.
        reason: String,
    },
    /// The leaf's validity starts after the camera's clock.
    NotYetValid {
        /// Start of validity.
        not_before: OffsetDateTime,
        /// The camera's clock.
        camera_time: OffsetDateTime,
    },
    /// The leaf's validity ended before the camera's clock.
    Expired {
        /// End of validity.
        not_after: OffsetDateTime,
        /// The camera's clock.
        camera_time: OffsetDateTime,
    },
    /// A CA certificate of the chain (an intermediate or the chosen CA) is outside its validity
    /// by the camera's clock, so clients will refuse the chain.
    IssuerNotValid {
        /// The CA certificate's subject.
        subject: String,
        /// Its validity window.
        not_before: OffsetDateTime,
        /// End of the window.
        not_after: OffsetDateTime,
    },
    /// The chain does not lead to the chosen CA.
    WrongChain {
        /// Which link failed and why.
        reason: String,
    },
    /// An RSA key shorter than [`MIN_RSA_BITS`].
    WeakRsaKey {
        /// Modulus length.
        bits: usize,
    },
    /// An EC key on a curve not accepted.
    WeakCurve {
        /// The curve's OID (or "unnamed").
        curve: String,
    },
    /// A key algorithm that is neither RSA, EC nor Ed25519.
    UnsupportedKey {
        /// The algorithm OID.
        algorithm: String,
    },
    /// A name the camera is reached by that the SubjectAltName does not cover.
    NameNotCovered {
        /// The name.
        name: SubjectName,
        /// What the certificate does cover.
        covered: Vec<String>,
    },
    /// Key usage or extended key usage does not allow a TLS server.
    NotForTlsServer {
        /// Which extension and what it lacks.
        reason: String,
    },
    /// The certificate's public key is not the camera's key.
    KeyMismatch {
        /// Key fingerprint of the certificate (hex SHA-256 of the SPKI).
        certificate_key: String,
    },
}

impl CertProblem {
    /// Stable code for the UI and CLI.
    pub fn code(&self) -> &'static str {
        match self {
            CertProblem::NoCertificate => "cert_missing",
            CertProblem::Unparsable { .. } => "cert_unparsable",
            CertProblem::NotYetValid { .. } => "cert_not_yet_valid",
            CertProblem::Expired { .. } => "cert_expired",
            CertProblem::IssuerNotValid { .. } => "cert_issuer_not_valid",
            CertProblem::WrongChain { .. } => "cert_wrong_chain",
            CertProblem::WeakRsaKey { .. } | CertProblem::WeakCurve { .. } => "cert_weak_key",
            CertProblem::UnsupportedKey { .. } => "cert_unsupported_key",
            CertProblem::NameNotCovered { .. } => "cert_name_not_covered",
            CertProblem::NotForTlsServer { .. } => "cert_not_for_tls_server",
            CertProblem::KeyMismatch { .. } => "cert_key_mismatch",
        }
    }
}

fn when(t: &OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}

impl fmt::Display for CertProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CertProblem::NoCertificate => write!(f, "no certificate was given"),
            CertProblem::Unparsable { index: None, reason } => {
                write!(f, "the CA certificate cannot be read: {reason}")
            }
            CertProblem::Unparsable {
                index: Some(i),
                reason,
            } => write!(f, "certificate {i} of the chain cannot be read: {reason}"),
            CertProblem::NotYetValid {
                not_before,
                camera_time,
            } => write!(
                f,
                "the certificate is valid only from {}, and the camera's clock says {}; fix the camera's clock (NTP) or issue a certificate valid from earlier",
                when(not_before),
                when(camera_time)
            ),
            CertProblem::Expired {
                not_after,
                camera_time,
            } => write!(
                f,
                "the certificate expired at {}, and the camera's clock says {}; issue a new one",
                when(not_after),
                when(camera_time)
            ),
            CertProblem::IssuerNotValid {
                subject,
                not_before,
                not_after,
            } => write!(
                f,
                "the CA certificate \"{subject}\" is valid only from {} to {}, which does not include the camera's clock; renew that CA certificate or fix the camera's clock",
                when(not_before),
                when(not_after)
            ),
            CertProblem::WrongChain { reason } => write!(
                f,
                "the certificate does not lead to the chosen CA: {reason}; use a certificate issued by that CA, with its intermediates"
            ),
            CertProblem::WeakRsaKey { bits } => write!(
                f,
                "the key is RSA {bits} bits; at least {MIN_RSA_BITS} are required, so create a new key"
            ),
            CertProblem::WeakCurve { curve } => write!(
                f,
                "the key is on elliptic curve {curve}; only P-256, P-384 and P-521 are accepted"
            ),
            CertProblem::UnsupportedKey { algorithm } => write!(
                f,
                "the key's algorithm {algorithm} is not RSA, EC or Ed25519"
            ),
            CertProblem::NameNotCovered { name, covered } => write!(
                f,
                "the camera is reached as {name}, but the certificate names only [{}]; issue it with {name} in its SubjectAltName",
                covered.join(", ")
            ),
            CertProblem::NotForTlsServer { reason } => write!(
                f,
                "the certificate is not for a TLS server: {reason}; issue it with key usage digitalSignature and extended key usage serverAuth"
            ),
            CertProblem::KeyMismatch { certificate_key } => write!(
                f,
                "the certificate is for another key (SHA-256 {certificate_key}) than the one this camera holds; it was issued for another camera or an older CSR"
            ),
        }
    }
}

/// Checks `chain` (DER, leaf first, intermediates after; the trust anchor may be included last)
/// against `expect`. Returns every problem found, or what the camera must present afterwards.
pub fn check_certificate(
    chain: &[Vec<u8>],
    expect: &Expectations<'_>,
) -> Result<Checked, Vec<CertProblem>> {
    let Some(leaf_der) = chain.first() else {
        return Err(vec![CertProblem::NoCertificate]);
    };
    let mut problems = Vec::new();
    let anchor = match parse_certificate(expect.trust_anchor_der, "the CA certificate") {
        Ok(a) => Some(a),
        Err(e) => {
            problems.push(CertProblem::Unparsable {
                index: None,
                reason: e.to_string(),
            });
            None
        }
    };
    // A chain that repeats the anchor at its end is the same chain.
    let without_anchor = match chain.split_last() {
        Some((last, rest)) if chain.len() > 1 && last.as_slice() == expect.trust_anchor_der => rest,
        _ => chain,
    };
    let mut certs = Vec::new();
    for (i, der) in without_anchor.iter().enumerate() {
        match parse_certificate(der, "certificate") {
            Ok(c) => certs.push(c),
            Err(e) => problems.push(CertProblem::Unparsable {
                index: Some(i),
                reason: e.to_string(),
            }),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let leaf = &certs[0];
    check_validity(leaf, expect.camera_time, &mut problems);
    if let Some(anchor) = &anchor {
        check_chain(&certs, anchor, &mut problems);
        for issuer in certs.iter().skip(1).chain(std::iter::once(anchor)) {
            let validity = issuer.validity();
            let (from, to) = (
                validity.not_before.to_datetime(),
                validity.not_after.to_datetime(),
            );
            if expect.camera_time < from || expect.camera_time > to {
                problems.push(CertProblem::IssuerNotValid {
                    subject: issuer.subject().to_string(),
                    not_before: from,
                    not_after: to,
                });
            }
        }
    }
    check_key_strength(leaf, &mut problems);
    check_names(leaf, expect.reached_by, &mut problems);
    check_usage(leaf, &mut problems);
    if let Some(camera_spki) = expect.camera_spki_der {
        let cert_spki = leaf.public_key().raw;
        if !same_key(cert_spki, camera_spki) {
            problems.push(CertProblem::KeyMismatch {
                certificate_key: hex(&sha256(cert_spki)),
            });
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let (ips, dns) = san_names(leaf);
    Ok(Checked {
        leaf_sha256: sha256(leaf_der),
        subject: leaf.subject().to_string(),
        not_after: leaf.validity().not_after.to_datetime(),
        not_before: leaf.validity().not_before.to_datetime(),
        key: key_description(leaf),
        names: ips.iter().map(ToString::to_string).chain(dns).collect(),
        chain_to: anchor
            .as_ref()
            .map(|a| a.subject().to_string())
            .unwrap_or_default(),
    })
}

/// The leaf's key as a person reads it; only called on a key [`check_key_strength`] accepted.
fn key_description(leaf: &X509Certificate<'_>) -> String {
    let spki = leaf.public_key();
    match spki.algorithm.algorithm.to_id_string().as_str() {
        OID_RSA => match spki.parsed() {
            Ok(PublicKey::RSA(rsa)) => format!("RSA {} bits", rsa.key_size()),
            _ => "RSA".to_owned(),
        },
        OID_EC => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|oid| oid.to_id_string())
                .unwrap_or_default();
            let name = STRONG_CURVES
                .iter()
                .find(|(oid, _)| *oid == curve)
                .map_or(curve.as_str(), |(_, name)| name);
            format!("EC {name}")
        }
        OID_ED25519 => "Ed25519".to_owned(),
        other => other.to_owned(),
    }
}

fn check_validity(
    leaf: &X509Certificate<'_>,
    now: OffsetDateTime,
    problems: &mut Vec<CertProblem>,
) {
    let not_before = leaf.validity().not_before.to_datetime();
    let not_after = leaf.validity().not_after.to_datetime();
    if now < not_before {
        problems.push(CertProblem::NotYetValid {
            not_before,
            camera_time: now,
        });
    }
    if now > not_after {
        problems.push(CertProblem::Expired {
            not_after,
            camera_time: now,
        });
    }
}

fn is_ca(cert: &X509Certificate<'_>) -> bool {
    matches!(cert.basic_constraints(), Ok(Some(bc)) if bc.value.ca)
}

fn check_chain(
    certs: &[X509Certificate<'_>],
    anchor: &X509Certificate<'_>,
    problems: &mut Vec<CertProblem>,
) {
    let mut wrong = |reason: String| problems.push(CertProblem::WrongChain { reason });
    for (i, cert) in certs.iter().enumerate() {
        let (issuer, issuer_label) = match certs.get(i + 1) {
            Some(next) => (next, format!("certificate {}", i + 1)),
            None => (anchor, "the chosen CA".to_owned()),
        };
        let label = if i == 0 {
            "the certificate".to_owned()
        } else {
            format!("intermediate {i}")
        };
        if cert.issuer().as_raw() != issuer.subject().as_raw() {
            wrong(format!(
                "{label} was issued by \"{}\", not by {issuer_label} \"{}\"",
                cert.issuer(),
                issuer.subject()
            ));
            return;
        }
        if cert.verify_signature(Some(issuer.public_key())).is_err() {
            wrong(format!(
                "{label}'s signature does not verify with the key of {issuer_label} \"{}\"",
                issuer.subject()
            ));
            return;
        }
        if !is_ca(issuer) {
            wrong(format!(
                "{issuer_label} \"{}\" is not a CA certificate (basicConstraints CA is not set)",
                issuer.subject()
            ));
            return;
        }
    }
}

fn check_key_strength(leaf: &X509Certificate<'_>, problems: &mut Vec<CertProblem>) {
    let spki = leaf.public_key();
    let algorithm = spki.algorithm.algorithm.to_id_string();
    match algorithm.as_str() {
        OID_RSA => match spki.parsed() {
            Ok(PublicKey::RSA(rsa)) => {
                let bits = rsa.key_size();
                if bits < MIN_RSA_BITS {
                    problems.push(CertProblem::WeakRsaKey { bits });
                }
            }
            _ => problems.push(CertProblem::UnsupportedKey { algorithm }),
        },
        OID_EC => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|oid| oid.to_id_string())
                .unwrap_or_else(|| "unnamed".to_owned());
            if !STRONG_CURVES.iter().any(|(oid, _)| *oid == curve) {
                problems.push(CertProblem::WeakCurve { curve });
            }
        }
        OID_ED25519 => {}
        _ => problems.push(CertProblem::UnsupportedKey { algorithm }),
    }
}

/// The names a certificate's SubjectAltName holds, as text (for messages) and as parsed values.
fn san_names(leaf: &X509Certificate<'_>) -> (Vec<IpAddr>, Vec<String>) {
    let mut ips = Vec::new();
    let mut dns = Vec::new();
    if let Ok(Some(san)) = leaf.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::IPAddress(bytes) => {
                    if let Ok(v4) = <[u8; 4]>::try_from(*bytes) {
                        ips.push(IpAddr::from(v4));
                    } else if let Ok(v6) = <[u8; 16]>::try_from(*bytes) {
                        ips.push(IpAddr::from(v6));
                    }
                }
                GeneralName::DNSName(name) => {
                    dns.push(name.trim_end_matches('.').to_ascii_lowercase())
                }
                _ => {}
            }
        }
    }
    (ips, dns)
}

/// RFC 6125 §6.4.3: a wildcard stands for exactly one whole left-most label.
fn dns_covers(pattern: &str, name: &str) -> bool {
    if pattern == name {
        return true;
    }
    match (pattern.strip_prefix("*."), name.split_once('.')) {
        (Some(suffix), Some((label, rest))) => {
            !label.is_empty() && suffix.contains('.') && rest == suffix
        }
        _ => false,
    }
}

fn check_names(
    leaf: &X509Certificate<'_>,
    reached_by: &[SubjectName],
    problems: &mut Vec<CertProblem>,
) {
    let (ips, dns) = san_names(leaf);
    let covered: Vec<String> = ips
        .iter()
        .map(ToString::to_string)
        .chain(dns.iter().cloned())
        .collect();
    for name in reached_by {
        let ok = match name {
            SubjectName::Ip(ip) => ips.iter().any(|c| canonical(*c) == canonical(*ip)),
            SubjectName::Dns(host) => dns.iter().any(|p| dns_covers(p, host)),
        };
        if !ok {
            problems.push(CertProblem::NameNotCovered {
                name: name.clone(),
                covered: covered.clone(),
            });
        }
    }
}

/// IPv4-mapped IPv6 addresses compare equal to their IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn check_usage(leaf: &X509Certificate<'_>, problems: &mut Vec<CertProblem>) {
    let mut not_for_tls = |reason: &str| {
        problems.push(CertProblem::NotForTlsServer {
            reason: reason.to_owned(),
        })
    };
    match leaf.key_usage() {
        Ok(Some(ku)) if !ku.value.digital_signature() => {
            not_for_tls("its key usage lacks digitalSignature, which TLS 1.3 and ECDHE need");
        }
        Ok(_) => {}
        Err(_) => not_for_tls("its key usage extension cannot be read"),
    }
    match leaf.extended_key_usage() {
        Ok(Some(eku)) if eku.value.server_auth || eku.value.any => {}
        Ok(Some(_)) => not_for_tls("its extended key usage does not include serverAuth"),
        Ok(None) => not_for_tls("it has no extended key usage naming serverAuth"),
        Err(_) => not_for_tls("its extended key usage extension cannot be read"),
    }
    if is_ca(leaf) {
        not_for_tls("it is a CA certificate, not a server certificate");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{
        camera_names, key_pair, leaf_for_key, openssl_rsa_key, test_ca, LeafSpec,
    };
    use rcgen::PublicKeyData as _;

    fn expect<'a>(
        ca: &'a [u8],
        names: &'a [SubjectName],
        spki: Option<&'a [u8]>,
    ) -> Expectations<'a> {
        Expectations {
            trust_anchor_der: ca,
            camera_time: crate::test_support::now(),
            reached_by: names,
            camera_spki_der: spki,
        }
    }

    fn codes(problems: &[CertProblem]) -> Vec<&'static str> {
        problems.iter().map(CertProblem::code).collect()
    }

    #[test]
    fn a_good_chain_passes_and_reports_the_leaf_fingerprint() {
        let ca = test_ca("Site A");
        let key = key_pair();
        let leaf = leaf_for_key(&ca, &key, &LeafSpec::default());
        let names = camera_names();
        let spki = key.subject_public_key_info();
        let checked = check_certificate(
            &[leaf.clone(), ca.der.clone()],
            &expect(&ca.der, &names, Some(&spki)),
        )
        .expect("passes");
        assert_eq!(checked.leaf_sha256, sha256(&leaf));
        // The anchor may be left out of the chain.
        check_certificate(&[leaf], &expect(&ca.der, &names, Some(&spki))).expect("passes");
    }

    #[test]
    fn expired_and_not_yet_valid_are_judged_by_the_camera_clock() {
        let ca = test_ca("Site A");
        let key = key_pair();
        let now = crate::test_support::now();
        let leaf = leaf_for_key(
            &ca,
            &key,
            &LeafSpec {
                not_before: now - time::Duration::days(30),
                not_after: now - time::Duration::days(1),
                ..LeafSpec::default()
            },
        );
        let names = camera_names();
        let problems =
            check_certificate(std::slice::from_ref(&leaf), &expect(&ca.der, &names, None))
                .unwrap_err();
        assert_eq!(codes(&problems), ["cert_expired"]);
        assert!(
            problems[0].to_string().contains("expired"),
            "{}",
            problems[0]
        );
        // On a camera whose clock lags by 10 days the same certificate is still valid.
        let lagging = Expectations {
            camera_time: now - time::Duration::days(10),
            ..expect(&ca.der, &names, None)
        };
        check_certificate(std::slice::from_ref(&leaf), &lagging)
            .expect("valid on the lagging camera");
        let early = Expectations {
            camera_time: now - time::Duration::days(60),
            ..expect(&ca.der, &names, None)
        };
        assert_eq!(
            codes(&check_certificate(&[leaf], &early).unwrap_err()),
            ["cert_not_yet_valid"]
        );
    }

    #[test]
    fn a_missing_address_or_host_name_is_named() {
        let ca = test_ca("Site A");
        let key = key_pair();
        let leaf = leaf_for_key(
            &ca,
            &key,
            &LeafSpec {
                sans: vec![
                    SubjectName::parse("192.0.2.99"),
                    SubjectName::parse("*.example.net"),
                ],
                ..LeafSpec::default()
            },
        );
        let names = [
            SubjectName::parse("192.0.2.10"),
            SubjectName::parse("cam-lobby.example.net"),
            SubjectName::parse("deep.cam.example.net"),
        ];
        let problems = check_certificate(&[leaf], &expect(&ca.der, &names, None)).unwrap_err();
        assert_eq!(
            codes(&problems),
            ["cert_name_not_covered", "cert_name_not_covered"]
        );
        assert!(problems[0].to_string().contains("192.0.2.10"));
        assert!(problems[1].to_string().contains("deep.cam.example.net"));
    }

    #[test]
    fn a_certificate_of_another_ca_is_a_wrong_chain() {
        let ca = test_ca("Site A");
        let other = test_ca("Site A"); // Same name, other key: only the signature tells.
        let stranger = test_ca("Somewhere Else");
        let key = key_pair();
        let names = camera_names();
        let from_other = leaf_for_key(&other, &key, &LeafSpec::default());
        let problems =
            check_certificate(&[from_other], &expect(&ca.der, &names, None)).unwrap_err();
        assert_eq!(codes(&problems), ["cert_wrong_chain"]);
        assert!(
            problems[0].to_string().contains("signature"),
            "{}",
            problems[0]
        );
        let from_stranger = leaf_for_key(&stranger, &key, &LeafSpec::default());
        let problems =
            check_certificate(&[from_stranger], &expect(&ca.der, &names, None)).unwrap_err();
        assert!(
            problems[0].to_string().contains("Somewhere Else"),
            "{}",
            problems[0]
        );
    }

    #[test]
    fn a_1024_bit_rsa_key_is_refused() {
        let Some(weak) = openssl_rsa_key(1024) else {
            return;
        };
        let ca = test_ca("Site A");
        let leaf = crate::test_support::leaf_for_spki(&ca, &weak, &LeafSpec::default());
        let names = camera_names();
        let problems = check_certificate(&[leaf], &expect(&ca.der, &names, None)).unwrap_err();
        assert_eq!(codes(&problems), ["cert_weak_key"]);
        assert!(problems[0].to_string().contains("1024"), "{}", problems[0]);
    }

    #[test]
    fn a_certificate_for_another_key_is_refused() {
        let ca = test_ca("Site A");
        let camera_key = key_pair();
        let other_key = key_pair();
        let leaf = leaf_for_key(&ca, &other_key, &LeafSpec::default());
        let names = camera_names();
        let spki = camera_key.subject_public_key_info();
        let problems =
            check_certificate(&[leaf], &expect(&ca.der, &names, Some(&spki))).unwrap_err();
        assert_eq!(codes(&problems), ["cert_key_mismatch"]);
    }

    #[test]
    fn without_server_auth_it_is_not_for_a_tls_server() {
        let ca = test_ca("Site A");
        let key = key_pair();
        let leaf = leaf_for_key(
            &ca,
            &key,
            &LeafSpec {
                server_auth: false,
                ..LeafSpec::default()
            },
        );
        let names = camera_names();
        let problems = check_certificate(&[leaf], &expect(&ca.der, &names, None)).unwrap_err();
        assert_eq!(codes(&problems), ["cert_not_for_tls_server"]);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let ca = test_ca("Site A");
        let other = test_ca("Other");
        let key = key_pair();
        let now = crate::test_support::now();
        let leaf = leaf_for_key(
            &other,
            &key,
            &LeafSpec {
                not_before: now - time::Duration::days(30),
                not_after: now - time::Duration::days(1),
                sans: vec![SubjectName::parse("192.0.2.99")],
                server_auth: false,
            },
        );
        let names = camera_names();
        let spki = key_pair().subject_public_key_info();
        let problems =
            check_certificate(&[leaf], &expect(&ca.der, &names, Some(&spki))).unwrap_err();
        let codes = codes(&problems);
        for code in [
            "cert_expired",
            "cert_wrong_chain",
            "cert_name_not_covered",
            "cert_not_for_tls_server",
            "cert_key_mismatch",
        ] {
            assert!(codes.contains(&code), "{code} missing from {codes:?}");
        }
        assert_eq!(
            check_certificate(&[], &expect(&ca.der, &names, None)).unwrap_err(),
            vec![CertProblem::NoCertificate]
        );
        assert_eq!(
            codes_of(check_certificate(
                &[vec![1, 2, 3]],
                &expect(&ca.der, &names, None)
            )),
            ["cert_unparsable"]
        );
    }

    fn codes_of(r: Result<Checked, Vec<CertProblem>>) -> Vec<&'static str> {
        r.unwrap_err().iter().map(CertProblem::code).collect()
    }

    #[test]
    fn an_expired_ca_certificate_is_refused() {
        let ca = crate::test_support::test_ca_valid(
            "Old CA",
            crate::test_support::now() - time::Duration::days(3650),
            crate::test_support::now() - time::Duration::days(1),
        );
        let key = key_pair();
        let leaf = leaf_for_key(&ca, &key, &LeafSpec::default());
        let names = camera_names();
        let problems = check_certificate(&[leaf], &expect(&ca.der, &names, None)).unwrap_err();
        assert_eq!(codes(&problems), ["cert_issuer_not_valid"]);
        assert!(
            problems[0].to_string().contains("Old CA"),
            "{}",
            problems[0]
        );
    }

    #[test]
    fn wildcards_cover_one_label_only() {
        assert!(dns_covers("*.example.net", "cam.example.net"));
        assert!(!dns_covers("*.example.net", "a.cam.example.net"));
        assert!(!dns_covers("*.example.net", "example.net"));
        assert!(!dns_covers("*.net", "example.net"));
        assert!(dns_covers("cam.example.net", "cam.example.net"));
    }
}
