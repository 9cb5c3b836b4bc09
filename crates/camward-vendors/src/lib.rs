//! Drivers for what ONVIF lacks: the vendor APIs that take a factory-fresh camera to its first
//! administrator.
//!
//! - [`axis`]: Axis VAPIX `pwdgrp.cgi` (root password while unset, Digest afterwards).
//! - [`hikvision`]: Hikvision ISAPI activation (RSA/AES key exchange), ISAPI login, enabling
//!   ONVIF and creating its user.
//! - [`guided`]: Canon and i-PRO, where a person sets the first administrator on the camera's
//!   first-access page and Camward verifies the login afterwards.
//!
//! All HTTP goes through [`camward_onvif::http::ReqwestTransport`], the project's one HTTP client
//! configuration, and Digest answers come from [`camward_onvif::auth::DigestChallenge`].
//! Results keep "the camera said no" ([`VendorError::Refused`]) apart from "we could not talk to
//! it" ([`VendorError::Transport`]).
pub mod axis;
pub mod error;
pub mod guided;
pub mod hikvision;
pub mod http;

pub use error::{VendorError, VendorRefusal};
pub use http::VendorHttp;
