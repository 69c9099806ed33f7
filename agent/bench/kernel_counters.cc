#include "agent/bench/kernel_counters.h"

#include <fcntl.h>
#include <linux/perf_event.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace faultline::agent::bench {
namespace {

constexpr const char* kVmstatFields[] = {
    "pgfault",          "pgmajfault",       "thp_fault_alloc", "vma_lock_success",
    "vma_lock_abort",   "vma_lock_retry",   "vma_lock_miss",
    // THP and compaction activity anywhere on the host (host_noise.h judges compact_stall).
    "compact_stall",    "thp_collapse_alloc", "thp_split_page",
};

constexpr const char* kVmaLockOutcomes[] = {"success", "abort", "retry", "miss"};
constexpr const char* kNoVmaLockStats =
    "no vma_lock_* in /proc/vmstat: the kernel is built without CONFIG_PER_VMA_LOCK_STATS";

struct PerfEventSpec {
  const char* name;
  uint64_t config;
};
constexpr PerfEventSpec kPerfEvents[] = {
    {"perf.page_faults", PERF_COUNT_SW_PAGE_FAULTS},
    {"perf.context_switches", PERF_COUNT_SW_CONTEXT_SWITCHES},
    // A worker moved between CPUs mid-repetition measured two caches' worth of cold misses; with
    // pin_cpus=true this stays 0.
    {"perf.cpu_migrations", PERF_COUNT_SW_CPU_MIGRATIONS},
};

int OpenPerfEvent(uint64_t config) {
  perf_event_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.size = sizeof(attr);
  attr.type = PERF_TYPE_SOFTWARE;
  attr.config = config;
  // Count threads and processes started later too; their counts fold in when they exit.
  attr.inherit = 1;
  attr.exclude_hv = 1;
  return static_cast<int>(syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC));
}

void ReadRusage(KernelCounters::Snapshot& out) {
  rusage self, children;
  if (getrusage(RUSAGE_SELF, &self) != 0 || getrusage(RUSAGE_CHILDREN, &children) != 0) return;
  out["rusage.minflt"] = self.ru_minflt + children.ru_minflt;
  out["rusage.majflt"] = self.ru_majflt + children.ru_majflt;
  out["rusage.nvcsw"] = self.ru_nvcsw + children.ru_nvcsw;
  out["rusage.nivcsw"] = self.ru_nivcsw + children.ru_nivcsw;
}

void ReadVmstat(KernelCounters::Snapshot& out) {
  const int fd = open("/proc/vmstat", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  std::string text;
  char buf[8192];
  for (int i = 0; i < 64; ++i) {
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(line, ' ');
    for (const char* field : kVmstatFields) {
      int64_t value;
      if (kv.first == field && absl::SimpleAtoi(kv.second, &value)) {
        out[std::string("vmstat.") + field] = value;
      }
    }
  }
}

}  // namespace

KernelCounters::KernelCounters() {
  if (getenv("FAULTLINE_BENCH_DISABLE_PERF") != nullptr) return;
  for (const PerfEventSpec& spec : kPerfEvents) {
    const int fd = OpenPerfEvent(spec.config);
    if (fd >= 0) perf_events_.push_back({spec.name, fd});
  }
}

KernelCounters::~KernelCounters() {
  for (const PerfEvent& event : perf_events_) close(event.fd);
}

KernelCounters::Snapshot KernelCounters::Read() const {
  Snapshot snapshot;
  ReadRusage(snapshot);
  ReadVmstat(snapshot);
  for (const PerfEvent& event : perf_events_) {
    uint64_t value;
    if (read(event.fd, &value, sizeof(value)) == sizeof(value)) {
      snapshot[event.name] = static_cast<int64_t>(value);
    }
  }
  return snapshot;
}

void KernelCounters::FillDelta(const Snapshot& before, const Snapshot& after,
                               RepetitionResult* out) {
  for (const std::string& name : Names()) {
    auto b = before.find(name);
    auto a = after.find(name);
    if (b == before.end() || a == after.end()) {
      out->unavailable_counters.push_back(name);
      if (name.rfind("vmstat.vma_lock_", 0) == 0) {
        out->unavailable_reasons["vmstat.vma_lock"] = kNoVmaLockStats;
      }
    } else {
      out->counters[name] = a->second - b->second;
    }
  }
}

void KernelCounters::AddVmaLockPerOperation(const std::map<std::string, int64_t>& counters,
                                            const std::string& prefix, uint64_t ops,
                                            const std::string& op, RepetitionResult& out) {
  for (const char* outcome : kVmaLockOutcomes) {
    const std::string counter = prefix + "vmstat.vma_lock_" + outcome;
    const std::string metric = counter + "_per_" + op;
    auto it = counters.find(counter);
    if (it == counters.end() || ops == 0) {
      out.unavailable_counters.push_back(metric);
      out.unavailable_reasons["vmstat.vma_lock"] = kNoVmaLockStats;
      continue;
    }
    out.metrics.push_back({metric, static_cast<double>(it->second) / static_cast<double>(ops)});
  }
}

std::vector<MetricSpec> KernelCounters::VmaLockMetricSpecs(const std::string& prefix,
                                                           const std::string& op) {
  std::vector<MetricSpec> specs;
  for (const char* outcome : kVmaLockOutcomes) {
    const bool success = std::string(outcome) == "success";
    specs.push_back({prefix + "vmstat.vma_lock_" + outcome + "_per_" + op, "ratio",
                     success ? Direction::kNeutral : Direction::kLowerIsBetter,
                     std::string("Per-VMA lock outcome '") + outcome + "' per " + op +
                         " (system-wide /proc/vmstat delta over the run's own operations; "
                         "CONFIG_PER_VMA_LOCK_STATS kernels only)."});
  }
  return specs;
}

bool KernelCounters::IsSystemWide(const std::string& name) {
  return name.rfind("vmstat.", 0) == 0 || name.find(".vmstat.") != std::string::npos;
}

const std::vector<std::string>& KernelCounters::Names() {
  static const std::vector<std::string>* const names = [] {
    auto* v = new std::vector<std::string>{"rusage.minflt", "rusage.majflt", "rusage.nvcsw",
                                           "rusage.nivcsw"};
    for (const char* field : kVmstatFields) v->push_back(std::string("vmstat.") + field);
    for (const PerfEventSpec& spec : kPerfEvents) v->push_back(spec.name);
    return v;
  }();
  return *names;
}

}  // namespace faultline::agent::bench
