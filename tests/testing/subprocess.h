// Real processes for end-to-end tests: start a binary in the background with its output in a
// log file, stop it with a signal, or run a command to completion and capture its output.
#ifndef FAULTLINE_TESTS_TESTING_SUBPROCESS_H_
#define FAULTLINE_TESTS_TESTING_SUBPROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace faultline::testing {

// A background process, killed (SIGKILL) when destroyed if still running.
class Subprocess {
 public:
  Subprocess() = default;
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  // Starts argv[0] (a path) with stdout and stderr appended to `log_path`.
  absl::Status Start(const std::vector<std::string>& argv, const std::string& log_path);
  // Sends `signo` and waits up to `timeout` for exit; then SIGKILLs. Returns the wait status.
  int Stop(int signo, absl::Duration timeout = absl::Seconds(10));
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return log_path_; }

 private:
  pid_t pid_ = -1;
  std::string log_path_;
};

struct CommandResult {
  int exit_code = -1;  // -1 when killed by a signal or timed out.
  std::string output;  // stdout only.
  std::string errors;  // stderr only.
};

// Runs argv to completion (SIGKILL after `timeout`), capturing stdout and stderr.
CommandResult RunCommand(const std::vector<std::string>& argv,
                         absl::Duration timeout = absl::Seconds(120));

// Path of a binary built by Bazel and listed in the test's data, e.g.
// "controller/faultline-controller".
std::string RunfilePath(const std::string& workspace_relative);

// Waits until `path` exists and holds a line, then returns its contents (trimmed).
absl::StatusOr<std::string> WaitForFile(const std::string& path, absl::Duration timeout);

// A fresh directory under the test's temporary directory.
std::string MakeTempDir(const std::string& name);

// The whole contents of a file, or "" when unreadable.
std::string ReadFileOrEmpty(const std::string& path);

}  // namespace faultline::testing

#endif  // FAULTLINE_TESTS_TESTING_SUBPROCESS_H_
