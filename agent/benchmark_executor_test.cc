#include "agent/benchmark_executor.h"

#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "agent/host_probe_for_tests.h"
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
  ExecutorOptions options = Shell("sleep 30");
  options.kill_grace = absl::Milliseconds(200);
  BenchmarkExecutor executor(options);
  v1::BenchmarkInvocation invocation = SmallFaultAnon();
  invocation.set_timeout_seconds(1);
  Execution execution = executor.Run(invocation);
  EXPECT_EQ(execution.result.state(), v1::RUN_STATE_TIMED_OUT);
  EXPECT_NE(execution.result.diagnostic().find("timeout"), std::string::npos);
}

TEST(BenchmarkExecutorTest, KillGraceIsATenthOfTheTimeoutWithinBounds) {
  EXPECT_EQ(DefaultKillGrace(absl::Seconds(1)), absl::Seconds(5));
  EXPECT_EQ(DefaultKillGrace(absl::Seconds(300)), absl::Seconds(30));
  EXPECT_EQ(DefaultKillGrace(absl::Hours(24)), absl::Seconds(60));
}

// The child reads the effective timeout as the benchmark's time limit.
TEST(BenchmarkExecutorTest, ChildIsToldTheTimeout) {
  const std::string request = TestTempDir() + "/told_request";
  ExecutorOptions options = Shell("cat > '" + request + "'; exit 3");
  options.default_timeout = absl::Seconds(42);
  BenchmarkExecutor executor(options);
  v1::BenchmarkInvocation invocation = SmallFaultAnon();
  invocation.set_timeout_seconds(0);
  executor.Run(invocation);
  std::ifstream in(request, std::ios::binary);
  const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  v1::BenchmarkInvocation told;
  ASSERT_TRUE(told.ParseFromString(data));
  EXPECT_EQ(told.timeout_seconds(), 42u);
}

// Benchmark children start with address-space randomisation off unless the agent asks for it.
TEST(BenchmarkExecutorTest, ChildrenRunWithoutAslrByDefault) {
  for (const bool aslr : {false, true}) {
    const std::string file = TestTempDir() + "/personality_" + (aslr ? "on" : "off");
    ExecutorOptions options = Shell("cat /proc/self/personality > '" + file + "'; exit 3");
    options.bench_aslr = aslr;
    BenchmarkExecutor(options).Run(SmallFaultAnon());
    std::ifstream in(file);
    unsigned long personality = 0;
    ASSERT_TRUE(in >> std::hex >> personality) << file;
    // ADDR_NO_RANDOMIZE, from <sys/personality.h>.
    EXPECT_EQ((personality & 0x0040000) != 0, !aslr) << std::hex << personality;
  }
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

// A real run whose memory need exceeds what this host has available right now is refused by
// the benchmark child before it maps anything: a diagnostic naming the parameter, no OOM kill.
TEST(BenchmarkExecutorTest, RunBeyondMemAvailableIsRefusedNotOomKilled) {
  const int64_t available_mib = MemAvailableMib();
  ASSERT_GT(available_mib, 0);
  const int64_t region_mib = std::min<int64_t>(available_mib, 65536);
  const int64_t threads = available_mib / region_mib + 1;
  if (threads > 4 * sysconf(_SC_NPROCESSORS_ONLN)) GTEST_SKIP() << "too much memory to exceed";
  v1::BenchmarkInvocation invocation = SmallFaultAnon();
  (*invocation.mutable_params())["region_mib"].set_int_value(region_mib);
  (*invocation.mutable_params())["threads"].set_int_value(threads);
  const int64_t oom_kills_before = OomKills();
  BenchmarkExecutor executor(WithChild({AgentBinaryPath(), "--bench_child"}));
  Execution execution = executor.Run(invocation);
  const v1::RunResult& result = execution.result;
  EXPECT_EQ(result.state(), v1::RUN_STATE_REFUSED) << result.diagnostic();
  const std::string named =
      absl::StrCat("region_mib x threads (", region_mib, " MiB x ", threads, ")");
  EXPECT_NE(result.diagnostic().find(named), std::string::npos) << result.diagnostic();
  EXPECT_NE(result.diagnostic().find("of MemAvailable"), std::string::npos)
      << result.diagnostic();
  EXPECT_EQ(result.repetitions_size(), 0);
  EXPECT_EQ(OomKills(), oom_kills_before);
}

// A real benchmark with worker processes and a one-second timeout stops itself at the limit
// and reports it; nothing it started outlives the run.
TEST(BenchmarkExecutorTest, TinyTimeoutEndsTheRunWithinTheBoundLeavingNoProcesses) {
  BecomeSubreaper();
  v1::BenchmarkInvocation invocation;
  invocation.set_benchmark("fault_anon");
  (*invocation.mutable_params())["region_mib"].set_int_value(16);
  (*invocation.mutable_params())["passes"].set_int_value(10000);
  (*invocation.mutable_params())["threads"].set_int_value(2);
  (*invocation.mutable_params())["mode"].set_enum_value("process");
  invocation.set_repetitions(5);
  invocation.set_timeout_seconds(1);
  BenchmarkExecutor executor(WithChild({AgentBinaryPath(), "--bench_child"}));
  const absl::Time start = absl::Now();
  Execution execution = executor.Run(invocation);
  const absl::Duration took = absl::Now() - start;
  const v1::RunResult& result = execution.result;
  EXPECT_EQ(result.state(), v1::RUN_STATE_TIMED_OUT) << result.diagnostic();
  EXPECT_EQ(result.diagnostic().rfind("timeout: the time limit of 1 s", 0), 0u)
      << result.diagnostic();
  // Generous: the limit plus the default kill grace (5 s) plus slack for a loaded machine.
  EXPECT_LT(took, absl::Seconds(30));
  EXPECT_EQ(WaitForNoChildren(5000), std::vector<int>());
}

// A benchmark child that hangs (stopped mid-run, under a wrapper that ignores SIGTERM) is killed
// with its whole process group once it overruns its time limit by the grace period: no process
// and no scratch file is left.
TEST(BenchmarkExecutorTest, HungChildIsKilledLeavingNoProcessesOrScratchFiles) {
  BecomeSubreaper();
  const std::string scratch = TestTempDir() + "/hung_scratch";
  mkdir(scratch.c_str(), 0700);
  setenv("FAULTLINE_BENCH_DIR", scratch.c_str(), 1);
  const std::string request = TestTempDir() + "/hung_request";
  ExecutorOptions options = Shell(
      "trap '' TERM; cat > '" + request + "'; '" + AgentBinaryPath() +
      "' --bench_child < '" + request + "' > /dev/null & child=$!; sleep 0.5; kill -STOP $child;"
      " sleep 300");
  options.kill_grace = absl::Seconds(1);
  BenchmarkExecutor executor(options);
  v1::BenchmarkInvocation invocation;
  invocation.set_benchmark("fault_file_shared");
  (*invocation.mutable_params())["region_mib"].set_int_value(8);
  (*invocation.mutable_params())["passes"].set_int_value(10000);
  (*invocation.mutable_params())["threads"].set_int_value(2);
  (*invocation.mutable_params())["mode"].set_enum_value("process");
  invocation.set_repetitions(5);
  invocation.set_timeout_seconds(2);
  const absl::Time start = absl::Now();
  Execution execution = executor.Run(invocation);
  const absl::Duration took = absl::Now() - start;
  unsetenv("FAULTLINE_BENCH_DIR");
  EXPECT_EQ(execution.result.state(), v1::RUN_STATE_TIMED_OUT) << execution.result.diagnostic();
  EXPECT_NE(execution.result.diagnostic().find("killed with its process group"), std::string::npos)
      << execution.result.diagnostic();
  EXPECT_GE(took, absl::Seconds(3));
  EXPECT_LT(took, absl::Seconds(30));
  EXPECT_EQ(WaitForNoChildren(5000), std::vector<int>());
  std::vector<std::string> left;
  if (DIR* dir = opendir(scratch.c_str())) {
    while (dirent* entry = readdir(dir)) {
      if (entry->d_name[0] != '.') left.push_back(entry->d_name);
    }
    closedir(dir);
  }
  EXPECT_EQ(left, std::vector<std::string>());
}

}  // namespace
}  // namespace faultline::agent
