// The VMAs /proc/self/maps lists over an address range, for tests that check how a benchmark
// lays out its memory. qemu-user synthesizes /proc/self/maps from its own page flags, so VMA
// boundaries are only meaningful natively (see emulation_for_tests.h).
#ifndef FAULTLINE_AGENT_BENCH_BENCHMARKS_PROC_MAPS_FOR_TESTS_H_
#define FAULTLINE_AGENT_BENCH_BENCHMARKS_PROC_MAPS_FOR_TESTS_H_

#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace faultline::agent::bench::benchmarks {

struct VmaLine {
  uintptr_t start;
  uintptr_t end;
  std::string perms;  // "rw-p"
};

// Every VMA overlapping [begin, begin + len), in address order.
inline std::vector<VmaLine> VmasOver(const void* begin, size_t len) {
  const uintptr_t lo = reinterpret_cast<uintptr_t>(begin);
  const uintptr_t hi = lo + len;
  std::vector<VmaLine> out;
  FILE* f = std::fopen("/proc/self/maps", "r");
  if (f == nullptr) return out;
  char line[512];
  while (std::fgets(line, sizeof(line), f) != nullptr) {
    uintptr_t start, end;
    char perms[8];
    if (std::sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %7s", &start, &end, perms) != 3) continue;
    if (end > lo && start < hi) out.push_back({start, end, perms});
  }
  std::fclose(f);
  return out;
}

}  // namespace faultline::agent::bench::benchmarks

#endif  // FAULTLINE_AGENT_BENCH_BENCHMARKS_PROC_MAPS_FOR_TESTS_H_
