# The tools Tauri's AppImage bundler needs, made without GitHub (sourced by scripts/footprint.sh).
#
# tauri-bundler downloads linuxdeploy and AppRun from GitHub releases into its tools folder
# ($XDG_CACHE_HOME/tauri) and runs them from there when they are not there already; a machine
# that reaches only the package registries cannot get them. appimage_offline_tools DIR fills
# DIR/tauri with:
#   - AppRun-x86_64: scripts/appimage/AppRun;
#   - linuxdeploy-07333c6-x86_64.AppImage: scripts/appimage/linuxdeploy-standin packed as an
#     AppImage (Tauri clears three bytes of its ELF header before running it, so it must be an
#     ELF file, not a script), under the name tauri-bundler 2.10 looks for;
#   - linuxdeploy-plugin-appimage.AppImage: empty (Tauri only wants it present; the stand-in
#     writes the AppImage itself);
# and the AppImage type-2 runtime (AppImageKit's, MIT) that both AppImages start with, taken from
# the `appimage` crate on crates.io, checked against its SHA-256.

APPIMAGE_CRATE_VERSION=0.4.0
APPIMAGE_RUNTIME_SHA256=328e0d745c5c6817048c27bc3e8314871703f8f47ffa81a37cb06cd95a94b323
APPIMAGE_LINUXDEPLOY_NAME=linuxdeploy-07333c6-x86_64.AppImage

# Prints the path of the runtime from the `appimage` crate, fetching the crate first.
appimage_runtime() {
  local fetch=target/appimage-runtime
  mkdir -p "$fetch/src"
  cat >"$fetch/Cargo.toml" <<TOML
[package]
name = "appimage-runtime-fetch"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
appimage = "=$APPIMAGE_CRATE_VERSION"

[workspace]
TOML
  : >"$fetch/src/lib.rs"
  cargo fetch --quiet --manifest-path "$fetch/Cargo.toml" >&2
  local runtime
  runtime=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/"appimage-$APPIMAGE_CRATE_VERSION"/assets/runtime-x86_64 | head -n 1)
  if [[ "$(sha256sum "$runtime" | cut -d' ' -f1)" != "$APPIMAGE_RUNTIME_SHA256" ]]; then
    echo "the AppImage runtime in $runtime is not the one expected" >&2
    return 1
  fi
  echo "$runtime"
}

appimage_offline_tools() {
  local tools="$1/tauri" here=scripts/appimage runtime packed
  runtime=$(appimage_runtime)
  mkdir -p "$tools"
  packed=$(mktemp -d)
  cp "$here/linuxdeploy-standin" "$packed/AppRun"
  cp "$here/excludelist" "$packed/excludelist"
  cp "$runtime" "$packed/runtime-x86_64"
  mksquashfs "$packed" "$packed.squashfs" -root-owned -noappend -quiet -comp xz
  cat "$runtime" "$packed.squashfs" >"$tools/$APPIMAGE_LINUXDEPLOY_NAME"
  chmod 755 "$tools/$APPIMAGE_LINUXDEPLOY_NAME"
  rm -rf "$packed" "$packed.squashfs"
  install -m 755 "$here/AppRun" "$tools/AppRun-x86_64"
  : >"$tools/linuxdeploy-plugin-appimage.AppImage"
  echo "AppImage tools made offline in $tools (linuxdeploy: the stand-in of $here)"
}
