# Shared setup for run.sh and test.sh: installs what a fresh Debian/Ubuntu machine lacks and
# starts a virtual display. Sourced, not executed; expects `set -euo pipefail` in the caller.

# The Debian packages Tauri 2 (WebKitGTK 4.1), the keychain tests (gnome-keyring over D-Bus), the
# WebDriver test (webkit2gtk-driver, Xvfb) and the network-namespace tests (iproute2) need.
CAMWARD_APT_PACKAGES=(
  libwebkit2gtk-4.1-dev libsoup-3.0-dev libjavascriptcoregtk-4.1-dev librsvg2-dev
  libayatana-appindicator3-dev build-essential pkg-config libssl-dev xvfb dbus dbus-x11
  gnome-keyring libdbus-1-dev libxml2-utils webkit2gtk-driver iproute2 openssl
  chromium fonts-dejavu-core poppler-utils
)

# Phase bookkeeping: every section header also records when it started, so the script can print
# how long each phase took at the end.
CAMWARD_PHASES=()
CAMWARD_PHASE_NAME=""
CAMWARD_PHASE_START=0

section() {
  phase_done
  CAMWARD_PHASE_NAME="$1"
  CAMWARD_FAILED_PHASE="$1"
  CAMWARD_PHASE_START=$SECONDS
  printf '\n\033[1m==> %s\033[0m\n' "$1"
}

phase_done() {
  if [[ -n "$CAMWARD_PHASE_NAME" ]]; then
    CAMWARD_PHASES+=("$(printf '%5ss  %s' "$((SECONDS - CAMWARD_PHASE_START))" "$CAMWARD_PHASE_NAME")")
    CAMWARD_PHASE_NAME=""
  fi
}

print_timings() {
  phase_done
  if ((${#CAMWARD_PHASES[@]} > 0)); then
    printf '\n==> Timings\n'
    printf '%s\n' "${CAMWARD_PHASES[@]}"
  fi
}

# On every exit, success or failure: stop the Xvfb this script started and show the timings.
CAMWARD_XVFB_PID=""
finish() {
  local status=$?
  if [[ -n "$CAMWARD_XVFB_PID" ]]; then
    kill "$CAMWARD_XVFB_PID" 2>/dev/null || true
  fi
  print_timings
  if ((status != 0)); then
    printf '\nFAILED (exit %s) in: %s\n' "$status" "${CAMWARD_FAILED_PHASE:-setup}" >&2
  fi
  return "$status"
}
trap finish EXIT

# Runs a command as root: directly when already root (as in CI), through sudo otherwise.
as_root() {
  if [[ $(id -u) -eq 0 ]]; then
    "$@"
  else
    sudo "$@"
  fi
}

# Installs the apt packages, skipping apt entirely when all of them are already installed.
ensure_apt_packages() {
  local missing=()
  local package status
  for package in "${CAMWARD_APT_PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)
    if [[ "$status" != "installed" ]]; then
      missing+=("$package")
    fi
  done
  if ((${#missing[@]} == 0)); then
    echo "all ${#CAMWARD_APT_PACKAGES[@]} system packages are installed"
    return
  fi
  echo "installing: ${missing[*]}"
  as_root apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${CAMWARD_APT_PACKAGES[@]}"
}

# Checks for the two toolchains the scripts do not install through apt: Rust (installed with
# rustup when missing, as rustup.rs documents) and Node.js >= 20.19 (Vite 8's minimum; Debian 12's
# own nodejs is 18, so it has to come from nodejs.org or NodeSource).
ensure_toolchains() {
  export PATH="$HOME/.cargo/bin:$PATH"
  if ! command -v cargo >/dev/null 2>&1; then
    echo "Rust is missing; installing it with rustup (https://rustup.rs)"
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --component clippy,rustfmt
  fi
  local node_version
  node_version=$(node --version 2>/dev/null || echo none)
  if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' 2>/dev/null; then
    echo "Node.js 20.19 or newer is needed (found: ${node_version}); see https://nodejs.org/en/download" >&2
    return 1
  fi
  echo "cargo $(cargo --version | cut -d' ' -f2), node ${node_version}"
}

# Installs the UI's npm packages exactly as locked in ui/package-lock.json.
ensure_ui_packages() {
  (cd ui && npm ci --no-audit --no-fund)
}

# Installs tauri-driver (the WebDriver intermediary for Tauri apps) into ~/.cargo/bin if missing.
ensure_tauri_driver() {
  export PATH="$HOME/.cargo/bin:$PATH"
  if command -v tauri-driver >/dev/null 2>&1; then
    echo "tauri-driver: $(command -v tauri-driver)"
    return
  fi
  cargo install tauri-driver --locked --root "$HOME/.cargo"
}

# Starts Xvfb on the first free display number and exports DISPLAY; stops it when the script exits.
start_xvfb() {
  local display
  for display in $(seq 90 140); do
    if [[ ! -e "/tmp/.X${display}-lock" && ! -e "/tmp/.X11-unix/X${display}" ]]; then
      break
    fi
  done
  Xvfb ":${display}" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
  CAMWARD_XVFB_PID=$!
  local waited=0
  until [[ -e "/tmp/.X11-unix/X${display}" ]]; do
    if ! kill -0 "$CAMWARD_XVFB_PID" 2>/dev/null || ((waited >= 100)); then
      echo "Xvfb did not start on :${display}" >&2
      return 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  export DISPLAY=":${display}"
  echo "Xvfb on DISPLAY=${DISPLAY}"
}
