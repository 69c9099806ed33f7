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

 private:
  struct PerfEvent {
    std::string name;
    int fd = -1;
  };
  std::vector<PerfEvent> perf_events_;
};

}  // namespace faultline::agent::bench

#endif  // FAULTLINE_AGENT_BENCH_KERNEL_COUNTERS_H_
