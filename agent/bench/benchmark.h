// The contract between the benchmark library and whoever runs it (the agent's benchmark child,
// the faultline-bench command). Plain C++: no gRPC, no protobuf, so a benchmark can be built and
// run on a test box with nothing but this library.
#ifndef FAULTLINE_AGENT_BENCH_BENCHMARK_H_
#define FAULTLINE_AGENT_BENCH_BENCHMARK_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "agent/bench/histogram.h"

namespace faultline::bench {

enum class ParamType { kInt, kDouble, kBool, kEnum };

// Holds int64_t for kInt, double for kDouble, bool for kBool, std::string for kEnum.
using ParamValue = std::variant<int64_t, double, bool, std::string>;
using Params = std::map<std::string, ParamValue>;

struct ParamSpec {
  std::string name;
  ParamType type = ParamType::kInt;
  std::string description;
  std::string unit;
  ParamValue default_value;
  // Inclusive bounds for kInt and kDouble.
  ParamValue min;
  ParamValue max;
  // Choices of a kEnum parameter.
  std::vector<std::string> allowed_values;
};

enum class Direction { kLowerIsBetter, kHigherIsBetter, kNeutral };

struct MetricSpec {
  std::string name;
  std::string unit;
  Direction direction = Direction::kLowerIsBetter;
  std::string description;
};

// What a benchmark is, as advertised in the agent's catalog.
struct BenchmarkInfo {
  std::string name;
  std::string description;
  std::vector<ParamSpec> params;
  std::vector<MetricSpec> metrics;
};

struct MetricValue {
  std::string name;
  double value = 0;
};

// One measured repetition.
struct RepetitionResult {
  std::vector<MetricValue> metrics;
  // Kernel-side counters by source-qualified name ("rusage.minflt", "vmstat.pgfault", ...).
  std::map<std::string, int64_t> counters;
  // Counters this host could not provide; never reported as zero.
  std::vector<std::string> unavailable_counters;
  std::vector<std::pair<std::string, Histogram>> histograms;
  int64_t wall_ns = 0;
};

enum class RunStatus { kOk, kFailed, kSkipped, kRefused };

struct RunOutput {
  RunStatus status = RunStatus::kOk;
  // Why the run did not end kOk ("skipped: no swap", "refused: region_mib x threads ...").
  std::string diagnostic;
  // The run stopped at its time limit (status kFailed, diagnostic "timeout: ..."); the
  // repetitions that completed before it are kept.
  bool time_limit_reached = false;
  std::vector<RepetitionResult> repetitions;
  double timer_overhead_ns = 0;
  int warmup = 0;
};

struct RunOptions {
  int warmup = 1;
  int repetitions = 5;
  // Host guards (host_limits.h), checked before anything is mapped, written or started; a run
  // over any of them is refused. Memory: the run's declared peak against this share of
  // MemAvailable.
  double max_memory_share = 0.5;
  // Scratch files: the bytes the run writes against this share of the scratch filesystem's
  // free space.
  double max_scratch_share = 0.5;
  // Threads/processes at once: at most this many per online CPU, and never more than 512.
  int64_t max_tasks_per_cpu = 4;
  // Every loop winds down once this much time has passed (1..86400); the run then ends kFailed
  // with time_limit_reached and the repetitions completed so far.
  int64_t time_limit_seconds = 600;
};

// Every benchmark this build can run, in a stable order.
const std::vector<BenchmarkInfo>& Catalog();

// The catalog entry named `name`, or nullptr.
const BenchmarkInfo* FindBenchmark(const std::string& name);

// Checks `given` against the benchmark's parameter specs (unknown names, types, bounds, enum
// choices) and fills in defaults. Errors are INVALID_ARGUMENT naming the parameter.
absl::StatusOr<Params> ResolveParams(const std::string& name, const Params& given);

// Runs a benchmark in the calling process with already-resolved parameters. Meant to be called
// in a child process dedicated to the run: benchmarks map memory, fork and start threads.
RunOutput RunBenchmark(const std::string& name, const Params& params, const RunOptions& options);

}  // namespace faultline::bench

#endif  // FAULTLINE_AGENT_BENCH_BENCHMARK_H_
