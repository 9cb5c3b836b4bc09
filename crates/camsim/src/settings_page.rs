//! The camera's own web pages beyond first access: a settings page a test uses to play the person
//! who clicks, the snapshot a viewer (or a guest) fetches, and the UPnP device description.
//!
//! Canon and i-PRO publish no API for the services the hardening catalog turns off; a person
//! changes them on the camera's web page, and Camward verifies the result from outside. This page
//! stands in for those pages, on every flavour; its markup and paths are camsim's own:
//!
//! - `GET /admin/settings` (HTTP Digest, administrators only) shows a form (`id="settings"`) with
//!   one `<select>` per setting, its current value in `data-current`, and beside it the menu path
//!   of the real cameras from the hardening catalog.
//! - `POST /admin/settings` (same credentials) with form fields `ftp_server`, `snmp_v2c`, `upnp`,
//!   `rtsp_basic`, `guest_access`, `mdns`, `autoip` (`on` / `off`) and `easy_ip_period` (`20` /
//!   `unlimited`) changes the fields sent (any subset) and persists the state; an unknown field or
//!   value changes nothing and gets `400`.
//! - `GET /snapshot.jpg` answers a tiny JPEG anonymously while guest access is on
//!   ([`crate::CameraState::guest_access`]), and otherwise only to one of the camera's accounts.
//! - `GET /upnp/device.xml` answers the UPnP device description while UPnP is on.
//!
//! A generic ONVIF camera without accounts is open to everyone, as in its Profile Q factory
//! state. While the camera offers Basic ([`crate::CameraState::rtsp_basic`]) every 401 of its HTTP
//! server carries a Basic challenge beside the Digest ones, and these pages accept Basic
//! credentials; the ONVIF service only ever accepts Digest and WS-UsernameToken.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use http_body_util::{BodyExt as _, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};

use crate::access::UserLevel;
use crate::auth::{Algorithm, REALM};
use crate::server::{Body, Camera};
use crate::state::CameraState;
use crate::vendor::{digest_gate, Gate, VendorRequest, VendorRuntime};
use crate::{AuthFlavour, CameraInfo, Flavour};

/// The settings page.
pub const SETTINGS_PATH: &str = "/admin/settings";
/// The snapshot.
pub const SNAPSHOT_PATH: &str = "/snapshot.jpg";
/// The largest form accepted, in bytes.
pub const MAX_FORM: usize = 16 * 1024;
/// The snapshot: an empty JFIF image (SOI, APP0, EOI).
pub const SNAPSHOT: &[u8] = &[
    0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x01, 0x01, 0x00, 0x00, 0x01,
    0x00, 0x01, 0x00, 0x00, 0xff, 0xd9,
];

/// Whether a path is one of these pages.
pub(crate) fn serves(path: &str) -> bool {
    matches!(
        path,
        SETTINGS_PATH | SNAPSHOT_PATH | crate::ssdp::DEVICE_DESCRIPTION
    )
}

/// One setting of the page.
struct Setting {
    /// Form field.
    field: &'static str,
    /// What the page calls it.
    label: &'static str,
    /// Where it is on the real cameras (hardening catalog, C = Canon, P = i-PRO).
    menu: &'static str,
    /// The form values meaning true and false.
    values: (&'static str, &'static str),
    get: fn(&CameraState) -> bool,
    set: fn(&mut CameraState, bool),
}

const SETTINGS: &[Setting] = &[
    Setting {
        field: "ftp_server",
        label: "FTP server",
        menu: "C: [Server] > [Server] > [FTP Server]; P: [Network] > [Network] > \"FTP access to camera\"",
        values: ("on", "off"),
        get: |s| s.ftp_server,
        set: |s, v| s.ftp_server = v,
    },
    Setting {
        field: "snmp_v2c",
        label: "SNMPv1/v2c",
        menu: "C: [Server] > [Server] > [SNMP Server]; P: [Network] > [Advanced] > SNMP",
        values: ("on", "off"),
        get: |s| s.snmp_v2c,
        set: |s, v| s.snmp_v2c = v,
    },
    Setting {
        field: "upnp",
        label: "UPnP",
        menu: "P: [Network] > [Advanced] > UPnP",
        values: ("on", "off"),
        get: |s| s.upnp,
        set: |s, v| s.upnp = v,
    },
    Setting {
        field: "rtsp_basic",
        label: "Basic authentication (HTTP and RTSP)",
        menu: "C: [Server] > [Server] > [Authentication Method]; [Server] > [RTP Server] > [RTSP Authentication Method]",
        values: ("on", "off"),
        get: |s| s.rtsp_basic,
        set: |s, v| s.rtsp_basic = v,
    },
    Setting {
        field: "guest_access",
        label: "Guest (anonymous) viewer access",
        menu: "C: [User Management] > [User Authority] (guest); [Viewer] > [Viewer Settings] > [User Authentication]",
        values: ("on", "off"),
        get: |s| s.guest_access,
        set: |s, v| s.guest_access = v,
    },
    Setting {
        field: "easy_ip_period",
        label: "Easy IP Setup valid period",
        menu: "P: [Network] > [Network] > \"Easy IP Setup valid period\"",
        values: ("20", "unlimited"),
        get: |s| s.easy_ip_period_s.is_some(),
        set: |s, v| s.easy_ip_period_s = v.then_some(crate::easyip::DEFAULT_PERIOD_S),
    },
    Setting {
        field: "mdns",
        label: "mDNS",
        menu: "C: [Basic]/[System] > [Network] > [mDNS]",
        values: ("on", "off"),
        get: |s| s.mdns,
        set: |s, v| s.mdns = v,
    },
    Setting {
        field: "autoip",
        label: "AutoIP (link-local address)",
        menu: "C: [Basic]/[System] > [Network] > [IPv4] > [AutoIP]",
        values: ("on", "off"),
        get: |s| s.zero_conf.enabled,
        set: |s, v| s.zero_conf.enabled = v,
    },
];

/// A page's reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Page {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// Extra headers (`WWW-Authenticate`).
    pub headers: Vec<(&'static str, String)>,
    /// Body.
    pub body: Vec<u8>,
    /// Whether persisted state changed.
    pub changed: bool,
}

impl Page {
    fn new(status: u16, content_type: &'static str, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            content_type,
            headers: Vec::new(),
            body: body.into(),
            changed: false,
        }
    }

    fn html(status: u16, body: &str) -> Self {
        Self::new(
            status,
            "text/html; charset=utf-8",
            format!(
                "<!DOCTYPE html><html><head><title>Camsim camera</title></head><body>{body}</body></html>"
            ),
        )
    }
}

/// What the pages need to know about the camera besides its state.
#[derive(Clone, Debug)]
pub(crate) struct Site {
    /// The camera's flavour.
    pub flavour: Flavour,
    /// Digest algorithms challenged with.
    pub algorithms: &'static [Algorithm],
    /// Identity, for the device description.
    pub info: CameraInfo,
    /// UPnP UUID.
    pub guid: String,
    /// `http://host:port/`, the presentation URL.
    pub base_url: String,
}

/// Who may see a page.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Audience {
    /// Any of the camera's accounts.
    Accounts,
    /// Administrators only.
    Administrators,
}

/// Checks credentials: `Err` holds the refusal to send.
fn gate(
    state: &CameraState,
    rt: &mut VendorRuntime,
    site: &Site,
    req: &VendorRequest<'_>,
    audience: Audience,
) -> Result<(), Page> {
    if crate::services::open_to_anonymous(state, site.flavour) {
        return Ok(());
    }
    let accounts = crate::services::accounts(state, site.flavour);
    let basic = req
        .authorization
        .map(str::trim)
        .filter(|h| state.rtsp_basic && h.len() > 6 && h[..6].eq_ignore_ascii_case("basic "))
        .and_then(|h| {
            base64::engine::general_purpose::STANDARD
                .decode(h[6..].trim())
                .ok()
        })
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|text| {
            let (name, password) = text.split_once(':')?;
            accounts
                .iter()
                .find(|u| u.name == name && u.password == password)
                .map(|u| u.name.clone())
        });
    let user = match basic {
        Some(user) => user,
        None => match digest_gate(rt, req, &accounts, site.algorithms) {
            Gate::Allowed(user) => user,
            Gate::Refused(reply) => {
                let mut page = Page::html(401, "<p>Log in to use this page.</p>");
                page.headers = reply.headers;
                return Err(page);
            }
            Gate::Locked(left) => {
                return Err(Page::html(
                    403,
                    &format!(
                        "<p>Access blocked after repeated failed logins; retry in {} s.</p>",
                        left.as_secs().max(1)
                    ),
                ))
            }
        },
    };
    let level = accounts
        .iter()
        .find(|u| u.name == user)
        .map(|u| u.level)
        .unwrap_or(UserLevel::Anonymous);
    if audience == Audience::Administrators && level != UserLevel::Administrator {
        return Err(Page::html(
            403,
            "<p>Only administrators may change settings.</p>",
        ));
    }
    Ok(())
}

fn escape(text: &str) -> String {
    quick_xml::escape::escape(text).into_owned()
}

/// The settings form, with `note` above it.
fn settings_form(state: &CameraState, note: &str) -> Page {
    let mut rows = String::new();
    for s in SETTINGS {
        let current = if (s.get)(state) {
            s.values.0
        } else {
            s.values.1
        };
        let option = |value: &str| {
            format!(
                "<option value=\"{value}\"{}>{value}</option>",
                if value == current { " selected" } else { "" }
            )
        };
        rows.push_str(&format!(
            "<tr><td><label for=\"{f}\">{}</label></td><td class=\"menu-path\">{}</td>\
             <td><select id=\"{f}\" name=\"{f}\" data-current=\"{current}\">{}{}</select></td></tr>",
            escape(s.label),
            escape(s.menu),
            option(s.values.0),
            option(s.values.1),
            f = s.field,
        ));
    }
    Page::html(
        200,
        &format!(
            "<h1>Settings</h1>{note}<form id=\"settings\" method=\"post\" action=\"{SETTINGS_PATH}\">\
             <table>{rows}</table><button>Save</button></form>"
        ),
    )
}

/// Applies a posted form: every field is checked before any is changed.
fn apply(state: &mut CameraState, form: &[u8]) -> Result<bool, String> {
    let mut changes = Vec::new();
    for (name, value) in form_urlencoded::parse(form) {
        let Some(setting) = SETTINGS.iter().find(|s| s.field == name) else {
            return Err(format!("Unknown setting {}.", escape(&name)));
        };
        let wanted = if value == setting.values.0 {
            true
        } else if value == setting.values.1 {
            false
        } else {
            return Err(format!(
                "{} must be {} or {}.",
                setting.field, setting.values.0, setting.values.1
            ));
        };
        changes.push((setting, wanted));
    }
    let mut changed = false;
    for (setting, wanted) in changes {
        if (setting.get)(state) != wanted {
            (setting.set)(state, wanted);
            changed = true;
        }
    }
    Ok(changed)
}

/// Answers one request for one of these pages.
pub(crate) fn handle(
    state: &mut CameraState,
    rt: &mut VendorRuntime,
    site: &Site,
    req: &VendorRequest<'_>,
) -> Page {
    match (req.method, req.path) {
        ("GET" | "HEAD", SNAPSHOT_PATH) => {
            if !state.guest_access {
                if let Err(refusal) = gate(state, rt, site, req, Audience::Accounts) {
                    return refusal;
                }
            }
            Page::new(200, "image/jpeg", SNAPSHOT)
        }
        ("GET", crate::ssdp::DEVICE_DESCRIPTION) if state.upnp => Page::new(
            200,
            "text/xml; charset=\"utf-8\"",
            crate::ssdp::device_description(
                &site.guid,
                &site.info.manufacturer,
                &site.info.model,
                &site.info.serial,
                &site.base_url,
            ),
        ),
        (_, crate::ssdp::DEVICE_DESCRIPTION) => Page::html(404, "<p>Not found.</p>"),
        ("GET", SETTINGS_PATH) => match gate(state, rt, site, req, Audience::Administrators) {
            Ok(()) => settings_form(state, ""),
            Err(refusal) => refusal,
        },
        ("POST", SETTINGS_PATH) => {
            if let Err(refusal) = gate(state, rt, site, req, Audience::Administrators) {
                return refusal;
            }
            match apply(state, req.body) {
                Ok(changed) => {
                    let mut page = settings_form(state, "<p id=\"saved\">Saved.</p>");
                    page.changed = changed;
                    page
                }
                Err(reason) => Page::html(400, &format!("<p>{reason}</p>")),
            }
        }
        _ => Page::html(405, "<p>Method not allowed.</p>"),
    }
}

fn respond(page: Page) -> Response<Body> {
    let mut r = Response::new(crate::server::full(page.body));
    *r.status_mut() =
        StatusCode::from_u16(page.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(page.content_type),
    );
    for (name, value) in page.headers {
        if let Ok(value) = hyper::header::HeaderValue::from_str(&value) {
            r.headers_mut().append(name, value);
        }
    }
    r
}

impl Camera {
    /// Serves a request for one of these pages ([`serves`]).
    pub(crate) async fn page_answer(
        self: Arc<Self>,
        req: Request<Incoming>,
        peer: SocketAddr,
    ) -> Response<Body> {
        let method = req.method().as_str().to_owned();
        let path = req.uri().path().to_owned();
        let query = req.uri().query().unwrap_or_default().to_owned();
        let target = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| path.clone());
        let authorization = req
            .headers()
            .get(hyper::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let collected = tokio::time::timeout(
            Duration::from_secs(30),
            Limited::new(req.into_body(), MAX_FORM).collect(),
        )
        .await;
        let body = match collected {
            Ok(Ok(b)) => b.to_bytes(),
            Ok(Err(_)) => return respond(Page::html(413, "<p>Form too large.</p>")),
            Err(_) => return respond(Page::html(408, "<p>Form too slow.</p>")),
        };
        let request = VendorRequest {
            method: &method,
            path: &path,
            query: &query,
            target: &target,
            authorization: authorization.as_deref(),
            body: &body,
            peer: peer.ip(),
        };
        let site = Site {
            flavour: self.flavour(),
            algorithms: match self.config().auth {
                AuthFlavour::DigestMd5 => &[Algorithm::Md5],
                AuthFlavour::DigestSha256AndMd5 | AuthFlavour::UsernameToken => {
                    &[Algorithm::Sha256, Algorithm::Md5]
                }
            },
            info: self.info(),
            guid: self.guid().to_owned(),
            base_url: format!("http://{}:{}/", self.host(), self.http_port),
        };
        let page = self.with_state_and_vendor(|state, rt| handle(state, rt, &site, &request));
        if page.changed {
            self.settings_changed();
        }
        respond(page)
    }

    /// Adds a Basic challenge to a 401 while the camera offers Basic beside Digest.
    pub(crate) fn offer_basic(&self, mut response: Response<Body>) -> Response<Body> {
        if response.status() == StatusCode::UNAUTHORIZED && self.with_state(|s| s.rtsp_basic) {
            if let Ok(value) =
                hyper::header::HeaderValue::from_str(&format!("Basic realm=\"{REALM}\""))
            {
                response
                    .headers_mut()
                    .append(hyper::header::WWW_AUTHENTICATE, value);
            }
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::*;
    use crate::state::User;

    fn request<'a>(
        method: &'a str,
        path: &'a str,
        authorization: Option<&'a str>,
        body: &'a [u8],
    ) -> VendorRequest<'a> {
        VendorRequest {
            method,
            path,
            query: "",
            target: path,
            authorization,
            body,
            peer: IpAddr::from([127, 0, 0, 1]),
        }
    }

    fn site(flavour: Flavour) -> Site {
        Site {
            flavour,
            algorithms: &[Algorithm::Md5],
            info: CameraInfo::default(),
            guid: "g".into(),
            base_url: "http://127.0.0.1:80/".into(),
        }
    }

    fn configured(flavour: Flavour) -> CameraState {
        let mut state =
            CameraState::factory(0, "02:ca:5e:00:00:01", 80, 443).with_flavour_defaults(flavour);
        state.users.push(User {
            name: "admin".into(),
            password: "Good-pass-42".into(),
            level: UserLevel::Administrator,
        });
        state.users.push(User {
            name: "viewer".into(),
            password: "Good-pass-43".into(),
            level: UserLevel::User,
        });
        state
    }

    fn basic(user: &str, password: &str) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        )
    }

    fn runtime() -> VendorRuntime {
        VendorRuntime::new(Duration::from_secs(60), 5, Duration::from_secs(30))
    }

    #[test]
    fn flavours_ship_with_their_services() {
        let canon = CameraState::factory(0, "02:ca:5e:00:00:01", 80, 443)
            .with_flavour_defaults(Flavour::Canon);
        assert!(canon.ftp_server && canon.rtsp_basic && canon.guest_access);
        assert!(!canon.snmp_v2c && !canon.upnp);
        let ipro = CameraState::factory(0, "02:ca:5e:00:00:01", 80, 443)
            .with_flavour_defaults(Flavour::IPro);
        assert!(ipro.ftp_server && ipro.snmp_v2c && ipro.upnp);
        assert_eq!(ipro.snmp_community, "public");
        assert!(!ipro.rtsp_basic && !ipro.guest_access);
        let axis = CameraState::factory(0, "02:ca:5e:00:00:01", 80, 443)
            .with_flavour_defaults(Flavour::Axis);
        assert!(!axis.ftp_server && !axis.snmp_v2c && !axis.upnp && !axis.rtsp_basic);
    }

    #[test]
    fn old_state_files_load_with_the_services_off() {
        let state = CameraState::factory(0, "02:ca:5e:00:00:01", 80, 443)
            .with_flavour_defaults(Flavour::IPro);
        let mut json = serde_json::to_value(&state).unwrap();
        let object = json.as_object_mut().unwrap();
        for field in [
            "ftp_server",
            "snmp_v2c",
            "snmp_community",
            "upnp",
            "rtsp_basic",
            "guest_access",
        ] {
            object.remove(field);
        }
        let old: CameraState = serde_json::from_value(json).unwrap();
        assert!(!old.ftp_server && !old.snmp_v2c && !old.upnp);
        assert_eq!(old.snmp_community, "public");
    }

    #[test]
    fn the_settings_page_lists_and_toggles_every_setting_for_administrators_only() {
        let mut state = configured(Flavour::Canon);
        let mut rt = runtime();
        let site = site(Flavour::Canon);
        let anonymous = handle(
            &mut state,
            &mut rt,
            &site,
            &request("GET", SETTINGS_PATH, None, b""),
        );
        assert_eq!(anonymous.status, 401);
        assert!(anonymous
            .headers
            .iter()
            .any(|(_, v)| v.starts_with("Digest ")));
        let admin = basic("admin", "Good-pass-42");
        let page = handle(
            &mut state,
            &mut rt,
            &site,
            &request("GET", SETTINGS_PATH, Some(&admin), b""),
        );
        assert_eq!(page.status, 200);
        let html = String::from_utf8(page.body).unwrap();
        assert!(html.contains("name=\"ftp_server\" data-current=\"on\""));
        assert!(html.contains("[Server] &gt; [Server] &gt; [FTP Server]"));
        assert!(html.contains("name=\"easy_ip_period\" data-current=\"20\""));
        let form = b"ftp_server=off&snmp_v2c=on&upnp=on&rtsp_basic=off&guest_access=off&easy_ip_period=unlimited&mdns=off&autoip=off";
        let saved = handle(
            &mut state,
            &mut rt,
            &site,
            &request("POST", SETTINGS_PATH, Some(&admin), form),
        );
        assert_eq!(saved.status, 200);
        assert!(saved.changed);
        assert!(!state.ftp_server && state.snmp_v2c && state.upnp && !state.rtsp_basic);
        assert!(!state.guest_access && !state.mdns && !state.zero_conf.enabled);
        assert_eq!(state.easy_ip_period_s, None);
        // Basic is no longer accepted once it is off; the same again changes nothing.
        let refused = handle(
            &mut state,
            &mut rt,
            &site,
            &request("POST", SETTINGS_PATH, Some(&admin), form),
        );
        assert_eq!(refused.status, 401);
        state.rtsp_basic = true;
        let again = handle(
            &mut state,
            &mut rt,
            &site,
            &request("POST", SETTINGS_PATH, Some(&admin), b"ftp_server=off"),
        );
        assert_eq!((again.status, again.changed), (200, false));
        let bad = handle(
            &mut state,
            &mut rt,
            &site,
            &request(
                "POST",
                SETTINGS_PATH,
                Some(&admin),
                b"ftp_server=maybe&upnp=off",
            ),
        );
        assert_eq!(bad.status, 400);
        assert!(state.upnp, "a refused form changes nothing");
        let viewer = basic("viewer", "Good-pass-43");
        let forbidden = handle(
            &mut state,
            &mut rt,
            &site,
            &request("POST", SETTINGS_PATH, Some(&viewer), b"upnp=off"),
        );
        assert_eq!(forbidden.status, 403);
    }

    #[test]
    fn the_snapshot_is_anonymous_only_with_guest_access() {
        let mut state = configured(Flavour::Canon);
        let mut rt = runtime();
        let site = site(Flavour::Canon);
        let guest = handle(
            &mut state,
            &mut rt,
            &site,
            &request("GET", SNAPSHOT_PATH, None, b""),
        );
        assert_eq!((guest.status, guest.content_type), (200, "image/jpeg"));
        assert_eq!(&guest.body[..2], &[0xff, 0xd8]);
        state.guest_access = false;
        let refused = handle(
            &mut state,
            &mut rt,
            &site,
            &request("GET", SNAPSHOT_PATH, None, b""),
        );
        assert_eq!(refused.status, 401);
        let viewer = basic("viewer", "Good-pass-43");
        let seen = handle(
            &mut state,
            &mut rt,
            &site,
            &request("GET", SNAPSHOT_PATH, Some(&viewer), b""),
        );
        assert_eq!(seen.status, 200);
    }
}
