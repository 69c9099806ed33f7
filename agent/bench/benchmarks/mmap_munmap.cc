// mmap_munmap: map and unmap a region without touching it, anonymous or a private file mapping.
// Measures the mmap_lock write side and VMA setup/teardown, no faults.
#include <errno.h>
#include <sys/mman.h>

#include "absl/strings/str_cat.h"
#include "agent/bench/benchmarks/benchmarks.h"
#include "agent/bench/cycle_clock.h"
#include "agent/bench/host_memory.h"
#include "agent/bench/params.h"
#include "agent/bench/scratch_file.h"
#include "agent/bench/worker_params.h"
#include "agent/bench/workers.h"

namespace faultline::agent::bench::benchmarks {
namespace {

struct Config {
  size_t region_bytes;
  int64_t iterations;
  int fd;  // -1: anonymous
  bool sample_latency;
};

void* MapRegion(const Config& c) {
  return c.fd < 0 ? mmap(nullptr, c.region_bytes, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
                  : mmap(nullptr, c.region_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE, c.fd, 0);
}

void Worker(const Config& c, StartGate& gate, WorkerReport& report) {
  Histogram latency(HistogramImage::kSubBucketBits);
  const CycleClock& clock = CycleClock::Get();
  if (!gate.ArriveAndWait()) return;
  const int64_t start_ns = MonotonicNowNs();
  int64_t i = 0;
  for (; i < c.iterations; ++i) {
    if (i % 1024 == 0 && gate.StopRequested()) break;
    const uint64_t t0 = c.sample_latency ? CycleNow() : 0;
    void* p = MapRegion(c);
    if (p == MAP_FAILED) {
      report.SetError("mmap", errno);
      break;
    }
    munmap(p, c.region_bytes);
    if (c.sample_latency) latency.Record(clock.ToNs(CycleNow() - t0));
  }
  report.busy_ns = MonotonicNowNs() - start_ns;
  report.ops = static_cast<uint64_t>(i);
  report.latency.CopyFrom(latency);
}

class MmapMunmapRun : public BenchmarkRun {
 public:
  MmapMunmapRun(const Config& config, const WorkerOptions& options,
                std::unique_ptr<ScratchFile> file)
      : config_(config), options_(options), file_(std::move(file)) {}

  absl::Status Repeat(RepetitionResult& out) override {
    absl::StatusOr<WorkerGroupResult> group =
        RunWorkers(options_, [this](int, StartGate& gate, WorkerReport& report) {
          Worker(config_, gate, report);
        });
    if (!group.ok()) return group.status();
    uint64_t ops = 0;
    int64_t busy_ns = 0;
    Histogram latency(HistogramImage::kSubBucketBits);
    for (const WorkerReport& r : group->reports) {
      AddTaskScope(out, r.tid, "mapper", r.ops);
      ops += r.ops;
      busy_ns += r.busy_ns;
      latency.Merge(r.latency.ToHistogram());
    }
    if (ops == 0 || group->wall_ns <= 0) return absl::InternalError("no mmap completed");
    AddMetric(out, "ns_per_op", static_cast<double>(busy_ns) / ops);
    AddMetric(out, "ops_per_sec", ops * 1e9 / group->wall_ns);
    if (config_.sample_latency) out.histograms.emplace_back("mmap_munmap_latency_ns", latency);
    return absl::OkStatus();
  }

 private:
  Config config_;
  WorkerOptions options_;
  std::unique_ptr<ScratchFile> file_;
};

ResourceDemand Demand(const Params& params) {
  ResourceDemand demand;
  // The region is mapped but never touched and a file backing stays sparse, so neither takes
  // memory or disk; what remains is the harness (reports, histograms, stacks).
  demand.memory_bytes = uint64_t{16} << 20;
  demand.memory_from = "the harness (regions are never touched)";
  demand.tasks = GetInt(params, "threads");
  demand.tasks_from = absl::StrCat("threads (", demand.tasks, ")");
  return demand;
}

absl::StatusOr<std::unique_ptr<BenchmarkRun>> Start(const RunContext& context) {
  Config config;
  config.region_bytes = static_cast<size_t>(GetInt(context.params, "region_mib")) << 20;
  config.iterations = GetInt(context.params, "iterations");
  config.sample_latency = GetBool(context.params, "sample_latency");
  config.fd = -1;
  std::unique_ptr<ScratchFile> file;
  if (GetEnum(context.params, "backing") == "file") {
    ScratchFileOptions sparse = ScratchOptionsFor(context);
    sparse.fill = false;
    absl::StatusOr<std::unique_ptr<ScratchFile>> created =
        ScratchFile::Create(context.scratch_dir, config.region_bytes, sparse);
    if (!created.ok()) return created.status();
    file = *std::move(created);
    config.fd = file->fd();
  }
  CycleClock::Get();
  return std::unique_ptr<BenchmarkRun>(
      new MmapMunmapRun(config, WorkerOptionsFor(context), std::move(file)));
}

}  // namespace

BenchmarkDefinition MmapMunmapBenchmark() {
  BenchmarkDefinition def;
  def.info.name = "mmap_munmap";
  def.info.description =
      "mmap then munmap a region without touching it (anonymous or a private file mapping): "
      "VMA setup and teardown under mmap_lock, no faults.";
  def.info.params = {
      IntParam("region_mib", "Size of each mapping.", "MiB", 1, 1, 65536),
      EnumParam("backing", "What is mapped: anonymous memory or a private file mapping.",
                {"anon", "file"}, "anon"),
      IntParam("iterations", "mmap/munmap pairs per worker per repetition.", "ops", 20000, 1,
               100000000),
      ThreadsParam(),
      ModeParam(),
      PinCpusParam(),
      SampleLatencyParam(),
  };
  def.info.metrics = {
      {"ns_per_op", "ns", Direction::kLowerIsBetter, "Worker time per mmap+munmap pair."},
      {"ops_per_sec", "1/s", Direction::kHigherIsBetter,
       "mmap+munmap pairs by all workers per second of wall time."},
  };
  def.trace_scopes = {{"mapper", "op"}};
  def.demand = &Demand;
  def.start = &Start;
  return def;
}

}  // namespace faultline::agent::bench::benchmarks
