#include "agent/fingerprint.h"

#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "agent/file_util.h"
#include "agent/fingerprint_parse.h"

namespace faultline::agent {
namespace {

std::string ReadOrEmpty(const std::string& path) {
  absl::StatusOr<std::string> content = ReadFileToString(path);
  return content.ok() ? *content : "";
}

// Whether this process may open a software perf counter on itself, which is what the benchmarks'
// perf.* counters need.
bool PerfEventsAllowed() {
  perf_event_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.size = sizeof(attr);
  attr.type = PERF_TYPE_SOFTWARE;
  attr.config = PERF_COUNT_SW_PAGE_FAULTS;
  attr.disabled = 1;
  attr.exclude_kernel = 1;
  attr.exclude_hv = 1;
  long fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
  if (fd < 0) return false;
  close(static_cast<int>(fd));
  return true;
}

constexpr const char* kSysctls[] = {
    "vm.overcommit_memory",     "vm.max_map_count", "kernel.randomize_va_space",
    "kernel.perf_event_paranoid", "vm.swappiness",
};

}  // namespace

std::string KernelConfigHash(const std::string& root, const std::string& release) {
  absl::StatusOr<std::string> config = ReadGzipFileToString(root + "/proc/config.gz");
  if (!config.ok() || config->empty()) {
    config = ReadFileToString(absl::StrCat(root, "/boot/config-", release));
  }
  if (!config.ok() || config->empty()) return "";
  return Sha256Hex(*config);
}

absl::StatusOr<v1::HostFingerprint> ReadHostFingerprint(const FingerprintOptions& options) {
  const std::string& root = options.root;
  struct utsname uts;
  if (uname(&uts) != 0) return absl::ErrnoToStatus(errno, "uname");

  v1::HostFingerprint host;
  host.set_hostname(uts.nodename);
  host.set_arch(ArchFromMachine(uts.machine));
  host.set_kernel_release(uts.release);
  host.set_kernel_version(uts.version);
  host.set_kernel_label(options.kernel_label);
  host.set_kernel_config_hash(KernelConfigHash(root, uts.release));
  host.set_cmdline(NormalizeSysctl(ReadOrEmpty(root + "/proc/cmdline")));
  host.set_boot_id(NormalizeSysctl(ReadOrEmpty(root + "/proc/sys/kernel/random/boot_id")));

  CpuInfo cpu = ParseCpuInfo(ReadOrEmpty(root + "/proc/cpuinfo"));
  host.set_cpu_model(cpu.model);
  long online = sysconf(_SC_NPROCESSORS_ONLN);
  host.set_cpu_count(online > 0 ? static_cast<uint32_t>(online)
                                : static_cast<uint32_t>(cpu.processors));

  const std::string meminfo = ReadOrEmpty(root + "/proc/meminfo");
  host.set_memory_bytes(ParseMeminfoBytes(meminfo, "MemTotal").value_or(0));
  host.set_swap_bytes(ParseMeminfoBytes(meminfo, "SwapTotal").value_or(0));

  const std::string thp = root + "/sys/kernel/mm/transparent_hugepage/";
  host.set_thp_enabled(ParseBracketedChoice(ReadOrEmpty(thp + "enabled")));
  host.set_thp_defrag(ParseBracketedChoice(ReadOrEmpty(thp + "defrag")));

  for (const char* name : kSysctls) {
    std::string path = absl::StrCat(root, "/proc/sys/", name);
    for (size_t i = root.size() + 10; i < path.size(); ++i) {
      if (path[i] == '.') path[i] = '/';
    }
    absl::StatusOr<std::string> value = ReadFileToString(path);
    if (value.ok()) (*host.mutable_sysctls())[name] = NormalizeSysctl(*value);
  }

  host.set_page_size(static_cast<uint32_t>(sysconf(_SC_PAGESIZE)));

  const bool kvm_clock = absl::StrContains(
      ReadOrEmpty(root + "/sys/devices/system/clocksource/clocksource0/available_clocksource"),
      "kvm-clock");
  host.set_virtualization(options.virtualization.value_or(ClassifyVirtualization(cpu, kvm_clock)));
  if (host.virtualization() == v1::VIRTUALIZATION_EMULATED_ICOUNT) {
    host.set_icount_shift(options.icount_shift);
  }

  host.set_host_class(!options.host_class.empty()
                          ? options.host_class
                          : DeriveHostClass(host.arch(), host.cpu_model(), host.cpu_count(),
                                            host.memory_bytes(), host.virtualization(),
                                            host.icount_shift()));

  if (HasVmaLockStats(ReadOrEmpty(root + "/proc/vmstat"))) {
    host.add_features("per_vma_lock_stats");
  }
  if (PerfEventsAllowed()) host.add_features("perf_events");
  return host;
}

}  // namespace faultline::agent
