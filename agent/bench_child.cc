#include "agent/bench_child.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "agent/bench/runner.h"
#include "agent/catalog_proto.h"
#include "agent/file_util.h"

namespace faultline::agent {
namespace {

v1::RunResult Failed(const v1::BenchmarkInvocation& invocation, const std::string& diagnostic) {
  v1::RunResult result;
  result.set_benchmark(invocation.benchmark());
  *result.mutable_params() = invocation.params();
  result.set_state(v1::RUN_STATE_FAILED);
  result.set_diagnostic(diagnostic);
  return result;
}

}  // namespace

v1::RunResult RunInvocation(const v1::BenchmarkInvocation& invocation) {
  // Looked up once; the controller resolved the parameters when it planned the job, and the
  // runner checks them once more itself, so only their protobuf types are checked here.
  const bench::BenchmarkInfo* info = bench::FindBenchmark(invocation.benchmark());
  if (info == nullptr) {
    return Failed(invocation,
                  absl::StrCat("benchmark: unknown benchmark \"", invocation.benchmark(), "\""));
  }
  absl::StatusOr<bench::Params> given = ParamsFromProto(*info, invocation.params());
  if (!given.ok()) return Failed(invocation, std::string(given.status().message()));
  bench::RunOptions options;
  options.repetitions = static_cast<int>(invocation.repetitions());
  options.warmup = static_cast<int>(invocation.warmup());
  if (invocation.has_trace_repetitions()) {
    options.trace_repetitions = static_cast<int>(invocation.trace_repetitions());
  }
  if (invocation.has_profile_repetitions()) {
    options.profile_repetitions = static_cast<int>(invocation.profile_repetitions());
  }
  // The job's timeout is the benchmark's own time limit: it stops between repetitions and
  // reports what it has; the parent kills it only if it overruns that by a grace period.
  if (invocation.timeout_seconds() > 0) options.time_limit_seconds = invocation.timeout_seconds();
  bench::RunOutput output = bench::RunBenchmark(*info, *given, options);
  v1::RunResult result = RunOutputToProto(*info, output.params, output);
  if (output.time_limit_reached) result.set_state(v1::RUN_STATE_TIMED_OUT);
  return result;
}

int BenchChildMain() {
  // The result owns stdout; whatever a benchmark prints goes to stderr, where the parent keeps
  // its tail for diagnostics.
  int result_fd = fcntl(1, F_DUPFD_CLOEXEC, 3);
  if (result_fd < 0 || dup2(2, 1) < 0) {
    std::perror("bench_child: redirecting stdout");
    return 2;
  }
  absl::StatusOr<std::string> request = ReadAll(0);
  if (!request.ok()) {
    std::fprintf(stderr, "bench_child: reading stdin: %s\n", request.status().ToString().c_str());
    return 2;
  }
  v1::BenchmarkInvocation invocation;
  if (!invocation.ParseFromString(*request)) {
    std::fprintf(stderr, "bench_child: stdin is not a serialized BenchmarkInvocation (%zu bytes)\n",
                 request->size());
    return 2;
  }
  v1::RunResult result = RunInvocation(invocation);
  std::string out;
  if (!result.SerializeToString(&out)) {
    std::fprintf(stderr, "bench_child: serializing the result failed\n");
    return 2;
  }
  std::fflush(stdout);
  absl::Status status = WriteAll(result_fd, out);
  if (!status.ok()) {
    std::fprintf(stderr, "bench_child: writing the result: %s\n", status.ToString().c_str());
    return 2;
  }
  close(result_fd);
  return 0;
}

}  // namespace faultline::agent
