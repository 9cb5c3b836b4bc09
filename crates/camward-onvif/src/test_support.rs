//! Helpers shared by the unit tests of this crate.

/// Writes `xml` to a temporary file and runs the ONVIF schema validator on it.
pub(crate) fn assert_schema_valid(xml: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("message.xml");
    std::fs::write(&path, xml).unwrap();
    // `shared/` lies beside the repository's folder, wherever that was cloned.
    let validate = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/onvif-schema/validate");
    let out = std::process::Command::new(validate)
        .arg(&path)
        .output()
        .expect("run the ONVIF schema validator");
    assert!(
        out.status.success(),
        "schema validation failed ({:?}):\n{}\n{}\n{xml}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
