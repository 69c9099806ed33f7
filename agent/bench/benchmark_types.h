// The vocabulary shared by the runner, the benchmarks and whoever reads their results: catalog
// entries (parameters, metrics), parameter values, one run's options and output. Plain C++: no
// gRPC, no protobuf.
#ifndef FAULTLINE_AGENT_BENCH_BENCHMARK_TYPES_H_
#define FAULTLINE_AGENT_BENCH_BENCHMARK_TYPES_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "agent/bench/histogram.h"

namespace faultline::agent::bench {

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
  // Why, by counter family ("mmap_lock": "tracefs is not mounted ... Permission denied").
  std::map<std::string, std::string> unavailable_reasons;
  std::vector<std::pair<std::string, Histogram>> histograms;
  int64_t wall_ns = 0;
  // Why the host disturbed this repetition (host_noise.h); empty when it did not.
  std::vector<std::string> disturbances;
  // Filled by the benchmark for the runner's tracing: the scope ("faulter",
  // "contended.writer") each task (thread or process id) worked in, and the operations each
  // scope completed (faults, forks, ...).
  std::map<int, std::string> task_scopes;
  std::map<std::string, uint64_t> scope_ops;
};

enum class RunStatus { kOk, kFailed, kSkipped, kRefused };

// One kernel function of a profile (kernel_profile.h).
struct ProfileSymbol {
  // "do_anonymous_page", or "name [module]".
  std::string name;
  // Samples taken while the CPU was in this function (the interrupted address).
  uint64_t self_samples = 0;
  // Samples with this function anywhere on the kernel call chain (itself included, once).
  uint64_t total_samples = 0;
};

// Where the run's tasks spent their CPU time, from the profiling repetitions
// (RunOptions::profile_repetitions). Shares are of `samples`: every sample of the run's own
// tasks, in user space or in the kernel, so a share is a share of the benchmark's CPU time.
struct KernelProfile {
  // How it was taken: "perf cpu-clock 4000 Hz, kernel call chains".
  std::string method;
  // Repetitions the samples are from, and their wall time.
  int repetitions = 0;
  int64_t wall_ns = 0;
  uint64_t samples = 0;
  uint64_t kernel_samples = 0;
  // Samples the ring buffer had no room for; the shares are then of the samples kept.
  uint64_t lost_samples = 0;
  // The kernel functions with the most self or total samples (at most kMaxProfileSymbols),
  // most total samples first.
  std::vector<ProfileSymbol> symbols;
  // Why there is no profile (no perf events, no permission, hidden kernel symbols, the time
  // limit); empty when there is one or none was asked for.
  std::string unavailable_reason;
};

struct RunOutput {
  RunStatus status = RunStatus::kOk;
  // Why the run did not end kOk ("skipped: no swap", "refused: region_mib x threads ...").
  std::string diagnostic;
  // The run stopped at its time limit (status kFailed, diagnostic "timeout: ..."); the
  // repetitions that completed before it are kept.
  bool time_limit_reached = false;
  std::vector<RepetitionResult> repetitions;
  // Run after the measured ones with tracing on (RunOptions::trace_repetitions): they carry
  // only what the tracing saw (mmap_lock.*), never timing figures, which tracing perturbs.
  std::vector<RepetitionResult> tracing_repetitions;
  // From the profiling repetitions run after those; `repetitions` 0 when none ran (with the
  // reason when some were asked for).
  KernelProfile profile;
  double timer_overhead_ns = 0;
  int warmup = 0;
  // The parameters the run used: as given, with defaults filled in once they resolved.
  Params params;
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
  // Repetitions run after the measured ones with the mmap_lock tracepoints on
  // (mmap_lock_trace.h); 0 turns tracing off. Separate because tracing costs the traced
  // threads time (agent/bench/README.md has the figure).
  int trace_repetitions = 1;
  // Repetitions run after those with the kernel profiler sampling the run's tasks
  // (kernel_profile.h); 0 turns it off. Separate for the same reason (its cost is in the
  // README too).
  int profile_repetitions = 1;
};

}  // namespace faultline::agent::bench

#endif  // FAULTLINE_AGENT_BENCH_BENCHMARK_TYPES_H_
