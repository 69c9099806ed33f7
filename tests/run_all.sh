#!/usr/bin/env bash
# Runs every faultline test: installs what is missing, then `bazel test //...` (unit,
# integration, end-to-end and fault-injection tests against real processes and servers), then
# the benchmark library's tests cross-built for aarch64 under qemu-user, then the fuzzers.
#   bash tests/run_all.sh
# Prints one closing line "faultline: N passed, N failed" counting individual test cases.
set -uo pipefail
cd "$(dirname "$0")/.."

bash bazel/install_deps.sh --test || exit 2
# The lab tests boot an arm64 guest whose agent is cross-built inside `bazel test`.
bash bazel/install_aarch64_deps.sh --all || exit 2

failed_lanes=0
# The aarch64 toolchain package only analyses under --config=aarch64 (run below).
bazel test -- //... -//bazel/aarch64/... || failed_lanes=$((failed_lanes + 1))

# Count test cases from the JUnit XML Bazel writes for every test target.
testlogs="$(bazel info bazel-testlogs 2>/dev/null)"
read -r passed failed < <(
  bazel query 'tests(//... - //bazel/aarch64/...)' 2>/dev/null |
    sed -E 's|^//||; s|:|/|' |
    while read -r t; do [[ -f "$testlogs/$t/test.xml" ]] && cat "$testlogs/$t/test.xml"; done |
    awk '
      /<testcase / { total++ }
      /<failure/ { failures++ }
      /<error / { failures++ }
      END { printf "%d %d\n", total - failures, failures }')

aarch64_passed=0
aarch64_failed=0
if [[ -x agent/bench/run_aarch64_tests.sh ]]; then
  aarch64_log="$(mktemp)"
  if ! bash agent/bench/run_aarch64_tests.sh 2>&1 | tee "$aarch64_log"; then
    failed_lanes=$((failed_lanes + 1))
  fi
  line="$(grep -E '^([a-z0-9_-]+: )?[0-9]+ passed, [0-9]+ failed' "$aarch64_log" | tail -1)"
  if [[ -n "$line" ]]; then
    aarch64_passed="$(sed -E 's/^([a-z0-9_-]+: )?([0-9]+) passed.*/\2/' <<<"$line")"
    aarch64_failed="$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")"
  fi
  rm -f "$aarch64_log"
fi

# libFuzzer targets for the parsers and request validators, each fuzzed for a bounded time.
fuzz_passed=0
fuzz_failed=0
fuzz_log="$(mktemp)"
if ! bash tests/fuzz/run_fuzzers.sh 2>&1 | tee "$fuzz_log"; then
  failed_lanes=$((failed_lanes + 1))
fi
line="$(grep -E '^fuzz: [0-9]+ passed, [0-9]+ failed' "$fuzz_log" | tail -1)"
if [[ -n "$line" ]]; then
  fuzz_passed="$(sed -E 's/^fuzz: ([0-9]+) passed.*/\1/' <<<"$line")"
  fuzz_failed="$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")"
fi
rm -f "$fuzz_log"

passed=$((passed + aarch64_passed + fuzz_passed))
failed=$((failed + aarch64_failed + fuzz_failed))
if (( failed_lanes > 0 && failed == 0 )); then failed=1; fi
echo "faultline: ${passed} passed, ${failed} failed"
(( failed_lanes == 0 && failed == 0 ))
