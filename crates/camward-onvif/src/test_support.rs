//! Helpers shared by the unit tests of this crate.

/// Writes `xml` to a temporary file and runs the ONVIF schema validator on it.
pub(crate) fn assert_schema_valid(xml: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("message.xml");
    std::fs::write(&path, xml).unwrap();
    let out = std::process::Command::new("/work/shared/onvif-schema/validate")
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
