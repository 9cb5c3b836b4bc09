//! Axis VAPIX, the part first boot needs: `/axis-cgi/pwdgrp.cgi` (VAPIX "User management API").
//!
//! Glossary: *root* is the built-in Axis administrator; *grp* is the primary group (`root` for
//! root, `users` for others); *sgrp* the colon-separated security groups `admin`, `operator`,
//! `viewer`, `ptz`.
//!
//! Behaviour modelled (VAPIX User management API, `pwdgrp.cgi`; AXIS OS first-access flow):
//! - Out of the box root has no password. While it is unset, `action=add&user=root&pwd=...&grp=root
//!   &sgrp=admin:operator:viewer:ptz` is accepted *without credentials* and answers
//!   `Created account root.`; `action=get` also answers without credentials (Camward uses it to
//!   tell a factory Axis from a configured one). Any other request is refused with 403 because
//!   no account exists to log in with.
//! - Parameters may come in the query string or, with POST, as an
//!   `application/x-www-form-urlencoded` body; VAPIX CGIs accept both, and the body keeps the
//!   password out of URLs and access logs.
//! - Once root has a password, every VAPIX request needs HTTP Digest (RFC 7616) against the VAPIX
//!   accounts, and only `admin` members may manage accounts. Adding root again is an error.
//! - Repeated failed logins block the client address (AXIS OS brute-force delay protection);
//!   a blocked address gets 403 with `blocked` in the body until the block expires.
//! - The ONVIF user list is separate and starts empty. While it is empty, the ONVIF service accepts
//!   a VAPIX administrator's Digest credentials, so the first ONVIF account can be created with
//!   ONVIF CreateUsers (on a real Axis the web UI does this step); see `server.rs`.
//! - `/axis-cgi/param.cgi` (VAPIX "Parameter management") knows one parameter,
//!   `Network.Bonjour.Enabled` (`yes` / `no`): whether the camera announces itself over mDNS
//!   ([`crate::mdns`]). Anyone logged in may list it; only administrators may update it.

use crate::access::UserLevel;
use crate::auth::Algorithm;
use crate::state::{CameraState, User};
use crate::vendor::{digest_gate, Gate, VendorReply, VendorRequest, VendorRuntime};

/// The path of the user management CGI.
pub const PWDGRP: &str = "/axis-cgi/pwdgrp.cgi";
/// The path of the parameter CGI (VAPIX "Parameter management"); camsim has one parameter,
/// [`BONJOUR`].
pub const PARAM: &str = "/axis-cgi/param.cgi";
/// VAPIX factory default that keeps the network settings.
pub const FACTORY_DEFAULT: &str = "/axis-cgi/factorydefault.cgi";
/// VAPIX factory default of everything, network settings included.
pub const HARD_FACTORY_DEFAULT: &str = "/axis-cgi/hardfactorydefault.cgi";
/// Whether the camera announces itself over mDNS (`yes` / `no`): [`CameraState::mdns`].
pub const BONJOUR: &str = "Network.Bonjour.Enabled";
/// Digest algorithms the VAPIX service offers (AXIS OS offers SHA-256 and MD5).
const ALGORITHMS: &[Algorithm] = &[Algorithm::Sha256, Algorithm::Md5];
/// Longest password pwdgrp.cgi accepts.
const MAX_PASSWORD: usize = 64;

fn text(status: u16, body: impl Into<String>) -> VendorReply {
    VendorReply::new(status, "text/plain", body)
}

fn params(req: &VendorRequest<'_>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = form_urlencoded::parse(req.query.as_bytes())
        .into_owned()
        .collect();
    if req.method == "POST" {
        out.extend(form_urlencoded::parse(req.body).into_owned());
    }
    out
}

fn level_of(sgrp: &str) -> Option<UserLevel> {
    let groups: Vec<&str> = sgrp.split(':').collect();
    if groups.contains(&"admin") {
        Some(UserLevel::Administrator)
    } else if groups.contains(&"operator") {
        Some(UserLevel::Operator)
    } else if groups.contains(&"viewer") {
        Some(UserLevel::User)
    } else {
        None
    }
}

fn group_listing(users: &[User]) -> String {
    let members = |pred: &dyn Fn(UserLevel) -> bool| {
        users
            .iter()
            .filter(|u| pred(u.level))
            .map(|u| u.name.as_str())
            .collect::<Vec<_>>()
            .join(",")
    };
    format!(
        "admin=\"{}\"\noperator=\"{}\"\nviewer=\"{}\"\ndigusers=\"{}\"\n",
        members(&|l| l == UserLevel::Administrator),
        members(&|l| l <= UserLevel::Operator),
        members(&|l| l <= UserLevel::User),
        members(&|_| true),
    )
}

/// Answers one request under `/axis-cgi/`.
pub fn handle(
    state: &mut CameraState,
    rt: &mut VendorRuntime,
    req: &VendorRequest<'_>,
) -> VendorReply {
    if !matches!(req.method, "GET" | "POST") {
        return text(405, "Method not allowed");
    }
    let root_set = state.vendor.vapix_users.iter().any(|u| u.name == "root");
    if !root_set {
        return factory(state, req);
    }
    let user = match digest_gate(rt, req, &state.vendor.vapix_users, ALGORITHMS) {
        Gate::Allowed(user) => user,
        Gate::Refused(reply) => return reply,
        Gate::Locked(left) => {
            return text(
                403,
                format!(
                    "Access blocked after repeated failed logins; retry in {} s",
                    left.as_secs().max(1)
                ),
            )
        }
    };
    let level = state
        .vendor
        .vapix_users
        .iter()
        .find(|u| u.name == user)
        .map(|u| u.level)
        .unwrap_or(UserLevel::Anonymous);
    if req.path == PARAM {
        return param(state, level, req);
    }
    if req.path == HARD_FACTORY_DEFAULT || req.path == FACTORY_DEFAULT {
        // VAPIX "Factory default": `factorydefault.cgi` keeps the network settings,
        // `hardfactorydefault.cgi` resets everything; either restarts the camera.
        if level != UserLevel::Administrator {
            return text(403, "Error: only administrators may reset the camera");
        }
        return text(200, "OK").resets(req.path == HARD_FACTORY_DEFAULT);
    }
    if req.path != PWDGRP {
        return text(404, "Not found");
    }
    let p = params(req);
    let get = |k: &str| p.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    match get("action") {
        Some("get") => text(200, group_listing(&state.vendor.vapix_users)),
        Some("add" | "update" | "remove") if level != UserLevel::Administrator => {
            text(403, "Error: only administrators may manage accounts")
        }
        Some("add") => {
            let (Some(name), Some(pwd), Some(level)) =
                (get("user"), get("pwd"), get("sgrp").and_then(level_of))
            else {
                return text(400, "Error: user, pwd and sgrp are required");
            };
            if state.vendor.vapix_users.iter().any(|u| u.name == name) {
                return text(400, "Error: this user name already exists");
            }
            if pwd.is_empty() || pwd.len() > MAX_PASSWORD {
                return text(400, "Error: invalid password");
            }
            state.vendor.vapix_users.push(User {
                name: name.to_owned(),
                password: pwd.to_owned(),
                level,
            });
            text(200, format!("Created account {name}.")).changed()
        }
        Some("update") => {
            let (Some(name), Some(pwd)) = (get("user"), get("pwd")) else {
                return text(400, "Error: user and pwd are required");
            };
            if pwd.is_empty() || pwd.len() > MAX_PASSWORD {
                return text(400, "Error: invalid password");
            }
            match state.vendor.vapix_users.iter_mut().find(|u| u.name == name) {
                Some(u) => {
                    u.password = pwd.to_owned();
                    text(200, format!("Modified account {name}.")).changed()
                }
                None => text(400, "Error: no such account"),
            }
        }
        Some("remove") => {
            let Some(name) = get("user") else {
                return text(400, "Error: user is required");
            };
            if name == "root" {
                return text(400, "Error: root cannot be removed");
            }
            let before = state.vendor.vapix_users.len();
            state.vendor.vapix_users.retain(|u| u.name != name);
            if state.vendor.vapix_users.len() == before {
                return text(400, "Error: no such account");
            }
            text(200, format!("Removed account {name}.")).changed()
        }
        _ => text(400, "Error: unknown action"),
    }
}

/// `param.cgi`: `action=list[&group=…]` and, for administrators, `action=update&<name>=<value>`;
/// names with or without the `root.` prefix. Errors are a `# Error:` line with status 200, as
/// AXIS OS answers.
fn param(state: &mut CameraState, level: UserLevel, req: &VendorRequest<'_>) -> VendorReply {
    let p = params(req);
    let bare = |name: &str| name.strip_prefix("root.").unwrap_or(name).to_owned();
    let yes_no = |on: bool| if on { "yes" } else { "no" };
    match p
        .iter()
        .find(|(k, _)| k == "action")
        .map(|(_, v)| v.as_str())
    {
        Some("list") => {
            let group = p.iter().find(|(k, _)| k == "group").map(|(_, v)| bare(v));
            if group.is_some_and(|g| !g.is_empty() && !BONJOUR.starts_with(&g)) {
                return text(200, "# Error: Error -1 getting param in group\n");
            }
            text(200, format!("root.{BONJOUR}={}\n", yes_no(state.mdns)))
        }
        Some("update") if level != UserLevel::Administrator => {
            text(403, "Error: only administrators may change parameters")
        }
        Some("update") => {
            let mut value = None;
            for (name, v) in p.iter().filter(|(k, _)| k != "action") {
                value = match (bare(name) == BONJOUR, v.as_str()) {
                    (true, "yes") => Some(true),
                    (true, "no") => Some(false),
                    _ => return text(200, format!("# Error: Error setting '{name}' to '{v}'!")),
                };
            }
            let Some(on) = value else {
                return text(200, "# Error: No parameter to update");
            };
            state.mdns = on;
            text(200, "OK").changed()
        }
        _ => text(200, "# Error: unknown action"),
    }
}

/// The factory state: only setting root's password (and listing the groups) is possible.
fn factory(state: &mut CameraState, req: &VendorRequest<'_>) -> VendorReply {
    if req.path != PWDGRP {
        return text(403, "Set the root password first");
    }
    let p = params(req);
    let get = |k: &str| p.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    match get("action") {
        Some("get") => text(200, group_listing(&state.vendor.vapix_users)),
        Some("add") if get("user") == Some("root") => {
            let Some(pwd) = get("pwd").filter(|p| !p.is_empty() && p.len() <= MAX_PASSWORD) else {
                return text(400, "Error: invalid password");
            };
            if get("grp") != Some("root")
                || get("sgrp").and_then(level_of) != Some(UserLevel::Administrator)
            {
                return text(400, "Error: root must be in group root with sgrp admin");
            }
            state.vendor.vapix_users.push(User {
                name: "root".into(),
                password: pwd.to_owned(),
                level: UserLevel::Administrator,
            });
            text(200, "Created account root.").changed()
        }
        _ => text(403, "Set the root password first"),
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;
    use std::time::Duration;

    use super::*;

    fn request<'a>(method: &'a str, query: &'a str, body: &'a [u8]) -> VendorRequest<'a> {
        VendorRequest {
            method,
            path: PWDGRP,
            query,
            target: PWDGRP,
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

    #[test]
    fn root_from_a_form_body_once_then_digest_is_required() {
        let (mut state, mut rt) = fresh();
        let listing = handle(&mut state, &mut rt, &request("GET", "action=get", b""));
        assert_eq!(listing.status, 200);
        let body =
            b"action=add&user=root&pwd=a%26b%3Dc&grp=root&sgrp=admin%3Aoperator%3Aviewer%3Aptz";
        let reply = handle(&mut state, &mut rt, &request("POST", "", body));
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.body, "Created account root.");
        assert_eq!(state.vendor.vapix_users[0].password, "a&b=c");
        let again = handle(&mut state, &mut rt, &request("POST", "", body));
        assert_eq!(again.status, 401);
        assert!(again
            .headers
            .iter()
            .any(|(n, v)| *n == "www-authenticate" && v.starts_with("Digest")));
        assert_eq!(state.vendor.vapix_users.len(), 1);
    }

    #[test]
    fn bonjour_is_listed_and_only_an_administrator_turns_it_off() {
        let (mut state, _) = fresh();
        let req = |query| VendorRequest {
            path: PARAM,
            target: PARAM,
            ..request("GET", query, b"")
        };
        let list = param(
            &mut state,
            UserLevel::User,
            &req("action=list&group=Network.Bonjour"),
        );
        assert_eq!(list.body, "root.Network.Bonjour.Enabled=yes\n");
        let off = "action=update&root.Network.Bonjour.Enabled=no";
        assert_eq!(
            param(&mut state, UserLevel::Operator, &req(off)).status,
            403
        );
        assert!(state.mdns);
        for bad in [
            "action=update&Network.Bonjour.Enabled=maybe",
            "action=update&Network.Bonjour.Enabled=no&Network.Other=1",
            "action=update",
        ] {
            let reply = param(&mut state, UserLevel::Administrator, &req(bad));
            assert!(reply.body.starts_with("# Error"), "{bad}: {}", reply.body);
            assert!(state.mdns, "{bad}");
        }
        let reply = param(&mut state, UserLevel::Administrator, &req(off));
        assert_eq!((reply.body.as_str(), reply.changed), ("OK", true));
        assert!(!state.mdns);
        let on = "action=update&Network.Bonjour.Enabled=yes";
        param(&mut state, UserLevel::Administrator, &req(on));
        assert!(state.mdns);
    }

    #[test]
    fn root_must_be_an_administrator_with_a_password() {
        let (mut state, mut rt) = fresh();
        for query in [
            "action=add&user=root&pwd=&grp=root&sgrp=admin",
            "action=add&user=root&pwd=x&grp=users&sgrp=viewer",
            "action=add&user=other&pwd=x&grp=users&sgrp=admin",
            "action=remove&user=root",
        ] {
            let reply = handle(&mut state, &mut rt, &request("GET", query, b""));
            assert_ne!(reply.status, 200, "{query}");
        }
        assert!(state.vendor.vapix_users.is_empty());
    }
}
