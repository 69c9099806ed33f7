#!/usr/bin/env bash
# A lab A/B of one kernel image, transparent_hugepage=never vs always on the command line, plus an
# A/A (never vs never) in the same run: three machines, each booted 7 times, one at a time
# (A B C A B C ...). With THP every 2 MiB of the region is one fault instead of 512, so
# fault_anon's cost per 4 KiB page must come out lower, as a significant improvement; the A/A
# must show no significant change. Seven boots a side: at five, the exact test's best p (2/252)
# is not enough once the run's mmap_lock and vma_lock figures share the false-discovery family.
source "${TEST_SRCDIR}/${TEST_WORKSPACE:-faultline}/tests/lab/lab_test_lib.sh"

# The A/B also decides a gate: a 5% regression budget on ns_per_fault, which an improvement
# passes. The lab's exit status is the worst gate's, so it is read per machine instead.
printf 'fault_anon ns_per_fault 5%%\n' >"$scratch/thp.policy"
rc=0
"$lab" --arch=x86_64 \
  --kernel=debian:cloud --label=stock --append=transparent_hugepage=never \
  --kernel=debian:cloud --label=patched/thp-always --append=transparent_hugepage=always \
  --kernel=debian:cloud --label=patched/same --append=transparent_hugepage=never \
  --suite="$tests_dir/fault_anon_suite.textproto" --rounds=7 --repetitions=2 \
  --policy="$scratch/thp.policy" --work_dir="$scratch/lab" || rc=$?
(( rc <= 2 )) || fail "faultline-lab exited $rc"
grep -q "^gate: pass" "$scratch/lab/gate-vm0-vm1.txt" || fail "A/B: the gate did not pass"

table="$scratch/lab/compare-vm0-vm1.txt"
ratio="$(compare_field "$table" fault_anon ns_per_fault ratio)"
verdict="$(compare_field "$table" fault_anon ns_per_fault verdict)"
upper="$(awk '$1 == "fault_anon" && $2 == "ns_per_fault"' "$table" |
  sed -nE 's/.*\[[0-9.e+-]+, ([0-9.e+-]+)\].*/\1/p' | head -1)"
echo "A/B THP never -> always: fault_anon ns_per_fault B/A $ratio (upper bound $upper), $verdict"
awk -v r="$ratio" 'BEGIN { exit !(r < 1) }' || fail "A/B: B/A $ratio is not below 1"
# The effect is about -60%: an improvement, or, on a host noisy enough that seven boots do not
# clear the false-discovery bar, at least an interval wholly below 0.9 and never a regression.
if [[ "$verdict" != improvement ]]; then
  [[ "$verdict" == inconclusive ]] || fail "A/B: expected an improvement in ns_per_fault, got $verdict"
  awk -v u="$upper" 'BEGIN { exit !(u != "" && u < 0.9) }' ||
    fail "A/B: inconclusive and the interval's upper bound ($upper) is not below 0.9"
fi

table="$scratch/lab/compare-vm0-vm2.txt"
ratio="$(compare_field "$table" fault_anon ns_per_fault ratio)"
verdict="$(compare_field "$table" fault_anon ns_per_fault verdict)"
echo "A/A THP never -> never: fault_anon ns_per_fault B/A $ratio, $verdict"
[[ "$verdict" == no_change || "$verdict" == inconclusive ]] ||
  fail "A/A: expected no significant change, got $verdict (B/A $ratio)"
echo "PASS"
