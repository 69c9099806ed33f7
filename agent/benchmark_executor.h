// Runs one job's benchmark invocation in a benchmark child process and turns whatever happened
// to it (a result, a crash, a timeout, garbage on stdout) into a RunResult. The agent survives
// every one of those.
#ifndef FAULTLINE_AGENT_BENCHMARK_EXECUTOR_H_
#define FAULTLINE_AGENT_BENCHMARK_EXECUTOR_H_

#include <atomic>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "proto/faultline/v1/benchmark.pb.h"
#include "proto/faultline/v1/host.pb.h"

namespace faultline::agent {

struct ExecutorOptions {
  // Command that speaks the bench_child protocol (see bench_child.h).
  std::vector<std::string> child_argv = {"/proc/self/exe", "--bench_child"};
  // Stamped on every result.
  v1::HostFingerprint host;
  // For invocations with timeout_seconds = 0 (the API's documented default). The timeout is
  // passed to the benchmark as its own time limit.
  absl::Duration default_timeout = absl::Seconds(600);
  // A child still running this long after its timeout is killed with its whole process group
  // (whatever it does with signals). Zero picks DefaultKillGrace(timeout).
  absl::Duration kill_grace = absl::ZeroDuration();
  // For invocations with repetitions = 0; the controller normally fills the campaign default.
  uint32_t default_repetitions = 5;
  // Benchmark children run with address-space randomisation off (see ChildOptions) unless this
  // is set (the agent's --bench_aslr).
  bool bench_aslr = false;
};

struct Execution {
  v1::RunResult result;
  // The run was cancelled through `cancel`; the result must not be reported.
  bool abandoned = false;
};

// A tenth of the timeout, at least 5 s (a benchmark winds down its workers, reaps them and
// writes its result after the time limit) and at most 60 s.
absl::Duration DefaultKillGrace(absl::Duration timeout);

class BenchmarkExecutor {
 public:
  explicit BenchmarkExecutor(ExecutorOptions options) : options_(std::move(options)) {}

  // Blocks until the child ends: at most the timeout plus the kill grace. Setting *cancel kills
  // the child's process group.
  Execution Run(const v1::BenchmarkInvocation& invocation,
                const std::atomic<bool>* cancel = nullptr) const;

  const ExecutorOptions& options() const { return options_; }

 private:
  ExecutorOptions options_;
};

}  // namespace faultline::agent

#endif  // FAULTLINE_AGENT_BENCHMARK_EXECUTOR_H_
