//! Axis VAPIX first boot: the root password (VAPIX "User management API", `pwdgrp.cgi`).
//!
//! Out of the box an Axis camera's root account has no password, and `pwdgrp.cgi` takes
//! `action=add&user=root&pwd=...&grp=root&sgrp=admin:operator:viewer:ptz` without credentials
//! while that is so. Camward sends the parameters as a POST form body (VAPIX CGIs accept both the
//! query string and a form body) so the password never appears in a URL or an access log. From
//! then on every VAPIX request needs HTTP Digest.
//!
//! Axis keeps ONVIF accounts apart from VAPIX ones; creating the ONVIF account afterwards is an
//! ONVIF CreateUsers call made with root's credentials (see `camward-core`'s first boot).
use camward_onvif::transport::HttpResponse;

use crate::error::malformed;
use crate::{VendorError, VendorHttp, VendorRefusal};

/// The user management CGI.
pub const PWDGRP: &str = "/axis-cgi/pwdgrp.cgi";
/// The built-in administrator.
pub const ROOT: &str = "root";

/// Whether root has a password yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RootPassword {
    /// Factory state: root has no password; `pwdgrp.cgi` answers without credentials.
    Unset,
    /// Root has a password; VAPIX asks for Digest.
    Set,
}

fn body_text(r: &HttpResponse) -> String {
    String::from_utf8_lossy(&r.body).trim().to_owned()
}

/// Maps a VAPIX refusal to a [`VendorError`]; the first line of the body is the reason.
fn refusal(r: &HttpResponse) -> VendorError {
    let text = body_text(r);
    let refusal = match r.status {
        401 => VendorRefusal::NotAuthorized,
        // AXIS OS brute-force protection answers 403 and names the block.
        403 if text.to_ascii_lowercase().contains("blocked") => VendorRefusal::LockedOut,
        404 => VendorRefusal::NotSupported,
        status => VendorRefusal::Rejected {
            status,
            reason: text
                .lines()
                .next()
                .unwrap_or_default()
                .chars()
                .take(120)
                .collect(),
        },
    };
    refusal.into()
}

/// Asks, without credentials, whether root has a password. `Ok(None)`: no VAPIX here (not an
/// Axis camera).
pub async fn root_password(http: &VendorHttp) -> Result<Option<RootPassword>, VendorError> {
    let r = http
        .send("GET", &format!("{PWDGRP}?action=get"), None, Vec::new())
        .await?;
    match r.status {
        // The group listing (`admin="..."`) is what marks a VAPIX answer; any other 200 is some
        // other web server.
        200 if body_text(&r).contains("admin=\"") => Ok(Some(RootPassword::Unset)),
        200 => Ok(None),
        401 if r.header_values("www-authenticate").next().is_some() => Ok(Some(RootPassword::Set)),
        404 | 405 => Ok(None),
        _ => Err(refusal(&r)),
    }
}

/// Sets root's password on a factory-fresh camera (no credentials: only possible while unset).
/// Refused with [`VendorRefusal::AlreadyConfigured`] when root already has a password.
pub async fn set_root_password(http: &VendorHttp, password: &str) -> Result<(), VendorError> {
    let form = zeroize::Zeroizing::new(
        form_urlencoded::Serializer::new(String::new())
            .append_pair("action", "add")
            .append_pair("user", ROOT)
            .append_pair("pwd", password)
            .append_pair("grp", "root")
            .append_pair("sgrp", "admin:operator:viewer:ptz")
            .finish(),
    );
    let r = http
        .send(
            "POST",
            PWDGRP,
            Some("application/x-www-form-urlencoded"),
            form.as_bytes().to_vec(),
        )
        .await?;
    match r.status {
        200 if body_text(&r).starts_with("Created account") => Ok(()),
        200 => Err(malformed(
            "pwdgrp.cgi answered 200 without creating the account",
        )),
        // Digest is asked for once root has a password: the unauthenticated path is closed.
        401 => Err(VendorRefusal::AlreadyConfigured.into()),
        _ => Err(refusal(&r)),
    }
}

/// Logs in to VAPIX with the credentials of `http` (see [`VendorHttp::login`]) and reads the
/// group listing: proof that the account works.
pub async fn verify_login(http: &VendorHttp) -> Result<(), VendorError> {
    let r = http
        .send_authenticated("GET", &format!("{PWDGRP}?action=get"), None, Vec::new())
        .await?;
    match r.status {
        200 => Ok(()),
        _ => Err(refusal(&r)),
    }
}

/// VAPIX parameter management.
pub const PARAM: &str = "/axis-cgi/param.cgi";

/// The parameter that turns the camera's mDNS (Bonjour) announcements on and off.
pub const BONJOUR: &str = "Network.Bonjour.Enabled";

/// Whether the camera announces itself over mDNS (`Network.Bonjour.Enabled`), read as the
/// logged-in user.
pub async fn mdns_enabled(http: &VendorHttp) -> Result<bool, VendorError> {
    let target = format!("{PARAM}?action=list&group=Network.Bonjour");
    let r = http
        .send_authenticated("GET", &target, None, Vec::new())
        .await?;
    if r.status != 200 {
        return Err(refusal(&r));
    }
    let body = body_text(&r);
    let value = body
        .lines()
        .find_map(|l| l.strip_prefix(&format!("root.{BONJOUR}=")))
        .map(str::trim);
    match value {
        Some("yes") => Ok(true),
        Some("no") => Ok(false),
        _ => Err(malformed("param.cgi did not list Network.Bonjour.Enabled")),
    }
}

/// Turns the camera's mDNS announcements on or off (an administrator's change: hardening control
/// `mdns-off`). AXIS OS answers `OK`, or a `# Error:` line with status 200.
pub async fn set_mdns(http: &VendorHttp, enabled: bool) -> Result<(), VendorError> {
    let value = if enabled { "yes" } else { "no" };
    let target = format!("{PARAM}?action=update&{BONJOUR}={value}");
    let r = http
        .send_authenticated("GET", &target, None, Vec::new())
        .await?;
    match r.status {
        200 if body_text(&r).trim() == "OK" => Ok(()),
        200 => Err(malformed("param.cgi refused the Bonjour update")),
        _ => Err(refusal(&r)),
    }
}

/// VAPIX factory default that keeps the network settings (IP address, subnet, gateway).
pub const FACTORY_DEFAULT: &str = "/axis-cgi/factorydefault.cgi";

/// VAPIX factory default of everything, the network settings included.
pub const HARD_FACTORY_DEFAULT: &str = "/axis-cgi/hardfactorydefault.cgi";

/// Resets the camera to its factory settings as an administrator (VAPIX "Factory default"):
/// `hard` wipes the network settings too (`hardfactorydefault.cgi`), otherwise they are kept
/// (`factorydefault.cgi`). The camera restarts after answering.
pub async fn factory_default(http: &VendorHttp, hard: bool) -> Result<(), VendorError> {
    let target = if hard {
        HARD_FACTORY_DEFAULT
    } else {
        FACTORY_DEFAULT
    };
    let r = http
        .send_authenticated("GET", target, None, Vec::new())
        .await?;
    match r.status {
        200 if !body_text(&r).starts_with("# Error") => Ok(()),
        200 => Err(malformed("the factory default was refused")),
        _ => Err(refusal(&r)),
    }
}
