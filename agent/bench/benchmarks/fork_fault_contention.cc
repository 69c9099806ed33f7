// fork_fault_contention: T threads fault continuously while one thread forks in a loop. fork()
// write-locks mmap_lock and every VMA, so faulting threads queue behind it; the baseline arm
// runs the same faults with the forking thread idle.
#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/bench/benchmarks/benchmarks.h"
#include "agent/bench/benchmarks/contention.h"
#include "agent/bench/cycle_clock.h"

namespace faultline::agent::bench::benchmarks {
namespace {

void ForkLoop(StartGate& gate, WorkerReport& report) {
  Histogram latency(HistogramImage::kSubBucketBits);
  const CycleClock& clock = CycleClock::Get();
  if (!gate.ArriveAndWait()) return;
  while (!gate.StopRequested()) {
    const uint64_t t0 = CycleNow();
    const pid_t pid = fork();
    if (pid == 0) _exit(0);
    const uint64_t t1 = CycleNow();
    if (pid < 0) {
      report.SetError("fork", errno);
      break;
    }
    int status;
    waitpid(pid, &status, 0);
    latency.Record(clock.ToNs(t1 - t0));
    ++report.ops;
  }
  report.latency.CopyFrom(latency);
}

Disturber Who() { return {"fork", "forker", "fork"}; }

ResourceDemand Demand(const Params& params) {
  return ContentionDemand(params, 2, "the forking thread and its child");
}

absl::StatusOr<std::unique_ptr<BenchmarkRun>> Start(const RunContext& context) {
  absl::StatusOr<std::unique_ptr<ContentionRun>> run =
      ContentionRun::Create(context, &ForkLoop, Who());
  if (!run.ok()) return run.status();
  return std::unique_ptr<BenchmarkRun>(std::move(*run));
}

}  // namespace

BenchmarkDefinition ForkFaultContentionBenchmark() {
  BenchmarkDefinition def;
  def.info.name = "fork_fault_contention";
  def.info.description =
      "Threads fault continuously while another thread forks in a loop; fault latency "
      "quantiles with fork on and off, and fork latency.";
  def.info.params = ContentionParams();
  def.info.metrics = ContentionMetrics("fork");
  def.trace_scopes = ContentionScopes(Who());
  def.demand = &Demand;
  def.start = &Start;
  return def;
}

}  // namespace faultline::agent::bench::benchmarks
