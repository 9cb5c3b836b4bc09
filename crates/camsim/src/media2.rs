//! Media2 (media2.wsdl, ONVIF Media Service Specification 2.x): profiles, encoder configurations and
//! stream URIs.
//!
//! Glossary: a *profile* groups configurations by token; the camera has one video source
//! configuration (`vsc_1`), one audio source configuration (`asc_1`), and one video and one audio
//! encoder configuration per stream (`vec_1`/`vec_2`, `aec_1`/`aec_2`). Each encoder carries a
//! multicast configuration; `AutoStart=true` means the camera streams to the group without any client
//! asking, which the hardening catalog turns off. The multicast address is only data here: camsim
//! never sends multicast traffic.

use serde::{Deserialize, Serialize};

use crate::access::AccessClass;
use crate::fault::SimFault;

/// Namespace of the Media2 service (prefix `tr2`).
pub const TR2_NS: &str = "http://www.onvif.org/ver20/media/wsdl";
/// Namespace of the ONVIF schema types (prefix `tt`).
pub const TT_NS: &str = "http://www.onvif.org/ver10/schema";

const VIDEO_SOURCE: &str = "vsc_1";
const AUDIO_SOURCE: &str = "asc_1";

/// Media configuration of a camera. Persisted with the rest of the camera state.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MediaState {
    profiles: Vec<Profile>,
    video_encoders: Vec<VideoEncoder>,
    audio_encoders: Vec<AudioEncoder>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Profile {
    token: String,
    name: String,
    video_source: Option<String>,
    audio_source: Option<String>,
    video_encoder: Option<String>,
    audio_encoder: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct VideoEncoder {
    token: String,
    name: String,
    encoding: String,
    width: u32,
    height: u32,
    frame_rate: f32,
    bitrate_kbps: u32,
    gov_length: u32,
    quality: f32,
    multicast: Multicast,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct AudioEncoder {
    token: String,
    name: String,
    encoding: String,
    bitrate_kbps: u32,
    sample_rate_khz: u32,
    multicast: Multicast,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Multicast {
    ipv4_address: String,
    port: u16,
    ttl: u8,
    auto_start: bool,
}

impl Default for MediaState {
    /// The factory configuration: a main and a sub stream, both with audio and multicast auto-start,
    /// as many cameras ship.
    fn default() -> Self {
        let stream = |n: u32, name: &str, width, height, bitrate_kbps| {
            (
                Profile {
                    token: format!("profile_{n}"),
                    name: name.to_string(),
                    video_source: Some(VIDEO_SOURCE.to_string()),
                    audio_source: Some(AUDIO_SOURCE.to_string()),
                    video_encoder: Some(format!("vec_{n}")),
                    audio_encoder: Some(format!("aec_{n}")),
                },
                VideoEncoder {
                    token: format!("vec_{n}"),
                    name: format!("{name}Encoder"),
                    encoding: "H264".to_string(),
                    width,
                    height,
                    frame_rate: 25.0,
                    bitrate_kbps,
                    gov_length: 50,
                    quality: 5.0,
                    multicast: Multicast {
                        ipv4_address: format!("239.0.0.{n}"),
                        port: 40000 + 2 * n as u16,
                        ttl: 1,
                        auto_start: true,
                    },
                },
                AudioEncoder {
                    token: format!("aec_{n}"),
                    name: format!("{name}Audio"),
                    encoding: "MP4A-LATM".to_string(),
                    bitrate_kbps: 64,
                    sample_rate_khz: 16,
                    multicast: Multicast {
                        ipv4_address: format!("239.0.0.{n}"),
                        port: 40100 + 2 * n as u16,
                        ttl: 1,
                        auto_start: true,
                    },
                },
            )
        };
        let (p1, v1, a1) = stream(1, "MainStream", 1920, 1080, 4096);
        let (p2, v2, a2) = stream(2, "SubStream", 640, 360, 512);
        Self {
            profiles: vec![p1, p2],
            video_encoders: vec![v1, v2],
            audio_encoders: vec![a1, a2],
        }
    }
}

impl MediaState {
    /// Whether any profile still carries an audio encoder (the hardening catalog's audio-off control).
    pub fn audio_in_use(&self) -> bool {
        self.profiles.iter().any(|p| p.audio_encoder.is_some())
    }

    /// Whether any encoder configuration starts multicast streaming by itself (rtp-multicast-off).
    pub fn multicast_auto_start(&self) -> bool {
        self.video_encoders.iter().any(|v| v.multicast.auto_start)
            || self.audio_encoders.iter().any(|a| a.multicast.auto_start)
    }

    fn profile_mut(&mut self, token: &str) -> Result<&mut Profile, SimFault> {
        self.profiles
            .iter_mut()
            .find(|p| p.token == token)
            .ok_or_else(|| {
                SimFault::invalid_arg("NoProfile", "The requested profile does not exist")
            })
    }

    fn use_count(&self, token: &str) -> usize {
        self.profiles
            .iter()
            .filter(|p| {
                [
                    &p.video_source,
                    &p.audio_source,
                    &p.video_encoder,
                    &p.audio_encoder,
                ]
                .iter()
                .any(|c| c.as_deref() == Some(token))
            })
            .count()
    }
}

/// Access class of a Media2 operation by local name; `None` if unknown (Media2 specification,
/// "Access classes" annex: reads are READ_MEDIA, configuration changes ACTUATE).
pub fn access_class(op: &str) -> Option<AccessClass> {
    Some(match op {
        // Capabilities are readable before authentication (ONVIF Core §5.9.4.2).
        "GetServiceCapabilities" => AccessClass::PreAuth,
        "GetProfiles"
        | "GetStreamUri"
        | "GetSnapshotUri"
        | "GetVideoEncoderConfigurations"
        | "GetAudioEncoderConfigurations" => AccessClass::ReadMedia,
        "AddConfiguration"
        | "RemoveConfiguration"
        | "SetVideoEncoderConfiguration"
        | "SetAudioEncoderConfiguration" => AccessClass::Actuate,
        _ => return None,
    })
}

/// Handles one Media2 request; `host` is the `host:port` the camera is reached at (for stream URIs),
/// `rtsp_port`/`rtsps` come from the camera's network protocols.
pub fn handle(
    media: &mut MediaState,
    op: &str,
    payload: roxmltree::Node<'_, '_>,
    host: &str,
    rtsp_port: u16,
) -> Result<String, SimFault> {
    match op {
        "GetServiceCapabilities" => Ok(respond(
            op,
            "<tr2:Capabilities SnapshotUri=\"true\" Rotation=\"false\" OSD=\"false\">\
             <tr2:ProfileCapabilities MaximumNumberOfProfiles=\"2\" \
             ConfigurationsSupported=\"VideoSource VideoEncoder AudioSource AudioEncoder\"/>\
             <tr2:StreamingCapabilities RTSPStreaming=\"true\" RTPMulticast=\"true\" RTP_RTSP_TCP=\"true\" \
             AutoStartMulticast=\"true\" SecureRTSPStreaming=\"true\"/></tr2:Capabilities>",
        )),
        "GetProfiles" => get_profiles(media, payload),
        "GetStreamUri" => {
            let protocol = required_text(payload, "Protocol")?;
            let token = required_text(payload, "ProfileToken")?;
            media.profile_mut(&token)?;
            let uri = stream_uri(&protocol, &token, host, rtsp_port)?;
            Ok(respond(op, &format!("<tr2:Uri>{}</tr2:Uri>", escape(&uri))))
        }
        "GetSnapshotUri" => {
            let token = required_text(payload, "ProfileToken")?;
            media.profile_mut(&token)?;
            // One JPEG for every profile, served by the camera's HTTP listener.
            let uri = format!("http://{host}{}", crate::settings_page::SNAPSHOT_PATH);
            Ok(respond(op, &format!("<tr2:Uri>{}</tr2:Uri>", escape(&uri))))
        }
        "GetVideoEncoderConfigurations" => {
            let wanted = configuration_filter(media, payload, |p| p.video_encoder.clone())?;
            let body: String = media
                .video_encoders
                .iter()
                .filter(|v| wanted.as_ref().is_none_or(|w| w.contains(&v.token)))
                .map(|v| video_encoder_xml(media, "tr2:Configurations", v))
                .collect();
            Ok(respond(op, &body))
        }
        "GetAudioEncoderConfigurations" => {
            let wanted = configuration_filter(media, payload, |p| p.audio_encoder.clone())?;
            let body: String = media
                .audio_encoders
                .iter()
                .filter(|a| wanted.as_ref().is_none_or(|w| w.contains(&a.token)))
                .map(|a| audio_encoder_xml(media, "tr2:Configurations", a))
                .collect();
            Ok(respond(op, &body))
        }
        "SetVideoEncoderConfiguration" => {
            set_video_encoder(media, payload)?;
            Ok(respond(op, ""))
        }
        "SetAudioEncoderConfiguration" => {
            set_audio_encoder(media, payload)?;
            Ok(respond(op, ""))
        }
        "AddConfiguration" => {
            add_configuration(media, payload)?;
            Ok(respond(op, ""))
        }
        "RemoveConfiguration" => {
            remove_configuration(media, payload)?;
            Ok(respond(op, ""))
        }
        _ => Err(SimFault::action_not_supported()),
    }
}

/// GetProfiles (Media2 §5.2.2): without `Type`, profiles carry only token and name; `All` or a list of
/// configuration types selects which configurations are included.
fn get_profiles(media: &MediaState, payload: roxmltree::Node<'_, '_>) -> Result<String, SimFault> {
    let token = optional_text(payload, "Token");
    if let Some(token) = &token {
        if !media.profiles.iter().any(|p| &p.token == token) {
            return Err(SimFault::invalid_arg(
                "NoProfile",
                "The requested profile does not exist",
            ));
        }
    }
    let types: Vec<String> = children(payload, "Type", TR2_NS).map(text).collect();
    let include = |ty: &str| types.iter().any(|t| t == "All" || t == ty);
    let mut body = String::new();
    for profile in media
        .profiles
        .iter()
        .filter(|p| token.as_ref().is_none_or(|t| *t == p.token))
    {
        let mut configs = String::new();
        if let (true, Some(_)) = (include("VideoSource"), &profile.video_source) {
            configs.push_str(&video_source_xml(media));
        }
        if let (true, Some(_)) = (include("AudioSource"), &profile.audio_source) {
            configs.push_str(&audio_source_xml(media));
        }
        if let (true, Some(t)) = (include("VideoEncoder"), &profile.video_encoder) {
            if let Some(v) = media.video_encoders.iter().find(|v| &v.token == t) {
                configs.push_str(&video_encoder_xml(media, "tr2:VideoEncoder", v));
            }
        }
        if let (true, Some(t)) = (include("AudioEncoder"), &profile.audio_encoder) {
            if let Some(a) = media.audio_encoders.iter().find(|a| &a.token == t) {
                configs.push_str(&audio_encoder_xml(media, "tr2:AudioEncoder", a));
            }
        }
        let configs = if types.is_empty() {
            String::new()
        } else {
            format!("<tr2:Configurations>{configs}</tr2:Configurations>")
        };
        body.push_str(&format!(
            "<tr2:Profiles token=\"{}\" fixed=\"true\"><tr2:Name>{}</tr2:Name>{configs}</tr2:Profiles>",
            escape(&profile.token),
            escape(&profile.name)
        ));
    }
    Ok(respond("GetProfiles", &body))
}

/// The tokens selected by a `tr2:GetConfiguration` request, or `None` for all.
fn configuration_filter(
    media: &MediaState,
    payload: roxmltree::Node<'_, '_>,
    of_profile: impl Fn(&Profile) -> Option<String>,
) -> Result<Option<Vec<String>>, SimFault> {
    if let Some(token) = optional_text(payload, "ConfigurationToken") {
        return Ok(Some(vec![token]));
    }
    if let Some(token) = optional_text(payload, "ProfileToken") {
        let profile = media
            .profiles
            .iter()
            .find(|p| p.token == token)
            .ok_or_else(|| {
                SimFault::invalid_arg("NoProfile", "The requested profile does not exist")
            })?;
        return Ok(Some(of_profile(profile).into_iter().collect()));
    }
    Ok(None)
}

/// GetStreamUri (Media2 §5.2.8). The RTSP host is the one the client reached the camera at, without
/// the HTTP port; `RtspOverHttp` tunnels through the HTTP port itself.
fn stream_uri(protocol: &str, token: &str, host: &str, rtsp_port: u16) -> Result<String, SimFault> {
    let hostname = match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) && !name.is_empty() => name,
        _ => host,
    };
    Ok(match protocol {
        "RtspUnicast" | "RTSP" => format!("rtsp://{hostname}:{rtsp_port}/media/{token}"),
        "RtspMulticast" => format!("rtsp://{hostname}:{rtsp_port}/media/{token}?multicast=1"),
        "RtspOverHttp" => format!("http://{host}/media/{token}"),
        "RTSPS" => format!("rtsps://{hostname}:{rtsp_port}/media/{token}"),
        _ => {
            return Err(SimFault::invalid_arg(
                "InvalidStreamSetup",
                "Unsupported stream protocol",
            ))
        }
    })
}

fn set_video_encoder(
    media: &mut MediaState,
    payload: roxmltree::Node<'_, '_>,
) -> Result<(), SimFault> {
    let config = child(payload, "Configuration", TR2_NS)
        .ok_or_else(|| SimFault::sender(&["InvalidArgs"], "Configuration is missing"))?;
    let token = config.attribute("token").unwrap_or_default().to_string();
    let current = media
        .video_encoders
        .iter()
        .find(|v| v.token == token)
        .ok_or_else(|| {
            SimFault::invalid_arg("NoConfig", "The requested configuration does not exist")
        })?;
    let mut next = current.clone();
    if let Some(name) = optional_tt(config, "Name") {
        next.name = name;
    }
    if let Some(encoding) = optional_tt(config, "Encoding") {
        if !matches!(encoding.as_str(), "H264" | "H265" | "JPEG") {
            return Err(SimFault::invalid_arg(
                "ConfigModify",
                "Unsupported video encoding",
            ));
        }
        next.encoding = encoding;
    }
    if let Some(resolution) = child(config, "Resolution", TT_NS) {
        next.width = number(optional_tt(resolution, "Width"), next.width)?;
        next.height = number(optional_tt(resolution, "Height"), next.height)?;
        if next.width == 0 || next.height == 0 || next.width > 3840 || next.height > 2160 {
            return Err(SimFault::invalid_arg(
                "ConfigModify",
                "Unsupported resolution",
            ));
        }
    }
    if let Some(rate) = child(config, "RateControl", TT_NS) {
        next.frame_rate = number(optional_tt(rate, "FrameRateLimit"), next.frame_rate)?;
        next.bitrate_kbps = number(optional_tt(rate, "BitrateLimit"), next.bitrate_kbps)?;
    }
    if let Some(gov) = config.attribute("GovLength") {
        next.gov_length = number(Some(gov.to_string()), next.gov_length)?;
    }
    if let Some(quality) = optional_tt(config, "Quality") {
        next.quality = number(Some(quality), next.quality)?;
    }
    if let Some(multicast) = child(config, "Multicast", TT_NS) {
        next.multicast = parse_multicast(multicast, &next.multicast)?;
    }
    if let Some(slot) = media.video_encoders.iter_mut().find(|v| v.token == token) {
        *slot = next;
    }
    Ok(())
}

fn set_audio_encoder(
    media: &mut MediaState,
    payload: roxmltree::Node<'_, '_>,
) -> Result<(), SimFault> {
    let config = child(payload, "Configuration", TR2_NS)
        .ok_or_else(|| SimFault::sender(&["InvalidArgs"], "Configuration is missing"))?;
    let token = config.attribute("token").unwrap_or_default().to_string();
    let current = media
        .audio_encoders
        .iter()
        .find(|a| a.token == token)
        .ok_or_else(|| {
            SimFault::invalid_arg("NoConfig", "The requested configuration does not exist")
        })?;
    let mut next = current.clone();
    if let Some(name) = optional_tt(config, "Name") {
        next.name = name;
    }
    if let Some(multicast) = child(config, "Multicast", TT_NS) {
        next.multicast = parse_multicast(multicast, &next.multicast)?;
    }
    next.bitrate_kbps = number(optional_tt(config, "Bitrate"), next.bitrate_kbps)?;
    next.sample_rate_khz = number(optional_tt(config, "SampleRate"), next.sample_rate_khz)?;
    if let Some(slot) = media.audio_encoders.iter_mut().find(|a| a.token == token) {
        *slot = next;
    }
    Ok(())
}

fn parse_multicast(
    node: roxmltree::Node<'_, '_>,
    current: &Multicast,
) -> Result<Multicast, SimFault> {
    let mut next = current.clone();
    if let Some(address) = child(node, "Address", TT_NS) {
        if let Some(v4) = optional_tt(address, "IPv4Address") {
            let ip: std::net::Ipv4Addr = v4.parse().map_err(|_| {
                SimFault::invalid_arg("ConfigModify", "Multicast address is not an IPv4 address")
            })?;
            if !ip.is_multicast() {
                return Err(SimFault::invalid_arg(
                    "ConfigModify",
                    "Multicast address is not a multicast group",
                ));
            }
            next.ipv4_address = v4;
        }
    }
    next.port = number(optional_tt(node, "Port"), next.port)?;
    next.ttl = number(optional_tt(node, "TTL"), next.ttl)?;
    if let Some(auto_start) = optional_tt(node, "AutoStart") {
        next.auto_start = match auto_start.as_str() {
            "true" | "1" => true,
            "false" | "0" => false,
            _ => {
                return Err(SimFault::invalid_arg(
                    "ConfigModify",
                    "AutoStart is not a boolean",
                ))
            }
        };
    }
    Ok(next)
}

/// AddConfiguration (Media2 §5.2.4): adds configurations by type, the first of that type if no token.
fn add_configuration(
    media: &mut MediaState,
    payload: roxmltree::Node<'_, '_>,
) -> Result<(), SimFault> {
    let profile_token = required_text(payload, "ProfileToken")?;
    media.profile_mut(&profile_token)?;
    for reference in children(payload, "Configuration", TR2_NS) {
        let ty = optional_text(reference, "Type").unwrap_or_default();
        let token = optional_text(reference, "Token");
        let available: Vec<String> = match ty.as_str() {
            "VideoSource" => vec![VIDEO_SOURCE.to_string()],
            "AudioSource" => vec![AUDIO_SOURCE.to_string()],
            "VideoEncoder" => media
                .video_encoders
                .iter()
                .map(|v| v.token.clone())
                .collect(),
            "AudioEncoder" => media
                .audio_encoders
                .iter()
                .map(|a| a.token.clone())
                .collect(),
            _ => {
                return Err(SimFault::invalid_arg(
                    "NoConfig",
                    "Unsupported configuration type",
                ))
            }
        };
        let chosen = match token {
            Some(t) if available.contains(&t) => t,
            Some(_) => {
                return Err(SimFault::invalid_arg(
                    "NoConfig",
                    "The requested configuration does not exist",
                ))
            }
            None => available.first().cloned().ok_or_else(|| {
                SimFault::invalid_arg("NoConfig", "No configuration of that type exists")
            })?,
        };
        let profile = media.profile_mut(&profile_token)?;
        let slot = match ty.as_str() {
            "VideoSource" => &mut profile.video_source,
            "AudioSource" => &mut profile.audio_source,
            "VideoEncoder" => &mut profile.video_encoder,
            _ => &mut profile.audio_encoder,
        };
        *slot = Some(chosen);
    }
    if let Some(name) = optional_text(payload, "Name") {
        media.profile_mut(&profile_token)?.name = name;
    }
    Ok(())
}

/// RemoveConfiguration (Media2 §5.2.5): removes configurations by type (`All` clears the profile).
fn remove_configuration(
    media: &mut MediaState,
    payload: roxmltree::Node<'_, '_>,
) -> Result<(), SimFault> {
    let profile_token = required_text(payload, "ProfileToken")?;
    let profile = media.profile_mut(&profile_token)?;
    for reference in children(payload, "Configuration", TR2_NS) {
        let ty = optional_text(reference, "Type").unwrap_or_default();
        match ty.as_str() {
            "VideoSource" => profile.video_source = None,
            "AudioSource" => profile.audio_source = None,
            "VideoEncoder" => profile.video_encoder = None,
            "AudioEncoder" => profile.audio_encoder = None,
            "All" => {
                profile.video_source = None;
                profile.audio_source = None;
                profile.video_encoder = None;
                profile.audio_encoder = None;
            }
            _ => {
                return Err(SimFault::invalid_arg(
                    "NoConfig",
                    "Unsupported configuration type",
                ))
            }
        }
    }
    Ok(())
}

fn video_source_xml(media: &MediaState) -> String {
    format!(
        "<tr2:VideoSource token=\"{VIDEO_SOURCE}\"><tt:Name>VideoSource</tt:Name><tt:UseCount>{}</tt:UseCount>\
         <tt:SourceToken>video_src_1</tt:SourceToken><tt:Bounds x=\"0\" y=\"0\" width=\"1920\" height=\"1080\"/>\
         </tr2:VideoSource>",
        media.use_count(VIDEO_SOURCE)
    )
}

fn audio_source_xml(media: &MediaState) -> String {
    format!(
        "<tr2:AudioSource token=\"{AUDIO_SOURCE}\"><tt:Name>AudioSource</tt:Name><tt:UseCount>{}</tt:UseCount>\
         <tt:SourceToken>audio_src_1</tt:SourceToken></tr2:AudioSource>",
        media.use_count(AUDIO_SOURCE)
    )
}

fn multicast_xml(m: &Multicast) -> String {
    format!(
        "<tt:Multicast><tt:Address><tt:Type>IPv4</tt:Type><tt:IPv4Address>{}</tt:IPv4Address></tt:Address>\
         <tt:Port>{}</tt:Port><tt:TTL>{}</tt:TTL><tt:AutoStart>{}</tt:AutoStart></tt:Multicast>",
        escape(&m.ipv4_address),
        m.port,
        m.ttl,
        m.auto_start
    )
}

fn video_encoder_xml(media: &MediaState, element: &str, v: &VideoEncoder) -> String {
    format!(
        "<{element} token=\"{}\" GovLength=\"{}\" Profile=\"Main\"><tt:Name>{}</tt:Name><tt:UseCount>{}</tt:UseCount>\
         <tt:Encoding>{}</tt:Encoding><tt:Resolution><tt:Width>{}</tt:Width><tt:Height>{}</tt:Height></tt:Resolution>\
         <tt:RateControl ConstantBitRate=\"false\"><tt:FrameRateLimit>{}</tt:FrameRateLimit>\
         <tt:BitrateLimit>{}</tt:BitrateLimit></tt:RateControl>{}<tt:Quality>{}</tt:Quality></{element}>",
        escape(&v.token),
        v.gov_length,
        escape(&v.name),
        media.use_count(&v.token),
        escape(&v.encoding),
        v.width,
        v.height,
        v.frame_rate,
        v.bitrate_kbps,
        multicast_xml(&v.multicast),
        v.quality,
    )
}

fn audio_encoder_xml(media: &MediaState, element: &str, a: &AudioEncoder) -> String {
    format!(
        "<{element} token=\"{}\"><tt:Name>{}</tt:Name><tt:UseCount>{}</tt:UseCount><tt:Encoding>{}</tt:Encoding>\
         {}<tt:Bitrate>{}</tt:Bitrate><tt:SampleRate>{}</tt:SampleRate></{element}>",
        escape(&a.token),
        escape(&a.name),
        media.use_count(&a.token),
        escape(&a.encoding),
        multicast_xml(&a.multicast),
        a.bitrate_kbps,
        a.sample_rate_khz,
    )
}

fn respond(op: &str, body: &str) -> String {
    format!(
        "<tr2:{op}Response xmlns:tr2=\"{TR2_NS}\" xmlns:tt=\"{TT_NS}\">{body}</tr2:{op}Response>"
    )
}

fn escape(value: &str) -> std::borrow::Cow<'_, str> {
    quick_xml::escape::escape(value)
}

fn number<T: std::str::FromStr>(value: Option<String>, current: T) -> Result<T, SimFault> {
    match value {
        None => Ok(current),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| SimFault::invalid_arg("ConfigModify", "Not a valid number")),
    }
}

fn children<'a, 'i: 'a>(
    node: roxmltree::Node<'a, 'i>,
    name: &'static str,
    ns: &'static str,
) -> impl Iterator<Item = roxmltree::Node<'a, 'i>> {
    node.children().filter(move |n| {
        n.is_element() && n.tag_name().name() == name && n.tag_name().namespace() == Some(ns)
    })
}

fn child<'a, 'i: 'a>(
    node: roxmltree::Node<'a, 'i>,
    name: &'static str,
    ns: &'static str,
) -> Option<roxmltree::Node<'a, 'i>> {
    children(node, name, ns).next()
}

fn text(node: roxmltree::Node<'_, '_>) -> String {
    node.text().unwrap_or_default().trim().to_string()
}

fn optional_text(node: roxmltree::Node<'_, '_>, name: &'static str) -> Option<String> {
    child(node, name, TR2_NS).map(text)
}

fn optional_tt(node: roxmltree::Node<'_, '_>, name: &'static str) -> Option<String> {
    child(node, name, TT_NS).map(text)
}

fn required_text(node: roxmltree::Node<'_, '_>, name: &'static str) -> Result<String, SimFault> {
    optional_text(node, name)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| SimFault::sender(&["InvalidArgs"], format!("{name} is missing")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(media: &mut MediaState, op: &str, body: &str) -> Result<String, SimFault> {
        let xml =
            format!("<tr2:{op} xmlns:tr2=\"{TR2_NS}\" xmlns:tt=\"{TT_NS}\">{body}</tr2:{op}>");
        crate::security::recorded::record(&xml);
        let doc = roxmltree::Document::parse(&xml).expect("request is well-formed");
        let reply = handle(media, op, doc.root_element(), "127.0.0.1:8080", 554);
        if let Ok(reply) = &reply {
            crate::security::recorded::record(reply);
        }
        reply
    }

    fn texts(xml: &str, name: &str) -> Vec<String> {
        let doc = roxmltree::Document::parse(xml).expect("response is well-formed");
        doc.descendants()
            .filter(|n| n.tag_name().name() == name)
            .map(|n| n.text().unwrap_or_default().to_string())
            .collect()
    }

    #[test]
    fn factory_profiles_and_filters() {
        let mut media = MediaState::default();
        let all = call(&mut media, "GetProfiles", "<tr2:Type>All</tr2:Type>").unwrap();
        assert_eq!(texts(&all, "Name")[..1], ["MainStream".to_string()]);
        assert_eq!(texts(&all, "Width"), ["1920", "640"]);
        assert_eq!(texts(&all, "AutoStart"), ["true", "true", "true", "true"]);
        assert_eq!(
            texts(&all, "Encoding"),
            ["H264", "MP4A-LATM", "H264", "MP4A-LATM"]
        );
        let bare = call(&mut media, "GetProfiles", "").unwrap();
        assert!(
            texts(&bare, "Width").is_empty(),
            "without Type, no configurations"
        );
        let one = call(
            &mut media,
            "GetProfiles",
            "<tr2:Token>profile_2</tr2:Token><tr2:Type>VideoEncoder</tr2:Type>",
        )
        .unwrap();
        assert_eq!(texts(&one, "Width"), ["640"]);
        assert!(
            texts(&one, "Bitrate").is_empty(),
            "audio encoder not requested"
        );
        let fault = call(
            &mut media,
            "GetProfiles",
            "<tr2:Token>profile_9</tr2:Token>",
        )
        .unwrap_err();
        assert_eq!(fault.subcodes, ["InvalidArgVal", "NoProfile"]);
        crate::security::recorded::validate();
    }

    #[test]
    fn stream_uris_by_protocol() {
        let mut media = MediaState::default();
        let uri = |m: &mut MediaState, p: &str, t: &str| {
            call(
                m,
                "GetStreamUri",
                &format!(
                    "<tr2:Protocol>{p}</tr2:Protocol><tr2:ProfileToken>{t}</tr2:ProfileToken>"
                ),
            )
        };
        assert_eq!(
            texts(&uri(&mut media, "RtspUnicast", "profile_1").unwrap(), "Uri"),
            ["rtsp://127.0.0.1:554/media/profile_1"]
        );
        assert_eq!(
            texts(&uri(&mut media, "RTSPS", "profile_2").unwrap(), "Uri"),
            ["rtsps://127.0.0.1:554/media/profile_2"]
        );
        assert_eq!(
            texts(
                &uri(&mut media, "RtspOverHttp", "profile_2").unwrap(),
                "Uri"
            ),
            ["http://127.0.0.1:8080/media/profile_2"]
        );
        assert_eq!(
            uri(&mut media, "RtspUnicast", "nope").unwrap_err().subcodes,
            ["InvalidArgVal", "NoProfile"]
        );
        assert_eq!(
            uri(&mut media, "Carrier", "profile_1")
                .unwrap_err()
                .subcodes,
            ["InvalidArgVal", "InvalidStreamSetup"]
        );
        assert_eq!(
            stream_uri("RTSP", "p", "[::1]:80", 554).unwrap(),
            "rtsp://[::1]:554/media/p"
        );
        crate::security::recorded::validate();
    }

    #[test]
    fn hardening_turns_off_audio_and_multicast() {
        let mut media = MediaState::default();
        assert!(media.audio_in_use() && media.multicast_auto_start());
        for p in ["profile_1", "profile_2"] {
            call(&mut media, "RemoveConfiguration", &format!(
                "<tr2:ProfileToken>{p}</tr2:ProfileToken><tr2:Configuration><tr2:Type>AudioEncoder</tr2:Type></tr2:Configuration>\
                 <tr2:Configuration><tr2:Type>AudioSource</tr2:Type></tr2:Configuration>")).unwrap();
        }
        assert!(!media.audio_in_use());
        let configs = call(&mut media, "GetVideoEncoderConfigurations", "").unwrap();
        assert_eq!(texts(&configs, "UseCount"), ["1", "1"]);
        for (token, n) in [("vec_1", 1), ("vec_2", 2)] {
            let body = format!(
                "<tr2:Configuration token=\"{token}\"><tt:Name>V</tt:Name><tt:UseCount>1</tt:UseCount><tt:Encoding>H264</tt:Encoding>\
                 <tt:Resolution><tt:Width>1280</tt:Width><tt:Height>720</tt:Height></tt:Resolution>\
                 <tt:Multicast><tt:Address><tt:Type>IPv4</tt:Type><tt:IPv4Address>239.0.0.{n}</tt:IPv4Address></tt:Address>\
                 <tt:Port>0</tt:Port><tt:TTL>1</tt:TTL><tt:AutoStart>false</tt:AutoStart></tt:Multicast><tt:Quality>5</tt:Quality></tr2:Configuration>"
            );
            call(&mut media, "SetVideoEncoderConfiguration", &body).unwrap();
        }
        // The audio encoders still auto-start even though no profile uses them any more.
        assert!(media.multicast_auto_start());
        for token in ["aec_1", "aec_2"] {
            let body = format!(
                "<tr2:Configuration token=\"{token}\"><tt:Name>A</tt:Name><tt:UseCount>0</tt:UseCount><tt:Encoding>MP4A-LATM</tt:Encoding>\
                 <tt:Multicast><tt:Address><tt:Type>IPv4</tt:Type><tt:IPv4Address>239.0.0.9</tt:IPv4Address></tt:Address>\
                 <tt:Port>0</tt:Port><tt:TTL>1</tt:TTL><tt:AutoStart>false</tt:AutoStart></tt:Multicast>\
                 <tt:Bitrate>64</tt:Bitrate><tt:SampleRate>16</tt:SampleRate></tr2:Configuration>"
            );
            call(&mut media, "SetAudioEncoderConfiguration", &body).unwrap();
        }
        assert!(!media.multicast_auto_start());
        let configs = call(
            &mut media,
            "GetVideoEncoderConfigurations",
            "<tr2:ProfileToken>profile_1</tr2:ProfileToken>",
        )
        .unwrap();
        assert_eq!(texts(&configs, "Width"), ["1280"]);
        // Audio can be put back.
        call(&mut media, "AddConfiguration", "<tr2:ProfileToken>profile_1</tr2:ProfileToken><tr2:Configuration><tr2:Type>AudioEncoder</tr2:Type><tr2:Token>aec_1</tr2:Token></tr2:Configuration>").unwrap();
        assert!(media.audio_in_use());
        let bad = "<tr2:Configuration token=\"vec_1\"><tt:Name>V</tt:Name><tt:UseCount>1</tt:UseCount><tt:Encoding>H264</tt:Encoding>\
                   <tt:Resolution><tt:Width>1280</tt:Width><tt:Height>720</tt:Height></tt:Resolution>\
                   <tt:Multicast><tt:Address><tt:Type>IPv4</tt:Type><tt:IPv4Address>10.0.0.1</tt:IPv4Address></tt:Address>\
                   <tt:Port>0</tt:Port><tt:TTL>1</tt:TTL><tt:AutoStart>true</tt:AutoStart></tt:Multicast>\
                   <tt:Quality>5</tt:Quality></tr2:Configuration>";
        assert_eq!(
            call(&mut media, "SetVideoEncoderConfiguration", bad)
                .unwrap_err()
                .subcodes,
            ["InvalidArgVal", "ConfigModify"]
        );
        assert!(
            !media.multicast_auto_start(),
            "a refused change leaves the state alone"
        );
        assert_eq!(access_class("GetStreamUri"), Some(AccessClass::ReadMedia));
        assert_eq!(
            access_class("SetVideoEncoderConfiguration"),
            Some(AccessClass::Actuate)
        );
        assert_eq!(access_class("GetOSDs"), None);
        crate::security::recorded::validate();
    }
}
