#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + libFuzzer) and runs each for a bounded time.
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
FUZZ_OUT=${FUZZ_OUT:-${TMPDIR:-/tmp}/faultline-fuzz}
CXX=${CXX_FUZZ:-clang++}
TARGETS=(campaign_text_fuzzer gate_policy_fuzzer campaign_planner_fuzzer agent_requests_fuzzer)

die() { echo "run_fuzzers: $*" >&2; echo "fuzz: 0 passed, ${#TARGETS[@]} failed"; exit 1; }

command -v "$CXX" >/dev/null || die "$CXX not found (apt-get install clang libclang-rt-14-dev)"
bazel build //proto/faultline/v1:types_cc_proto //proto/faultline/v1:services_cc_grpc \
  >"$FUZZ_OUT.bazel.log" 2>&1 || { cat "$FUZZ_OUT.bazel.log" >&2; die "bazel build of the protos failed"; }
GEN="$(bazel info bazel-bin 2>/dev/null)" || die "bazel info failed"
PROTO_DIR="$GEN/proto/faultline/v1"

mkdir -p "$FUZZ_OUT/obj" "$FUZZ_OUT/bin"
CXXFLAGS=(-std=c++17 -g -O1 -fno-omit-frame-pointer -I"$ROOT" -I"$GEN"
          $(pkg-config --cflags protobuf absl_strings))
# Grouped: pkg-config's deduplicated order does not satisfy every Abseil archive dependency.
ABSL_MODULES="absl_statusor absl_strings absl_str_format absl_synchronization absl_time absl_flat_hash_map absl_hash"
LIBS=(-Wl,--start-group $(pkg-config --libs protobuf $ABSL_MODULES) -Wl,--end-group -lpthread)

# Sources each target needs beyond its own file.
PROTOS=("$PROTO_DIR"/host.pb.cc "$PROTO_DIR"/benchmark.pb.cc "$PROTO_DIR"/campaign.pb.cc)
ANALYSIS=()
# The library sources: neither tests (welch_t_test.cc is a library) nor programs.
for f in controller/analysis/*.cc; do
  grep -qE '#include "gtest/|^int main' "$f" || ANALYSIS+=("$f")
done
declare -A SOURCES=(
  [campaign_text_fuzzer]="${PROTOS[*]} controller/cli/campaign_file.cc"
  [gate_policy_fuzzer]="${ANALYSIS[*]}"
  [campaign_planner_fuzzer]="${PROTOS[*]} controller/campaign_planner.cc
      controller/param_validation.cc controller/target_matcher.cc controller/glob.cc"
  [agent_requests_fuzzer]="${PROTOS[*]} $PROTO_DIR/agent_service.pb.cc controller/fleet.cc
      controller/job_reports.cc controller/target_matcher.cc controller/glob.cc"
)

# Each source compiles once into an instrumented object, two at a time; unchanged ones are kept.
object_of() { local s=${1#"$GEN/"}; echo "$FUZZ_OUT/obj/${s//\//_}.o"; }
compile() {
  local src=$1 obj; obj=$(object_of "$src")
  if [[ -f "$obj" && "$obj" -nt "$src" ]]; then return 0; fi
  "$CXX" "${CXXFLAGS[@]}" -fsanitize=address,fuzzer-no-link -c "$src" -o "$obj.tmp" && mv "$obj.tmp" "$obj"
}
export -f compile object_of
export CXX GEN FUZZ_OUT
export CXXFLAGS_STR="${CXXFLAGS[*]}"
all_sources=$(for t in "${TARGETS[@]}"; do echo ${SOURCES[$t]} "tests/fuzz/$t.cc"; done | tr ' ' '\n' | sort -u | grep .)
# shellcheck disable=SC2016
echo "$all_sources" | xargs -P 2 -I{} bash -c 'CXXFLAGS=($CXXFLAGS_STR); compile "$@"' _ {} \
  || die "compilation failed"

passed=0
failed=0
for t in "${TARGETS[@]}"; do
  objs=()
  for s in ${SOURCES[$t]} "tests/fuzz/$t.cc"; do objs+=("$(object_of "$s")"); done
  if ! "$CXX" -fsanitize=address,fuzzer "${objs[@]}" "${LIBS[@]}" -o "$FUZZ_OUT/bin/$t"; then
    echo "$t: link failed"; failed=$((failed + 1)); continue
  fi
  crashes="$FUZZ_OUT/crashes/$t"
  scratch="$FUZZ_OUT/corpus/$t"
  rm -rf "$scratch"; mkdir -p "$crashes" "$scratch"
  log="$FUZZ_OUT/$t.log"
  ok=1
  regressions=(tests/fuzz/regressions/"$t"/*)
  if [[ -e "${regressions[0]}" ]]; then
    if ! timeout 120 "$FUZZ_OUT/bin/$t" -rss_limit_mb=2048 -timeout=10 "${regressions[@]}" \
        >"$log.replay" 2>&1; then
      echo "$t: a regression input fails again:"; tail -n 30 "$log.replay"; ok=0
    fi
  fi
  if (( ok )); then
    timeout $((FUZZ_SECONDS + 60)) "$FUZZ_OUT/bin/$t" "$scratch" "tests/fuzz/corpus/$t" \
      -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
      -print_final_stats=1 -artifact_prefix="$crashes/" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    if (( rc != 0 )); then
      echo "$t: FAILED (exit $rc) after ${execs:-?} executions; input kept in $crashes/"
      grep -E "^(==[0-9]+==ERROR|SUMMARY|    #[0-9]+ )" "$log" | head -n 25
      ok=0
    else
      echo "$t: ${execs:-?} executions in ${FUZZ_SECONDS} s, no crash"
    fi
  fi
  if (( ok )); then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done
echo "fuzz: $passed passed, $failed failed"
(( failed == 0 ))
