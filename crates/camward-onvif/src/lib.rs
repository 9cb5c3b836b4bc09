//! ONVIF client for Camward.
//!
//! Layers, bottom up:
//! - [`http`]: the one place in the project that builds HTTP clients (timeouts, redirects off,
//!   response size cap, TLS verified against a CA or a pinned certificate — never "accept invalid").
//! - [`transport`]: the [`transport::Transport`] trait (one HTTP POST) and its reqwest implementation,
//!   so tests can swap the wire.
//! - [`soap`]: SOAP 1.2 envelopes written with quick-xml, replies read with roxmltree by namespace and
//!   local name, SOAP faults with their full subcode chain.
//! - [`auth`]: HTTP Digest (RFC 7616) and WS-Security UsernameToken PasswordDigest.
//! - [`clock`]: the clock trait and the camera clock offset.
//! - [`camera`]: a session with one camera: credentials, which auth worked, the clock offset.
//! - [`device`], [`security`], [`media2`]: the typed operations.
pub mod auth;
pub mod camera;
pub mod clock;
pub mod device;
pub mod error;
pub mod http;
pub mod media2;
pub mod ns;
pub mod security;
pub mod soap;
pub mod transport;
pub mod xml;

pub use camera::{AuthMode, Camera, Credentials, Service};
pub use error::{DeviceRefusal, OnvifError, TransportError};

#[cfg(test)]
pub(crate) mod test_support;
