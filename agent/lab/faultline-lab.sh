#!/usr/bin/env bash
# faultline-lab: A/B kernel images in qemu virtual machines from one command. Each image boots
# with a small initramfs whose init runs faultline-agent; the agents register with a controller
# on this machine as separate test machines, a campaign runs the suite interleaved across them,
# and the results and the comparison (and a gate, given a policy) are printed. docs/lab.md.
#
#   faultline-lab --arch=x86_64 \
#       --kernel=/boot/vmlinuz-stock --label=stock \
#       --kernel=/tmp/vmlinuz-mmap-lock-v3 --label=patched/mmap-lock-v3 --append="quiet"
#
# Every --kernel starts a machine; the --label and --append after it apply to it.
# --kernel=debian:cloud (or debian:VERSION, e.g. debian:6.1.0-56) fetches Debian's cloud kernel
# for --arch from Debian's mirror with apt-get download into the cache directory.
# Guests reach the controller at qemu's gateway, which is not loopback inside them, so every
# run is mutual TLS: the lab issues a certificate to each agent and to itself (fleet_pki.sh).
set -euo pipefail
# mkfs.ext4 lives in /sbin, which a test's strict PATH leaves out.
export PATH="$PATH:/usr/sbin:/sbin"

usage() {
  cat <<'USAGE'
faultline-lab --kernel=IMAGE --label=LABEL [--append=CMDLINE] --kernel=... [options]
  --kernel=IMAGE       a kernel image (vmlinuz / arm64 Image), or debian:cloud, debian:VERSION
  --label=LABEL        its label: stock or patched/<name> (default: stock, then patched/vm<N>)
  --append=CMDLINE     extra kernel command line for the last --kernel
  --arch=ARCH          x86_64 (default) or arm64
  --cpus=N             vCPUs per machine (default 1)
  --memory=MIB         memory per machine in MiB (default 1024)
  --suite=FILE         campaign file without targets (default: the lab suite)
  --repetitions=N      override the suite's repetitions
  --controller=H:P     use this controller instead of starting one (127.0.0.1:PORT; its
                       certificate must carry IP:10.0.2.2 and IP:127.0.0.1); needs --pki_dir
  --pki_dir=DIR        the CA (DIR/ca.pem, DIR/ca.key) that signs the controller's and its
                       clients' certificates; the lab issues its certificates from it
                       (default: a throwaway CA in the work directory)
  --host_agent         also run an agent on this machine as one more target
  --accel=auto|kvm|tcg acceleration (auto: KVM when it boots a guest, else TCG)
  --qemu_cpu=MODEL     qemu -cpu model (default: qemu64 on x86_64, max on arm64)
  --policy=FILE        also decide a gate with this policy (faultlinectl gate)
  --register_timeout=S seconds to wait for every agent to register (default 240)
  --campaign_timeout=S seconds to wait for the campaign (default 1800)
  --work_dir=DIR       logs, database, initramfs (default: a new /tmp/faultline-lab-* dir)
  --cache_dir=DIR      downloaded kernels and packages (default /var/cache/faultline-lab;
                       ~/.cache/faultline-lab when not root)
Binaries come from the runfiles or FAULTLINE_BIN (a bazel-bin); the arm64 agent from
FAULTLINE_AGENT_ARM64.
USAGE
}

die() {
  echo "faultline-lab: $*" >&2
  exit 2
}
log() { echo "faultline-lab: $*" >&2; }

# --- arguments ------------------------------------------------------------------------------
arch=x86_64
cpus=1
memory=1024
suite=""
repetitions=""
controller=""
pki_dir=""
host_agent=0
accel=auto
qemu_cpu=""
policy=""
register_timeout=240
campaign_timeout=1800
work_dir=""
if [[ $(id -u) -eq 0 ]]; then cache_dir=/var/cache/faultline-lab; else
  cache_dir="${XDG_CACHE_HOME:-$HOME/.cache}/faultline-lab"
fi
cache_dir="${FAULTLINE_LAB_CACHE:-$cache_dir}"
kernels=()
labels=()
appends=()

for arg in "$@"; do
  case "$arg" in
    --kernel=*) kernels+=("${arg#*=}"); labels+=(""); appends+=("") ;;
    --label=* | --append=*)
      (( ${#kernels[@]} > 0 )) || die "${arg%%=*}: must follow a --kernel"
      last=$(( ${#kernels[@]} - 1 ))
      if [[ "$arg" == --label=* ]]; then labels[last]="${arg#*=}"; else appends[last]="${arg#*=}"; fi
      ;;
    --arch=*) arch="${arg#*=}" ;;
    --cpus=*) cpus="${arg#*=}" ;;
    --memory=*) memory="${arg#*=}" ;;
    --suite=*) suite="${arg#*=}" ;;
    --repetitions=*) repetitions="${arg#*=}" ;;
    --controller=*) controller="${arg#*=}" ;;
    --pki_dir=*) pki_dir="${arg#*=}" ;;
    --host_agent) host_agent=1 ;;
    --accel=*) accel="${arg#*=}" ;;
    --qemu_cpu=*) qemu_cpu="${arg#*=}" ;;
    --policy=*) policy="${arg#*=}" ;;
    --register_timeout=*) register_timeout="${arg#*=}" ;;
    --campaign_timeout=*) campaign_timeout="${arg#*=}" ;;
    --work_dir=*) work_dir="${arg#*=}" ;;
    --cache_dir=*) cache_dir="${arg#*=}" ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown argument \"$arg\" (see --help)" ;;
  esac
done

case "$arch" in
  x86_64 | amd64) arch=x86_64; deb_arch=amd64; triplet=x86_64-linux-gnu ;;
  arm64 | aarch64) arch=arm64; deb_arch=arm64; triplet=aarch64-linux-gnu ;;
  *) die "--arch: \"$arch\" is not one of x86_64, arm64" ;;
esac
(( ${#kernels[@]} >= 1 )) || die "--kernel: give at least one kernel image (two to compare)"
[[ "$cpus" =~ ^[0-9]+$ ]] && (( cpus >= 1 && cpus <= 64 )) || die "--cpus: \"$cpus\" is not 1..64"
[[ "$memory" =~ ^[0-9]+$ ]] && (( memory >= 256 && memory <= 65536 )) ||
  die "--memory: \"$memory\" is not 256..65536 MiB"
[[ "$accel" =~ ^(auto|kvm|tcg)$ ]] || die "--accel: \"$accel\" is not one of auto, kvm, tcg"
[[ -z "$qemu_cpu" || "$qemu_cpu" =~ ^[A-Za-z0-9._,=+-]+$ ]] || die "--qemu_cpu: \"$qemu_cpu\" is not a cpu model"
[[ -z "$repetitions" || "$repetitions" =~ ^[0-9]+$ ]] || die "--repetitions: not a number"
[[ "$register_timeout" =~ ^[0-9]+$ ]] || die "--register_timeout: not a number of seconds"
[[ "$campaign_timeout" =~ ^[0-9]+$ ]] || die "--campaign_timeout: not a number of seconds"
[[ -z "$policy" || -r "$policy" ]] || die "--policy: cannot read \"$policy\""
if [[ -n "$controller" && ! "$controller" =~ ^127\.0\.0\.1:[0-9]+$ ]]; then
  # qemu's gateway reaches the host's loopback only.
  die "--controller: \"$controller\" must be 127.0.0.1:PORT (guests reach it through qemu's gateway)"
fi
if [[ -n "$controller" && -z "$pki_dir" ]]; then
  die "--controller: needs --pki_dir=DIR, the CA (ca.pem, ca.key) that signs that controller's client certificates (guests reach it over mutual TLS)"
fi
if [[ -n "$pki_dir" && ! ( -r "$pki_dir/ca.pem" && -r "$pki_dir/ca.key" ) ]]; then
  die "--pki_dir: no readable ca.pem and ca.key in \"$pki_dir\" (controller/security/fleet_pki.sh ca DIR makes them)"
fi
for i in "${!kernels[@]}"; do
  if [[ -z "${labels[i]}" ]]; then
    if (( i == 0 )); then labels[i]=stock; else labels[i]="patched/vm$i"; fi
  fi
  [[ "${labels[i]}" == stock || "${labels[i]}" =~ ^patched/[A-Za-z0-9._-]+$ ]] ||
    die "--label: \"${labels[i]}\" is not stock or patched/<name> ([A-Za-z0-9._-])"
  [[ "${appends[i]}" != *faultline.* ]] || die "--append: faultline.* words are the lab's own"
done

# --- locations --------------------------------------------------------------------------------
script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
runfiles="${RUNFILES_DIR:-${TEST_SRCDIR:-${BASH_SOURCE[0]}.runfiles}}"
find_file() {  # find_file RELATIVE_PATH [ENV_OVERRIDE]
  local rel="$1" override="${2:-}"
  if [[ -n "$override" ]]; then echo "$override"; return; fi
  for base in "$runfiles/${TEST_WORKSPACE:-faultline}" "$runfiles/__main__" \
      "${FAULTLINE_BIN:-/nonexistent}" "$script_dir/../.."; do
    if [[ -e "$base/$rel" ]]; then echo "$base/$rel"; return; fi
  done
  die "cannot find $rel (run through bazel, or set FAULTLINE_BIN to a bazel-bin directory)"
}
controller_bin="$(find_file controller/faultline-controller "${FAULTLINE_CONTROLLER:-}")"
ctl_bin="$(find_file controller/cli/faultlinectl "${FAULTLINE_CTL:-}")"
host_agent_bin="$(find_file agent/faultline-agent "${FAULTLINE_AGENT:-}")"
guest_init="$(find_file agent/lab/guest_init.sh)"
fleet_pki="$(find_file controller/security/fleet_pki.sh)"
if [[ "$arch" == arm64 ]]; then
  guest_agent_bin="$(find_file agent/lab/faultline-agent-aarch64 "${FAULTLINE_AGENT_ARM64:-}")"
else
  guest_agent_bin="$host_agent_bin"
fi
[[ -n "$suite" ]] || suite="$(find_file agent/lab/suites/lab.textproto)"
[[ -r "$suite" ]] || die "--suite: cannot read \"$suite\""

work_dir="${work_dir:-$(mktemp -d /tmp/faultline-lab-XXXXXX)}"
mkdir -p "$work_dir" "$cache_dir" || die "cannot create $work_dir or $cache_dir"
work_dir="$(cd "$work_dir" && pwd)"
run_start=$(date +%s.%N)
elapsed() { awk -v s="$run_start" -v n="$(date +%s.%N)" 'BEGIN { printf "%.1f", n - s }'; }

# --- cleanup: no VM, controller or agent outlives the run --------------------------------------
pids=()
vm_pids=()
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  for pid in "${vm_pids[@]}" "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 50); do
    local alive=0
    for pid in "${vm_pids[@]}" "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    (( alive )) || break
    sleep 0.1
  done
  for pid in "${vm_pids[@]}" "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  log "work directory $work_dir ($(elapsed) s in all)"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- Debian packages and initramfs (debian_packages.sh, initramfs.sh) -----------------------
source "$(find_file agent/lab/debian_packages.sh)"
source "$(find_file agent/lab/initramfs.sh)"
if [[ "$arch" == x86_64 ]]; then
  ensure_packages qemu-system-x86 busybox-static cpio e2fsprogs binutils openssl
  qemu=qemu-system-x86_64
else
  ensure_packages qemu-system-arm cpio e2fsprogs binutils openssl
  qemu=qemu-system-aarch64
fi
for i in "${!kernels[@]}"; do kernels[i]="$(resolve_kernel "${kernels[i]}")"; done

# --- acceleration ------------------------------------------------------------------------------
# x86_64 defaults to qemu64: under TCG the kernel then clears pages with plain stores, where
# -cpu max (ERMS) makes it use rep stosb, which TCG emulates a byte at a time and which then
# dominates every fault. arm64's virt machine needs -cpu max (or a named 64-bit core).
qemu_machine_args() {
  if [[ "$arch" == x86_64 ]]; then
    echo "-M q35 -cpu ${qemu_cpu:-qemu64}"
  else
    echo "-M virt -cpu ${qemu_cpu:-max}"
  fi
}
console_device() { [[ "$arch" == x86_64 ]] && echo ttyS0 || echo ttyAMA0; }

# KVM counts only if a guest actually runs under it: with nested virtualization /dev/kvm can
# open yet never boot a guest (here qemu spins in the kernel until killed). The probe boots the first image with no init; reaching the
# kernel's "No working init" panic proves the guest ran. Cached per host kernel and qemu.
detect_accel() {
  if [[ "$accel" != auto ]]; then echo "$accel"; return; fi
  if [[ "$arch" != x86_64 || ! -r /dev/kvm || ! -w /dev/kvm ]]; then echo tcg; return; fi
  local key cached
  key="$(uname -r)-$($qemu --version | head -1 | tr -c 'A-Za-z0-9.\n' _)"
  cached="$cache_dir/kvm-probe-$key"
  if [[ -f "$cached" ]]; then cat "$cached"; return; fi
  local probe_log="$work_dir/kvm-probe.console"
  # shellcheck disable=SC2046
  timeout --kill-after=2 10 $qemu -accel kvm $(qemu_machine_args) -m 256 -smp 1 \
    -display none -monitor none -nic none -no-reboot -serial "file:$probe_log" \
    -kernel "${kernels[0]}" -append "console=ttyS0 panic=-1 rdinit=/faultline-none" \
    >/dev/null 2>&1 || true
  local result=tcg
  grep -qE "No working init|Kernel panic" "$probe_log" 2>/dev/null && result=kvm
  echo "$result" >"$cached"
  echo "$result"
}

# --- lab PKI ---------------------------------------------------------------------------------
# Agent ids name the certificates, so they are fixed before anything starts.
run_id="$(basename "$work_dir" | tr -c 'A-Za-z0-9\n' - | tail -c 9)"
agent_ids=()
for i in "${!kernels[@]}"; do agent_ids+=("lab-$arch-vm$i-$run_id"); done
host_agent_id="lab-host-$run_id"
# The lab's own faultlinectl (submit, watch, results, compare, gate): role submit.
ctl_name=faultline-lab
pki="$work_dir/pki"
pki_run() {
  bash "$fleet_pki" "$@" >>"$work_dir/pki.log" 2>&1 || {
    tail -5 "$work_dir/pki.log" >&2
    die "fleet_pki.sh $1 failed (above)"
  }
}
rm -rf "$pki"
mkdir -p "$pki"
chmod 700 "$pki"
if [[ -n "$pki_dir" ]]; then cp "$pki_dir/ca.pem" "$pki_dir/ca.key" "$pki/"; else pki_run ca "$pki"; fi
[[ -n "$controller" ]] || pki_run server "$pki" controller IP:10.0.2.2,IP:127.0.0.1
client_names=("${agent_ids[@]}" "$ctl_name")
(( host_agent )) && client_names+=("$host_agent_id")
for name in "${client_names[@]}"; do pki_run client "$pki" "$name"; done
# Nothing is issued after this; a copy of someone's CA key must not outlive the run.
rm -f "$pki/ca.key" "$pki/ca.srl"
tls_flags() {  # tls_flags NAME: the client flags of NAME's certificate
  echo "--tls_ca=$pki/ca.pem --tls_cert=$pki/$1.pem --tls_key=$pki/$1.key"
}
log "certificates in $pki ($(( ${#client_names[@]} )) clients, CA ${pki_dir:-of this run})"

# --- controller --------------------------------------------------------------------------------
if [[ -z "$controller" ]]; then
  {
    echo "# faultline-lab $run_id: exactly the certificates this run issued."
    for id in "${agent_ids[@]}"; do echo "cert $id agent"; done
    (( host_agent )) && echo "cert $host_agent_id agent"
    echo "cert $ctl_name submit"
  } >"$work_dir/access.policy"
  "$controller_bin" --listen=127.0.0.1:0 --db="$work_dir/faultline.db" \
    --tls_cert="$pki/controller.pem" --tls_key="$pki/controller.key" \
    --client_ca="$pki/ca.pem" --access_policy="$work_dir/access.policy" \
    --port_file="$work_dir/controller.port" --metrics_listen= \
    2>"$work_dir/controller.log" &
  pids+=($!)
  for _ in $(seq 1 100); do [[ -s "$work_dir/controller.port" ]] && break; sleep 0.1; done
  [[ -s "$work_dir/controller.port" ]] || {
    tail -20 "$work_dir/controller.log" >&2
    die "the controller did not start (log above)"
  }
  controller="127.0.0.1:$(cat "$work_dir/controller.port")"
  log "controller $controller over $work_dir/faultline.db"
fi
port="${controller##*:}"
# shellcheck disable=SC2046
ctl() { "$ctl_bin" --controller="$controller" $(tls_flags "$ctl_name") "$@"; }

mode="$(detect_accel)"
if [[ "$mode" == kvm ]]; then virtualization=hardware; else virtualization=emulated; fi
log "acceleration: $mode (agents report virtualization=$virtualization: their own host class)"

initramfs="$work_dir/initramfs-$arch.cpio.gz"
build_initramfs "$initramfs" "${kernels[0]}"
log "initramfs $(du -h "$initramfs" | cut -f1) ($(elapsed) s)"

# --- machines ----------------------------------------------------------------------------------
consoles=()
boot_start=()
for i in "${!kernels[@]}"; do
  consoles+=("$work_dir/vm$i.console")
  # Each machine's own initramfs only when its modules differ; one image is the usual case.
  base_initramfs="$initramfs"
  if (( i > 0 )) && [[ "$(module_tree_for "${kernels[i]}")" != "$(module_tree_for "${kernels[0]}")" ]]; then
    base_initramfs="$work_dir/initramfs-$arch-vm$i-base.cpio.gz"
    build_initramfs "$base_initramfs" "${kernels[i]}"
  fi
  # Plus the machine's own certificate, as a second archive the kernel unpacks over the first.
  vm_initramfs="$work_dir/initramfs-$arch-vm$i.cpio.gz"
  add_guest_tls "$vm_initramfs" "$base_initramfs" "$pki" "${agent_ids[i]}"
  disk="$work_dir/vm$i.scratch.ext4"
  truncate -s 1G "$disk"
  mkfs.ext4 -q -F "$disk" || die "mkfs.ext4 $disk failed"
  cmdline="console=$(console_device) panic=-1 loglevel=4 ${appends[i]}"
  cmdline+=" faultline.label=${labels[i]} faultline.controller=10.0.2.2:$port"
  cmdline+=" faultline.agent_id=${agent_ids[i]} faultline.virtualization=$virtualization"
  cmdline+=" faultline.epoch=$(date +%s)"
  boot_start+=("$(date +%s.%N)")
  # In this script's process group, so whatever kills the group (a test runner's timeout, a
  # terminal's Ctrl-C) kills the VMs too; the EXIT trap stops them by pid otherwise.
  # -no-reboot + panic=-1: a panicking guest ends its qemu.
  # shellcheck disable=SC2046
  $qemu -accel "$mode" $(qemu_machine_args) -smp "$cpus" -m "$memory" \
    -display none -monitor none -no-reboot -serial "file:${consoles[i]}" \
    -kernel "${kernels[i]}" -initrd "$vm_initramfs" -append "$cmdline" \
    -nic none -netdev user,id=net0 -device virtio-net-pci,netdev=net0 \
    -drive "file=$disk,if=none,id=disk0,format=raw" -device virtio-blk-pci,drive=disk0 \
    </dev/null >"$work_dir/vm$i.qemu.log" 2>&1 &
  vm_pids+=($!)
  log "vm$i: ${labels[i]} ${kernels[i]} ${appends[i]:+(append: ${appends[i]})} pid ${vm_pids[i]}"
done

if (( host_agent )); then
  # shellcheck disable=SC2046
  "$host_agent_bin" --controller="$controller" --agent_id="$host_agent_id" --kernel_label=stock \
    $(tls_flags "$host_agent_id") \
    --tags=lab-host --spool_dir="$work_dir/host-spool" --poll_wait_seconds=5 \
    2>"$work_dir/host-agent.log" &
  pids+=($!)
fi

vm_failure() {  # vm_failure INDEX MESSAGE
  local i="$1"
  echo "faultline-lab: vm$i (${labels[i]}, ${kernels[i]}): $2" >&2
  echo "---- vm$i console (last 40 lines of ${consoles[i]}) ----" >&2
  tail -40 "${consoles[i]}" 2>/dev/null | tr -d '\r' >&2 || true
  tail -5 "$work_dir/vm$i.qemu.log" 2>/dev/null >&2 || true
  echo "----" >&2
  exit 1
}

# Boot time: from qemu's start to the guest init's "up" line; registration when the agent
# shows in ListAgents.
registered=()
deadline=$(( $(date +%s) + register_timeout ))
while :; do
  agents="$(ctl agents 2>"$work_dir/agents.err" || true)"
  all=1
  for i in "${!kernels[@]}"; do
    [[ -n "${registered[i]:-}" ]] && continue
    if ! kill -0 "${vm_pids[i]}" 2>/dev/null; then
      [[ -s "${consoles[i]}" ]] ||
        vm_failure "$i" "the virtual machine stopped without printing anything (not a kernel image for --arch=$arch?)"
      vm_failure "$i" "the virtual machine stopped before its agent registered (panic or init failure)"
    fi
    if grep -q "^${agent_ids[i]} " <<<"$agents"; then
      registered[i]="$(awk -v s="${boot_start[i]}" -v n="$(date +%s.%N)" 'BEGIN { printf "%.1f", n - s }')"
      up="$(grep -a -o 'faultline-lab-guest: up: .*' "${consoles[i]}" | tr -d '\r' | head -1)"
      log "vm$i registered ${registered[i]} s after start (${up#faultline-lab-guest: })"
    else
      all=0
    fi
  done
  if (( host_agent )) && ! grep -q "^$host_agent_id " <<<"$agents"; then all=0; fi
  (( all )) && break
  if (( $(date +%s) > deadline )); then
    # A controller that refuses the lab's own certificate shows here.
    [[ -s "$work_dir/agents.err" ]] && log "faultlinectl agents: $(tail -1 "$work_dir/agents.err")"
    for i in "${!kernels[@]}"; do
      [[ -n "${registered[i]:-}" ]] && continue
      if grep -aq "faultline-lab-guest: up" "${consoles[i]}" 2>/dev/null; then
        vm_failure "$i" "booted, but its agent did not register within ${register_timeout} s"
      elif [[ -s "${consoles[i]}" ]]; then
        vm_failure "$i" "did not finish booting within ${register_timeout} s"
      else
        vm_failure "$i" "printed nothing within ${register_timeout} s (wrong image or --arch?)"
      fi
    done
    tail -20 "$work_dir/host-agent.log" >&2
    die "the host agent did not register within ${register_timeout} s"
  fi
  sleep 1
done
ctl agents

# --- campaign ----------------------------------------------------------------------------------
campaign_file="$work_dir/campaign.textproto"
# Targets, interleaving and pairing are the lab's; everything else comes from the suite.
grep -vE '^\s*(interleave|paired)\s*:' "$suite" | sed '/^\s*targets\s*{/,/}/d' >"$campaign_file"
[[ -n "$repetitions" ]] && sed -i '/^\s*repetitions\s*:/d' "$campaign_file" &&
  echo "repetitions: $repetitions" >>"$campaign_file"
echo "interleave: true" >>"$campaign_file"
# A host agent is another host class, so only a guests-only run can be paired.
(( host_agent )) || echo "paired: true" >>"$campaign_file"
target_names=()
for i in "${!kernels[@]}"; do
  target_names+=("vm$i-$(tr '/' '-' <<<"${labels[i]}")")
  cat >>"$campaign_file" <<TARGET
targets {
  name: "${target_names[i]}"
  kernel_label: "${labels[i]}"
  agent_ids: "${agent_ids[i]}"
}
TARGET
done
if (( host_agent )); then
  printf 'targets {\n  name: "host"\n  agent_ids: "%s"\n}\n' "$host_agent_id" >>"$campaign_file"
fi

campaign_id="$(ctl submit "$campaign_file")" || die "submitting $campaign_file failed (above)"
echo "$campaign_id" >"$work_dir/campaign.id"
log "campaign $campaign_id ($(elapsed) s)"
campaign_start=$(date +%s)
# Watch in the background so a guest that dies mid-campaign ends the run at once.
ctl --timeout_seconds="$campaign_timeout" watch "$campaign_id" 2>"$work_dir/watch.log" &
watch_pid=$!
pids+=("$watch_pid")
while kill -0 "$watch_pid" 2>/dev/null; do
  for i in "${!kernels[@]}"; do
    kill -0 "${vm_pids[i]}" 2>/dev/null || {
      ctl cancel "$campaign_id" >/dev/null 2>&1 || true
      vm_failure "$i" "the virtual machine stopped during campaign $campaign_id"
    }
  done
  sleep 1
done
watch_rc=0
wait "$watch_pid" || watch_rc=$?
tail -1 "$work_dir/watch.log" >&2
log "campaign took $(( $(date +%s) - campaign_start )) s"
ctl results --campaign="$campaign_id"
ctl results --campaign="$campaign_id" --format=csv --output="$work_dir/results.csv"
(( watch_rc == 0 )) || die "campaign $campaign_id did not succeed (faultlinectl watch: $watch_rc)"

# --- comparison --------------------------------------------------------------------------------
compare_rc=0
if (( ${#kernels[@]} >= 2 )); then
  baseline="campaign=$campaign_id,target=${target_names[0]}"
  for i in $(seq 1 $(( ${#kernels[@]} - 1 ))); do
    candidate="campaign=$campaign_id,target=${target_names[i]}"
    echo
    echo "== ${labels[0]} (vm0) vs ${labels[i]} (vm$i)"
    ctl compare --baseline="$baseline" --candidate="$candidate" \
      --html="$work_dir/compare-vm0-vm$i.html" | tee "$work_dir/compare-vm0-vm$i.txt" ||
      compare_rc=$?
    if [[ -n "$policy" ]]; then
      gate_rc=0
      ctl gate --baseline="$baseline" --candidate="$candidate" --policy="$policy" \
        --confirm=false | tee "$work_dir/gate-vm0-vm$i.txt" || gate_rc=$?
      echo "gate ${labels[i]}: exit $gate_rc (0 pass, 1 fail, 2 inconclusive)"
      (( gate_rc <= compare_rc )) || compare_rc=$gate_rc
    fi
  done
fi
for i in "${!kernels[@]}"; do
  echo "boot vm$i (${labels[i]}, $arch, $mode): agent registered ${registered[i]} s after start"
done
echo "lab run: $(elapsed) s; work directory $work_dir"
exit "$compare_rc"
