#include "agent/bench/kernel_counters.h"

#include <stdlib.h>
#include <sys/mman.h>

#include <algorithm>

#include "agent/bench/emulation_for_tests.h"
#include "agent/bench/host_memory.h"
#include "gtest/gtest.h"

namespace faultline::agent::bench {
namespace {

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

TEST(KernelCountersTest, RusageSeesFaultsThisProcessTakes) {
  KernelCounters counters;
  constexpr size_t kPages = 1000;
  const size_t len = kPages * PageSize();
  char* p = static_cast<char*>(
      mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(p, MAP_FAILED);
  ASSERT_EQ(madvise(p, len, MADV_NOHUGEPAGE), 0);
  const KernelCounters::Snapshot before = counters.Read();
  for (size_t off = 0; off < len; off += PageSize()) p[off] = 1;
  const KernelCounters::Snapshot after = counters.Read();
  munmap(p, len);

  RepetitionResult result;
  KernelCounters::FillDelta(before, after, &result);
  EXPECT_GE(result.counters["rusage.minflt"], static_cast<int64_t>(kPages));
  if (!UnderQemuUser()) {
    EXPECT_LE(result.counters["rusage.minflt"], static_cast<int64_t>(kPages) + 50);
  }
  // vmstat is system-wide: other processes can only add to it.
  EXPECT_GE(result.counters["vmstat.pgfault"], static_cast<int64_t>(kPages));
  if (!Contains(result.unavailable_counters, "perf.page_faults")) {
    EXPECT_GE(result.counters["perf.page_faults"], static_cast<int64_t>(kPages));
  }
}

TEST(KernelCountersTest, MissingCountersAreUnavailableNotZero) {
  KernelCounters::Snapshot before = {{"rusage.minflt", 10}};
  KernelCounters::Snapshot after = {{"rusage.minflt", 15}};
  RepetitionResult result;
  KernelCounters::FillDelta(before, after, &result);
  EXPECT_EQ(result.counters.at("rusage.minflt"), 5);
  EXPECT_EQ(result.counters.count("vmstat.vma_lock_success"), 0u);
  EXPECT_TRUE(Contains(result.unavailable_counters, "vmstat.vma_lock_success"));
  EXPECT_TRUE(Contains(result.unavailable_counters, "perf.page_faults"));
  EXPECT_EQ(result.counters.size() + result.unavailable_counters.size(),
            KernelCounters::Names().size());
}

TEST(KernelCountersTest, EveryCounterIsEitherReadOrUnavailable) {
  KernelCounters counters;
  RepetitionResult result;
  KernelCounters::FillDelta(counters.Read(), counters.Read(), &result);
  for (const std::string& name : KernelCounters::Names()) {
    EXPECT_NE(result.counters.count(name) > 0, Contains(result.unavailable_counters, name))
        << name;
  }
  EXPECT_EQ(result.counters.count("rusage.minflt"), 1u);
  EXPECT_EQ(result.counters.count("vmstat.pgfault"), 1u);
}

TEST(KernelCountersTest, PerfEventsTurnedOffAreUnavailable) {
  setenv("FAULTLINE_BENCH_DISABLE_PERF", "1", 1);
  KernelCounters counters;
  unsetenv("FAULTLINE_BENCH_DISABLE_PERF");
  RepetitionResult result;
  KernelCounters::FillDelta(counters.Read(), counters.Read(), &result);
  EXPECT_TRUE(Contains(result.unavailable_counters, "perf.page_faults"));
  EXPECT_TRUE(Contains(result.unavailable_counters, "perf.context_switches"));
  EXPECT_EQ(result.counters.count("perf.page_faults"), 0u);
}

}  // namespace
}  // namespace faultline::agent::bench
