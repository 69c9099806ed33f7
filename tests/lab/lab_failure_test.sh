#!/usr/bin/env bash
# faultline-lab's failure paths end the run with a clear message and the console's tail, and
# leave no virtual machine running: a guest that panics, an image that is not a kernel, and a
# guest whose agent never registers.
source "${TEST_SRCDIR}/${TEST_WORKSPACE:-faultline}/tests/lab/lab_test_lib.sh"

# expect_failure NAME MESSAGE_REGEX LAB_ARGS...: the lab exits non-zero, prints MESSAGE_REGEX,
# and no qemu of its work directory is left.
expect_failure() {
  local name="$1" message="$2"; shift 2
  local out="$scratch/$name.out" rc=0
  "$lab" --arch=x86_64 --suite="$tests_dir/fault_anon_suite.textproto" \
    --work_dir="$scratch/$name" "$@" >"$out" 2>&1 || rc=$?
  cat "$out"
  (( rc != 0 )) || fail "$name: faultline-lab succeeded"
  grep -Eq "$message" "$out" || fail "$name: no \"$message\" in its output"
  if pgrep -f -- "$scratch/$name/" >/dev/null; then
    pgrep -af -- "$scratch/$name/" >&2
    fail "$name: processes of the run are still alive"
  fi
  echo "ok: $name"
}

# No init in the initramfs by that name: the kernel panics, panic=-1 -no-reboot ends qemu.
expect_failure panic "stopped before its agent registered" \
  --kernel=debian:cloud --label=stock --append=rdinit=/faultline-no-such-init
grep -q "Kernel panic" "$scratch/panic.out" || fail "panic: the console tail does not show the panic"

# Not a kernel image at all.
head -c 4096 /dev/zero >"$scratch/not-a-kernel"
expect_failure not_a_kernel "vm0 .*(stopped without printing anything|printed nothing|did not finish)" \
  --kernel="$scratch/not-a-kernel" --label=stock --register_timeout=30

# The guest boots, but its agent dials a port nothing listens on.
bash "$fleet_pki" ca "$scratch/pki" >/dev/null || fail "fleet_pki.sh ca failed"
expect_failure no_register "booted, but its agent did not register within 20 s" \
  --kernel=debian:cloud --label=stock --controller=127.0.0.1:1 --pki_dir="$scratch/pki" \
  --register_timeout=20
grep -q "faultline-lab-guest: up" "$scratch/no_register.out" ||
  fail "no_register: the console tail does not show the guest's init"
echo PASS
