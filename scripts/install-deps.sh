#!/usr/bin/env bash
# Installs the Debian 12 packages Horde needs to build, run and test (with --browser, also the
# browser of the web page tests). Idempotent.
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
PACKAGES=(
  g++ cmake ninja-build pkg-config clang-format
  libboost1.81-dev libboost-url1.81-dev libboost-json1.81-dev libssl-dev
  libsqlite3-dev libsqlitecpp-dev libpq-dev libpqxx-dev libhiredis-dev libcurl4-openssl-dev
  libwebp-dev libpng-dev libspdlog-dev libfmt-dev libcli11-dev libsodium-dev libgoogle-perftools-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  sqlite3 curl ca-certificates python3 python3-pytest python3-requests wrk
)
# --browser: also Chromium for the browser tests of the web pages (scripts/test.sh asks for it;
# running a horde does not need it).
if [ "${1:-}" = "--browser" ]; then
  PACKAGES+=(chromium fonts-dejavu-core)
fi
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js and npm drive the JavaScript SDK compatibility test; keep an existing install.
if ! command -v node >/dev/null 2>&1; then missing+=(nodejs); fi
if ! command -v npm >/dev/null 2>&1; then missing+=(npm); fi
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}"
  $SUDO apt-get update
  $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
else
  echo "all packages present"
fi
