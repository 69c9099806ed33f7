#!/bin/busybox sh
# /init of a faultline lab guest: brings up the network that qemu's user networking offers,
# mounts what the benchmarks read and write, and runs the faultline agent against the controller
# on the host over mutual TLS. Settings come from the kernel command line (faultline.* words);
# the machine's certificate, key and the lab's CA are in /lab/tls.
/bin/busybox mkdir -p /bin /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mkdir -p /proc /sys /dev /tmp /run /var/spool
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null

say() { echo "faultline-lab-guest: $*" > /dev/console; }
fail() {
  say "FAILED: $*"
  # The host sees the guest stop (-no-reboot), and the console tail says why.
  poweroff -f
}

for word in $(cat /proc/cmdline); do
  case "$word" in
    faultline.label=*) label="${word#*=}" ;;
    faultline.controller=*) controller="${word#*=}" ;;
    faultline.agent_id=*) agent_id="${word#*=}" ;;
    faultline.virtualization=*) virtualization="${word#*=}" ;;
    faultline.epoch=*) epoch="${word#*=}" ;;
    faultline.icount_shift=*) icount_shift="${word#*=}" ;;
  esac
done
[ -n "$label" ] && [ -n "$controller" ] && [ -n "$agent_id" ] || \
  fail "faultline.label, faultline.controller and faultline.agent_id must be on the command line"
[ -r /lab/tls/ca.pem ] && [ -r /lab/tls/agent.pem ] && [ -r /lab/tls/agent.key ] || \
  fail "no /lab/tls/{ca.pem,agent.pem,agent.key}: the lab packs them into each machine's initramfs"
# A kernel without its RTC driver built in starts in 1970, before every certificate's notBefore:
# the host's clock at boot (from the command line) is a floor.
if [ -n "$epoch" ] && [ "$(date +%s)" -lt "$epoch" ]; then
  say "clock behind the host's: $(date -u +%FT%TZ), set to @$epoch"
  date -s "@$epoch" >/dev/null || say "cannot set the clock to @$epoch"
fi

# Drivers the kernel builds as modules; the lab lists them in dependency order. A kernel that
# has one built in has no file for it, and the list leaves it out.
for module in $(cat /lab/modules.order); do
  insmod "/lab/modules/$module.ko" || say "insmod $module failed (built in?)"
done

hostname "$agent_id"
ip link set lo up
# qemu's user networking: the guest is 10.0.2.15, and 10.0.2.2 is qemu's gateway, which qemu
# maps to the host's own 127.0.0.1. Nothing else is reached.
tries=0
while ! ip link show eth0 >/dev/null 2>&1; do
  tries=$((tries + 1))
  [ "$tries" -gt 50 ] && fail "no eth0 (virtio-net driver missing?)"
  sleep 0.1
done
ip link set eth0 up || fail "eth0 does not come up"
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2

# A real filesystem on the lab's scratch disk, so file-fault benchmarks see a block device and
# a page cache they can drop; without the disk /tmp is tmpfs and those benchmarks skip.
if [ -b /dev/vda ] && mount -t ext4 /dev/vda /tmp; then
  rm -rf /tmp/* 2>/dev/null
else
  mount -t tmpfs tmpfs /tmp
fi
chmod 1777 /tmp
mkdir -p /tmp/spool /var
# File-backed benchmarks write their scratch files here: the ext4 disk, not the initramfs.
ln -sfn /tmp /var/tmp
export FAULTLINE_BENCH_DIR=/tmp
# The lab's second disk is swap, so fault_swapin has a device to page out to.
if [ -b /dev/vdb ]; then
  mkswap /dev/vdb >/dev/null 2>&1 && swapon /dev/vdb 2>/dev/null || say "swap on /dev/vdb failed"
fi
# tracefs for the mmap_lock tracepoints and the function profiler; debugfs for what lives there.
mkdir -p /sys/kernel/tracing /sys/kernel/debug
mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null
mount -t debugfs nodev /sys/kernel/debug 2>/dev/null

# What the host checks against the image it booted: the kernel's own version string (a built
# kernel names its series there) and its configuration.
if [ -r /proc/config.gz ]; then
  config_sha="$(zcat /proc/config.gz | sha256sum | cut -d' ' -f1)"
  per_vma_lock="$(zcat /proc/config.gz | grep -c '^CONFIG_PER_VMA_LOCK=y')"
  say "config: sha256 $config_sha per_vma_lock $per_vma_lock"
fi
say "kernel: $(cat /proc/version)"

say "up: release $(uname -r) arch $(uname -m) uptime $(cut -d' ' -f1 /proc/uptime)s label $label"
export LD_LIBRARY_PATH="$(cat /lab/library_path)"
# An instruction-counting guest cannot tell its shift, which scales every time it measures.
icount_flags=""
[ -n "$icount_shift" ] && icount_flags="--icount_shift=$icount_shift"
/bin/faultline-agent $icount_flags --controller="$controller" --agent_id="$agent_id" \
  --tls_ca=/lab/tls/ca.pem --tls_cert=/lab/tls/agent.pem --tls_key=/lab/tls/agent.key \
  --kernel_label="$label" --virtualization="$virtualization" --tags=lab \
  --spool_dir=/tmp/spool --poll_wait_seconds=5
fail "faultline-agent exited with status $?"
