#include "agent/bench/workers.h"

#include <dirent.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <set>

#include "agent/bench/cycle_clock.h"
#include "gtest/gtest.h"
#include "agent/bench/emulation_for_tests.h"

namespace faultline::agent::bench {
namespace {

class WorkersTest : public ::testing::TestWithParam<WorkerMode> {};

TEST_P(WorkersTest, EveryWorkerRunsAndReports) {
  WorkerOptions options;
  options.mode = GetParam();
  options.workers = 3;
  absl::StatusOr<WorkerGroupResult> result =
      RunWorkers(options, [](int index, StartGate& gate, WorkerReport& report) {
        Histogram h;
        if (!gate.ArriveAndWait()) return;
        for (int i = 0; i <= index; ++i) h.Record(100 * (index + 1));
        report.ops = index + 1;
        report.extra[0] = getpid();
        report.latency.CopyFrom(h);
      });
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->reports.size(), 3u);
  std::set<double> pids;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(result->reports[i].ops, static_cast<uint64_t>(i + 1));
    Histogram h = result->reports[i].latency.ToHistogram();
    EXPECT_EQ(h.total_count(), static_cast<uint64_t>(i + 1));
    EXPECT_EQ(h.max(), static_cast<uint64_t>(100 * (i + 1)));
    pids.insert(result->reports[i].extra[0]);
  }
  // Thread workers share the process; process workers each have their own.
  EXPECT_EQ(pids.size(), GetParam() == WorkerMode::kThread ? 1u : 3u);
  EXPECT_GE(result->wall_ns, 0);
}

// On-CPU time counts what the worker computed after its release, never the time it slept (or,
// on a busy host, waited for a CPU), nor a worker that was never released.
TEST_P(WorkersTest, CpuTimeLeavesOutTimeOffCpu) {
  WorkerOptions options;
  options.mode = GetParam();
  options.workers = 2;
  absl::StatusOr<WorkerGroupResult> result =
      RunWorkers(options, [](int index, StartGate& gate, WorkerReport& report) {
        if (index == 1) return;  // leaves without reaching the start line
        if (!gate.ArriveAndWait()) return;
        const int64_t start = MonotonicNowNs();
        usleep(200 * 1000);
        report.busy_ns = MonotonicNowNs() - start;
        report.ops = 1;
      });
  ASSERT_TRUE(result.ok()) << result.status();
  const WorkerReport& slept = result->reports[0];
  EXPECT_GE(slept.busy_ns, 200 * 1000 * 1000);
  EXPECT_GE(slept.cpu_ns, 0);
  EXPECT_LT(slept.cpu_ns, slept.busy_ns / 4);
  EXPECT_EQ(result->reports[1].cpu_ns, -1);
}

TEST_P(WorkersTest, AWorkerErrorFailsTheGroup) {
  WorkerOptions options;
  options.mode = GetParam();
  options.workers = 2;
  absl::StatusOr<WorkerGroupResult> result =
      RunWorkers(options, [](int index, StartGate& gate, WorkerReport& report) {
        if (index == 1) {
          report.SetError("mmap", ENOMEM);
          return;
        }
        gate.ArriveAndWait();
      });
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("worker 1: mmap"), std::string::npos)
      << result.status();
}

TEST_P(WorkersTest, OpenEndedWorkersStopWhenAsked) {
  WorkerOptions options;
  options.mode = GetParam();
  options.workers = 2;
  options.stop_after_ns = 20'000'000;
  absl::StatusOr<WorkerGroupResult> result =
      RunWorkers(options, [](int, StartGate& gate, WorkerReport& report) {
        if (!gate.ArriveAndWait()) return;
        for (uint64_t i = 0; i < 100'000'000'000ull && !gate.StopRequested(); ++i) ++report.ops;
      });
  ASSERT_TRUE(result.ok()) << result.status();
  for (const WorkerReport& r : result->reports) EXPECT_GT(r.ops, 0u);
}

TEST(WorkersProcessTest, ACrashedWorkerIsReported) {
  WorkerOptions options;
  options.mode = WorkerMode::kProcess;
  options.workers = 2;
  absl::StatusOr<WorkerGroupResult> result =
      RunWorkers(options, [](int index, StartGate& gate, WorkerReport&) {
        if (!gate.ArriveAndWait()) return;
        if (index == 0) raise(SIGKILL);
      });
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("signal 9"), std::string::npos) << result.status();
}

TEST(WorkersProcessTest, AHungWorkerIsKilledAtTheDeadline) {
  WorkerOptions options;
  options.mode = WorkerMode::kProcess;
  options.workers = 1;
  options.deadline_ns = MonotonicNowNs() + 100'000'000;
  absl::StatusOr<WorkerGroupResult> result =
      RunWorkers(options, [](int, StartGate& gate, WorkerReport&) {
        gate.ArriveAndWait();
        for (;;) pause();
      });
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("killed"), std::string::npos) << result.status();
}

int TaskCount() {
  int tasks = 0;
  if (DIR* dir = opendir("/proc/self/task")) {
    while (dirent* entry = readdir(dir)) tasks += entry->d_name[0] != '.';
    closedir(dir);
  }
  return tasks;
}

// With one thread worker the measured mm has exactly one thread: the worker is the caller.
TEST(WorkersThreadTest, ASingleWorkerRunsOnTheCallingThreadAlone) {
  // qemu-user runs threads of its own inside the emulated process.
  if (UnderQemuUser()) GTEST_SKIP() << "qemu-user adds threads of its own to the process";
  ASSERT_EQ(TaskCount(), 1) << "the test itself must start single-threaded";
  WorkerOptions options;
  options.workers = 1;
  const pid_t caller = static_cast<pid_t>(syscall(SYS_gettid));
  absl::StatusOr<WorkerGroupResult> result =
      RunWorkers(options, [](int, StartGate& gate, WorkerReport& report) {
        if (!gate.ArriveAndWait()) return;
        report.ops = static_cast<uint64_t>(TaskCount());
        report.extra[0] = static_cast<double>(syscall(SYS_gettid));
      });
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->reports[0].ops, 1u);
  EXPECT_EQ(result->reports[0].extra[0], caller);
}

// Nobody else is awake to raise the stop flag, so an open-ended single worker times itself.
TEST(WorkersThreadTest, ASingleOpenEndedWorkerStopsOnTime) {
  WorkerOptions options;
  options.workers = 1;
  options.stop_after_ns = 20'000'000;
  absl::StatusOr<WorkerGroupResult> result =
      RunWorkers(options, [](int, StartGate& gate, WorkerReport& report) {
        if (!gate.ArriveAndWait()) return;
        while (!gate.StopRequested()) ++report.ops;
      });
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_GT(result->reports[0].ops, 0u);
  EXPECT_GE(result->wall_ns, 20'000'000);
}

TEST(WorkersTest, RejectsABadWorkerCount) {
  WorkerOptions options;
  options.workers = 0;
  EXPECT_EQ(RunWorkers(options, [](int, StartGate&, WorkerReport&) {}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(Modes, WorkersTest,
                         ::testing::Values(WorkerMode::kThread, WorkerMode::kProcess),
                         [](const ::testing::TestParamInfo<WorkerMode>& info) {
                           return info.param == WorkerMode::kThread ? "Thread" : "Process";
                         });

}  // namespace
}  // namespace faultline::agent::bench
