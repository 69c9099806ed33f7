#include "controller/analysis/compare.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "controller/analysis/bootstrap.h"
#include "controller/analysis/descriptive.h"
#include "controller/analysis/distributions.h"
#include "controller/analysis/hodges_lehmann.h"
#include "controller/analysis/mann_whitney.h"
#include "controller/analysis/multiple_testing.h"

namespace faultline::controller::analysis {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool AllPositive(const std::vector<double>& x) {
  return std::all_of(x.begin(), x.end(), [](double v) { return v > 0; });
}

absl::Status CheckFinite(const MetricSamples& m, const std::vector<double>& x, const char* side) {
  for (size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(x[i])) {
      return absl::InvalidArgumentError(absl::StrCat(m.benchmark, "/", m.metric, ": ", side, "[",
                                                     i, "] is not a finite number"));
    }
  }
  return absl::OkStatus();
}

// Fills the ratio and its intervals; the shift fallback expresses the Hodges-Lehmann shift
// relative to the baseline median when logs are unavailable.
void EstimateRatio(const MetricSamples& in, const CompareOptions& options, MetricComparison& out) {
  out.ratio = out.ratio_lower = out.ratio_upper = kNaN;
  out.median_ratio_lower = out.median_ratio_upper = kNaN;
  if (AllPositive(in.baseline) && AllPositive(in.candidate)) {
    absl::StatusOr<IntervalEstimate> hl =
        HodgesLehmannRatio(in.baseline, in.candidate, options.confidence);
    if (hl.ok()) {
      out.ratio_method = "hodges_lehmann_log";
      out.ratio = hl->estimate;
      out.ratio_lower = hl->lower;
      out.ratio_upper = hl->upper;
    }
    if (options.bootstrap_resamples > 0) {
      BootstrapOptions bootstrap;
      bootstrap.confidence = options.confidence;
      bootstrap.resamples = options.bootstrap_resamples;
      bootstrap.seed = options.bootstrap_seed;
      absl::StatusOr<IntervalEstimate> b =
          BootstrapMedianRatio(in.baseline, in.candidate, bootstrap);
      if (b.ok()) {
        out.median_ratio_lower = b->lower;
        out.median_ratio_upper = b->upper;
      }
    }
    return;
  }
  if (!(out.baseline_median > 0)) return;  // no scale to express a relative change against
  absl::StatusOr<IntervalEstimate> shift =
      HodgesLehmannShift(in.baseline, in.candidate, options.confidence);
  if (!shift.ok()) return;
  out.ratio_method = "hodges_lehmann_shift";
  out.ratio = 1 + shift->estimate / out.baseline_median;
  out.ratio_lower = 1 + shift->lower / out.baseline_median;
  out.ratio_upper = 1 + shift->upper / out.baseline_median;
}

// log(ratio), with non-positive ratios (possible only for the shift fallback) mapped to a change
// larger than any threshold.
double LogChange(double ratio) {
  if (ratio > 0) return std::log(ratio);
  return -std::numeric_limits<double>::infinity();
}

std::string PercentChange(double ratio) {
  return absl::StrFormat("%+.1f%%", (ratio - 1) * 100);
}

std::string Interval(const MetricComparison& m) {
  return absl::StrFormat("B/A %.4f [%.4f, %.4f]", m.ratio, m.ratio_lower, m.ratio_upper);
}

std::string Plural(int n, const std::string& noun) {
  return absl::StrCat(n, " ", noun, n == 1 ? "" : "s");
}

// "B: 1 run of 6 repetitions", "A: 3 runs, 9 repetitions"
std::string DescribeSide(const char* side, int blocks, int count, const std::string& unit) {
  return absl::StrCat(side, ": ", Plural(blocks, unit), blocks == 1 ? " of " : ", ",
                      Plural(count, "repetition"));
}

void Decide(const CompareOptions& options, int family_size, MetricComparison& m) {
  const std::string& unit = options.block_unit;
  if (m.baseline_count == 0 || m.candidate_count == 0) {
    m.verdict = Verdict::kInconclusive;
    m.reason = absl::StrCat(m.baseline_count == 0 ? "A" : "B", ": not measured");
    return;
  }
  const int have = std::min(m.baseline_blocks, m.candidate_blocks);
  if (!m.tested) {
    m.verdict = Verdict::kNoChange;
    m.reason = std::isnan(m.ratio)
                   ? "neutral metric: reported, not tested"
                   : absl::StrCat("neutral metric: reported, not tested (",
                                  PercentChange(m.ratio), ")");
    return;
  }
  const double worst_cv =
      std::max(std::isnan(m.baseline_robust_cv) ? 0 : m.baseline_robust_cv,
               std::isnan(m.candidate_robust_cv) ? 0 : m.candidate_robust_cv);
  const bool noise_known = have >= kMinBlocksToEstimateNoise;
  const double planning_alpha =
      (options.planning_fdr_level > 0 ? options.planning_fdr_level : options.fdr_level) /
      std::max(1, family_size);
  if (have < options.min_blocks_per_side || std::isnan(m.ratio) || std::isnan(m.p_value)) {
    m.verdict = Verdict::kInconclusive;
    if (have < options.min_blocks_per_side) {
      std::vector<std::string> short_sides;
      if (m.baseline_blocks < options.min_blocks_per_side) {
        short_sides.push_back(DescribeSide("A", m.baseline_blocks, m.baseline_count, unit));
      }
      if (m.candidate_blocks < options.min_blocks_per_side) {
        short_sides.push_back(DescribeSide("B", m.candidate_blocks, m.candidate_count, unit));
      }
      m.reason = absl::StrCat(absl::StrJoin(short_sides, "; "), "; needs at least ",
                              Plural(options.min_blocks_per_side, unit), " per side");
      const int planned =
          noise_known && worst_cv > 0
              ? RepetitionsToResolve(worst_cv, options.min_effect, planning_alpha,
                                     options.planning_power)
              : options.min_blocks_per_side;
      m.additional_blocks = std::max(options.min_blocks_per_side, planned) - have;
    } else {
      m.reason = "no relative change is defined: the baseline median is not positive";
    }
    return;
  }

  const double threshold = std::log1p(options.min_effect);
  const double change = LogChange(m.ratio);
  const bool beyond = std::fabs(change) >= threshold;
  const bool significant = m.q_value <= options.fdr_level;
  const bool interval_beyond =
      LogChange(m.ratio_lower) >= threshold || LogChange(m.ratio_upper) <= -threshold;
  const double target_effect = std::max(options.min_effect, std::fabs(m.ratio - 1));
  const int needed =
      RepetitionsToResolve(worst_cv, target_effect, planning_alpha, options.planning_power);
  const int more = noise_known ? std::max(1, needed - have) : kMinBlocksToEstimateNoise - have;
  const std::string more_text =
      noise_known
          ? absl::StrFormat("about %d more %s per side would resolve a %.1f%% change", more,
                            more == 1 ? unit : unit + "s", target_effect * 100)
          : absl::StrCat("at least ", Plural(kMinBlocksToEstimateNoise, unit),
                         " per side are needed to estimate the noise");
  m.noisy = worst_cv > options.max_cv;
  const std::string evidence =
      absl::StrFormat("%s, q %.2g (p %.2g)", Interval(m), m.q_value, m.p_value);

  if (m.noisy && !(significant && interval_beyond)) {
    m.verdict = Verdict::kInconclusive;
    m.additional_blocks = more;
    m.reason = absl::StrFormat("noisy: robust CV %.1f%% over %.1f%% across %ss; %s; %s",
                               worst_cv * 100,
                               options.max_cv * 100, unit, evidence, more_text);
    return;
  }
  if (significant && beyond) {
    m.shifted = true;
    const bool candidate_higher = change > 0;
    switch (m.direction) {
      case MetricDirection::kNeutral:  // not tested; Decide returned above
      case MetricDirection::kLowerIsBetter:
        m.verdict = candidate_higher ? Verdict::kRegression : Verdict::kImprovement;
        break;
      case MetricDirection::kHigherIsBetter:
        m.verdict = candidate_higher ? Verdict::kImprovement : Verdict::kRegression;
        break;
    }
    m.reason = absl::StrCat(PercentChange(m.ratio), ", beyond the ",
                            absl::StrFormat("%.1f%%", options.min_effect * 100),
                            " minimum effect and significant after FDR control; ", evidence,
                            m.noisy ? "; the whole interval clears the minimum effect despite "
                                      "the spread"
                                    : "");
    return;
  }
  if (!beyond) {
    m.verdict = Verdict::kNoChange;
    m.reason = absl::StrCat(PercentChange(m.ratio), " is within the ",
                            absl::StrFormat("%.1f%%", options.min_effect * 100),
                            " minimum effect", significant ? " (significant but too small)" : "",
                            "; ", evidence);
    return;
  }
  m.verdict = Verdict::kInconclusive;
  m.additional_blocks = more;
  m.reason = absl::StrCat("apparent ", PercentChange(m.ratio),
                          " change is not significant after FDR control; ", evidence, "; ",
                          more_text);
}

absl::Status CheckBlocks(const MetricSamples& m) {
  if (!m.baseline_blocks.empty() && m.baseline_blocks.size() != m.baseline.size()) {
    return absl::InvalidArgumentError(absl::StrCat(m.benchmark, "/", m.metric,
                                                   ": baseline_blocks has ",
                                                   m.baseline_blocks.size(), " entries for ",
                                                   m.baseline.size(), " samples"));
  }
  if (!m.candidate_blocks.empty() && m.candidate_blocks.size() != m.candidate.size()) {
    return absl::InvalidArgumentError(absl::StrCat(m.benchmark, "/", m.metric,
                                                   ": candidate_blocks has ",
                                                   m.candidate_blocks.size(), " entries for ",
                                                   m.candidate.size(), " samples"));
  }
  return absl::OkStatus();
}

std::vector<double> SummariseBlocks(const std::vector<double>& values,
                                    const std::vector<int>& blocks,
                                    const std::vector<bool>& disturbed, int* excluded) {
  auto is_disturbed = [&](size_t i) { return i < disturbed.size() && disturbed[i]; };
  if (blocks.empty()) {
    // Every sample is its own block: a block never loses its only repetition.
    return values;
  }
  std::vector<int> order;  // block ids in order of first appearance
  std::map<int, std::vector<double>> all, quiet;
  for (size_t i = 0; i < values.size() && i < blocks.size(); ++i) {
    auto [it, fresh] = all.try_emplace(blocks[i]);
    if (fresh) order.push_back(blocks[i]);
    it->second.push_back(values[i]);
    if (!is_disturbed(i)) quiet[blocks[i]].push_back(values[i]);
  }
  std::vector<double> out;
  out.reserve(order.size());
  for (int b : order) {
    auto q = quiet.find(b);
    if (q == quiet.end()) {
      out.push_back(Median(std::move(all[b])));
      continue;
    }
    *excluded += static_cast<int>(all[b].size() - q->second.size());
    out.push_back(Median(std::move(q->second)));
  }
  return out;
}

}  // namespace

MetricSamples BlockSummaries(const MetricSamples& in, DisturbedExcluded* excluded) {
  DisturbedExcluded counts;
  MetricSamples out = in;
  out.baseline =
      SummariseBlocks(in.baseline, in.baseline_blocks, in.baseline_disturbed, &counts.baseline);
  out.candidate = SummariseBlocks(in.candidate, in.candidate_blocks, in.candidate_disturbed,
                                  &counts.candidate);
  out.baseline_blocks.clear();
  out.candidate_blocks.clear();
  out.baseline_disturbed.clear();
  out.candidate_disturbed.clear();
  if (excluded != nullptr) *excluded = counts;
  return out;
}

const char* VerdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::kRegression:
      return "regression";
    case Verdict::kImprovement:
      return "improvement";
    case Verdict::kNoChange:
      return "no_change";
    case Verdict::kInconclusive:
      return "inconclusive";
  }
  return "unknown";
}

absl::Status ValidateCompareOptions(const CompareOptions& o) {
  if (!(o.confidence > 0 && o.confidence < 1)) {
    return absl::InvalidArgumentError(absl::StrCat("confidence: ", o.confidence,
                                                   " is not in (0, 1)"));
  }
  if (!(o.fdr_level > 0 && o.fdr_level < 1)) {
    return absl::InvalidArgumentError(absl::StrCat("fdr_level: ", o.fdr_level,
                                                   " is not in (0, 1)"));
  }
  if (!(o.planning_fdr_level >= 0 && o.planning_fdr_level < 1)) {
    return absl::InvalidArgumentError(absl::StrCat("planning_fdr_level: ", o.planning_fdr_level,
                                                   " is not 0 or in (0, 1)"));
  }
  if (!(o.min_effect >= 0 && o.min_effect < 1)) {
    return absl::InvalidArgumentError(absl::StrCat("min_effect: ", o.min_effect,
                                                   " is not in [0, 1)"));
  }
  if (!(o.max_cv > 0)) {
    return absl::InvalidArgumentError(absl::StrCat("max_cv: ", o.max_cv, " is not > 0"));
  }
  if (o.min_blocks_per_side < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("min_blocks_per_side: ", o.min_blocks_per_side, " is below 2"));
  }
  if (!(o.planning_power > 0 && o.planning_power < 1)) {
    return absl::InvalidArgumentError(absl::StrCat("planning_power: ", o.planning_power,
                                                   " is not in (0, 1)"));
  }
  if (o.bootstrap_resamples != 0 &&
      (o.bootstrap_resamples < 100 || o.bootstrap_resamples > 1'000'000)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bootstrap_resamples: ", o.bootstrap_resamples, " is neither 0 nor in [100, 1000000]"));
  }
  return absl::OkStatus();
}

int RepetitionsToResolve(double cv, double effect, double alpha, double power) {
  const double delta = std::log1p(std::max(effect, 1e-9));
  const double sigma = std::log1p(std::max(cv, 0.0));
  const double z = NormalQuantile(1 - alpha / 2) + NormalQuantile(power);
  const double n = 2 * (z * sigma / delta) * (z * sigma / delta) / 0.955 + 1;
  // Cap so a degenerate input cannot overflow; a million repetitions is "not with this setup".
  return static_cast<int>(std::min(1e6, std::ceil(n)));
}

double MinimumDetectableEffect(double cv, int samples, double alpha, double power) {
  if (samples < 2) return std::numeric_limits<double>::infinity();
  const double sigma = std::log1p(std::max(cv, 0.0));
  const double z = NormalQuantile(1 - alpha / 2) + NormalQuantile(power);
  return std::expm1(z * sigma * std::sqrt(2 / (0.955 * (samples - 1))));
}

absl::StatusOr<SuiteComparison> CompareSuite(const std::vector<MetricSamples>& metrics,
                                             const CompareOptions& options) {
  if (absl::Status s = ValidateCompareOptions(options); !s.ok()) return s;
  SuiteComparison suite;
  suite.options = options;
  suite.metrics.resize(metrics.size());
  std::vector<double> p_values(metrics.size(), kNaN);
  for (size_t i = 0; i < metrics.size(); ++i) {
    const MetricSamples& raw = metrics[i];
    if (absl::Status s = CheckFinite(raw, raw.baseline, "baseline"); !s.ok()) return s;
    if (absl::Status s = CheckFinite(raw, raw.candidate, "candidate"); !s.ok()) return s;
    if (absl::Status s = CheckBlocks(raw); !s.ok()) return s;
    DisturbedExcluded excluded;
    const MetricSamples in = BlockSummaries(raw, &excluded);
    MetricComparison& out = suite.metrics[i];
    out.baseline_disturbed_excluded = excluded.baseline;
    out.candidate_disturbed_excluded = excluded.candidate;
    out.benchmark = in.benchmark;
    out.metric = in.metric;
    out.unit = in.unit;
    out.direction = in.direction;
    out.tested = in.direction != MetricDirection::kNeutral;
    out.baseline_count = static_cast<int>(raw.baseline.size());
    out.candidate_count = static_cast<int>(raw.candidate.size());
    out.baseline_blocks = static_cast<int>(in.baseline.size());
    out.candidate_blocks = static_cast<int>(in.candidate.size());
    out.baseline_median = Median(in.baseline);
    out.candidate_median = Median(in.candidate);
    out.baseline_mean = Mean(raw.baseline);
    out.candidate_mean = Mean(raw.candidate);
    out.baseline_cv = CoefficientOfVariation(raw.baseline);
    out.candidate_cv = CoefficientOfVariation(raw.candidate);
    out.baseline_robust_cv = RobustCoefficientOfVariation(in.baseline);
    out.candidate_robust_cv = RobustCoefficientOfVariation(in.candidate);
    out.ratio = out.ratio_lower = out.ratio_upper = kNaN;
    out.median_ratio_lower = out.median_ratio_upper = kNaN;
    out.p_value = out.q_value = kNaN;
    if (std::min(out.baseline_blocks, out.candidate_blocks) < options.min_blocks_per_side) {
      continue;
    }
    EstimateRatio(in, options, out);
    absl::StatusOr<MannWhitneyResult> mwu = MannWhitneyU(in.baseline, in.candidate);
    if (!mwu.ok()) return mwu.status();
    out.p_value = mwu->p_value;
    if (out.tested) p_values[i] = mwu->p_value;
  }
  const std::vector<double> q_values = BenjaminiHochbergQValues(p_values);
  int family_size = 0;
  for (double p : p_values) family_size += !std::isnan(p);
  for (size_t i = 0; i < metrics.size(); ++i) {
    MetricComparison& m = suite.metrics[i];
    m.q_value = q_values[i];
    if (!m.tested) {
      m.shifted = m.p_value <= options.fdr_level &&
                  std::fabs(LogChange(m.ratio)) >= std::log1p(options.min_effect);
    }
    Decide(options, family_size, m);
    if (m.baseline_disturbed_excluded + m.candidate_disturbed_excluded > 0) {
      absl::StrAppend(&m.reason, " (disturbed repetitions left out: A ",
                      m.baseline_disturbed_excluded, ", B ", m.candidate_disturbed_excluded, ")");
    }
    switch (m.verdict) {
      case Verdict::kRegression:
        ++suite.regressions;
        break;
      case Verdict::kImprovement:
        ++suite.improvements;
        break;
      case Verdict::kNoChange:
        ++suite.no_change;
        break;
      case Verdict::kInconclusive:
        ++suite.inconclusive;
        break;
    }
  }
  return suite;
}

}  // namespace faultline::controller::analysis
