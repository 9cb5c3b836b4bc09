#!/usr/bin/env bash
# Measures the desktop app's footprint (issue 7) and prints the figures:
#   - installer sizes: `tauri build` of the release app as .deb and AppImage;
#   - start to first screen, and memory (RSS and PSS, app + WebKit processes) with 100 simulated
#     cameras listed: tests/desktop/benches/footprint.rs on that release binary, under Xvfb.
# Sets up what it needs like scripts/test.sh. Usage: ./scripts/footprint.sh [LAUNCHES]
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

section "Setup"
ensure_apt_packages
ensure_toolchains
ensure_ui_packages
ensure_tauri_driver

section "UI build"
(cd ui && npm run build)

section "tauri build --bundles deb,appimage (release)"
# The AppImage bundler downloads linuxdeploy on first use; without network only the .deb is made.
bundles_ok=1
(cd src-tauri && ../ui/node_modules/.bin/tauri build --bundles deb,appimage) || bundles_ok=0
bundle_dir=target/release/bundle
echo
echo "installer sizes:"
for file in "$bundle_dir"/deb/*.deb "$bundle_dir"/appimage/*.AppImage; do
  [[ -f "$file" ]] || continue
  awk -v name="$(basename "$file")" -v bytes="$(stat -c %s "$file")" 'BEGIN { printf "  %-40s %6.1f MB\n", name, bytes / 1e6 }'
done
if [[ $bundles_ok == 0 ]]; then
  echo "  (tauri build failed for at least one bundle: see its output above)"
fi
awk -v bytes="$(stat -c %s target/release/camward-desktop)" 'BEGIN { printf "  %-40s %6.1f MB\n", "release binary camward-desktop", bytes / 1e6 }'

section "start to first screen, memory with 100 cameras listed (release binary, Xvfb)"
start_xvfb
cargo bench -p camward-desktop-e2e --bench footprint -- "${1:-5}"
phase_done
