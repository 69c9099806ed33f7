#!/usr/bin/env bash
# Installs what the aarch64 cross build (--config=aarch64) and its tests under qemu need:
# Debian's aarch64 cross compiler, qemu-user-static, and the :arm64 -dev packages beside the
# amd64 ones (multiarch). Idempotent; needs root (or sudo) only when something is missing.
#   bazel/install_aarch64_deps.sh         what //agent/bench's tests need (Abseil, GoogleTest)
#   bazel/install_aarch64_deps.sh --all   every library faultline links (gRPC, protobuf, ...)
set -euo pipefail
# Unversioned link names for arm64 libraries whose -dev package cannot sit beside the amd64
# one; the aarch64 toolchain (bazel/aarch64/BUILD) searches this directory.
link_dir=/usr/local/lib/faultline-aarch64
provide_link_names() {
  $SUDO mkdir -p "$link_dir"
  for lib in prometheus-cpp-core prometheus-cpp-pull; do
    if [[ -e /usr/lib/aarch64-linux-gnu/lib$lib.so.1.0 ]]; then
      $SUDO ln -sf "/usr/lib/aarch64-linux-gnu/lib$lib.so.1.0" "$link_dir/lib$lib.so"
    fi
  done
}

# Not libpq-dev:arm64: it is not co-installable with libpq-dev:amd64, which the controller
# links, and no arm64 binary needs it (the agent does not talk to PostgreSQL).

packages=(
  g++-aarch64-linux-gnu binutils-aarch64-linux-gnu qemu-user-static
  libabsl-dev:arm64 libgtest-dev:arm64 libgmock-dev:arm64
)
if [[ "${1:-}" == "--all" ]]; then
  packages+=(
    libprotobuf-dev:arm64 libgrpc++-dev:arm64 libsqlite3-dev:arm64
    libssl-dev:arm64 zlib1g-dev:arm64 libbenchmark-dev:arm64
    # Runtime libraries only: prometheus-cpp-dev:arm64 would replace prometheus-cpp-dev:amd64
    # (its civetweb dependency is not Multi-Arch); bazel/system_libs.bzl links them by soname.
    libprometheus-cpp-pull1.0:arm64 libprometheus-cpp-core1.0:arm64
  )
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

need_update=0
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  echo "faultline: adding the arm64 architecture to dpkg" >&2
  $SUDO dpkg --add-architecture arm64
  need_update=1
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if (( ${#missing[@]} == 0 )); then
  provide_link_names
  exit 0
fi

echo "faultline: installing ${missing[*]}" >&2
if (( need_update )) || ! apt-cache show libabsl-dev:arm64 >/dev/null 2>&1; then
  $SUDO apt-get update -qq
fi
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
provide_link_names
