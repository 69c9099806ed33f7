#!/usr/bin/env bash
# Installs the Debian packages faultline builds and tests with, skipping those already present.
# Idempotent; needs root (or sudo) only when something is missing.
#   bazel/install_deps.sh          build + runtime dependencies
#   bazel/install_deps.sh --test   also what the test suite starts (PostgreSQL, Prometheus, ...)
set -euo pipefail

packages=(
  bazel-bootstrap g++ pkg-config
  protobuf-compiler protobuf-compiler-grpc libprotobuf-dev libgrpc++-dev
  libabsl-dev prometheus-cpp-dev libsqlite3-dev libpq-dev libssl-dev zlib1g-dev
  openssl  # fleet_pki.sh: certificates for TLS (the kernel lab makes its own)
  libgtest-dev libgmock-dev libbenchmark-dev
)
if [[ "${1:-}" == "--test" ]]; then
  packages+=(postgresql-15 sqlite3 procps util-linux prometheus chromium)
  packages+=(curl)  # tests/security: the https metrics endpoints, as a scraper sees them
  packages+=(clang libclang-rt-14-dev)  # tests/fuzz
  packages+=(qemu-system-x86 qemu-system-arm busybox-static cpio e2fsprogs file jq bsdextrautils)  # tests/lab
  # tests/lab builds 6.12 kernels: kconfig, objtool and the arm64 cross compiler
  packages+=(make bc flex bison libelf-dev perl xz-utils kmod gcc-aarch64-linux-gnu)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if (( ${#missing[@]} == 0 )); then
  exit 0
fi

echo "faultline: installing ${missing[*]}" >&2
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
# Package lists may be stale or absent on a fresh machine.
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
