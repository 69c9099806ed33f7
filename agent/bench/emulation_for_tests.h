// Tests run natively and, for arm64, under qemu-user (run_aarch64_tests.sh sets
// FAULTLINE_UNDER_QEMU_USER=1). The emulator takes page faults of its own (translation cache,
// guest page bookkeeping) and ignores madvise hints such as MADV_RANDOM, so fault-count bounds
// that are exact natively only hold one-sided there.
#ifndef FAULTLINE_AGENT_BENCH_EMULATION_FOR_TESTS_H_
#define FAULTLINE_AGENT_BENCH_EMULATION_FOR_TESTS_H_

#include <cstdlib>
#include <cstring>

namespace faultline::agent::bench {

inline bool UnderQemuUser() {
  const char* v = std::getenv("FAULTLINE_UNDER_QEMU_USER");
  return v != nullptr && std::strcmp(v, "1") == 0;
}

}  // namespace faultline::agent::bench

#endif  // FAULTLINE_AGENT_BENCH_EMULATION_FOR_TESTS_H_
