#!/usr/bin/env bash
# faultline-lab refuses bad input before it starts anything: exit 2 and a message naming the flag.
source "${TEST_SRCDIR}/${TEST_WORKSPACE:-faultline}/tests/lab/lab_test_lib.sh"

expect_refused() {  # expect_refused MESSAGE_REGEX LAB_ARGS...
  local message="$1" rc=0
  shift
  "$lab" --work_dir="$scratch/refused" "$@" >"$scratch/out" 2>&1 || rc=$?
  (( rc == 2 )) || fail "$*: exit $rc, expected 2: $(cat "$scratch/out")"
  grep -Eq -- "$message" "$scratch/out" || fail "$*: no \"$message\" in: $(cat "$scratch/out")"
  [[ ! -e "$scratch/refused/faultline.db" ]] || fail "$*: a controller was started"
  echo "ok: $* -> $(cat "$scratch/out")"
}

expect_refused "--kernel: give at least one kernel image"
expect_refused '--arch: "sparc" is not one of x86_64, arm64' --arch=sparc --kernel=debian:cloud
expect_refused '--label: "patched" is not stock or patched/<name>' --kernel=debian:cloud --label=patched
expect_refused "--label: must follow a --kernel" --label=stock --kernel=debian:cloud
expect_refused "--append: faultline.\* words are the lab's own" \
  --kernel=debian:cloud --append=faultline.controller=10.0.2.2:1
expect_refused '--controller: "192.168.1.5:7070" must be 127.0.0.1:PORT' \
  --kernel=debian:cloud --controller=192.168.1.5:7070
expect_refused "--controller: needs --pki_dir=DIR" --kernel=debian:cloud --controller=127.0.0.1:7070
mkdir -p "$scratch/empty_pki"
expect_refused "--pki_dir: no readable ca.pem and ca.key in \"$scratch/empty_pki\"" \
  --kernel=debian:cloud --controller=127.0.0.1:7070 --pki_dir="$scratch/empty_pki"
expect_refused '--cpus: "0" is not 1..64' --kernel=debian:cloud --cpus=0
expect_refused '--memory: "64" is not 256..65536 MiB' --kernel=debian:cloud --memory=64
expect_refused '--accel: "xen" is not one of auto, kvm, tcg' --kernel=debian:cloud --accel=xen
expect_refused '--icount: "11" is not a shift of 0..10' --kernel=debian:cloud --icount=11
expect_refused "--icount: needs TCG" --kernel=debian:cloud --icount --accel=kvm
expect_refused "--icount: one vCPU only \(--cpus=2\)" --kernel=debian:cloud --icount --cpus=2
expect_refused "--kernel: cannot read \"$scratch/missing\"" --kernel="$scratch/missing"
expect_refused '--suite: cannot read' --kernel=debian:cloud --suite="$scratch/missing.textproto"
expect_refused 'unknown argument "--cpu=2"' --kernel=debian:cloud --cpu=2
expect_refused '--until_decided: decides one A/B, so give exactly two --kernel' \
  --kernel=debian:cloud --until_decided
expect_refused '--max_rounds: "0" is not 1..100' --kernel=debian:cloud --kernel=debian:cloud \
  --until_decided --max_rounds=0
expect_refused "--max_rounds: 4 is fewer than the first look's 5 rounds" \
  --kernel=debian:cloud --kernel=debian:cloud --until_decided --max_rounds=4
expect_refused '--budget_minutes: "soon" is not a number of minutes' --kernel=debian:cloud \
  --budget_minutes=soon
expect_refused '--until_decided: decides on the comparison, not with --policy' \
  --kernel=debian:cloud --kernel=debian:cloud --until_decided --policy="$0"
# bisect --range: a git tree's commits GOOD..BAD become the series (format-patch files, oldest
# first, on a clone of the tree at GOOD); a range it cannot bisect is refused naming the reason.
toy="$scratch/toy-tree"
mkdir -p "$toy/mm"
git -C "$toy" init -q
commit() { git -C "$toy" -c user.name=faultline -c user.email=faultline@localhost commit -q "$@"; }
echo "int a;" >"$toy/mm/memory.c"
git -C "$toy" add -A && commit -m "base"
git -C "$toy" tag good
for i in 1 2 3; do echo "int b$i;" >>"$toy/mm/memory.c"; commit -am "mm/memory: change $i"; done
git -C "$toy" tag bad
listed="$("$lab" bisect --source="$toy" --range=good..bad --list 2>&1)" || fail "bisect --range --list: $listed"
[[ "$(printf '%s\n' "$listed" | cut -f3)" == $'mm/memory: change 1\nmm/memory: change 2\nmm/memory: change 3' ]] ||
  fail "bisect --range --list: not the three commits oldest first: $listed"
echo "ok: bisect --range=good..bad --list -> $(printf '%s\n' "$listed" | cut -f2 | tr '\n' ' ')"
git -C "$toy" checkout -q -b side good
echo "int c;" >"$toy/mm/other.c"
git -C "$toy" add -A && commit -m "side"
git -C "$toy" checkout -q -b merged bad
git -C "$toy" -c user.name=faultline -c user.email=faultline@localhost merge -q --no-edit side
[[ "$(git -C "$toy" status --porcelain)" == "" ]] || fail "the toy tree is not clean"
expect_bisect_refused() {  # expect_bisect_refused MESSAGE_REGEX ARGS...
  local message="$1" rc=0
  shift
  "$lab" bisect "$@" --list >"$scratch/out" 2>&1 || rc=$?
  (( rc == 2 )) || fail "bisect $*: exit $rc, expected 2: $(cat "$scratch/out")"
  grep -Eq -- "$message" "$scratch/out" || fail "bisect $*: no \"$message\" in: $(cat "$scratch/out")"
  echo "ok: bisect $* -> $(cat "$scratch/out")"
}
expect_bisect_refused '--range: bad is not an ancestor of good' --source="$toy" --range=bad..good
expect_bisect_refused '--range: "nope" is not a commit' --source="$toy" --range=good..nope
expect_bisect_refused '--range: good..good is empty' --source="$toy" --range=good..good
expect_bisect_refused '--range: good..merged holds 1 merge commits; bisect a linear range' \
  --source="$toy" --range=good..merged
expect_bisect_refused '--range: --source ".*" is not a git tree' --source="$scratch/empty_pki" --range=good..bad
expect_bisect_refused '--range: give a series or a range, not both' --source="$toy" --range=good..bad \
  --series="$scratch"
echo PASS
