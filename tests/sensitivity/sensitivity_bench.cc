// The sensitivity benchmark: how small a change one machine can call in 10 and in 60 minutes.
// Not a test; prints a table (README.md in this directory explains each column and the formula).
//
//   bazel run -c opt //tests/sensitivity:sensitivity_bench -- [--runs 5] [--agent PATH]
//       [--bench_aslr] [--bare_rounds 6] [--only fault_anon,mmap_munmap]
//
// Every run is a real benchmark child of the agent binary (agent/faultline-agent --bench_child,
// started as the agent starts it: BenchmarkExecutor, ASLR off unless --bench_aslr). Runs are
// interleaved round-robin over the suites' invocations, so between-run variance includes the
// drift of the minutes the table takes, as a comparison's two sides do.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "agent/benchmark_executor.h"
#include "agent/child_process.h"
#include "controller/analysis/compare.h"
#include "controller/analysis/descriptive.h"
#include "google/protobuf/text_format.h"
#include "proto/faultline/v1/campaign.pb.h"
#include "tests/sensitivity/variance_components.h"
#include "tests/testing/subprocess.h"

ABSL_FLAG(int, runs, 5, "Runs (benchmark processes) per invocation, 2..100.");
ABSL_FLAG(std::string, agent, "", "Agent binary whose --bench_child runs the benchmarks "
                                  "(default: the one built with this benchmark).");
ABSL_FLAG(bool, bench_aslr, false, "Run benchmark children with ASLR on.");
ABSL_FLAG(std::string, baseline_agent, "",
          "A second agent binary (e.g. an earlier build) run beside --agent in every round, its "
          "rows marked 'base'; its children run with ASLR per --baseline_aslr.");
ABSL_FLAG(bool, baseline_aslr, true, "Run --baseline_agent's children with ASLR on.");
ABSL_FLAG(int, bare_rounds, 6, "Rounds of fault_anon beside the bare page_fault1 loop; 0 skips.");
ABSL_FLAG(std::vector<std::string>, only, {}, "Only these benchmarks (default: all).");
ABSL_FLAG(std::vector<std::string>, suites,
          std::vector<std::string>({"controller/suites/default.textproto",
                                    "agent/lab/suites/lab.textproto"}),
          "Campaign files (workspace-relative runfiles or paths).");

namespace faultline::tests::sensitivity {
namespace {

namespace analysis = controller::analysis;

struct Entry {
  // Index of the executor (0: --agent, 1: --baseline_agent).
  int side = 0;
  std::string suite;
  std::string label;
  v1::BenchmarkInvocation invocation;
  std::vector<std::string> metrics;
  // Per metric, per run, the repetitions' values.
  std::map<std::string, std::vector<std::vector<double>>> values;
  std::vector<double> repetition_seconds;
  std::vector<double> run_seconds;
  std::vector<double> nvcsw;
  std::vector<double> migrations;
  std::string failure;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Resolve(const std::string& path) {
  if (std::ifstream(path).good()) return path;
  return testing::RunfilePath(path);
}

std::string ParamText(const v1::ParamValue& v) {
  switch (v.kind_case()) {
    case v1::ParamValue::kIntValue: return absl::StrCat(v.int_value());
    case v1::ParamValue::kDoubleValue: return absl::StrCat(v.double_value());
    case v1::ParamValue::kBoolValue: return v.bool_value() ? "true" : "false";
    case v1::ParamValue::kEnumValue: return v.enum_value();
    default: break;
  }
  return "?";
}

std::string Label(const v1::BenchmarkInvocation& invocation) {
  std::map<std::string, std::string> sorted;
  for (const auto& [k, v] : invocation.params()) sorted[k] = ParamText(v);
  std::vector<std::string> parts = {invocation.benchmark()};
  for (const auto& [k, v] : sorted) parts.push_back(absl::StrCat(k, "=", v));
  return absl::StrJoin(parts, " ");
}

// The figure a kernel team reads first, and for the contention benchmarks the p99s.
std::vector<std::string> MetricsOf(const std::string& benchmark) {
  if (benchmark == "fork_fault_contention" || benchmark == "mmap_writer_contention") {
    return {"fault_p99_ns", "baseline_fault_p99_ns", "p99_penalty_ratio"};
  }
  if (benchmark == "fault_anon") return {"ns_per_fault", "cpu_ns_per_fault"};
  if (benchmark == "mmap_munmap") return {"ns_per_op"};
  if (benchmark == "fork_mapped") return {"fork_ns"};
  return {"ns_per_page"};
}

double Median(std::vector<double> v) { return v.empty() ? NAN : analysis::Median(std::move(v)); }

double Counter(const v1::Repetition& rep, const std::string& name) {
  auto it = rep.counters().find(name);
  return it == rep.counters().end() ? NAN : static_cast<double>(it->second);
}

void RunOnce(const agent::BenchmarkExecutor& executor, Entry& entry) {
  agent::Execution run = executor.Run(entry.invocation);
  const v1::RunResult& result = run.result;
  if (result.state() != v1::RUN_STATE_OK) {
    entry.failure = absl::StrCat(v1::RunState_Name(result.state()), ": ",
                                 result.diagnostic().substr(0, 120));
    return;
  }
  entry.run_seconds.push_back(static_cast<double>(result.finished().seconds() -
                                                  result.started().seconds()) +
                              (result.finished().nanos() - result.started().nanos()) * 1e-9);
  for (const std::string& metric : entry.metrics) entry.values[metric].emplace_back();
  for (const v1::Repetition& rep : result.repetitions()) {
    entry.repetition_seconds.push_back(rep.wall_ns() * 1e-9);
    entry.nvcsw.push_back(Counter(rep, "rusage.nvcsw"));
    entry.migrations.push_back(Counter(rep, "perf.cpu_migrations"));
    for (const v1::MetricValue& m : rep.metrics()) {
      auto it = entry.values.find(m.name());
      if (it != entry.values.end()) it->second.back().push_back(m.value());
    }
  }
}

std::string Percent(double x) {
  if (!std::isfinite(x)) return "-";
  return absl::StrFormat("%.1f%%", 100 * x);
}

// Runs per side that fit in `minutes` of one machine, half of it per side.
int RunsPerSide(double minutes, double run_seconds) {
  return run_seconds > 0 ? static_cast<int>(minutes * 60 / 2 / run_seconds) : 0;
}

std::string LoadAverage() {
  std::string text = ReadFile("/proc/loadavg");
  std::vector<std::string> parts = absl::StrSplit(text, ' ');
  return parts.size() >= 3 ? absl::StrCat(parts[0], " ", parts[1], " ", parts[2]) : "?";
}

// Total and steal jiffies of all CPUs (/proc/stat "cpu" line; steal is the 8th value).
std::pair<double, double> CpuJiffies() {
  std::istringstream in(ReadFile("/proc/stat"));
  std::string cpu;
  in >> cpu;
  double total = 0, steal = 0, v;
  for (int i = 0; i < 10 && in >> v; ++i) {
    total += v;
    if (i == 7) steal = v;
  }
  return {total, steal};
}

void PrintTable(const std::vector<Entry>& entries, int repetitions_default) {
  const analysis::CompareOptions gate;
  std::printf("\n%-4s %-10s %-58s %-22s %8s %7s %7s %8s %7s %6s %8s %8s %5s %6s %5s\n", "side", "suite",
              "invocation", "metric", "rep_ms", "run_s", "cv_rep", "between", "cv_run", "k10",
              "mde_10m", "mde_60m", "n*", "nvcsw", "migr");
  for (const Entry& e : entries) {
    if (!e.failure.empty() && e.run_seconds.empty()) {
      std::printf("%-4s %-10s %-58s %s\n", e.side == 0 ? "new" : "base", e.suite.c_str(), e.label.c_str(), e.failure.c_str());
      continue;
    }
    const int n = e.invocation.repetitions() > 0 ? static_cast<int>(e.invocation.repetitions())
                                                  : repetitions_default;
    const double rep_s = Median(e.repetition_seconds);
    const double run_s = Median(e.run_seconds);
    for (const std::string& metric : e.metrics) {
      const VarianceComponents c = EstimateVarianceComponents(e.values.at(metric));
      const double cv_run = c.RunMeanCv(n);
      auto mde = [&](double minutes) {
        const int k = RunsPerSide(minutes, run_s);
        if (k < gate.min_blocks_per_side) return std::numeric_limits<double>::infinity();
        return analysis::MinimumDetectableEffect(cv_run, k, gate.fdr_level, 0.95);
      };
      // Repetitions per run that minimise (between + within / n) (overhead + n rep_s): more
      // repetitions per run stop paying once between-run variance dominates.
      const double overhead_s = std::max(0.0, run_s - n * rep_s);
      std::string best = "-";
      if (c.between > 0 && c.within > 0 && rep_s > 0) {
        best = absl::StrCat(std::clamp<int>(static_cast<int>(std::lround(std::sqrt(
                                                overhead_s * c.within / (rep_s * c.between)))),
                                            1, 1000));
      } else if (c.within > 0) {
        best = ">";
      }
      std::printf("%-4s %-10s %-58s %-22s %8.1f %7.2f %7s %8s %7s %6d %8s %8s %5s %6.0f %5.0f\n",
                  e.side == 0 ? "new" : "base", e.suite.c_str(), e.label.substr(0, 58).c_str(),
                  metric.c_str(), rep_s * 1e3,
                  run_s, Percent(c.RepetitionCv()).c_str(), Percent(c.BetweenShare()).c_str(),
                  Percent(cv_run).c_str(), RunsPerSide(10, run_s), Percent(mde(10)).c_str(),
                  Percent(mde(60)).c_str(), best.c_str(), Median(e.nvcsw), Median(e.migrations));
    }
  }
}

double NsPerFault(const agent::BenchmarkExecutor& executor,
                  const v1::BenchmarkInvocation& invocation) {
  agent::Execution run = executor.Run(invocation);
  std::vector<double> v;
  for (const v1::Repetition& rep : run.result.repetitions()) {
    for (const v1::MetricValue& m : rep.metrics()) {
      if (m.name() == "ns_per_fault") v.push_back(m.value());
    }
  }
  return Median(v);
}

double BareNsPerFault(const agent::ChildOptions& bare) {
  absl::StatusOr<agent::ChildResult> ran = agent::RunChild(bare);
  std::vector<double> v;
  if (ran.ok()) {
    for (absl::string_view line : absl::StrSplit(ran->stdout_data, '\n', absl::SkipEmpty())) {
      v.push_back(std::stod(std::string(line)));
    }
  }
  return Median(v);
}

// fault_anon (128 MiB, one thread, no sampling) of each executor and the bare loop, in an order
// that rotates each round, so each ratio is of runs a few seconds apart.
void CompareWithBareLoop(const std::vector<const agent::BenchmarkExecutor*>& executors,
                         bool bench_aslr, int rounds) {
  v1::BenchmarkInvocation fault_anon;
  fault_anon.set_benchmark("fault_anon");
  (*fault_anon.mutable_params())["region_mib"].set_int_value(128);
  (*fault_anon.mutable_params())["passes"].set_int_value(1);
  (*fault_anon.mutable_params())["threads"].set_int_value(1);
  (*fault_anon.mutable_params())["sample_latency"].set_bool_value(false);
  fault_anon.set_repetitions(5);
  fault_anon.set_warmup(1);
  fault_anon.set_timeout_seconds(120);
  agent::ChildOptions bare;
  bare.argv = {testing::RunfilePath("tests/sensitivity/bare_page_fault"), "128", "1", "5"};
  bare.timeout = absl::Seconds(120);
  bare.disable_aslr = !bench_aslr;
  const size_t sides = executors.size();
  std::vector<std::vector<double>> ratios(sides), harness(sides);
  std::vector<double> reference;
  for (int round = 0; round < rounds; ++round) {
    std::vector<double> fa(sides, NAN);
    double ref = NAN;
    for (size_t step = 0; step <= sides; ++step) {
      const size_t who = (step + round) % (sides + 1);
      if (who == sides) {
        ref = BareNsPerFault(bare);
      } else {
        fa[who] = NsPerFault(*executors[who], fault_anon);
      }
    }
    if (!std::isfinite(ref) || ref <= 0) continue;
    reference.push_back(ref);
    for (size_t i = 0; i < sides; ++i) {
      if (!std::isfinite(fa[i])) continue;
      ratios[i].push_back(fa[i] / ref);
      harness[i].push_back(fa[i]);
    }
  }
  std::printf("\nfault_anon (128 MiB, 1 thread, sampling off) / bare page_fault1 loop, rotating "
              "in each of %d rounds (measured under load):\n", rounds);
  for (size_t i = 0; i < sides; ++i) {
    if (ratios[i].empty()) {
      std::printf("  %-4s no round completed\n", i == 0 ? "new" : "base");
      continue;
    }
    std::printf("  %-4s ratio median %.3f (min %.3f, max %.3f, %zu rounds); ns/fault median %.0f, "
                "bare %.0f\n",
                i == 0 ? "new" : "base", Median(ratios[i]), analysis::Min(ratios[i]),
                analysis::Max(ratios[i]), ratios[i].size(), Median(harness[i]),
                Median(reference));
  }
}

int Main() {
  const int runs = absl::GetFlag(FLAGS_runs);
  if (runs < 2 || runs > 100) {
    std::fprintf(stderr, "--runs: must be 2..100\n");
    return 2;
  }
  const std::vector<std::string> only = absl::GetFlag(FLAGS_only);
  std::vector<Entry> entries;
  int repetitions_default = 5;
  for (const std::string& file : absl::GetFlag(FLAGS_suites)) {
    v1::CampaignSpec spec;
    if (!google::protobuf::TextFormat::ParseFromString(ReadFile(Resolve(file)), &spec)) {
      std::fprintf(stderr, "%s: not a campaign file\n", file.c_str());
      return 2;
    }
    if (spec.repetitions() > 0) repetitions_default = static_cast<int>(spec.repetitions());
    for (const v1::BenchmarkInvocation& invocation : spec.suite()) {
      if (!only.empty() && std::find(only.begin(), only.end(), invocation.benchmark()) == only.end()) {
        continue;
      }
      Entry e;
      e.suite = spec.name().substr(0, 10);
      e.invocation = invocation;
      if (e.invocation.repetitions() == 0) e.invocation.set_repetitions(spec.repetitions());
      if (e.invocation.timeout_seconds() == 0) e.invocation.set_timeout_seconds(300);
      e.label = Label(invocation);
      e.metrics = MetricsOf(invocation.benchmark());
      entries.push_back(e);
      if (!absl::GetFlag(FLAGS_baseline_agent).empty()) {
        e.side = 1;
        entries.push_back(std::move(e));
      }
    }
  }
  agent::ExecutorOptions options;
  const std::string agent_binary = absl::GetFlag(FLAGS_agent);
  options.child_argv = {agent_binary.empty() ? testing::RunfilePath("agent/faultline-agent")
                                             : agent_binary,
                        "--bench_child"};
  options.bench_aslr = absl::GetFlag(FLAGS_bench_aslr);
  const agent::BenchmarkExecutor executor(options);
  agent::ExecutorOptions baseline_options = options;
  baseline_options.child_argv[0] = absl::GetFlag(FLAGS_baseline_agent);
  baseline_options.bench_aslr = absl::GetFlag(FLAGS_baseline_aslr);
  const agent::BenchmarkExecutor baseline(baseline_options);
  std::vector<const agent::BenchmarkExecutor*> executors = {&executor};
  if (!baseline_options.child_argv[0].empty()) executors.push_back(&baseline);

  const absl::Time start = absl::Now();
  const std::string load_before = LoadAverage();
  const auto jiffies_before = CpuJiffies();
  std::printf("sensitivity: %zu rows x %d runs, new: %s (ASLR %s)%s%s%s; measured under load "
              "(shared host: loadavg %s at the start)\n",
              entries.size(), runs, options.child_argv[0].c_str(),
              options.bench_aslr ? "on" : "off", executors.size() > 1 ? ", base: " : "",
              executors.size() > 1 ? baseline_options.child_argv[0].c_str() : "",
              executors.size() > 1 ? (baseline_options.bench_aslr ? " (ASLR on)" : " (ASLR off)")
                                   : "",
              load_before.c_str());
  std::fflush(stdout);
  for (int r = 0; r < runs; ++r) {
    // The two agents alternate which goes first, so neither always follows the other.
    for (size_t i = 0; i < entries.size(); ++i) {
      Entry& e = entries[(r % 2 == 0 || executors.size() == 1) ? i : (i ^ 1)];
      RunOnce(*executors[e.side], e);
    }
    std::fprintf(stderr, "round %d of %d done (%.0f s)\n", r + 1, runs,
                 absl::ToDoubleSeconds(absl::Now() - start));
  }
  const auto jiffies_after = CpuJiffies();
  const double total = jiffies_after.first - jiffies_before.first;
  PrintTable(entries, repetitions_default);
  std::printf("\nmeasured under load: loadavg %s at the start, %s at the end; steal %.1f%% of CPU "
              "time; %.0f s\n",
              load_before.c_str(), LoadAverage().c_str(),
              total > 0 ? 100 * (jiffies_after.second - jiffies_before.second) / total : 0.0,
              absl::ToDoubleSeconds(absl::Now() - start));
  CompareWithBareLoop(executors, options.bench_aslr, absl::GetFlag(FLAGS_bare_rounds));
  return 0;
}

}  // namespace
}  // namespace faultline::tests::sensitivity

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return faultline::tests::sensitivity::Main();
}
