//! Device Management operations (devicemgmt.wsdl, ONVIF Core §8).
use time::OffsetDateTime;

use crate::error::OnvifError;

/// How the camera sets its clock (tt:SetDateTimeType).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum DateTimeType {
    /// Set by hand (SetSystemDateAndTime with UTCDateTime).
    Manual,
    /// Synchronised with NTP.
    #[serde(rename = "NTP")]
    Ntp,
}

/// Reply of GetSystemDateAndTime (pre-authentication, ONVIF Core §8.3.10).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SystemDateAndTime {
    /// Manual or NTP.
    pub date_time_type: DateTimeType,
    /// Daylight saving in effect.
    pub daylight_savings: bool,
    /// POSIX TZ string, when the camera reports one.
    pub time_zone: Option<String>,
    /// The camera's UTC time, when it reports one (it is optional in the schema).
    pub utc: Option<OffsetDateTime>,
}

/// Reads a `tds:GetSystemDateAndTimeResponse` payload element.
pub(crate) fn parse_system_date_and_time(
    payload: roxmltree::Node<'_, '_>,
) -> Result<SystemDateAndTime, OnvifError> {
    let _ = payload;
    todo!("helper: device operations")
}
