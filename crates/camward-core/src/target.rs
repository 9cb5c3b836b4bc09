//! How a person names a camera (a URL, `host`, `host:port`) and how Camward keys it.

use crate::CoreError;

/// The ONVIF device service path most cameras use (ONVIF Core §5.1.1 recommends it).
pub const DEVICE_SERVICE_PATH: &str = "/onvif/device_service";

/// Turns what a person typed into a device service URL: `192.0.2.10` →
/// `http://192.0.2.10/onvif/device_service`; a URL with a path is kept as given.
pub fn device_url(input: &str) -> Result<String, CoreError> {
    let trimmed = input.trim();
    let invalid = |why: &str| CoreError {
        code: "invalid_url".into(),
        message: format!("{why}: {trimmed:?}"),
        camera: trimmed.to_owned(),
        step: "parse address".into(),
    };
    if trimmed.is_empty() {
        return Err(invalid("no camera address given"));
    }
    let (scheme, rest) = match trimmed.split_once("://") {
        Some((s, r)) if s.eq_ignore_ascii_case("http") || s.eq_ignore_ascii_case("https") => {
            (s.to_ascii_lowercase(), r)
        }
        Some((s, _)) => return Err(invalid(&format!("unsupported scheme {s:?}"))),
        None => ("http".to_owned(), trimmed),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    if authority.is_empty() || authority.contains(char::is_whitespace) || authority.contains('@') {
        return Err(invalid("not a camera address"));
    }
    let path = if path.is_empty() || path == "/" {
        DEVICE_SERVICE_PATH
    } else {
        path
    };
    Ok(format!("{scheme}://{authority}{path}"))
}

/// A stable key for a camera reached by address, used to file its credentials until its MAC is
/// known: `host:{authority}`.
pub fn camera_key(input: &str) -> String {
    let url = device_url(input).unwrap_or_else(|_| input.to_owned());
    let rest = url.split_once("://").map_or(url.as_str(), |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or(rest);
    format!("host:{authority}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_hosts_become_device_service_urls() {
        assert_eq!(
            device_url("192.0.2.10").unwrap(),
            "http://192.0.2.10/onvif/device_service"
        );
        assert_eq!(
            device_url("cam1:8080").unwrap(),
            "http://cam1:8080/onvif/device_service"
        );
        assert_eq!(
            device_url("HTTPS://cam1/").unwrap(),
            "https://cam1/onvif/device_service"
        );
        assert_eq!(
            device_url("http://[::1]:81/x/y").unwrap(),
            "http://[::1]:81/x/y"
        );
    }

    #[test]
    fn garbage_is_a_clear_error() {
        assert_eq!(device_url("").unwrap_err().code, "invalid_url");
        assert_eq!(device_url("ftp://cam").unwrap_err().code, "invalid_url");
        assert_eq!(device_url("a b").unwrap_err().code, "invalid_url");
        assert_eq!(
            device_url("http://user:pw@cam/").unwrap_err().code,
            "invalid_url"
        );
    }

    #[test]
    fn camera_keys_ignore_the_path() {
        assert_eq!(
            camera_key("http://192.0.2.10:80/onvif/device_service"),
            "host:192.0.2.10:80"
        );
        assert_eq!(camera_key("192.0.2.10"), "host:192.0.2.10");
    }
}
