// fault_file_cold: read faults on a file whose pages are not in the page cache, so each fault
// waits for I/O: the path that returns VM_FAULT_RETRY and falls back to mmap_lock. Each worker
// has its own file, evicted (POSIX_FADV_DONTNEED) before every pass; MADV_RANDOM turns off
// readahead so every page is its own major fault unless readahead=true.
#include <errno.h>
#include <sys/mman.h>

#include <vector>

#include "absl/strings/str_cat.h"
#include "agent/bench/benchmarks/benchmarks.h"
#include "agent/bench/cycle_clock.h"
#include "agent/bench/host_limits.h"
#include "agent/bench/host_memory.h"
#include "agent/bench/page_repetition.h"
#include "agent/bench/params.h"
#include "agent/bench/scratch_file.h"
#include "agent/bench/worker_params.h"
#include "agent/bench/workers.h"

namespace faultline::agent::bench::benchmarks {
namespace {

struct Config {
  size_t file_bytes;
  size_t page_size;
  int passes;
  bool readahead;
  bool sample_latency;
};

void Worker(const Config& c, const ScratchFile& file, StartGate& gate, WorkerReport& report) {
  Histogram latency(HistogramImage::kSubBucketBits);
  const CycleClock& clock = CycleClock::Get();
  if (!gate.ArriveAndWait()) return;
  int64_t busy_ns = 0;
  int pass = 0;
  for (; pass < c.passes && !gate.StopRequested(); ++pass) {
    if (!file.Evict()) {
      report.SetError("posix_fadvise(POSIX_FADV_DONTNEED)", errno);
      break;
    }
    const int64_t start_ns = MonotonicNowNs();
    void* p = mmap(nullptr, c.file_bytes, PROT_READ, MAP_SHARED, file.fd(), 0);
    if (p == MAP_FAILED) {
      report.SetError("mmap", errno);
      break;
    }
    if (!c.readahead && madvise(p, c.file_bytes, MADV_RANDOM) != 0) {
      report.SetError("madvise(MADV_RANDOM)", errno);
      munmap(p, c.file_bytes);
      break;
    }
    const volatile char* region = static_cast<const char*>(p);
    for (size_t off = 0; off < c.file_bytes; off += c.page_size) {
      if (c.sample_latency) {
        const uint64_t t0 = CycleNow();
        (void)region[off];
        latency.Record(clock.ToNs(CycleNow() - t0));
      } else {
        (void)region[off];
      }
    }
    munmap(p, c.file_bytes);
    busy_ns += MonotonicNowNs() - start_ns;
  }
  report.busy_ns = busy_ns;
  report.ops = static_cast<uint64_t>(pass) * (c.file_bytes / c.page_size);
  report.latency.CopyFrom(latency);
}

class FaultFileColdRun : public BenchmarkRun {
 public:
  FaultFileColdRun(const Config& config, const WorkerOptions& options,
                   std::vector<std::unique_ptr<ScratchFile>> files)
      : config_(config), options_(options), files_(std::move(files)) {}

  absl::Status Repeat(RepetitionResult& out) override {
    const PageMetricNames names = {"ns_per_page", "pages_per_sec",
                                   config_.sample_latency ? "fault_latency_ns" : nullptr};
    return RepeatPageWorkers(
        options_, names, [this](int index, StartGate& gate, WorkerReport& report) {
          Worker(config_, *files_[index], gate, report);
        }, out);
  }

 private:
  Config config_;
  WorkerOptions options_;
  std::vector<std::unique_ptr<ScratchFile>> files_;
};

ResourceDemand Demand(const Params& params) {
  // One file per worker, on disk and (between evictions) in the page cache.
  ResourceDemand demand = RegionPerWorkerDemand(params);
  demand.scratch_bytes = demand.memory_bytes;
  demand.scratch_from = demand.memory_from;
  return demand;
}

absl::StatusOr<std::unique_ptr<BenchmarkRun>> Start(const RunContext& context) {
  const std::string& dir = context.scratch_dir;
  absl::StatusOr<bool> in_memory = IsMemoryBackedFilesystem(dir);
  if (!in_memory.ok()) return in_memory.status();
  if (*in_memory) {
    return absl::FailedPreconditionError(absl::StrCat(
        dir, " is tmpfs/ramfs: there is no I/O to wait for (set FAULTLINE_BENCH_DIR to a disk)"));
  }
  Config config;
  config.file_bytes = static_cast<size_t>(GetInt(context.params, "region_mib")) << 20;
  config.page_size = PageSize();
  config.passes = static_cast<int>(GetInt(context.params, "passes"));
  config.readahead = GetBool(context.params, "readahead");
  config.sample_latency = GetBool(context.params, "sample_latency");
  const WorkerOptions options = WorkerOptionsFor(context);
  std::vector<std::unique_ptr<ScratchFile>> files;
  for (int i = 0; i < options.workers; ++i) {
    absl::StatusOr<std::unique_ptr<ScratchFile>> file =
        ScratchFile::Create(dir, config.file_bytes, ScratchOptionsFor(context));
    if (!file.ok()) return file.status();
    files.push_back(*std::move(file));
  }
  CycleClock::Get();
  return std::unique_ptr<BenchmarkRun>(new FaultFileColdRun(config, options, std::move(files)));
}

}  // namespace

BenchmarkDefinition FaultFileColdBenchmark() {
  BenchmarkDefinition def;
  def.info.name = "fault_file_cold";
  def.info.description =
      "Read faults on a file evicted from the page cache before each pass (on a real "
      "filesystem): faults that wait for I/O and retry (VM_FAULT_RETRY).";
  def.info.params = {
      IntParam("region_mib", "Size of each worker's file.", "MiB", 16, 1, 65536),
      IntParam("passes", "Evict/map/read/unmap passes per worker per repetition.", "passes", 2,
               1, 10000),
      BoolParam("readahead",
                "Leave readahead on (fewer, larger reads) instead of MADV_RANDOM (one major "
                "fault per page).",
                false),
      ThreadsParam(),
      ModeParam(),
      PinCpusParam(),
      SampleLatencyParam(),
  };
  def.info.metrics = {
      {"ns_per_page", "ns", Direction::kLowerIsBetter,
       "Worker time per page read, mmap and munmap included, eviction excluded."},
      {"pages_per_sec", "1/s", Direction::kHigherIsBetter,
       "Pages read by all workers per second of wall time (eviction included)."},
      {"pages_touched", "count", Direction::kNeutral, "Pages read."},
  };
  def.trace_scopes = {{"faulter", "fault"}};
  def.demand = &Demand;
  def.start = &Start;
  return def;
}

}  // namespace faultline::agent::bench::benchmarks
