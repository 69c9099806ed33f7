#!/usr/bin/env bash
# faultline-lab: A/B kernel images in qemu virtual machines from one command. Each image boots
# with a small initramfs whose init runs faultline-agent; the machines boot one at a time, in
# rounds (A B A B ...), each boot registering with a controller on this machine as its own agent
# and running the suite; then the results and the comparison (and a gate, given a policy) are
# printed. docs/lab.md.
#
#   faultline-lab --arch=x86_64 \
#       --kernel=build:debian:6.12 --label=stock \
#       --kernel=build:debian:6.12+vm-fault-retry-hard --label=patched/vm-fault-retry-hard
#
# Every --kernel is a machine; the --label and --append after it apply to it.
# --kernel=debian:cloud (or debian:VERSION, e.g. debian:6.1.0-56) fetches Debian's cloud kernel
# for --arch from Debian's mirror with apt-get download into the cache directory;
# --kernel=build:SOURCE[+SERIES[@N]] builds one (kernel_build.sh, docs/kernels.md).
# Guests reach the controller at qemu's gateway, which is not loopback inside them, so every
# run is mutual TLS: the lab issues a certificate to each agent and to itself (fleet_pki.sh).
set -euo pipefail
# mkfs.ext4 lives in /sbin, which a test's strict PATH leaves out.
export PATH="$PATH:/usr/sbin:/sbin"

usage() {
  cat <<'USAGE'
faultline-lab --kernel=IMAGE --label=LABEL [--append=CMDLINE] --kernel=... [options]
  --kernel=IMAGE       a kernel image (vmlinuz / arm64 Image), or debian:cloud, debian:VERSION,
                       or build:SOURCE[+SERIES[@N]]: built from SOURCE (debian:6.12 or a kernel
                       git tree) with the first N (default all) patches of SERIES (a directory,
                       or the name of one in agent/lab/series); cached by content
  --kernel_config=FILE a config fragment for every build: kernel (after faultline's own)
  --label=LABEL        its label: stock or patched/<name> (default: stock, then patched/vm<N>)
  --append=CMDLINE     extra kernel command line for the last --kernel
  --arch=ARCH          x86_64 (default) or arm64
  --cpus=N             vCPUs per machine (default 2: the contention benchmarks need two)
  --rounds=N           boots per machine (default 5); machines boot one at a time, A B A B,
                       and each boot is one block of the comparison
  --first_round=N      number this run's rounds from N (default 1), to add rounds to an earlier
                       run of the same --run_id on the same controller
  --until_decided      after the --rounds, keep booting rounds while a compared metric is
                       undecided and its estimate says more rounds could decide it within
                       the budget; each look at its alpha-spending level (two machines)
  --budget_minutes=M   --until_decided: most minutes of boots in all (0: only --max_rounds)
  --max_rounds=N       --until_decided: most rounds in all (default 30, at most 100)
  --metrics=GLOBS      compare (and decide on) only these metrics, BENCHMARK:METRIC globs,
                       comma-separated (faultlinectl compare --metrics)
  --run_id=ID          the suffix of this run's agent ids (default: from the work directory)
  --swap_mib=N         a swap disk of N MiB per machine, for fault_swapin (default 256; 0: none)
  --memory=MIB         memory per machine in MiB (default 1024)
  --suite=FILE         campaign file without targets (default: the lab suite)
  --repetitions=N      override the suite's repetitions (per boot)
  --controller=H:P     use this controller instead of starting one (127.0.0.1:PORT; its
                       certificate must carry IP:10.0.2.2 and IP:127.0.0.1); needs --pki_dir
  --pki_dir=DIR        the CA (DIR/ca.pem, DIR/ca.key) that signs the controller's and its
                       clients' certificates; the lab issues its certificates from it
                       (default: a throwaway CA in the work directory)
  --host_agent         also run an agent on this machine as one more target
  --accel=auto|kvm|tcg acceleration (auto: KVM when it boots a guest, else TCG)
  --icount[=SHIFT]     TCG with qemu's -icount shift=SHIFT,sleep=off (default SHIFT 3): guest
                       time counts executed instructions (2^SHIFT ns each), not the host's
                       clock; its results form their own host class (...-icountSHIFT)
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

# `faultline-lab bisect ...`: the series bisect (bisect.sh), driving this command once per step.
if [[ "${1:-}" == bisect ]]; then
  shift
  FAULTLINE_LAB="$(find_file agent/lab/faultline-lab "${FAULTLINE_LAB:-}" 2>/dev/null || echo "${BASH_SOURCE[0]}")"
  FAULTLINE_CTL="$(find_file controller/cli/faultlinectl "${FAULTLINE_CTL:-}")"
  FAULTLINE_CONTROLLER="$(find_file controller/faultline-controller "${FAULTLINE_CONTROLLER:-}")"
  FAULTLINE_FLEET_PKI="$(find_file controller/security/fleet_pki.sh)"
  FAULTLINE_AGENT="$(find_file agent/faultline-agent "${FAULTLINE_AGENT:-}")"
  FAULTLINE_AGENT_ARM64="$(find_file agent/lab/faultline-agent-aarch64 "${FAULTLINE_AGENT_ARM64:-}" 2>/dev/null || true)"
  FAULTLINE_KERNEL_BUILD="$(find_file agent/lab/kernel_build.sh)"
  FAULTLINE_KERNEL_CONFIG_DIR="$(dirname "$(find_file agent/lab/kernel_config/guest-common.config)")"
  export FAULTLINE_LAB FAULTLINE_CTL FAULTLINE_CONTROLLER FAULTLINE_FLEET_PKI FAULTLINE_KERNEL_BUILD \
    FAULTLINE_KERNEL_CONFIG_DIR FAULTLINE_AGENT FAULTLINE_AGENT_ARM64
  exec bash "$(find_file agent/lab/bisect.sh)" "$@"
fi

# --- arguments ------------------------------------------------------------------------------
arch=x86_64
cpus=""
rounds=5
first_round=1
run_id=""
swap_mib=256
kernel_configs=()
memory=1024
suite=""
repetitions=""
controller=""
pki_dir=""
host_agent=0
accel=auto
icount=""
qemu_cpu=""
policy=""
until_decided=0
budget_minutes=0
max_rounds=30
metrics=""
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
    --rounds=*) rounds="${arg#*=}" ;;
    --first_round=*) first_round="${arg#*=}" ;;
    --run_id=*) run_id="${arg#*=}" ;;
    --swap_mib=*) swap_mib="${arg#*=}" ;;
    --kernel_config=*) kernel_configs+=("${arg#*=}") ;;
    --memory=*) memory="${arg#*=}" ;;
    --suite=*) suite="${arg#*=}" ;;
    --repetitions=*) repetitions="${arg#*=}" ;;
    --controller=*) controller="${arg#*=}" ;;
    --pki_dir=*) pki_dir="${arg#*=}" ;;
    --host_agent) host_agent=1 ;;
    --accel=*) accel="${arg#*=}" ;;
    --icount) icount=3 ;;
    --icount=*) icount="${arg#*=}" ;;
    --qemu_cpu=*) qemu_cpu="${arg#*=}" ;;
    --policy=*) policy="${arg#*=}" ;;
    --until_decided) until_decided=1 ;;
    --budget_minutes=*) budget_minutes="${arg#*=}" ;;
    --max_rounds=*) max_rounds="${arg#*=}" ;;
    --metrics=*) metrics="${arg#*=}" ;;
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
# An icount guest is one vCPU: qemu 7.2's icount runs vCPUs round-robin on one thread, and an
# x86_64 guest's second CPU never comes up under it (the boot CPU's wait for it does not yield).
[[ -n "$cpus" ]] || if [[ -n "$icount" ]]; then cpus=1; else cpus=2; fi
[[ "$cpus" =~ ^[0-9]+$ ]] && (( cpus >= 1 && cpus <= 64 )) || die "--cpus: \"$cpus\" is not 1..64"
[[ "$memory" =~ ^[0-9]+$ ]] && (( memory >= 256 && memory <= 65536 )) ||
  die "--memory: \"$memory\" is not 256..65536 MiB"
[[ "$accel" =~ ^(auto|kvm|tcg)$ ]] || die "--accel: \"$accel\" is not one of auto, kvm, tcg"
# -icount counts TCG's instructions: KVM has none to count. SHIFT above 10 (1 us an instruction)
# puts a 64 MiB first-touch pass into guest minutes.
if [[ -n "$icount" ]]; then
  [[ "$icount" =~ ^([0-9]|10)$ ]] || die "--icount: \"$icount\" is not a shift of 0..10"
  [[ "$accel" != kvm ]] || die "--icount: needs TCG (qemu counts instructions only when it emulates them), not --accel=kvm"
  (( cpus == 1 )) || die "--icount: one vCPU only (--cpus=$cpus): under qemu's icount an x86_64 guest's second CPU never comes up"
  accel=tcg
fi
[[ -z "$qemu_cpu" || "$qemu_cpu" =~ ^[A-Za-z0-9._,=+-]+$ ]] || die "--qemu_cpu: \"$qemu_cpu\" is not a cpu model"
[[ -z "$repetitions" || "$repetitions" =~ ^[0-9]+$ ]] || die "--repetitions: not a number"
[[ "$rounds" =~ ^[0-9]+$ ]] && (( rounds >= 1 && rounds <= 100 )) || die "--rounds: \"$rounds\" is not 1..100"
[[ "$first_round" =~ ^[1-9][0-9]*$ ]] || die "--first_round: \"$first_round\" is not a positive number"
[[ -z "$run_id" || "$run_id" =~ ^[A-Za-z0-9-]{1,24}$ ]] || die "--run_id: \"$run_id\" is not 1-24 of [A-Za-z0-9-]"
[[ "$swap_mib" =~ ^[0-9]+$ ]] && (( swap_mib <= 65536 )) || die "--swap_mib: \"$swap_mib\" is not 0..65536"
for c in "${kernel_configs[@]}"; do [[ -r "$c" ]] || die "--kernel_config: cannot read \"$c\""; done
[[ "$register_timeout" =~ ^[0-9]+$ ]] || die "--register_timeout: not a number of seconds"
[[ "$campaign_timeout" =~ ^[0-9]+$ ]] || die "--campaign_timeout: not a number of seconds"
[[ -z "$policy" || -r "$policy" ]] || die "--policy: cannot read \"$policy\""
[[ "$budget_minutes" =~ ^[0-9]+$ ]] || die "--budget_minutes: \"$budget_minutes\" is not a number of minutes"
[[ "$max_rounds" =~ ^[0-9]+$ ]] && (( max_rounds >= 1 && max_rounds <= 100 )) ||
  die "--max_rounds: \"$max_rounds\" is not 1..100"
metrics_re='^[][A-Za-z0-9._:*?,=/-]+$'
[[ -z "$metrics" || "$metrics" =~ $metrics_re ]] || die "--metrics: \"$metrics\" is not BENCHMARK:METRIC globs"
if (( until_decided )); then
  (( ${#kernels[@]} == 2 )) || die "--until_decided: decides one A/B, so give exactly two --kernel"
  (( ! host_agent )) || die "--until_decided: not with --host_agent (the A/B is between the two machines)"
  [[ -z "$policy" ]] || die "--until_decided: decides on the comparison, not with --policy (faultlinectl gate --until_decided runs a gate until decided)"
  (( max_rounds >= first_round + rounds - 1 )) ||
    die "--max_rounds: $max_rounds is fewer than the first look's $(( first_round + rounds - 1 )) rounds"
fi
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
  for (( j = 0; j < i; j++ )); do
    [[ "${labels[j]}" != "${labels[i]}" ]] ||
      die "--label: machines $j and $i are both \"${labels[i]}\" (labels tell the sides apart)"
  done
done

# --- locations ---------------------------------------------------------------------------------
controller_bin="$(find_file controller/faultline-controller "${FAULTLINE_CONTROLLER:-}")"
ctl_bin="$(find_file controller/cli/faultlinectl "${FAULTLINE_CTL:-}")"
host_agent_bin="$(find_file agent/faultline-agent "${FAULTLINE_AGENT:-}")"
guest_init="$(find_file agent/lab/guest_init.sh)"
kernel_build="$(find_file agent/lab/kernel_build.sh)"
series_root="$(dirname "$(find_file agent/lab/series/README.md)")"
FAULTLINE_KERNEL_CONFIG_DIR="$(dirname "$(find_file agent/lab/kernel_config/guest-common.config)")"
export FAULTLINE_KERNEL_CONFIG_DIR
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
  ensure_packages qemu-system-x86 busybox-static cpio e2fsprogs binutils openssl jq bsdextrautils
  qemu=qemu-system-x86_64
else
  ensure_packages qemu-system-arm cpio e2fsprogs binutils openssl jq bsdextrautils
  qemu=qemu-system-aarch64
fi
# build:SOURCE[+SERIES[@N]]: faultline-kernel-build makes (or finds in the cache) the image; a
# relative SERIES is looked up from where the command was started, then in agent/lab/series.
kernel_infos=()
resolve_build() {  # resolve_build SPEC: prints the build's cache directory
  local spec="${1#build:}" source series="" count=""
  source="${spec%%+*}"
  if [[ "$spec" == *+* ]]; then series="${spec#*+}"; fi
  if [[ "$series" == *@* ]]; then count="${series##*@}"; series="${series%@*}"; fi
  local args=(--source="$source" --arch="$arch" --cache_dir="$cache_dir")
  if [[ -n "$series" ]]; then
    local dir=""
    for base in "${BUILD_WORKING_DIRECTORY:-$PWD}" "$series_root"; do
      if [[ "$series" == /* ]]; then dir="$series"; break; fi
      if [[ -d "$base/$series" ]]; then dir="$base/$series"; break; fi
    done
    [[ -n "$dir" && -d "$dir" ]] || die "--kernel=$1: no series directory \"$series\" (a path, or a name in agent/lab/series)"
    args+=(--series="$dir")
    [[ -n "$count" ]] && args+=(--patches="$count")
  fi
  for c in "${kernel_configs[@]}"; do args+=(--config="$c"); done
  local rc=0 out
  out="$(bash "$kernel_build" "${args[@]}")" || rc=$?
  (( rc == 0 )) || { echo "faultline-lab: --kernel=$1: the kernel build failed (above)" >&2; exit "$rc"; }
  echo "$out"
}
for i in "${!kernels[@]}"; do
  kernel_infos+=("")
  if [[ "${kernels[i]}" == build:* ]]; then
    built="$(resolve_build "${kernels[i]}")"
    kernel_infos[i]="$built/info"
    log "vm$i: ${kernels[i]} -> $built ($(sed -n 's/^series_tag=//p' "$built/info"), $(sed -n 's/^build_seconds=//p' "$built/info") s to build)"
    kernels[i]="$built/image"
  else
    kernels[i]="$(resolve_kernel "${kernels[i]}")"
  fi
done

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
icount_args() { [[ -z "$icount" ]] || echo "-icount shift=$icount,sleep=off"; }
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
# Every boot is its own agent (lab-ARCH-vmI-bR-RUN), so that a comparison can tell the boots
# apart and treat each as one block; their names are fixed, and certified, before anything starts.
[[ -n "$run_id" ]] || run_id="$(basename "$work_dir" | tr -c 'A-Za-z0-9\n' - | tail -c 9)"
last_round=$(( first_round + rounds - 1 ))
# --until_decided may boot up to --max_rounds: every boot's name is certified before anything starts.
cert_last_round=$last_round
(( until_decided )) && cert_last_round=$max_rounds
boot_agent_id() { echo "lab-$arch-vm$1-b$2-$run_id"; }  # boot_agent_id MACHINE ROUND
machine_agent_glob() { echo "lab-$arch-vm$1-b*-$run_id"; }
agent_ids=()
for (( r = first_round; r <= cert_last_round; r++ )); do
  for i in "${!kernels[@]}"; do agent_ids+=("$(boot_agent_id "$i" "$r")"); done
done
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
  # A work directory used before keeps its last controller's port file: not this one's.
  rm -f "$work_dir/controller.port"
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
[[ -z "$icount" ]] || virtualization=emulated_icount
log "acceleration: $mode${icount:+ $(icount_args)} (agents report virtualization=$virtualization${icount:+, icount shift $icount}: their own host class)"

initramfs="$work_dir/initramfs-$arch.cpio.gz"
build_initramfs "$initramfs" "${kernels[0]}"
log "initramfs $(du -h "$initramfs" | cut -f1) ($(elapsed) s)"
# Each machine's own initramfs only when its modules differ; one image is the usual case.
base_initramfs=()
for i in "${!kernels[@]}"; do
  base_initramfs+=("$initramfs")
  if (( i > 0 )) && [[ "$(module_tree_for "${kernels[i]}")" != "$(module_tree_for "${kernels[0]}")" ]]; then
    base_initramfs[i]="$work_dir/initramfs-$arch-vm$i-base.cpio.gz"
    build_initramfs "${base_initramfs[i]}" "${kernels[i]}"
  fi
done

# --- the campaign file of one boot ---------------------------------------------------------------
# Targets and interleaving are the lab's: one target, the booted agent; everything else comes
# from the suite. Each boot runs each benchmark of the suite once, as one run of its repetitions.
suite_body="$work_dir/suite.textproto"
grep -vE '^\s*(interleave|paired)\s*:' "$suite" | sed '/^\s*targets\s*{/,/}/d' >"$suite_body"
if [[ -n "$repetitions" ]]; then
  sed -i '/^\s*repetitions\s*:/d' "$suite_body"
  echo "repetitions: $repetitions" >>"$suite_body"
fi
boot_campaign_file() {  # boot_campaign_file OUT LABEL AGENT_ID TARGET_NAME
  cp "$suite_body" "$1"
  printf 'targets {\n  name: "%s"\n  kernel_label: "%s"\n  agent_ids: "%s"\n}\n' "$4" "$2" "$3" >>"$1"
}

# --- one boot ----------------------------------------------------------------------------------
vm_pid=""
vm_console=""
vm_name=""
vm_failure() {  # vm_failure MESSAGE
  echo "faultline-lab: $vm_name: $1" >&2
  echo "---- $vm_name console (last 40 lines of $vm_console) ----" >&2
  tail -40 "$vm_console" 2>/dev/null | tr -d '\r' >&2 || true
  tail -5 "${vm_console%.console}.qemu.log" 2>/dev/null >&2 || true
  echo "----" >&2
  exit 1
}
stop_vm() {
  [[ -n "$vm_pid" ]] || return 0
  kill -TERM "$vm_pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$vm_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$vm_pid" 2>/dev/null || true
  wait "$vm_pid" 2>/dev/null || true
  vm_pid=""
}

# A built kernel must be the one that booted: its version string names the series the lab asked
# for, its configuration is the cached one, and it has the per-VMA locks the question is about.
check_booted_kernel() {  # check_booted_kernel MACHINE
  local i="$1" info="${kernel_infos[$1]}"
  [[ -n "$info" ]] || return 0
  local want_tag want_sha got_version got_sha got_pvl
  want_tag="$(sed -n 's/^series_tag=//p' "$info" | tr -c 'A-Za-z0-9._\n-' _)"
  want_sha="$(sed -n 's/^config_sha256=//p' "$info")"
  got_version="$(grep -a -o 'faultline-lab-guest: kernel: .*' "$vm_console" | tr -d '\r' | head -1)"
  got_sha="$(grep -a -o 'faultline-lab-guest: config: sha256 [0-9a-f]*' "$vm_console" | awk '{ print $4 }' | head -1)"
  got_pvl="$(grep -a -o 'faultline-lab-guest: config: .* per_vma_lock [0-9]*' "$vm_console" | awk '{ print $NF }' | head -1)"
  [[ "$got_version" == *"(faultline@$want_tag)"* ]] ||
    vm_failure "booted \"${got_version#faultline-lab-guest: kernel: }\", not the build of $want_tag"
  [[ "$got_sha" == "$want_sha" ]] ||
    vm_failure "its /proc/config.gz (sha256 ${got_sha:-unreadable}) is not the build's configuration ($want_sha)"
  [[ "$got_pvl" == 1 ]] || vm_failure "its kernel has no CONFIG_PER_VMA_LOCK=y"
  log "$vm_name: kernel ${got_version#faultline-lab-guest: kernel: Linux version } (config $want_sha, PER_VMA_LOCK=y)"
}

boot_vm() {  # boot_vm MACHINE ROUND: starts the machine and waits for its agent
  local i="$1" r="$2" id
  id="$(boot_agent_id "$i" "$r")"
  vm_name="vm$i boot $r (${labels[i]}, ${kernels[i]})"
  vm_console="$work_dir/vm$i-b$r.console"
  local vm_initramfs="$work_dir/initramfs-$arch-vm$i-b$r.cpio.gz"
  add_guest_tls "$vm_initramfs" "${base_initramfs[i]}" "$pki" "$id"
  # A fresh filesystem per boot: no boot inherits another's page cache or file layout.
  local disk="$work_dir/vm$i.scratch.ext4"
  rm -f "$disk"
  truncate -s 1G "$disk"
  mkfs.ext4 -q -F "$disk" || die "mkfs.ext4 $disk failed"
  local swap_args=()
  if (( swap_mib > 0 )); then
    local swap="$work_dir/vm$i.swap"
    rm -f "$swap"
    truncate -s "${swap_mib}M" "$swap"
    swap_args=(-drive "file=$swap,if=none,id=swap0,format=raw" -device virtio-blk-pci,drive=swap0)
  fi
  # no_timer_check: on a loaded host a TCG guest can miss the timer interrupt the kernel's
  # IO-APIC check waits for and panic ("IO-APIC + timer doesn't work"); a virtual machine's
  # timer is known to work, which is what cloud images boot with too.
  local cmdline="console=$(console_device) panic=-1 loglevel=4"
  [[ "$arch" == x86_64 ]] && cmdline+=" no_timer_check"
  cmdline+=" ${appends[i]}"
  cmdline+=" faultline.label=${labels[i]} faultline.controller=10.0.2.2:$port"
  cmdline+=" faultline.agent_id=$id faultline.virtualization=$virtualization"
  [[ -z "$icount" ]] || cmdline+=" faultline.icount_shift=$icount"
  cmdline+=" faultline.epoch=$(date +%s)"
  local start
  start="$(date +%s.%N)"
  # In this script's process group, so whatever kills the group (a test runner's timeout, a
  # terminal's Ctrl-C) kills the VM too; the EXIT trap stops it by pid otherwise.
  # -no-reboot + panic=-1: a panicking guest ends its qemu.
  # shellcheck disable=SC2046
  $qemu -accel "$mode" $(icount_args) $(qemu_machine_args) -smp "$cpus" -m "$memory" \
    -display none -monitor none -no-reboot -serial "file:$vm_console" \
    -kernel "${kernels[i]}" -initrd "$vm_initramfs" -append "$cmdline" \
    -nic none -netdev user,id=net0 -device virtio-net-pci,netdev=net0 \
    -drive "file=$disk,if=none,id=disk0,format=raw" -device virtio-blk-pci,drive=disk0 \
    "${swap_args[@]}" </dev/null >"${vm_console%.console}.qemu.log" 2>&1 &
  vm_pid=$!
  vm_pids+=("$vm_pid")
  log "$vm_name: pid $vm_pid ${appends[i]:+(append: ${appends[i]})}"
  local deadline=$(( $(date +%s) + register_timeout ))
  while :; do
    if ! kill -0 "$vm_pid" 2>/dev/null; then
      [[ -s "$vm_console" ]] ||
        vm_failure "the virtual machine stopped without printing anything (not a kernel image for --arch=$arch?)"
      vm_failure "the virtual machine stopped before its agent registered (panic or init failure)"
    fi
    if grep -q "^$id " <<<"$(ctl agents 2>"$work_dir/agents.err" || true)"; then break; fi
    if (( $(date +%s) > deadline )); then
      # A controller that refuses the lab's own certificate shows here.
      [[ -s "$work_dir/agents.err" ]] && log "faultlinectl agents: $(tail -1 "$work_dir/agents.err")"
      if grep -aq "faultline-lab-guest: up" "$vm_console" 2>/dev/null; then
        vm_failure "booted, but its agent did not register within ${register_timeout} s"
      elif [[ -s "$vm_console" ]]; then
        vm_failure "did not finish booting within ${register_timeout} s"
      fi
      vm_failure "printed nothing within ${register_timeout} s (wrong image or --arch?)"
    fi
    sleep 0.5
  done
  local took up
  took="$(awk -v s="$start" -v n="$(date +%s.%N)" 'BEGIN { printf "%.1f", n - s }')"
  up="$(grep -a -o 'faultline-lab-guest: up: .*' "$vm_console" | tr -d '\r' | head -1)"
  echo "vm$i b$r $took" >>"$work_dir/boot_times"
  log "$vm_name: registered $took s after start (${up#faultline-lab-guest: })"
  check_booted_kernel "$i"
}

last_campaign=""
run_campaign() {  # run_campaign FILE WATCHED_PID: submits and waits; sets last_campaign
  local file="$1" watched="$2" id
  id="$(ctl submit "$file")" || die "submitting $file failed (above)"
  ctl --timeout_seconds="$campaign_timeout" watch "$id" >/dev/null 2>"$work_dir/watch.log" &
  local watch_pid=$!
  pids+=("$watch_pid")
  while kill -0 "$watch_pid" 2>/dev/null; do
    if [[ -n "$watched" ]] && ! kill -0 "$watched" 2>/dev/null; then
      ctl cancel "$id" >/dev/null 2>&1 || true
      vm_failure "the virtual machine stopped during campaign $id"
    fi
    sleep 0.5
  done
  local rc=0
  wait "$watch_pid" || rc=$?
  tail -1 "$work_dir/watch.log" >&2
  (( rc == 0 )) || die "campaign $id did not succeed (faultlinectl watch: $rc)"
  last_campaign="$id"
}

# --- rounds: A B A B ..., one machine at a time --------------------------------------------------
# Two machines side by side on this host's two cores would share them while measuring, and every
# repetition of one boot shares its memory layout and page cache: machines take turns, and each
# boot is recorded as its own agent, the block a comparison treats as one sample of its kernel.
run_round() {  # run_round R: every machine boots once, in order, and runs its campaign
  local r="$1" i file id
  for i in "${!kernels[@]}"; do
    boot_vm "$i" "$r"
    file="$work_dir/campaign-vm$i-b$r.textproto"
    boot_campaign_file "$file" "${labels[i]}" "$(boot_agent_id "$i" "$r")" "vm$i-$(tr '/' '-' <<<"${labels[i]}")"
    run_campaign "$file" "$vm_pid"
    id="$last_campaign"
    echo "$id vm$i b$r ${labels[i]} $(boot_agent_id "$i" "$r")" >>"$work_dir/campaigns"
    log "$vm_name: campaign $id done ($(elapsed) s)"
    stop_vm
  done
  if (( host_agent )); then
    # The host agent takes its turn too, never beside a guest.
    # shellcheck disable=SC2046
    "$host_agent_bin" --controller="$controller" --agent_id="$host_agent_id" --kernel_label=stock \
      $(tls_flags "$host_agent_id") \
      --tags=lab-host --spool_dir="$work_dir/host-spool" --poll_wait_seconds=5 \
      2>>"$work_dir/host-agent.log" &
    host_pid=$!
    pids+=("$host_pid")
    vm_name="host agent"; vm_console="$work_dir/host-agent.log"
    deadline=$(( $(date +%s) + register_timeout ))
    until grep -q "^$host_agent_id " <<<"$(ctl agents 2>/dev/null || true)"; do
      kill -0 "$host_pid" 2>/dev/null || vm_failure "the host agent exited"
      (( $(date +%s) <= deadline )) || vm_failure "the host agent did not register within ${register_timeout} s"
      sleep 0.5
    done
    file="$work_dir/campaign-host-b$r.textproto"
    cp "$suite_body" "$file"
    printf 'targets {\n  name: "host"\n  agent_ids: "%s"\n}\n' "$host_agent_id" >>"$file"
    run_campaign "$file" "$host_pid"
    id="$last_campaign"
    echo "$id host b$r stock $host_agent_id" >>"$work_dir/campaigns"
    kill -TERM "$host_pid" 2>/dev/null || true
    wait "$host_pid" 2>/dev/null || true
  fi
}
: >"$work_dir/campaigns"
: >"$work_dir/boot_times"
campaigns_start=$(date +%s)
for (( r = first_round; r <= last_round; r++ )); do run_round "$r"; done

# --- until decided: more rounds while the comparison's estimate says they could decide it -------
# Each look compares every boot so far at its Lan-DeMets O'Brien-Fleming share of the level
# (faultlinectl compare --look, controller/analysis/sequential_plan.h) and says "decided",
# "more_blocks N" or "out_of_budget N". The most rounds (the looks' information-fraction
# denominator) is fixed here, before the first look, from the budget and the first rounds' pace.
compare_base_args=()
[[ -n "$metrics" ]] && compare_base_args+=(--metrics="$metrics")
look_args=()
if (( until_decided )); then
  baseline_sel="kernel_label=${labels[0]},agent=$(machine_agent_glob 0)"
  candidate_sel="kernel_label=${labels[1]},agent=$(machine_agent_glob 1)"
  spent=$(( $(date +%s) - campaigns_start ))
  per_round=$(( (spent + rounds - 1) / rounds ))
  plan_max=$max_rounds
  if (( budget_minutes > 0 )); then
    fit=$(( (budget_minutes * 60 - spent) / (per_round > 0 ? per_round : 1) ))
    (( fit < 0 )) && fit=0
    (( last_round + fit < plan_max )) && plan_max=$(( last_round + fit ))
  fi
  (( plan_max < last_round )) && plan_max=$last_round
  within=""
  (( budget_minutes > 0 )) && within=" within $budget_minutes min"
  log "until decided: $last_round rounds in ${spent} s (${per_round} s a round); at most $plan_max rounds$within"
  previous=0
  look=0
  : >"$work_dir/looks"
  while :; do
    look=$(( look + 1 ))
    look_args=(--look="$previous:$last_round:$plan_max")
    ctl compare --baseline="$baseline_sel" --candidate="$candidate_sel" "${compare_base_args[@]}" \
      "${look_args[@]}" >"$work_dir/look-$look.txt" 2>&1 || die "look $look: faultlinectl compare failed: $(tail -1 "$work_dir/look-$look.txt")"
    line="$(grep '^until decided: look at ' "$work_dir/look-$look.txt" | tail -1)"
    [[ -n "$line" ]] || die "look $look: no decision in $work_dir/look-$look.txt"
    decision="$(sed -nE 's/^until decided: look at [0-9]+ of [0-9]+ rounds per side \(level [^)]*\): ([a-z_]+) ([0-9]+): .*/\1 \2/p' <<<"$line")"
    read -r what more <<<"$decision"
    echo "look $look $(( $(date +%s) - campaigns_start )) s: $line" >>"$work_dir/looks"
    log "look $look (${last_round} rounds, $(( $(date +%s) - campaigns_start )) s): ${line#until decided: }"
    [[ "$what" == more_blocks ]] || break
    left=$(( plan_max - last_round ))
    (( more > left )) && more=$left
    if (( budget_minutes > 0 )); then
      spent=$(( $(date +%s) - campaigns_start ))
      per_round=$(( (spent + last_round - first_round) / (last_round - first_round + 1) ))
      fit=$(( (budget_minutes * 60 - spent) / (per_round > 0 ? per_round : 1) ))
      (( more > fit )) && more=$fit
    fi
    if (( more < 1 )); then
      line="until decided: stopped for budget after look $look at $last_round rounds: the time budget ($budget_minutes min) has no room for another round; ${line#*: }"
      echo "$line" >>"$work_dir/looks"
      log "${line#until decided: }"
      break
    fi
    for (( r = last_round + 1; r <= last_round + more; r++ )); do run_round "$r"; done
    previous=$last_round
    last_round=$(( last_round + more ))
    rounds=$(( last_round - first_round + 1 ))
  done
  log "until decided: $look looks, $last_round rounds, $(( $(date +%s) - campaigns_start )) s of boots"
fi
head -1 "$work_dir/campaigns" | cut -d' ' -f1 >"$work_dir/campaign.id"
log "$(wc -l <"$work_dir/campaigns") boots in $(( $(date +%s) - campaigns_start )) s"
ctl agents --all >"$work_dir/agents.txt" 2>/dev/null || true
cat "$work_dir/agents.txt"
: >"$work_dir/results.txt"
first=1
while read -r id _; do
  if (( first )); then
    ctl results --campaign="$id" --format=csv >"$work_dir/results.csv"
    first=0
  else
    ctl results --campaign="$id" --format=csv | tail -n +2 >>"$work_dir/results.csv"
  fi
  ctl results --campaign="$id" >>"$work_dir/results.txt"
  # Every number of every run (counters, histograms, the host fingerprint), per boot.
  mkdir -p "$work_dir/results"
  ctl results --campaign="$id" --format=json --output="$work_dir/results/$id.json"
done <"$work_dir/campaigns"
cat "$work_dir/results.txt"

# --- mechanism: the kernel's own counters per fault, per machine ---------------------------------
# vmstat's vma_lock_* (a kernel with PER_VMA_LOCK_STATS), summed over each machine's boots and
# divided by its page faults, and the faulting threads' mmap_lock acquisitions per fault from the
# runs' tracing repetitions (the mmap_lock tracepoints; per arm for the contention benchmarks):
# what the fault path did, beside what it cost.
mechanism_table() {
  local files=()
  for f in "$work_dir"/results/*.json; do [[ -e "$f" ]] && files+=("$f"); done
  (( ${#files[@]} > 0 )) || return 0
  jq -s -r --argjson labels "$(printf '%s\n' "${labels[@]}" | jq -R . | jq -s .)" '
    [ .[].runs[] | select(.result.state == "RUN_STATE_OK")
      | { machine: (.agent_id | capture("-vm(?<i>[0-9]+)-b") | .i),
          benchmark: .result.benchmark, c: [ .result.repetitions[].counters ],
          t: [ .result.tracing_repetitions[]?.metrics[]?
               | select(.name | test("^mmap_lock\\.(.+\\.)?faulter\\.acquisitions_per_fault$")) ] } ]
    | group_by([.machine, .benchmark])[]
    | (.[0].machine) as $m | (.[0].benchmark) as $b
    | ([ .[].c[] ]) as $reps
    | ($reps | map(to_entries) | add // [] | group_by(.key)
        | map({ key: .[0].key, value: (map(.value | tonumber) | add) }) | from_entries) as $sum
    | ($sum["vmstat.pgfault"] // 0) as $faults
    | ([ .[].t[] ] | group_by(.name)
        | map("\(.[0].name | ltrimstr("mmap_lock.") | rtrimstr(".acquisitions_per_fault"))=\(map(.value) | add / length * 1000 | round / 1000)")
        | join(" ")) as $trace
    | select($faults > 0)
    | [ "vm" + $m, ($labels[($m | tonumber)] // "?"), $b, ($faults | tostring),
        (($sum["vmstat.pgmajfault"] // 0) / $faults * 1000 | round / 1000 | tostring) ]
      + ( [ "vma_lock_success", "vma_lock_retry", "vma_lock_miss", "vma_lock_abort" ]
          | map(if $sum["vmstat." + .] == null then "-" else ($sum["vmstat." + .] / $faults * 1000 | round / 1000 | tostring) end) )
      + [ if $trace == "" then "-" else $trace end ]
    | @tsv' "${files[@]}" 2>"$work_dir/mechanism.err" |
    { printf 'machine\tlabel\tbenchmark\tfaults\tmajor/f\tvma_lock_success/f\tretry/f\tmiss/f\tabort/f\tmmap_lock by faulters/f\n'; cat; } |
    column -t -s $'\t'
}
echo
echo "== mechanism (per page fault, summed over each machine's boots; vmstat is system-wide in the guest)"
mechanism_table | tee "$work_dir/mechanism.txt" || log "mechanism table: $(tail -1 "$work_dir/mechanism.err" 2>/dev/null)"

# --- comparison --------------------------------------------------------------------------------
compare_rc=0
if (( ${#kernels[@]} >= 2 )); then
  baseline="kernel_label=${labels[0]},agent=$(machine_agent_glob 0)"
  for i in $(seq 1 $(( ${#kernels[@]} - 1 ))); do
    candidate="kernel_label=${labels[i]},agent=$(machine_agent_glob "$i")"
    echo
    echo "== ${labels[0]} (vm0) vs ${labels[i]} (vm$i), $rounds boots each"
    ctl compare --baseline="$baseline" --candidate="$candidate" "${compare_base_args[@]}" \
      "${look_args[@]}" --html="$work_dir/compare-vm0-vm$i.html" |
      tee "$work_dir/compare-vm0-vm$i.txt" || compare_rc=$?
    if [[ -n "$policy" ]]; then
      gate_rc=0
      ctl gate --baseline="$baseline" --candidate="$candidate" --policy="$policy" \
        --confirm=false | tee "$work_dir/gate-vm0-vm$i.txt" || gate_rc=$?
      echo "gate ${labels[i]}: exit $gate_rc (0 pass, 1 fail, 2 inconclusive)"
      (( gate_rc <= compare_rc )) || compare_rc=$gate_rc
    fi
  done
fi
while read -r machine boot took; do
  i="${machine#vm}"
  echo "boot $machine $boot (${labels[i]}, $arch, $mode${icount:+ $(icount_args)}): agent registered $took s after start"
done <"$work_dir/boot_times"
if (( until_decided )); then
  echo
  echo "== until decided"
  cat "$work_dir/looks"
fi
echo "lab run: $(elapsed) s; work directory $work_dir"
exit "$compare_rc"
