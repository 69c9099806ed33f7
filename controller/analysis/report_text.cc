#include "controller/analysis/report_text.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"

namespace faultline::controller::analysis {
namespace {

std::string Number(double v) {
  if (std::isnan(v)) return "-";
  return absl::StrFormat("%.4g", v);
}

std::string RatioCell(const MetricComparison& m) {
  if (std::isnan(m.ratio)) return "-";
  return absl::StrFormat("%.3f [%.3f, %.3f]", m.ratio, m.ratio_lower, m.ratio_upper);
}

std::string ChangeCell(const MetricComparison& m) {
  if (std::isnan(m.ratio)) return "-";
  return absl::StrFormat("%+.1f%%", (m.ratio - 1) * 100);
}

std::string DirectionCell(MetricDirection direction) {
  switch (direction) {
    case MetricDirection::kLowerIsBetter:
      return "lower";
    case MetricDirection::kHigherIsBetter:
      return "higher";
    case MetricDirection::kNeutral:
      return "neutral";
  }
  return "-";
}

// LKP's "mean +- %stddev" over all repetitions of a side, e.g. "1021+-1.3%".
std::string MeanCell(int count, double mean, double cv) {
  if (count == 0) return "-";
  if (std::isnan(cv)) return Number(mean);
  return absl::StrFormat("%s+-%.1f%%", Number(mean), cv * 100);
}

std::string MedianCell(int count, double median) { return count == 0 ? "-" : Number(median); }

}  // namespace

std::string RenderColumns(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()), 0);
    for (size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      absl::StrAppend(&line, row[c]);
      if (c + 1 < row.size()) line.append(widths[c] - row[c].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    absl::StrAppend(&out, line, "\n");
  }
  return out;
}

std::string FormatDistributionTable(const std::vector<LatencyDistribution>& distributions,
                                    double confidence, const std::string& block_unit) {
  if (distributions.empty()) return "";
  std::vector<std::vector<std::string>> rows = {
      {"benchmark", "histogram", "quantile", "unit", "A", "B",
       absl::StrFormat("B/A [%.0f%% CI]", confidence * 100), "change", "p",
       absl::StrCat(block_unit, "s A/B"), "note"}};
  for (const LatencyDistribution& d : distributions) {
    for (const QuantileComparison& q : d.quantiles) {
      const bool ratio = !std::isnan(q.ratio);
      rows.push_back(
          {d.benchmark, d.histogram, QuantileName(q.quantile), d.unit.empty() ? "-" : d.unit,
           Number(q.baseline), Number(q.candidate),
           ratio ? absl::StrFormat("%.3f [%.3f, %.3f]", q.ratio, q.ratio_lower, q.ratio_upper)
                 : "-",
           ratio ? absl::StrFormat("%+.1f%%", (q.ratio - 1) * 100) : "-", Number(q.p_value),
           absl::StrCat(d.baseline_blocks, "/", d.candidate_blocks), d.reason});
    }
  }
  return absl::StrCat(
      absl::StrFormat("\nlatency distributions: each %s's histograms merged, one value per %s "
                      "and quantile (reported, not tested)\n",
                      block_unit, block_unit),
      RenderColumns(rows));
}

std::string FormatComparisonTable(const SuiteComparison& comparison) {
  const std::string& unit = comparison.options.block_unit;
  std::vector<std::vector<std::string>> rows = {
      {"benchmark", "metric", "unit", "better", "A median", "A mean+-sd", "B median", "B mean+-sd",
       absl::StrFormat("B/A [%.0f%% CI]", comparison.options.confidence * 100), "change", "p",
       "q", absl::StrCat(unit, "s A/B"), "verdict", "reason"}};
  for (const MetricComparison& m : comparison.metrics) {
    rows.push_back({m.benchmark, m.metric, m.unit.empty() ? "-" : m.unit,
                    DirectionCell(m.direction), MedianCell(m.baseline_count, m.baseline_median),
                    MeanCell(m.baseline_count, m.baseline_mean, m.baseline_cv),
                    MedianCell(m.candidate_count, m.candidate_median),
                    MeanCell(m.candidate_count, m.candidate_mean, m.candidate_cv), RatioCell(m),
                    ChangeCell(m), Number(m.p_value), m.tested ? Number(m.q_value) : "untested",
                    absl::StrCat(m.baseline_blocks, "/", m.candidate_blocks),
                    VerdictName(m.verdict), m.reason});
  }
  return absl::StrCat(
      RenderColumns(rows),
      absl::StrFormat("%d metrics: %d regression, %d improvement, %d no_change, %d inconclusive "
                      "(FDR %.2g, minimum effect %.1f%%, one %s per block)\n",
                      static_cast<int>(comparison.metrics.size()), comparison.regressions,
                      comparison.improvements, comparison.no_change, comparison.inconclusive,
                      comparison.options.fdr_level, comparison.options.min_effect * 100, unit));
}

std::string FormatKernelsTable(const std::vector<std::string>& names,
                               const std::vector<SuiteComparison>& candidates) {
  // Rows: every (benchmark, metric) any candidate compared, in the comparisons' order.
  std::vector<std::pair<std::string, std::string>> keys;
  for (const SuiteComparison& c : candidates) {
    for (const MetricComparison& m : c.metrics) keys.emplace_back(m.benchmark, m.metric);
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  auto find = [](const SuiteComparison& c, const std::pair<std::string, std::string>& key)
      -> const MetricComparison* {
    for (const MetricComparison& m : c.metrics) {
      if (m.benchmark == key.first && m.metric == key.second) return &m;
    }
    return nullptr;
  };
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    absl::StrAppend(&out, i == 0 ? "A" : absl::StrCat("B", i), ": ", names[i], "\n");
  }
  const double confidence = candidates.empty() ? 0.95 : candidates[0].options.confidence;
  std::vector<std::string> header = {"benchmark", "metric", "unit", "better", "A median",
                                     "A mean+-sd"};
  for (size_t i = 1; i <= candidates.size(); ++i) {
    header.push_back(absl::StrFormat("B%d median change [%.0f%% CI] verdict", i, confidence * 100));
  }
  std::vector<std::vector<std::string>> rows = {header};
  for (const auto& key : keys) {
    // The baseline's figures are the same in every comparison; the first that measured it.
    const MetricComparison* base = nullptr;
    for (const SuiteComparison& c : candidates) {
      const MetricComparison* m = find(c, key);
      if (m != nullptr && (base == nullptr || base->baseline_count == 0)) base = m;
    }
    std::vector<std::string> row = {
        key.first, key.second, base->unit.empty() ? "-" : base->unit,
        DirectionCell(base->direction), MedianCell(base->baseline_count, base->baseline_median),
        MeanCell(base->baseline_count, base->baseline_mean, base->baseline_cv)};
    for (const SuiteComparison& c : candidates) {
      const MetricComparison* m = find(c, key);
      if (m == nullptr) {
        row.push_back("-");
        continue;
      }
      std::string interval =
          std::isnan(m->ratio) || std::isnan(m->ratio_lower) || std::isnan(m->ratio_upper)
              ? ""
              : absl::StrFormat(" [%+.1f, %+.1f]", (m->ratio_lower - 1) * 100,
                                (m->ratio_upper - 1) * 100);
      row.push_back(absl::StrCat(MedianCell(m->candidate_count, m->candidate_median), " ",
                                 ChangeCell(*m), interval, " ", VerdictName(m->verdict)));
    }
    rows.push_back(std::move(row));
  }
  absl::StrAppend(&out, RenderColumns(rows));
  for (size_t i = 0; i < candidates.size(); ++i) {
    const SuiteComparison& c = candidates[i];
    absl::StrAppend(
        &out, absl::StrFormat("B%d: %d regression, %d improvement, %d no_change, %d inconclusive "
                              "(FDR %.2g within B%d's metrics, minimum effect %.1f%%, one %s per "
                              "block)\n",
                              i + 1, c.regressions, c.improvements, c.no_change, c.inconclusive,
                              c.options.fdr_level, i + 1, c.options.min_effect * 100,
                              c.options.block_unit));
    for (const MetricComparison& m : c.metrics) {
      if (m.verdict == Verdict::kNoChange) continue;
      absl::StrAppend(&out, absl::StrFormat("    B%d %s %s: %s: %s\n", i + 1, m.benchmark,
                                            m.metric, VerdictName(m.verdict), m.reason));
    }
  }
  return out;
}

bool IsMechanismMetric(absl::string_view metric) {
  for (absl::string_view arm : {"", "baseline.", "contended."}) {
    for (absl::string_view family : {"mmap_lock.", "vmstat."}) {
      if (absl::StartsWith(metric, absl::StrCat(arm, family))) return true;
    }
  }
  return false;
}

namespace {

// LKP's "%change": of the means, "-" when the baseline's is 0 or a side is missing.
std::string MeanChangeCell(const MetricComparison& m) {
  if (m.baseline_count == 0 || m.candidate_count == 0) return "-";
  if (m.baseline_mean == 0) return m.candidate_mean == 0 ? "0.0%" : "-";
  return absl::StrFormat("%+.1f%%", (m.candidate_mean / m.baseline_mean - 1) * 100);
}

std::string LkpMeanCell(int count, double mean, double cv) {
  if (count == 0) return "-";
  return absl::StrFormat("%s +-%3.0f%%", Number(mean), std::isnan(cv) ? 0.0 : cv * 100);
}

std::string Points(double share) { return absl::StrFormat("%.1f%%", share * 100); }

}  // namespace

std::string FormatCounterTable(const SuiteComparison& comparison,
                               const SuiteComparison& counters) {
  std::vector<const MetricComparison*> mechanism;
  for (const MetricComparison& m : comparison.metrics) {
    if (IsMechanismMetric(m.metric)) mechanism.push_back(&m);
  }
  if (mechanism.empty() && counters.metrics.empty()) return "";
  std::vector<std::vector<std::string>> rows = {
      {"benchmark", "A mean +-%stddev", "%change", "B mean +-%stddev", "counter", "verdict"}};
  auto row = [&](const MetricComparison& m, std::string verdict) {
    rows.push_back({m.benchmark, LkpMeanCell(m.baseline_count, m.baseline_mean, m.baseline_cv),
                    MeanChangeCell(m),
                    LkpMeanCell(m.candidate_count, m.candidate_mean, m.candidate_cv), m.metric,
                    std::move(verdict)});
  };
  for (const MetricComparison* m : mechanism) row(*m, VerdictName(m->verdict));
  for (const MetricComparison& m : counters.metrics) row(m, m.shifted ? "shifted" : "-");
  return absl::StrCat(
      "kernel counters (mean +-%stddev over all repetitions, %change of the means; per-operation "
      "figures carry their verdict, raw counts say whether they shifted; vmstat.* is "
      "system-wide):\n",
      RenderColumns(rows));
}

std::string FormatProfileChanges(const std::vector<ProfileChange>& changes) {
  if (changes.empty()) return "";
  std::vector<std::vector<std::string>> rows = {{"benchmark", "A total", "B total", "change",
                                                 "A self", "B self", "profiles A/B", "function"}};
  for (const ProfileChange& c : changes) {
    rows.push_back({c.benchmark, Points(c.baseline_total_share), Points(c.candidate_total_share),
                    absl::StrFormat("%+.1f pt", c.total_change() * 100),
                    Points(c.baseline_self_share), Points(c.candidate_self_share),
                    absl::StrCat(c.baseline_profiles, "/", c.candidate_profiles), c.function});
  }
  return absl::StrCat(
      "kernel profile: the functions whose share of the benchmark's CPU time changed most "
      "(total: on the kernel call chain; self: the CPU in it; mean over each side's runs):\n",
      RenderColumns(rows));
}

std::string FormatGateResult(const GateResult& result) {
  std::string out;
  for (const GateRuleResult& r : result.rules) {
    absl::StrAppend(&out,
                    absl::StrFormat("%-12s %s / %s (max regression %.2f%%, confidence %.0f%%): %s\n",
                                    GateOutcomeName(r.outcome), r.rule.benchmark_glob,
                                    r.rule.metric_glob, r.rule.max_regression * 100,
                                    r.rule.confidence * 100, r.reason));
    for (const GateMetricFinding& f : r.findings) {
      if (f.outcome == GateOutcome::kPass) continue;
      absl::StrAppend(&out, absl::StrFormat("    %-12s %s/%s: %s\n", GateOutcomeName(f.outcome),
                                            f.benchmark, f.metric, f.reason));
    }
  }
  absl::StrAppend(&out, absl::StrFormat("gate: %s (exit %d)\n", GateOutcomeName(result.outcome),
                                        GateExitCode(result.outcome)));
  return out;
}

}  // namespace faultline::controller::analysis
