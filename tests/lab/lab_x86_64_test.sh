#!/usr/bin/env bash
# Debian's cloud-amd64 kernel boots under qemu-system-x86_64 as one test machine beside an agent
# on this machine, both registered over mutual TLS with a controller started here (its PKI made
# with fleet_pki.sh, handed to the lab as --pki_dir); a short suite runs on both, and the guest's
# stored results carry the guest kernel's own release, not this host's.
source "${TEST_SRCDIR}/${TEST_WORKSPACE:-faultline}/tests/lab/lab_test_lib.sh"

expected="$(debian_cloud_release amd64)"
host_release="$(uname -r)"
[[ "$expected" != "$host_release" ]] || fail "the host runs $expected itself: the test proves nothing"

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
# The guests will have reached a controller that takes TLS only.
if "$ctl_bin" --controller="$controller" --plaintext agents >"$scratch/plaintext.out" 2>&1; then
  fail "the controller answered a plaintext client: $(cat "$scratch/plaintext.out")"
fi

# The guest's clock starts in 2000, as on a kernel without its RTC driver built in: before every
# certificate's notBefore, so only the lab's clock floor (faultline.epoch) lets it register.
mkdir -p "$scratch/qemu_rtc_2000"
cat >"$scratch/qemu_rtc_2000/qemu-system-x86_64" <<'QEMU'
#!/bin/sh
exec /usr/bin/qemu-system-x86_64 -rtc base=2000-01-01T00:00:00 "$@"
QEMU
chmod +x "$scratch/qemu_rtc_2000/qemu-system-x86_64"
PATH="$scratch/qemu_rtc_2000:$PATH" \
"$lab" --arch=x86_64 --controller="$controller" --pki_dir="$pki" --host_agent \
  --kernel=debian:cloud --label=stock \
  --suite="$tests_dir/fault_anon_suite.textproto" --rounds=2 --repetitions=2 \
  --work_dir="$scratch/lab" | tee "$scratch/lab.out" || fail "faultline-lab exited $?"

# One campaign per boot (WORK_DIR/campaigns: the guest's two boots and the host agent's turns).
rows="$(while read -r campaign _; do stored_rows "$controller" "$campaign"; done <"$scratch/lab/campaigns")"
echo "$rows" | sort -u -k1,3 | awk '{ print "stored:", $1, $2, $3, $4 }'
guest="$(awk '$1 ~ /^lab-x86_64-vm0-/' <<<"$rows")"
host="$(awk '$1 ~ /^lab-host-/' <<<"$rows")"
[[ -n "$guest" ]] || fail "no stored result from the guest agent"
[[ -n "$host" ]] || fail "no stored result from the host agent"
bad="$(awk -v r="$expected" '$2 != "ARCH_X86_64" || $3 != r || $4 != "ok"' <<<"$guest")"
[[ -z "$bad" ]] || fail "guest results not tagged $expected / ARCH_X86_64 / ok: $bad"
bad="$(awk -v r="$host_release" '$3 != r || $4 != "ok"' <<<"$host")"
[[ -z "$bad" ]] || fail "host results not tagged $host_release / ok: $bad"
# Each side ran the suite's fault_anon once per round: two rounds of two repetitions (a CSV row each).
[[ "$(awk '$5 == "ns_per_fault"' <<<"$guest" | wc -l)" -eq 4 ]] || fail "guest: not 2 boots x 2 repetitions of fault_anon"
[[ "$(awk '$5 == "ns_per_fault"' <<<"$host" | wc -l)" -eq 4 ]] || fail "host: not 2 turns x 2 repetitions of fault_anon"
# The guest registered as an emulated (TCG) or hardware-virtualized machine: its own host class.
# (The agent list the lab printed once every agent had registered.)
grep -E "^lab-x86_64-vm0-\S+ .* $expected .*-(tcg|hvm)\s*$" "$scratch/lab.out" >/dev/null ||
  fail "the guest agent is not listed with release $expected and a tcg/hvm host class"
grep -aq "faultline-lab-guest: clock behind the host's: 2000-" "$scratch/lab/vm0-b1.console" ||
  fail "the guest did not start in 2000 and move its clock forward (qemu -rtc base ignored?)"
echo "PASS: guest results tagged $expected (host $host_release), its clock moved from 2000"
