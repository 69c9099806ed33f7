#include <algorithm>
#include <string>

#include "agent/bench/runner.h"
#include "agent/bench/emulation_for_tests.h"
#include "gtest/gtest.h"

namespace faultline::agent::bench::benchmarks {
namespace {

double Metric(const RepetitionResult& rep, const std::string& name) {
  for (const MetricValue& m : rep.metrics) {
    if (m.name == name) return m.value;
  }
  ADD_FAILURE() << "no metric " << name;
  return 0;
}

RunOutput RunFaultAnon(const std::string& mode, bool sample) {
  absl::StatusOr<Params> params =
      ResolveParams("fault_anon", {{"region_mib", int64_t{8}},
                                   {"passes", int64_t{2}},
                                   {"threads", int64_t{2}},
                                   {"mode", mode},
                                   {"thp", std::string("nohugepage")},
                                   {"sample_latency", sample}});
  EXPECT_TRUE(params.ok()) << params.status();
  RunOptions options;
  options.warmup = 1;
  options.repetitions = 2;
  return RunBenchmark("fault_anon", *params, options);
}

class FaultAnonTest : public ::testing::TestWithParam<std::string> {};

TEST_P(FaultAnonTest, MinorFaultsMatchPagesTouched) {
  RunOutput out = RunFaultAnon(GetParam(), true);
  ASSERT_EQ(out.status, RunStatus::kOk) << out.diagnostic;
  ASSERT_EQ(out.repetitions.size(), 2u);
  const int64_t pages = 2 /*threads*/ * 2 /*passes*/ * (int64_t{8} << 20) / sysconf(_SC_PAGESIZE);
  for (const RepetitionResult& rep : out.repetitions) {
    EXPECT_EQ(Metric(rep, "pages_touched"), pages);
    const int64_t minflt = rep.counters.at("rusage.minflt");
    // A few extra faults for stacks, the worker processes' own pages and reading /proc.
    EXPECT_GE(minflt, pages);
    if (!UnderQemuUser()) {
      EXPECT_LE(minflt, pages + pages / 50 + 200) << "mode " << GetParam();
    }
    EXPECT_EQ(rep.counters.at("rusage.majflt"), 0);
    EXPECT_GE(rep.counters.at("vmstat.pgfault"), pages);
    EXPECT_GT(Metric(rep, "ns_per_fault"), 0);
    EXPECT_GT(Metric(rep, "faults_per_sec"), 0);
    ASSERT_EQ(rep.histograms.size(), 1u);
    EXPECT_EQ(rep.histograms[0].first, "fault_latency_ns");
    EXPECT_EQ(rep.histograms[0].second.total_count(), static_cast<uint64_t>(pages));
    // This kernel has no per-VMA lock statistics: unavailable, never zero.
    if (rep.counters.count("vmstat.vma_lock_success") == 0) {
      EXPECT_NE(std::find(rep.unavailable_counters.begin(), rep.unavailable_counters.end(),
                          "vmstat.vma_lock_success"),
                rep.unavailable_counters.end());
    }
  }
  EXPECT_EQ(out.warmup, 1);
  EXPECT_GT(out.timer_overhead_ns, 0);
}

TEST_P(FaultAnonTest, WithoutSamplingThereIsNoHistogram) {
  RunOutput out = RunFaultAnon(GetParam(), false);
  ASSERT_EQ(out.status, RunStatus::kOk) << out.diagnostic;
  for (const RepetitionResult& rep : out.repetitions) EXPECT_TRUE(rep.histograms.empty());
}

// The harness adds no thread and no sleep of its own to a single-threaded repetition: the worker
// runs on the runner's thread, which never blocks in it (a polling watchdog used to wake about
// every 0.3 ms, ~900 voluntary switches per 250 ms). Voluntary switches only come from blocking
// in the kernel (reclaim, a lock), which a few MiB of anonymous memory does not need; preemptions
// by other load are involuntary and not bounded here.
TEST(FaultAnonNoiseTest, ASingleThreadRepetitionNeitherSleepsNorAddsThreads) {
  absl::StatusOr<Params> params =
      ResolveParams("fault_anon", {{"region_mib", int64_t{32}},
                                   {"passes", int64_t{4}},
                                   {"threads", int64_t{1}},
                                   {"thp", std::string("nohugepage")},
                                   {"sample_latency", false}});
  ASSERT_TRUE(params.ok()) << params.status();
  RunOptions options;
  options.warmup = 1;
  options.repetitions = 3;
  RunOutput out = RunBenchmark("fault_anon", *params, options);
  ASSERT_EQ(out.status, RunStatus::kOk) << out.diagnostic;
  for (const RepetitionResult& rep : out.repetitions) {
    EXPECT_LE(rep.counters.at("rusage.nvcsw"), 3) << "wall " << rep.wall_ns << " ns";
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, FaultAnonTest, ::testing::Values("thread", "process"));

}  // namespace
}  // namespace faultline::agent::bench::benchmarks
