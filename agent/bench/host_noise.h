// What else the host did while a repetition ran, and whether that disturbed it: time the
// benchmark's workers waited for a CPU others held, time the hypervisor stole, CPU time of the
// kernel's own memory daemons (khugepaged, kdamond, kcompactd), direct compaction stalls and,
// where cpufreq is visible, the CPU clock. A disturbed repetition carries the reasons in
// RepetitionResult::disturbances; the comparison decides what to do with it (docs/analysis.md).
#ifndef FAULTLINE_AGENT_BENCH_HOST_NOISE_H_
#define FAULTLINE_AGENT_BENCH_HOST_NOISE_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "agent/bench/benchmark_types.h"

namespace faultline::agent::bench {

// A repetition is disturbed when, over its wall time W:
struct NoiseThresholds {
  // its workers together waited for a CPU (run delay: runnable, not running) more than this
  // share of W: the measured loop was not what ran;
  double run_delay_share = 0.05;
  // the hypervisor stole more than this share of W x online CPUs;
  double steal_share = 0.01;
  // khugepaged, kdamond or kcompactd ran more than this share of W (they take the locks and
  // the pages the benchmark faults);
  double daemon_share = 0.01;
  // any task on the host stalled in direct compaction (vmstat compact_stall rose), or the CPU
  // clock moved by more than this share (where cpufreq is visible).
  double frequency_change = 0.05;
};

class HostNoise {
 public:
  using Snapshot = std::map<std::string, int64_t>;

  // Finds the memory daemons and cpufreq files once per run.
  HostNoise();

  // host.steal_ns (system-wide), host.khugepaged_ns, host.kdamond_ns, host.kcompactd_ns (their
  // CPU time; kdamond and kcompactd summed over their threads), host.cpu_khz_min/max (cpufreq,
  // where visible), sched.run_delay_ns (the run's workers, cumulative).
  Snapshot Read() const;

  // Adds the deltas (the cpu_khz extremes of both ends) to out->counters, the ones this host
  // cannot give to out->unavailable_counters, and a reason per exceeded threshold to
  // out->disturbances. Reads vmstat.compact_stall from out->counters, so it runs after
  // KernelCounters::FillDelta.
  void Judge(const Snapshot& before, const Snapshot& after, const NoiseThresholds& thresholds,
             RepetitionResult* out) const;

 private:
  std::map<std::string, std::vector<int>> daemons_;  // counter name -> pids
  std::vector<std::string> cpufreq_files_;
};

}  // namespace faultline::agent::bench

#endif  // FAULTLINE_AGENT_BENCH_HOST_NOISE_H_
