#!/usr/bin/env bash
# The VM_FAULT_RETRY_HARD mechanism, on kernels built here from Debian's linux-source-6.12:
# stock, and stock plus agent/lab/series/vm-fault-retry-hard, with faultline's guest config, each
# booted in the lab (one at a time). Deterministic even under TCG:
#  - the booted kernels are the builds asked for: PER_VMA_LOCK=y, the series named in their
#    version string (faultline-lab checks both and stops otherwise);
#  - stock: a cold file read fault drops the VMA lock for its I/O and is retried under mmap_lock,
#    so vma_lock_retry counts about one per major fault and the retried fault completes outside
#    the VMA lock (vma_lock_success stays far below the major faults);
#  - patched: the same retries go back to the VMA lock and complete there, so vma_lock_success
#    counts at least one per major fault;
#  - the faulting threads' own mmap_lock acquisitions (mmap_lock tracepoints, in each run's
#    tracing repetition): about one per fault on stock, near zero with the series.
# (pgfault counts each attempt, so a retried fault counts twice there.)
# The kernels come from the lab's cache when an earlier run built them (about 12 minutes each on
# two cores otherwise).
source "${TEST_SRCDIR}/${TEST_WORKSPACE:-faultline}/tests/lab/lab_test_lib.sh"

"$lab" --arch=x86_64 --rounds=1 --repetitions=3 \
  --kernel=build:debian:6.12 --label=stock \
  --kernel=build:debian:6.12+vm-fault-retry-hard --label=patched/vm-fault-retry-hard \
  --suite="$tests_dir/retry_hard_suite.textproto" --work_dir="$scratch/lab" \
  2>&1 | tee "$scratch/lab.out" || fail "faultline-lab exited ${PIPESTATUS[0]}"
[[ "${PIPESTATUS[0]}" == 0 ]] || fail "faultline-lab exited ${PIPESTATUS[0]}"
grep -q "vm0 boot 1 (stock, .*): kernel .*(faultline@stock)" "$scratch/lab.out" || fail "vm0 did not boot the stock build"
grep -q "vm1 boot 1 (patched/vm-fault-retry-hard, .*): kernel .*(faultline@vm-fault-retry-hard.4-of-4)" "$scratch/lab.out" ||
  fail "vm1 did not boot the build with all 4 patches of the series"

# Per machine and benchmark, summed over the measured repetitions: the vmstat deltas (system-
# wide in the guest, where the benchmark is nearly all that runs).
sums() {  # sums MACHINE BENCHMARK: "pgfault pgmajfault vma_lock_success vma_lock_retry vma_lock_miss"
  local ids
  ids="$(awk -v m="$1" '$2 == m { print $1 }' "$scratch/lab/campaigns")"
  for id in $ids; do cat "$scratch/lab/results/$id.json"; done |
    jq -s -r --arg b "$2" '
      [ .[].runs[] | select(.result.benchmark == $b and .result.state == "RUN_STATE_OK")
        | .result.repetitions[].counters ] as $r
      | [ "vmstat.pgfault", "vmstat.pgmajfault", "vmstat.vma_lock_success", "vmstat.vma_lock_retry",
          "vmstat.vma_lock_miss" ]
      | map(. as $k | [ $r[][$k] // "0" | tonumber ] | add // 0) | @tsv'
}
check() {  # check BENCHMARK
  local b="$1" s p
  read -r s_faults s_major s_success s_retry s_miss < <(sums vm0 "$b")
  read -r p_faults p_major p_success p_retry p_miss < <(sums vm1 "$b")
  echo "$b stock:   pgfault $s_faults pgmajfault $s_major vma_lock_success $s_success retry $s_retry miss $s_miss"
  echo "$b patched: pgfault $p_faults pgmajfault $p_major vma_lock_success $p_success retry $p_retry miss $p_miss"
  (( s_major >= 500 && p_major >= 500 )) || fail "$b: too few major faults to tell ($s_major, $p_major): not cold?"
  # Stock: about one VMA-lock retry per major fault, each finished under mmap_lock.
  awk -v r="$s_retry" -v m="$s_major" 'BEGIN { exit !(r >= 0.9 * m && r <= 1.5 * m) }' ||
    fail "$b stock: vma_lock_retry $s_retry is not about one per major fault ($s_major)"
  awk -v s="$s_success" -v m="$s_major" 'BEGIN { exit !(s <= 0.2 * m) }' ||
    fail "$b stock: vma_lock_success $s_success is not far below the major faults ($s_major): no fallback?"
  # Patched: the retries stay, and the faults they retry now complete under the VMA lock.
  awk -v r="$p_retry" -v m="$p_major" 'BEGIN { exit !(r >= 0.9 * m) }' ||
    fail "$b patched: vma_lock_retry $p_retry below the major faults ($p_major)"
  awk -v s="$p_success" -v m="$p_major" 'BEGIN { exit !(s >= 0.9 * m) }' ||
    fail "$b patched: vma_lock_success $p_success does not cover the major faults ($p_major)"
}
check fault_file_cold
check mmap_writer_contention

# The faulting threads' own mmap_lock acquisitions per fault, from the runs' tracing repetitions
# (the mmap_lock tracepoints, filtered to the benchmark's threads): on stock every retried fault
# takes mmap_lock; with the series the faulters take it only around their own mmap/munmap.
acquisitions() {  # acquisitions MACHINE BENCHMARK METRIC: the mean over the machine's runs
  local ids
  ids="$(awk -v m="$1" '$2 == m { print $1 }' "$scratch/lab/campaigns")"
  for id in $ids; do cat "$scratch/lab/results/$id.json"; done |
    jq -s -r --arg b "$2" --arg n "$3" '
      [ .[].runs[] | select(.result.benchmark == $b and .result.state == "RUN_STATE_OK")
        | .result.tracing_repetitions[]?.metrics[]? | select(.name == $n) | .value ]
      | if length == 0 then "none" else (add / length) end'
}
for pair in fault_file_cold:mmap_lock.faulter.acquisitions_per_fault \
    mmap_writer_contention:mmap_lock.contended.faulter.acquisitions_per_fault; do
  b="${pair%%:*}" n="${pair#*:}"
  s="$(acquisitions vm0 "$b" "$n")" p="$(acquisitions vm1 "$b" "$n")"
  echo "$b $n: stock $s, patched $p"
  [[ "$s" != none && "$p" != none ]] || fail "$b: no $n in the tracing repetitions (tracefs in the guest?)"
  awk -v v="$s" 'BEGIN { exit !(v >= 0.8) }' || fail "$b stock: $n $s, expected about one per fault"
  awk -v v="$p" 'BEGIN { exit !(v <= 0.1) }' || fail "$b patched: $n $p, expected near zero"
done
echo PASS
