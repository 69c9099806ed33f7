// The shared shape of the contention benchmarks: T threads fault continuously while one more
// thread disturbs the mm (forks, or takes mmap_lock for write). Each repetition runs two arms of
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

// What a faulting thread faults on. kMixed is a request only: faulters with an even index
// fault on anonymous memory, odd ones on a cold file, each kind with its own figures.
enum class FaultKind { kAnon, kFileCold, kSwapin, kMixed };

// Who the disturbing thread is: its name in the metrics ("fork", "writer"), its role in the
// trace scopes ("forker", "writer") and what one of its operations is ("fork", "op").
struct Disturber {
  std::string name;
  std::string role;
  std::string op;
};

// The disturbing thread's work, prepared once per run (its memory stays mapped for both arms).
class DisturberLoop {
 public:
  virtual ~DisturberLoop() = default;
  // Runs in the contended arm: loops until gate.StopRequested() (or its own schedule ends),
  // recording each operation's latency in report.latency and counting it in report.ops.
  virtual void Run(StartGate& gate, WorkerReport& report) = 0;
};

class ContentionRun : public BenchmarkRun {
 public:
  // Reads threads, faults, region_mib, duration_ms, thp and pin_cpus from the context.
  static absl::StatusOr<std::unique_ptr<ContentionRun>> Create(
      const RunContext& context, std::unique_ptr<DisturberLoop> disturber, Disturber who);

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
  // One kind of fault's figures in both arms.
  struct KindArms {
    FaultKind kind;
    Histogram baseline{HistogramImage::kSubBucketBits};
    Histogram contended{HistogramImage::kSubBucketBits};
    double baseline_per_sec = 0;
    double contended_per_sec = 0;
  };
  struct Outcome {
    std::vector<KindArms> kinds;
    Histogram disturber_ops{HistogramImage::kSubBucketBits};
    double disturber_ops_per_sec = 0;
  };

  ContentionRun(const Config& config, std::unique_ptr<DisturberLoop> disturber, Disturber who,
                std::vector<std::unique_ptr<ScratchFile>> files)
      : config_(config),
        disturber_(std::move(disturber)),
        who_(std::move(who)),
        disturber_name_(who_.name),
        files_(std::move(files)) {}

  // Runs both arms, recording which thread worked in which scope into `out`.
  absl::StatusOr<Outcome> RunArms(RepetitionResult& out);
  void Fault(int index, StartGate& gate, WorkerReport& report) const;
  void FaultFreshAnon(StartGate& gate, WorkerReport& report) const;
  void FaultFileCold(const ScratchFile& file, StartGate& gate, WorkerReport& report) const;
  void FaultSwapin(StartGate& gate, WorkerReport& report) const;

  Config config_;
  // The runner's counters, read around each arm.
  const KernelCounters* counters_ = nullptr;
  std::unique_ptr<DisturberLoop> disturber_;
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
