#!/usr/bin/env bash
# faultline-lab --icount: Debian's cloud-amd64 kernel boots under qemu's -icount (guest time
# counts executed instructions) and its results come back in a host class of their own; the same
# kernel booted with real-time TCG on the same controller lands in the -tcg class, and the
# controller refuses to compare the two (or a selection that spans both), while two icount boots
# compare as usual.
source "${TEST_SRCDIR}/${TEST_WORKSPACE:-faultline}/tests/lab/lab_test_lib.sh"

pki="$scratch/pki"
make_test_pki "$pki"
"$controller_bin" --listen=127.0.0.1:0 --db="$scratch/faultline.db" \
  --tls_cert="$pki/controller.pem" --tls_key="$pki/controller.key" --client_ca="$pki/ca.pem" \
  --access_policy="$pki/access.policy" --port_file="$scratch/controller.port" --metrics_listen= 2>"$scratch/controller.log" &
controller_pid=$!
trap 'kill "$controller_pid" 2>/dev/null || true; wait' EXIT
for _ in $(seq 1 100); do [[ -s "$scratch/controller.port" ]] && break; sleep 0.1; done
[[ -s "$scratch/controller.port" ]] || fail "controller did not start: $(cat "$scratch/controller.log")"
controller="127.0.0.1:$(cat "$scratch/controller.port")"
ctl() { "$ctl_bin" --controller="$controller" "${ctl_tls[@]}" "$@"; }

run_lab() {  # run_lab RUN_ID LABEL LAB_ARGS...
  local id="$1" label="$2"
  shift 2
  "$lab" --arch=x86_64 --controller="$controller" --pki_dir="$pki" --run_id="$id" \
    --kernel=debian:cloud --label="$label" "$@" \
    --suite="$tests_dir/fault_anon_suite.textproto" --rounds=2 --repetitions=2 \
    --work_dir="$scratch/lab-$id" | tee "$scratch/lab-$id.out" || fail "faultline-lab ($id) exited $?"
}
run_lab ic stock --icount
run_lab rt patched/real-time --accel=tcg

# Host classes as stored with the results (CSV column host_class), per run of the lab.
classes() { tail -n +2 "$scratch/lab-$1/results.csv" | cut -d, -f10 | sort -u; }
ic_class="$(classes ic)"
rt_class="$(classes rt)"
echo "icount class: $ic_class; real-time class: $rt_class"
[[ "$(wc -l <<<"$ic_class")" -eq 1 && "$ic_class" == x86_64-*-1cpu-*-icount3 ]] ||
  fail "icount results are not in one x86_64-...-1cpu-...-icount3 class: $ic_class"
[[ "$(wc -l <<<"$rt_class")" -eq 1 && "$rt_class" == x86_64-*-tcg ]] ||
  fail "real-time results are not in one x86_64-...-tcg class: $rt_class"
# The guest's fingerprint says what its clock is: the shift the lab gave qemu.
fingerprint="$(jq -c '[.runs[].result.host | {virtualization, icount_shift}] | unique' \
  "$scratch"/lab-ic/results/*.json | sort -u)"
[[ "$fingerprint" == '[{"virtualization":"VIRTUALIZATION_EMULATED_ICOUNT","icount_shift":3}]' ]] ||
  fail "icount guests' fingerprints: $fingerprint"
grep -q "^boot vm0 b1 (stock, x86_64, tcg -icount shift=3,sleep=off)" "$scratch/lab-ic.out" ||
  fail "the lab did not boot with -icount shift=3,sleep=off"
ns="$(awk -F, '$(NF - 2) == "ns_per_fault"' "$scratch/lab-ic/results.csv" | wc -l)"
(( ns == 4 )) || fail "icount guest: $ns ns_per_fault rows, not 2 boots x 2 repetitions"

# Never compared with real-time results, in either direction, nor pooled with them.
ic_side="kernel_label=stock,agent=lab-x86_64-vm0-b*-ic"
rt_side="kernel_label=patched/real-time,agent=lab-x86_64-vm0-b*-rt"
expect_refused() {  # expect_refused MESSAGE BASELINE CANDIDATE
  local rc=0
  ctl compare --baseline="$2" --candidate="$3" >"$scratch/compare.out" 2>&1 || rc=$?
  # compare's own errors exit 3 (0-2 are verdicts).
  (( rc == 3 )) || fail "compare $2 vs $3: exit $rc, expected 3: $(cat "$scratch/compare.out")"
  grep -q FAILED_PRECONDITION "$scratch/compare.out" || fail "compare $2 vs $3: not FAILED_PRECONDITION"
  grep -q -- "$1" "$scratch/compare.out" || fail "compare $2 vs $3: no \"$1\" in: $(cat "$scratch/compare.out")"
  echo "refused: $2 vs $3: $(tail -1 "$scratch/compare.out")"
}
expect_refused "baseline's times are icount shift 3, candidate's real time" "$ic_side" "$rt_side"
expect_refused "baseline's times are real time, candidate's icount shift 3" "$rt_side" "$ic_side"
expect_refused "span host classes" "agent=lab-x86_64-vm0-*" "$ic_side"
# Two icount selections compare (the A/A of one machine's boots).
ctl compare --baseline="$ic_side" --candidate="$ic_side" >"$scratch/aa.out" 2>&1 ||
  fail "icount vs icount compare failed: $(cat "$scratch/aa.out")"
grep -q "fault_anon" "$scratch/aa.out" || fail "icount A/A compare has no fault_anon row: $(cat "$scratch/aa.out")"
echo "PASS: icount results in $ic_class, never compared with $rt_class"
