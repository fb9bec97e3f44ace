#!/usr/bin/env bash
# Installs everything mast needs to build, test and benchmark on Debian 12:
#   1. Debian packages (only the missing ones; needs root or sudo),
#   2. Boost 1.81 headers, unpacked from the Debian package file into the cache
#      (installing libboost1.81-dev would make apt remove python3-sklearn),
#   3. ONNX Runtime 1.29.0 from the npm registry, SHA-256 checked.
# The cache lives outside the source tree: $MAST_DEPS_DIR, default
# ~/.cache/mast-deps. Prints the cache path on the last line of stdout.
# Safe to run again: every step is skipped when its result is already there.
set -euo pipefail

DEPS_DIR="${MAST_DEPS_DIR:-$HOME/.cache/mast-deps}"
ORT_NPM_PACKAGE="com.github.asus4.onnxruntime@0.4.9"
ORT_TARBALL_SHA256="e59788788818fdde1b2e522e766a21ba0f7d8391de55737abf81e32cc801785d"
ORT_LIB_SHA256="5715f06d8992ca8eeeddcce43df3a7d38f97d537052126f558e912cb312460ca"

APT_PACKAGES=(
  # build
  build-essential cmake ninja-build ccache pkg-config
  libssl-dev libsqlite3-dev libpq-dev libxgboost-dev libyaml-cpp-dev libjemalloc-dev
  libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  curl ca-certificates
  # test fixtures and checks (promtool ships in the prometheus package);
  # postgresql-15: the store tests start their own throwaway server from
  # /usr/lib/postgresql/15/bin (the packaged cluster is not started, see below)
  python3-onnx python3-numpy python3-sklearn python3-xgboost prometheus
  postgresql-15
  # benchmark baseline
  wrk nginx-light valgrind python3-fastapi python3-uvicorn python3-joblib python3-pandas
  python3-uvloop python3-httptools
)

log() { echo "setup: $*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

install_apt_packages() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$p")
    fi
  done
  # npm fetches ONNX Runtime; a Node.js from elsewhere that bundles npm is fine.
  if ! command -v npm >/dev/null; then
    missing+=(nodejs npm)
  fi
  if [ ${#missing[@]} -eq 0 ]; then
    return
  fi
  log "installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  # RUNLEVEL=1 makes invoke-rc.d skip starting daemons from package scripts
  # (prometheus, postgresql); without systemd nothing else starts them.
  as_root env DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 \
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

fetch_boost_headers() {
  local dest="$DEPS_DIR/boost-1.81"
  if [ -f "$dest/usr/include/boost/version.hpp" ]; then
    return
  fi
  log "fetching Boost 1.81 headers into $dest"
  local tmp
  tmp="$(mktemp -d)"
  chmod 777 "$tmp"  # apt-get download runs as _apt when root
  (cd "$tmp" && apt-get download libboost1.81-dev >&2)
  rm -rf "$dest.partial"
  dpkg -x "$tmp"/libboost1.81-dev_*.deb "$dest.partial"
  rm -rf "$dest" && mv "$dest.partial" "$dest"
  rm -rf "$tmp"
}

fetch_onnxruntime() {
  local dest="$DEPS_DIR/onnxruntime-1.29.0"
  if [ -f "$dest/lib/libonnxruntime.so.1" ] && [ -f "$dest/include/onnxruntime_cxx_api.h" ]; then
    return
  fi
  log "fetching ONNX Runtime 1.29.0 ($ORT_NPM_PACKAGE) into $dest"
  local tmp
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "$ORT_NPM_PACKAGE" >/dev/null)
  local tarball
  tarball="$(ls "$tmp"/*.tgz)"
  echo "$ORT_TARBALL_SHA256  $tarball" | sha256sum -c --quiet - || {
    log "ONNX Runtime tarball SHA-256 mismatch: $(sha256sum "$tarball")"; exit 1; }
  tar -xzf "$tarball" -C "$tmp"
  local lib="$tmp/package/Plugins/Linux/x64/libonnxruntime.so"
  local headers="$tmp/package/Plugins/iOS~/onnxruntime.xcframework/ios-arm64_x86_64-simulator/onnxruntime.framework/Headers"
  echo "$ORT_LIB_SHA256  $lib" | sha256sum -c --quiet - || {
    log "libonnxruntime.so SHA-256 mismatch"; exit 1; }
  rm -rf "$dest.partial"
  mkdir -p "$dest.partial/lib" "$dest.partial/include"
  cp "$lib" "$dest.partial/lib/"
  ln -s libonnxruntime.so "$dest.partial/lib/libonnxruntime.so.1"
  cp -r "$headers"/. "$dest.partial/include/"
  rm -rf "$dest" && mv "$dest.partial" "$dest"
  rm -rf "$tmp"
}

mkdir -p "$DEPS_DIR"
install_apt_packages
fetch_boost_headers
fetch_onnxruntime
echo "$DEPS_DIR"
