// Any other architecture: CLOCK_MONOTONIC in nanoseconds (through the vDSO).
#ifndef FAULTLINE_AGENT_BENCH_ARCH_CYCLE_COUNTER_GENERIC_H_
#define FAULTLINE_AGENT_BENCH_ARCH_CYCLE_COUNTER_GENERIC_H_

#include <time.h>

#include <cstdint>

namespace faultline::agent::bench::arch {

inline constexpr const char kCycleCounterName[] = "clock_gettime";

inline uint64_t ReadCycleCounter() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace faultline::agent::bench::arch

#endif  // FAULTLINE_AGENT_BENCH_ARCH_CYCLE_COUNTER_GENERIC_H_
