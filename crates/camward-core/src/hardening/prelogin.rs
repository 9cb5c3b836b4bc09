//! The audit of a camera Camward cannot log in to yet (no password in the keychain: a
//! factory-fresh camera has no administrator at all), from what the camera tells anyone.
//!
//! [`super::audit::audit`] needs a password (`no_password` without one), but for a factory-fresh
//! camera what it tells anyone is the point: it is open to anyone. This scorecard is built from
//! the unauthenticated use cases only (`probe`, `first_boot::detect`) and the catalog: every
//! control that cannot be seen without a login is `unknown`, never `pass`.
use super::{catalog, Finding, Level, Scorecard, Status};
use crate::first_boot::{FactoryState, FirstBootMethod};
use crate::probe::ProbeReport;
use crate::CoreError;

/// What a camera without a login showed: a partial scorecard and whether it is factory-fresh.
#[derive(Debug)]
pub struct PreLogin {
    /// One finding per control of `level`; controls that need a login are `unknown`.
    pub scorecard: Scorecard,
    /// True when the camera has no administrator yet.
    pub factory_fresh: bool,
}

fn method_words(method: FirstBootMethod) -> &'static str {
    match method {
        FirstBootMethod::Onvif => "by ONVIF CreateUsers, allowed anonymously in the factory state",
        FirstBootMethod::Axis => "by Axis VAPIX, as the root password",
        FirstBootMethod::Hikvision => "by Hikvision ISAPI activation",
        FirstBootMethod::Guided => "by a person, on the camera's own first-access page",
    }
}

/// Audits the camera at `url` at `level` without credentials. `why` is the reason there is no
/// login (the audit's `no_password` error), quoted in the findings that need one.
pub async fn audit(url: &str, level: Level, why: &CoreError) -> Result<PreLogin, CoreError> {
    let (report, state) = tokio::join!(crate::probe::probe(url), crate::first_boot::detect(url));
    let (report, state) = match (report, state) {
        (Err(e), Err(_)) => return Err(e),
        (report, state) => (report, state.ok()),
    };
    let factory_fresh = state.as_ref().is_some_and(|s| s.factory_fresh)
        || report.as_ref().is_ok_and(|r| r.anonymous_access);
    let needs_login = if factory_fresh {
        "needs a login: the camera has no administrator yet (factory state)".to_owned()
    } else {
        format!("needs a login: {}", why.message)
    };
    let findings = catalog::for_level(level)
        .map(|info| check(info.id, &report, state.as_ref(), &needs_login))
        .collect();
    let report = report.ok();
    let model = report
        .as_ref()
        .and_then(|r| match (&r.manufacturer, &r.model) {
            (Some(make), Some(model)) => Some(format!("{make} {model}")),
            (Some(one), None) | (None, Some(one)) => Some(one.clone()),
            (None, None) => None,
        });
    Ok(PreLogin {
        scorecard: Scorecard {
            camera: report
                .as_ref()
                .map_or_else(|| url.to_owned(), |r| r.url.clone()),
            model,
            serial: report.and_then(|r| r.serial),
            level,
            findings,
        },
        factory_fresh,
    })
}

fn finding(control: &'static str, status: Status, evidence: String, fix: Option<&str>) -> Finding {
    Finding {
        control,
        status,
        evidence,
        fix: fix.map(str::to_owned),
    }
}

/// One control from what was seen without credentials.
fn check(
    control: &'static str,
    report: &Result<ProbeReport, CoreError>,
    state: Option<&FactoryState>,
    needs_login: &str,
) -> Finding {
    match (control, report, state) {
        ("admin-password", _, Some(state)) if state.factory_fresh => finding(
            control,
            Status::Fail,
            format!(
                "factory state: no administrator yet; the first one is set {}",
                method_words(state.method)
            ),
            Some("create the first administrator (commissioning does this first)"),
        ),
        ("guest-off", Ok(report), _) if report.anonymous_access => finding(
            control,
            Status::Fail,
            "the camera answered GetDeviceInformation without credentials".into(),
            Some("create an administrator; clear every anonymous privilege"),
        ),
        ("guest-off", Ok(_), _) => finding(
            control,
            Status::Unknown,
            format!("an anonymous GetDeviceInformation was refused; the snapshot check {needs_login}"),
            None,
        ),
        ("time-sync", Ok(report), _) if !report.time_mode.eq_ignore_ascii_case("ntp") => finding(
            control,
            Status::Fail,
            format!(
                "DateTimeType {}; clock {:.1} s off this computer's",
                report.time_mode, report.clock_offset_s
            ),
            Some("ONVIF SetNTP and SetSystemDateAndTime(DateTimeType=NTP), after an SNTP query shows the server answers"),
        ),
        (_, Err(e), _) if matches!(control, "guest-off" | "time-sync") => finding(
            control,
            Status::Unknown,
            format!("ONVIF did not answer without credentials ({}: {})", e.code, e.message),
            None,
        ),
        _ => finding(control, Status::Unknown, needs_login.to_owned(), None),
    }
}
