//! Generates the Tauri context (config, icons, capabilities) the `generate_context!` macro reads.
fn main() {
    tauri_build::build();
}
