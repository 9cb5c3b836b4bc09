#!/usr/bin/env bash
# Installs what Camward needs on a fresh Debian/Ubuntu machine, builds it and starts the desktop
# app. Usage: ./scripts/run.sh [--demo]   (--demo: a simulated site of in-process cameras)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

section "Setup: system packages"
ensure_apt_packages
section "Setup: Rust and Node.js"
ensure_toolchains
section "Setup: UI packages (npm ci)"
ensure_ui_packages
section "UI build"
(cd ui && npm run build)
section "Desktop app build"
cargo build -p camward-desktop
phase_done

if [[ -z "${DISPLAY:-}" && -z "${WAYLAND_DISPLAY:-}" ]]; then
  echo "No display found (DISPLAY/WAYLAND_DISPLAY unset); starting a virtual one with Xvfb." >&2
  start_xvfb
fi
echo "Starting Camward $*"
target/debug/camward-desktop "$@"
