// How a benchmark plugs into the runner: its catalog entry, what it takes from the host, and a
// factory for the per-run state whose Repeat() is timed once per repetition.
#ifndef FAULTLINE_AGENT_BENCH_BENCHMARK_DEFINITION_H_
#define FAULTLINE_AGENT_BENCH_BENCHMARK_DEFINITION_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "agent/bench/benchmark_types.h"
#include "agent/bench/host_limits.h"
#include "agent/bench/kernel_counters.h"

namespace faultline::agent::bench {

// Everything a run knows before it starts.
struct RunContext {
  Params params;
  // CLOCK_MONOTONIC ns after which every loop must wind down.
  int64_t deadline_ns = 0;
  // Where scratch files go, and the share of its free space one file may take.
  std::string scratch_dir;
  double max_scratch_share = 0.5;
  // The run's counters, for benchmarks that read them per arm (contention.h); owned by the
  // runner.
  const KernelCounters* counters = nullptr;
};

// One run's state (files created, regions prepared), reused by every repetition.
class BenchmarkRun {
 public:
  virtual ~BenchmarkRun() = default;
  // One repetition: fills metrics and histograms; the runner adds counters and wall time.
  virtual absl::Status Repeat(RepetitionResult& out) = 0;
};

// A group of a benchmark's tasks whose kernel-side events are reported together: "faulter",
// or per arm "baseline.faulter", "contended.writer"; `op` is what its operation count counts
// ("fault", "fork", "op"), the unit of the per-operation figures.
struct TraceScope {
  std::string name;
  std::string op;
};

struct BenchmarkDefinition {
  BenchmarkInfo info;
  // The scopes its repetitions fill in RepetitionResult::task_scopes/scope_ops.
  std::vector<TraceScope> trace_scopes;
  // What a run with these (resolved) parameters takes from the host, for the host guards.
  ResourceDemand (*demand)(const Params& params) = nullptr;
  // Prepares a run. FAILED_PRECONDITION means this host cannot run the benchmark (the run is
  // reported skipped with the message); any other error fails the run.
  absl::StatusOr<std::unique_ptr<BenchmarkRun>> (*start)(const RunContext& context) = nullptr;
};

// Every benchmark, in catalog order.
const std::vector<BenchmarkDefinition>& Definitions();

void AddMetric(RepetitionResult& out, const std::string& name, double value);

// Records that task `tid` worked in `scope` and completed `ops` operations there.
void AddTaskScope(RepetitionResult& out, int tid, const std::string& scope, uint64_t ops);

}  // namespace faultline::agent::bench

#endif  // FAULTLINE_AGENT_BENCH_BENCHMARK_DEFINITION_H_
