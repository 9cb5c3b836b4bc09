//! Info: log in and read the camera's configuration (read-only).
use std::fmt::Write as _;

use camward_onvif::device::{
    DeviceInformation, DiscoveryMode, IpAddressFilter, NetworkInterface, NetworkProtocol,
    NtpInformation,
};
use camward_onvif::{AuthMode, Credentials};
use camward_vault::Sensitive;
use serde::Serialize;

use crate::probe::describe_offset;
use crate::session::{first_contact_error, onvif_error, open};
use crate::CoreError;

/// A camera account as shown to people (never with a password).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Account {
    /// User name.
    pub user: String,
    /// ONVIF user level.
    pub level: String,
}

/// What an administrator sees after logging in.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InfoReport {
    /// The device service URL.
    pub url: String,
    /// Which authentication worked (`Digest`, `UsernameToken`).
    pub auth: String,
    /// Camera clock minus laptop clock, in seconds.
    pub clock_offset_s: f64,
    /// Manufacturer, model, firmware, serial, hardware id.
    pub device: DeviceInformation,
    /// Host name, if set.
    pub hostname: Option<String>,
    /// Accounts on the camera.
    pub users: Vec<Account>,
    /// NTP configuration.
    pub ntp: NtpInformation,
    /// Network interfaces.
    pub interfaces: Vec<NetworkInterface>,
    /// HTTP / HTTPS / RTSP.
    pub protocols: Vec<NetworkProtocol>,
    /// WS-Discovery mode.
    pub discovery: DiscoveryMode,
    /// Host access restriction.
    pub ip_filter: IpAddressFilter,
}

/// Logs in to the camera at `input` as `user` and reads its configuration.
pub async fn info(
    input: &str,
    user: &str,
    password: &Sensitive<String>,
) -> Result<InfoReport, CoreError> {
    let url = crate::target::device_url(input)?;
    let camera = open(&url)?;
    let span = tracing::info_span!("info", camera = %url, user = %user);
    let _guard = span.enter();
    let offset = camera
        .sync_clock()
        .await
        .map_err(|e| first_contact_error(&url, "GetSystemDateAndTime", e))?;
    camera.set_credentials(
        Some(Credentials::new(user, password.expose().as_str())),
        AuthMode::Auto,
    );
    let at = url.as_str();
    let err = |step: &'static str| move |e| onvif_error(at, step, e);
    let device = camera
        .get_device_information()
        .await
        .map_err(err("GetDeviceInformation"))?;
    let users = camera.get_users().await.map_err(err("GetUsers"))?;
    let hostname = camera.get_hostname().await.map_err(err("GetHostname"))?;
    let ntp = camera.get_ntp().await.map_err(err("GetNTP"))?;
    let interfaces = camera
        .get_network_interfaces()
        .await
        .map_err(err("GetNetworkInterfaces"))?;
    let protocols = camera
        .get_network_protocols()
        .await
        .map_err(err("GetNetworkProtocols"))?;
    let discovery = camera
        .get_discovery_mode()
        .await
        .map_err(err("GetDiscoveryMode"))?;
    let ip_filter = camera
        .get_ip_address_filter()
        .await
        .map_err(err("GetIPAddressFilter"))?;
    let auth = match camera.working_auth() {
        Some(AuthMode::Digest) => "HTTP Digest",
        Some(AuthMode::UsernameToken) => "WS-Security UsernameToken",
        Some(AuthMode::Anonymous) => "none (anonymous)",
        Some(AuthMode::Auto) | None => "unknown",
    };
    Ok(InfoReport {
        url: url.clone(),
        auth: auth.into(),
        clock_offset_s: offset.as_seconds_f64(),
        device,
        hostname: hostname.name,
        users: users
            .into_iter()
            .map(|u| Account {
                user: u.username,
                level: format!("{:?}", u.level),
            })
            .collect(),
        ntp,
        interfaces,
        protocols,
        discovery,
        ip_filter,
    })
}

/// The info report as text for a terminal.
pub fn render_text(r: &InfoReport) -> String {
    let mut s = String::new();
    let d = &r.device;
    let _ = writeln!(s, "Camera        {}", r.url);
    let _ = writeln!(
        s,
        "Device        {} {} (firmware {}, serial {})",
        d.manufacturer, d.model, d.firmware_version, d.serial_number
    );
    let _ = writeln!(s, "Logged in     with {}", r.auth);
    let _ = writeln!(s, "Clock         {}", describe_offset(r.clock_offset_s));
    let _ = writeln!(
        s,
        "Host name     {}",
        r.hostname.as_deref().unwrap_or("(not set)")
    );
    let _ = writeln!(s, "Users");
    for a in &r.users {
        let _ = writeln!(s, "  {:<20} {}", a.user, a.level);
    }
    let ntp: Vec<String> = r.ntp.manual.iter().map(|h| format!("{h:?}")).collect();
    let _ = writeln!(
        s,
        "NTP           {}{}",
        if r.ntp.from_dhcp { "from DHCP " } else { "" },
        if ntp.is_empty() {
            "(no manual server)".to_owned()
        } else {
            ntp.join(", ")
        }
    );
    for p in &r.protocols {
        let ports: Vec<String> = p.ports.iter().map(u16::to_string).collect();
        let _ = writeln!(
            s,
            "Protocol      {:<6} {:<8} port {}",
            format!("{:?}", p.name).to_uppercase(),
            if p.enabled { "on" } else { "off" },
            ports.join(",")
        );
    }
    for i in &r.interfaces {
        let _ = writeln!(
            s,
            "Interface     {} {} MAC {} DHCP {}",
            i.token,
            if i.enabled { "up" } else { "down" },
            i.mac.as_deref().unwrap_or("?"),
            if i.ipv4_dhcp { "on" } else { "off" }
        );
    }
    let _ = writeln!(s, "Discovery     {:?}", r.discovery);
    let _ = writeln!(s, "IP filter     {:?}", r.ip_filter);
    s
}
