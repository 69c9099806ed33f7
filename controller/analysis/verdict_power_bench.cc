// Measures how often comparison rules cry wolf and how often they catch a real shift, on seeded
// synthetic benchmark data. Prints a table; it is a benchmark, not a test: the figures document
// the choice of CompareOptions defaults (compare.h) against the anchors' rules.
//
//   A/A false-positive rate: fraction of 20-metric suites in which any metric is flagged as a
//     regression or improvement although both sides come from the same distribution.
//   Power: fraction of truly shifted metrics (candidate 5% slower) flagged as a regression, with
//     all 20 metrics of the suite shifted, with 5 of 20, and with 1 of 20 (the hardest case for
//     FDR control, which must then single out one metric among 20).
//
// Noise models (all at the same nominal coefficient of variation):
//   lognormal     x = base * exp(sigma Z), the usual shape of repetition timings;
//   log-t3        x = base * exp(s T3): heavier tails, occasional far-off repetitions;
//   outliers      lognormal, plus 5% of repetitions hit by a 10-40% slowdown (an interrupt
//                 storm, a compaction), as seen on shared test machines.
//
// Between-run noise: a run (one process running its repetitions) draws its own multiplicative
// offset exp(b sigma Z) shared by all its repetitions (memory layout, page cache, THP, boot-time
// layout), b = 0, 1 or 3 times the within-run log-sd. Designs: R runs x r repetitions per side.
//
// Anchor rules, applied per metric as their tools do (none controls the FDR across metrics):
//   LKP       one value per run (the run's mean); changed when the min/max ranges of the two
//             sides do not overlap and |mean change| > 5%.
//   mmtests   every repetition a sample; changed when mean +- 1.96 sd intervals do not overlap.
//   MWU 0.05  every repetition a sample; Mann-Whitney p < 0.05 (LNT, Google Benchmark
//             compare.py).
// "faultline, repetitions pooled" is faultline's rule with every repetition its own block: what
// compare did before blocks.
//
// Runs until it can decide: faultline's rule with the sequential extension the gate, submit and
// the lab use (sequential_plan.h, the same functions): a first look at 10 runs per side, more runs
// while an inconclusive metric's estimate fits a 30-run budget, each look at its Lan-DeMets
// O'Brien-Fleming share of the level; beside it the same looks at the full level, and the anchors
// looked at again at 10, 20 and 30 runs (a metric flagged at any look counts).
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "controller/analysis/compare.h"
#include "controller/analysis/descriptive.h"
#include "controller/analysis/deterministic_random.h"
#include "controller/analysis/mann_whitney.h"
#include "controller/analysis/sequential_plan.h"

namespace faultline::controller::analysis {
namespace {

constexpr int kSuites = 1000;
constexpr int kMetricsPerSuite = 20;
constexpr int kRepetitions = 10;

// R runs of r repetitions per side, between-run log-sd `between` times the within-run one.
struct Design {
  int runs = kRepetitions;
  int repetitions_per_run = 1;
  double between = 0;
};
constexpr double kCv = 0.02;
constexpr double kShift = 1.05;

enum class Noise { kLognormal, kLogT3, kOutliers };

const char* NoiseName(Noise noise) {
  switch (noise) {
    case Noise::kLognormal:
      return "lognormal";
    case Noise::kLogT3:
      return "log-t3 (heavy tails)";
    case Noise::kOutliers:
      return "lognormal + 5% outliers";
  }
  return "";
}

double Draw(Noise noise, double base, DeterministicRandom& random) {
  const double sigma = std::sqrt(std::log1p(kCv * kCv));
  switch (noise) {
    case Noise::kLognormal:
      return base * std::exp(sigma * random.Normal());
    case Noise::kLogT3: {
      double chi2 = 0;
      for (int i = 0; i < 3; ++i) {
        const double z = random.Normal();
        chi2 += z * z;
      }
      // T3 has variance 3; scale it to the same log-sd as the lognormal case.
      const double t = random.Normal() / std::sqrt(chi2 / 3);
      return base * std::exp(sigma / std::sqrt(3.0) * t);
    }
    case Noise::kOutliers: {
      double x = base * std::exp(sigma * random.Normal());
      if (random.Uniform01() < 0.05) x *= 1.10 + 0.30 * random.Uniform01();
      return x;
    }
  }
  return base;
}

// A suite whose first `shifted` metrics are 5% slower on the candidate side.
std::vector<MetricSamples> MakeSuite(Noise noise, int shifted, const Design& design,
                                     DeterministicRandom& random) {
  const double sigma = std::sqrt(std::log1p(kCv * kCv));
  std::vector<MetricSamples> suite(kMetricsPerSuite);
  for (int m = 0; m < kMetricsPerSuite; ++m) {
    MetricSamples& s = suite[m];
    s.benchmark = "synthetic";
    s.metric = "metric" + std::to_string(m);
    s.direction = MetricDirection::kLowerIsBetter;
    const double base = 100 * std::exp(4 * random.Uniform01());  // 100 .. 5500 ns
    const double factor = m < shifted ? kShift : 1.0;
    for (int run = 0; run < design.runs; ++run) {
      const double run_a = design.between > 0 ? std::exp(design.between * sigma * random.Normal())
                                              : 1.0;
      const double run_b = design.between > 0 ? std::exp(design.between * sigma * random.Normal())
                                              : 1.0;
      for (int r = 0; r < design.repetitions_per_run; ++r) {
        s.baseline.push_back(Draw(noise, base * run_a, random));
        s.candidate.push_back(Draw(noise, base * factor * run_b, random));
        if (design.repetitions_per_run > 1) {
          s.baseline_blocks.push_back(run);
          s.candidate_blocks.push_back(run);
        }
      }
    }
  }
  return suite;
}

std::vector<MetricSamples> Pooled(std::vector<MetricSamples> suite) {
  for (MetricSamples& s : suite) {
    s.baseline_blocks.clear();
    s.candidate_blocks.clear();
  }
  return suite;
}

// Per-run means, for LKP (one value per run).
std::vector<double> RunMeans(const std::vector<double>& x, const std::vector<int>& blocks) {
  if (blocks.empty()) return x;
  std::vector<double> means;
  for (size_t i = 0; i < x.size();) {
    size_t j = i;
    double sum = 0;
    while (j < x.size() && blocks[j] == blocks[i]) sum += x[j++];
    means.push_back(sum / static_cast<double>(j - i));
    i = j;
  }
  return means;
}

// Flags per metric: +1 regression (candidate worse), -1 improvement, 0 nothing.
using Rule = std::function<std::vector<int>(const std::vector<MetricSamples>&)>;

Rule FaultlineRule(const CompareOptions& options, bool pool = false) {
  return [options, pool](const std::vector<MetricSamples>& suite) {
    std::vector<int> flags(suite.size(), 0);
    absl::StatusOr<SuiteComparison> c = CompareSuite(pool ? Pooled(suite) : suite, options);
    if (!c.ok()) {
      std::fprintf(stderr, "compare failed: %s\n", std::string(c.status().message()).c_str());
      return flags;
    }
    for (size_t i = 0; i < suite.size(); ++i) {
      if (c->metrics[i].verdict == Verdict::kRegression) flags[i] = 1;
      if (c->metrics[i].verdict == Verdict::kImprovement) flags[i] = -1;
    }
    return flags;
  };
}

// Variant for the README: significance at BH `fdr` and the whole interval at `confidence` beyond
// the minimum effect (a one-sided test of "changed by at least min_effect").
Rule IntervalRule(double fdr, double confidence) {
  return [fdr, confidence](const std::vector<MetricSamples>& suite) {
    CompareOptions options;
    options.bootstrap_resamples = 0;
    options.fdr_level = fdr;
    options.confidence = confidence;
    std::vector<int> flags(suite.size(), 0);
    absl::StatusOr<SuiteComparison> c = CompareSuite(suite, options);
    if (!c.ok()) return flags;
    const double threshold = 1 + options.min_effect;
    for (size_t i = 0; i < suite.size(); ++i) {
      const MetricComparison& m = c->metrics[i];
      if (!(m.q_value <= fdr)) continue;
      if (m.ratio_lower >= threshold) flags[i] = 1;
      if (m.ratio_upper <= 1 / threshold) flags[i] = -1;
    }
    return flags;
  };
}

// The first `runs` runs of every metric (blocks are run indexes in order).
std::vector<MetricSamples> FirstRuns(const std::vector<MetricSamples>& suite, int runs,
                                     int repetitions_per_run) {
  std::vector<MetricSamples> out = suite;
  const size_t n = static_cast<size_t>(runs * repetitions_per_run);
  for (MetricSamples& m : out) {
    m.baseline.resize(std::min(n, m.baseline.size()));
    m.candidate.resize(std::min(n, m.candidate.size()));
    if (!m.baseline_blocks.empty()) m.baseline_blocks.resize(m.baseline.size());
    if (!m.candidate_blocks.empty()) m.candidate_blocks.resize(m.candidate.size());
  }
  return out;
}

// A campaign that runs until it can decide, by the rule the gate, submit and the lab use
// (sequential_plan.h): a first look at `first` runs per side, then more runs only while some
// metric is inconclusive and its estimate says the budget (`max` runs per side) could decide
// it, the next look after the largest estimate that fits (DecideLook). `spending`: each look tests
// at its Lan-DeMets O'Brien-Fleming share of the FDR level (CompareOptionsAtLook); without it
// every look tests at the full level, the naive way that inflates false alarms. The verdicts are
// the last look's, as the campaign reports them.
Rule SequentialRule(const CompareOptions& options, int first, int max, int repetitions_per_run,
                    bool spending) {
  return [=](const std::vector<MetricSamples>& suite) {
    std::vector<int> flags(suite.size(), 0);
    SequentialLook look{0, first, max};
    while (true) {
      const CompareOptions at_look = spending ? CompareOptionsAtLook(options, look) : options;
      absl::StatusOr<SuiteComparison> c =
          CompareSuite(FirstRuns(suite, look.blocks, repetitions_per_run), at_look);
      if (!c.ok()) return flags;
      for (size_t i = 0; i < suite.size(); ++i) {
        const Verdict v = c->metrics[i].verdict;
        flags[i] = v == Verdict::kRegression ? 1 : v == Verdict::kImprovement ? -1 : 0;
      }
      const LookOutcome next = DecideLook(UndecidedEstimates(*c), look, "run");
      if (next.decision != LookDecision::kMoreBlocks) break;
      look = {look.blocks, look.blocks + next.additional_blocks, max};
    }
    return flags;
  };
}

// An anchor's rule looked at again until it flags: at `looks` runs per side, a metric flagged
// at any look stays flagged (these tools have no estimate to stop on, so a user re-runs until
// the budget).
Rule LookAgain(Rule rule, std::vector<int> looks, int repetitions_per_run) {
  return [=](const std::vector<MetricSamples>& suite) {
    std::vector<int> flags(suite.size(), 0);
    for (int runs : looks) {
      const std::vector<int> now = rule(FirstRuns(suite, runs, repetitions_per_run));
      for (size_t i = 0; i < suite.size(); ++i) {
        if (flags[i] == 0) flags[i] = now[i];
      }
    }
    return flags;
  };
}

int Sign(double change) { return change > 0 ? 1 : -1; }

std::vector<int> LkpRule(const std::vector<MetricSamples>& suite) {
  std::vector<int> flags;
  for (const MetricSamples& s : suite) {
    const std::vector<double> a = RunMeans(s.baseline, s.baseline_blocks);
    const std::vector<double> b = RunMeans(s.candidate, s.candidate_blocks);
    const double change = Mean(b) / Mean(a) - 1;
    const bool disjoint = Min(b) > Max(a) || Max(b) < Min(a);
    flags.push_back(disjoint && std::fabs(change) > 0.05 ? Sign(change) : 0);
  }
  return flags;
}

std::vector<int> MmtestsRule(const std::vector<MetricSamples>& suite) {
  std::vector<int> flags;
  for (const MetricSamples& s : suite) {
    const double ma = Mean(s.baseline), mb = Mean(s.candidate);
    const double ha = 1.96 * StdDev(s.baseline), hb = 1.96 * StdDev(s.candidate);
    const bool disjoint = mb - hb > ma + ha || mb + hb < ma - ha;
    flags.push_back(disjoint ? Sign(mb - ma) : 0);
  }
  return flags;
}

std::vector<int> PlainMwuRule(const std::vector<MetricSamples>& suite) {
  std::vector<int> flags;
  for (const MetricSamples& s : suite) {
    absl::StatusOr<MannWhitneyResult> r = MannWhitneyU(s.baseline, s.candidate);
    const bool flagged = r.ok() && r->p_value < 0.05;
    flags.push_back(flagged ? Sign(Median(s.candidate) - Median(s.baseline)) : 0);
  }
  return flags;
}

struct Rates {
  double aa_suites_flagged = 0;
  double power_all = 0;
  double power_quarter = 0;
  double power_one = 0;
};

// Every rule sees exactly the same suites: each scenario regenerates from its own seed.
double AaRate(Noise noise, const Rule& rule, const Design& design, int suites, uint64_t seed) {
  DeterministicRandom random(seed);
  int flagged_suites = 0;
  for (int s = 0; s < suites; ++s) {
    const std::vector<int> flags = rule(MakeSuite(noise, 0, design, random));
    bool any = false;
    for (int f : flags) any |= f != 0;
    flagged_suites += any;
  }
  return static_cast<double>(flagged_suites) / suites;
}

Rates Measure(Noise noise, const Rule& rule, const Design& design = {}) {
  Rates rates;
  const uint64_t noise_seed = 1000 * (static_cast<uint64_t>(noise) + 1) +
                              static_cast<uint64_t>(design.between * 100) +
                              10000 * static_cast<uint64_t>(design.repetitions_per_run);
  rates.aa_suites_flagged = AaRate(noise, rule, design, kSuites, noise_seed + 1);
  const int shifted_counts[] = {kMetricsPerSuite, kMetricsPerSuite / 4, 1};
  double* outputs[] = {&rates.power_all, &rates.power_quarter, &rates.power_one};
  for (int k = 0; k < 3; ++k) {
    DeterministicRandom random(noise_seed + 2 + k);
    long detected = 0;
    long total = 0;
    for (int s = 0; s < kSuites; ++s) {
      const std::vector<int> flags = rule(MakeSuite(noise, shifted_counts[k], design, random));
      for (int m = 0; m < shifted_counts[k]; ++m) {
        detected += flags[m] == 1;
        ++total;
      }
    }
    *outputs[k] = static_cast<double>(detected) / static_cast<double>(total);
  }
  return rates;
}

void Run() {
  CompareOptions defaults;
  defaults.bootstrap_resamples = 0;  // the bootstrap interval does not enter the verdict
  CompareOptions fdr05 = defaults;
  fdr05.fdr_level = 0.05;
  struct NamedRule {
    std::string name;
    Rule rule;
  };
  const std::vector<NamedRule> rules = {
      {"faultline (defaults: BH q<=0.01, >=2%)", FaultlineRule(defaults)},
      {"faultline with BH q<=0.05", FaultlineRule(fdr05)},
      {"BH q<=0.05, 90% CI beyond 2%", IntervalRule(0.05, 0.90)},
      {"LKP (min/max disjoint, >5%)", LkpRule},
      {"mmtests (mean+-1.96sd disjoint)", MmtestsRule},
      {"MWU p<0.05, no FDR (LNT/compare.py)", PlainMwuRule},
  };
  std::printf("verdict_power_bench: %d suites x %d metrics per scenario, %d repetitions per side, "
              "CV %.0f%%, shift %+.0f%%\n",
              kSuites, kMetricsPerSuite, kRepetitions, kCv * 100, (kShift - 1) * 100);
  std::printf("targets: A/A suites flagged < 1%%; power (5%% shift) >= 95%%\n");
  for (Noise noise : {Noise::kLognormal, Noise::kLogT3, Noise::kOutliers}) {
    std::printf("\nnoise: %s\n", NoiseName(noise));
    std::printf("%-40s %14s %14s %14s %14s\n", "rule", "A/A flagged", "power 20/20",
                "power 5/20", "power 1/20");
    for (const NamedRule& r : rules) {
      const Rates rates = Measure(noise, r.rule);
      std::printf("%-40s %13.1f%% %13.1f%% %13.1f%% %13.1f%%\n", r.name.c_str(),
                  100 * rates.aa_suites_flagged, 100 * rates.power_all,
                  100 * rates.power_quarter, 100 * rates.power_one);
      std::fflush(stdout);
    }
  }
  // 1,000 suites pin a 1% rate down only to about +-0.6%; the default rule's A/A rate over
  // 10,000 suites (fresh seeds) says where it really sits.
  std::printf("\nfaultline defaults, A/A suites flagged over 10,000 suites:");
  for (Noise noise : {Noise::kLognormal, Noise::kLogT3, Noise::kOutliers}) {
    std::printf("  %s %.2f%%", NoiseName(noise),
                100 * AaRate(noise, rules[0].rule, Design{}, 10000,
                             77 + static_cast<uint64_t>(noise)));
    std::fflush(stdout);
  }
  std::printf("\n");

  // A single shifted metric among 20 is the information limit of 10 repetitions: show what more
  // repetitions buy under the default rule.
  std::printf("\nfaultline defaults, lognormal noise, by repetitions per side:\n");
  std::printf("%-40s %14s %14s %14s %14s\n", "repetitions", "A/A flagged", "power 20/20",
              "power 5/20", "power 1/20");
  for (int repetitions : {5, 8, 15, 20}) {
    Design design;
    design.runs = repetitions;
    const Rates rates = Measure(Noise::kLognormal, rules[0].rule, design);
    std::printf("%-40d %13.1f%% %13.1f%% %13.1f%% %13.1f%%\n", repetitions,
                100 * rates.aa_suites_flagged, 100 * rates.power_all, 100 * rates.power_quarter,
                100 * rates.power_one);
    std::fflush(stdout);
  }

  // Between-run noise: runs of several repetitions, each run offset as a whole.
  const std::vector<NamedRule> block_rules = {
      {"faultline (defaults, runs as blocks)", FaultlineRule(defaults)},
      {"faultline, repetitions pooled", FaultlineRule(defaults, /*pool=*/true)},
      {"BH q<=0.05, 90% CI beyond 2% (blocks)", IntervalRule(0.05, 0.90)},
      {"LKP (per-run means)", LkpRule},
      {"mmtests (repetitions pooled)", MmtestsRule},
      {"MWU p<0.05 (repetitions pooled)", PlainMwuRule},
  };
  struct NamedDesign {
    std::string name;
    Design design;
  };
  const std::vector<NamedDesign> designs = {
      {"10 runs x 3 reps, between-run sd = within", {10, 3, 1.0}},
      {"10 runs x 3 reps, between-run sd = 3x within", {10, 3, 3.0}},
      {"1 run x 10 reps, between-run sd = within", {1, 10, 1.0}},
  };
  // Runs until it can decide, per rule: the fixed 10-run campaign beside the same rule
  // extended up to 30 runs per side (faultline: the sequential rule with alpha spending, and
  // without it for contrast; the anchors: looked at again at 10, 20 and 30 runs).
  struct SequentialCase {
    std::string name;
    Design design;
  };
  const std::vector<SequentialCase> sequential = {
      {"up to 30 runs x 1 rep, no between-run noise", {30, 1, 0.0}},
      {"up to 30 runs x 3 reps, between-run sd = within", {30, 3, 1.0}},
      {"up to 30 runs x 3 reps, between-run sd = 3x within", {30, 3, 3.0}},
  };
  for (const SequentialCase& c : sequential) {
    const int r = c.design.repetitions_per_run;
    std::printf("\nlognormal noise, sequential, %s:\n", c.name.c_str());
    std::printf("%-52s %14s %14s %14s %14s\n", "rule", "A/A flagged", "power 20/20",
                "power 5/20", "power 1/20");
    auto fixed = [r](Rule rule) { return LookAgain(std::move(rule), {10}, r); };
    auto again = [r](Rule rule) { return LookAgain(std::move(rule), {10, 20, 30}, r); };
    const std::vector<NamedRule> rules_here = {
        {"faultline: fixed 10 runs", SequentialRule(defaults, 10, 10, r, false)},
        {"faultline: until decided <=30, OBF alpha spending",
         SequentialRule(defaults, 10, 30, r, true)},
        {"faultline: until decided <=30, full level each look",
         SequentialRule(defaults, 10, 30, r, false)},
        {"faultline pooled: fixed 10 runs", fixed(FaultlineRule(defaults, /*pool=*/true))},
        {"faultline pooled: looks 10/20/30", again(FaultlineRule(defaults, /*pool=*/true))},
        {"LKP: fixed 10 runs", fixed(LkpRule)},
        {"LKP: looks 10/20/30", again(LkpRule)},
        {"mmtests: fixed 10 runs", fixed(MmtestsRule)},
        {"mmtests: looks 10/20/30", again(MmtestsRule)},
        {"MWU p<0.05: fixed 10 runs", fixed(PlainMwuRule)},
        {"MWU p<0.05: looks 10/20/30", again(PlainMwuRule)},
    };
    for (const NamedRule& rule : rules_here) {
      const Rates rates = Measure(Noise::kLognormal, rule.rule, c.design);
      std::printf("%-52s %13.1f%% %13.1f%% %13.1f%% %13.1f%%\n", rule.name.c_str(),
                  100 * rates.aa_suites_flagged, 100 * rates.power_all,
                  100 * rates.power_quarter, 100 * rates.power_one);
      std::fflush(stdout);
    }
  }

  for (const NamedDesign& d : designs) {
    std::printf("\nlognormal noise, %s:\n", d.name.c_str());
    std::printf("%-40s %14s %14s %14s %14s\n", "rule", "A/A flagged", "power 20/20",
                "power 5/20", "power 1/20");
    for (const NamedRule& r : block_rules) {
      const Rates rates = Measure(Noise::kLognormal, r.rule, d.design);
      std::printf("%-40s %13.1f%% %13.1f%% %13.1f%% %13.1f%%\n", r.name.c_str(),
                  100 * rates.aa_suites_flagged, 100 * rates.power_all,
                  100 * rates.power_quarter, 100 * rates.power_one);
      std::fflush(stdout);
    }
  }
}

}  // namespace
}  // namespace faultline::controller::analysis

int main() {
  faultline::controller::analysis::Run();
  return 0;
}
