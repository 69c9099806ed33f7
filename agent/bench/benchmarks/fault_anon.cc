// fault_anon: first-touch write faults on private anonymous memory, in the style of
// will-it-scale's page_fault1. Each worker maps its own region, writes one byte per page (one
// fault each), and unmaps it, `passes` times; mmap and munmap are inside the timed span.
#include <errno.h>
#include <sys/mman.h>

#include "absl/strings/str_cat.h"
#include "agent/bench/benchmarks/benchmarks.h"
#include "agent/bench/cycle_clock.h"
#include "agent/bench/host_limits.h"
#include "agent/bench/host_memory.h"
#include "agent/bench/page_repetition.h"
#include "agent/bench/params.h"
#include "agent/bench/worker_params.h"
#include "agent/bench/workers.h"

namespace faultline::agent::bench::benchmarks {
namespace {

struct Config {
  size_t region_bytes;
  size_t page_size;
  int passes;
  int thp_advice;
  bool sample_latency;
};

void TouchEachPage(volatile char* region, const Config& c) {
  for (size_t off = 0; off < c.region_bytes; off += c.page_size) region[off] = 1;
}

// One clock read per page: each page's latency is the time since the previous read, so it
// also carries the few ns of the previous Record() but costs half the timer overhead.
void TouchEachPageTimed(volatile char* region, const Config& c, Histogram& latency) {
  const CycleClock& clock = CycleClock::Get();
  uint64_t previous = CycleNow();
  for (size_t off = 0; off < c.region_bytes; off += c.page_size) {
    region[off] = 1;
    const uint64_t now = CycleNow();
    latency.Record(clock.ToNs(now - previous));
    previous = now;
  }
}

void Worker(const Config& c, StartGate& gate, WorkerReport& report) {
  Histogram latency(HistogramImage::kSubBucketBits);
  if (!gate.ArriveAndWait()) return;
  const int64_t start_ns = MonotonicNowNs();
  int pass = 0;
  for (; pass < c.passes && !gate.StopRequested(); ++pass) {
    void* p = mmap(nullptr, c.region_bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      report.SetError("mmap", errno);
      break;
    }
    if (c.thp_advice != 0 && madvise(p, c.region_bytes, c.thp_advice) != 0) {
      report.SetError("madvise", errno);
      munmap(p, c.region_bytes);
      break;
    }
    if (c.sample_latency) {
      TouchEachPageTimed(static_cast<char*>(p), c, latency);
    } else {
      TouchEachPage(static_cast<char*>(p), c);
    }
    munmap(p, c.region_bytes);
  }
  report.busy_ns = MonotonicNowNs() - start_ns;
  report.ops = static_cast<uint64_t>(pass) * (c.region_bytes / c.page_size);
  report.latency.CopyFrom(latency);
}

class FaultAnonRun : public BenchmarkRun {
 public:
  FaultAnonRun(const Config& config, const WorkerOptions& options)
      : config_(config), options_(options) {}

  absl::Status Repeat(RepetitionResult& out) override {
    const PageMetricNames names = {"ns_per_fault", "faults_per_sec",
                                   config_.sample_latency ? "fault_latency_ns" : nullptr,
                                   "no page was touched (stopped at the deadline?)",
                                   "cpu_ns_per_fault"};
    return RepeatPageWorkers(options_, names, [this](int, StartGate& gate, WorkerReport& report) {
      Worker(config_, gate, report);
    }, out);
  }

 private:
  Config config_;
  WorkerOptions options_;
};

ResourceDemand Demand(const Params& params) {
  // Every worker has its whole region touched at the end of a pass.
  return RegionPerWorkerDemand(params);
}

absl::StatusOr<std::unique_ptr<BenchmarkRun>> Start(const RunContext& context) {
  absl::StatusOr<ThpMode> thp = ParseThpMode(GetEnum(context.params, "thp"));
  if (!thp.ok()) return thp.status();
  Config config;
  config.region_bytes = static_cast<size_t>(GetInt(context.params, "region_mib")) << 20;
  config.page_size = PageSize();
  config.passes = static_cast<int>(GetInt(context.params, "passes"));
  config.thp_advice = ThpAdvice(*thp);
  config.sample_latency = GetBool(context.params, "sample_latency");
  CycleClock::Get();  // Calibrate here, not in each worker.
  return std::unique_ptr<BenchmarkRun>(new FaultAnonRun(config, WorkerOptionsFor(context)));
}

}  // namespace

BenchmarkDefinition FaultAnonBenchmark() {
  BenchmarkDefinition def;
  def.info.name = "fault_anon";
  def.info.description =
      "First-touch write faults on private anonymous memory: each worker maps a region, writes "
      "one byte per page, unmaps it (page_fault1).";
  def.info.params = {
      IntParam("region_mib", "Region each worker maps per pass.", "MiB", 64, 1, 65536),
      IntParam("passes", "Map/touch/unmap passes per worker per repetition.", "passes", 4, 1,
               10000),
      ThreadsParam(),
      ModeParam(),
      ThpParam(),
      PinCpusParam(),
      SampleLatencyParam(),
  };
  def.info.metrics = {
      {"ns_per_fault", "ns", Direction::kLowerIsBetter,
       "Worker time per page touched, mmap and munmap included."},
      {"faults_per_sec", "1/s", Direction::kHigherIsBetter,
       "Pages touched by all workers per second of wall time."},
      // On a shared host the wall figure is mostly the scheduler's (a worker waited for a CPU
      // 78% of its time here): on-CPU time had a CV of 2.0% against 12.9% per repetition
      // (tests/sensitivity/README.md).
      {"cpu_ns_per_fault", "ns", Direction::kLowerIsBetter,
       "Worker on-CPU time (CLOCK_THREAD_CPUTIME_ID, user and kernel) per page touched: "
       "ns_per_fault without the time spent waiting for a CPU."},
      {"pages_touched", "count", Direction::kNeutral, "Pages written (one fault each)."},
  };
  def.trace_scopes = {{"faulter", "fault"}};
  def.demand = &Demand;
  def.start = &Start;
  return def;
}

}  // namespace faultline::agent::bench::benchmarks
