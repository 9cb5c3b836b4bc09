//! ONVIF scopes: what a device says about itself in WS-Discovery (ONVIF Core §7.3.2.2).
//!
//! Scopes are URIs `onvif://www.onvif.org/<category>/<value>`; values are percent-encoded. The
//! categories Camward reads: `hardware` (model), `name`, `location`, `Profile` (`Streaming`,
//! `T`, `Q`, …) and Profile Q's state `Profile/Q/FactoryDefault` vs `Profile/Q/Operational`
//! (ONVIF Profile Q §7.2: a device in its factory state advertises FactoryDefault). Vendors add
//! their own: `MacAddress` and `SerialNumber` are common and read too.
use serde::Serialize;

const PREFIX: &str = "onvif://www.onvif.org/";

/// What the scopes of one device tell.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ScopeInfo {
    /// `hardware/…`: the model.
    pub hardware: Option<String>,
    /// `name/…`.
    pub name: Option<String>,
    /// `location/…` (may repeat; the first is kept).
    pub location: Option<String>,
    /// `MacAddress/…`, lower-case with colons.
    pub mac: Option<String>,
    /// `SerialNumber/…`.
    pub serial: Option<String>,
    /// `Profile/…` names (`Streaming`, `T`, `Q`, …).
    pub profiles: Vec<String>,
    /// `Profile/Q/FactoryDefault`: the device says it is in its factory state.
    pub factory_default: bool,
}

fn decode(value: &str) -> String {
    form_urlencoded::parse(format!("v={}", value.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Lower-case, colon-separated; `None` unless it is six hex octets (with `:`, `-` or nothing).
pub fn normalise_mac(raw: &str) -> Option<String> {
    let hex: String = raw.chars().filter(|c| !matches!(c, ':' | '-')).collect();
    if hex.len() != 12 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let hex = hex.to_ascii_lowercase();
    Some(
        (0..6)
            .map(|i| &hex[i * 2..i * 2 + 2])
            .collect::<Vec<_>>()
            .join(":"),
    )
}

impl ScopeInfo {
    /// Reads the scopes a device sent; unknown or foreign scopes are ignored.
    pub fn from_scopes<S: AsRef<str>>(scopes: &[S]) -> Self {
        let mut info = ScopeInfo::default();
        for scope in scopes {
            let Some(rest) = scope.as_ref().strip_prefix(PREFIX) else {
                continue;
            };
            let (category, value) = rest.split_once('/').unwrap_or((rest, ""));
            let value = decode(value);
            if value.is_empty() {
                continue;
            }
            match category {
                "hardware" => info.hardware = info.hardware.or(Some(value)),
                "name" => info.name = info.name.or(Some(value)),
                "location" => info.location = info.location.or(Some(value)),
                "MacAddress" => info.mac = info.mac.or_else(|| normalise_mac(&value)),
                "SerialNumber" => info.serial = info.serial.or(Some(value)),
                "Profile" => {
                    if value == "Q/FactoryDefault" {
                        info.factory_default = true;
                    }
                    let profile = value.split('/').next().unwrap_or_default().to_owned();
                    if !info.profiles.contains(&profile) {
                        info.profiles.push(profile);
                    }
                }
                _ => {}
            }
        }
        info
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_of_a_factory_fresh_camera() {
        let info = ScopeInfo::from_scopes(&[
            "onvif://www.onvif.org/hardware/M3045-V",
            "onvif://www.onvif.org/name/Lobby%20cam",
            "onvif://www.onvif.org/Profile/Streaming",
            "onvif://www.onvif.org/Profile/Q/FactoryDefault",
            "onvif://www.onvif.org/MacAddress/AC-CC-8E-00-00-01",
            "onvif://www.onvif.org/SerialNumber/ACCC8E000001",
            "onvif://www.onvif.org/location/country/Japan",
            "http://example.invalid/other",
            "onvif://www.onvif.org/name/",
        ]);
        assert_eq!(info.hardware.as_deref(), Some("M3045-V"));
        assert_eq!(info.name.as_deref(), Some("Lobby cam"));
        assert_eq!(info.mac.as_deref(), Some("ac:cc:8e:00:00:01"));
        assert_eq!(info.serial.as_deref(), Some("ACCC8E000001"));
        assert_eq!(info.location.as_deref(), Some("country/Japan"));
        assert_eq!(info.profiles, ["Streaming", "Q"]);
        assert!(info.factory_default);
        let operational = ScopeInfo::from_scopes(&["onvif://www.onvif.org/Profile/Q/Operational"]);
        assert!(!operational.factory_default);
    }

    #[test]
    fn macs_are_normalised_or_refused() {
        assert_eq!(
            normalise_mac("ACCC8E000001").as_deref(),
            Some("ac:cc:8e:00:00:01")
        );
        assert_eq!(
            normalise_mac("ac:cc:8e:00:00:01").as_deref(),
            Some("ac:cc:8e:00:00:01")
        );
        assert_eq!(normalise_mac("ac:cc:8e:00:00"), None);
        assert_eq!(normalise_mac("zz:cc:8e:00:00:01"), None);
        assert_eq!(normalise_mac("ä"), None);
    }
}
