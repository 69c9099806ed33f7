#include "controller/runs/rounds_until_decided.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace faultline::controller::runs {
namespace {

// Rounds that fit in `left` at `per_round` each (a round that would overrun does not start).
int RoundsFitting(absl::Duration left, absl::Duration per_round) {
  if (left <= absl::ZeroDuration()) return 0;
  if (per_round <= absl::ZeroDuration()) return 1 << 20;
  return static_cast<int>(std::floor(absl::FDivDuration(left, per_round)));
}

}  // namespace

LookRecord RecordLook(const analysis::SuiteComparison& comparison,
                      const analysis::SequentialLook& look, double alpha,
                      const std::string& block_unit) {
  LookRecord record;
  record.look = look;
  record.level = analysis::LookLevel(alpha, look);
  record.outcome = analysis::DecideLook(analysis::UndecidedEstimates(comparison), look, block_unit);
  return record;
}

absl::StatusOr<RoundsReport> RunUntilDecided(RoundSource& source, int first_rounds,
                                             const RoundBudget& budget, double alpha,
                                             const std::string& block_unit,
                                             const std::function<absl::Time()>& now) {
  if (first_rounds < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("the first look needs at least one round, got ", first_rounds));
  }
  if (budget.max_rounds <= 0 && budget.time <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "sequential: set max_rounds or a time budget (an open-ended campaign never stops)");
  }
  if (budget.max_rounds > 0 && budget.max_rounds < first_rounds) {
    return absl::InvalidArgumentError(absl::StrCat(
        "sequential.max_rounds: ", budget.max_rounds, " is fewer than the first look's ",
        first_rounds, " rounds"));
  }
  const absl::Time start = now();
  RoundsReport report;
  if (absl::Status s = source.AddRounds(first_rounds); !s.ok()) return s;
  report.rounds = first_rounds;
  // The information fraction's denominator: from the budget and the first rounds' pace only.
  int max_rounds = budget.max_rounds > 0 ? budget.max_rounds : 1 << 20;
  const absl::Duration per_round_first = (now() - start) / first_rounds;
  if (budget.time > absl::ZeroDuration()) {
    max_rounds = std::min(max_rounds, first_rounds + RoundsFitting(budget.time - (now() - start),
                                                                   per_round_first));
  }
  report.max_rounds = max_rounds;
  analysis::SequentialLook look{0, first_rounds, max_rounds};
  while (true) {
    absl::StatusOr<std::vector<int>> undecided = source.Look(look);
    if (!undecided.ok()) return undecided.status();
    LookRecord record;
    record.look = look;
    record.level = analysis::LookLevel(alpha, look);
    record.outcome = analysis::DecideLook(*undecided, look, block_unit);
    record.elapsed = now() - start;
    report.looks.push_back(record);
    const int look_number = static_cast<int>(report.looks.size());
    if (record.outcome.decision == analysis::LookDecision::kDecided) {
      report.decided = true;
      report.decided_at_look = look_number;
      report.stop_reason = absl::StrCat("decided at look ", look_number, " of ",
                                        report.rounds, " rounds (", record.outcome.reason, ")");
      return report;
    }
    if (record.outcome.decision == analysis::LookDecision::kOutOfBudget) {
      report.additional_rounds_needed = record.outcome.additional_blocks;
      report.stop_reason = absl::StrCat("stopped for budget after look ", look_number, " at ",
                                        report.rounds, " rounds: ", record.outcome.reason);
      return report;
    }
    int step = record.outcome.additional_blocks;
    if (budget.time > absl::ZeroDuration()) {
      const absl::Duration elapsed = now() - start;
      const int fitting = RoundsFitting(budget.time - elapsed, elapsed / report.rounds);
      if (fitting < 1) {
        report.additional_rounds_needed = step;
        report.stop_reason = absl::StrCat(
            "stopped for budget after look ", look_number, " at ", report.rounds,
            " rounds: the time budget (", absl::FormatDuration(budget.time),
            ") has no room for another round; ", record.outcome.reason);
        return report;
      }
      step = std::min(step, fitting);
    }
    if (absl::Status s = source.AddRounds(step); !s.ok()) return s;
    report.rounds += step;
    look = {look.blocks, look.blocks + step, max_rounds};
  }
}

}  // namespace faultline::controller::runs
