#!/usr/bin/env bash
# faultline-lab bisect on series made from tests/lab/bisect_series (patches on 6.12, of which 0003
# adds udelay(3) to do_anonymous_page): it names the culprit (and a second run in the same work
# directory measures nothing again); with only the harmless patches it reports no change at the
# confirm step; with the culprit's build broken (and fixed by the next patch) it skips the broken
# step and answers with the range the skip hides. Small series keep it to five A/Bs. The kernels are
# built incrementally in one tree per series (each step rebuilds mm/memory.o and relinks) and
# cached in the lab's cache. The machines run under qemu's -icount, where guest time counts
# instructions: a boot's timings then do not move with the host's load (robust CV about 0.4%
# across boots on a loaded 2-CPU host, against 30-70% under real-time TCG), so the verdicts, and
# with them the answers, are the same on a quiet and a busy machine.
# Arguments name the cases to run (culprit, harmless, broken); none: all three.
source "${TEST_SRCDIR}/${TEST_WORKSPACE:-faultline}/tests/lab/lab_test_lib.sh"
series="$tests_dir/bisect_series"
cases=("$@")
(( ${#cases[@]} > 0 )) || cases=(culprit harmless broken)
wanted() { [[ " ${cases[*]} " == *" $1 "* ]]; }

bisect() {  # bisect NAME SERIES_DIR [FLAGS...]
  local name="$1" dir="$2"; shift 2
  local rc=0
  "$lab" bisect --arch=x86_64 --source=debian:6.12 --series="$dir" \
    --suite="$tests_dir/bisect_suite.textproto" --metric=fault_anon:ns_per_fault --icount \
    --work_dir="$scratch/$name" "$@" 2>&1 | tee "$scratch/$name.out" || rc=$?
  rc="${PIPESTATUS[0]}"
  (( rc == 0 )) || fail "$name: faultline-lab bisect exited $rc"
}
with_order() {  # with_order DIR PATCH...: a series directory listing PATCH... in that order
  local dir="$1"; shift
  mkdir -p "$dir"
  for p in "$@"; do cp "$series/$p" "$dir/" 2>/dev/null || true; done
  printf '%s\n' "$@" >"$dir/series"
}

if wanted culprit; then
# 1. A harmless patch, then the culprit: the culprit is named, with its subject.
with_order "$scratch/culprit-series" 0001-comment-do-fault.patch 0003-anon-fault-delay.patch
bisect culprit "$scratch/culprit-series"
grep -q '^fault_anon:ns_per_fault: first bad patch: 2 0003-anon-fault-delay.patch "mm/memory: a fixed cost on every anonymous fault"' \
  "$scratch/culprit.out" || fail "culprit: 0003 not named as the first bad patch"
grep -Eq '^confirm +2 +fault_anon:ns_per_fault +regression ' "$scratch/culprit.out" ||
  fail "culprit: the confirm step is not a regression"

# The same bisect again in the same work directory: every step is already decided.
bisect culprit "$scratch/culprit-series"
grep -q 'first bad patch: 2 ' "$scratch/culprit.out" || fail "culprit (resumed): not the same answer"
! grep -q "faultline-lab: vm" "$scratch/culprit.out" || fail "culprit (resumed): booted machines again"
fi

if wanted harmless; then
# 2. Only the harmless patches: nothing to bisect.
with_order "$scratch/harmless" 0001-comment-do-fault.patch 0002-unused-helper.patch 0004-comment-mmap-pgoff.patch
bisect harmless "$scratch/harmless"
grep -Eq '^fault_anon:ns_per_fault: no change confirmed between 0 and 3 patches' "$scratch/harmless.out" ||
  fail "harmless: the confirm step did not report no change"
fi

if wanted broken; then
# 3. The culprit second of three, its build broken, and fixed by the third: the broken step is
# skipped and the answer is the range it hides.
broken="$scratch/broken"
mkdir -p "$broken"
cp "$series/0001-comment-do-fault.patch" "$broken/"
sed 's/^+\tudelay(3);$/+\tudelay(3) faultline_bisect_does_not_compile;/' \
  "$series/0003-anon-fault-delay.patch" >"$broken/0003-anon-fault-delay-broken.patch"
cmp -s "$broken/0003-anon-fault-delay-broken.patch" "$series/0003-anon-fault-delay.patch" &&
  fail "the broken culprit is not broken"
cat >"$broken/0003-fix-the-build.patch" <<'PATCH'
From: faultline <faultline@localhost>
Subject: [PATCH] mm/memory: fix the build of the fixed cost

Origin: faultline's bisect test series; the fix-up of its broken culprit.
---
--- a/mm/memory.c
+++ b/mm/memory.c
@@ -4750,3 +4750,3 @@
 	/* faultline bisect test: a fixed cost on every anonymous fault. */
-	udelay(3) faultline_bisect_does_not_compile;
+	udelay(3);
 
PATCH
printf '%s\n' 0001-comment-do-fault.patch 0003-anon-fault-delay-broken.patch \
  0003-fix-the-build.patch >"$broken/series"
bisect broken "$broken"
grep -Eq '^skip +2 ' "$scratch/broken.out" || fail "broken: patch 2 was not skipped"
grep -q 'the first bad patch is one of 2..3: patches 2 were skipped' "$scratch/broken.out" ||
  fail "broken: the answer is not the range 2..3"
fi
echo PASS
