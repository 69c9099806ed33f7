// mmap_writer_contention: T threads fault while another thread maps, mprotects and unmaps a
// small region in a loop, taking mmap_lock for write each time. With per-VMA locks the faults
// should not wait for it; the baseline arm runs the same faults with the writer idle.
#include <errno.h>
#include <sys/mman.h>

#include "agent/bench/benchmarks/benchmarks.h"
#include "agent/bench/benchmarks/contention.h"
#include "agent/bench/cycle_clock.h"

namespace faultline::agent::bench::benchmarks {
namespace {

constexpr size_t kWriterBytes = 64 << 10;

void WriterLoop(StartGate& gate, WorkerReport& report) {
  Histogram latency(HistogramImage::kSubBucketBits);
  const CycleClock& clock = CycleClock::Get();
  if (!gate.ArriveAndWait()) return;
  while (!gate.StopRequested()) {
    const uint64_t t0 = CycleNow();
    void* p = mmap(nullptr, kWriterBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    if (p == MAP_FAILED) {
      report.SetError("mmap", errno);
      break;
    }
    mprotect(p, kWriterBytes, PROT_READ);
    munmap(p, kWriterBytes);
    latency.Record(clock.ToNs(CycleNow() - t0));
    ++report.ops;
  }
  report.latency.CopyFrom(latency);
}

Disturber Who() { return {"writer", "writer", "op"}; }

ResourceDemand Demand(const Params& params) {
  return ContentionDemand(params, 1, "the writer thread");
}

absl::StatusOr<std::unique_ptr<BenchmarkRun>> Start(const RunContext& context) {
  absl::StatusOr<std::unique_ptr<ContentionRun>> run =
      ContentionRun::Create(context, &WriterLoop, Who());
  if (!run.ok()) return run.status();
  return std::unique_ptr<BenchmarkRun>(std::move(*run));
}

}  // namespace

BenchmarkDefinition MmapWriterContentionBenchmark() {
  BenchmarkDefinition def;
  def.info.name = "mmap_writer_contention";
  def.info.description =
      "Threads fault while another thread runs mmap/mprotect/munmap (mmap_lock writers) in a "
      "loop; fault latency quantiles with the writer on and off.";
  def.info.params = ContentionParams();
  def.info.metrics = ContentionMetrics("writer");
  def.trace_scopes = ContentionScopes(Who());
  def.demand = &Demand;
  def.start = &Start;
  return def;
}

}  // namespace faultline::agent::bench::benchmarks
