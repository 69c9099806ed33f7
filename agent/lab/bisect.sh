#!/usr/bin/env bash
# faultline-lab bisect: which patch of a series moved a metric. Confirms the change between the
# two ends with a lab A/B, then halves the range: builds the midpoint (incrementally: the
# series' build tree moves between patch counts), A/Bs it against the good end, and keeps the
# half that holds the change. docs/bisect.md.
#
#   faultline-lab bisect --arch=x86_64 --source=debian:6.12 --series=DIR \
#       --suite=one-benchmark.textproto --metric=fault_anon:ns_per_fault [--metric=...]
#
# Every step's verdict is recorded in WORK_DIR/steps as it is decided, and every run in the
# bisect's own controller store (WORK_DIR/faultline.db): run the same command with the same
# --work_dir after a crash and the decided steps are not measured again.
# Exit status: 0 an answer (a first bad patch per metric, no change, or a range when skipped
# patches hide it), 1 a machine or build failed in a way that stops the bisect, 2 bad input.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

die() { echo "faultline-lab bisect: $*" >&2; exit 2; }
log() { echo "faultline-lab bisect: $*" >&2; }

usage() {
  cat <<'USAGE'
faultline-lab bisect --source=SOURCE (--series=DIR | --range=GOOD..BAD) --suite=FILE --metric=BENCH:METRIC [options]
  --source=SOURCE     debian:6.12 or a kernel git tree (as faultline-kernel-build takes it)
  --series=DIR        the ordered patches (a quilt series file or git format-patch files)
  --range=GOOD..BAD   instead of a series, with --source a git tree: the commits GOOD..BAD
                      (a linear range, oldest first) on the tree at GOOD
  --list              print the patches the bisect would take (index, file, subject) and exit
  --suite=FILE        a campaign file without targets: the benchmark invocation(s) that moved
  --metric=B:M        a metric to bisect, e.g. fault_anon:ns_per_fault (repeatable: each is
                      answered on its own)
  --good=N            patches applied at the good end (default 0: the source alone)
  --bad=N             patches applied at the bad end (default: the whole series)
  --arch=ARCH         x86_64 (default) or arm64
  --rounds=N          boots per side at a step's first look (default 6)
  --max_rounds=N      the most boots per side a step may take before it is called (default 8);
                      an undecided step adds rounds, each look at its alpha-spending level
  --repetitions=N     repetitions per boot (default: the suite's)
  --kernel_config=F   a config fragment for every build
  --icount[=SHIFT]    boot the machines under qemu's -icount (faultline-lab --icount): guest
                      time counts instructions, so a step's verdict does not move with the
                      host's load; sees instruction cost only (docs/lab.md)
  --work_dir=DIR      state, logs and the store (default: a new /tmp/faultline-bisect-* dir);
                      the same DIR resumes a bisect
  --cache_dir=DIR     the lab's cache (kernels, sources)
USAGE
}

source_arg=""
series=""
range=""
list_only=0
suite=""
metrics=()
good=0
bad=""
arch=x86_64
rounds=6
max_rounds=8
repetitions=""
kernel_configs=()
lab_mode=()
work_dir=""
cache_args=()
for arg in "$@"; do
  case "$arg" in
    --source=*) source_arg="${arg#*=}" ;;
    --series=*) series="${arg#*=}" ;;
    --range=*) range="${arg#*=}" ;;
    --list) list_only=1 ;;
    --suite=*) suite="${arg#*=}" ;;
    --metric=*) metrics+=("${arg#*=}") ;;
    --good=*) good="${arg#*=}" ;;
    --bad=*) bad="${arg#*=}" ;;
    --arch=*) arch="${arg#*=}" ;;
    --rounds=*) rounds="${arg#*=}" ;;
    --max_rounds=*) max_rounds="${arg#*=}" ;;
    --repetitions=*) repetitions="${arg#*=}" ;;
    --kernel_config=*) kernel_configs+=("$arg") ;;
    --icount | --icount=*) lab_mode=("$arg") ;;
    --work_dir=*) work_dir="${arg#*=}" ;;
    --cache_dir=*) cache_args=("$arg") ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown argument \"$arg\" (see --help)" ;;
  esac
done

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
lab="${FAULTLINE_LAB:-$script_dir/faultline-lab}"
[[ -x "$lab" ]] || lab="$script_dir/faultline-lab.sh"
kernel_build="${FAULTLINE_KERNEL_BUILD:-$script_dir/kernel_build.sh}"
ctl_bin="${FAULTLINE_CTL:?}"
controller_bin="${FAULTLINE_CONTROLLER:?}"
fleet_pki="${FAULTLINE_FLEET_PKI:?}"

[[ -n "$source_arg" ]] || die "--source: give debian:6.12 or a kernel tree"
if [[ -n "$range" ]]; then
  [[ -z "$series" ]] || die "--range: give a series or a range, not both"
fi
if (( ! list_only )); then
  [[ -n "$suite" && -r "$suite" ]] || die "--suite: cannot read \"$suite\""
  suite="$(cd "$(dirname "$suite")" && pwd)/$(basename "$suite")"
  (( ${#metrics[@]} > 0 )) || die "--metric: name at least one BENCHMARK:METRIC"
  for m in "${metrics[@]}"; do
    [[ "$m" =~ ^[a-z0-9_]+:[a-z0-9_.]+$ ]] || die "--metric: \"$m\" is not BENCHMARK:METRIC"
  done
fi
if (( list_only )) && [[ -z "$work_dir" ]]; then
  work_dir="$(mktemp -d /tmp/faultline-bisect-list-XXXXXX)"
  trap 'rm -rf "$work_dir"' EXIT
fi
work_dir="${work_dir:-$(mktemp -d /tmp/faultline-bisect-XXXXXX)}"
mkdir -p "$work_dir"
work_dir="$(cd "$work_dir" && pwd)"

# A commit range becomes a series: its commits as git format-patch files, applied by the kernel
# build to a clone of the tree at GOOD (sharing the tree's objects), so every step is the same
# build path as a series' and the user's checkout is never touched.
if [[ -n "$range" ]]; then
  git -C "$source_arg" rev-parse --git-dir >/dev/null 2>&1 ||
    die "--range: --source \"$source_arg\" is not a git tree"
  [[ "$range" =~ ^([^.[:space:]]+)\.\.([^.[:space:]]+)$ ]] || die "--range: \"$range\" is not GOOD..BAD"
  good_rev="$(git -C "$source_arg" rev-parse --verify --quiet "${BASH_REMATCH[1]}^{commit}")" ||
    die "--range: \"${BASH_REMATCH[1]}\" is not a commit of $source_arg"
  bad_rev="$(git -C "$source_arg" rev-parse --verify --quiet "${BASH_REMATCH[2]}^{commit}")" ||
    die "--range: \"${BASH_REMATCH[2]}\" is not a commit of $source_arg"
  git -C "$source_arg" merge-base --is-ancestor "$good_rev" "$bad_rev" ||
    die "--range: ${BASH_REMATCH[1]} is not an ancestor of ${BASH_REMATCH[2]}"
  merges="$(git -C "$source_arg" rev-list --count --merges "$good_rev..$bad_rev")"
  (( merges == 0 )) ||
    die "--range: $range holds $merges merge commits; bisect a linear range (rebase it onto GOOD first)"
  (( $(git -C "$source_arg" rev-list --count "$good_rev..$bad_rev") > 0 )) || die "--range: $range is empty"
  series="$work_dir/range-series"
  if [[ ! -f "$series/.done" ]]; then
    rm -rf "$series"
    git -C "$source_arg" format-patch -q --no-signature --zero-commit -o "$series" "$good_rev..$bad_rev" ||
      die "--range: git format-patch $range failed"
    touch "$series/.done"
  fi
  range_source="$work_dir/range-source"
  if [[ "$(git -C "$range_source" rev-parse HEAD 2>/dev/null)" != "$good_rev" ]]; then
    rm -rf "$range_source"
    git clone -q --shared --no-checkout "$(git -C "$source_arg" rev-parse --show-toplevel)" "$range_source" &&
      git -C "$range_source" checkout -q --detach "$good_rev" || die "--range: cannot check out $good_rev"
  fi
  source_arg="$range_source"
fi
[[ -n "$series" && -d "$series" ]] || die "--series: \"$series\" is not a directory"
series="$(cd "$series" && pwd)"
mapfile -t patch_list < <(bash "$kernel_build" --series="$series" --list) ||
  die "--series: cannot list $series"
total=${#patch_list[@]}
(( total > 0 )) || die "--series: no patches in $series"
if (( list_only )); then printf '%s\n' "${patch_list[@]}"; exit 0; fi
[[ -n "$bad" ]] || bad=$total
[[ "$good" =~ ^[0-9]+$ && "$bad" =~ ^[0-9]+$ ]] && (( good < bad && bad <= total )) ||
  die "--good/--bad: need 0 <= good ($good) < bad ($bad) <= $total patches"
[[ "$rounds" =~ ^[0-9]+$ ]] && (( rounds >= 2 )) || die "--rounds: \"$rounds\" is not 2 or more"
[[ "$max_rounds" =~ ^[0-9]+$ ]] && (( max_rounds >= rounds )) || die "--max_rounds: below --rounds"
patch_subject() { awk -F'\t' -v n="$1" '$1 == n { print $3 }' <<<"$(printf '%s\n' "${patch_list[@]}")"; }
patch_file() { awk -F'\t' -v n="$1" '$1 == n { print $2 }' <<<"$(printf '%s\n' "${patch_list[@]}")"; }

started=$(date +%s)
steps="$work_dir/steps"   # one line per decided step: KIND N METRIC VERDICT RATIO LO HI ROUNDS BUILD_S MEASURE_S BOOT_S
touch "$steps"
# The inputs a work directory was started with; a resume with other inputs is refused.
inputs="$( { echo "$source_arg $arch $good $bad${lab_mode[*]:+ ${lab_mode[*]}}"; sha256sum "$series"/* "$suite" | cut -c1-64; printf '%s\n' "${metrics[@]}"; } | sha256sum | cut -c1-64)"
if [[ -f "$work_dir/inputs" && "$(cat "$work_dir/inputs")" != "$inputs" ]]; then
  die "--work_dir: $work_dir holds a bisect of other inputs (a series, suite or metric changed)"
fi
echo "$inputs" >"$work_dir/inputs"

# --- the bisect's own controller: every step's runs in one store ------------------------------
pids=()
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
pki="$work_dir/pki"
if [[ ! -f "$pki/faultline-bisect.pem" ]]; then
  rm -rf "$pki"
  { bash "$fleet_pki" ca "$pki" && bash "$fleet_pki" server "$pki" controller IP:10.0.2.2,IP:127.0.0.1 &&
    bash "$fleet_pki" client "$pki" faultline-bisect; } >"$work_dir/pki.log" 2>&1 ||
    die "fleet_pki.sh failed: $(tail -3 "$work_dir/pki.log")"
  printf 'cert lab-* agent\ncert faultline-lab submit\ncert faultline-bisect read\n' >"$pki/access.policy"
fi
rm -f "$work_dir/controller.port"
"$controller_bin" --listen=127.0.0.1:0 --db="$work_dir/faultline.db" \
  --tls_cert="$pki/controller.pem" --tls_key="$pki/controller.key" --client_ca="$pki/ca.pem" \
  --access_policy="$pki/access.policy" --port_file="$work_dir/controller.port" --metrics_listen= \
  2>>"$work_dir/controller.log" &
pids+=($!)
for _ in $(seq 1 100); do [[ -s "$work_dir/controller.port" ]] && break; sleep 0.1; done
[[ -s "$work_dir/controller.port" ]] || die "the controller did not start: $(tail -3 "$work_dir/controller.log")"
controller="127.0.0.1:$(cat "$work_dir/controller.port")"
ctl() {
  "$ctl_bin" --controller="$controller" --tls_ca="$pki/ca.pem" \
    --tls_cert="$pki/faultline-bisect.pem" --tls_key="$pki/faultline-bisect.key" "$@"
}

label_for() { if (( $1 == 0 )); then echo stock; else echo "patched/bisect-$1"; fi; }

# --- one build (or the cache) ----------------------------------------------------------------
build_seconds() {  # build_seconds N: builds N patches' kernel; prints seconds, or "failed"
  local n="$1" t0 rc=0
  t0=$(date +%s)
  bash "$kernel_build" --source="$source_arg" --arch="$arch" --series="$series" --patches="$n" \
    "${kernel_configs[@]/--kernel_config=/--config=}" "${cache_args[@]}" \
    >"$work_dir/build-$n.out" 2>"$work_dir/build-$n.log" || rc=$?
  if (( rc == 1 )); then echo failed; return 0; fi
  (( rc == 0 )) || { tail -5 "$work_dir/build-$n.log" >&2; die "building $n patches: bad input (above)"; }
  echo $(( $(date +%s) - t0 ))
}

# "VERDICT RATIO LO HI" of one metric in `faultlinectl compare --format=json`.
metric_row() {  # metric_row FILE BENCHMARK METRIC
  jq -r --arg b "$2" --arg m "$3" '
    [ .. | objects | select(.benchmark? == $b and .metric? == $m) ] | first
    | if . == null then "not_measured nan nan nan" else
        "\(.verdict | ascii_downcase | sub("^verdict_"; "")) \(.ratio) \(.ratio_lower) \(.ratio_upper)"
      end' "$1" 2>/dev/null || echo "not_measured nan nan nan"
}

# Seconds the machines of one lab run took from qemu's start to their agents' registration.
boot_seconds() {  # boot_seconds LAB_OUTPUT
  sed -nE 's/.*: registered ([0-9.]+) s after start.*/\1/p' "$1" | awk '{ s += $1 } END { printf "%.0f", s }'
}

# --- one A/B between patch counts A (the good side) and B ----------------------------------------
# Prints "VERDICT RATIO LO HI ROUNDS BOOT_S" per metric (in --metric order), each line one metric;
# BOOT_S is the part of the step's time its machines spent booting.
measure() {  # measure A B TAG
  local a="$1" b="$2" tag="$3" done_rounds=0 want="$rounds" part=0 dir boot_s=0 previous=0
  while :; do
    # Each part adds rounds to the same run (one agent id per boot, all under run id TAG), so the
    # comparison below takes every boot of this step.
    while (( done_rounds < want )); do
      part=$((part + 1))
      dir="$work_dir/lab-$tag-$part"
      local add=$(( want - done_rounds ))
      if [[ ! -f "$dir/done" ]]; then
        rm -rf "$dir"
        local rc=0
        "$lab" --arch="$arch" --controller="$controller" --pki_dir="$pki" --run_id="$tag" \
          --kernel="build:$source_arg+$series@$a" --label="$(label_for "$a")" \
          --kernel="build:$source_arg+$series@$b" --label="$(label_for "$b")" \
          --suite="$suite" --rounds="$add" --first_round=$((done_rounds + 1)) \
          ${repetitions:+--repetitions=$repetitions} "${lab_mode[@]}" \
          "${kernel_configs[@]}" "${cache_args[@]}" --work_dir="$dir" >"$dir.out" 2>&1 || rc=$?
        # The lab exits 0 whatever the comparison says; anything else is a machine that failed.
        (( rc == 0 )) || { tail -20 "$dir.out" >&2; return 1; }
        echo "$add" >"$dir/done"
      fi
      done_rounds=$(( done_rounds + $(cat "$dir/done") ))
      boot_s=$(( boot_s + $(boot_seconds "$dir.out") ))
    done
    # Resumed: a later part exists, so this look asked for it (and the store already holds that
    # part's boots, which this look did not see): take the same path again without looking.
    if [[ -f "$work_dir/lab-$tag-$((part + 1))/done" ]]; then
      previous=$done_rounds
      want=$(( done_rounds + $(cat "$work_dir/lab-$tag-$((part + 1))/done") ))
      continue
    fi
    # The family of the false-discovery control is the bisected metrics alone: a benchmark also
    # reports a dozen lock counters, and with them in the family five boots a side (p >= 0.0079)
    # could never reach q <= 0.01. Each look tests at its alpha-spending share of the level
    # (faultlinectl compare --look; the same rule as faultline-lab and gate --until_decided), so
    # the extra looks of an inconclusive step keep a good patch's chance of being called bad at
    # the level.
    ctl compare --format=json --metrics="$(IFS=,; echo "${metrics[*]}")" \
      --look="$previous:$done_rounds:$max_rounds" \
      --baseline="kernel_label=$(label_for "$a"),agent=lab-$arch-vm0-b*-$tag" \
      --candidate="kernel_label=$(label_for "$b"),agent=lab-$arch-vm1-b*-$tag" \
      >"$work_dir/compare-$tag.json" 2>"$work_dir/compare-$tag.err" || true
    local decision more
    decision="$(jq -r '.look.decision // "decided"' "$work_dir/compare-$tag.json" 2>/dev/null || echo decided)"
    more="$(jq -r '.look.additional_rounds // 0' "$work_dir/compare-$tag.json" 2>/dev/null || echo 0)"
    [[ "$more" =~ ^[0-9]+$ ]] || more=0
    if [[ "$decision" == more_blocks ]] && (( more > 0 && done_rounds < max_rounds )); then
      (( done_rounds + more > max_rounds )) && more=$(( max_rounds - done_rounds ))
      log "$tag: undecided after $done_rounds boots per side at level $(jq -r '.look.level' "$work_dir/compare-$tag.json"); adding $more"
      previous=$done_rounds
      want=$(( done_rounds + more ))
      continue
    fi
    local lines=()
    for m in "${metrics[@]}"; do
      lines+=("$(metric_row "$work_dir/compare-$tag.json" "${m%%:*}" "${m#*:}") $done_rounds $boot_s")
    done
    printf '%s\n' "${lines[@]}"
    return 0
  done
}

# --- the steps -----------------------------------------------------------------------------------
decided() { awk -v k="$1" -v n="$2" '$1 == k && $2 == n' "$steps"; }  # decided KIND N
record() { echo "$*" >>"$steps"; }

# Confirm: good vs bad, per metric.
declare -A direction=()  # metric -> regression|improvement (what the change is)
if [[ -z "$(decided confirm "$bad")" ]]; then
  for n in "$good" "$bad"; do
    bs="$(build_seconds "$n")"
    [[ -n "$bs" ]] || exit 2
    [[ "$bs" != failed ]] || die "the $( (( n == good )) && echo good || echo bad ) end ($n patches) does not build: $(tail -3 "$work_dir/build-$n.log")"
    echo "$n $bs" >>"$work_dir/build_times"
  done
  t0=$(date +%s)
  measure "$good" "$bad" "confirm" >"$work_dir/measure.tmp" || die "the confirm A/B failed (above)"
  mapfile -t results <"$work_dir/measure.tmp"
  t=$(( $(date +%s) - t0 ))
  for i in "${!metrics[@]}"; do
    read -r v r r_lo r_hi rn boot <<<"${results[i]}"
    record confirm "$bad" "${metrics[i]}" "$v" "$r" "$r_lo" "$r_hi" "$rn" \
      "$(awk -v n="$bad" '$1 == n { print $2 }' "$work_dir/build_times" | tail -1)" "$t" "$boot"
  done
fi
for m in "${metrics[@]}"; do
  v="$(awk -v m="$m" '$1 == "confirm" && $3 == m { print $4 }' "$steps" | tail -1)"
  direction[$m]="$v"
done

# Per metric, classify N as good or bad against the confirmed change: an A/B of good vs N whose
# verdict is the confirmed direction is bad; no_change is good; still inconclusive after the
# extra rounds, it is called by which end its ratio is nearer (log scale), and marked so.
classify() {  # classify METRIC VERDICT RATIO: prints bad|good and a flag
  local m="$1" v="$2" ratio="$3" end
  if [[ "$v" == "${direction[$m]}" ]]; then echo "bad decided"; return; fi
  if [[ "$v" == no_change || "$v" == regression || "$v" == improvement ]]; then echo "good decided"; return; fi
  end="$(awk -v m="$m" '$1 == "confirm" && $3 == m { print $5 }' "$steps" | tail -1)"
  awk -v r="$ratio" -v e="$end" 'BEGIN {
    if (r != r + 0 || r <= 0) { print "good called"; exit }
    print (log(r) * log(r) > (log(r) - log(e)) * (log(r) - log(e))) ? "bad called" : "good called" }'
}

declare -A answer=()
for m in "${metrics[@]}"; do
  if [[ "${direction[$m]}" != regression && "${direction[$m]}" != improvement ]]; then
    if [[ "${direction[$m]}" == no_change ]]; then
      answer[$m]="no change confirmed between $good and $bad patches: nothing to bisect"
    else
      answer[$m]="no change detected between $good and $bad patches (${direction[$m]}): nothing to bisect"
    fi
    continue
  fi
  lo=$good hi=$bad skipped=()
  while (( hi - lo > 1 )); do
    mid=$(( (lo + hi) / 2 ))
    # Skip what does not build, as git bisect skip does: try the nearest untried count.
    candidates=("$mid")
    for (( d = 1; d < hi - lo; d++ )); do
      (( mid + d < hi )) && candidates+=($((mid + d)))
      (( mid - d > lo )) && candidates+=($((mid - d)))
    done
    chosen=""
    for c in "${candidates[@]}"; do
      if [[ " ${skipped[*]} " == *" $c "* ]]; then continue; fi
      if [[ -n "$(awk -v n="$c" '$1 == "skip" && $2 == n' "$steps")" ]]; then skipped+=("$c"); continue; fi
      if [[ -z "$(decided step "$c")" ]]; then
        bs="$(build_seconds "$c")"
        [[ -n "$bs" ]] || exit 2
        if [[ "$bs" == failed ]]; then
          record skip "$c" - build_failed - - - "$(tail -1 "$work_dir/build-$c.log" | tr ' ' '_')"
          skipped+=("$c")
          log "$c patches: the build failed; skipped"
          continue
        fi
        echo "$c $bs" >>"$work_dir/build_times"
        t0=$(date +%s)
        if measure "$good" "$c" "step-$c" >"$work_dir/measure.tmp"; then
          mapfile -t results <"$work_dir/measure.tmp"
        else
          record skip "$c" - boot_or_measure_failed - - - -
          skipped+=("$c")
          continue
        fi
        t=$(( $(date +%s) - t0 ))
        for i in "${!metrics[@]}"; do
          read -r v r r_lo r_hi rn boot <<<"${results[i]}"
          record step "$c" "${metrics[i]}" "$v" "$r" "$r_lo" "$r_hi" "$rn" "$bs" "$t" "$boot"
        done
      fi
      chosen="$c"
      break
    done
    if [[ -z "$chosen" ]]; then break; fi
    read -r _ _ _ v ratio _ _ _ _ _ < <(awk -v n="$chosen" -v m="$m" '$1 == "step" && $2 == n && $3 == m' "$steps" | tail -1)
    read -r side how < <(classify "$m" "$v" "$ratio")
    log "$m: $chosen patches: $v (B/A $ratio) -> $side ($how)"
    if [[ "$side" == bad ]]; then hi=$chosen; else lo=$chosen; fi
  done
  # Skipped counts between lo and hi hide the culprit among them.
  hidden=()
  for s in "${skipped[@]}"; do (( s > lo && s < hi )) && hidden+=("$s"); done
  if (( hi - lo == 1 )); then
    answer[$m]="first bad patch: $hi $(patch_file "$hi") \"$(patch_subject "$hi")\""
  else
    answer[$m]="the first bad patch is one of $((lo + 1))..$hi: patches ${hidden[*]} were skipped (did not build or boot)"
  fi
done

# --- the answer --------------------------------------------------------------------------------
echo
echo "bisect of $series ($total patches, good $good, bad $bad, $arch)"
# measure_s is the step's whole A/B (boots included); boot_s the part spent booting machines.
printf '%-8s %-8s %-28s %-14s %-26s %-8s %-10s %-7s %s\n' step patches metric verdict "B/A [95% CI]" build_s measure_s boot_s boots
declare -A counted=()  # one A/B per step, whatever the number of metrics it answered
spent=0
while read -r kind n metric verdict ratio rlo rhi brounds bs ms boot; do
  if [[ "$kind" == skip ]]; then
    printf '%-8s %-8s %-28s %-14s %-26s %-8s %-10s %-7s %s\n' skip "$n" - "$verdict" - - - - -
    continue
  fi
  if [[ -z "${counted[$kind-$n]:-}" ]]; then
    counted[$kind-$n]=1
    spent=$(( spent + ${bs:-0} + ${ms:-0} ))
  fi
  printf '%-8s %-8s %-28s %-14s %-26s %-8s %-10s %-7s %s\n' "$kind" "$n" "$metric" "$verdict" \
    "$(awk -v r="$ratio" -v l="$rlo" -v h="$rhi" 'BEGIN { printf "%.3f [%.3f, %.3f]", r, l, h }')" \
    "$bs" "$ms" "${boot:--}" "$brounds"
done <"$steps"
echo
for m in "${metrics[@]}"; do echo "$m: ${answer[$m]}"; done
echo "builds: $(wc -l <"$work_dir/build_times" 2>/dev/null || echo 0); steps: ${#counted[@]} A/Bs, $spent s building and measuring; this invocation $(( $(date +%s) - started )) s; work directory $work_dir"
