#include "agent/bench/cycle_clock.h"

#include <time.h>

namespace faultline::agent::bench {

int64_t MonotonicNowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

const CycleClock& CycleClock::Get() {
  static const CycleClock* const clock = [] {
    constexpr int64_t kCalibrationNs = 20'000'000;
    const int64_t start_ns = MonotonicNowNs();
    const uint64_t start_ticks = CycleNow();
    int64_t now_ns = start_ns;
    // Bounded twice: by elapsed time, and by iterations in case the clock were stuck.
    for (int i = 0; i < 100'000'000 && now_ns - start_ns < kCalibrationNs; ++i) {
      now_ns = MonotonicNowNs();
    }
    const uint64_t ticks = CycleNow() - start_ticks;
    const double ns_per_tick =
        ticks > 0 ? static_cast<double>(now_ns - start_ns) / static_cast<double>(ticks) : 1.0;
    return new CycleClock(ns_per_tick);
  }();
  return *clock;
}

double MeasureTimerOverheadNs() {
  constexpr int kReads = 100'000;
  const CycleClock& clock = CycleClock::Get();
  uint64_t sink = 0;
  const uint64_t start = CycleNow();
  for (int i = 0; i < kReads; ++i) sink += CycleNow();
  const uint64_t elapsed = CycleNow() - start;
  asm volatile("" : : "r"(sink));
  return static_cast<double>(clock.ToNs(elapsed)) / kReads;
}

}  // namespace faultline::agent::bench
