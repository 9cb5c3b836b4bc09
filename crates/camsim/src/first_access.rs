//! A simulated first-access web page, for the Canon and i-PRO flavours.
//!
//! Those cameras do not take their first administrator over ONVIF or a documented API: a person
//! opens the camera's page in a browser and sets the administrator there. This module stands in
//! for that page; its markup and paths are camsim's own, not the vendors'. What is modelled:
//! - `GET /` shows a form (marked `id="first-access"`) while the camera has no account, and a
//!   plain "already set up" page afterwards.
//! - `POST /first-access` with `user`, `password` and `confirm` (form-encoded, as a browser sends
//!   it) creates the ONVIF administrator, only while no account exists.
//! - ONVIF stays closed to anonymous requests throughout (see `server.rs`).

use crate::access::UserLevel;
use crate::state::{CameraState, User};
use crate::vendor::{VendorReply, VendorRequest};

/// Where the form posts to.
pub const FIRST_ACCESS_PATH: &str = "/first-access";
/// Password length the page accepts.
const PASSWORD_CHARS: std::ops::RangeInclusive<usize> = 8..=64;

fn html(status: u16, body: &str) -> VendorReply {
    VendorReply::new(
        status,
        "text/html; charset=utf-8",
        format!(
            "<!DOCTYPE html><html><head><title>Camsim camera</title></head><body>{body}</body></html>"
        ),
    )
}

/// Answers `GET /` and `POST /first-access`.
pub fn handle(state: &mut CameraState, req: &VendorRequest<'_>) -> VendorReply {
    let fresh = state.users.is_empty();
    match (req.method, req.path) {
        ("GET", "/") if fresh => html(
            200,
            "<h1>First access</h1><p>Create the administrator account.</p>\
             <form id=\"first-access\" method=\"post\" action=\"/first-access\">\
             <input name=\"user\"><input name=\"password\" type=\"password\">\
             <input name=\"confirm\" type=\"password\"><button>Save</button></form>",
        ),
        ("GET", "/") => html(200, "<h1>Camera</h1><p>Log in to manage this camera.</p>"),
        ("POST", FIRST_ACCESS_PATH) if fresh => {
            let form: Vec<(String, String)> =
                form_urlencoded::parse(req.body).into_owned().collect();
            let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
            let (Some(user), Some(password), Some(confirm)) =
                (get("user"), get("password"), get("confirm"))
            else {
                return html(400, "<p>Fill in every field.</p>");
            };
            if user.is_empty() || password != confirm {
                return html(400, "<p>The passwords do not match.</p>");
            }
            if !PASSWORD_CHARS.contains(&password.chars().count()) {
                return html(400, "<p>The password must have 8 to 64 characters.</p>");
            }
            state.users.push(User {
                name: user.to_owned(),
                password: password.to_owned(),
                level: UserLevel::Administrator,
            });
            html(200, "<p>The administrator account was created.</p>").changed()
        }
        ("POST", FIRST_ACCESS_PATH) => html(403, "<p>The camera is already set up.</p>"),
        _ => html(405, "<p>Method not allowed.</p>"),
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

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

    #[test]
    fn the_form_creates_one_administrator_then_disappears() {
        let mut state = CameraState::factory(0, "02:ca:5e:00:00:01", 80, 443);
        let page = handle(&mut state, &request("GET", "/", b""));
        assert!(page.body.contains("id=\"first-access\""));
        let mismatch = b"user=admin&password=Good-pass-42&confirm=Good-pass-43";
        let reply = handle(&mut state, &request("POST", FIRST_ACCESS_PATH, mismatch));
        assert_eq!(reply.status, 400);
        let form = b"user=admin&password=Good-pass-42&confirm=Good-pass-42";
        let reply = handle(&mut state, &request("POST", FIRST_ACCESS_PATH, form));
        assert_eq!(reply.status, 200);
        assert!(reply.changed);
        assert_eq!(state.users.len(), 1);
        let again = handle(&mut state, &request("POST", FIRST_ACCESS_PATH, form));
        assert_eq!(again.status, 403);
        let page = handle(&mut state, &request("GET", "/", b""));
        assert!(!page.body.contains("first-access"));
    }
}
