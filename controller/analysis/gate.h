// Upgrade gates: does a candidate kernel stay within a regression budget on the metrics that
// matter, with the confidence the policy asks for?
//
// For each rule the evaluator finds the matching metrics of the comparison and, per metric,
// the regression (lower-is-better: B/A - 1; higher-is-better: 1 - B/A, so 0.05 means "5% slower"
// or "5% less throughput") with one-sided bounds at the rule's confidence (the Hodges-Lehmann
// interval at level 2c - 1). Then:
//   pass          the upper bound is within the budget: we are c-confident it regressed no more
//                 than allowed (an unchanged or improved metric passes this way);
//   fail          the lower bound is beyond the budget AND the change is significant after the
//                 comparison's FDR control (q <= fdr_level), so a gate over many metrics does not
//                 fail on one lucky draw; the comparison's minimum effect does not apply, so a
//                 budget tighter than it (say 1%) can still fail;
//   inconclusive  anything else (too few samples, or an interval straddling the budget), with an
//                 estimate of the repetitions per side that would settle it.
// Neutral metrics never fail a gate. A rule that matches no metric is inconclusive: a gate must
// not pass on missing data. The gate fails if any rule fails, else is inconclusive if any rule
// is, else passes; GateExitCode maps that to 0 / 1 / 2 for pipelines.
#ifndef FAULTLINE_CONTROLLER_ANALYSIS_GATE_H_
#define FAULTLINE_CONTROLLER_ANALYSIS_GATE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "controller/analysis/compare.h"

namespace faultline::controller::analysis {

struct GateRule {
  // Shell-style globs ('*' and '?') over benchmark and metric names.
  std::string benchmark_glob = "*";
  std::string metric_glob = "*";
  // Largest regression allowed, as a fraction (0.05 = 5%).
  double max_regression = 0.05;
  // One-sided confidence required to pass or to fail, in (0.5, 1).
  double confidence = 0.95;
  // The confidence the estimate of further blocks plans for; 0: confidence. A look of a campaign
  // that runs until it can decide tests at a higher confidence but plans for this one
  // (sequential_plan.h).
  double planning_confidence = 0;
};

struct GatePolicy {
  std::vector<GateRule> rules;
};

// Parses the policy file format, one rule per line, '#' starts a comment:
//
//   # benchmark   metric          max_regression   [confidence]
//   fault_anon    ns_per_fault    3%               0.99
//   fork_*        *               5%
//   *             faults_per_sec  0.02
//
// max_regression is a percentage ("3%") or a fraction ("0.03"); confidence defaults to 0.95.
// Errors name the line, the field and what was expected there: "line 3: max_regression 'lots':
// expected a percentage like 3% or a fraction like 0.03", or "policy: no rules (...)".
absl::StatusOr<GatePolicy> ParseGatePolicy(absl::string_view text);

// The same for a policy read from a file: errors read as compilers print them,
// "FILE:LINE:COLUMN: what was expected", or "FILE: no rules (...)".
absl::StatusOr<GatePolicy> ParseGatePolicyFile(absl::string_view text,
                                               absl::string_view file_name);

enum class GateOutcome { kPass, kFail, kInconclusive };

// "pass", "fail", "inconclusive".
const char* GateOutcomeName(GateOutcome outcome);

// 0 pass, 1 fail, 2 inconclusive.
int GateExitCode(GateOutcome outcome);

struct GateMetricFinding {
  std::string benchmark;
  std::string metric;
  GateOutcome outcome = GateOutcome::kInconclusive;
  // Regression fraction and its one-sided bounds at the rule's confidence; NaN if not computed.
  double regression = 0;
  double regression_lower = 0;
  double regression_upper = 0;
  std::string reason;
  // Further blocks per side that would resolve an inconclusive finding.
  int additional_blocks = 0;
};

struct GateRuleResult {
  GateRule rule;
  GateOutcome outcome = GateOutcome::kInconclusive;
  std::vector<GateMetricFinding> findings;
  std::string reason;
};

struct GateResult {
  GateOutcome outcome = GateOutcome::kInconclusive;
  std::vector<GateRuleResult> rules;
  // The comparison the gate was decided on, for reports.
  SuiteComparison comparison;
};

// Compares `metrics` with `options` and evaluates every rule of `policy` on the result.
absl::StatusOr<GateResult> EvaluateGate(const GatePolicy& policy,
                                        const std::vector<MetricSamples>& metrics,
                                        const CompareOptions& options = {});

// True when `name` matches the shell-style `glob` ('*' any run, '?' any one character).
bool GlobMatches(absl::string_view glob, absl::string_view name);

}  // namespace faultline::controller::analysis

#endif  // FAULTLINE_CONTROLLER_ANALYSIS_GATE_H_
