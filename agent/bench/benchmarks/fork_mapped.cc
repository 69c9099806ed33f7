// fork_mapped: fork() latency of a parent with N MiB of touched anonymous memory spread over M
// VMAs; the child exits at once. Reports the fork syscall time seen by the parent and the time
// from fork to reaping the child (which includes tearing down the child's copy of the mm).
#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "agent/bench/benchmarks/benchmarks.h"
#include "agent/bench/benchmarks/mapped_chunks.h"
#include "agent/bench/cycle_clock.h"
#include "agent/bench/host_memory.h"
#include "agent/bench/params.h"
#include "agent/bench/workers.h"

namespace faultline::agent::bench::benchmarks {
namespace {

class ForkMappedRun : public BenchmarkRun {
 public:
  ForkMappedRun(int forks, int64_t deadline_ns, std::unique_ptr<MappedChunks> memory)
      : forks_(forks), deadline_ns_(deadline_ns), memory_(std::move(memory)) {}

  absl::Status Repeat(RepetitionResult& out) override {
    const CycleClock& clock = CycleClock::Get();
    Histogram fork_latency(HistogramImage::kSubBucketBits);
    Histogram reap_latency(HistogramImage::kSubBucketBits);
    for (int i = 0; i < forks_ && MonotonicNowNs() < deadline_ns_; ++i) {
      const uint64_t t0 = CycleNow();
      const pid_t pid = fork();
      if (pid == 0) _exit(0);
      const uint64_t t1 = CycleNow();
      if (pid < 0) return absl::ResourceExhaustedError(absl::StrCat("fork: ", strerror(errno)));
      int status;
      if (waitpid(pid, &status, 0) != pid) {
        return absl::InternalError(absl::StrCat("waitpid: ", strerror(errno)));
      }
      const uint64_t t2 = CycleNow();
      fork_latency.Record(clock.ToNs(t1 - t0));
      reap_latency.Record(clock.ToNs(t2 - t0));
    }
    if (fork_latency.total_count() == 0) return absl::InternalError("no fork completed");
    AddTaskScope(out, static_cast<int>(gettid()), "forker", fork_latency.total_count());
    AddMetric(out, "fork_ns", fork_latency.Mean());
    AddMetric(out, "fork_to_reap_ns", reap_latency.Mean());
    AddMetric(out, "fork_p99_ns", fork_latency.Quantile(0.99));
    AddMetric(out, "forks", static_cast<double>(fork_latency.total_count()));
    out.histograms.emplace_back("fork_latency_ns", fork_latency);
    out.histograms.emplace_back("fork_to_reap_latency_ns", reap_latency);
    return absl::OkStatus();
  }

 private:
  int forks_;
  int64_t deadline_ns_;
  std::unique_ptr<MappedChunks> memory_;
};

ResourceDemand Demand(const Params& params) {
  const int64_t touched_mib = GetInt(params, "touched_mib");
  ResourceDemand demand;
  demand.memory_bytes = MappedChunks::MemoryBytes(touched_mib);
  demand.memory_from = absl::StrCat("touched_mib (", touched_mib, " MiB, with page tables)");
  // One child at a time, reaped before the next fork.
  demand.tasks = 1;
  demand.tasks_from = "one forked child at a time";
  return demand;
}

absl::StatusOr<std::unique_ptr<BenchmarkRun>> Start(const RunContext& context) {
  absl::StatusOr<ThpMode> thp = ParseThpMode(GetEnum(context.params, "thp"));
  if (!thp.ok()) return thp.status();
  absl::StatusOr<std::unique_ptr<MappedChunks>> memory = MappedChunks::Create(
      static_cast<size_t>(GetInt(context.params, "touched_mib")) << 20,
      static_cast<int>(GetInt(context.params, "vmas")), ThpAdvice(*thp));
  if (!memory.ok()) return memory.status();
  CycleClock::Get();
  return std::unique_ptr<BenchmarkRun>(new ForkMappedRun(
      static_cast<int>(GetInt(context.params, "forks")), context.deadline_ns,
      *std::move(memory)));
}

}  // namespace

BenchmarkDefinition ForkMappedBenchmark() {
  BenchmarkDefinition def;
  def.info.name = "fork_mapped";
  def.info.description =
      "fork() latency of a parent with touched_mib MiB of touched anonymous memory in vmas "
      "VMAs; the child exits at once.";
  def.info.params = {
      IntParam("touched_mib", "Anonymous memory the parent has touched.", "MiB", 256, 0, 65536),
      IntParam("vmas", "Number of separate VMAs that memory is split into.", "vmas", 1, 1,
               30000),
      IntParam("forks", "fork()s per repetition.", "forks", 50, 1, 100000),
      ThpParam(),
  };
  def.info.metrics = {
      {"fork_ns", "ns", Direction::kLowerIsBetter, "Mean time of the fork() call in the parent."},
      {"fork_to_reap_ns", "ns", Direction::kLowerIsBetter,
       "Mean time from fork() to waitpid() returning for the exited child."},
      {"fork_p99_ns", "ns", Direction::kLowerIsBetter, "99th percentile of fork() time."},
      {"forks", "count", Direction::kNeutral, "fork()s measured."},
  };
  def.trace_scopes = {{"forker", "fork"}};
  def.demand = &Demand;
  def.start = &Start;
  return def;
}

}  // namespace faultline::agent::bench::benchmarks
