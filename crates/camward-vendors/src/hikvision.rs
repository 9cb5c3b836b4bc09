//! Hikvision ISAPI first boot: activation, login, enabling ONVIF and creating its user.
//!
//! Glossary: *activation* sets the password of the built-in `admin` account of an inactive camera;
//! the *random key* is the secret the camera sends encrypted to our RSA key; *Integrate* is the
//! ISAPI resource that switches third-party protocols such as ONVIF on and off.
//!
//! Activation (ISAPI "Intelligent Security API (General Application) Developer Guide", security
//! chapter; the encodings follow Hikvision's web client):
//! 1. `GET /SDK/activateStatus` → `<Activated>false</Activated>` on an inactive camera.
//! 2. We make a fresh 1024-bit RSA key and `POST /ISAPI/Security/challenge`
//!    `<PublicKey><key>K</key></PublicKey>`, K = Base64 of the hex text of the modulus (public
//!    exponent 65537). The camera answers `<Challenge><key>C</key></Challenge>`, C = Base64 of the
//!    hex text of the RSA PKCS#1 v1.5 encryption of its random key (32 hex characters).
//! 3. `PUT /ISAPI/System/activate` `<ActivateInfo><password>P</password></ActivateInfo>`,
//!    P = Base64 of the hex text of AES-128-ECB, keyed with the random key's 16 bytes, over the
//!    first 16 characters of the random key followed by the password, zero-padded to the block.
//!
//! ECB is what the camera expects, not a choice; the prefix binds the message to this exchange
//! and the random key is single-use. ISAPI login afterwards is HTTP Digest as `admin`.
//! ONVIF is off out of the box and has its own user list: `PUT /ISAPI/System/Network/Integrate`
//! enables it and `POST /ISAPI/Security/ONVIF/users` creates its account.
use aes::cipher::{generic_array::GenericArray, BlockEncrypt as _, KeyInit as _};
use base64::Engine as _;
use camward_onvif::transport::HttpResponse;
use zeroize::Zeroizing;

use crate::error::malformed;
use crate::{VendorError, VendorHttp, VendorRefusal};

/// The built-in administrator that activation sets the password of.
pub const ADMIN: &str = "admin";
/// Size of the RSA key for the activation exchange (what Hikvision's own clients use).
const RSA_BITS: usize = 1024;

/// Level of an ONVIF account created over ISAPI (`userType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnvifUserType {
    /// `administrator`.
    Administrator,
    /// `operator`.
    Operator,
    /// `mediaUser`.
    MediaUser,
}

impl OnvifUserType {
    fn as_str(self) -> &'static str {
        match self {
            OnvifUserType::Administrator => "administrator",
            OnvifUserType::Operator => "operator",
            OnvifUserType::MediaUser => "mediaUser",
        }
    }
}

fn parse(r: &HttpResponse) -> Option<roxmltree::Document<'_>> {
    let text = std::str::from_utf8(&r.body).ok()?;
    roxmltree::Document::parse(text).ok()
}

fn text_of(doc: &roxmltree::Document<'_>, name: &str) -> Option<String> {
    doc.descendants()
        .find(|n| n.is_element() && n.tag_name().name() == name)
        .map(|n| n.text().unwrap_or_default().trim().to_owned())
}

/// Maps an ISAPI refusal (`ResponseStatus` or `userCheck` body) to a [`VendorError`].
fn refusal(r: &HttpResponse) -> VendorError {
    let doc = parse(r);
    let field = |name: &str| doc.as_ref().and_then(|d| text_of(d, name));
    if field("lockStatus").as_deref() == Some("lock") {
        return VendorRefusal::LockedOut.into();
    }
    let sub = field("subStatusCode").unwrap_or_default();
    let refusal = match (r.status, sub.as_str()) {
        (401, _) => VendorRefusal::NotAuthorized,
        (_, "deviceActivated") => VendorRefusal::AlreadyConfigured,
        (_, "riskPassword") => VendorRefusal::WeakPassword,
        (404, _) => VendorRefusal::NotSupported,
        (status, sub) => VendorRefusal::Rejected {
            status,
            reason: sub.chars().take(64).collect(),
        },
    };
    refusal.into()
}

fn ok_or_refusal(r: &HttpResponse) -> Result<(), VendorError> {
    if (200..300).contains(&r.status) {
        Ok(())
    } else {
        Err(refusal(r))
    }
}

fn hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    let pairs = text.trim().as_bytes().chunks_exact(2);
    if !pairs.remainder().is_empty() {
        return None;
    }
    pairs
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok())
        .collect()
}

fn b64_hex(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(hex(bytes))
}

fn un_b64_hex(text: &str) -> Option<Vec<u8>> {
    let hex_text = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .ok()?;
    unhex(std::str::from_utf8(&hex_text).ok()?)
}

/// Asks, without credentials, whether the camera is activated. `Ok(None)`: no ISAPI here (not a
/// Hikvision camera).
pub async fn activation_status(http: &VendorHttp) -> Result<Option<bool>, VendorError> {
    let r = http
        .send("GET", "/SDK/activateStatus", None, Vec::new())
        .await?;
    if matches!(r.status, 404 | 405) {
        return Ok(None);
    }
    if r.status != 200 {
        return Err(refusal(&r));
    }
    let doc = parse(&r).ok_or_else(|| malformed("activateStatus is not XML"))?;
    match text_of(&doc, "Activated").as_deref() {
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        _ => Err(malformed("activateStatus without Activated")),
    }
}

/// The AES step of activation: Base64 of the hex text of AES-128-ECB(`random_key[..16]` +
/// `password`, zero-padded), keyed with the random key's bytes.
pub fn seal_password(random_key: &str, password: &str) -> Result<String, VendorError> {
    let key = Zeroizing::new(
        unhex(random_key)
            .filter(|k| k.len() == 16)
            .ok_or_else(|| malformed("the camera's random key is not 32 hex characters"))?,
    );
    let prefix = random_key
        .get(..16)
        .ok_or_else(|| malformed("random key too short"))?;
    let mut data = Zeroizing::new(Vec::with_capacity(16 + password.len() + 16));
    data.extend_from_slice(prefix.as_bytes());
    data.extend_from_slice(password.as_bytes());
    let padded = data.len().div_ceil(16) * 16;
    data.resize(padded, 0);
    let cipher = aes::Aes128::new(GenericArray::from_slice(&key));
    for block in data.chunks_mut(16) {
        cipher.encrypt_block(GenericArray::from_mut_slice(block));
    }
    Ok(b64_hex(&data))
}

/// The longest password Hikvision firmware takes at activation (its rule: 8 to 16 characters, two
/// character classes or more).
pub const MAX_PASSWORD_CHARS: usize = 16;

/// Activates an inactive camera: `admin` gets `password`. Refused with
/// [`VendorRefusal::AlreadyConfigured`] once activated, [`VendorRefusal::WeakPassword`] when the
/// password breaks the camera's rule (8 to 16 characters, two character classes or more).
pub async fn activate(http: &VendorHttp, password: &str) -> Result<(), VendorError> {
    // RSA-1024 generation takes tens of milliseconds with the workspace's optimised `rsa` build:
    // short enough to run inline, which keeps this crate free of a runtime dependency.
    let private = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), RSA_BITS)
        .map_err(|e| malformed(format!("could not make an RSA key: {e}")))?;
    let modulus = rsa::traits::PublicKeyParts::n(&private).to_bytes_be();
    let request = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PublicKey><key>{}</key></PublicKey>",
        b64_hex(&modulus)
    );
    let r = http
        .send(
            "POST",
            "/ISAPI/Security/challenge",
            Some("application/xml"),
            request.into_bytes(),
        )
        .await?;
    ok_or_refusal(&r)?;
    let doc = parse(&r).ok_or_else(|| malformed("challenge reply is not XML"))?;
    let sealed = text_of(&doc, "key")
        .and_then(|k| un_b64_hex(&k))
        .ok_or_else(|| malformed("challenge reply without a readable key"))?;
    let random_key = Zeroizing::new(
        private
            .decrypt(rsa::Pkcs1v15Encrypt, &sealed)
            .map_err(|_| malformed("could not decrypt the camera's random key"))?,
    );
    let random_key = std::str::from_utf8(&random_key)
        .map_err(|_| malformed("the camera's random key is not text"))?;
    let sealed_password = seal_password(random_key, password)?;
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ActivateInfo><password>{sealed_password}</password></ActivateInfo>"
    );
    let r = http
        .send(
            "PUT",
            "/ISAPI/System/activate",
            Some("application/xml"),
            body.into_bytes(),
        )
        .await?;
    ok_or_refusal(&r)
}

/// Logs in to ISAPI with the credentials of `http` (see [`VendorHttp::login`]):
/// `GET /ISAPI/Security/userCheck`.
pub async fn verify_login(http: &VendorHttp) -> Result<(), VendorError> {
    let r = http
        .send_authenticated("GET", "/ISAPI/Security/userCheck", None, Vec::new())
        .await?;
    ok_or_refusal(&r)
}

/// Switches the ONVIF service on (`PUT /ISAPI/System/Network/Integrate`), as `admin`.
pub async fn enable_onvif(http: &VendorHttp) -> Result<(), VendorError> {
    let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Integrate version=\"2.0\" \
                xmlns=\"http://www.hikvision.com/ver20/XMLSchema\"><ONVIF><enable>true</enable></ONVIF></Integrate>";
    let r = http
        .send_authenticated(
            "PUT",
            "/ISAPI/System/Network/Integrate",
            Some("application/xml"),
            body.as_bytes().to_vec(),
        )
        .await?;
    ok_or_refusal(&r)
}

/// Resets the camera to its factory settings, as `admin`: `PUT /ISAPI/System/factoryReset`
/// with `mode=full` (everything: network settings and activation; the camera comes back
/// inactive) or `mode=basic` (the network and user settings are kept). It restarts after
/// answering.
pub async fn factory_reset(http: &VendorHttp, full: bool) -> Result<(), VendorError> {
    let mode = if full { "full" } else { "basic" };
    let r = http
        .send_authenticated(
            "PUT",
            &format!("/ISAPI/System/factoryReset?mode={mode}"),
            None,
            Vec::new(),
        )
        .await?;
    ok_or_refusal(&r)
}

/// Creates an ONVIF account (`POST /ISAPI/Security/ONVIF/users`), as `admin`.
pub async fn add_onvif_user(
    http: &VendorHttp,
    user: &str,
    password: &str,
    kind: OnvifUserType,
) -> Result<(), VendorError> {
    let body = Zeroizing::new(format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<User version=\"2.0\" \
         xmlns=\"http://www.hikvision.com/ver20/XMLSchema\"><id>1</id><userName>{}</userName>\
         <password>{}</password><userType>{}</userType></User>",
        quick_xml::escape::escape(user),
        quick_xml::escape::escape(password),
        kind.as_str()
    ));
    let r = http
        .send_authenticated(
            "POST",
            "/ISAPI/Security/ONVIF/users",
            Some("application/xml"),
            body.as_bytes().to_vec(),
        )
        .await?;
    ok_or_refusal(&r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aes::cipher::BlockDecrypt as _;

    #[test]
    fn sealed_password_decrypts_to_prefix_and_password() {
        let random_key = "00112233445566778899aabbccddeeff";
        let sealed = seal_password(random_key, "Pa55word!").expect("valid key");
        let mut data = un_b64_hex(&sealed).expect("base64 of hex");
        assert_eq!(data.len(), 32);
        let key = unhex(random_key).expect("hex");
        let cipher = aes::Aes128::new(GenericArray::from_slice(&key));
        for block in data.chunks_mut(16) {
            cipher.decrypt_block(GenericArray::from_mut_slice(block));
        }
        assert_eq!(&data[..16], b"0011223344556677");
        assert_eq!(&data[16..25], b"Pa55word!");
        assert!(data[25..].iter().all(|b| *b == 0));
    }

    #[test]
    fn refusals_map_from_isapi_bodies() {
        let reply = |status, body: &str| HttpResponse {
            status,
            headers: Vec::new(),
            body: body.as_bytes().to_vec().into(),
        };
        let locked = reply(
            401,
            "<userCheck><statusValue>401</statusValue><lockStatus>lock</lockStatus></userCheck>",
        );
        assert!(matches!(
            refusal(&locked),
            VendorError::Refused(VendorRefusal::LockedOut)
        ));
        let again = reply(403, "<ResponseStatus><statusCode>4</statusCode><subStatusCode>deviceActivated</subStatusCode></ResponseStatus>");
        assert!(matches!(
            refusal(&again),
            VendorError::Refused(VendorRefusal::AlreadyConfigured)
        ));
        let weak = reply(
            400,
            "<ResponseStatus><subStatusCode>riskPassword</subStatusCode></ResponseStatus>",
        );
        assert!(matches!(
            refusal(&weak),
            VendorError::Refused(VendorRefusal::WeakPassword)
        ));
    }
}
