// The rule of a campaign that runs until it can decide (gate --until_decided, submit
// --until_decided, faultline-lab --until_decided): after each look at the growing comparison,
// is every metric of interest decided, could more blocks (runs, or boots) decide the rest
// within the budget, or is the budget too small for them?
//
// Error rate under repeated looks: each look tests at its share of the level, the Lan-DeMets
// O'Brien-Fleming alpha spending of sequential.h (Lan & DeMets 1983, Biometrika 70:659-663;
// O'Brien & Fleming 1979, Biometrics 35:549-556), with the information fraction t = blocks per
// side at the look over the most the budget allows. The most is fixed before the first look, from
// the budget alone (a count, or a time budget over the first look's time per round), never from
// the data, which is what lets the spending hold: P(any look flags an A/A metric) <= alpha.
// verdict_power_bench measures this rule (the same functions) against looking at the full level.
//
// The stopping rule: more blocks are added only while some metric of interest is undecided and
// its own estimate (MetricComparison::additional_blocks, GateMetricFinding::additional_blocks)
// says that many more blocks could decide it within the budget. The next look comes after the
// largest such estimate that fits (every metric that can be decided within the budget gets the
// blocks it asks for in one step, which keeps the looks few); an undecided metric with no estimate,
// or one beyond the budget, does not keep the campaign going.
#ifndef FAULTLINE_CONTROLLER_ANALYSIS_SEQUENTIAL_PLAN_H_
#define FAULTLINE_CONTROLLER_ANALYSIS_SEQUENTIAL_PLAN_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "controller/analysis/compare.h"
#include "controller/analysis/gate.h"

namespace faultline::controller::analysis {

// One look at a growing comparison, in blocks per side.
struct SequentialLook {
  // At the previous look; 0 for the first.
  int previous_blocks = 0;
  // At this look.
  int blocks = 0;
  // The most the budget allows: the information fraction's denominator.
  int max_blocks = 0;
};

// INVALID_ARGUMENT naming the field unless 0 <= previous_blocks < blocks <= max_blocks; the
// fields are named FIELD.previous_UNIT, FIELD.UNIT and FIELD.max_UNIT ("look.max_rounds").
absl::Status ValidateSequentialLook(const SequentialLook& look, absl::string_view field,
                                    absl::string_view unit = "blocks");

// The level a look tests at, for an overall level `alpha`: what the O'Brien-Fleming spending
// function spends between the previous look's information fraction and this one's. A look at
// max_blocks is the last (t = 1) and spends what is left.
double LookLevel(double alpha, const SequentialLook& look);

// `options` with fdr_level at this look's level, and the estimate of further blocks still
// planning for the whole level (planning_fdr_level): a look's own level, tiny at the first
// looks, would ask for far more blocks than the later looks need.
CompareOptions CompareOptionsAtLook(const CompareOptions& options, const SequentialLook& look);

// `policy` with each rule's confidence c at 1 - LookLevel(1 - c): a gate's pass and fail are
// one-sided tests at 1 - c, and looking again spends that level the same way; the estimate keeps
// planning for c (planning_confidence).
GatePolicy GatePolicyAtLook(const GatePolicy& policy, const SequentialLook& look);

enum class LookDecision {
  // Every metric of interest is decided: stop.
  kDecided,
  // Some metric of interest could be decided with LookOutcome::additional_blocks more.
  kMoreBlocks,
  // Undecided, and no undecided metric's estimate fits in what is left of the budget.
  kOutOfBudget,
};

// "decided", "more_blocks", "out_of_budget".
const char* LookDecisionName(LookDecision decision);

struct LookOutcome {
  LookDecision decision = LookDecision::kDecided;
  // Metrics of interest still undecided at this look.
  int undecided = 0;
  // kMoreBlocks: blocks per side to add before the next look. kOutOfBudget: the fewest further
  // blocks per side any undecided metric's estimate asks for (0: none has an estimate).
  int additional_blocks = 0;
  // One sentence, e.g. "2 metrics undecided; about 7 more boots per side could decide them
  // (budget: 30)".
  std::string reason;
};

// Decides after a look. `undecided_estimates` holds one entry per undecided metric of interest:
// its estimate of further blocks per side (0 when it has none). `block_unit`: "run" or "boot".
LookOutcome DecideLook(const std::vector<int>& undecided_estimates, const SequentialLook& look,
                       absl::string_view block_unit);

// A comparison's undecided metrics of interest: the tested ones whose verdict is inconclusive,
// among those `of_interest` selects (parallel to comparison.metrics; empty selects all).
std::vector<int> UndecidedEstimates(const SuiteComparison& comparison,
                                    const std::vector<bool>& of_interest = {});

// A gate's: none when the gate passed or failed (one failing metric decides it), else every
// inconclusive finding's estimate.
std::vector<int> UndecidedEstimates(const GateResult& result);

}  // namespace faultline::controller::analysis

#endif  // FAULTLINE_CONTROLLER_ANALYSIS_SEQUENTIAL_PLAN_H_
