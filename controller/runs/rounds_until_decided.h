// A campaign that runs until it can decide: interleaved rounds (a round is one new run per side,
// one more block of the comparison) are added while a metric of interest is undecided and its
// own estimate says more blocks could decide it within the user's budget (rounds, or time).
// Every look tests at its alpha-spending level and the stopping rule is DecideLook's
// (controller/analysis/sequential_plan.h); this loop only runs rounds, times them and keeps the
// record. What a round and a look are is the RoundSource's: the gate (gate_runner.cc) runs a
// campaign per step and evaluates its policy; tests use a fake.
#ifndef FAULTLINE_CONTROLLER_RUNS_ROUNDS_UNTIL_DECIDED_H_
#define FAULTLINE_CONTROLLER_RUNS_ROUNDS_UNTIL_DECIDED_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "controller/analysis/compare.h"
#include "controller/analysis/sequential_plan.h"

namespace faultline::controller::runs {

// The user's budget; at least one of the two is set (the API's bounds: controller/validation).
struct RoundBudget {
  // Most rounds (blocks per side) in all, the first look's included; 0: only the time bounds.
  int max_rounds = 0;
  // Most wall time for all rounds; zero: only max_rounds bounds.
  absl::Duration time = absl::ZeroDuration();
};

class RoundSource {
 public:
  virtual ~RoundSource() = default;
  // Runs `rounds` more interleaved rounds.
  virtual absl::Status AddRounds(int rounds) = 0;
  // Compares everything run so far at `look`'s level and returns one estimate of further blocks
  // per side per undecided metric of interest (0: no estimate; analysis::UndecidedEstimates).
  virtual absl::StatusOr<std::vector<int>> Look(const analysis::SequentialLook& look) = 0;
};

struct LookRecord {
  analysis::SequentialLook look;
  // The level this look tested at, for an overall level of RunUntilDecided's `alpha`.
  double level = 0;
  analysis::LookOutcome outcome;
  // Since the first round started, when the look was taken.
  absl::Duration elapsed;
};

struct RoundsReport {
  std::vector<LookRecord> looks;
  // Rounds run in all.
  int rounds = 0;
  // The most rounds the budget allowed, fixed after the first look (max_rounds, or the rounds
  // the time budget fits at the first look's pace).
  int max_rounds = 0;
  bool decided = false;
  // 1-based look that decided; 0 when none did.
  int decided_at_look = 0;
  // When it stopped undecided: the further rounds per side the estimate asked for (0: none).
  int additional_rounds_needed = 0;
  // One sentence: which look decided, or why it stopped.
  std::string stop_reason;
};

// One look at a comparison made with analysis::CompareOptionsAtLook(options, look): the level it
// tested at (for an overall `alpha`) and DecideLook over its undecided tested metrics. For
// callers that run the rounds themselves (faultlinectl compare --look, for the lab).
LookRecord RecordLook(const analysis::SuiteComparison& comparison,
                      const analysis::SequentialLook& look, double alpha,
                      const std::string& block_unit);

// Runs `first_rounds` rounds, looks, and keeps adding what DecideLook asks for while it fits in
// `budget` (time: by the pace so far; a step is cut to the rounds that fit, and no round starts
// that would not). `alpha` is only for the record's levels. `now` is the clock. INVALID_ARGUMENT
// for a budget that bounds nothing or a max_rounds below `first_rounds`; errors of the source end
// the loop and are returned.
absl::StatusOr<RoundsReport> RunUntilDecided(RoundSource& source, int first_rounds,
                                             const RoundBudget& budget, double alpha,
                                             const std::string& block_unit,
                                             const std::function<absl::Time()>& now);

}  // namespace faultline::controller::runs

#endif  // FAULTLINE_CONTROLLER_RUNS_ROUNDS_UNTIL_DECIDED_H_
