//! Media2 (media2.wsdl): profiles and stream URIs.
//!
//! INTERFACE CONTRACT (fixed signatures; bodies by the security helper).

use serde::{Deserialize, Serialize};

use crate::access::AccessClass;
use crate::fault::SimFault;

/// Media configuration of a camera. Persisted with the rest of the camera state.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct MediaState {}

/// Access class of a Media2 operation by local name; `None` if unknown.
pub fn access_class(op: &str) -> Option<AccessClass> {
    let _ = op;
    todo!("security helper")
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
    let _ = (media, op, payload, host, rtsp_port);
    todo!("security helper")
}
