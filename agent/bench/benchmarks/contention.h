// The shared shape of the contention benchmarks: T threads fault continuously while one more
// thread disturbs the mm (forks, or mmap/mprotect/munmap). Each repetition runs two arms of
// equal length in the same process, first without the disturber (baseline) then with it, so the
// penalty is a ratio measured under the same conditions.
#ifndef FAULTLINE_AGENT_BENCH_BENCHMARKS_CONTENTION_H_
#define FAULTLINE_AGENT_BENCH_BENCHMARKS_CONTENTION_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/bench/benchmark_definition.h"
#include "agent/bench/histogram.h"
#include "agent/bench/scratch_file.h"
#include "agent/bench/workers.h"

namespace faultline::agent::bench::benchmarks {

enum class FaultKind { kAnon, kFileCold, kMixed };

// Who the disturbing thread is: its name in the metrics ("fork", "writer"), its role in the
// trace scopes ("forker", "writer") and what one of its operations is ("fork", "op").
struct Disturber {
  std::string name;
  std::string role;
  std::string op;
};

// The disturbing thread: loops until gate.StopRequested(), recording each operation's latency
// in report.latency and counting operations in report.ops.
using DisturberFn = void (*)(StartGate& gate, WorkerReport& report);

struct ContentionOutcome {
  Histogram baseline_faults{HistogramImage::kSubBucketBits};
  Histogram contended_faults{HistogramImage::kSubBucketBits};
  Histogram disturber_ops{HistogramImage::kSubBucketBits};
  double baseline_faults_per_sec = 0;
  double contended_faults_per_sec = 0;
};

class ContentionRun : public BenchmarkRun {
 public:
  // Reads threads, faults, region_mib, duration_ms, thp and pin_cpus from the context.
  static absl::StatusOr<std::unique_ptr<ContentionRun>> Create(const RunContext& context,
                                                               DisturberFn disturber,
                                                               Disturber who);

  absl::Status Repeat(RepetitionResult& out) override;

 private:
  struct Config {
    int faulters = 1;
    FaultKind kind = FaultKind::kAnon;
    size_t chunk_bytes = 0;
    size_t page_size = 0;
    int thp_advice = 0;
    int64_t arm_ns = 0;
    int64_t deadline_ns = 0;
    bool pin_cpus = false;
  };
  ContentionRun(const Config& config, DisturberFn disturber, Disturber who,
                std::vector<std::unique_ptr<ScratchFile>> files)
      : config_(config),
        disturber_(disturber),
        who_(std::move(who)),
        disturber_name_(who_.name),
        files_(std::move(files)) {}

  // Runs both arms, recording which thread worked in which scope into `out`.
  absl::StatusOr<ContentionOutcome> RunArms(RepetitionResult& out);
  void Fault(int index, StartGate& gate, WorkerReport& report) const;

  Config config_;
  // The runner's counters, read around each arm.
  const KernelCounters* counters_ = nullptr;
  DisturberFn disturber_;
  Disturber who_;
  std::string disturber_name_;
  std::vector<std::unique_ptr<ScratchFile>> files_;
};

// The trace scopes of a contention benchmark: the faulters of each arm and the disturber of the
// contended arm (in the baseline arm it only waits).
std::vector<TraceScope> ContentionScopes(const Disturber& who);
// The parameters every contention benchmark takes.
std::vector<ParamSpec> ContentionParams();
// The metrics every contention benchmark reports, given the disturber's name ("fork", "writer").
std::vector<MetricSpec> ContentionMetrics(const std::string& disturber_name);
// What a contention run takes: every faulter's region (touched, or the page cache of its cold
// file), the cold files on disk, and the faulters plus `extra_tasks` (described by
// `extra_from`: the disturbing thread and anything it starts).
ResourceDemand ContentionDemand(const Params& params, int64_t extra_tasks,
                                const std::string& extra_from);

}  // namespace faultline::agent::bench::benchmarks

#endif  // FAULTLINE_AGENT_BENCH_BENCHMARKS_CONTENTION_H_
