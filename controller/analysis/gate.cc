#include "controller/analysis/gate.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "controller/analysis/hodges_lehmann.h"

namespace faultline::controller::analysis {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

absl::Status ValidateRule(const GateRule& rule, const std::string& where) {
  if (rule.benchmark_glob.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(where, "benchmark: empty selector"));
  }
  if (rule.metric_glob.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(where, "metric: empty selector"));
  }
  if (!(rule.max_regression >= 0 && rule.max_regression < 1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, "max_regression: expected a fraction in [0, 1), got ", rule.max_regression));
  }
  if (!(rule.confidence > 0.5 && rule.confidence < 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, "confidence: expected a number in (0.5, 1), got ", rule.confidence));
  }
  return absl::OkStatus();
}

// Ratio B/A interval at `level` (two-sided), as the comparison computed its own.
bool RatioInterval(const MetricSamples& in, double baseline_median, double level,
                   double& lower, double& upper) {
  const bool positive =
      std::all_of(in.baseline.begin(), in.baseline.end(), [](double v) { return v > 0; }) &&
      std::all_of(in.candidate.begin(), in.candidate.end(), [](double v) { return v > 0; });
  if (positive) {
    absl::StatusOr<IntervalEstimate> r = HodgesLehmannRatio(in.baseline, in.candidate, level);
    if (!r.ok()) return false;
    lower = r->lower;
    upper = r->upper;
    return true;
  }
  if (!(baseline_median > 0)) return false;
  absl::StatusOr<IntervalEstimate> s = HodgesLehmannShift(in.baseline, in.candidate, level);
  if (!s.ok()) return false;
  lower = 1 + s->lower / baseline_median;
  upper = 1 + s->upper / baseline_median;
  return true;
}

GateMetricFinding Judge(const GateRule& rule, const CompareOptions& options,
                        const MetricSamples& in, const MetricComparison& c) {
  GateMetricFinding f;
  f.benchmark = c.benchmark;
  f.metric = c.metric;
  f.regression = f.regression_lower = f.regression_upper = kNaN;
  if (c.direction == MetricDirection::kNeutral) {
    f.outcome = GateOutcome::kPass;
    f.reason = "neutral metric: informational, never gates";
    return f;
  }
  double lower = kNaN;
  double upper = kNaN;
  if (std::isnan(c.ratio) ||
      !RatioInterval(BlockSummaries(in), c.baseline_median, 2 * rule.confidence - 1, lower,
                     upper)) {
    f.outcome = GateOutcome::kInconclusive;
    f.reason = absl::StrCat("not comparable: ", c.reason);
    f.additional_blocks = c.additional_blocks;
    return f;
  }
  if (c.direction == MetricDirection::kLowerIsBetter) {
    f.regression = c.ratio - 1;
    f.regression_lower = lower - 1;
    f.regression_upper = upper - 1;
  } else {
    f.regression = 1 - c.ratio;
    f.regression_lower = 1 - upper;
    f.regression_upper = 1 - lower;
  }
  const std::string evidence = absl::StrFormat(
      "regression %+.2f%%, %.0f%% bounds [%+.2f%%, %+.2f%%], budget %.2f%%", f.regression * 100,
      rule.confidence * 100, f.regression_lower * 100, f.regression_upper * 100,
      rule.max_regression * 100);
  if (f.regression_upper <= rule.max_regression) {
    f.outcome = GateOutcome::kPass;
    f.reason = absl::StrCat("within budget: ", evidence);
    return f;
  }
  // Significance comes from the comparison's FDR control, not its verdict: a budget below the
  // comparison's minimum effect must still be able to fail.
  const bool significant = c.q_value <= options.fdr_level;
  if (f.regression_lower > rule.max_regression && significant) {
    f.outcome = GateOutcome::kFail;
    f.reason = absl::StrCat("over budget: ", evidence, "; q ", absl::StrFormat("%.2g", c.q_value));
    return f;
  }
  f.outcome = GateOutcome::kInconclusive;
  const double cv = std::max(std::isnan(c.baseline_robust_cv) ? 0 : c.baseline_robust_cv,
                             std::isnan(c.candidate_robust_cv) ? 0 : c.candidate_robust_cv);
  // Repetitions to tell the estimate from the budget at the rule's confidence.
  const double distance = std::max(0.005, std::fabs(f.regression - rule.max_regression));
  const double planned =
      rule.planning_confidence > 0 ? rule.planning_confidence : rule.confidence;
  const int needed = RepetitionsToResolve(cv, distance, 2 * (1 - planned), 0.8);
  f.additional_blocks = std::max(1, needed - std::min(c.baseline_blocks, c.candidate_blocks));
  f.reason = absl::StrCat("cannot tell against the budget: ", evidence,
                          f.regression_lower > rule.max_regression
                              ? "; not significant after FDR control across the comparison"
                              : "",
                          absl::StrFormat("; about %d more %s%s per side", f.additional_blocks,
                                          options.block_unit,
                                          f.additional_blocks == 1 ? "" : "s"));
  return f;
}

GateOutcome Combine(const std::vector<GateOutcome>& outcomes) {
  bool inconclusive = false;
  for (GateOutcome o : outcomes) {
    if (o == GateOutcome::kFail) return GateOutcome::kFail;
    inconclusive |= o == GateOutcome::kInconclusive;
  }
  return inconclusive ? GateOutcome::kInconclusive : GateOutcome::kPass;
}

}  // namespace

bool GlobMatches(absl::string_view glob, absl::string_view name) {
  // Iterative matcher with single-star backtracking: linear in practice, no recursion.
  size_t g = 0, n = 0, star = absl::string_view::npos, mark = 0;
  while (n < name.size()) {
    if (g < glob.size() && (glob[g] == '?' || glob[g] == name[n])) {
      ++g;
      ++n;
    } else if (g < glob.size() && glob[g] == '*') {
      star = g++;
      mark = n;
    } else if (star != absl::string_view::npos) {
      g = star + 1;
      n = ++mark;
    } else {
      return false;
    }
  }
  while (g < glob.size() && glob[g] == '*') ++g;
  return g == glob.size();
}

const char* GateOutcomeName(GateOutcome outcome) {
  switch (outcome) {
    case GateOutcome::kPass:
      return "pass";
    case GateOutcome::kFail:
      return "fail";
    case GateOutcome::kInconclusive:
      return "inconclusive";
  }
  return "unknown";
}

int GateExitCode(GateOutcome outcome) {
  switch (outcome) {
    case GateOutcome::kPass:
      return 0;
    case GateOutcome::kFail:
      return 1;
    case GateOutcome::kInconclusive:
      return 2;
  }
  return 2;
}

namespace {

// A parse error's place (1-based; column 0 when it concerns the whole line or file) and what
// was expected there. The two public parsers format it for their readers.
struct PolicyError {
  int line = 0;
  int column = 0;
  std::string message;
};

// Column (1-based) of `field` inside `line`, which it views into.
int ColumnOf(absl::string_view line, absl::string_view field) {
  return static_cast<int>(field.data() - line.data()) + 1;
}

// Parses `text`; on error fills `error` and returns nullopt.
std::optional<GatePolicy> Parse(absl::string_view text, PolicyError& error) {
  GatePolicy policy;
  int line_number = 0;
  for (absl::string_view full_line : absl::StrSplit(text, '\n')) {
    ++line_number;
    absl::string_view line = full_line;
    if (size_t hash = line.find('#'); hash != absl::string_view::npos) line = line.substr(0, hash);
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t\r"), absl::SkipEmpty());
    if (fields.empty()) continue;
    auto fail = [&](absl::string_view at, std::string message) {
      error.line = line_number;
      error.column = ColumnOf(full_line, at);
      error.message = std::move(message);
      return std::nullopt;
    };
    if (fields.size() < 3 || fields.size() > 4) {
      absl::string_view at =
          fields.size() > 4 ? fields[4] : line.substr(fields.back().end() - line.begin());
      return fail(at, absl::StrCat("expected 'benchmark metric max_regression [confidence]', got ",
                                   fields.size(), " fields"));
    }
    GateRule rule;
    rule.benchmark_glob = std::string(fields[0]);
    rule.metric_glob = std::string(fields[1]);
    absl::string_view budget = fields[2];
    const bool percent = absl::ConsumeSuffix(&budget, "%");
    double value = 0;
    if (!absl::SimpleAtod(budget, &value)) {
      return fail(fields[2], absl::StrCat("max_regression '", fields[2],
                                          "': expected a percentage like 3% or a fraction "
                                          "like 0.03"));
    }
    rule.max_regression = percent ? value / 100 : value;
    if (fields.size() == 4 && !absl::SimpleAtod(fields[3], &rule.confidence)) {
      return fail(fields[3], absl::StrCat("confidence '", fields[3],
                                          "': expected a number in (0.5, 1) like 0.99"));
    }
    if (absl::Status s = ValidateRule(rule, ""); !s.ok()) {
      const bool budget_wrong = absl::StartsWith(s.message(), "max_regression");
      return fail(fields[budget_wrong || fields.size() < 4 ? 2 : 3], std::string(s.message()));
    }
    policy.rules.push_back(rule);
  }
  if (policy.rules.empty()) {
    error.message =
        "no rules (expected at least one line 'benchmark metric max_regression [confidence]')";
    return std::nullopt;
  }
  return policy;
}

}  // namespace

absl::StatusOr<GatePolicy> ParseGatePolicy(absl::string_view text) {
  PolicyError error;
  std::optional<GatePolicy> policy = Parse(text, error);
  if (policy.has_value()) return *std::move(policy);
  if (error.line == 0) return absl::InvalidArgumentError(absl::StrCat("policy: ", error.message));
  return absl::InvalidArgumentError(absl::StrCat("line ", error.line, ": ", error.message));
}

absl::StatusOr<GatePolicy> ParseGatePolicyFile(absl::string_view text,
                                               absl::string_view file_name) {
  PolicyError error;
  std::optional<GatePolicy> policy = Parse(text, error);
  if (policy.has_value()) return *std::move(policy);
  if (error.line == 0) {
    return absl::InvalidArgumentError(absl::StrCat(file_name, ": ", error.message));
  }
  return absl::InvalidArgumentError(
      absl::StrCat(file_name, ":", error.line, ":", error.column, ": ", error.message));
}

absl::StatusOr<GateResult> EvaluateGate(const GatePolicy& policy,
                                        const std::vector<MetricSamples>& metrics,
                                        const CompareOptions& options) {
  if (policy.rules.empty()) return absl::InvalidArgumentError("policy: no rules");
  for (size_t i = 0; i < policy.rules.size(); ++i) {
    if (absl::Status s = ValidateRule(policy.rules[i], absl::StrCat("rules[", i, "]: "));
        !s.ok()) {
      return s;
    }
  }
  absl::StatusOr<SuiteComparison> comparison = CompareSuite(metrics, options);
  if (!comparison.ok()) return comparison.status();
  GateResult result;
  result.comparison = *std::move(comparison);
  std::vector<GateOutcome> rule_outcomes;
  for (const GateRule& rule : policy.rules) {
    GateRuleResult r;
    r.rule = rule;
    std::vector<GateOutcome> outcomes;
    for (size_t i = 0; i < metrics.size(); ++i) {
      if (!GlobMatches(rule.benchmark_glob, metrics[i].benchmark) ||
          !GlobMatches(rule.metric_glob, metrics[i].metric)) {
        continue;
      }
      r.findings.push_back(Judge(rule, options, metrics[i], result.comparison.metrics[i]));
      outcomes.push_back(r.findings.back().outcome);
    }
    if (r.findings.empty()) {
      r.outcome = GateOutcome::kInconclusive;
      r.reason = absl::StrCat("no metric matches ", rule.benchmark_glob, " / ", rule.metric_glob);
    } else {
      r.outcome = Combine(outcomes);
      int counts[3] = {0, 0, 0};
      for (GateOutcome o : outcomes) ++counts[static_cast<int>(o)];
      r.reason = absl::StrFormat("%d metrics: %d pass, %d fail, %d inconclusive",
                                 static_cast<int>(outcomes.size()), counts[0], counts[1],
                                 counts[2]);
    }
    rule_outcomes.push_back(r.outcome);
    result.rules.push_back(std::move(r));
  }
  result.outcome = Combine(rule_outcomes);
  return result;
}

}  // namespace faultline::controller::analysis
