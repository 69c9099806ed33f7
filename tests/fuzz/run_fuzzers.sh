#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + libFuzzer) and runs each for a bounded time,
# two at a time.
#   tests/fuzz/run_fuzzers.sh            20 s per target
#   FUZZ_SECONDS=300 tests/fuzz/run_fuzzers.sh
# Replays tests/fuzz/regressions/<target>/ first (inputs that once crashed), then fuzzes from
# tests/fuzz/corpus/<target>/ (the committed seeds; new corpus entries go to a scratch dir).
# A crash's input is saved to $FUZZ_OUT/crashes/<target>/. Last line: "fuzz: N passed, M failed".
# Needs: clang, libclang-rt-14-dev (bazel/install_deps.sh --test), and Bazel for the protos.
set -uo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
# One cache per checkout: an object's dependency list names the headers of the checkout that
# built it, so a cache shared by two checkouts reuses objects built against the other's headers.
FUZZ_OUT=${FUZZ_OUT:-${TMPDIR:-/tmp}/faultline-fuzz-$(printf %s "$ROOT" | sha256sum | cut -c1-12)}
CXX=${CXX_FUZZ:-clang++}
TARGETS=(campaign_text_fuzzer gate_policy_fuzzer campaign_planner_fuzzer agent_requests_fuzzer
  access_policy_fuzzer)

die() { echo "run_fuzzers: $*" >&2; echo "fuzz: 0 passed, ${#TARGETS[@]} failed"; exit 1; }

command -v "$CXX" >/dev/null || die "$CXX not found (apt-get install clang libclang-rt-14-dev)"
mkdir -p "$FUZZ_OUT/obj" "$FUZZ_OUT/bin"
bazel build //proto/faultline/v1:types_cc_proto //proto/faultline/v1:services_cc_grpc \
  >"$FUZZ_OUT/bazel.log" 2>&1 || { cat "$FUZZ_OUT/bazel.log" >&2; die "bazel build of the protos failed"; }
GEN="$(bazel info bazel-bin 2>/dev/null)" || die "bazel info failed"
PROTO_DIR="$GEN/proto/faultline/v1"

# -O0 keeps the build (the larger part of the time budget) short; ASan finds the same bugs.
# Generated protobuf code is compiled plainly: what it does is libprotobuf's, not ours.
COMMON_FLAGS="-std=c++17 -O0 -fno-omit-frame-pointer -I$ROOT -I$GEN $(pkg-config --cflags protobuf absl_strings)"
OUR_FLAGS="-gline-tables-only -fsanitize=address,fuzzer-no-link"
# Grouped: pkg-config's deduplicated order does not satisfy every Abseil archive dependency.
ABSL_MODULES="absl_statusor absl_strings absl_str_format absl_synchronization absl_time absl_flat_hash_map absl_hash"
LIBS=(-Wl,--start-group $(pkg-config --libs protobuf $ABSL_MODULES) -Wl,--end-group -lcrypto -lpthread)

# Sources each target needs beyond its own file.
PROTOS=("$PROTO_DIR"/host.pb.cc "$PROTO_DIR"/benchmark.pb.cc "$PROTO_DIR"/campaign.pb.cc)
ANALYSIS=()
# The library sources: neither tests (welch_t_test.cc is a library) nor programs.
for f in controller/analysis/*.cc; do
  grep -qE '#include "gtest/|^int main' "$f" || ANALYSIS+=("$f")
done
# Request validation: every request message, and the gate policy parser for GateRequest.
REQUESTS=("$PROTO_DIR"/agent_service.pb.cc "$PROTO_DIR"/analysis.pb.cc
  "$PROTO_DIR"/campaign_service.pb.cc controller/validation/request_validation.cc "${ANALYSIS[@]}")
declare -A SOURCES=(
  # campaign_file checks strings are UTF-8 with the request validators' own check.
  [campaign_text_fuzzer]="${PROTOS[*]} ${REQUESTS[*]} controller/cli/campaign_file.cc"
  [gate_policy_fuzzer]="${ANALYSIS[*]}"
  [campaign_planner_fuzzer]="${PROTOS[*]} ${REQUESTS[*]} controller/scheduling/campaign_planner.cc
      controller/scheduling/param_validation.cc controller/scheduling/target_matcher.cc
      controller/scheduling/glob.cc"
  [agent_requests_fuzzer]="${PROTOS[*]} ${REQUESTS[*]} controller/scheduling/fleet.cc
      controller/scheduling/job_reports.cc controller/scheduling/param_validation.cc
      controller/scheduling/target_matcher.cc
      controller/scheduling/glob.cc controller/service/agent_proto.cc
      controller/store/store_encoding.cc"
  [access_policy_fuzzer]="controller/security/access_policy.cc controller/security/token_hash.cc
      controller/scheduling/glob.cc"
)

# Each source compiles once, two at a time; an object is reused while it is newer than its
# source and every header it included (-MMD).
object_of() { local s=${1#"$GEN/"}; echo "$FUZZ_OUT/obj/${s//\//_}.o"; }
compile() {
  local src=$1 obj flags dep; obj=$(object_of "$src")
  if [[ -f "$obj" && -f "$obj.d" ]]; then
    local stale=0
    for dep in $(sed -e 's/^[^:]*://' -e 's/\\$//' "$obj.d"); do
      [[ "$dep" -nt "$obj" ]] && stale=1 && break
    done
    (( stale )) || return 0
  fi
  flags="$COMMON_FLAGS"
  [[ "$src" == *.pb.cc ]] || flags="$flags $OUR_FLAGS"
  # shellcheck disable=SC2086
  "$CXX" $flags -MMD -MF "$obj.d" -c "$src" -o "$obj.tmp" && mv "$obj.tmp" "$obj"
}
export -f compile object_of
export CXX GEN FUZZ_OUT COMMON_FLAGS OUR_FLAGS
for t in "${TARGETS[@]}"; do echo ${SOURCES[$t]} "tests/fuzz/$t.cc"; done | tr ' ' '\n' |
  grep . | sort -u | xargs -P 2 -I{} bash -c 'compile "$1"' _ {} || die "compilation failed"

# Links, replays the regressions and fuzzes one target; writes its summary line to
# $FUZZ_OUT/<target>.result and exits non-zero when it failed.
fuzz_one() {
  local t=$1 s objs=() crashes="$FUZZ_OUT/crashes/$1" scratch="$FUZZ_OUT/corpus/$1"
  local log="$FUZZ_OUT/$1.log" result="$FUZZ_OUT/$1.result" rc execs
  for s in ${SOURCES[$t]} "tests/fuzz/$t.cc"; do objs+=("$(object_of "$s")"); done
  if ! "$CXX" -fsanitize=address,fuzzer "${objs[@]}" "${LIBS[@]}" -o "$FUZZ_OUT/bin/$t" \
      >"$log.link" 2>&1; then
    { echo "$t: link failed"; tail -n 20 "$log.link"; } >"$result"
    return 1
  fi
  rm -rf "$scratch"; mkdir -p "$crashes" "$scratch"
  local regressions=(tests/fuzz/regressions/"$t"/*)
  if [[ -e "${regressions[0]}" ]]; then
    if ! timeout 120 "$FUZZ_OUT/bin/$t" -rss_limit_mb=2048 -timeout=10 "${regressions[@]}" \
        >"$log.replay" 2>&1; then
      { echo "$t: a regression input fails again:"; tail -n 30 "$log.replay"; } >"$result"
      return 1
    fi
  fi
  timeout $((FUZZ_SECONDS + 60)) "$FUZZ_OUT/bin/$t" "$scratch" "tests/fuzz/corpus/$t" \
    -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
    -print_final_stats=1 -artifact_prefix="$crashes/" >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  if (( rc != 0 )); then
    { echo "$t: FAILED (exit $rc) after ${execs:-?} executions; input kept in $crashes/"
      grep -E "^(==[0-9]+==ERROR|SUMMARY|    #[0-9]+ )" "$log" | head -n 25; } >"$result"
    return 1
  fi
  echo "$t: ${execs:-?} executions in ${FUZZ_SECONDS} s, no crash" >"$result"
}

declare -A PIDS=()
for t in "${TARGETS[@]}"; do
  rm -f "$FUZZ_OUT/$t.result"
  # Two at a time: one per core.
  while (( $(jobs -rp | wc -l) >= 2 )); do wait -n; done
  fuzz_one "$t" &
  PIDS[$t]=$!
done
passed=0
failed=0
for t in "${TARGETS[@]}"; do
  if wait "${PIDS[$t]}"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
  cat "$FUZZ_OUT/$t.result" 2>/dev/null || echo "$t: no result"
done
echo "fuzz: $passed passed, $failed failed"
(( failed == 0 ))
