#!/usr/bin/env bash
# Runs every test of Camward on a fresh Debian/Ubuntu machine (installs what is missing first).
# Exits non-zero on the first failure. Usage: ./scripts/test.sh
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
section "Setup: tauri-driver"
ensure_tauri_driver

section "cargo fmt --all --check"
cargo fmt --all --check

# The UI is checked and built before clippy because clippy compiles the desktop crate, whose
# `tauri::generate_context!()` embeds ui/dist at compile time and fails when it does not exist.
section "UI type check (svelte-check + tsc)"
(cd ui && npm run check)
section "UI component tests (Vitest, jsdom)"
(cd ui && npm test)
section "UI build"
(cd ui && npm run build)

# Clippy lints while the tests are built, instead of in a check build of its own: the workspace's
# crates are compiled by clippy-driver (RUSTC_WORKSPACE_WRAPPER, the way `cargo clippy` itself
# runs it), which lints every target as `cargo clippy --workspace --all-targets -- -D warnings`
# would and then compiles it. Dependencies are compiled once instead of twice (a check build and
# a real one; CI's clippy phase alone took over six minutes). Exported, so that the test run
# below finds everything built with the same settings.
export RUSTC_WORKSPACE_WRAPPER
RUSTC_WORKSPACE_WRAPPER=$(rustup which clippy-driver 2>/dev/null || command -v clippy-driver)
export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
section "build every target, clippy linting it (-D warnings)"
cargo build -p camward-desktop
cargo test --workspace --all-targets --no-run

section "cargo test --workspace (Xvfb, D-Bus session, unlocked gnome-keyring)"
start_xvfb
# Each test session gets a keychain daemon of its own (scripts/lib.sh, keychain_session), with a
# keyring directory of its own: daemons that share ~/.local/share/keyrings reload each other's
# rewrites of login.keyring, and a search in the middle of a reload misses items that are there.
# It also keeps test entries out of the keyring of whoever runs the tests. The session bus gets no
# DISPLAY (an unlock prompt must fail at once, never wait under Xvfb); the tests get it.
# The rotation crash test SIGKILLs keychain clients on purpose, which can crash gnome-keyring-daemon
# (a daemon bug, see crates/camward-cli/tests/common/soak.rs); it gets a session and daemon of its
# own below, so no other test shares a daemon it may bring down.
CRASH_TEST=rotation_killed_at_random_points_always_resumes_to_a_known_password
# (Under /tmp, removed when the tests pass; lib.sh owns the EXIT trap.)
KEYRINGS=$(mktemp -d)
CAMWARD_DISPLAY="$DISPLAY" keychain_session "$KEYRINGS/workspace" \
  cargo test --workspace -- --skip "$CRASH_TEST" || {
  keychain_restarts "$KEYRINGS/workspace"
  exit 101
}
keychain_restarts "$KEYRINGS/workspace"

section "rotation crash test (its own D-Bus session and keychain daemon)"
keychain_session "$KEYRINGS/crash" cargo test --workspace --test crash -- --exact "$CRASH_TEST"

rm -rf "$KEYRINGS"
phase_done
echo "All tests passed."
