// x86_64: the time-stamp counter. Invariant on every CPU faultline targets; not serializing,
// which is fine around a page fault (the kernel entry serializes anyway).
#ifndef FAULTLINE_AGENT_BENCH_ARCH_CYCLE_COUNTER_X86_64_H_
#define FAULTLINE_AGENT_BENCH_ARCH_CYCLE_COUNTER_X86_64_H_

#include <x86intrin.h>

#include <cstdint>

namespace faultline::agent::bench::arch {

inline constexpr const char kCycleCounterName[] = "rdtsc";

inline uint64_t ReadCycleCounter() { return __rdtsc(); }

}  // namespace faultline::agent::bench::arch

#endif  // FAULTLINE_AGENT_BENCH_ARCH_CYCLE_COUNTER_X86_64_H_
