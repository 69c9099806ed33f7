#include "agent/child_process.h"

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"

namespace faultline::agent {
namespace {

ChildOptions Shell(const std::string& script) {
  ChildOptions options;
  options.argv = {"/bin/sh", "-c", script};
  options.timeout = absl::Seconds(20);
  return options;
}

// No child of this process is left unreaped.
void ExpectNoChildren() {
  errno = 0;
  EXPECT_EQ(waitpid(-1, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

TEST(RunChildTest, ExitCodeAndOutputs) {
  absl::StatusOr<ChildResult> result = RunChild(Shell("echo out; echo err >&2; exit 3"));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->ending, ChildResult::Ending::kExited);
  EXPECT_EQ(result->exit_code, 3);
  EXPECT_EQ(result->stdout_data, "out\n");
  EXPECT_EQ(result->stderr_tail, "err\n");
  ExpectNoChildren();
}

TEST(RunChildTest, StdinIsDelivered) {
  ChildOptions options;
  options.argv = {"/bin/cat"};
  options.stdin_data = std::string(1 << 20, 'x') + "end";
  options.timeout = absl::Seconds(20);
  absl::StatusOr<ChildResult> result = RunChild(options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->ending, ChildResult::Ending::kExited);
  EXPECT_EQ(result->stdout_data, options.stdin_data);
}

TEST(RunChildTest, ChildIgnoringStdinDoesNotHurtParent) {
  ChildOptions options = Shell("exit 0");
  options.stdin_data = std::string(8 << 20, 'x');
  absl::StatusOr<ChildResult> result = RunChild(options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->ending, ChildResult::Ending::kExited);
  EXPECT_EQ(result->exit_code, 0);
}

TEST(RunChildTest, CrashIsReportedWithSignal) {
  absl::StatusOr<ChildResult> result = RunChild(Shell("echo dying >&2; kill -SEGV $$"));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->ending, ChildResult::Ending::kSignaled);
  EXPECT_EQ(result->signal, SIGSEGV);
  EXPECT_EQ(SignalName(result->signal), "SIGSEGV");
  EXPECT_EQ(result->stderr_tail, "dying\n");
  ExpectNoChildren();
}

TEST(RunChildTest, TimeoutKillsWholeGroup) {
  // The grandchild would outlive its parent if only the direct child were killed.
  ChildOptions options = Shell("sleep 30 & echo $!; wait");
  options.timeout = absl::Milliseconds(300);
  absl::StatusOr<ChildResult> result = RunChild(options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->ending, ChildResult::Ending::kTimedOut);
  EXPECT_LT(result->wall_time, absl::Seconds(10));
  int grandchild = 0;
  ASSERT_TRUE(absl::SimpleAtoi(absl::StripAsciiWhitespace(result->stdout_data), &grandchild))
      << result->stdout_data;
  // The grandchild was reparented and killed; give init a moment to reap it.
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    gone = kill(grandchild, 0) != 0;
    if (!gone) usleep(20000);
  }
  EXPECT_TRUE(gone) << "grandchild " << grandchild << " survived";
  ExpectNoChildren();
}

TEST(RunChildTest, DescendantsAreKilledAfterNormalExit) {
  absl::StatusOr<ChildResult> result = RunChild(Shell("sleep 30 >/dev/null 2>&1 & echo $!"));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->ending, ChildResult::Ending::kExited);
  int grandchild = 0;
  ASSERT_TRUE(absl::SimpleAtoi(absl::StripAsciiWhitespace(result->stdout_data), &grandchild));
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    gone = kill(grandchild, 0) != 0;
    if (!gone) usleep(20000);
  }
  EXPECT_TRUE(gone);
}

TEST(RunChildTest, BigStdoutIsBounded) {
  ChildOptions options = Shell("head -c 3000000 /dev/zero");
  options.max_stdout_bytes = 1000000;
  absl::StatusOr<ChildResult> result = RunChild(options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->ending, ChildResult::Ending::kExited);
  EXPECT_EQ(result->exit_code, 0);
  EXPECT_EQ(result->stdout_data.size(), 1000000u);
  EXPECT_TRUE(result->stdout_truncated);
}

TEST(RunChildTest, BigStdoutIsCapturedWhole) {
  absl::StatusOr<ChildResult> result = RunChild(Shell("head -c 5000000 /dev/zero"));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->stdout_data.size(), 5000000u);
  EXPECT_FALSE(result->stdout_truncated);
}

TEST(RunChildTest, StderrKeepsTail) {
  ChildOptions options = Shell("i=0; while [ $i -lt 2000 ]; do echo line$i >&2; i=$((i+1)); done");
  options.max_stderr_tail_bytes = 100;
  absl::StatusOr<ChildResult> result = RunChild(options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->stderr_tail.size(), 100u);
  EXPECT_NE(result->stderr_tail.find("line1999\n"), std::string::npos);
}

TEST(RunChildTest, CancelKillsChild) {
  std::atomic<bool> cancel{false};
  ChildOptions options = Shell("sleep 30");
  options.cancel = &cancel;
  std::thread canceller([&] {
    usleep(200000);
    cancel.store(true);
  });
  absl::StatusOr<ChildResult> result = RunChild(options);
  canceller.join();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->ending, ChildResult::Ending::kCancelled);
  EXPECT_LT(result->wall_time, absl::Seconds(10));
  ExpectNoChildren();
}

TEST(RunChildTest, ExecFailureIsExit127) {
  ChildOptions options;
  options.argv = {"/nonexistent/program"};
  absl::StatusOr<ChildResult> result = RunChild(options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->ending, ChildResult::Ending::kExited);
  EXPECT_EQ(result->exit_code, 127);
  EXPECT_NE(result->stderr_tail.find("exec failed"), std::string::npos);
}

TEST(RunChildTest, EmptyArgvIsAnError) {
  EXPECT_EQ(RunChild(ChildOptions{}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(SignalNameTest, KnownAndUnknown) {
  EXPECT_EQ(SignalName(SIGKILL), "SIGKILL");
  EXPECT_EQ(SignalName(SIGBUS), "SIGBUS");
  EXPECT_EQ(SignalName(1000), "signal 1000");
}

}  // namespace
}  // namespace faultline::agent
