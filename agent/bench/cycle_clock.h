// Timing for benchmarks: a cheap per-architecture tick counter for per-operation latency, and
// CLOCK_MONOTONIC for wall time. Ticks are converted to ns with a ratio calibrated once against
// CLOCK_MONOTONIC.
#ifndef FAULTLINE_AGENT_BENCH_CYCLE_CLOCK_H_
#define FAULTLINE_AGENT_BENCH_CYCLE_CLOCK_H_

#include <cstdint>

#if defined(__x86_64__)
#include "agent/bench/arch/cycle_counter_x86_64.h"
#elif defined(__aarch64__)
#include "agent/bench/arch/cycle_counter_aarch64.h"
#else
#include "agent/bench/arch/cycle_counter_generic.h"
#endif

namespace faultline::agent::bench {

inline uint64_t CycleNow() { return arch::ReadCycleCounter(); }

// Nanoseconds on CLOCK_MONOTONIC.
int64_t MonotonicNowNs();

class CycleClock {
 public:
  // Calibrated on first use (about 20 ms), then shared.
  static const CycleClock& Get();

  double ns_per_tick() const { return ns_per_tick_; }
  uint64_t ToNs(uint64_t ticks) const {
    return static_cast<uint64_t>(static_cast<double>(ticks) * ns_per_tick_);
  }
  const char* counter_name() const { return arch::kCycleCounterName; }

 private:
  explicit CycleClock(double ns_per_tick) : ns_per_tick_(ns_per_tick) {}
  double ns_per_tick_;
};

// Mean cost of one CycleNow() read, in ns, from back-to-back reads.
double MeasureTimerOverheadNs();

}  // namespace faultline::agent::bench

#endif  // FAULTLINE_AGENT_BENCH_CYCLE_CLOCK_H_
