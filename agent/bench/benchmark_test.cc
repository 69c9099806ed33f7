// The library contract: the catalog is well formed, ResolveParams rejects bad input naming the
// parameter, RunBenchmark refuses runs over the memory guard.
#include "agent/bench/benchmark.h"

#include <set>

#include "agent/bench/host_memory.h"
#include "agent/bench/params.h"
#include "gtest/gtest.h"

namespace faultline::bench {
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
  EXPECT_TRUE(out.repetitions.empty());
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
}  // namespace faultline::bench
