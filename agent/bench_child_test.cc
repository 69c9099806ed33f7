#include "agent/bench_child.h"

#include "gtest/gtest.h"

namespace faultline::agent {
namespace {

v1::BenchmarkInvocation SmallFaultAnon() {
  v1::BenchmarkInvocation invocation;
  invocation.set_benchmark("fault_anon");
  (*invocation.mutable_params())["region_mib"].set_int_value(4);
  (*invocation.mutable_params())["passes"].set_int_value(1);
  invocation.set_repetitions(2);
  invocation.set_warmup(0);
  return invocation;
}

TEST(RunInvocationTest, RunsFaultAnon) {
  v1::RunResult result = RunInvocation(SmallFaultAnon());
  ASSERT_EQ(result.state(), v1::RUN_STATE_OK) << result.diagnostic();
  EXPECT_EQ(result.benchmark(), "fault_anon");
  ASSERT_EQ(result.repetitions_size(), 2);
  // Defaults are filled in next to the given values.
  EXPECT_EQ(result.params().at("region_mib").int_value(), 4);
  EXPECT_GT(result.params().size(), 2u);
  bool found = false;
  for (const v1::MetricValue& metric : result.repetitions(1).metrics()) {
    if (metric.name() != "ns_per_fault") continue;
    found = true;
    EXPECT_GT(metric.value(), 0);
    EXPECT_EQ(metric.unit(), "ns");
  }
  EXPECT_TRUE(found);
}

TEST(RunInvocationTest, TheInvocationSetsTracingAndProfilingRepetitions) {
  // Unset: one of each, whatever this host can give (a profile or the reason there is none).
  v1::RunResult result = RunInvocation(SmallFaultAnon());
  ASSERT_EQ(result.state(), v1::RUN_STATE_OK) << result.diagnostic();
  ASSERT_TRUE(result.has_profile());
  EXPECT_TRUE(result.profile().repetitions() == 1 || !result.profile().unavailable_reason().empty())
      << result.profile().DebugString();
  // 0 turns both off: no tracing repetition, no profile, and no reason either.
  v1::BenchmarkInvocation off = SmallFaultAnon();
  off.set_trace_repetitions(0);
  off.set_profile_repetitions(0);
  result = RunInvocation(off);
  ASSERT_EQ(result.state(), v1::RUN_STATE_OK) << result.diagnostic();
  EXPECT_EQ(result.tracing_repetitions_size(), 0);
  EXPECT_FALSE(result.has_profile());
}

TEST(RunInvocationTest, UnknownBenchmarkFails) {
  v1::BenchmarkInvocation invocation;
  invocation.set_benchmark("no_such_benchmark");
  v1::RunResult result = RunInvocation(invocation);
  EXPECT_EQ(result.state(), v1::RUN_STATE_FAILED);
  EXPECT_EQ(result.diagnostic(), "benchmark: unknown benchmark \"no_such_benchmark\"");
}

TEST(RunInvocationTest, WrongParamTypeFailsNamingIt) {
  v1::BenchmarkInvocation invocation = SmallFaultAnon();
  (*invocation.mutable_params())["region_mib"].set_enum_value("big");
  v1::RunResult result = RunInvocation(invocation);
  EXPECT_EQ(result.state(), v1::RUN_STATE_FAILED);
  EXPECT_NE(result.diagnostic().find("region_mib"), std::string::npos) << result.diagnostic();
  EXPECT_EQ(result.repetitions_size(), 0);
}

TEST(RunInvocationTest, OutOfBoundsParamFailsNamingIt) {
  v1::BenchmarkInvocation invocation = SmallFaultAnon();
  (*invocation.mutable_params())["region_mib"].set_int_value(0);
  v1::RunResult result = RunInvocation(invocation);
  EXPECT_EQ(result.state(), v1::RUN_STATE_FAILED);
  EXPECT_NE(result.diagnostic().find("region_mib"), std::string::npos) << result.diagnostic();
}

TEST(RunInvocationTest, TimeoutIsTheBenchmarksTimeLimit) {
  v1::BenchmarkInvocation invocation;
  invocation.set_benchmark("mmap_writer_contention");
  (*invocation.mutable_params())["region_mib"].set_int_value(1);
  (*invocation.mutable_params())["duration_ms"].set_int_value(600000);
  invocation.set_repetitions(3);
  invocation.set_timeout_seconds(1);
  v1::RunResult result = RunInvocation(invocation);
  EXPECT_EQ(result.state(), v1::RUN_STATE_TIMED_OUT) << result.diagnostic();
  EXPECT_EQ(result.diagnostic().rfind("timeout: ", 0), 0u) << result.diagnostic();
}

TEST(RunInvocationTest, OversizedRunIsRefusedNamingTheParam) {
  v1::BenchmarkInvocation invocation;
  invocation.set_benchmark("fork_mapped");
  (*invocation.mutable_params())["touched_mib"].set_int_value(65536);
  invocation.set_repetitions(1);
  v1::RunResult result = RunInvocation(invocation);
  if (result.state() == v1::RUN_STATE_OK) GTEST_SKIP() << "this host has over 128 GiB available";
  EXPECT_EQ(result.state(), v1::RUN_STATE_REFUSED) << result.diagnostic();
  EXPECT_NE(result.diagnostic().find("touched_mib (65536 MiB"), std::string::npos)
      << result.diagnostic();
}

}  // namespace
}  // namespace faultline::agent
