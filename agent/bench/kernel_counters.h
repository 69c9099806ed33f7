// Kernel-side event counters read around each repetition: getrusage (this process plus reaped
// children), /proc/vmstat (system-wide) and perf software events (this process and everything it
// starts afterwards). A counter the host cannot provide is reported as unavailable, never zero.
#ifndef FAULTLINE_AGENT_BENCH_KERNEL_COUNTERS_H_
#define FAULTLINE_AGENT_BENCH_KERNEL_COUNTERS_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "agent/bench/benchmark_types.h"

namespace faultline::agent::bench {

class KernelCounters {
 public:
  using Snapshot = std::map<std::string, int64_t>;

  // Opens the perf events; must be created before the workers it should count.
  KernelCounters();
  ~KernelCounters();
  KernelCounters(const KernelCounters&) = delete;
  KernelCounters& operator=(const KernelCounters&) = delete;

  Snapshot Read() const;

  // Writes after - before into out->counters, and every counter missing from either snapshot
  // into out->unavailable_counters.
  static void FillDelta(const Snapshot& before, const Snapshot& after, RepetitionResult* out);

  // Every counter name this library reports, in a stable order.
  static const std::vector<std::string>& Names();

  // Whether a counter counts the whole host (/proc/vmstat) rather than this run's tasks.
  static bool IsSystemWide(const std::string& name);

  // The per-VMA lock outcomes (vmstat.vma_lock_{success,abort,retry,miss}, which kernels built
  // with CONFIG_PER_VMA_LOCK_STATS have) per operation: metrics
  // "<prefix>vmstat.vma_lock_retry_per_<op>" from the counters "<prefix>vmstat.vma_lock_retry"
  // in `counters`, or the names listed unavailable with the reason.
  static void AddVmaLockPerOperation(const std::map<std::string, int64_t>& counters,
                                     const std::string& prefix, uint64_t ops,
                                     const std::string& op, RepetitionResult& out);
  static std::vector<MetricSpec> VmaLockMetricSpecs(const std::string& prefix,
                                                    const std::string& op);

 private:
  struct PerfEvent {
    std::string name;
    int fd = -1;
  };
  std::vector<PerfEvent> perf_events_;
};

}  // namespace faultline::agent::bench

#endif  // FAULTLINE_AGENT_BENCH_KERNEL_COUNTERS_H_
