#!/usr/bin/env bash
# Installs the Debian 12 packages that building, testing and benchmarking Liaison need.
# Idempotent: does nothing (and needs no network) when every package is already there.
# Runs as root, or through sudo otherwise.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config ccache git
  clang clang-format libclang-rt-14-dev
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libsimdjson-dev libsqlite3-dev libpq-dev postgresql libsodium-dev libssl-dev
  libcli11-dev libspdlog-dev libhyperscan-dev libpcre2-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 curl ca-certificates openssl
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
