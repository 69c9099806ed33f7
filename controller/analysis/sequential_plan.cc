#include "controller/analysis/sequential_plan.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "controller/analysis/sequential.h"

namespace faultline::controller::analysis {
namespace {

std::string Blocks(int n, absl::string_view unit) {
  return absl::StrCat(n, " ", unit, n == 1 ? "" : "s");
}

std::string Metrics(int n) { return absl::StrCat(n, n == 1 ? " metric" : " metrics"); }

}  // namespace

absl::Status ValidateSequentialLook(const SequentialLook& look, absl::string_view field,
                                    absl::string_view unit) {
  if (look.max_blocks < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".max_", unit, ": must be at least 1, got ", look.max_blocks));
  }
  if (look.blocks < 1 || look.blocks > look.max_blocks) {
    return absl::InvalidArgumentError(absl::StrCat(field, ".", unit, ": must be in 1..max_", unit,
                                                   " (", look.max_blocks, "), got ", look.blocks));
  }
  if (look.previous_blocks < 0 || look.previous_blocks >= look.blocks) {
    return absl::InvalidArgumentError(absl::StrCat(field, ".previous_", unit, ": must be in 0..",
                                                   look.blocks - 1, ", got ",
                                                   look.previous_blocks));
  }
  return absl::OkStatus();
}

double LookLevel(double alpha, const SequentialLook& look) {
  const double max = std::max(1, look.max_blocks);
  return SequentialLookLevel(alpha, look.previous_blocks / max, look.blocks / max);
}

CompareOptions CompareOptionsAtLook(const CompareOptions& options, const SequentialLook& look) {
  CompareOptions out = options;
  // The earliest looks of a long budget spend less than a double holds; the smallest positive
  // level decides nothing either, and keeps the options valid.
  out.fdr_level = std::max(LookLevel(options.fdr_level, look), std::numeric_limits<double>::min());
  if (out.planning_fdr_level == 0) out.planning_fdr_level = options.fdr_level;
  return out;
}

GatePolicy GatePolicyAtLook(const GatePolicy& policy, const SequentialLook& look) {
  GatePolicy out = policy;
  for (GateRule& rule : out.rules) {
    // Kept below 1 (and the interval computable) at the earliest looks, which spend ~0.
    if (rule.planning_confidence == 0) rule.planning_confidence = rule.confidence;
    rule.confidence = std::min(1 - 1e-12, 1 - LookLevel(1 - rule.confidence, look));
  }
  return out;
}

const char* LookDecisionName(LookDecision decision) {
  switch (decision) {
    case LookDecision::kDecided:
      return "decided";
    case LookDecision::kMoreBlocks:
      return "more_blocks";
    case LookDecision::kOutOfBudget:
      return "out_of_budget";
  }
  return "unknown";
}

LookOutcome DecideLook(const std::vector<int>& undecided_estimates, const SequentialLook& look,
                       absl::string_view block_unit) {
  LookOutcome out;
  out.undecided = static_cast<int>(undecided_estimates.size());
  if (undecided_estimates.empty()) {
    out.decision = LookDecision::kDecided;
    out.reason = absl::StrCat("decided at ", Blocks(look.blocks, block_unit), " per side");
    return out;
  }
  const int left = std::max(0, look.max_blocks - look.blocks);
  int fitting = 0;
  int fewest = 0;
  for (int estimate : undecided_estimates) {
    if (estimate <= 0) continue;
    if (estimate <= left) fitting = std::max(fitting, estimate);
    fewest = fewest == 0 ? estimate : std::min(fewest, estimate);
  }
  if (fitting > 0) {
    out.decision = LookDecision::kMoreBlocks;
    out.additional_blocks = fitting;
    out.reason = absl::StrCat(Metrics(out.undecided), " undecided at ",
                              Blocks(look.blocks, block_unit), " per side; about ", fitting,
                              " more could decide ", out.undecided == 1 ? "it" : "some",
                              " (budget: ", Blocks(look.max_blocks, block_unit), " per side)");
    return out;
  }
  out.decision = LookDecision::kOutOfBudget;
  out.additional_blocks = fewest;
  if (fewest == 0) {
    out.reason = absl::StrCat(Metrics(out.undecided), " undecided at ",
                              Blocks(look.blocks, block_unit),
                              " per side, and none has an estimate of what would decide it");
  } else {
    out.reason = absl::StrCat(
        Metrics(out.undecided), " undecided at ", Blocks(look.blocks, block_unit),
        " per side; out of budget: the smallest estimate is about ", fewest, " more (",
        Blocks(look.blocks + fewest, block_unit), " per side), the budget allows ",
        Blocks(look.max_blocks, block_unit), " per side");
  }
  return out;
}

std::vector<int> UndecidedEstimates(const SuiteComparison& comparison,
                                    const std::vector<bool>& of_interest) {
  std::vector<int> out;
  for (size_t i = 0; i < comparison.metrics.size(); ++i) {
    if (!of_interest.empty() && (i >= of_interest.size() || !of_interest[i])) continue;
    const MetricComparison& m = comparison.metrics[i];
    if (!m.tested || m.verdict != Verdict::kInconclusive) continue;
    out.push_back(m.additional_blocks);
  }
  return out;
}

std::vector<int> UndecidedEstimates(const GateResult& result) {
  std::vector<int> out;
  if (result.outcome != GateOutcome::kInconclusive) return out;
  for (const GateRuleResult& rule : result.rules) {
    for (const GateMetricFinding& f : rule.findings) {
      if (f.outcome == GateOutcome::kInconclusive) out.push_back(f.additional_blocks);
    }
  }
  // A rule that matches no metric is inconclusive with no finding: more blocks cannot help it.
  if (out.empty()) out.push_back(0);
  return out;
}

}  // namespace faultline::controller::analysis
