#!/usr/bin/env bash
# A lab A/B of one kernel image booted twice, transparent_hugepage=never vs always on the command
# line: with THP every 2 MiB of the region is one fault instead of 512, so fault_anon's cost per
# 4 KiB page must come out lower, as a significant improvement in the comparison. Then an A/A,
# never vs never, must show no significant change.
source "${TEST_SRCDIR}/${TEST_WORKSPACE:-faultline}/tests/lab/lab_test_lib.sh"

run_lab() {  # run_lab NAME APPEND_A LABEL_B APPEND_B
  "$lab" --arch=x86_64 \
    --kernel=debian:cloud --label=stock --append="$2" \
    --kernel=debian:cloud --label="$3" --append="$4" \
    --suite="$tests_dir/fault_anon_suite.textproto" --repetitions=8 \
    --work_dir="$scratch/$1" || fail "faultline-lab ($1) exited $?"
}

run_lab ab transparent_hugepage=never patched/thp-always transparent_hugepage=always
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
