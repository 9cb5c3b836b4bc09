//! The error that crosses every boundary (CLI, IPC): a stable `code` the UI switches on, a message
//! for a person, the camera and the step it happened at.
use serde::Serialize;

/// A failure of a use case on one camera.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{camera}: {step}: {message}")]
pub struct CoreError {
    /// Stable machine-readable code (e.g. `unreachable`, `not_authorized`, `not_onvif`).
    pub code: String,
    /// One line a person can act on.
    pub message: String,
    /// Which camera (its URL or inventory name).
    pub camera: String,
    /// Which step (e.g. `GetSystemDateAndTime`).
    pub step: String,
}
