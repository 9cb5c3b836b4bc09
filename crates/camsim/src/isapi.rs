//! Hikvision ISAPI, the part first boot needs: activation, ISAPI login, enabling ONVIF and its
//! users.
//!
//! Glossary: *activation* sets the password of the built-in `admin` account of an inactive camera;
//! the *random key* is the 32-hex-character secret the camera sends encrypted to the client's RSA
//! key, from which the AES key is derived; *Integrate* is the ISAPI resource that switches
//! third-party protocols (ONVIF, CGI) on and off.
//!
//! Flow modelled (ISAPI "Intelligent Security API (General Application) Developer Guide",
//! activation and security chapters, and the behaviour of Hikvision's web client):
//! 1. `GET /SDK/activateStatus`, no credentials → `<ActivateStatus><Activated>false</Activated>`.
//! 2. `POST /ISAPI/Security/challenge` with `<PublicKey><key>K</key></PublicKey>`, where K is
//!    Base64 of the hex text of the client's RSA modulus (public exponent 65537). The camera
//!    answers `<Challenge><key>C</key></Challenge>`, C being Base64 of the hex text of the
//!    RSA PKCS#1 v1.5 encryption of a fresh random key (32 hex characters).
//! 3. `PUT /ISAPI/System/activate` with `<ActivateInfo><password>P</password></ActivateInfo>`:
//!    P is Base64 of the hex text of AES-128-ECB (key = the random key's 16 bytes, hex-decoded)
//!    over the first 16 characters of the random key followed by the password, zero-padded to the
//!    block size. The camera checks the prefix, applies its password rule (8 to 16 characters,
//!    at least two of: digits, lower case, upper case, symbols; not containing the user name) and
//!    activates. The random key is single-use and expires after [`CHALLENGE_LIFETIME`].
//! 4. Afterwards every `/ISAPI/` request needs HTTP Digest (MD5) as `admin`; activation and the
//!    challenge are refused (`statusCode` 4 / `subStatusCode` `deviceActivated`).
//! 5. ONVIF is off until `PUT /ISAPI/System/Network/Integrate` sets `ONVIF/enable` true; its
//!    accounts are managed with `POST /ISAPI/Security/ONVIF/users` and are the camera's ONVIF user
//!    list, separate from the ISAPI accounts.
//! - Repeated failed logins lock the client address ("illegal login lock"): 401 with a `userCheck`
//!   body whose `lockStatus` is `lock` and `unlockTime` the seconds left.
//!
//! Details the guide leaves to the client library (the Base64-of-hex encodings, PKCS#1 v1.5) follow
//! Hikvision's web client; camsim and Camward's driver agree on them.

use std::time::{Duration, Instant};

use aes::cipher::{generic_array::GenericArray, BlockDecrypt as _, KeyInit as _};
use base64::Engine as _;
use rand::Rng as _;

use crate::access::UserLevel;
use crate::auth::Algorithm;
use crate::state::{CameraState, User};
use crate::vendor::{
    digest_gate, hex, unhex, Gate, PendingActivation, VendorReply, VendorRequest, VendorRuntime,
};

/// How long a random key from `/ISAPI/Security/challenge` may be used.
pub const CHALLENGE_LIFETIME: Duration = Duration::from_secs(60);
/// The built-in administrator of a Hikvision camera.
pub const ADMIN: &str = "admin";
/// ISAPI Digest is MD5 on Hikvision firmware.
const ALGORITHMS: &[Algorithm] = &[Algorithm::Md5];
const XMLNS: &str = "http://www.hikvision.com/ver20/XMLSchema";
const MAX_ISAPI_BODY_NODES: u32 = 2_000;

fn xml(status: u16, body: String) -> VendorReply {
    VendorReply::new(
        status,
        "application/xml",
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{body}"),
    )
}

/// `ResponseStatus` (ISAPI: statusCode 1 OK, 4 invalid operation, 5 invalid XML format, 6 invalid
/// XML content).
fn status(http: u16, path: &str, code: u8, sub: &str) -> VendorReply {
    let text = match code {
        1 => "OK",
        4 => "Invalid Operation",
        5 => "Invalid XML Format",
        6 => "Invalid XML Content",
        _ => "Error",
    };
    xml(
        http,
        format!(
            "<ResponseStatus version=\"2.0\" xmlns=\"{XMLNS}\"><requestURL>{}</requestURL>\
             <statusCode>{code}</statusCode><statusString>{text}</statusString>\
             <subStatusCode>{sub}</subStatusCode></ResponseStatus>",
            quick_xml::escape::escape(path)
        ),
    )
}

fn user_check(http: u16, locked: Option<Duration>) -> VendorReply {
    let (value, string) = if http == 200 {
        (200, "OK")
    } else {
        (401, "Unauthorized")
    };
    let lock = match locked {
        Some(left) => format!(
            "<lockStatus>lock</lockStatus><unlockTime>{}</unlockTime>",
            left.as_secs().max(1)
        ),
        None => "<lockStatus>unlock</lockStatus>".to_owned(),
    };
    xml(
        http,
        format!(
            "<userCheck version=\"2.0\" xmlns=\"{XMLNS}\"><statusValue>{value}</statusValue>\
             <statusString>{string}</statusString>{lock}</userCheck>"
        ),
    )
}

/// The text of the first element named `name` (any namespace) under `root`.
fn field(doc: &roxmltree::Document<'_>, path: &[&str]) -> Option<String> {
    let mut node = doc.root_element();
    if node.tag_name().name() != path[0] {
        return None;
    }
    for name in &path[1..] {
        node = node
            .children()
            .find(|n| n.is_element() && n.tag_name().name() == *name)?;
    }
    Some(node.text().unwrap_or_default().trim().to_owned())
}

fn parse(body: &[u8]) -> Option<roxmltree::Document<'_>> {
    let text = std::str::from_utf8(body).ok()?;
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_ISAPI_BODY_NODES,
        ..Default::default()
    };
    roxmltree::Document::parse_with_options(text, options).ok()
}

/// Hikvision's password rule for activation and accounts.
pub fn password_acceptable(user: &str, password: &str) -> bool {
    let len = password.chars().count();
    let classes = [
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_uppercase()),
        password
            .chars()
            .any(|c| c.is_ascii_punctuation() || c == ' '),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    (8..=16).contains(&len)
        && classes >= 2
        && password.is_ascii()
        && !password
            .to_ascii_lowercase()
            .contains(&user.to_ascii_lowercase())
}

/// Answers one request under `/SDK/` or `/ISAPI/`.
pub fn handle(
    state: &mut CameraState,
    rt: &mut VendorRuntime,
    req: &VendorRequest<'_>,
) -> VendorReply {
    match (req.method, req.path) {
        ("GET", "/SDK/activateStatus") => {
            return xml(
                200,
                format!(
                    "<ActivateStatus version=\"2.0\" xmlns=\"{XMLNS}\"><Activated>{}</Activated></ActivateStatus>",
                    state.vendor.activated
                ),
            )
        }
        ("POST", "/ISAPI/Security/challenge") if !state.vendor.activated => {
            return challenge(rt, req)
        }
        ("PUT", "/ISAPI/System/activate") if !state.vendor.activated => {
            return activate(state, rt, req)
        }
        ("POST", "/ISAPI/Security/challenge") | ("PUT", "/ISAPI/System/activate") => {
            return status(403, req.path, 4, "deviceActivated")
        }
        _ => {}
    }
    if !state.vendor.activated {
        return status(403, req.path, 4, "notActivated");
    }
    match digest_gate(rt, req, &state.vendor.isapi_users, ALGORITHMS) {
        Gate::Allowed(_) => {}
        Gate::Locked(left) => return user_check(401, Some(left)),
        Gate::Refused(challenge) => {
            let mut reply = user_check(401, None);
            reply.headers = challenge.headers;
            return reply;
        }
    }
    match (req.method, req.path) {
        ("GET", "/ISAPI/Security/userCheck") => user_check(200, None),
        ("GET", "/ISAPI/System/Network/Integrate") => integrate_xml(state),
        ("PUT", "/ISAPI/System/Network/Integrate") => {
            let Some(doc) = parse(req.body) else {
                return status(400, req.path, 5, "badXmlFormat");
            };
            match field(&doc, &["Integrate", "ONVIF", "enable"]).as_deref() {
                Some("true") => state.vendor.onvif_enabled = true,
                Some("false") => state.vendor.onvif_enabled = false,
                Some(_) => return status(400, req.path, 6, "badParameters"),
                None => {}
            }
            status(200, req.path, 1, "ok").changed()
        }
        // ISAPI "factoryReset": mode=full resets everything (network settings, activation),
        // mode=basic keeps the network and user settings; the camera restarts either way.
        ("PUT", "/ISAPI/System/factoryReset") => {
            let mode = req
                .query
                .split('&')
                .find_map(|kv| kv.strip_prefix("mode="))
                .unwrap_or("basic");
            match mode {
                "full" => status(200, req.path, 1, "ok").resets(true),
                "basic" => status(200, req.path, 1, "ok").resets(false),
                _ => status(400, req.path, 6, "badParameters"),
            }
        }
        ("GET", "/ISAPI/Security/ONVIF/users") => onvif_users_xml(state),
        ("POST", "/ISAPI/Security/ONVIF/users") => add_onvif_user(state, req),
        _ => status(404, req.path, 4, "notSupport"),
    }
}

fn challenge(rt: &mut VendorRuntime, req: &VendorRequest<'_>) -> VendorReply {
    let Some(doc) = parse(req.body) else {
        return status(400, req.path, 5, "badXmlFormat");
    };
    let modulus = field(&doc, &["PublicKey", "key"])
        .and_then(|k| base64::engine::general_purpose::STANDARD.decode(k).ok())
        .and_then(|h| String::from_utf8(h).ok())
        .and_then(|h| unhex(&h));
    let Some(modulus) = modulus.filter(|m| (128..=512).contains(&m.len())) else {
        return status(400, req.path, 6, "badParameters");
    };
    let Ok(key) = rsa::RsaPublicKey::new(
        rsa::BigUint::from_bytes_be(&modulus),
        rsa::BigUint::from(65_537u32),
    ) else {
        return status(400, req.path, 6, "badParameters");
    };
    let mut rng = rand::thread_rng();
    let random_key = hex(&rng.gen::<[u8; 16]>());
    let Ok(sealed) = key.encrypt(&mut rng, rsa::Pkcs1v15Encrypt, random_key.as_bytes()) else {
        return status(400, req.path, 6, "badParameters");
    };
    rt.activation = Some(PendingActivation {
        random_key,
        issued: Instant::now(),
    });
    let b64 = base64::engine::general_purpose::STANDARD.encode(hex(&sealed));
    xml(
        200,
        format!("<Challenge version=\"2.0\" xmlns=\"{XMLNS}\"><key>{b64}</key></Challenge>"),
    )
}

fn activate(
    state: &mut CameraState,
    rt: &mut VendorRuntime,
    req: &VendorRequest<'_>,
) -> VendorReply {
    // The random key is single-use: a failed attempt needs a new challenge.
    let Some(pending) = rt
        .activation
        .take()
        .filter(|p| p.issued.elapsed() < CHALLENGE_LIFETIME)
    else {
        return status(403, req.path, 4, "challengeRequired");
    };
    let Some(doc) = parse(req.body) else {
        return status(400, req.path, 5, "badXmlFormat");
    };
    let sealed = field(&doc, &["ActivateInfo", "password"])
        .and_then(|p| base64::engine::general_purpose::STANDARD.decode(p).ok())
        .and_then(|h| String::from_utf8(h).ok())
        .and_then(|h| unhex(&h))
        .filter(|c| !c.is_empty() && c.len() % 16 == 0);
    let (Some(mut data), Some(key)) = (sealed, unhex(&pending.random_key)) else {
        return status(400, req.path, 6, "badParameters");
    };
    let cipher = aes::Aes128::new(GenericArray::from_slice(&key));
    for block in data.chunks_mut(16) {
        cipher.decrypt_block(GenericArray::from_mut_slice(block));
    }
    while data.last() == Some(&0) {
        data.pop();
    }
    let prefix = &pending.random_key.as_bytes()[..16];
    let password = match data.strip_prefix(prefix).map(std::str::from_utf8) {
        Some(Ok(p)) => p.to_owned(),
        _ => return status(400, req.path, 6, "badParameters"),
    };
    if !password_acceptable(ADMIN, &password) {
        return status(400, req.path, 6, "riskPassword");
    }
    state.vendor.activated = true;
    state.vendor.isapi_users = vec![User {
        name: ADMIN.into(),
        password,
        level: UserLevel::Administrator,
    }];
    status(200, req.path, 1, "ok").changed()
}

fn integrate_xml(state: &CameraState) -> VendorReply {
    xml(
        200,
        format!(
            "<Integrate version=\"2.0\" xmlns=\"{XMLNS}\"><CGI><enable>false</enable></CGI>\
             <ONVIF><enable>{}</enable></ONVIF><ISAPI><enable>true</enable></ISAPI></Integrate>",
            state.vendor.onvif_enabled
        ),
    )
}

fn user_type(level: UserLevel) -> &'static str {
    match level {
        UserLevel::Administrator => "administrator",
        UserLevel::Operator => "operator",
        UserLevel::User | UserLevel::Anonymous => "mediaUser",
    }
}

fn onvif_users_xml(state: &CameraState) -> VendorReply {
    let users: String = state
        .users
        .iter()
        .enumerate()
        .map(|(i, u)| {
            format!(
                "<User><id>{}</id><userName>{}</userName><userType>{}</userType></User>",
                i + 1,
                quick_xml::escape::escape(u.name.as_str()),
                user_type(u.level)
            )
        })
        .collect();
    xml(
        200,
        format!("<UserList version=\"2.0\" xmlns=\"{XMLNS}\">{users}</UserList>"),
    )
}

fn add_onvif_user(state: &mut CameraState, req: &VendorRequest<'_>) -> VendorReply {
    let Some(doc) = parse(req.body) else {
        return status(400, req.path, 5, "badXmlFormat");
    };
    let (Some(name), Some(password), Some(kind)) = (
        field(&doc, &["User", "userName"]),
        field(&doc, &["User", "password"]),
        field(&doc, &["User", "userType"]),
    ) else {
        return status(400, req.path, 6, "badParameters");
    };
    let level = match kind.as_str() {
        "administrator" => UserLevel::Administrator,
        "operator" => UserLevel::Operator,
        "mediaUser" => UserLevel::User,
        _ => return status(400, req.path, 6, "badParameters"),
    };
    if name.is_empty() || name.len() > 32 || state.users.iter().any(|u| u.name == name) {
        return status(400, req.path, 6, "userNameExist");
    }
    if !password_acceptable(&name, &password) {
        return status(400, req.path, 6, "riskPassword");
    }
    state.users.push(User {
        name,
        password,
        level,
    });
    status(200, req.path, 1, "ok").changed()
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use aes::cipher::BlockEncrypt as _;
    use rsa::traits::PublicKeyParts as _;

    use super::*;

    fn request<'a>(method: &'a str, path: &'a str, body: &'a [u8]) -> VendorRequest<'a> {
        VendorRequest {
            method,
            path,
            query: "",
            target: path,
            authorization: None,
            body,
            peer: IpAddr::from([127, 0, 0, 1]),
        }
    }

    fn fresh() -> (CameraState, VendorRuntime) {
        (
            CameraState::factory(0, "02:ca:5e:00:00:01", 80, 443),
            VendorRuntime::new(Duration::from_secs(300), 5, Duration::from_secs(30)),
        )
    }

    fn b64(text: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(text)
    }

    /// Runs the key exchange as a client would and returns the random key the camera sent.
    fn challenge_key(state: &mut CameraState, rt: &mut VendorRuntime) -> String {
        let private =
            rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 1024).expect("key generation");
        let body = format!(
            "<PublicKey><key>{}</key></PublicKey>",
            b64(&hex(&private.n().to_bytes_be()))
        );
        let reply = handle(
            state,
            rt,
            &request("POST", "/ISAPI/Security/challenge", body.as_bytes()),
        );
        assert_eq!(reply.status, 200, "{}", reply.body);
        let doc = roxmltree::Document::parse(&reply.body).expect("XML");
        let key = doc
            .descendants()
            .find(|n| n.has_tag_name("key"))
            .and_then(|n| n.text())
            .expect("key element");
        let hex_text = base64::engine::general_purpose::STANDARD
            .decode(key)
            .expect("base64");
        let sealed = unhex(std::str::from_utf8(&hex_text).expect("hex text")).expect("hex");
        let plain = private
            .decrypt(rsa::Pkcs1v15Encrypt, &sealed)
            .expect("decrypts");
        String::from_utf8(plain).expect("text")
    }

    fn activation_body(random_key: &str, password: &str) -> String {
        let mut data = format!("{}{password}", &random_key[..16]).into_bytes();
        data.resize(data.len().div_ceil(16) * 16, 0);
        let key = unhex(random_key).expect("hex key");
        let cipher = aes::Aes128::new(GenericArray::from_slice(&key));
        for block in data.chunks_mut(16) {
            cipher.encrypt_block(GenericArray::from_mut_slice(block));
        }
        format!(
            "<ActivateInfo><password>{}</password></ActivateInfo>",
            b64(&hex(&data))
        )
    }

    #[test]
    fn activation_with_the_exchanged_key_sets_admin() {
        let (mut state, mut rt) = fresh();
        let key = challenge_key(&mut state, &mut rt);
        assert_eq!(key.len(), 32);
        let body = activation_body(&key, "Good-pass-42");
        let reply = handle(
            &mut state,
            &mut rt,
            &request("PUT", "/ISAPI/System/activate", body.as_bytes()),
        );
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert!(reply.changed);
        assert!(state.vendor.activated);
        assert_eq!(state.vendor.isapi_users[0].name, ADMIN);
        assert_eq!(state.vendor.isapi_users[0].password, "Good-pass-42");
        // Activation cannot be repeated.
        let again = handle(
            &mut state,
            &mut rt,
            &request("PUT", "/ISAPI/System/activate", body.as_bytes()),
        );
        assert_eq!(again.status, 403);
        assert!(again.body.contains("deviceActivated"));
    }

    #[test]
    fn the_random_key_is_single_use_and_must_match() {
        let (mut state, mut rt) = fresh();
        let key = challenge_key(&mut state, &mut rt);
        // Sealed with another key: the prefix does not match, and the exchange is spent.
        let wrong = activation_body("00112233445566778899aabbccddeeff", "Good-pass-42");
        let reply = handle(
            &mut state,
            &mut rt,
            &request("PUT", "/ISAPI/System/activate", wrong.as_bytes()),
        );
        assert_eq!(reply.status, 400);
        let right = activation_body(&key, "Good-pass-42");
        let reply = handle(
            &mut state,
            &mut rt,
            &request("PUT", "/ISAPI/System/activate", right.as_bytes()),
        );
        assert_eq!(reply.status, 403);
        assert!(reply.body.contains("challengeRequired"));
        assert!(!state.vendor.activated);
    }

    #[test]
    fn password_rule_follows_the_firmware() {
        assert!(password_acceptable(ADMIN, "Good-pass-42"));
        assert!(password_acceptable(ADMIN, "abcdefg1"));
        assert!(!password_acceptable(ADMIN, "abcdefgh"));
        assert!(!password_acceptable(ADMIN, "Ab1"));
        assert!(!password_acceptable(ADMIN, "Abcdefgh12345678X"));
        assert!(!password_acceptable(ADMIN, "myAdmin-pass1"));
    }

    #[test]
    fn nothing_but_status_and_activation_before_activation() {
        let (mut state, mut rt) = fresh();
        let status_reply = handle(
            &mut state,
            &mut rt,
            &request("GET", "/SDK/activateStatus", b""),
        );
        assert!(status_reply.body.contains("<Activated>false</Activated>"));
        let reply = handle(
            &mut state,
            &mut rt,
            &request("GET", "/ISAPI/Security/userCheck", b""),
        );
        assert_eq!(reply.status, 403);
        assert!(reply.body.contains("notActivated"));
    }
}
