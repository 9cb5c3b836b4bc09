//! The controls of the hardening catalog (`shared/hardening-catalog.md`, restating the Canon and
//! i-PRO hardening guides), in the catalog's lock-out-safe order: admin password, time,
//! certificates, services / ports / users, host restriction, then AutoIP / mDNS / WS-Discovery
//! off, 802.1X last. Each entry carries its level and the menu paths a person follows where no
//! API exists.
use camward_policy::plan::Level;
use serde::Serialize;

/// One control of the catalog.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ControlInfo {
    /// The catalog id (`admin-password`, `time-sync`, …).
    pub id: &'static str,
    /// What it is, in a few words.
    pub title: &'static str,
    /// The lowest protection level that asks for it.
    pub level: Level,
    /// What "hardened" means, for a person.
    pub hardened: &'static str,
    /// Where it is set on a Canon camera, when the guide says.
    pub canon_menu: Option<&'static str>,
    /// Where it is set on an i-PRO camera, when the guide says.
    pub ipro_menu: Option<&'static str>,
}

const fn c(
    id: &'static str,
    title: &'static str,
    level: Level,
    hardened: &'static str,
    canon_menu: Option<&'static str>,
    ipro_menu: Option<&'static str>,
) -> ControlInfo {
    ControlInfo {
        id,
        title,
        level,
        hardened,
        canon_menu,
        ipro_menu,
    }
}

use Level::{Advanced, Entry, Standard};

/// Every audited control, in the lock-out-safe order. (`disposal` is the decommission use case,
/// not an audit item.)
pub const CONTROLS: &[ControlInfo] = &[
    c("admin-password", "Administrator account set, strong, unique", Entry,
      "an admin exists; its password passes the policy; no two cameras share it",
      Some("[Security]/[Basic] > [User Management]"), Some("asked on first access; [User mng.]")),
    c("password-policy", "Passwords hard to guess", Entry,
      "every password Camward holds for the camera passes both guides' rules",
      None, None),
    c("time-sync", "Correct time, synchronised with NTP", Entry,
      "NTP server set and in use; clock within a few seconds of the laptop's",
      Some("[System] > [Date and Time]"), Some("[Network] > [Advanced] > NTP")),
    c("https-only", "HTTPS only, with a proper certificate", Standard,
      "HTTP off, HTTPS on, with a certificate the site trusts",
      Some("[Security] > [SSL/TLS], [Security] > [Certificate Management]"), Some("[Network] > [Advanced] > HTTPS")),
    c("guest-off", "No anonymous (guest) access", Entry,
      "an unauthenticated request is refused",
      Some("[User Management] > [User Authority] (guest); [Viewer] > [Viewer Settings] > [User Authentication]"), None),
    c("digest-auth", "Digest, not Basic, for HTTP and RTSP", Entry,
      "a 401 offers Digest and no Basic, on HTTP and on RTSP",
      Some("[Server] > [Server] > [Authentication Method]; [Server] > [RTP Server] > [RTSP Authentication Method]"), None),
    c("ftp-server-off", "FTP server off", Standard,
      "no FTP server listening (TCP 21 closed)",
      Some("[Server] > [Server] > [FTP Server]"), Some("[Network] > [Network] > \"FTP access to camera\" = Forbid")),
    c("ftp-client-off", "FTP uploads off, or encrypted", Standard,
      "no plain-FTP uploads configured", None, None),
    c("upnp-off", "UPnP off", Standard,
      "no SSDP announcements or answers", None, Some("[Network] > [Advanced] > UPnP")),
    c("snmp-v3", "SNMP v1/v2c off", Advanced,
      "no answer to an SNMP v2c get", Some("[Server] > [Server] > [SNMP Server]"), Some("[Network] > [Advanced] > SNMP")),
    c("smtp-tls", "E-mail only over TLS", Standard,
      "SMTP notifications use SSL/TLS", None, Some("[Network] > [Advanced] > SMTP")),
    c("rtp-multicast-off", "RTP multicast off unless used", Standard,
      "multicast streaming disabled when no recorder needs it", Some("[Server] > [RTP Server]"), None),
    c("audio-off", "Audio off unless needed", Entry,
      "microphone / audio streaming disabled", None, Some("audio settings")),
    c("ports-changed", "Non-default service ports", Standard,
      "HTTP, HTTPS and RTSP off their default ports", Some("[Server] > [Server] > [HTTP Server]; [Server] > [RTP Server]"), None),
    c("user-accounts", "Least privilege for other accounts", Entry,
      "only the accounts needed exist, each with the lowest role that does its job",
      Some("[Security] > [User Management] > [Authorized User Account] / [User Authority]"), Some("[User mng.]")),
    c("stream-encryption", "Video not sent in clear", Standard,
      "RTSP over HTTPS or RTSPS / SRTP", None, Some("[Image/Audio] > [Image] > \"Internet mode\"")),
    c("firmware-current", "Latest firmware", Entry,
      "the installed version is the newest known for the model",
      Some("[Maintenance] > [Device Information] / [Update Firmware]"), None),
    c("network-config", "Network set per design", Entry,
      "addressing mode chosen deliberately; DNS unset when not used", None, Some("[Network] > [Network]")),
    c("log-review", "Logs monitored", Entry,
      "logs read; repeated authentication failures flagged",
      Some("[Maintenance] > [Log] > [View Logs]"), Some("[Maintenance] > [System log]")),
    c("sd-card-lock", "SD card data protected", Entry,
      "SD password lock and recording encryption on", None, Some("[User mng.] > [Data encryption]")),
    c("tamper-detection", "Tamper detection on recordings", Standard,
      "\"Additional info for tamper detection\" on", None, Some("[Basic] > [SD memory card]")),
    c("backup-encrypted", "Settings backups encrypted", Standard,
      "backup files carry an encryption password", Some("[Maintenance] > [Backup/Restore]"), None),
    c("easy-ip-setup-limited", "Easy IP Setup limited", Standard,
      "Easy IP Setup valid period 20 minutes, not unlimited", None, Some("[Network] > [Network] > \"Easy IP Setup valid period\"")),
    c("exposure", "Not reachable from outside", Entry,
      "not exposed to the internet; remote access only through a VPN", None, None),
    c("host-restriction", "Host access restriction (IP filter)", Standard,
      "an allow-list of hosts or subnets, for IPv4 and for IPv6 when IPv6 is on",
      Some("[Security] > [Host Access Restrictions]"), Some("[User mng.] > [Host auth.]")),
    c("autoip-off", "AutoIP off after set-up", Advanced,
      "no 169.254.x.x address once the network is configured", Some("[Basic]/[System] > [Network] > [IPv4] > [AutoIP]"), None),
    c("mdns-off", "mDNS off after set-up", Advanced,
      "the camera no longer answers or announces on mDNS", Some("[Basic]/[System] > [Network] > [mDNS]"), None),
    c("wsdiscovery-off", "WS-Discovery non-discoverable after set-up", Advanced,
      "no ProbeMatch from the camera", None, None),
    c("dot1x", "IEEE 802.1X port authentication", Advanced,
      "EAP-TLS or PEAP, not EAP-MD5", Some("[Security] > [802.1X]"), Some("[User mng.] > [IEEE 802.1x]")),
];

/// The control with catalog id `id`.
pub fn control(id: &str) -> Option<&'static ControlInfo> {
    CONTROLS.iter().find(|c| c.id == id)
}

/// The controls a protection level asks for (each level includes the ones below it).
pub fn for_level(level: Level) -> impl Iterator<Item = &'static ControlInfo> {
    CONTROLS.iter().filter(move |c| c.level <= level)
}
