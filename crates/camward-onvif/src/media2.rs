//! Media2 operations (ver20/media/wsdl/media.wsdl, ONVIF Media2 Service Specification §5.2
//! profiles, §5.5 stream URI): what the camera streams, and where.
//!
//! Glossary: a *profile* groups configurations (video source, video encoder, audio...) under a
//! token; a stream URI is asked for per profile and transport protocol.

use crate::camera::{Camera, Service};
use crate::device::{parse_ip_address, IpAddress, Payload};
use crate::error::{malformed, OnvifError};
use crate::ns::{TR2, TT};
use crate::transport::Transport;
use crate::xml::{child, parse_bool, parse_num, req_child, req_text};

type Node<'a, 'i> = roxmltree::Node<'a, 'i>;

const MEDIA: &[(&str, &str)] = &[("xmlns:tr2", TR2)];

/// Multicast settings of an encoder configuration (tt:MulticastConfiguration).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Multicast {
    /// Group address.
    pub address: IpAddress,
    /// Port.
    pub port: i32,
    /// Time to live.
    pub ttl: i32,
    /// Streaming starts without a client asking.
    pub auto_start: bool,
}

/// Summary of a video encoder configuration (tt:VideoEncoder2Configuration).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct VideoEncoder {
    /// Configuration token.
    pub token: String,
    /// Encoding, e.g. `H264`, `H265`, `JPEG`.
    pub encoding: String,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Multicast settings, when present.
    pub multicast: Option<Multicast>,
}

/// A media profile (tr2:MediaProfile), summarised.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Profile {
    /// Profile token.
    pub token: String,
    /// Profile name.
    pub name: String,
    /// Video encoder configuration, when the profile has one.
    pub video_encoder: Option<VideoEncoder>,
    /// The profile carries audio (an audio source or encoder configuration).
    pub audio: bool,
    /// Multicast settings of the audio encoder, when present.
    pub audio_multicast: Option<Multicast>,
}

/// Transport protocol for GetStreamUri (tr2:TransportProtocol values, Media2 §5.5.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum StreamProtocol {
    /// RTSP, unicast, interleaved or UDP as the client chooses.
    RtspUnicast,
    /// RTSP multicast.
    RtspMulticast,
    /// RTSP over TLS.
    Rtsps,
    /// RTP over RTSP over HTTP.
    RtspOverHttp,
    /// Generic RTSP (older camera wording).
    Rtsp,
}

impl StreamProtocol {
    /// The value sent in `tr2:Protocol`.
    pub fn as_str(self) -> &'static str {
        match self {
            StreamProtocol::RtspUnicast => "RtspUnicast",
            StreamProtocol::RtspMulticast => "RtspMulticast",
            StreamProtocol::Rtsps => "RTSPS",
            StreamProtocol::RtspOverHttp => "RtspOverHttp",
            StreamProtocol::Rtsp => "RTSP",
        }
    }
}

/// GetProfiles request for every profile with all its configurations (Type `All`).
pub fn write_get_profiles() -> String {
    let root = "tr2:GetProfiles";
    let mut p = Payload::new(root, MEDIA);
    p.leaf("tr2:Type", "All");
    p.finish(root)
}

/// GetStreamUri request.
pub fn write_get_stream_uri(protocol: StreamProtocol, profile_token: &str) -> String {
    let root = "tr2:GetStreamUri";
    let mut p = Payload::new(root, MEDIA);
    p.leaf("tr2:Protocol", protocol.as_str())
        .leaf("tr2:ProfileToken", profile_token);
    p.finish(root)
}

/// GetSnapshotUri (Media2 §5.2.9): the HTTP URL of a JPEG of the profile's video.
pub fn write_get_snapshot_uri(profile_token: &str) -> String {
    let root = "tr2:GetSnapshotUri";
    let mut p = Payload::new(root, MEDIA);
    p.leaf("tr2:ProfileToken", profile_token);
    p.finish(root)
}

fn parse_multicast(node: Node<'_, '_>) -> Result<Multicast, OnvifError> {
    Ok(Multicast {
        address: parse_ip_address(req_child(node, TT, "Address")?)?,
        port: parse_num(&req_text(node, TT, "Port")?)?,
        ttl: parse_num(&req_text(node, TT, "TTL")?)?,
        auto_start: parse_bool(&req_text(node, TT, "AutoStart")?)?,
    })
}

fn parse_video_encoder(node: Node<'_, '_>) -> Result<VideoEncoder, OnvifError> {
    let resolution = req_child(node, TT, "Resolution")?;
    Ok(VideoEncoder {
        token: node
            .attribute("token")
            .ok_or_else(|| malformed("VideoEncoder has no token"))?
            .to_owned(),
        encoding: req_text(node, TT, "Encoding")?,
        width: parse_num(&req_text(resolution, TT, "Width")?)?,
        height: parse_num(&req_text(resolution, TT, "Height")?)?,
        multicast: child(node, TT, "Multicast")
            .map(parse_multicast)
            .transpose()?,
    })
}

/// Reads a GetProfilesResponse payload.
pub fn parse_profiles(node: Node<'_, '_>) -> Result<Vec<Profile>, OnvifError> {
    crate::xml::children(node, TR2, "Profiles")
        .map(|p| {
            let token = p
                .attribute("token")
                .ok_or_else(|| malformed("Profiles has no token"))?
                .to_owned();
            let configs = child(p, TR2, "Configurations");
            let get = |local: &str| configs.and_then(|c| child(c, TR2, local));
            let audio_encoder = get("AudioEncoder");
            Ok(Profile {
                token,
                name: req_text(p, TR2, "Name")?,
                video_encoder: get("VideoEncoder").map(parse_video_encoder).transpose()?,
                audio: get("AudioSource").is_some() || audio_encoder.is_some(),
                audio_multicast: audio_encoder
                    .and_then(|a| child(a, TT, "Multicast"))
                    .map(parse_multicast)
                    .transpose()?,
            })
        })
        .collect()
}

/// Reads a GetStreamUriResponse payload.
pub fn parse_stream_uri(node: Node<'_, '_>) -> Result<String, OnvifError> {
    req_text(node, TR2, "Uri")
}

impl<T: Transport> Camera<T> {
    /// GetSnapshotUri for one profile.
    pub async fn get_snapshot_uri(&self, profile_token: &str) -> Result<String, OnvifError> {
        let payload = write_get_snapshot_uri(profile_token);
        let reply = self
            .call(Service::Media2, "GetSnapshotUri", &payload, false)
            .await?;
        reply.with_payload(parse_stream_uri)
    }

    /// GetProfiles (all profiles, all configurations).
    pub async fn get_profiles(&self) -> Result<Vec<Profile>, OnvifError> {
        let reply = self
            .call(Service::Media2, "GetProfiles", &write_get_profiles(), false)
            .await?;
        reply.with_payload(parse_profiles)
    }

    /// GetStreamUri for one profile and protocol.
    pub async fn get_stream_uri(
        &self,
        protocol: StreamProtocol,
        profile_token: &str,
    ) -> Result<String, OnvifError> {
        let payload = write_get_stream_uri(protocol, profile_token);
        let reply = self
            .call(Service::Media2, "GetStreamUri", &payload, false)
            .await?;
        reply.with_payload(parse_stream_uri)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::tests::{assert_malformed, on, reply};

    #[test]
    fn profiles() {
        let profiles = on(reply!("profiles"), parse_profiles).unwrap();
        assert_eq!(profiles.len(), 2);
        let main = &profiles[0];
        assert_eq!(
            (main.token.as_str(), main.name.as_str()),
            ("Profile_1", "mainStream")
        );
        assert!(main.audio);
        let ve = main.video_encoder.as_ref().unwrap();
        assert_eq!(
            (ve.encoding.as_str(), ve.width, ve.height),
            ("H265", 3840, 2160)
        );
        let mc = ve.multicast.as_ref().unwrap();
        assert_eq!(mc.address, IpAddress::Ipv4("239.0.0.10".into()));
        assert_eq!((mc.port, mc.ttl, mc.auto_start), (50000, 5, true));
        let sub = &profiles[1];
        assert!(!sub.audio);
        assert_eq!(sub.video_encoder.as_ref().unwrap().multicast, None);
        assert_malformed(on(
            &reply!("profiles").replace("<t:Width>640</t:Width>", ""),
            parse_profiles,
        ));
        assert_malformed(on(
            &reply!("profiles").replace("<m:Name>subStream</m:Name>", ""),
            parse_profiles,
        ));
    }

    #[test]
    fn stream_uri() {
        assert_eq!(
            on(reply!("stream_uri"), parse_stream_uri).unwrap(),
            "rtsp://192.0.2.10:554/Streaming/Channels/101?transportmode=unicast&profile=Profile_1"
        );
        assert_malformed(on(
            &reply!("stream_uri").replace("Uri>", "Url>"),
            parse_stream_uri,
        ));
    }
}
