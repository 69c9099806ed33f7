// fork_fault_contention: T threads fault continuously while one thread forks in a loop (fork in
// a multithreaded process). fork() write-locks mmap_lock and every VMA (dup_mmap in
// kernel/fork.c) and copies the page tables of anonymous VMAs, so faulting threads queue behind
// it for longer the bigger the parent: touched_mib MiB of touched memory in `vmas` VMAs, on top
// of the faulters' own regions. The baseline arm runs the same faults with the forking thread
// idle.
#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "agent/bench/benchmarks/benchmarks.h"
#include "agent/bench/benchmarks/contention.h"
#include "agent/bench/benchmarks/mapped_chunks.h"
#include "agent/bench/cycle_clock.h"
#include "agent/bench/host_memory.h"
#include "agent/bench/params.h"

namespace faultline::agent::bench::benchmarks {
namespace {

class Forker : public DisturberLoop {
 public:
  explicit Forker(std::unique_ptr<MappedChunks> parent_memory)
      : parent_memory_(std::move(parent_memory)) {}

  void Run(StartGate& gate, WorkerReport& report) override {
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

 private:
  std::unique_ptr<MappedChunks> parent_memory_;
};

Disturber Who() { return {"fork", "forker", "fork"}; }

ResourceDemand Demand(const Params& params) {
  ResourceDemand demand = ContentionDemand(params, 2, "the forking thread and its child");
  const int64_t touched_mib = GetInt(params, "touched_mib");
  demand.memory_bytes += MappedChunks::MemoryBytes(touched_mib);
  absl::StrAppend(&demand.memory_from, " + touched_mib (", touched_mib, " MiB, with page tables)");
  return demand;
}

absl::StatusOr<std::unique_ptr<BenchmarkRun>> Start(const RunContext& context) {
  absl::StatusOr<ThpMode> thp = ParseThpMode(GetEnum(context.params, "thp"));
  if (!thp.ok()) return thp.status();
  absl::StatusOr<std::unique_ptr<MappedChunks>> memory = MappedChunks::Create(
      static_cast<size_t>(GetInt(context.params, "touched_mib")) << 20,
      static_cast<int>(GetInt(context.params, "vmas")), ThpAdvice(*thp));
  if (!memory.ok()) return memory.status();
  absl::StatusOr<std::unique_ptr<ContentionRun>> run = ContentionRun::Create(
      context, std::make_unique<Forker>(*std::move(memory)), Who());
  if (!run.ok()) return run.status();
  return std::unique_ptr<BenchmarkRun>(std::move(*run));
}

}  // namespace

BenchmarkDefinition ForkFaultContentionBenchmark() {
  BenchmarkDefinition def;
  def.info.name = "fork_fault_contention";
  def.info.description =
      "Threads fault continuously while another thread forks in a loop, the parent carrying "
      "touched_mib MiB of touched memory in vmas VMAs besides; fault latency quantiles with fork "
      "on and off, and fork latency and rate.";
  def.info.params = ContentionParams();
  // Spelled as fork_mapped's, which forks the same parent with nobody faulting.
  def.info.params.push_back(IntParam("touched_mib",
                                     "Anonymous memory the forking parent has touched besides "
                                     "the faulters' regions.",
                                     "MiB", 0, 0, 65536));
  def.info.params.push_back(IntParam(
      "vmas", "Number of separate VMAs that memory is split into (each at least one page).",
      "vmas", 1, 1, 30000));
  def.info.metrics = ContentionMetrics("fork");
  def.trace_scopes = ContentionScopes(Who());
  def.demand = &Demand;
  def.start = &Start;
  return def;
}

}  // namespace faultline::agent::bench::benchmarks
