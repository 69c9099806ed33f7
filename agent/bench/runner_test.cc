// The library contract: the catalog is well formed, ResolveParams rejects bad input naming the
// parameter, RunBenchmark refuses runs over the host guards and stops at its time limit.
#include "agent/bench/runner.h"

#include <unistd.h>

#include <set>
#include <string>

#include "agent/bench/host_memory.h"
#include "agent/bench/params.h"
#include "gtest/gtest.h"

namespace faultline::agent::bench {
namespace {

TEST(CatalogTest, EntriesAreUniqueAndWellFormed) {
  std::set<std::string> names;
  ASSERT_FALSE(Catalog().empty());
  for (const BenchmarkInfo& info : Catalog()) {
    EXPECT_TRUE(names.insert(info.name).second) << info.name;
    EXPECT_FALSE(info.description.empty()) << info.name;
    EXPECT_FALSE(info.metrics.empty()) << info.name;
    EXPECT_EQ(FindBenchmark(info.name), &info);
    // Every default must pass the benchmark's own validation.
    absl::StatusOr<Params> defaults = ResolveParams(info.name, {});
    ASSERT_TRUE(defaults.ok()) << info.name << ": " << defaults.status();
    EXPECT_EQ(defaults->size(), info.params.size());
    for (const ParamSpec& spec : info.params) {
      EXPECT_FALSE(spec.description.empty()) << info.name << "." << spec.name;
      if (spec.type == ParamType::kEnum) {
        EXPECT_FALSE(spec.allowed_values.empty()) << info.name << "." << spec.name;
      }
    }
  }
  EXPECT_EQ(FindBenchmark("no_such_benchmark"), nullptr);
}

void ExpectInvalid(const Params& given, const std::string& param) {
  absl::StatusOr<Params> resolved = ResolveParams("fault_anon", given);
  ASSERT_FALSE(resolved.ok());
  EXPECT_EQ(resolved.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(resolved.status().message().find("'" + param + "'"), std::string::npos)
      << resolved.status();
}

TEST(ResolveParamsTest, RejectsBadInputNamingTheParameter) {
  ExpectInvalid({{"bogus", int64_t{1}}}, "bogus");
  ExpectInvalid({{"region_mib", true}}, "region_mib");
  ExpectInvalid({{"region_mib", int64_t{0}}}, "region_mib");
  ExpectInvalid({{"threads", int64_t{100000}}}, "threads");
  ExpectInvalid({{"mode", std::string("fiber")}}, "mode");
  ExpectInvalid({{"thp", std::string("always")}}, "thp");
}

TEST(ResolveParamsTest, UnknownBenchmarkIsNotFound) {
  EXPECT_EQ(ResolveParams("no_such_benchmark", {}).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(RunBenchmarkTest, MemoryGuardRefusesOversizedRuns) {
  const uint64_t available = *MeminfoBytes("MemAvailable");
  const int64_t too_many_mib = static_cast<int64_t>(available >> 20) / 8 + 1;
  absl::StatusOr<Params> params = ResolveParams(
      "fault_anon", {{"region_mib", std::min<int64_t>(too_many_mib, 65536)},
                     {"threads", int64_t{8}}});
  ASSERT_TRUE(params.ok()) << params.status();
  RunOptions options;
  options.max_memory_share = 0.5;
  RunOutput out = RunBenchmark("fault_anon", *params, options);
  EXPECT_EQ(out.status, RunStatus::kRefused) << out.diagnostic;
  EXPECT_NE(out.diagnostic.find("MemAvailable"), std::string::npos) << out.diagnostic;
  EXPECT_NE(out.diagnostic.find("region_mib x threads"), std::string::npos) << out.diagnostic;
  EXPECT_TRUE(out.repetitions.empty());
}

TEST(RunBenchmarkTest, ThreadsBeyondFourPerCpuAreRefused) {
  const int64_t threads = 4 * sysconf(_SC_NPROCESSORS_ONLN) + 1;
  if (threads > 256) GTEST_SKIP() << "the threads parameter cannot exceed this host's bound";
  absl::StatusOr<Params> params =
      ResolveParams("fault_anon", {{"region_mib", int64_t{1}}, {"threads", threads}});
  ASSERT_TRUE(params.ok()) << params.status();
  RunOutput out = RunBenchmark("fault_anon", *params, RunOptions());
  EXPECT_EQ(out.status, RunStatus::kRefused) << out.diagnostic;
  EXPECT_NE(out.diagnostic.find("threads (" + std::to_string(threads) + ")"), std::string::npos)
      << out.diagnostic;
  EXPECT_NE(out.diagnostic.find("per online CPU"), std::string::npos) << out.diagnostic;
}

TEST(RunBenchmarkTest, BadHostLimitsFailTheRun) {
  RunOptions options;
  options.max_scratch_share = 2;
  RunOutput out = RunBenchmark("fault_anon", {}, options);
  EXPECT_EQ(out.status, RunStatus::kFailed);
  EXPECT_NE(out.diagnostic.find("max_scratch_share"), std::string::npos) << out.diagnostic;
  options = RunOptions();
  options.time_limit_seconds = 0;
  EXPECT_NE(RunBenchmark("fault_anon", {}, options).diagnostic.find("time_limit_seconds"),
            std::string::npos);
}

// Arms far longer than the time limit: the workers are stopped at the deadline, and the
// repetition they were in is not reported as if it had run its course.
TEST(RunBenchmarkTest, TimeLimitStopsARunCleanly) {
  absl::StatusOr<Params> params = ResolveParams(
      "mmap_writer_contention", {{"region_mib", int64_t{1}}, {"duration_ms", int64_t{600000}}});
  ASSERT_TRUE(params.ok()) << params.status();
  RunOptions options;
  options.warmup = 0;
  options.repetitions = 3;
  options.time_limit_seconds = 1;
  RunOutput out = RunBenchmark("mmap_writer_contention", *params, options);
  EXPECT_EQ(out.status, RunStatus::kFailed);
  EXPECT_TRUE(out.time_limit_reached);
  EXPECT_EQ(out.diagnostic.rfind("timeout: the time limit of 1 s was reached", 0), 0u)
      << out.diagnostic;
  EXPECT_TRUE(out.repetitions.empty());
}

TEST(RunBenchmarkTest, RepetitionsCompletedBeforeTheTimeLimitAreKept) {
  absl::StatusOr<Params> params = ResolveParams(
      "mmap_writer_contention", {{"region_mib", int64_t{1}}, {"duration_ms", int64_t{200}}});
  ASSERT_TRUE(params.ok()) << params.status();
  RunOptions options;
  options.warmup = 0;
  options.repetitions = 1000;
  options.time_limit_seconds = 2;
  RunOutput out = RunBenchmark("mmap_writer_contention", *params, options);
  EXPECT_TRUE(out.time_limit_reached) << out.diagnostic;
  EXPECT_NE(out.diagnostic.find("of 1000 repetitions"), std::string::npos) << out.diagnostic;
  EXPECT_LT(out.repetitions.size(), 1000u);
  // Every kept repetition ran both of its arms in full.
  for (const RepetitionResult& rep : out.repetitions) {
    EXPECT_GE(rep.wall_ns, 2 * 200'000'000);
    EXPECT_FALSE(rep.metrics.empty());
  }
}

TEST(RunBenchmarkTest, BadParametersFailTheRunWithoutRunningIt) {
  RunOutput out = RunBenchmark("fault_anon", {{"threads", int64_t{0}}}, RunOptions());
  EXPECT_EQ(out.status, RunStatus::kFailed);
  EXPECT_NE(out.diagnostic.find("'threads'"), std::string::npos) << out.diagnostic;
  EXPECT_EQ(RunBenchmark("nope", {}, RunOptions()).status, RunStatus::kFailed);
}

TEST(RunBenchmarkTest, RepetitionCountsAreChecked) {
  RunOptions options;
  options.repetitions = 0;
  EXPECT_EQ(RunBenchmark("fault_anon", {}, options).status, RunStatus::kFailed);
}

}  // namespace
}  // namespace faultline::agent::bench
