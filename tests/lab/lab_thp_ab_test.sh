#!/usr/bin/env bash
# A lab A/B of one kernel image, transparent_hugepage=never vs always on the command line, each
# booted 5 times (A B A B ...): with THP every 2 MiB of the region is one fault instead of 512, so
# fault_anon's cost per 4 KiB page must come out lower, as a significant improvement in the
# comparison. Then an A/A, never vs never, must show no significant change.
source "${TEST_SRCDIR}/${TEST_WORKSPACE:-faultline}/tests/lab/lab_test_lib.sh"

run_lab() {  # run_lab NAME APPEND_A LABEL_B APPEND_B [LAB FLAGS...]
  local name="$1" append_a="$2" label_b="$3" append_b="$4"
  shift 4
  "$lab" --arch=x86_64 \
    --kernel=debian:cloud --label=stock --append="$append_a" \
    --kernel=debian:cloud --label="$label_b" --append="$append_b" \
    --suite="$tests_dir/fault_anon_suite.textproto" --rounds=5 --repetitions=2 \
    --work_dir="$scratch/$name" "$@" || fail "faultline-lab ($name) exited $?"
}

# The A/B also decides a gate: a 5% regression budget on ns_per_fault, which an improvement
# passes (the lab then exits 0, as faultlinectl gate does).
printf 'fault_anon ns_per_fault 5%%\n' >"$scratch/thp.policy"
run_lab ab transparent_hugepage=never patched/thp-always transparent_hugepage=always \
  --policy="$scratch/thp.policy"
grep -q "^gate: pass" "$scratch/ab/gate-vm0-vm1.txt" || fail "A/B: the gate did not pass"
table="$scratch/ab/compare-vm0-vm1.txt"
ratio="$(compare_field "$table" fault_anon ns_per_fault ratio)"
verdict="$(compare_field "$table" fault_anon ns_per_fault verdict)"
echo "A/B THP never -> always: fault_anon ns_per_fault B/A $ratio, $verdict"
[[ "$verdict" == improvement ]] || fail "A/B: expected an improvement in ns_per_fault, got $verdict"
awk -v r="$ratio" 'BEGIN { exit !(r < 1) }' || fail "A/B: B/A $ratio is not below 1"

run_lab aa transparent_hugepage=never patched/same transparent_hugepage=never
table="$scratch/aa/compare-vm0-vm1.txt"
ratio="$(compare_field "$table" fault_anon ns_per_fault ratio)"
verdict="$(compare_field "$table" fault_anon ns_per_fault verdict)"
echo "A/A THP never -> never: fault_anon ns_per_fault B/A $ratio, $verdict"
[[ "$verdict" == no_change || "$verdict" == inconclusive ]] ||
  fail "A/A: expected no significant change, got $verdict (B/A $ratio)"
echo "PASS"
