#!/usr/bin/env bash
# faultline-kernel-build refuses bad input with a message that names what is wrong, and leaves
# the cache as it found it: a patch that does not apply (the patch, the file and the hunk named),
# a configuration that loses PER_VMA_LOCK (tinyconfig's SMP=n, asked for by a user fragment),
# and sources that do not exist. Debian's linux-source-6.12 is fetched into the lab's cache once
# (apt-get download) and shared with this test's own cache directory.
source "${TEST_SRCDIR}/${TEST_WORKSPACE:-faultline}/tests/lab/lab_test_lib.sh"
build="$runfiles/agent/lab/faultline-kernel-build"
series="$runfiles/agent/lab/series/vm-fault-retry-hard"

shared_cache="${FAULTLINE_LAB_CACHE:-/var/cache/faultline-lab}"
mkdir -p "$shared_cache/debs" "$shared_cache/src"
cache="$scratch/cache"
mkdir -p "$cache"
ln -s "$shared_cache/debs" "$cache/debs"
ln -s "$shared_cache/src" "$cache/src"

# expect_refused NAME EXPECTED_TEXT... -- ARGS: exit 2, every text in the message, nothing cached.
expect_refused() {
  local name="$1"; shift
  local texts=()
  while [[ "$1" != -- ]]; do texts+=("$1"); shift; done
  shift
  local rc=0
  "$build" --cache_dir="$cache" "$@" >"$scratch/$name.out" 2>"$scratch/$name.err" || rc=$?
  sed 's/^/  | /' "$scratch/$name.err" | tail -12
  (( rc == 2 )) || fail "$name: exit $rc, expected 2"
  for t in "${texts[@]}"; do
    grep -qF -- "$t" "$scratch/$name.err" || fail "$name: the message does not say \"$t\""
  done
  [[ ! -s "$scratch/$name.out" ]] || fail "$name: printed an image path: $(cat "$scratch/$name.out")"
  local left
  left="$(find "$cache" -mindepth 1 -maxdepth 2 ! -name debs ! -name src ! -name kernels ! -name kbuild)"
  [[ -z "$left" && -z "$(ls -A "$cache/kernels" 2>/dev/null)" && -z "$(ls -A "$cache/kbuild" 2>/dev/null)" ]] ||
    fail "$name: left in the cache: $left $(ls -A "$cache/kernels" "$cache/kbuild" 2>/dev/null | tr '\n' ' ')"
  echo "ok: $name"
}

# The series' first patch with one context line changed: hunk 2 of mm_types.h no longer matches.
bad="$scratch/bad-series"
mkdir -p "$bad"
cp "$series/0001-mm-add-VM_FAULT_RETRY_HARD.patch" "$bad/0001-mm-add-VM_FAULT_RETRY_HARD.patch"
sed -i "s/^ \tVM_FAULT_RETRY          = (__force vm_fault_t)0x000400,\$/ \tVM_FAULT_RETRY          = (__force vm_fault_t)0x000401,/" \
  "$bad/0001-mm-add-VM_FAULT_RETRY_HARD.patch"
cmp -s "$bad/0001-mm-add-VM_FAULT_RETRY_HARD.patch" "$series/0001-mm-add-VM_FAULT_RETRY_HARD.patch" &&
  fail "the test's broken patch is not broken"
cp "$series/0002-mm-mark-the-retries-that-need-mmap_lock.patch" "$bad/"
expect_refused bad_patch "0001-mm-add-VM_FAULT_RETRY_HARD.patch" "mm: add VM_FAULT_RETRY_HARD" \
  "include/linux/mm_types.h" "Hunk #2 FAILED" -- \
  --source=debian:6.12 --arch=x86_64 --series="$bad"

# A user fragment that turns SMP off: PER_VMA_LOCK (def_bool on SMP) goes with it.
printf '# CONFIG_SMP is not set\n' >"$scratch/no-smp.config"
expect_refused loses_per_vma_lock "CONFIG_PER_VMA_LOCK (asked: y" "CONFIG_SMP (asked: y" \
  "refusing to build a kernel without them" -- \
  --source=debian:6.12 --arch=x86_64 --config="$scratch/no-smp.config"

expect_refused no_tree "\"$scratch/no-such-tree\" is not a kernel tree" -- \
  --source="$scratch/no-such-tree" --arch=x86_64
expect_refused no_package "linux-source-9.99" "cannot be downloaded" -- \
  --source=debian:9.99 --arch=x86_64
expect_refused bad_arch "--arch: \"sparc\" is not one of x86_64, arm64" -- \
  --source=debian:6.12 --arch=sparc
expect_refused bad_count "--patches: \"7\" is not 0..4" -- \
  --source=debian:6.12 --arch=x86_64 --series="$series" --patches=7

# The series itself lists in order, with each patch's subject.
"$build" --series="$series" --list >"$scratch/list.out" || fail "--list exited $?"
cat "$scratch/list.out"
[[ "$(wc -l <"$scratch/list.out")" -eq 4 ]] || fail "--list: not 4 patches"
grep -qP '^3\t0003-x86-mm-retry-under-the-VMA-lock.patch\tx86/mm: retry under the VMA lock' "$scratch/list.out" ||
  fail "--list: patch 3 is not the x86 change"
echo PASS
