//! Camward's use cases. No Tauri, no clap, no terminal: the desktop shell and the CLI are thin
//! layers over this crate.
pub mod error;
pub mod probe;

pub use error::CoreError;
