// fault_file_private, fault_file_shared: faults on a private (copy-on-write) and on a shared
// mapping of a file whose pages are all in the page cache (page_fault2 / page_fault3). Every
// worker maps the same file, touches one byte per page, and unmaps it, `passes` times.
#include <errno.h>
#include <sys/mman.h>

#include "absl/strings/str_cat.h"
#include "agent/bench/benchmarks/benchmarks.h"
#include "agent/bench/cycle_clock.h"
#include "agent/bench/host_memory.h"
#include "agent/bench/page_repetition.h"
#include "agent/bench/params.h"
#include "agent/bench/scratch_file.h"
#include "agent/bench/worker_params.h"
#include "agent/bench/workers.h"

namespace faultline::agent::bench::benchmarks {
namespace {

struct Config {
  int fd;
  size_t file_bytes;
  size_t page_size;
  int map_flags;  // MAP_PRIVATE or MAP_SHARED
  bool write;
  int passes;
  bool sample_latency;
};

inline void TouchPage(volatile char* page, bool write) {
  if (write) {
    *page = 1;
  } else {
    (void)*page;
  }
}

void Worker(const Config& c, StartGate& gate, WorkerReport& report) {
  Histogram latency(HistogramImage::kSubBucketBits);
  const CycleClock& clock = CycleClock::Get();
  if (!gate.ArriveAndWait()) return;
  const int64_t start_ns = MonotonicNowNs();
  int pass = 0;
  for (; pass < c.passes && !gate.StopRequested(); ++pass) {
    void* p = mmap(nullptr, c.file_bytes, PROT_READ | PROT_WRITE, c.map_flags, c.fd, 0);
    if (p == MAP_FAILED) {
      report.SetError("mmap", errno);
      break;
    }
    volatile char* region = static_cast<char*>(p);
    for (size_t off = 0; off < c.file_bytes; off += c.page_size) {
      if (c.sample_latency) {
        const uint64_t t0 = CycleNow();
        TouchPage(region + off, c.write);
        latency.Record(clock.ToNs(CycleNow() - t0));
      } else {
        TouchPage(region + off, c.write);
      }
    }
    munmap(p, c.file_bytes);
  }
  report.busy_ns = MonotonicNowNs() - start_ns;
  report.ops = static_cast<uint64_t>(pass) * (c.file_bytes / c.page_size);
  report.latency.CopyFrom(latency);
}

class FileFaultRun : public BenchmarkRun {
 public:
  FileFaultRun(const Config& config, const WorkerOptions& options,
               std::unique_ptr<ScratchFile> file)
      : config_(config), options_(options), file_(std::move(file)) {}

  absl::Status Repeat(RepetitionResult& out) override {
    // Resident before every repetition: these benchmarks measure the page-cache hit path.
    if (absl::Status warm = file_->Warm(); !warm.ok()) return warm;
    const PageMetricNames names = {"ns_per_page", "pages_per_sec",
                                   config_.sample_latency ? "touch_latency_ns" : nullptr};
    return RepeatPageWorkers(options_, names, [this](int, StartGate& gate, WorkerReport& report) {
      Worker(config_, gate, report);
    }, out);
  }

 private:
  Config config_;
  WorkerOptions options_;
  std::unique_ptr<ScratchFile> file_;
};

// The file (written once, resident in the page cache) plus, when `private_copies`, one
// copy-on-write copy of it per worker.
ResourceDemand DemandWith(const Params& params, bool private_copies) {
  const int64_t threads = GetInt(params, "threads");
  const int64_t region_mib = GetInt(params, "region_mib");
  const uint64_t file_bytes = static_cast<uint64_t>(region_mib) << 20;
  ResourceDemand demand;
  if (private_copies) {
    demand.memory_bytes = file_bytes * (static_cast<uint64_t>(threads) + 1);
    demand.memory_from =
        absl::StrCat("region_mib x (threads + 1) (", region_mib, " MiB x ", threads + 1,
                     ": the file's page cache and a private copy per worker)");
  } else {
    demand.memory_bytes = file_bytes;
    demand.memory_from = absl::StrCat("region_mib (", region_mib, " MiB of page cache)");
  }
  demand.scratch_bytes = file_bytes;
  demand.scratch_from = absl::StrCat("region_mib (", region_mib, " MiB)");
  demand.tasks = threads;
  demand.tasks_from = absl::StrCat("threads (", threads, ")");
  return demand;
}

ResourceDemand PrivateDemand(const Params& params) {
  return DemandWith(params, GetEnum(params, "access") == "write");
}

ResourceDemand SharedDemand(const Params& params) { return DemandWith(params, false); }

absl::StatusOr<std::unique_ptr<BenchmarkRun>> StartWith(const RunContext& context, int flags) {
  Config config;
  config.file_bytes = static_cast<size_t>(GetInt(context.params, "region_mib")) << 20;
  config.page_size = PageSize();
  config.map_flags = flags;
  config.write = GetEnum(context.params, "access") == "write";
  config.passes = static_cast<int>(GetInt(context.params, "passes"));
  config.sample_latency = GetBool(context.params, "sample_latency");
  absl::StatusOr<std::unique_ptr<ScratchFile>> file =
      ScratchFile::Create(context.scratch_dir, config.file_bytes, ScratchOptionsFor(context));
  if (!file.ok()) return file.status();
  config.fd = (*file)->fd();
  CycleClock::Get();
  return std::unique_ptr<BenchmarkRun>(
      new FileFaultRun(config, WorkerOptionsFor(context), *std::move(file)));
}

absl::StatusOr<std::unique_ptr<BenchmarkRun>> StartPrivate(const RunContext& context) {
  return StartWith(context, MAP_PRIVATE);
}

absl::StatusOr<std::unique_ptr<BenchmarkRun>> StartShared(const RunContext& context) {
  return StartWith(context, MAP_SHARED);
}

BenchmarkDefinition FileFaultBenchmark(const char* name, const char* description) {
  BenchmarkDefinition def;
  def.info.name = name;
  def.info.description = description;
  def.info.params = {
      IntParam("region_mib", "Size of the file every worker maps.", "MiB", 64, 1, 65536),
      IntParam("passes", "Map/touch/unmap passes per worker per repetition.", "passes", 4, 1,
               10000),
      EnumParam("access",
                "write: a write fault per page; read: read faults (fault-around maps up to "
                "fault_around_bytes per fault).",
                {"write", "read"}, "write"),
      ThreadsParam(),
      ModeParam(),
      PinCpusParam(),
      SampleLatencyParam(),
  };
  def.trace_scopes = {{"faulter", "fault"}};
  def.info.metrics = {
      {"ns_per_page", "ns", Direction::kLowerIsBetter,
       "Worker time per page touched, mmap and munmap included."},
      {"pages_per_sec", "1/s", Direction::kHigherIsBetter,
       "Pages touched by all workers per second of wall time."},
      {"pages_touched", "count", Direction::kNeutral, "Pages touched."},
  };
  return def;
}

}  // namespace

BenchmarkDefinition FaultFilePrivateBenchmark() {
  BenchmarkDefinition def = FileFaultBenchmark(
      "fault_file_private",
      "Faults on a private (copy-on-write) mapping of a page-cache-resident file "
      "(page_fault2).");
  def.demand = &PrivateDemand;
  def.start = &StartPrivate;
  return def;
}

BenchmarkDefinition FaultFileSharedBenchmark() {
  BenchmarkDefinition def = FileFaultBenchmark(
      "fault_file_shared",
      "Faults on a shared mapping of a page-cache-resident file (page_fault3); kernels with "
      "large page-cache folios map a whole folio per fault, so compare rusage.minflt too.");
  def.demand = &SharedDemand;
  def.start = &StartShared;
  return def;
}

}  // namespace faultline::agent::bench::benchmarks
