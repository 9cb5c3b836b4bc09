//! Hardening: each control of the catalog ([`catalog`]) checked on a camera, as a [`Finding`] a
//! person can read, gathered in a [`Scorecard`].
//!
//! A check is read-only. It asks the camera what it can over ONVIF (logged in), and verifies from
//! outside what a camera could claim falsely or cannot say at all (an unauthenticated request
//! refused, the 401's auth schemes, a port closed, no answer to a v2c get). Where neither is
//! possible — a setting only the camera's web page shows — the finding is *manual-needed* with
//! the menu path, never *pass*.
pub mod audit;
pub mod catalog;
pub mod commission;
pub mod dot1x;
pub mod prelogin;
pub mod report;

use serde::{Deserialize, Serialize};

pub use camward_policy::plan::Level;

/// The outcome of one control on one camera.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Hardened, and Camward saw it.
    Pass,
    /// Not hardened.
    Fail,
    /// Camward cannot see it: a person checks on the camera (menu path given).
    ManualNeeded,
    /// Does not apply to this camera (no such feature, or left out by the site plan).
    NotApplicable,
    /// The check could not run (the camera refused or failed to answer); the evidence says why.
    Unknown,
}

impl Status {
    /// The word shown in tables.
    pub fn label(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "FAIL",
            Status::ManualNeeded => "manual",
            Status::NotApplicable => "n/a",
            Status::Unknown => "unknown",
        }
    }
}

/// One control's result on one camera.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The catalog id.
    pub control: &'static str,
    /// The outcome.
    pub status: Status,
    /// What Camward saw, in words a person can check (never a secret).
    pub evidence: String,
    /// What to do when it is not a pass (the API Camward would use, or the menu path).
    pub fix: Option<String>,
}

/// Every finding of one camera at one level.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Scorecard {
    /// The camera's device service URL.
    pub camera: String,
    /// Manufacturer and model, when read.
    pub model: Option<String>,
    /// Serial number, when read.
    pub serial: Option<String>,
    /// The level audited.
    pub level: Level,
    /// One per control of the level, in the catalog's order.
    pub findings: Vec<Finding>,
}

impl Scorecard {
    /// How many findings have `status`.
    pub fn count(&self, status: Status) -> usize {
        self.findings.iter().filter(|f| f.status == status).count()
    }

    /// Passes over the controls that apply, as a percentage (0 when none apply).
    pub fn score(&self) -> u8 {
        let applicable = self.findings.len() - self.count(Status::NotApplicable);
        if applicable == 0 {
            return 0;
        }
        (self.count(Status::Pass) * 100 / applicable) as u8
    }
}

/// Keeps one audit or commissioning result in the inventory for reports. A failure to keep it is
/// logged, never fatal: the camera's hardening itself succeeded.
pub(crate) fn keep_run(
    vault: &crate::credentials::Vault,
    camera: &str,
    site: Option<&str>,
    kind: camward_vault::RunKind,
    level: Level,
    body: &impl Serialize,
) {
    let body = match serde_json::to_string(body) {
        Ok(body) => body,
        Err(e) => {
            tracing::warn!(camera, error = %e, "hardening result not kept");
            return;
        }
    };
    let level = level.to_string();
    let run = camward_vault::NewHardeningRun {
        camera,
        site,
        kind,
        level: &level,
        body: &body,
    };
    if let Err(e) = vault.inventory.record_hardening_run(&run) {
        tracing::warn!(camera, error = %e, "hardening result not kept");
    }
}
