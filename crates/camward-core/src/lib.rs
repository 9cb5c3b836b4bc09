//! Camward's use cases. No Tauri, no clap, no terminal: the desktop shell and the CLI are thin
//! layers over this crate.
pub mod certificates;
pub mod credentials;
pub mod decommission;
pub mod discover;
pub mod disposal;
pub mod error;
pub mod first_boot;
pub mod hardening;
pub mod info;
pub mod inventory_view;
pub mod probe;
pub mod session;
pub mod target;

pub use error::CoreError;
pub use target::{camera_key, device_url};
