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

# mksquashfs packs the AppImage when linuxdeploy cannot be downloaded (scripts/appimage/).
CAMWARD_APT_PACKAGES+=(squashfs-tools)

section "Setup"
ensure_apt_packages
ensure_toolchains
ensure_ui_packages
ensure_tauri_driver

section "UI build"
(cd ui && npm run build)

tauri=../ui/node_modules/.bin/tauri
bundle_dir=target/release/bundle
rm -rf "$bundle_dir/deb" "$bundle_dir/appimage"

section "tauri build --bundles deb (release)"
deb_ok=1
(cd src-tauri && "$tauri" build --bundles deb) || deb_ok=0

section "tauri build --bundles appimage (release)"
# Tauri downloads linuxdeploy and AppRun from GitHub on first use. Where GitHub cannot be
# reached, its tools folder is filled offline instead (scripts/appimage/tools.sh: the AppImage
# runtime from crates.io and a stand-in for linuxdeploy), and a download it still tries goes to
# a closed port, so it fails at once instead of waiting.
appimage_ok=1
if timeout 10 bash -c '</dev/tcp/github.com/443' 2>/dev/null; then
  appimage_tools="linuxdeploy, downloaded by Tauri"
  (cd src-tauri && "$tauri" build --bundles appimage) || appimage_ok=0
else
  # shellcheck source=scripts/appimage/tools.sh
  source scripts/appimage/tools.sh
  appimage_cache=$(mktemp -d)
  appimage_offline_tools "$appimage_cache"
  appimage_tools="GitHub unreachable: the offline stand-in for linuxdeploy, scripts/appimage/"
  (cd src-tauri && XDG_CACHE_HOME="$appimage_cache" TAURI_BUNDLER_TOOLS_GITHUB_MIRROR=http://127.0.0.1:9/ \
    "$tauri" build --bundles appimage) || appimage_ok=0
  rm -rf "$appimage_cache"
fi

section "AppImage starts (extract-and-run, Xvfb)"
start_xvfb
appimage_starts="not built"
# The running web view of an AppImage started from folder $1: a WebKitWebProcess whose program
# is the AppImage's own copy, in its extracted image.
appimage_web_view() {
  local pid
  for pid in $(pgrep -f WebKitWebProcess || true); do
    [[ "$(readlink "/proc/$pid/exe" 2>/dev/null)" == "$1"/appimage_extracted_*/* ]] && return 0
  done
  return 1
}
for image in "$bundle_dir"/appimage/*.AppImage; do
  [[ -f "$image" ]] || continue
  # Started from a folder of its own, with no FUSE needed (the runtime extracts the image there
  # first); it has started when its web view runs.
  run_dir=$(mktemp -d)
  image_path=$(readlink -f "$image")
  (cd "$run_dir" && APPIMAGE_EXTRACT_AND_RUN=1 TMPDIR="$run_dir" "$image_path" --demo >"$run_dir/out.log" 2>&1) &
  app_pid=$!
  appimage_starts="no web view within 90 s; its output: $(tail -n 5 "$run_dir/out.log" | tr '\n' ' ')"
  started=$SECONDS
  while ((SECONDS - started < 90)); do
    if appimage_web_view "$run_dir"; then
      appimage_starts="yes: its own WebKitWebProcess ran $((SECONDS - started)) s after the start (extracting the image first)"
      break
    fi
    kill -0 "$app_pid" 2>/dev/null || {
      appimage_starts="no: it exited; its output: $(tail -n 5 "$run_dir/out.log" | tr '\n' ' ')"
      break
    }
    sleep 1
  done
  # Everything it started runs from its folder: stop that, then wait for the runtime's own
  # clean-up of the extracted image before removing the folder.
  pkill -f "$run_dir/appimage_extracted" 2>/dev/null || true
  for pid in $(pgrep -f WebKit || true); do
    [[ "$(readlink "/proc/$pid/exe" 2>/dev/null)" == "$run_dir"/* ]] && kill "$pid" 2>/dev/null
  done
  kill "$app_pid" 2>/dev/null || true
  wait "$app_pid" 2>/dev/null || true
  for _ in $(seq 50); do
    pgrep -f "$run_dir/appimage_extracted" >/dev/null || break
    sleep 0.2
  done
  rm -rf "$run_dir" || echo "  (could not remove $run_dir)"
done

echo
echo "installer sizes:"
for file in "$bundle_dir"/deb/*.deb "$bundle_dir"/appimage/*.AppImage; do
  [[ -f "$file" ]] || continue
  awk -v name="$(basename "$file")" -v bytes="$(stat -c %s "$file")" 'BEGIN { printf "  %-40s %6.1f MB\n", name, bytes / 1e6 }'
done
if [[ $deb_ok == 0 || $appimage_ok == 0 ]]; then
  echo "  (tauri build failed for at least one bundle: see its output above)"
fi
echo "  AppImage made with: ${appimage_tools}"
echo "  AppImage starts: ${appimage_starts}"
awk -v bytes="$(stat -c %s target/release/camward-desktop)" 'BEGIN { printf "  %-40s %6.1f MB\n", "release binary camward-desktop", bytes / 1e6 }'

section "start to first screen, memory with 100 cameras listed (release binary, Xvfb)"
cargo bench -p camward-desktop-e2e --bench footprint -- "${1:-5}"
phase_done
