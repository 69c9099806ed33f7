#include "agent/benchmark_executor.h"

#include <sys/wait.h>

#include <atomic>
#include <thread>

#include "agent/test_paths.h"
#include "gtest/gtest.h"

namespace faultline::agent {
namespace {

v1::BenchmarkInvocation SmallFaultAnon() {
  v1::BenchmarkInvocation invocation;
  invocation.set_benchmark("fault_anon");
  (*invocation.mutable_params())["region_mib"].set_int_value(4);
  invocation.set_repetitions(2);
  invocation.set_warmup(1);
  invocation.set_timeout_seconds(60);
  return invocation;
}

ExecutorOptions WithChild(std::vector<std::string> argv) {
  ExecutorOptions options;
  options.child_argv = std::move(argv);
  options.host.set_hostname("test-host");
  options.host.set_kernel_label("stock");
  return options;
}

ExecutorOptions Shell(const std::string& script) {
  return WithChild({"/bin/sh", "-c", script});
}

TEST(BenchmarkExecutorTest, RunsFaultAnonInAgentChild) {
  BenchmarkExecutor executor(WithChild({AgentBinaryPath(), "--bench_child"}));
  Execution execution = executor.Run(SmallFaultAnon());
  const v1::RunResult& result = execution.result;
  EXPECT_FALSE(execution.abandoned);
  ASSERT_EQ(result.state(), v1::RUN_STATE_OK) << result.diagnostic();
  EXPECT_EQ(result.benchmark(), "fault_anon");
  EXPECT_EQ(result.repetitions_size(), 2);
  EXPECT_EQ(result.warmup(), 1u);
  EXPECT_EQ(result.host().hostname(), "test-host");
  EXPECT_GT(result.started().seconds(), 0);
  EXPECT_GE(result.finished().seconds(), result.started().seconds());
}

TEST(BenchmarkExecutorTest, BadParamsComeBackAsFailed) {
  BenchmarkExecutor executor(WithChild({AgentBinaryPath(), "--bench_child"}));
  v1::BenchmarkInvocation invocation = SmallFaultAnon();
  (*invocation.mutable_params())["nonsense"].set_int_value(1);
  Execution execution = executor.Run(invocation);
  EXPECT_EQ(execution.result.state(), v1::RUN_STATE_FAILED);
  EXPECT_NE(execution.result.diagnostic().find("params.nonsense"), std::string::npos)
      << execution.result.diagnostic();
}

TEST(BenchmarkExecutorTest, CrashIsCrashedWithSignalAndStderr) {
  BenchmarkExecutor executor(Shell("cat >/dev/null; echo 'about to fault' >&2; kill -SEGV $$"));
  Execution execution = executor.Run(SmallFaultAnon());
  const v1::RunResult& result = execution.result;
  EXPECT_EQ(result.state(), v1::RUN_STATE_CRASHED);
  EXPECT_NE(result.diagnostic().find("SIGSEGV"), std::string::npos) << result.diagnostic();
  EXPECT_NE(result.diagnostic().find("about to fault"), std::string::npos) << result.diagnostic();
  EXPECT_EQ(result.benchmark(), "fault_anon");
  EXPECT_EQ(result.params().at("region_mib").int_value(), 4);
  EXPECT_EQ(result.host().hostname(), "test-host");
}

TEST(BenchmarkExecutorTest, TimeoutIsTimedOut) {
  BenchmarkExecutor executor(Shell("sleep 30"));
  v1::BenchmarkInvocation invocation = SmallFaultAnon();
  invocation.set_timeout_seconds(1);
  Execution execution = executor.Run(invocation);
  EXPECT_EQ(execution.result.state(), v1::RUN_STATE_TIMED_OUT);
  EXPECT_NE(execution.result.diagnostic().find("timeout"), std::string::npos);
}

TEST(BenchmarkExecutorTest, GarbageOutputIsFailed) {
  BenchmarkExecutor executor(Shell("cat >/dev/null; echo garbage"));
  Execution execution = executor.Run(SmallFaultAnon());
  EXPECT_EQ(execution.result.state(), v1::RUN_STATE_FAILED);
  EXPECT_NE(execution.result.diagnostic().find("unreadable result"), std::string::npos)
      << execution.result.diagnostic();
}

TEST(BenchmarkExecutorTest, EmptyOutputIsFailed) {
  BenchmarkExecutor executor(Shell("cat >/dev/null"));
  Execution execution = executor.Run(SmallFaultAnon());
  EXPECT_EQ(execution.result.state(), v1::RUN_STATE_FAILED);
}

TEST(BenchmarkExecutorTest, NonZeroExitIsFailed) {
  BenchmarkExecutor executor(Shell("echo 'bad things' >&2; exit 4"));
  Execution execution = executor.Run(SmallFaultAnon());
  EXPECT_EQ(execution.result.state(), v1::RUN_STATE_FAILED);
  EXPECT_NE(execution.result.diagnostic().find("code 4"), std::string::npos);
  EXPECT_NE(execution.result.diagnostic().find("bad things"), std::string::npos);
}

TEST(BenchmarkExecutorTest, CancelAbandons) {
  BenchmarkExecutor executor(Shell("sleep 30"));
  std::atomic<bool> cancel{false};
  std::thread canceller([&] {
    usleep(200000);
    cancel.store(true);
  });
  Execution execution = executor.Run(SmallFaultAnon(), &cancel);
  canceller.join();
  EXPECT_TRUE(execution.abandoned);
  errno = 0;
  EXPECT_EQ(waitpid(-1, nullptr, WNOHANG), -1);
}

}  // namespace
}  // namespace faultline::agent
