#!/usr/bin/env bash
# Cross-builds the benchmark library's tests for arm64 (--config=aarch64) and runs each under
# qemu-aarch64-static. Installs what it needs first (idempotent). Prints "N passed, N failed"
# and exits non-zero when any test fails or the build does.
#   agent/bench/run_aarch64_tests.sh [bazel test target pattern]   (default: //agent/bench/...)
set -uo pipefail

cd "$(dirname "$0")/../.."
pattern="${1:-//agent/bench/...}"
per_test_timeout="${FAULTLINE_AARCH64_TEST_TIMEOUT:-120}"

if ! bazel/install_aarch64_deps.sh; then
  echo "aarch64: installing the cross toolchain and :arm64 libraries failed" >&2
  echo "0 passed, 1 failed"
  exit 1
fi

mapfile -t tests < <(bazel query "kind(cc_test, ${pattern})" 2>/dev/null)
if (( ${#tests[@]} == 0 )); then
  echo "aarch64: no cc_test matches ${pattern}" >&2
  echo "0 passed, 1 failed"
  exit 1
fi

if ! bazel build --config=aarch64 "${tests[@]}"; then
  echo "aarch64: cross build failed" >&2
  echo "0 passed, ${#tests[@]} failed"
  exit 1
fi

bin_dir="$(bazel info --config=aarch64 bazel-bin 2>/dev/null)"
scratch="$(mktemp -d)"
trap 'rm -rf "${scratch}"' EXIT

passed=0
failed=0
failed_names=()
for t in "${tests[@]}"; do
  rel="${t#//}"
  binary="${bin_dir}/${rel/://}"
  if ! file -b "${binary}" | grep -q "ARM aarch64"; then
    echo "FAIL ${t}: ${binary} is not an aarch64 binary" >&2
    failed=$((failed + 1))
    failed_names+=("${t}")
    continue
  fi
  log="${scratch}/$(basename "${binary}").log"
  # TEST_TMPDIR as Bazel would set it: scratch files land on the same disk as the build.
  mkdir -p "${scratch}/tmp"
  # The interpreter under -L comes from libc6-arm64-cross; without LD_LIBRARY_PATH the loader
  # would pair it with libc6:arm64's libc.so.6 (another glibc build), and forked children then
  # spin forever in the loader. Abseil and GoogleTest still come from /usr/lib/aarch64-linux-gnu.
  if TEST_TMPDIR="${scratch}/tmp" FAULTLINE_UNDER_QEMU_USER=1 timeout --kill-after=10 "${per_test_timeout}" \
      qemu-aarch64-static -L /usr/aarch64-linux-gnu -E LD_LIBRARY_PATH=/usr/aarch64-linux-gnu/lib \
      "${binary}" >"${log}" 2>&1; then
    echo "PASS ${t} ($(grep -c '^\[       OK \]' "${log}") cases)"
    passed=$((passed + 1))
  else
    echo "FAIL ${t}" >&2
    grep -E -B2 -A8 'Failure|FAILED|error' "${log}" | head -60 >&2
    tail -5 "${log}" >&2
    failed=$((failed + 1))
    failed_names+=("${t}")
  fi
done

echo "aarch64 (qemu-aarch64-static): ${passed} passed, ${failed} failed"
if (( failed > 0 )); then
  echo "failed: ${failed_names[*]}"
  exit 1
fi
