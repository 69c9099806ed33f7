// The runner: catalog lookup, parameter resolution, the host guards, warm-up and measured
// repetitions with kernel counters around each, all within the run's time limit.
#include "agent/bench/runner.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "agent/bench/benchmark_definition.h"
#include "agent/bench/cycle_clock.h"
#include "agent/bench/host_limits.h"
#include "agent/bench/host_noise.h"
#include "agent/bench/kernel_counters.h"
#include "agent/bench/kernel_profile.h"
#include "agent/bench/mmap_lock_trace.h"
#include "agent/bench/params.h"
#include "agent/bench/scratch_file.h"

namespace faultline::agent::bench {
namespace {

// Catalog() lists the definitions' entries in their order, so an entry's position names its
// definition; nullptr for anything that is not an entry of Catalog().
const BenchmarkDefinition* DefinitionOf(const BenchmarkInfo& benchmark) {
  const std::vector<BenchmarkInfo>& catalog = Catalog();
  if (&benchmark < catalog.data() || &benchmark >= catalog.data() + catalog.size()) {
    return nullptr;
  }
  return &Definitions()[&benchmark - catalog.data()];
}

constexpr int64_t kMaxTimeLimitSeconds = 86400;

RunOutput Ended(RunStatus status, std::string diagnostic, Params params) {
  RunOutput out;
  out.status = status;
  out.diagnostic = std::move(diagnostic);
  out.params = std::move(params);
  return out;
}

// Ends the run at its time limit, keeping the repetitions completed so far.
RunOutput TimedOut(RunOutput out, const RunOptions& options, const std::string& when) {
  out.status = RunStatus::kFailed;
  out.time_limit_reached = true;
  out.diagnostic = absl::StrCat("timeout: the time limit of ", options.time_limit_seconds,
                                " s was reached ", when,
                                out.repetitions.empty() ? "" : " (those are kept)");
  return out;
}

// Lists every mmap_lock figure of `scopes` as unavailable in each measured repetition, unless
// an earlier tracing repetition has them.
void MarkTracingUnavailable(const std::vector<TraceScope>& scopes, const std::string& reason,
                            RunOutput& out) {
  if (!out.tracing_repetitions.empty()) return;
  for (RepetitionResult& rep : out.repetitions) {
    for (const std::string& name : MmapLockNames(scopes)) rep.unavailable_counters.push_back(name);
    rep.unavailable_reasons[kMmapLockFamily] = reason;
  }
}


std::string LateFor(const RunOptions& options, const char* what, int i) {
  return absl::StrCat("the time limit of ", options.time_limit_seconds, " s was reached before ",
                      what, " repetition ", i, " completed");
}

// Tracing, in repetitions of its own after the measured ones. The instance is filtered to this
// process and what it starts from now on, which is every worker of these repetitions. An error
// is a repetition that failed (the run fails); tracing that cannot be done is listed unavailable.
absl::Status TraceRepetitions(BenchmarkRun& run, const std::vector<TraceScope>& scopes,
                              const RunOptions& options, int64_t deadline_ns, RunOutput& out) {
  absl::StatusOr<std::unique_ptr<MmapLockTracer>> tracer = MmapLockTracer::Open();
  if (!tracer.ok()) {
    MarkTracingUnavailable(scopes, std::string(tracer.status().message()), out);
    return absl::OkStatus();
  }
  for (int i = 0; i < options.trace_repetitions; ++i) {
    // Every measured repetition is in: the time limit only costs the tracing figures.
    if (MonotonicNowNs() > deadline_ns) {
      MarkTracingUnavailable(scopes, LateFor(options, "tracing", i), out);
      return absl::OkStatus();
    }
    RepetitionResult rep;
    if (absl::Status s = (*tracer)->Start(); !s.ok()) {
      MarkTracingUnavailable(scopes, std::string(s.message()), out);
      return absl::OkStatus();
    }
    const int64_t start_ns = MonotonicNowNs();
    absl::Status status = run.Repeat(rep);
    rep.wall_ns = MonotonicNowNs() - start_ns;
    if (MonotonicNowNs() > deadline_ns) {
      (*tracer)->Stop().IgnoreError();
      MarkTracingUnavailable(scopes, LateFor(options, "tracing", i), out);
      return absl::OkStatus();
    }
    if (!status.ok()) {
      return absl::InternalError(absl::StrCat("tracing repetition ", i, ": ", status.message()));
    }
    RepetitionResult figures;
    figures.wall_ns = rep.wall_ns;
    figures.task_scopes = std::move(rep.task_scopes);
    figures.scope_ops = std::move(rep.scope_ops);
    if (absl::Status s = (*tracer)->Finish(scopes, figures); !s.ok()) {
      MarkTracingUnavailable(scopes, std::string(s.message()), out);
      return absl::OkStatus();
    }
    out.tracing_repetitions.push_back(std::move(figures));
  }
  return absl::OkStatus();
}

// The kernel profile, in repetitions of its own after the tracing ones (the sampler's
// interrupts cost the sampled tasks time too). Opened here, after the measured repetitions:
// the workers of each repetition are started by this thread later, so they inherit it. A
// profile that cannot be taken, or is cut short by the time limit, is unavailable with the
// reason: never an empty one.
absl::Status ProfileRepetitions(BenchmarkRun& run, const RunOptions& options,
                                int64_t deadline_ns, RunOutput& out) {
  absl::StatusOr<std::unique_ptr<KernelProfiler>> profiler = KernelProfiler::Open();
  if (!profiler.ok()) {
    out.profile.unavailable_reason = std::string(profiler.status().message());
    return absl::OkStatus();
  }
  KernelProfile profile;
  for (int i = 0; i < options.profile_repetitions; ++i) {
    if (MonotonicNowNs() > deadline_ns) {
      out.profile.unavailable_reason = LateFor(options, "profiling", i);
      return absl::OkStatus();
    }
    if (absl::Status s = (*profiler)->Start(); !s.ok()) {
      out.profile.unavailable_reason = std::string(s.message());
      return absl::OkStatus();
    }
    RepetitionResult discarded;
    const int64_t start_ns = MonotonicNowNs();
    absl::Status status = run.Repeat(discarded);
    const int64_t wall_ns = MonotonicNowNs() - start_ns;
    if (MonotonicNowNs() > deadline_ns) {
      (*profiler)->Abandon().IgnoreError();
      out.profile.unavailable_reason = LateFor(options, "profiling", i);
      return absl::OkStatus();
    }
    if (!status.ok()) {
      return absl::InternalError(absl::StrCat("profiling repetition ", i, ": ", status.message()));
    }
    if (absl::Status s = (*profiler)->Finish(); !s.ok()) {
      out.profile.unavailable_reason = std::string(s.message());
      return absl::OkStatus();
    }
    profile.repetitions += 1;
    profile.wall_ns += wall_ns;
  }
  (*profiler)->Fill(profile);
  if (profile.samples == 0) {
    out.profile.unavailable_reason = absl::StrCat(
        "the profiler took no samples in ", profile.repetitions, " repetitions (",
        profile.wall_ns / 1000000, " ms)");
    return absl::OkStatus();
  }
  out.profile = std::move(profile);
  return absl::OkStatus();
}

}  // namespace

const std::vector<BenchmarkInfo>& Catalog() {
  static const std::vector<BenchmarkInfo>* const catalog = [] {
    auto* infos = new std::vector<BenchmarkInfo>;
    for (const BenchmarkDefinition& def : Definitions()) {
      infos->push_back(def.info);
      for (MetricSpec& spec : MmapLockMetricSpecs(def.trace_scopes)) {
        infos->back().metrics.push_back(std::move(spec));
      }
      if (def.trace_scopes.size() == 1) {
        for (MetricSpec& spec :
             KernelCounters::VmaLockMetricSpecs("", def.trace_scopes[0].op)) {
          infos->back().metrics.push_back(std::move(spec));
        }
      }
    }
    return infos;
  }();
  return *catalog;
}

const BenchmarkInfo* FindBenchmark(const std::string& name) {
  for (const BenchmarkInfo& info : Catalog()) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

absl::StatusOr<Params> ResolveParams(const std::string& name, const Params& given) {
  const BenchmarkInfo* info = FindBenchmark(name);
  if (info == nullptr) {
    return absl::NotFoundError(absl::StrCat("benchmark '", name, "' is not in the catalog"));
  }
  return ResolveParamsFor(*info, given);
}

RunOutput RunBenchmark(const std::string& name, const Params& params, const RunOptions& options) {
  const BenchmarkInfo* benchmark = FindBenchmark(name);
  if (benchmark == nullptr) {
    return Ended(RunStatus::kFailed, absl::StrCat("benchmark '", name, "' is not in the catalog"),
                 params);
  }
  return RunBenchmark(*benchmark, params, options);
}

RunOutput RunBenchmark(const BenchmarkInfo& benchmark, const Params& params,
                       const RunOptions& options) {
  const BenchmarkDefinition* def = DefinitionOf(benchmark);
  if (def == nullptr) {
    return Ended(RunStatus::kFailed,
                 absl::StrCat("benchmark '", benchmark.name, "' is not a catalog entry"), params);
  }
  absl::StatusOr<Params> resolved = ResolveParamsFor(def->info, params);
  if (!resolved.ok()) {
    return Ended(RunStatus::kFailed, std::string(resolved.status().message()), params);
  }
  if (options.repetitions < 1 || options.repetitions > 1000) {
    return Ended(RunStatus::kFailed,
                 absl::StrCat("repetitions: ", options.repetitions, " is out of range [1, 1000]"),
                 *resolved);
  }
  if (options.warmup < 0 || options.warmup > 100) {
    return Ended(RunStatus::kFailed,
                 absl::StrCat("warmup: ", options.warmup, " is out of range [0, 100]"), *resolved);
  }

  if (options.trace_repetitions < 0 || options.trace_repetitions > 100) {
    return Ended(RunStatus::kFailed,
                 absl::StrCat("trace_repetitions: ", options.trace_repetitions,
                              " is out of range [0, 100]"),
                 *resolved);
  }
  if (options.profile_repetitions < 0 || options.profile_repetitions > 100) {
    return Ended(RunStatus::kFailed,
                 absl::StrCat("profile_repetitions: ", options.profile_repetitions,
                              " is out of range [0, 100]"),
                 *resolved);
  }
  if (options.time_limit_seconds < 1 || options.time_limit_seconds > kMaxTimeLimitSeconds) {
    return Ended(RunStatus::kFailed, absl::StrCat("time_limit_seconds: ",
                                                  options.time_limit_seconds,
                                                  " is out of range [1, ", kMaxTimeLimitSeconds,
                                                  "]"), *resolved);
  }

  // The host guards, before anything is mapped, written or started.
  HostLimits limits;
  limits.max_memory_share = options.max_memory_share;
  limits.max_scratch_share = options.max_scratch_share;
  limits.max_tasks_per_cpu = options.max_tasks_per_cpu;
  if (absl::Status valid = ValidateLimits(limits); !valid.ok()) {
    return Ended(RunStatus::kFailed, std::string(valid.message()), *resolved);
  }
  const ResourceDemand demand = def->demand(*resolved);
  const std::string scratch_dir = ScratchDirectory();
  absl::StatusOr<HostCapacity> host =
      ReadHostCapacity(demand.scratch_bytes > 0 ? scratch_dir : std::string());
  if (!host.ok()) {
    return Ended(RunStatus::kRefused, absl::StrCat("cannot read the host's capacity: ",
                                                   host.status().message()), *resolved);
  }
  absl::Status guard = CheckDemand(demand, limits, *host);
  // The status says refused/skipped; the diagnostic says why, without repeating it.
  if (!guard.ok()) return Ended(RunStatus::kRefused, std::string(guard.message()), *resolved);

  // Opened before the run starts any worker, so the perf events count them all.
  KernelCounters counters;
  const HostNoise noise;
  RunContext context;
  context.counters = &counters;
  context.params = *resolved;
  context.deadline_ns = MonotonicNowNs() + options.time_limit_seconds * 1'000'000'000;
  context.scratch_dir = scratch_dir;
  context.max_scratch_share = options.max_scratch_share;
  absl::StatusOr<std::unique_ptr<BenchmarkRun>> run = def->start(context);
  if (!run.ok()) {
    if (MonotonicNowNs() > context.deadline_ns) {
      RunOutput out;
      out.params = *resolved;
      return TimedOut(std::move(out), options, "while setting up");
    }
    if (run.status().code() == absl::StatusCode::kFailedPrecondition) {
      return Ended(RunStatus::kSkipped, std::string(run.status().message()), *resolved);
    }
    return Ended(RunStatus::kFailed, std::string(run.status().message()), *resolved);
  }

  RunOutput out;
  out.params = *resolved;
  out.timer_overhead_ns = MeasureTimerOverheadNs();
  out.warmup = options.warmup;
  for (int i = 0; i < options.warmup; ++i) {
    if (MonotonicNowNs() > context.deadline_ns) {
      return TimedOut(std::move(out), options, absl::StrCat("during warm-up ", i));
    }
    RepetitionResult discarded;
    absl::Status status = (*run)->Repeat(discarded);
    // Past the deadline the workers were told to stop: whatever the repetition says, the cause
    // is the time limit.
    if (MonotonicNowNs() > context.deadline_ns) {
      return TimedOut(std::move(out), options, absl::StrCat("during warm-up ", i));
    }
    if (!status.ok()) {
      return Ended(RunStatus::kFailed, absl::StrCat("warm-up ", i, ": ", status.message()),
                   *resolved);
    }
  }
  for (int i = 0; i < options.repetitions; ++i) {
    const std::string done = absl::StrCat("after ", i, " of ", options.repetitions, " repetitions");
    if (MonotonicNowNs() > context.deadline_ns) return TimedOut(std::move(out), options, done);
    RepetitionResult rep;
    const HostNoise::Snapshot noise_before = noise.Read();
    const KernelCounters::Snapshot before = counters.Read();
    const int64_t start_ns = MonotonicNowNs();
    absl::Status status = (*run)->Repeat(rep);
    rep.wall_ns = MonotonicNowNs() - start_ns;
    const KernelCounters::Snapshot after = counters.Read();
    const HostNoise::Snapshot noise_after = noise.Read();
    // A repetition the deadline cut short measured less than it claims: dropped.
    if (MonotonicNowNs() > context.deadline_ns) return TimedOut(std::move(out), options, done);
    if (!status.ok()) {
      return Ended(RunStatus::kFailed, absl::StrCat("repetition ", i, ": ", status.message()),
                   *resolved);
    }
    KernelCounters::FillDelta(before, after, &rep);
    noise.Judge(noise_before, noise_after, NoiseThresholds(), &rep);
    // A benchmark with one scope normalises per its operation; the contention benchmarks do it
    // per arm themselves (contention.cc).
    if (def->trace_scopes.size() == 1) {
      const TraceScope& scope = def->trace_scopes[0];
      KernelCounters::AddVmaLockPerOperation(rep.counters, "", rep.scope_ops[scope.name],
                                             scope.op, rep);
    }
    out.repetitions.push_back(std::move(rep));
  }
  if (options.trace_repetitions > 0 && !def->trace_scopes.empty()) {
    if (absl::Status s = TraceRepetitions(**run, def->trace_scopes, options, context.deadline_ns,
                                          out);
        !s.ok()) {
      return Ended(RunStatus::kFailed, std::string(s.message()), *resolved);
    }
  }
  if (options.profile_repetitions > 0) {
    if (absl::Status s = ProfileRepetitions(**run, options, context.deadline_ns, out); !s.ok()) {
      return Ended(RunStatus::kFailed, std::string(s.message()), *resolved);
    }
  }
  return out;
}

}  // namespace faultline::agent::bench
