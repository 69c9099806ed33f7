// bench_report: the figures that say whether this machine's measurements can be trusted: cost
// of a fault (thread and process mode), timer overhead, what latency sampling costs, and the
// run-to-run coefficient of variation of every benchmark over 10 repetitions.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "agent/bench/runner.h"
#include "agent/bench/cycle_clock.h"
#include "agent/bench/host_memory.h"
#include "agent/bench/report_format.h"

namespace faultline::agent::bench {
namespace {

RunOutput RunOrDie(const std::string& name, const Params& given, int repetitions, int warmup = 1) {
  absl::StatusOr<Params> params = ResolveParams(name, given);
  if (!params.ok()) {
    fprintf(stderr, "%s: %s\n", name.c_str(), std::string(params.status().message()).c_str());
    exit(1);
  }
  RunOptions options;
  options.repetitions = repetitions;
  options.warmup = warmup;
  return RunBenchmark(name, *params, options);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

void FaultCost() {
  printf("\n== fault_anon, 64 MiB x 4 passes per repetition, 10 repetitions ==\n");
  for (const char* mode : {"thread", "process"}) {
    for (int64_t threads : {1, 2}) {
      RunOutput out = RunOrDie("fault_anon",
                               {{"mode", std::string(mode)}, {"threads", threads}}, 10);
      if (out.status != RunStatus::kOk) {
        printf("  mode=%s threads=%ld: %s %s\n", mode, threads, RunStatusName(out.status),
               out.diagnostic.c_str());
        continue;
      }
      const MetricSummary ns = Summarize(out, "ns_per_fault");
      const MetricSummary rate = Summarize(out, "faults_per_sec");
      printf("  mode=%-7s threads=%ld: ns/fault mean %.0f (cv %.1f%%), faults/s %.0f\n", mode,
             threads, ns.mean, ns.cv * 100, rate.mean);
    }
  }
}

void TimerOverhead() {
  std::vector<double> samples;
  for (int i = 0; i < 11; ++i) samples.push_back(MeasureTimerOverheadNs());
  const CycleClock& clock = CycleClock::Get();
  printf("\n== timer ==\n  counter %s, %.4f ns/tick, overhead per read: median %.1f ns over 11 "
         "runs of 100000 reads\n",
         clock.counter_name(), clock.ns_per_tick(), Median(samples));
}

// Interleaves runs with sampling on and off so machine drift hits both arms alike, and compares
// the best rate of each arm: interference from other work only ever lowers a rate.
void SamplingOverhead() {
  constexpr int kPairs = 10;
  std::vector<double> ratios;
  double best[2] = {0, 0};
  double ns_per_fault_on = 0;
  for (int i = 0; i < kPairs; ++i) {
    double rate[2];
    for (int sample = 0; sample < 2; ++sample) {
      RunOutput out = RunOrDie("fault_anon", {{"sample_latency", sample == 1}}, 3);
      rate[sample] = Summarize(out, "faults_per_sec").mean;
      best[sample] = std::max(best[sample], rate[sample]);
      if (sample == 1) ns_per_fault_on += Summarize(out, "ns_per_fault").mean / kPairs;
    }
    ratios.push_back(rate[0] / rate[1]);
  }
  // Independent of noise: what the sampled loop adds per page, outside any fault.
  Histogram h;
  const CycleClock& clock = CycleClock::Get();
  constexpr int kRecords = 1'000'000;
  const int64_t start_ns = MonotonicNowNs();
  uint64_t previous = CycleNow();
  for (int i = 0; i < kRecords; ++i) {
    const uint64_t now = CycleNow();
    h.Record(clock.ToNs(now - previous) + 1000);
    previous = now;
  }
  const double added_ns = static_cast<double>(MonotonicNowNs() - start_ns) / kRecords;
  printf("\n== latency sampling (fault_anon defaults, %d interleaved pairs of 3 repetitions) ==\n"
         "  best faults/s without sampling %.0f, with sampling %.0f: ratio off/on %.4f\n"
         "  median of pairwise ratios %.4f (budget <= 1.02; pairs are noisy on a busy host)\n"
         "  cost added per sampled page (clock read + record): %.1f ns = %.2f%% of %.0f ns/fault\n",
         kPairs, best[0], best[1], best[0] / best[1], Median(ratios), added_ns,
         100 * added_ns / ns_per_fault_on, ns_per_fault_on);
}

void VariationPerBenchmark() {
  printf("\n== coefficient of variation over 10 repetitions (default parameters) ==\n");
  for (const BenchmarkInfo& info : Catalog()) {
    RunOutput out = RunOrDie(info.name, {}, 10);
    if (out.status != RunStatus::kOk) {
      printf("  %-24s %s\n", info.name.c_str(), out.diagnostic.c_str());
      continue;
    }
    printf("  %-24s", info.name.c_str());
    int shown = 0;
    for (const MetricSpec& m : info.metrics) {
      if (m.direction == Direction::kNeutral || shown == 3) continue;
      const MetricSummary s = Summarize(out, m.name);
      printf(" %s %.4g (cv %.1f%%)", m.name.c_str(), s.mean, s.cv * 100);
      ++shown;
    }
    printf("\n");
  }
}

}  // namespace
}  // namespace faultline::agent::bench

int main() {
  using namespace faultline::agent::bench;
  printf("faultline bench_report: page size %zu\n", PageSize());
  TimerOverhead();
  FaultCost();
  SamplingOverhead();
  VariationPerBenchmark();
  return 0;
}
