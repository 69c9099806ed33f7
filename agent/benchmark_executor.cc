#include "agent/benchmark_executor.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "agent/child_process.h"

namespace faultline::agent {
namespace {

// The API's upper bound for BenchmarkInvocation.timeout_seconds.
constexpr int64_t kMaxTimeoutSeconds = 86400;

google::protobuf::Timestamp ToTimestamp(absl::Time t) {
  google::protobuf::Timestamp ts;
  const int64_t nanos = absl::ToUnixNanos(t);
  ts.set_seconds(nanos / 1000000000);
  ts.set_nanos(static_cast<int32_t>(nanos % 1000000000));
  return ts;
}

std::string WithStderr(std::string message, const std::string& stderr_tail) {
  absl::string_view tail = absl::StripAsciiWhitespace(stderr_tail);
  if (!tail.empty()) absl::StrAppend(&message, "; stderr tail: ", tail);
  return message;
}

}  // namespace

absl::Duration DefaultKillGrace(absl::Duration timeout) {
  return std::clamp(timeout / 10, absl::Seconds(5), absl::Seconds(60));
}

Execution BenchmarkExecutor::Run(const v1::BenchmarkInvocation& invocation,
                                 const std::atomic<bool>* cancel) const {
  v1::BenchmarkInvocation request = invocation;
  if (request.repetitions() == 0) request.set_repetitions(options_.default_repetitions);
  // Whole seconds within the API's range: the child reads this as its time limit.
  const int64_t timeout_seconds = std::clamp<int64_t>(
      request.timeout_seconds() > 0 ? request.timeout_seconds()
                                    : absl::ToInt64Seconds(options_.default_timeout),
      1, kMaxTimeoutSeconds);
  request.set_timeout_seconds(static_cast<uint32_t>(timeout_seconds));
  const absl::Duration timeout = absl::Seconds(timeout_seconds);
  const absl::Duration grace =
      options_.kill_grace > absl::ZeroDuration() ? options_.kill_grace : DefaultKillGrace(timeout);

  ChildOptions child;
  child.argv = options_.child_argv;
  request.SerializeToString(&child.stdin_data);
  child.timeout = timeout + grace;
  child.cancel = cancel;
  child.disable_aslr = !options_.bench_aslr;

  Execution execution;
  v1::RunResult& result = execution.result;
  const absl::Time started = absl::Now();
  absl::StatusOr<ChildResult> ran = RunChild(child);
  const absl::Time finished = absl::Now();

  // What a result looks like when the child could not provide one.
  auto fallback = [&](v1::RunState state, std::string diagnostic) {
    result.Clear();
    result.set_benchmark(request.benchmark());
    *result.mutable_params() = request.params();
    result.set_state(state);
    result.set_diagnostic(std::move(diagnostic));
  };

  if (!ran.ok()) {
    fallback(v1::RUN_STATE_FAILED,
             absl::StrCat("could not start the benchmark child: ", ran.status().ToString()));
  } else {
    switch (ran->ending) {
      case ChildResult::Ending::kCancelled:
        execution.abandoned = true;
        fallback(v1::RUN_STATE_FAILED, "abandoned: the run was cancelled");
        break;
      case ChildResult::Ending::kTimedOut:
        fallback(v1::RUN_STATE_TIMED_OUT,
                 WithStderr(absl::StrCat("timeout: still running ", absl::FormatDuration(grace),
                                         " past its ", absl::FormatDuration(timeout),
                                         " time limit; killed with its process group"),
                            ran->stderr_tail));
        break;
      case ChildResult::Ending::kSignaled:
        fallback(v1::RUN_STATE_CRASHED,
                 WithStderr(absl::StrCat("benchmark process killed by ", SignalName(ran->signal)),
                            ran->stderr_tail));
        break;
      case ChildResult::Ending::kExited:
        if (ran->exit_code != 0) {
          fallback(v1::RUN_STATE_FAILED,
                   WithStderr(absl::StrCat("benchmark process exited with code ", ran->exit_code),
                              ran->stderr_tail));
        } else if (ran->stdout_truncated || !result.ParseFromString(ran->stdout_data) ||
                   result.state() == v1::RUN_STATE_UNSPECIFIED) {
          fallback(v1::RUN_STATE_FAILED,
                   WithStderr(absl::StrCat("benchmark process wrote an unreadable result (",
                                           ran->stdout_data.size(), " bytes",
                                           ran->stdout_truncated ? ", truncated" : "", ")"),
                              ran->stderr_tail));
        }
        break;
    }
  }
  *result.mutable_host() = options_.host;
  *result.mutable_started() = ToTimestamp(started);
  *result.mutable_finished() = ToTimestamp(finished);
  return execution;
}

}  // namespace faultline::agent
