// What each benchmark measures (not how fast): fault counts match the pages touched, cold file
// faults are major faults, contention benchmarks report both arms, skipped runs say why.
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include "agent/bench/runner.h"
#include "agent/bench/emulation_for_tests.h"
#include "agent/bench/host_memory.h"
#include "gtest/gtest.h"

namespace faultline::agent::bench::benchmarks {
namespace {

double Metric(const RepetitionResult& rep, const std::string& name) {
  for (const MetricValue& m : rep.metrics) {
    if (m.name == name) return m.value;
  }
  ADD_FAILURE() << "no metric " << name;
  return -1;
}

const Histogram* FindHistogram(const RepetitionResult& rep, const std::string& name) {
  for (const auto& [n, h] : rep.histograms) {
    if (n == name) return &h;
  }
  return nullptr;
}

RunOutput RunNamed(const std::string& name, const Params& given, int repetitions = 1) {
  // Scratch files go to the test's own directory (a disk under Bazel's output base).
  if (const char* tmp = getenv("TEST_TMPDIR")) setenv("FAULTLINE_BENCH_DIR", tmp, 1);
  absl::StatusOr<Params> params = ResolveParams(name, given);
  EXPECT_TRUE(params.ok()) << params.status();
  RunOptions options;
  options.warmup = 0;
  options.repetitions = repetitions;
  options.time_limit_seconds = 120;
  return RunBenchmark(name, *params, options);
}

int64_t PagesIn(int64_t mib) { return (mib << 20) / static_cast<int64_t>(PageSize()); }

class ModeTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ModeTest, MmapMunmapTakesNoFaults) {
  RunOutput out = RunNamed("mmap_munmap", {{"iterations", int64_t{2000}},
                                      {"threads", int64_t{2}},
                                      {"mode", GetParam()}});
  ASSERT_EQ(out.status, RunStatus::kOk) << out.diagnostic;
  const RepetitionResult& rep = out.repetitions[0];
  EXPECT_GT(Metric(rep, "ns_per_op"), 0);
  const Histogram* latency = FindHistogram(rep, "mmap_munmap_latency_ns");
  ASSERT_NE(latency, nullptr);
  EXPECT_EQ(latency->total_count(), 4000u);
  // Far fewer faults than operations: nothing is touched (the rest is harness overhead).
  if (!UnderQemuUser()) {
    EXPECT_LT(rep.counters.at("rusage.minflt"), 1000);
  }
}

TEST_P(ModeTest, PrivateFileWriteFaultsMatchPagesTouched) {
  RunOutput out = RunNamed("fault_file_private", {{"region_mib", int64_t{4}},
                                             {"passes", int64_t{2}},
                                             {"mode", GetParam()}});
  ASSERT_EQ(out.status, RunStatus::kOk) << out.diagnostic;
  const RepetitionResult& rep = out.repetitions[0];
  const int64_t pages = 2 * PagesIn(4);
  EXPECT_EQ(Metric(rep, "pages_touched"), pages);
  EXPECT_GE(rep.counters.at("rusage.minflt"), pages);
  if (!UnderQemuUser()) {
    EXPECT_LE(rep.counters.at("rusage.minflt"), pages + pages / 50 + 200);
  }
  EXPECT_EQ(rep.counters.at("rusage.majflt"), 0);
}

TEST_P(ModeTest, SharedFileFaultsTouchEveryPage) {
  RunOutput out = RunNamed("fault_file_shared", {{"region_mib", int64_t{4}},
                                            {"passes", int64_t{1}},
                                            {"mode", GetParam()}});
  ASSERT_EQ(out.status, RunStatus::kOk) << out.diagnostic;
  const RepetitionResult& rep = out.repetitions[0];
  EXPECT_EQ(Metric(rep, "pages_touched"), PagesIn(4));
  // Kernels that cache files in large folios map a whole folio per shared fault (6.18 here maps
  // ~50 pages per fault), so only the bounds are certain.
  EXPECT_GT(rep.counters.at("rusage.minflt"), 0);
  EXPECT_LE(rep.counters.at("rusage.minflt"), PagesIn(4) + PagesIn(4) / 50 + 200);
  EXPECT_EQ(rep.counters.at("rusage.majflt"), 0);
}

TEST_P(ModeTest, ColdFileFaultsAreMajorFaults) {
  RunOutput out = RunNamed("fault_file_cold", {{"region_mib", int64_t{2}},
                                          {"passes", int64_t{2}},
                                          {"mode", GetParam()}});
  if (out.status == RunStatus::kSkipped) GTEST_SKIP() << out.diagnostic;
  ASSERT_EQ(out.status, RunStatus::kOk) << out.diagnostic;
  const RepetitionResult& rep = out.repetitions[0];
  const int64_t pages = 2 * PagesIn(2);
  EXPECT_EQ(Metric(rep, "pages_touched"), pages);
  EXPECT_LE(rep.counters.at("rusage.majflt"), pages);
  if (UnderQemuUser()) {
    // MADV_RANDOM is dropped by the emulator, so readahead fills most pages per read; still,
    // each evicted pass must wait for I/O at least once.
    EXPECT_GE(rep.counters.at("rusage.majflt"), 2);
  } else {
    // MADV_RANDOM: no readahead, so (nearly) every page waits for its own read.
    EXPECT_GE(rep.counters.at("rusage.majflt"), pages * 9 / 10);
    EXPECT_GE(rep.counters.at("vmstat.pgmajfault"), pages * 9 / 10);
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, ModeTest, ::testing::Values("thread", "process"));

TEST(FaultSwapinTest, RunsWithSwapAndSaysWhyWithout) {
  RunOutput out = RunNamed("fault_swapin", {{"region_mib", int64_t{2}}, {"passes", int64_t{1}}});
  if (*MeminfoBytes("SwapTotal") == 0) {
    EXPECT_EQ(out.status, RunStatus::kSkipped);
    EXPECT_EQ(out.diagnostic, "no swap");
    EXPECT_TRUE(out.repetitions.empty());
  } else {
    ASSERT_EQ(out.status, RunStatus::kOk) << out.diagnostic;
    EXPECT_GT(out.repetitions[0].counters.at("rusage.majflt"), 0);
  }
}

TEST(ForkMappedTest, ReportsForkAndReapTimes) {
  RunOutput out = RunNamed("fork_mapped", {{"touched_mib", int64_t{16}},
                                      {"vmas", int64_t{64}},
                                      {"forks", int64_t{5}}});
  ASSERT_EQ(out.status, RunStatus::kOk) << out.diagnostic;
  const RepetitionResult& rep = out.repetitions[0];
  EXPECT_EQ(Metric(rep, "forks"), 5);
  EXPECT_GT(Metric(rep, "fork_ns"), 0);
  EXPECT_GE(Metric(rep, "fork_to_reap_ns"), Metric(rep, "fork_ns"));
  ASSERT_NE(FindHistogram(rep, "fork_latency_ns"), nullptr);
  EXPECT_EQ(FindHistogram(rep, "fork_latency_ns")->total_count(), 5u);
}

class ContentionTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ContentionTest, ReportsBothArms) {
  const std::string disturber = GetParam() == "fork_fault_contention" ? "fork" : "writer";
  RunOutput out = RunNamed(GetParam(), {{"duration_ms", int64_t{50}},
                                   {"region_mib", int64_t{2}},
                                   {"threads", int64_t{1}}});
  ASSERT_EQ(out.status, RunStatus::kOk) << out.diagnostic;
  const RepetitionResult& rep = out.repetitions[0];
  for (const char* name : {"fault_latency_ns", "baseline_fault_latency_ns"}) {
    const Histogram* h = FindHistogram(rep, name);
    ASSERT_NE(h, nullptr) << name;
    EXPECT_GT(h->total_count(), 0u) << name;
  }
  const Histogram* ops = FindHistogram(rep, disturber + "_latency_ns");
  ASSERT_NE(ops, nullptr);
  EXPECT_GT(ops->total_count(), 0u);
  EXPECT_EQ(Metric(rep, disturber + "_ops"), ops->total_count());
  EXPECT_GT(Metric(rep, "fault_p99_ns"), 0);
  EXPECT_GT(Metric(rep, "baseline_fault_p99_ns"), 0);
  EXPECT_DOUBLE_EQ(Metric(rep, "p99_penalty_ratio"),
                   Metric(rep, "fault_p99_ns") / Metric(rep, "baseline_fault_p99_ns"));
  EXPECT_GT(Metric(rep, "faults_per_sec"), 0);
  EXPECT_GT(Metric(rep, "baseline_faults_per_sec"), 0);
}

TEST(ContentionTest, ColdFileFaultersTakeMajorFaults) {
  RunOutput out = RunNamed("fork_fault_contention", {{"duration_ms", int64_t{50}},
                                                {"region_mib", int64_t{1}},
                                                {"faults", std::string("mixed")},
                                                {"threads", int64_t{2}}});
  if (out.status == RunStatus::kSkipped) GTEST_SKIP() << out.diagnostic;
  ASSERT_EQ(out.status, RunStatus::kOk) << out.diagnostic;
  EXPECT_GT(out.repetitions[0].counters.at("rusage.majflt"), 0);
}

TEST(ContentionTest, EachArmHasItsOwnCounters) {
  // qemu-user ignores MADV_RANDOM, so readahead turns most cold faults minor there.
  if (UnderQemuUser()) GTEST_SKIP() << "qemu-user ignores MADV_RANDOM: major-fault counts differ";
  RunOutput out = RunNamed("mmap_writer_contention", {{"duration_ms", int64_t{50}},
                                                     {"region_mib", int64_t{1}},
                                                     {"faults", std::string("file_cold")},
                                                     {"threads", int64_t{1}}});
  if (out.status == RunStatus::kSkipped) GTEST_SKIP() << out.diagnostic;
  ASSERT_EQ(out.status, RunStatus::kOk) << out.diagnostic;
  const RepetitionResult& rep = out.repetitions[0];
  // Every page of a cold file is one major fault, counted in the arm that took it.
  const int64_t baseline = rep.counters.at("baseline.rusage.majflt");
  const int64_t contended = rep.counters.at("contended.rusage.majflt");
  EXPECT_GE(baseline, PagesIn(1));
  EXPECT_GE(contended, PagesIn(1));
  EXPECT_EQ(baseline % PagesIn(1), 0);
  EXPECT_EQ(baseline + contended, rep.counters.at("rusage.majflt"));
  // Per-VMA lock outcomes per fault, per arm, where the kernel counts them; listed with the
  // reason where it does not.
  if (rep.counters.count("baseline.vmstat.vma_lock_success") != 0) {
    EXPECT_GE(Metric(rep, "baseline.vmstat.vma_lock_retry_per_fault"), 0);
  } else {
    EXPECT_NE(std::find(rep.unavailable_counters.begin(), rep.unavailable_counters.end(),
                        "contended.vmstat.vma_lock_retry_per_fault"),
              rep.unavailable_counters.end());
    EXPECT_FALSE(rep.unavailable_reasons.at("vmstat.vma_lock").empty());
  }
}

TEST(ContentionTest, MixedFaultersReportEachKindApart) {
  RunOutput out = RunNamed("mmap_writer_contention", {{"duration_ms", int64_t{50}},
                                                 {"region_mib", int64_t{1}},
                                                 {"faults", std::string("mixed")},
                                                 {"threads", int64_t{2}}});
  if (out.status == RunStatus::kSkipped) GTEST_SKIP() << out.diagnostic;
  ASSERT_EQ(out.status, RunStatus::kOk) << out.diagnostic;
  const RepetitionResult& rep = out.repetitions[0];
  EXPECT_EQ(FindHistogram(rep, "fault_latency_ns"), nullptr) << "kinds must not be merged";
  uint64_t file_faults = 0;
  for (const std::string kind : {"anon", "file_cold"}) {
    for (const std::string arm : {"", "baseline_"}) {
      const Histogram* h = FindHistogram(rep, arm + kind + "_fault_latency_ns");
      ASSERT_NE(h, nullptr) << arm << kind;
      // Every pass faults in the whole region, one sample per page.
      EXPECT_GT(h->total_count(), 0u) << arm << kind;
      EXPECT_EQ(h->total_count() % PagesIn(1), 0u) << arm << kind;
      if (kind == "file_cold") file_faults += h->total_count();
      EXPECT_GT(Metric(rep, arm + kind + "_fault_p999_ns"), 0);
      EXPECT_GT(Metric(rep, arm + kind + "_faults_per_sec"), 0);
    }
    EXPECT_DOUBLE_EQ(Metric(rep, kind + "_p99_penalty_ratio"),
                     Metric(rep, kind + "_fault_p99_ns") /
                         Metric(rep, "baseline_" + kind + "_fault_p99_ns"));
  }
  // Only the file faulter waits for I/O: the major faults are its pages (MADV_RANDOM: about one
  // per page), none of the anonymous ones.
  EXPECT_LE(rep.counters.at("rusage.majflt"), static_cast<double>(file_faults));
  if (!UnderQemuUser()) {
    EXPECT_GE(rep.counters.at("rusage.majflt"), static_cast<double>(file_faults * 9 / 10));
  }
}

TEST(ContentionTest, MixedNeedsAFaulterOfEachKind) {
  RunOutput out = RunNamed("fork_fault_contention", {{"duration_ms", int64_t{50}},
                                                {"faults", std::string("mixed")},
                                                {"threads", int64_t{1}}});
  EXPECT_EQ(out.status, RunStatus::kFailed);
  EXPECT_NE(out.diagnostic.find("faults=mixed needs at least 2 faulting threads"),
            std::string::npos)
      << out.diagnostic;
}

TEST(ContentionTest, SwapinFaultersRunWithSwapAndSayWhyWithout) {
  RunOutput out = RunNamed("mmap_writer_contention", {{"duration_ms", int64_t{50}},
                                                 {"region_mib", int64_t{2}},
                                                 {"faults", std::string("swapin")}});
  if (*MeminfoBytes("SwapTotal") == 0) {
    EXPECT_EQ(out.status, RunStatus::kSkipped);
    EXPECT_EQ(out.diagnostic, "no swap");
    EXPECT_TRUE(out.repetitions.empty());
  } else {
    ASSERT_EQ(out.status, RunStatus::kOk) << out.diagnostic;
    const RepetitionResult& rep = out.repetitions[0];
    EXPECT_GT(rep.counters.at("rusage.majflt"), 0);
    EXPECT_EQ(FindHistogram(rep, "fault_latency_ns")->total_count() % PagesIn(2), 0u);
  }
}

// writer_rate is a ceiling on a fixed schedule: an arm of 100 ms at 100 ops/s has 10 slots,
// however fast the writer could go; writer_pages makes each operation an mprotect of that range.
TEST(ContentionTest, WriterRateBoundsWriterOperations) {
  for (int64_t pages : {int64_t{0}, int64_t{64}}) {
    RunOutput out = RunNamed("mmap_writer_contention", {{"duration_ms", int64_t{100}},
                                                   {"region_mib", int64_t{1}},
                                                   {"writer_rate", int64_t{100}},
                                                   {"writer_pages", pages}},
                             /*repetitions=*/2);
    ASSERT_EQ(out.status, RunStatus::kOk) << out.diagnostic;
    for (const RepetitionResult& rep : out.repetitions) {
      EXPECT_GE(Metric(rep, "writer_ops"), 1) << "writer_pages " << pages;
      EXPECT_LE(Metric(rep, "writer_ops"), 10) << "writer_pages " << pages;
      EXPECT_GT(Metric(rep, "writer_ops_per_sec"), 0);
      EXPECT_EQ(FindHistogram(rep, "writer_latency_ns")->total_count(), Metric(rep, "writer_ops"));
    }
  }
}

TEST(ContentionTest, ForkingParentCarriesItsMemory) {
  RunOutput out = RunNamed("fork_fault_contention", {{"duration_ms", int64_t{50}},
                                                {"region_mib", int64_t{1}},
                                                {"touched_mib", int64_t{8}},
                                                {"vmas", int64_t{64}}});
  ASSERT_EQ(out.status, RunStatus::kOk) << out.diagnostic;
  const RepetitionResult& rep = out.repetitions[0];
  EXPECT_GE(Metric(rep, "fork_ops"), 1);
  EXPECT_GT(Metric(rep, "fork_ops_per_sec"), 0);
}

INSTANTIATE_TEST_SUITE_P(Benchmarks, ContentionTest,
                         ::testing::Values("fork_fault_contention", "mmap_writer_contention"));

}  // namespace
}  // namespace faultline::agent::bench::benchmarks
