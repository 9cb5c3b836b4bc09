//! The guided first boot, for cameras (Canon, i-PRO) whose first administrator is set by a person
//! on the camera's first-access web page: Camward shows the page address and the generated
//! password, the person enters it and confirms, and Camward then verifies an ONVIF login with it.
//!
//! Recognising the page: this is written against camsim's simulated page (a form marked
//! `id="first-access"` at `/` while the camera has no account). Real Canon and i-PRO pages differ
//! by model and firmware; their markers belong here once they are known from real devices.
use crate::{VendorError, VendorHttp};

/// The marker of a first-access form.
pub const FIRST_ACCESS_MARKER: &str = "id=\"first-access\"";

/// The address of the camera's first-access page, when the camera shows one (it only does while
/// it has no administrator); `Ok(None)` otherwise.
pub async fn first_access_page(http: &VendorHttp) -> Result<Option<String>, VendorError> {
    let r = http.send("GET", "/", None, Vec::new()).await?;
    let shows_form =
        r.status == 200 && String::from_utf8_lossy(&r.body).contains(FIRST_ACCESS_MARKER);
    Ok(shows_form.then(|| format!("{}/", http.origin())))
}
