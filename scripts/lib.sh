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

# Runs "$@" in a D-Bus session of its own whose Secret Service is a gnome-keyring-daemon holding
# its keyrings under $1/data (XDG_DATA_HOME), unlocked with the password "camward". Its control
# socket goes under $1/run (XDG_RUNTIME_DIR), so nothing is left in ~/.cache.
# The session bus gets no DISPLAY, so an unlock prompt fails at once instead of waiting under Xvfb
# for a person; set CAMWARD_DISPLAY to hand a display to the command itself.
# gnome-keyring-daemon 42 (Debian 12) can abort while serving a client that disconnects in the
# middle of opening its session (see crates/camward-cli/tests/common/soak.rs). The bus then starts
# the service again on the next call, and by the stock service file that daemon comes back locked,
# so every later test would fail for a reason that is not theirs. So the daemon is started only by
# the bus, on the first call, through this session's own service file (found before the stock
# one): unlocked, with the same keyrings, every time. Each start is noted in $1/starts, and
# keychain_restarts prints any start after the first: a restart is shown, never hidden. (Starting
# the daemon by hand beforehand instead races with the first call: the bus may start a second
# daemon before the first has claimed the name, and the two write login.keyring at once.)
keychain_session() {
  local dir=$1
  shift
  mkdir -p "$dir/data" "$dir/services" "$dir/run"
  chmod 700 "$dir/run"
  cat >"$dir/start-keyring" <<SCRIPT
#!/bin/sh
date '+%H:%M:%S' >>'$dir/starts'
printf camward | exec gnome-keyring-daemon --foreground --unlock --components=secrets
SCRIPT
  chmod +x "$dir/start-keyring"
  printf '[D-BUS Service]\nName=org.freedesktop.secrets\nExec=%s\n' "$dir/start-keyring" \
    >"$dir/services/org.freedesktop.secrets.service"
  cat >"$dir/session.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <keep_umask/>
  <listen>unix:tmpdir=/tmp</listen>
  <auth>EXTERNAL</auth>
  <servicedir>$dir/services</servicedir>
  <standard_session_servicedirs/>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
CONF
  env -u DISPLAY XDG_DATA_HOME="$dir/data" XDG_RUNTIME_DIR="$dir/run" dbus-run-session --config-file="$dir/session.conf" -- \
    sh -c 'if [ -n "${CAMWARD_DISPLAY:-}" ]; then export DISPLAY="$CAMWARD_DISPLAY"; fi
      exec "$@"' keychain-session "$@"
}

# Prints when the keychain daemon of the session kept in $1 had to be started again, if ever.
keychain_restarts() {
  if [[ -s "$1/starts" ]] && (($(wc -l <"$1/starts") > 1)); then
    printf 'NOTE: the keychain daemon of this session stopped and the bus started it again (unlocked); it started at: %s\n' \
      "$(tr '\n' ' ' <"$1/starts")" >&2
  fi
}
