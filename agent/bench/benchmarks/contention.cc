#include "agent/bench/benchmarks/contention.h"

#include <errno.h>
#include <sys/mman.h>

#include "absl/strings/str_cat.h"
#include "agent/bench/cycle_clock.h"
#include "agent/bench/host_memory.h"
#include "agent/bench/params.h"

namespace faultline::agent::bench::benchmarks {
namespace {

// A faulter never runs more passes than this, whatever the clock says.
constexpr int64_t kMaxPassesPerArm = 1'000'000;

bool UsesFile(FaultKind kind, int index) {
  return kind == FaultKind::kFileCold || (kind == FaultKind::kMixed && index % 2 == 1);
}

}  // namespace

void ContentionRun::Fault(int index, StartGate& gate, WorkerReport& report) const {
  Histogram latency(HistogramImage::kSubBucketBits);
  const CycleClock& clock = CycleClock::Get();
  const ScratchFile* file = UsesFile(config_.kind, index) ? files_[index].get() : nullptr;
  if (!gate.ArriveAndWait()) return;
  const int64_t start_ns = MonotonicNowNs();
  for (int64_t pass = 0; pass < kMaxPassesPerArm && !gate.StopRequested(); ++pass) {
    void* p;
    if (file != nullptr) {
      file->Evict();
      p = mmap(nullptr, config_.chunk_bytes, PROT_READ, MAP_SHARED, file->fd(), 0);
      if (p != MAP_FAILED) madvise(p, config_.chunk_bytes, MADV_RANDOM);
    } else {
      p = mmap(nullptr, config_.chunk_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
               -1, 0);
      if (p != MAP_FAILED && config_.thp_advice != 0) {
        madvise(p, config_.chunk_bytes, config_.thp_advice);
      }
    }
    if (p == MAP_FAILED) {
      report.SetError("mmap", errno);
      break;
    }
    volatile char* region = static_cast<char*>(p);
    for (size_t off = 0; off < config_.chunk_bytes; off += config_.page_size) {
      const uint64_t t0 = CycleNow();
      if (file != nullptr) {
        (void)region[off];
      } else {
        region[off] = 1;
      }
      latency.Record(clock.ToNs(CycleNow() - t0));
    }
    munmap(p, config_.chunk_bytes);
    report.ops += config_.chunk_bytes / config_.page_size;
  }
  report.busy_ns = MonotonicNowNs() - start_ns;
  report.latency.CopyFrom(latency);
}

absl::StatusOr<ContentionOutcome> ContentionRun::RunArms(RepetitionResult& out) {
  ContentionOutcome outcome;
  for (bool contended : {false, true}) {
    const KernelCounters::Snapshot before =
        counters_ != nullptr ? counters_->Read() : KernelCounters::Snapshot();
    WorkerOptions options;
    options.mode = WorkerMode::kThread;  // The point is one shared mm.
    options.workers = config_.faulters + 1;
    options.pin_cpus = config_.pin_cpus;
    options.deadline_ns = config_.deadline_ns;
    options.stop_after_ns = config_.arm_ns;
    absl::StatusOr<WorkerGroupResult> group =
        RunWorkers(options, [&](int index, StartGate& gate, WorkerReport& report) {
          if (index < config_.faulters) {
            Fault(index, gate, report);
          } else if (contended) {
            disturber_(gate, report);
          } else {
            gate.ArriveAndWait();
          }
        });
    if (!group.ok()) return group.status();
    const std::string arm = contended ? "contended." : "baseline.";
    // Each arm's own counters: added together they would hide which arm moved.
    RepetitionResult arm_counters;
    if (counters_ != nullptr) {
      KernelCounters::FillDelta(before, counters_->Read(), &arm_counters);
      for (const auto& [name, value] : arm_counters.counters) out.counters[arm + name] = value;
    }
    uint64_t pages = 0;
    for (int i = 0; i < config_.faulters; ++i) {
      const WorkerReport& r = group->reports[i];
      AddTaskScope(out, r.tid, arm + "faulter", r.ops);
      pages += r.ops;
      (contended ? outcome.contended_faults : outcome.baseline_faults)
          .Merge(r.latency.ToHistogram());
    }
    if (pages == 0 || group->wall_ns <= 0) {
      return absl::InternalError(absl::StrCat("no fault completed in the ",
                                              contended ? "contended" : "baseline", " arm"));
    }
    if (counters_ != nullptr) {
      std::map<std::string, int64_t> prefixed;
      for (const auto& [name, value] : arm_counters.counters) prefixed[arm + name] = value;
      KernelCounters::AddVmaLockPerOperation(prefixed, arm, pages, "fault", out);
    }
    const double rate = pages * 1e9 / group->wall_ns;
    (contended ? outcome.contended_faults_per_sec : outcome.baseline_faults_per_sec) = rate;
    if (contended) {
      const WorkerReport& r = group->reports.back();
      outcome.disturber_ops = r.latency.ToHistogram();
      AddTaskScope(out, r.tid, arm + who_.role, r.ops);
    }
  }
  return outcome;
}

absl::Status ContentionRun::Repeat(RepetitionResult& out) {
  absl::StatusOr<ContentionOutcome> o = RunArms(out);
  if (!o.ok()) return o.status();
  if (o->disturber_ops.total_count() == 0) {
    return absl::InternalError(absl::StrCat("the ", disturber_name_, " thread did no work"));
  }
  const Histogram& base = o->baseline_faults;
  const Histogram& cont = o->contended_faults;
  AddMetric(out, "fault_p50_ns", cont.Quantile(0.5));
  AddMetric(out, "fault_p99_ns", cont.Quantile(0.99));
  AddMetric(out, "fault_p999_ns", cont.Quantile(0.999));
  AddMetric(out, "fault_max_ns", static_cast<double>(cont.max()));
  AddMetric(out, "baseline_fault_p50_ns", base.Quantile(0.5));
  AddMetric(out, "baseline_fault_p99_ns", base.Quantile(0.99));
  AddMetric(out, "baseline_fault_p999_ns", base.Quantile(0.999));
  AddMetric(out, "baseline_fault_max_ns", static_cast<double>(base.max()));
  AddMetric(out, "p99_penalty_ratio", cont.Quantile(0.99) / base.Quantile(0.99));
  AddMetric(out, "faults_per_sec", o->contended_faults_per_sec);
  AddMetric(out, "baseline_faults_per_sec", o->baseline_faults_per_sec);
  AddMetric(out, disturber_name_ + "_ns", o->disturber_ops.Mean());
  AddMetric(out, disturber_name_ + "_p99_ns", o->disturber_ops.Quantile(0.99));
  AddMetric(out, disturber_name_ + "_ops", static_cast<double>(o->disturber_ops.total_count()));
  out.histograms.emplace_back("fault_latency_ns", cont);
  out.histograms.emplace_back("baseline_fault_latency_ns", base);
  out.histograms.emplace_back(disturber_name_ + "_latency_ns", o->disturber_ops);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<ContentionRun>> ContentionRun::Create(const RunContext& context,
                                                                     DisturberFn disturber,
                                                                     Disturber who) {
  absl::StatusOr<ThpMode> thp = ParseThpMode(GetEnum(context.params, "thp"));
  if (!thp.ok()) return thp.status();
  Config config;
  config.faulters = static_cast<int>(GetInt(context.params, "threads"));
  const std::string kind = GetEnum(context.params, "faults");
  config.kind = kind == "file_cold" ? FaultKind::kFileCold
                : kind == "mixed"   ? FaultKind::kMixed
                                    : FaultKind::kAnon;
  config.chunk_bytes = static_cast<size_t>(GetInt(context.params, "region_mib")) << 20;
  config.page_size = PageSize();
  config.thp_advice = ThpAdvice(*thp);
  config.arm_ns = GetInt(context.params, "duration_ms") * 1'000'000;
  config.deadline_ns = context.deadline_ns;
  config.pin_cpus = GetBool(context.params, "pin_cpus");

  std::vector<std::unique_ptr<ScratchFile>> files(config.faulters);
  if (config.kind != FaultKind::kAnon) {
    const std::string& dir = context.scratch_dir;
    absl::StatusOr<bool> in_memory = IsMemoryBackedFilesystem(dir);
    if (!in_memory.ok()) return in_memory.status();
    if (*in_memory) {
      return absl::FailedPreconditionError(
          absl::StrCat(dir, " is tmpfs/ramfs: cold file faults need a disk "
                            "(set FAULTLINE_BENCH_DIR)"));
    }
    for (int i = 0; i < config.faulters; ++i) {
      if (!UsesFile(config.kind, i)) continue;
      absl::StatusOr<std::unique_ptr<ScratchFile>> file =
          ScratchFile::Create(dir, config.chunk_bytes, ScratchOptionsFor(context));
      if (!file.ok()) return file.status();
      files[i] = *std::move(file);
    }
  }
  CycleClock::Get();
  std::unique_ptr<ContentionRun> run(
      new ContentionRun(config, disturber, std::move(who), std::move(files)));
  run->counters_ = context.counters;
  return run;
}

std::vector<TraceScope> ContentionScopes(const Disturber& who) {
  return {{"baseline.faulter", "fault"},
          {"contended.faulter", "fault"},
          {"contended." + who.role, who.op}};
}

std::vector<ParamSpec> ContentionParams() {
  return {
      IntParam("threads", "Faulting threads (the disturbing thread comes on top).", "threads", 1,
               1, 256),
      EnumParam("faults",
                "What the faulting threads fault on: fresh anonymous memory, a cold file, or "
                "half each.",
                {"anon", "file_cold", "mixed"}, "anon"),
      IntParam("region_mib", "Region each faulting thread maps, touches and unmaps per pass.",
               "MiB", 8, 1, 4096),
      IntParam("duration_ms", "Length of each arm (baseline, then contended).", "ms", 500, 20,
               600000),
      ThpParam(),
      PinCpusParam(),
  };
}

std::vector<MetricSpec> ContentionMetrics(const std::string& d) {
  std::vector<MetricSpec> metrics = {
      {"fault_p50_ns", "ns", Direction::kLowerIsBetter, "Median fault latency, contended arm."},
      {"fault_p99_ns", "ns", Direction::kLowerIsBetter, "p99 fault latency, contended arm."},
      {"fault_p999_ns", "ns", Direction::kLowerIsBetter, "p99.9 fault latency, contended arm."},
      {"fault_max_ns", "ns", Direction::kLowerIsBetter, "Worst fault latency, contended arm."},
      {"baseline_fault_p50_ns", "ns", Direction::kLowerIsBetter,
       "Median fault latency with the " + d + " thread idle."},
      {"baseline_fault_p99_ns", "ns", Direction::kLowerIsBetter,
       "p99 fault latency with the " + d + " thread idle."},
      {"baseline_fault_p999_ns", "ns", Direction::kLowerIsBetter,
       "p99.9 fault latency with the " + d + " thread idle."},
      {"baseline_fault_max_ns", "ns", Direction::kLowerIsBetter,
       "Worst fault latency with the " + d + " thread idle."},
      {"p99_penalty_ratio", "ratio", Direction::kLowerIsBetter,
       "Contended over baseline p99 fault latency."},
      {"faults_per_sec", "1/s", Direction::kHigherIsBetter, "Fault rate, contended arm."},
      {"baseline_faults_per_sec", "1/s", Direction::kHigherIsBetter, "Fault rate, baseline arm."},
      {d + "_ns", "ns", Direction::kLowerIsBetter, "Mean latency of one " + d + " operation."},
      {d + "_p99_ns", "ns", Direction::kLowerIsBetter, "p99 latency of one " + d + " operation."},
      {d + "_ops", "count", Direction::kNeutral, d + " operations in the contended arm."},
  };
  for (const char* arm : {"baseline.", "contended."}) {
    for (MetricSpec& spec : KernelCounters::VmaLockMetricSpecs(arm, "fault")) {
      metrics.push_back(std::move(spec));
    }
  }
  return metrics;
}

ResourceDemand ContentionDemand(const Params& params, int64_t extra_tasks,
                                const std::string& extra_from) {
  const int64_t threads = GetInt(params, "threads");
  const int64_t region_mib = GetInt(params, "region_mib");
  const std::string kind = GetEnum(params, "faults");
  ResourceDemand demand = RegionPerWorkerDemand(params);
  // Faulters with an odd index use a file in "mixed" (see UsesFile).
  const int64_t files = kind == "file_cold" ? threads : kind == "mixed" ? threads / 2 : 0;
  demand.scratch_bytes = static_cast<uint64_t>(files) * static_cast<uint64_t>(region_mib) << 20;
  demand.scratch_from = absl::StrCat("region_mib x ", files, " cold files (", region_mib,
                                     " MiB x ", files, ", faults=", kind, ")");
  demand.tasks = threads + extra_tasks;
  demand.tasks_from = absl::StrCat("threads (", threads, ") + ", extra_from);
  return demand;
}

}  // namespace faultline::agent::bench::benchmarks
