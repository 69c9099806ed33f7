// fault_swapin: faults on anonymous pages pushed out to swap with MADV_PAGEOUT. Needs swap; a
// host without it reports the run skipped, never a figure.
#include <errno.h>
#include <sys/mman.h>

#include "agent/bench/benchmarks/benchmarks.h"
#include "agent/bench/cycle_clock.h"
#include "agent/bench/host_limits.h"
#include "agent/bench/host_memory.h"
#include "agent/bench/page_repetition.h"
#include "agent/bench/params.h"
#include "agent/bench/worker_params.h"
#include "agent/bench/workers.h"

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

namespace faultline::agent::bench::benchmarks {
namespace {

struct Config {
  size_t region_bytes;
  size_t page_size;
  int passes;
  bool sample_latency;
};

void Worker(const Config& c, StartGate& gate, WorkerReport& report) {
  Histogram latency(HistogramImage::kSubBucketBits);
  const CycleClock& clock = CycleClock::Get();
  void* p = mmap(nullptr, c.region_bytes, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    report.SetError("mmap", errno);
    return;
  }
  volatile char* region = static_cast<char*>(p);
  madvise(p, c.region_bytes, MADV_NOHUGEPAGE);
  for (size_t off = 0; off < c.region_bytes; off += c.page_size) region[off] = 1;
  if (!gate.ArriveAndWait()) {
    munmap(p, c.region_bytes);
    return;
  }
  int64_t busy_ns = 0;
  int pass = 0;
  for (; pass < c.passes && !gate.StopRequested(); ++pass) {
    if (madvise(p, c.region_bytes, MADV_PAGEOUT) != 0) {
      report.SetError("madvise(MADV_PAGEOUT)", errno);
      break;
    }
    const int64_t start_ns = MonotonicNowNs();
    for (size_t off = 0; off < c.region_bytes; off += c.page_size) {
      if (c.sample_latency) {
        const uint64_t t0 = CycleNow();
        (void)region[off];
        latency.Record(clock.ToNs(CycleNow() - t0));
      } else {
        (void)region[off];
      }
    }
    busy_ns += MonotonicNowNs() - start_ns;
  }
  munmap(p, c.region_bytes);
  report.busy_ns = busy_ns;
  report.ops = static_cast<uint64_t>(pass) * (c.region_bytes / c.page_size);
  report.latency.CopyFrom(latency);
}

class FaultSwapinRun : public BenchmarkRun {
 public:
  FaultSwapinRun(const Config& config, const WorkerOptions& options)
      : config_(config), options_(options) {}

  absl::Status Repeat(RepetitionResult& out) override {
    const PageMetricNames names = {"ns_per_page", nullptr,
                                   config_.sample_latency ? "fault_latency_ns" : nullptr};
    return RepeatPageWorkers(options_, names, [this](int, StartGate& gate, WorkerReport& report) {
      Worker(config_, gate, report);
    }, out);
  }

 private:
  Config config_;
  WorkerOptions options_;
};

ResourceDemand Demand(const Params& params) {
  // Every worker's region is touched before it is paged out, and read back after.
  return RegionPerWorkerDemand(params);
}

absl::StatusOr<std::unique_ptr<BenchmarkRun>> Start(const RunContext& context) {
  if (absl::Status swap = SwapHolds(Demand(context.params).memory_bytes); !swap.ok()) {
    return swap;
  }
  Config config;
  config.region_bytes = static_cast<size_t>(GetInt(context.params, "region_mib")) << 20;
  config.page_size = PageSize();
  config.passes = static_cast<int>(GetInt(context.params, "passes"));
  config.sample_latency = GetBool(context.params, "sample_latency");
  CycleClock::Get();
  return std::unique_ptr<BenchmarkRun>(new FaultSwapinRun(config, WorkerOptionsFor(context)));
}

}  // namespace

BenchmarkDefinition FaultSwapinBenchmark() {
  BenchmarkDefinition def;
  def.info.name = "fault_swapin";
  def.info.description =
      "Read faults on anonymous pages pushed to swap with MADV_PAGEOUT (swap-in path); "
      "skipped on hosts without swap.";
  def.info.params = {
      IntParam("region_mib", "Region each worker pages out and reads back.", "MiB", 16, 1, 65536),
      IntParam("passes", "Page-out/read-back passes per worker per repetition.", "passes", 2, 1,
               1000),
      ThreadsParam(),
      ModeParam(),
      PinCpusParam(),
      SampleLatencyParam(),
  };
  def.info.metrics = {
      {"ns_per_page", "ns", Direction::kLowerIsBetter, "Read-back time per page."},
      {"pages_touched", "count", Direction::kNeutral, "Pages read back."},
  };
  def.trace_scopes = {{"faulter", "fault"}};
  def.demand = &Demand;
  def.start = &Start;
  return def;
}

}  // namespace faultline::agent::bench::benchmarks
