// tracing_overhead_bench: what the mmap_lock tracepoints and the kernel profiler cost the
// benchmarks they watch. Each benchmark runs alternately without either, with this process's
// trace instance recording (the same instance and filter a tracing repetition uses) and with
// the kernel profiler sampling (as a profiling repetition does), one repetition at a time, and
// the ratios traced / plain and profiled / plain of the medians are printed per figure. These
// are the figures behind running both in repetitions of their own (agent/bench/README.md).
//
//   bazel run -c opt //agent/bench:tracing_overhead_bench [-- --rounds=N]
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "agent/bench/kernel_profile.h"
#include "agent/bench/mmap_lock_trace.h"
#include "agent/bench/runner.h"

namespace faultline::agent::bench {
namespace {

struct Case {
  std::string benchmark;
  Params params;
  std::vector<std::string> figures;
};

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

double MetricOf(const RunOutput& out, const std::string& name) {
  for (const MetricValue& m : out.repetitions.at(0).metrics) {
    if (m.name == name) return m.value;
  }
  return 0;
}

int Main(int argc, char** argv) {
  int rounds = 7;
  for (int i = 1; i < argc; ++i) {
    if (strncmp(argv[i], "--rounds=", 9) == 0 && absl::SimpleAtoi(argv[i] + 9, &rounds) &&
        rounds >= 1 && rounds <= 100) {
      continue;
    }
    fprintf(stderr, "usage: tracing_overhead_bench [--rounds=N (1..100)]\n");
    return 2;
  }
  absl::StatusOr<std::unique_ptr<MmapLockTracer>> tracer = MmapLockTracer::Open();
  if (!tracer.ok()) {
    fprintf(stderr, "cannot trace: %s\n", std::string(tracer.status().message()).c_str());
    return 1;
  }
  absl::StatusOr<std::unique_ptr<KernelProfiler>> profiler = KernelProfiler::Open();
  if (!profiler.ok()) {
    fprintf(stderr, "cannot profile: %s\n", std::string(profiler.status().message()).c_str());
    return 1;
  }
  const std::vector<Case> cases = {
      {"fault_anon", {{"threads", int64_t{1}}}, {"ns_per_fault"}},
      {"fault_anon", {{"threads", int64_t{2}}}, {"ns_per_fault"}},
      {"mmap_munmap", {}, {"ns_per_op"}},
      {"fork_mapped", {}, {"fork_ns"}},
      {"fault_file_cold", {}, {"ns_per_page"}},
      {"mmap_writer_contention",
       {{"threads", int64_t{1}}},
       {"faults_per_sec", "fault_p50_ns", "fault_p99_ns", "writer_ns"}},
      {"mmap_writer_contention",
       {{"threads", int64_t{1}}, {"faults", std::string("file_cold")}},
       {"faults_per_sec", "fault_p50_ns", "fault_p99_ns", "writer_ns"}},
      {"fork_fault_contention",
       {{"threads", int64_t{1}}},
       {"faults_per_sec", "fault_p99_ns", "fork_ns"}},
  };
  RunOptions options;
  options.warmup = 1;
  options.repetitions = 1;
  options.trace_repetitions = 0;
  options.profile_repetitions = 0;
  printf("tracing and profiling overhead: traced / plain and profiled / plain median over %d "
         "alternating rounds (ns: >1 is slower; per sec: <1 is slower)\n",
         rounds);
  for (const Case& c : cases) {
    absl::StatusOr<Params> params = ResolveParams(c.benchmark, c.params);
    if (!params.ok()) {
      fprintf(stderr, "%s: %s\n", c.benchmark.c_str(), std::string(params.status().message()).c_str());
      return 1;
    }
    enum Mode { kPlain, kTraced, kProfiled };
    std::vector<std::vector<double>> figures[3];
    for (auto& f : figures) f.resize(c.figures.size());
    int64_t lost = 0;
    std::string skipped;
    for (int r = 0; r < rounds && skipped.empty(); ++r) {
      for (Mode mode : {kPlain, kTraced, kProfiled}) {
        if (mode == kTraced && !(*tracer)->Start().ok()) return 1;
        if (mode == kProfiled && !(*profiler)->Start().ok()) return 1;
        RunOutput out = RunBenchmark(c.benchmark, *params, options);
        if (mode == kTraced) {
          RepetitionResult seen;
          if (!(*tracer)->Finish({}, seen).ok()) return 1;
          lost += seen.counters["mmap_lock.lost_events"];
        }
        if (mode == kProfiled && !(*profiler)->Abandon().ok()) return 1;
        if (out.status != RunStatus::kOk) {
          skipped = out.diagnostic;
          break;
        }
        for (size_t f = 0; f < c.figures.size(); ++f) {
          figures[mode][f].push_back(MetricOf(out, c.figures[f]));
        }
      }
    }
    std::string label = c.benchmark;
    for (const auto& [k, v] : c.params) {
      label += " " + k + "=" +
               (std::holds_alternative<int64_t>(v) ? std::to_string(std::get<int64_t>(v))
                                                   : std::get<std::string>(v));
    }
    if (!skipped.empty()) {
      printf("  %-52s skipped: %s\n", label.c_str(), skipped.c_str());
      continue;
    }
    for (size_t f = 0; f < c.figures.size(); ++f) {
      const double a = Median(figures[kPlain][f]), b = Median(figures[kTraced][f]),
                   p = Median(figures[kProfiled][f]);
      printf("  %-48s %-15s plain %11.1f  traced %.3f  profiled %.3f%s\n", label.c_str(),
             c.figures[f].c_str(), a, a > 0 ? b / a : 0, a > 0 ? p / a : 0,
             f == 0 && lost > 0 ? "  (events lost while tracing)" : "");
    }
  }
  return 0;
}

}  // namespace
}  // namespace faultline::agent::bench

int main(int argc, char** argv) { return faultline::agent::bench::Main(argc, argv); }
