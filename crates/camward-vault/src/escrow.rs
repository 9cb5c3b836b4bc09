//! Encrypted escrow: a site's credentials sealed for hand-over to the site owner.
//!
//! The file is an ASCII-armored age file (age-encryption.org/v1) encrypted to a passphrase with the
//! scrypt recipient type (spec section "scrypt recipient stanza"), so the owner can also open it with
//! the `age` or `rage` command line tools. The plaintext is JSON and exists only inside the
//! encryption:
//!
//! ```json
//! {"format":"camward-escrow/1","credentials":[{"camera":"mac:…","user":"admin","password":"…"}]}
//! ```
use std::fmt;
use std::io::{Read, Write};

use age::secrecy::SecretString;
use zeroize::{Zeroize, Zeroizing};

use crate::{CredentialKey, Sensitive};

/// The format tag inside the encrypted JSON.
pub const ESCROW_FORMAT: &str = "camward-escrow/1";

/// scrypt work factor (log2 N) for exports: 18 is the age reference tool's choice for passphrases.
/// It is fixed rather than calibrated to this laptop so that the owner's slower machine can open it.
pub const ESCROW_WORK_FACTOR: u8 = 18;

/// The highest work factor accepted on import (N = 2^20 needs 1 GiB), bounding the memory and time
/// a crafted file can make us spend.
const MAX_IMPORT_WORK_FACTOR: u8 = 20;

/// Why an escrow could not be sealed or opened. No variant carries secret material.
#[derive(Debug, thiserror::Error)]
pub enum EscrowError {
    /// The passphrase is empty.
    #[error("the escrow passphrase must not be empty")]
    EmptyPassphrase,
    /// The passphrase does not open this escrow.
    #[error("wrong passphrase for this escrow")]
    WrongPassphrase,
    /// The bytes are not an age file (or its armor is damaged).
    #[error("not a Camward escrow file: {0}")]
    NotAnEscrow(String),
    /// The file needs more scrypt work than we accept.
    #[error("the escrow demands an excessive scrypt work factor ({0})")]
    ExcessiveWork(u8),
    /// It decrypted, but the content is not a Camward escrow of a version we read.
    #[error("the escrow content is not a supported Camward escrow: {0}")]
    BadContent(String),
    /// Encryption failed (I/O inside the encryptor).
    #[error("sealing the escrow failed: {0}")]
    Seal(String),
}

impl EscrowError {
    /// Stable code for the UI and CLI.
    pub fn code(&self) -> &'static str {
        match self {
            EscrowError::EmptyPassphrase => "escrow_empty_passphrase",
            EscrowError::WrongPassphrase => "escrow_wrong_passphrase",
            EscrowError::NotAnEscrow(_) => "escrow_not_an_escrow",
            EscrowError::ExcessiveWork(_) => "escrow_excessive_work",
            EscrowError::BadContent(_) => "escrow_bad_content",
            EscrowError::Seal(_) => "escrow_seal_failed",
        }
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Payload {
    format: String,
    credentials: Vec<Entry>,
}

/// One credential inside the encryption. It holds the password as a plain `String` only because
/// serde must see it; it is zeroized on drop and redacted in `Debug`.
#[derive(serde::Serialize, serde::Deserialize)]
struct Entry {
    camera: String,
    user: String,
    password: String,
}

impl Drop for Entry {
    fn drop(&mut self) {
        self.password.zeroize();
    }
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry")
            .field("camera", &self.camera)
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish()
    }
}

fn age_passphrase(passphrase: &Sensitive<String>) -> Result<SecretString, EscrowError> {
    if passphrase.expose().is_empty() {
        return Err(EscrowError::EmptyPassphrase);
    }
    Ok(SecretString::from(passphrase.expose().clone()))
}

/// Seals `entries` with `passphrase` at scrypt work factor `log_n`; returns the armored file.
pub(crate) fn seal(
    entries: &[(CredentialKey, Sensitive<String>)],
    passphrase: &Sensitive<String>,
    log_n: u8,
) -> Result<Vec<u8>, EscrowError> {
    let mut recipient = age::scrypt::Recipient::new(age_passphrase(passphrase)?);
    recipient.set_work_factor(log_n);
    let payload = Payload {
        format: ESCROW_FORMAT.to_owned(),
        credentials: entries
            .iter()
            .map(|(k, s)| Entry {
                camera: k.camera.clone(),
                user: k.user.clone(),
                password: s.expose().clone(),
            })
            .collect(),
    };
    let plaintext =
        Zeroizing::new(serde_json::to_vec(&payload).map_err(|e| EscrowError::Seal(e.to_string()))?);
    let seal_err = |e: std::io::Error| EscrowError::Seal(e.to_string());
    let encryptor = age::Encryptor::with_recipients(std::iter::once(&recipient as _))
        .map_err(|e| EscrowError::Seal(e.to_string()))?;
    let mut out = Vec::new();
    let armor = age::armor::ArmoredWriter::wrap_output(&mut out, age::armor::Format::AsciiArmor)
        .map_err(seal_err)?;
    let mut writer = encryptor.wrap_output(armor).map_err(seal_err)?;
    writer.write_all(&plaintext).map_err(seal_err)?;
    writer
        .finish()
        .and_then(|armor| armor.finish())
        .map_err(seal_err)?;
    Ok(out)
}

/// Opens an escrow made by [`crate::CredentialLedger::export_escrow`]. A wrong passphrase gives
/// [`EscrowError::WrongPassphrase`].
pub fn import_escrow(
    bytes: &[u8],
    passphrase: &Sensitive<String>,
) -> Result<Vec<(CredentialKey, Sensitive<String>)>, EscrowError> {
    let mut identity = age::scrypt::Identity::new(age_passphrase(passphrase)?);
    identity.set_max_work_factor(MAX_IMPORT_WORK_FACTOR);
    let decryptor = age::Decryptor::new_buffered(age::armor::ArmoredReader::new(bytes))
        .map_err(map_decrypt_err)?;
    if !decryptor.is_scrypt() {
        return Err(EscrowError::NotAnEscrow(
            "it is not encrypted to a passphrase".into(),
        ));
    }
    let mut reader = decryptor
        .decrypt(std::iter::once(&identity as &dyn age::Identity))
        .map_err(map_decrypt_err)?;
    let mut plaintext = Zeroizing::new(Vec::new());
    reader
        .read_to_end(&mut plaintext)
        .map_err(|e| EscrowError::NotAnEscrow(format!("damaged payload: {}", e.kind())))?;
    // serde_json's messages can quote the offending value, which may be a password: report only
    // where parsing failed.
    let payload: Payload = serde_json::from_slice(&plaintext).map_err(|e| {
        EscrowError::BadContent(format!(
            "invalid JSON at line {} column {}",
            e.line(),
            e.column()
        ))
    })?;
    if payload.format != ESCROW_FORMAT {
        return Err(EscrowError::BadContent(format!(
            "format {:?}",
            payload.format
        )));
    }
    Ok(payload
        .credentials
        .iter()
        .map(|e| {
            (
                CredentialKey::new(e.camera.clone(), e.user.clone()),
                Sensitive::new(e.password.clone()),
            )
        })
        .collect())
}

fn map_decrypt_err(e: age::DecryptError) -> EscrowError {
    match e {
        // With a passphrase file, a failed key unwrap is exactly a wrong passphrase.
        age::DecryptError::DecryptionFailed
        | age::DecryptError::KeyDecryptionFailed
        | age::DecryptError::NoMatchingKeys => EscrowError::WrongPassphrase,
        age::DecryptError::ExcessiveWork { required, .. } => EscrowError::ExcessiveWork(required),
        other => EscrowError::NotAnEscrow(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pw(s: &str) -> Sensitive<String> {
        Sensitive::new(s.to_owned())
    }

    fn entries() -> Vec<(CredentialKey, Sensitive<String>)> {
        vec![
            (
                CredentialKey::new("mac:00:11:22:33:44:55", "admin"),
                pw("Kx9!vRt2#pLm-Q7"),
            ),
            (
                CredentialKey::new("host:192.0.2.10", "root"),
                pw("\"quoted\" \\ ünïcode"),
            ),
        ]
    }

    #[test]
    fn round_trip_is_armored_and_hides_the_content() {
        let sealed = seal(&entries(), &pw("correct horse battery staple"), 10).unwrap();
        let text = std::str::from_utf8(&sealed).unwrap();
        assert!(
            text.starts_with("-----BEGIN AGE ENCRYPTED FILE-----"),
            "{text}"
        );
        for needle in ["Kx9!vRt2", "admin", "mac:00:11", "camward-escrow"] {
            assert!(
                !text.contains(needle),
                "{needle} visible in the armored file"
            );
        }
        let opened = import_escrow(&sealed, &pw("correct horse battery staple")).unwrap();
        assert_eq!(opened.len(), 2);
        for ((k1, s1), (k2, s2)) in entries().iter().zip(&opened) {
            assert_eq!(k1, k2);
            assert_eq!(s1.expose(), s2.expose());
        }
    }

    #[test]
    fn wrong_passphrase_is_a_clear_error() {
        let sealed = seal(&entries(), &pw("correct horse battery staple"), 10).unwrap();
        let err = import_escrow(&sealed, &pw("incorrect horse")).unwrap_err();
        assert!(matches!(err, EscrowError::WrongPassphrase), "{err:?}");
        assert_eq!(err.code(), "escrow_wrong_passphrase");
        assert_eq!(err.to_string(), "wrong passphrase for this escrow");
    }

    #[test]
    fn empty_passphrase_and_garbage_are_refused() {
        assert!(matches!(
            seal(&entries(), &pw(""), 10),
            Err(EscrowError::EmptyPassphrase)
        ));
        let err = import_escrow(b"hello, not an escrow", &pw("x")).unwrap_err();
        assert!(matches!(err, EscrowError::NotAnEscrow(_)), "{err:?}");
    }

    #[test]
    fn production_work_factor_round_trips() {
        let sealed = seal(
            &entries()[..1],
            &pw("a long hand-over passphrase"),
            ESCROW_WORK_FACTOR,
        )
        .unwrap();
        assert_eq!(
            import_escrow(&sealed, &pw("a long hand-over passphrase"))
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn debug_of_an_entry_redacts() {
        let e = Entry {
            camera: "c".into(),
            user: "u".into(),
            password: "Kx9!vRt2#pLm-Q7".into(),
        };
        let dbg = format!("{e:?}");
        assert!(!dbg.contains("Kx9!"), "{dbg}");
        let opened = import_escrow(&seal(&entries(), &pw("p"), 10).unwrap(), &pw("p")).unwrap();
        assert!(!format!("{opened:?}").contains("Kx9!"));
    }
}
