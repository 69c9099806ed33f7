#!/usr/bin/env bash
# Debian's cloud-arm64 kernel boots under qemu-system-aarch64 (-M virt -cpu max, TCG) with the
# arm64 build of the agent; the stored fingerprint says ARCH_ARM64 and the kernel's release.
source "${TEST_SRCDIR}/${TEST_WORKSPACE:-faultline}/tests/lab/lab_test_lib.sh"

expected="$(debian_cloud_release arm64)"
"$lab" --arch=arm64 --kernel=debian:cloud --label=stock \
  --suite="$tests_dir/fault_anon_suite.textproto" --rounds=2 --repetitions=2 \
  --work_dir="$scratch/lab" || fail "faultline-lab exited $?"

file -L "$runfiles/agent/lab/faultline-agent-aarch64" | grep -q "ARM aarch64" ||
  fail "the guest's agent is not an aarch64 binary"
# results.csv is the controller's stored results (faultlinectl results --format=csv).
rows="$(awk -F, 'NR > 1 { print $6, $7, $9, $(NF - 4), $(NF - 2), $10 }' "$scratch/lab/results.csv")"
echo "$rows" | sort -u -k1,3 | awk '{ print "stored:", $1, $2, $3, $4, $6 }'
[[ "$(awk '$5 == "ns_per_fault"' <<<"$rows" | wc -l)" -eq 4 ]] || fail "not 2 boots x 2 repetitions of fault_anon stored"
bad="$(awk -v r="$expected" '$2 != "ARCH_ARM64" || $3 != r || $4 != "ok" || $6 !~ /^arm64-.*-tcg$/' <<<"$rows")"
[[ -z "$bad" ]] || fail "results not tagged ARCH_ARM64 / $expected / ok / arm64-*-tcg: $bad"
echo "PASS: arm64 guest results tagged ARCH_ARM64 $expected"
