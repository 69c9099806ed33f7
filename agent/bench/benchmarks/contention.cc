#include "agent/bench/benchmarks/contention.h"

#include <errno.h>
#include <sys/mman.h>

#include "absl/strings/str_cat.h"
#include "agent/bench/benchmarks/isolated_vma.h"
#include "agent/bench/cycle_clock.h"
#include "agent/bench/host_memory.h"
#include "agent/bench/params.h"

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

namespace faultline::agent::bench::benchmarks {
namespace {

// A faulter never runs more passes than this, whatever the clock says. It always runs one, even
// when it gets the CPU only after the arm's end (a busy host), so that every kind has figures.
constexpr int64_t kMaxPassesPerArm = 1'000'000;

// The kind faulter `index` faults on.
FaultKind KindOf(FaultKind requested, int index) {
  if (requested != FaultKind::kMixed) return requested;
  return index % 2 == 0 ? FaultKind::kAnon : FaultKind::kFileCold;
}

const char* KindName(FaultKind kind) {
  switch (kind) {
    case FaultKind::kAnon:
      return "anon";
    case FaultKind::kFileCold:
      return "file_cold";
    case FaultKind::kSwapin:
      return "swapin";
    case FaultKind::kMixed:
      return "mixed";
  }
  return "?";
}

// Touches every page of [region, region + bytes), timing each access.
void TimedTouch(volatile char* region, size_t bytes, size_t page_size, bool write,
                Histogram& latency) {
  const CycleClock& clock = CycleClock::Get();
  for (size_t off = 0; off < bytes; off += page_size) {
    const uint64_t t0 = CycleNow();
    if (write) {
      region[off] = 1;
    } else {
      (void)region[off];
    }
    latency.Record(clock.ToNs(CycleNow() - t0));
  }
}

// The names of one kind's fault metrics: "fault_p99_ns", "baseline_fault_p99_ns" for a single
// kind; "anon_fault_p99_ns", "baseline_anon_fault_p99_ns" when faults=mixed splits them.
struct FaultMetricNames {
  explicit FaultMetricNames(std::string kind_prefix) : p(std::move(kind_prefix)) {}
  std::string Contended(const std::string& stem) const { return p + stem; }
  std::string Baseline(const std::string& stem) const { return "baseline_" + p + stem; }
  std::string p;
};

void AddFaultMetrics(const FaultMetricNames& n, const Histogram& base, const Histogram& cont,
                     double base_rate, double cont_rate, RepetitionResult& out) {
  for (const auto& [stem, q] : {std::pair<const char*, double>{"fault_p50_ns", 0.5},
                                {"fault_p99_ns", 0.99},
                                {"fault_p999_ns", 0.999}}) {
    AddMetric(out, n.Contended(stem), cont.Quantile(q));
    AddMetric(out, n.Baseline(stem), base.Quantile(q));
  }
  AddMetric(out, n.Contended("fault_max_ns"), static_cast<double>(cont.max()));
  AddMetric(out, n.Baseline("fault_max_ns"), static_cast<double>(base.max()));
  AddMetric(out, n.Contended("p99_penalty_ratio"), cont.Quantile(0.99) / base.Quantile(0.99));
  AddMetric(out, n.Contended("faults_per_sec"), cont_rate);
  AddMetric(out, n.Baseline("faults_per_sec"), base_rate);
  out.histograms.emplace_back(n.Contended("fault_latency_ns"), cont);
  out.histograms.emplace_back(n.Baseline("fault_latency_ns"), base);
}

void AddFaultMetricSpecs(const FaultMetricNames& n, const std::string& what,
                         const std::string& d, std::vector<MetricSpec>& out) {
  const std::string idle = " with the " + d + " thread idle";
  for (const auto& [stem, label] : {std::pair<const char*, const char*>{"fault_p50_ns", "Median"},
                                    {"fault_p99_ns", "p99"},
                                    {"fault_p999_ns", "p99.9"},
                                    {"fault_max_ns", "Worst"}}) {
    out.push_back({n.Contended(stem), "ns", Direction::kLowerIsBetter,
                   absl::StrCat(label, " ", what, "fault latency, contended arm.")});
    out.push_back({n.Baseline(stem), "ns", Direction::kLowerIsBetter,
                   absl::StrCat(label, " ", what, "fault latency", idle, ".")});
  }
  out.push_back({n.Contended("p99_penalty_ratio"), "ratio", Direction::kLowerIsBetter,
                 absl::StrCat("Contended over baseline p99 ", what, "fault latency.")});
  const std::string rate = what.empty() ? "Fault rate" : what + "fault rate";
  out.push_back({n.Contended("faults_per_sec"), "1/s", Direction::kHigherIsBetter,
                 rate + ", contended arm."});
  out.push_back({n.Baseline("faults_per_sec"), "1/s", Direction::kHigherIsBetter,
                 rate + ", baseline arm."});
}

}  // namespace

void ContentionRun::Fault(int index, StartGate& gate, WorkerReport& report) const {
  switch (KindOf(config_.kind, index)) {
    case FaultKind::kFileCold:
      FaultFileCold(*files_[index], gate, report);
      return;
    case FaultKind::kSwapin:
      FaultSwapin(gate, report);
      return;
    default:
      FaultFreshAnon(gate, report);
      return;
  }
}

// Each pass maps a new VMA that merges with nothing (IsolatedVma), so the first write fault of
// every pass finds no anon_vma and goes through __vmf_anon_prepare, whose mmap_read_trylock
// fails while a writer holds mmap_lock.
void ContentionRun::FaultFreshAnon(StartGate& gate, WorkerReport& report) const {
  Histogram latency(HistogramImage::kSubBucketBits);
  absl::StatusOr<std::unique_ptr<IsolatedVma>> vma = IsolatedVma::Reserve(config_.chunk_bytes);
  if (!vma.ok()) {
    report.SetError("mmap (reservation)", ENOMEM);
    return;
  }
  if (!gate.ArriveAndWait()) return;
  const int64_t start_ns = MonotonicNowNs();
  for (int64_t pass = 0; pass < kMaxPassesPerArm && (pass == 0 || !gate.StopRequested()); ++pass) {
    if (!(*vma)->Map(PROT_READ | PROT_WRITE)) {
      report.SetError("mmap", errno);
      break;
    }
    if (config_.thp_advice != 0) madvise((*vma)->data(), config_.chunk_bytes, config_.thp_advice);
    TimedTouch((*vma)->data(), config_.chunk_bytes, config_.page_size, /*write=*/true, latency);
    if (!(*vma)->Release()) {
      report.SetError("mmap (release)", errno);
      break;
    }
    report.ops += config_.chunk_bytes / config_.page_size;
  }
  report.busy_ns = MonotonicNowNs() - start_ns;
  report.latency.CopyFrom(latency);
}

void ContentionRun::FaultFileCold(const ScratchFile& file, StartGate& gate,
                                  WorkerReport& report) const {
  Histogram latency(HistogramImage::kSubBucketBits);
  if (!gate.ArriveAndWait()) return;
  const int64_t start_ns = MonotonicNowNs();
  for (int64_t pass = 0; pass < kMaxPassesPerArm && (pass == 0 || !gate.StopRequested()); ++pass) {
    file.Evict();
    void* p = mmap(nullptr, config_.chunk_bytes, PROT_READ, MAP_SHARED, file.fd(), 0);
    if (p == MAP_FAILED) {
      report.SetError("mmap", errno);
      break;
    }
    madvise(p, config_.chunk_bytes, MADV_RANDOM);
    TimedTouch(static_cast<char*>(p), config_.chunk_bytes, config_.page_size, /*write=*/false,
               latency);
    munmap(p, config_.chunk_bytes);
    report.ops += config_.chunk_bytes / config_.page_size;
  }
  report.busy_ns = MonotonicNowNs() - start_ns;
  report.latency.CopyFrom(latency);
}

// As fault_swapin: the region is written once before the arm, then each pass pushes it out with
// MADV_PAGEOUT (untimed) and reads it back, one swap-in fault per page.
void ContentionRun::FaultSwapin(StartGate& gate, WorkerReport& report) const {
  Histogram latency(HistogramImage::kSubBucketBits);
  absl::StatusOr<std::unique_ptr<IsolatedVma>> vma = IsolatedVma::Reserve(config_.chunk_bytes);
  if (!vma.ok() || !(*vma)->Map(PROT_READ | PROT_WRITE)) {
    report.SetError("mmap", vma.ok() ? errno : ENOMEM);
    return;
  }
  char* region = (*vma)->data();
  // Base pages: a THP would be split or swapped whole, and the figures are per 4 KiB fault.
  madvise(region, config_.chunk_bytes, MADV_NOHUGEPAGE);
  for (size_t off = 0; off < config_.chunk_bytes; off += config_.page_size) region[off] = 1;
  if (!gate.ArriveAndWait()) return;
  const int64_t start_ns = MonotonicNowNs();
  for (int64_t pass = 0; pass < kMaxPassesPerArm && (pass == 0 || !gate.StopRequested()); ++pass) {
    if (madvise(region, config_.chunk_bytes, MADV_PAGEOUT) != 0) {
      report.SetError("madvise(MADV_PAGEOUT)", errno);
      break;
    }
    TimedTouch(region, config_.chunk_bytes, config_.page_size, /*write=*/false, latency);
    report.ops += config_.chunk_bytes / config_.page_size;
  }
  report.busy_ns = MonotonicNowNs() - start_ns;
  report.latency.CopyFrom(latency);
}

absl::StatusOr<ContentionRun::Outcome> ContentionRun::RunArms(RepetitionResult& out) {
  Outcome outcome;
  for (int i = 0; i < config_.faulters; ++i) {
    const FaultKind kind = KindOf(config_.kind, i);
    bool seen = false;
    for (const KindArms& k : outcome.kinds) seen = seen || k.kind == kind;
    if (!seen) outcome.kinds.push_back(KindArms{kind});
  }
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
            disturber_->Run(gate, report);
          } else {
            gate.ArriveAndWait();
          }
        });
    if (!group.ok()) return group.status();
    if (group->wall_ns <= 0) return absl::InternalError("an arm took no time");
    const std::string arm = contended ? "contended." : "baseline.";
    // Each arm's own counters: added together they would hide which arm moved.
    RepetitionResult arm_counters;
    if (counters_ != nullptr) {
      KernelCounters::FillDelta(before, counters_->Read(), &arm_counters);
      for (const auto& [name, value] : arm_counters.counters) out.counters[arm + name] = value;
    }
    uint64_t all_pages = 0;
    for (int i = 0; i < config_.faulters; ++i) {
      const WorkerReport& r = group->reports[i];
      AddTaskScope(out, r.tid, arm + "faulter", r.ops);
      all_pages += r.ops;
    }
    for (KindArms& k : outcome.kinds) {
      uint64_t pages = 0;
      Histogram& latency = contended ? k.contended : k.baseline;
      for (int i = 0; i < config_.faulters; ++i) {
        if (KindOf(config_.kind, i) != k.kind) continue;
        const WorkerReport& r = group->reports[i];
        pages += r.ops;
        latency.Merge(r.latency.ToHistogram());
      }
      if (pages == 0) {
        return absl::InternalError(absl::StrCat("no ", KindName(k.kind), " fault completed in the ",
                                                contended ? "contended" : "baseline", " arm"));
      }
      (contended ? k.contended_per_sec : k.baseline_per_sec) = pages * 1e9 / group->wall_ns;
    }
    if (counters_ != nullptr) {
      std::map<std::string, int64_t> prefixed;
      for (const auto& [name, value] : arm_counters.counters) prefixed[arm + name] = value;
      KernelCounters::AddVmaLockPerOperation(prefixed, arm, all_pages, "fault", out);
    }
    if (contended) {
      const WorkerReport& d = group->reports.back();
      outcome.disturber_ops = d.latency.ToHistogram();
      outcome.disturber_ops_per_sec = d.ops * 1e9 / group->wall_ns;
      AddTaskScope(out, d.tid, arm + who_.role, d.ops);
    }
  }
  return outcome;
}

absl::Status ContentionRun::Repeat(RepetitionResult& out) {
  absl::StatusOr<Outcome> o = RunArms(out);
  if (!o.ok()) return o.status();
  if (o->disturber_ops.total_count() == 0) {
    return absl::InternalError(absl::StrCat("the ", disturber_name_, " thread did no work"));
  }
  for (const KindArms& k : o->kinds) {
    const FaultMetricNames names(config_.kind == FaultKind::kMixed
                                     ? absl::StrCat(KindName(k.kind), "_")
                                     : std::string());
    AddFaultMetrics(names, k.baseline, k.contended, k.baseline_per_sec, k.contended_per_sec,
                    out);
  }
  const std::string& d = disturber_name_;
  AddMetric(out, d + "_ns", o->disturber_ops.Mean());
  AddMetric(out, d + "_p99_ns", o->disturber_ops.Quantile(0.99));
  AddMetric(out, d + "_ops", static_cast<double>(o->disturber_ops.total_count()));
  AddMetric(out, d + "_ops_per_sec", o->disturber_ops_per_sec);
  out.histograms.emplace_back(d + "_latency_ns", o->disturber_ops);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<ContentionRun>> ContentionRun::Create(
    const RunContext& context, std::unique_ptr<DisturberLoop> disturber, Disturber who) {
  absl::StatusOr<ThpMode> thp = ParseThpMode(GetEnum(context.params, "thp"));
  if (!thp.ok()) return thp.status();
  Config config;
  config.faulters = static_cast<int>(GetInt(context.params, "threads"));
  const std::string kind = GetEnum(context.params, "faults");
  config.kind = kind == "file_cold" ? FaultKind::kFileCold
                : kind == "swapin"  ? FaultKind::kSwapin
                : kind == "mixed"   ? FaultKind::kMixed
                                    : FaultKind::kAnon;
  config.chunk_bytes = static_cast<size_t>(GetInt(context.params, "region_mib")) << 20;
  config.page_size = PageSize();
  config.thp_advice = ThpAdvice(*thp);
  config.arm_ns = GetInt(context.params, "duration_ms") * 1'000'000;
  config.deadline_ns = context.deadline_ns;
  config.pin_cpus = GetBool(context.params, "pin_cpus");
  if (config.kind == FaultKind::kMixed && config.faulters < 2) {
    return absl::InvalidArgumentError(
        "threads: faults=mixed needs at least 2 faulting threads (one of each kind)");
  }
  if (config.kind == FaultKind::kSwapin) {
    absl::Status swap = SwapHolds(static_cast<uint64_t>(config.faulters) * config.chunk_bytes);
    if (!swap.ok()) return swap;
  }

  std::vector<std::unique_ptr<ScratchFile>> files(config.faulters);
  if (config.kind == FaultKind::kFileCold || config.kind == FaultKind::kMixed) {
    const std::string& dir = context.scratch_dir;
    absl::StatusOr<bool> in_memory = IsMemoryBackedFilesystem(dir);
    if (!in_memory.ok()) return in_memory.status();
    if (*in_memory) {
      return absl::FailedPreconditionError(
          absl::StrCat(dir, " is tmpfs/ramfs: cold file faults need a disk "
                            "(set FAULTLINE_BENCH_DIR)"));
    }
    for (int i = 0; i < config.faulters; ++i) {
      if (KindOf(config.kind, i) != FaultKind::kFileCold) continue;
      absl::StatusOr<std::unique_ptr<ScratchFile>> file =
          ScratchFile::Create(dir, config.chunk_bytes, ScratchOptionsFor(context));
      if (!file.ok()) return file.status();
      files[i] = *std::move(file);
    }
  }
  CycleClock::Get();
  std::unique_ptr<ContentionRun> run(
      new ContentionRun(config, std::move(disturber), std::move(who), std::move(files)));
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
                "What the faulting threads fault on: the first write to a fresh anonymous VMA "
                "per pass (anon), a cold file (file_cold), anonymous pages paged out to swap "
                "(swapin; skipped without swap), or anon and file_cold on alternate threads "
                "with figures per kind (mixed; needs threads >= 2).",
                {"anon", "file_cold", "swapin", "mixed"}, "anon"),
      IntParam("region_mib", "Region each faulting thread faults in per pass.", "MiB", 8, 1,
               4096),
      IntParam("duration_ms", "Length of each arm (baseline, then contended).", "ms", 500, 20,
               600000),
      ThpParam(),
      PinCpusParam(),
  };
}

std::vector<MetricSpec> ContentionMetrics(const std::string& d) {
  std::vector<MetricSpec> metrics;
  AddFaultMetricSpecs(FaultMetricNames(""), "", d, metrics);
  for (FaultKind kind : {FaultKind::kAnon, FaultKind::kFileCold}) {
    const std::string name = KindName(kind);
    AddFaultMetricSpecs(FaultMetricNames(name + "_"), name + " (faults=mixed) ", d, metrics);
  }
  metrics.push_back(
      {d + "_ns", "ns", Direction::kLowerIsBetter, "Mean latency of one " + d + " operation."});
  metrics.push_back(
      {d + "_p99_ns", "ns", Direction::kLowerIsBetter, "p99 latency of one " + d + " operation."});
  metrics.push_back(
      {d + "_ops", "count", Direction::kNeutral, d + " operations in the contended arm."});
  metrics.push_back({d + "_ops_per_sec", "1/s", Direction::kHigherIsBetter,
                     d + " operations per second in the contended arm."});
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
  // Faulters with an odd index use a file in "mixed" (see KindOf).
  const int64_t files = kind == "file_cold" ? threads : kind == "mixed" ? threads / 2 : 0;
  demand.scratch_bytes = static_cast<uint64_t>(files) * static_cast<uint64_t>(region_mib) << 20;
  demand.scratch_from = absl::StrCat("region_mib x ", files, " cold files (", region_mib,
                                     " MiB x ", files, ", faults=", kind, ")");
  demand.tasks = threads + extra_tasks;
  demand.tasks_from = absl::StrCat("threads (", threads, ") + ", extra_from);
  return demand;
}

}  // namespace faultline::agent::bench::benchmarks
