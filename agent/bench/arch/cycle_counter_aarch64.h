// arm64: the generic timer's virtual count, readable from EL0 on Linux. Its frequency
// (CNTFRQ_EL0, often 24-100 MHz) is far below the CPU clock, so single short intervals are
// coarse; the isb keeps the read from being hoisted above the work it brackets.
#ifndef FAULTLINE_AGENT_BENCH_ARCH_CYCLE_COUNTER_AARCH64_H_
#define FAULTLINE_AGENT_BENCH_ARCH_CYCLE_COUNTER_AARCH64_H_

#include <cstdint>

namespace faultline::agent::bench::arch {

inline constexpr const char kCycleCounterName[] = "cntvct_el0";

inline uint64_t ReadCycleCounter() {
  uint64_t value;
  asm volatile("isb\n\tmrs %0, cntvct_el0" : "=r"(value) : : "memory");
  return value;
}

}  // namespace faultline::agent::bench::arch

#endif  // FAULTLINE_AGENT_BENCH_ARCH_CYCLE_COUNTER_AARCH64_H_
