//! ONVIF access classes and user levels (ONVIF Core §5.9.4 "User-based access control").

use serde::{Deserialize, Serialize};

/// The access class of an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum AccessClass {
    /// Allowed without credentials.
    PreAuth,
    /// Reads non-sensitive media information.
    ReadMedia,
    /// Changes media state.
    Actuate,
    /// Reads system configuration.
    ReadSystem,
    /// Reads sensitive system information.
    ReadSystemSensitive,
    /// Reads secret system information (e.g. user lists with details).
    ReadSystemSecret,
    /// Changes system configuration.
    WriteSystem,
    /// Unrecoverable changes (factory default, reboot-level).
    Unrecoverable,
}

/// ONVIF user levels (tt:UserLevel).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum UserLevel {
    /// May do everything.
    Administrator,
    /// May operate the device but not change system configuration.
    Operator,
    /// May only read media.
    User,
    /// Anonymous (no credentials).
    Anonymous,
}

impl UserLevel {
    /// Whether a user of this level may perform an operation of class `class`
    /// (ONVIF Core §5.9.4.3, default access policy).
    pub fn may(self, class: AccessClass) -> bool {
        use AccessClass::*;
        match self {
            UserLevel::Administrator => true,
            UserLevel::Operator => !matches!(class, ReadSystemSecret | WriteSystem | Unrecoverable),
            UserLevel::User => matches!(class, PreAuth | ReadMedia | ReadSystem),
            UserLevel::Anonymous => matches!(class, PreAuth),
        }
    }
}
