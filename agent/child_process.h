// Runs a command as a child in its own process group, feeds it stdin, captures its output with
// bounded memory, and kills the whole group on timeout or cancellation. Safe to call from a
// multithreaded process: between fork and exec the child only makes async-signal-safe calls.
#ifndef FAULTLINE_AGENT_CHILD_PROCESS_H_
#define FAULTLINE_AGENT_CHILD_PROCESS_H_

#include <atomic>
#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace faultline::agent {

struct ChildOptions {
  // argv[0] is the program path (no PATH lookup).
  std::vector<std::string> argv;
  std::string stdin_data;
  // stdout beyond this is discarded and `stdout_truncated` set.
  size_t max_stdout_bytes = size_t{256} << 20;
  // Only the last this-many bytes of stderr are kept.
  size_t max_stderr_tail_bytes = 16 << 10;
  absl::Duration timeout = absl::Minutes(10);
  // When it becomes true the child's group is killed and the run ends as kCancelled. Polled every
  // `cancel_poll_interval`.
  const std::atomic<bool>* cancel = nullptr;
  absl::Duration cancel_poll_interval = absl::Milliseconds(50);
  // Execs the child with personality(ADDR_NO_RANDOMIZE): its stack, heap and mmap base are the
  // same from run to run, so cache and TLB set conflicts do not change with each start.
  bool disable_aslr = false;
};

struct ChildResult {
  enum class Ending { kExited, kSignaled, kTimedOut, kCancelled };
  Ending ending = Ending::kExited;
  // For kExited.
  int exit_code = 0;
  // For kSignaled.
  int signal = 0;
  std::string stdout_data;
  bool stdout_truncated = false;
  std::string stderr_tail;
  absl::Duration wall_time;
};

// Runs the child to completion. Errors are only for failures to start it (pipe, fork); an exec
// failure is reported as exit code 127 with the reason in stderr. The child's whole process group
// is SIGKILLed once the child has ended, so no descendant outlives the run, and the child is
// always reaped.
absl::StatusOr<ChildResult> RunChild(const ChildOptions& options);

// "SIGSEGV" for 11, "signal 77" for unknown numbers.
std::string SignalName(int signo);

}  // namespace faultline::agent

#endif  // FAULTLINE_AGENT_CHILD_PROCESS_H_
