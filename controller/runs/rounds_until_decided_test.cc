#include "controller/runs/rounds_until_decided.h"

#include <cmath>
#include <vector>

#include "controller/analysis/compare.h"
#include "controller/analysis/deterministic_random.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace faultline::controller::runs {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A clock that only rounds move: each round takes `per_round`.
struct FakeClock {
  absl::Time t = absl::FromUnixSeconds(1'000'000);
  std::function<absl::Time()> Now() {
    return [this] { return t; };
  }
};

// Scripted: each Look returns the next list of estimates; records what was asked.
class ScriptedSource : public RoundSource {
 public:
  ScriptedSource(FakeClock* clock, std::vector<std::vector<int>> looks)
      : clock_(clock), script_(std::move(looks)) {}
  absl::Status AddRounds(int rounds) override {
    added.push_back(rounds);
    clock_->t += rounds * absl::Minutes(1);
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<int>> Look(const analysis::SequentialLook& look) override {
    looks.push_back(look);
    if (looks.size() > script_.size()) return absl::InternalError("looked too often");
    return script_[looks.size() - 1];
  }
  std::vector<int> added;
  std::vector<analysis::SequentialLook> looks;

 private:
  FakeClock* clock_;
  std::vector<std::vector<int>> script_;
};

TEST(RoundsUntilDecidedTest, AddsWhatTheEstimateAsksForAndStopsWhenDecided) {
  FakeClock clock;
  ScriptedSource source(&clock, {{7, 0}, {3}, {}});
  absl::StatusOr<RoundsReport> r =
      RunUntilDecided(source, 10, {30, absl::ZeroDuration()}, 0.01, "run", clock.Now());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(source.added, ElementsAre(10, 7, 3));
  ASSERT_EQ(source.looks.size(), 3u);
  EXPECT_EQ(source.looks[1].previous_blocks, 10);
  EXPECT_EQ(source.looks[1].blocks, 17);
  EXPECT_EQ(source.looks[2].blocks, 20);
  EXPECT_EQ(source.looks[2].max_blocks, 30);
  EXPECT_TRUE(r->decided);
  EXPECT_EQ(r->decided_at_look, 3);
  EXPECT_EQ(r->rounds, 20);
  EXPECT_THAT(r->stop_reason, HasSubstr("decided at look 3 of 20 rounds"));
  double spent = 0;
  for (const LookRecord& l : r->looks) spent += l.level;
  EXPECT_LT(spent, 0.01);  // stopped before the last look, so some level is left unspent
}

TEST(RoundsUntilDecidedTest, StopsForTheRoundBudgetWithWhatWouldBeNeeded) {
  FakeClock clock;
  // 25 more would be needed: beyond the 20 left of 30; no round is added.
  ScriptedSource source(&clock, {{25, 40}});
  absl::StatusOr<RoundsReport> r =
      RunUntilDecided(source, 10, {30, absl::ZeroDuration()}, 0.01, "boot", clock.Now());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(source.added, ElementsAre(10));
  EXPECT_FALSE(r->decided);
  EXPECT_EQ(r->additional_rounds_needed, 25);
  EXPECT_THAT(r->stop_reason, HasSubstr("stopped for budget after look 1 at 10 rounds"));
  EXPECT_THAT(r->stop_reason, HasSubstr("about 25 more (35 boots per side)"));
}

TEST(RoundsUntilDecidedTest, TimeBudgetFixesTheMostRoundsAtTheFirstPace) {
  FakeClock clock;
  // A minute per round and 12 minutes: 5 first, so at most 12 rounds; 7 asked for and fit, then
  // 9 more would be needed and the budget is spent.
  ScriptedSource source(&clock, {{7}, {9}});
  absl::StatusOr<RoundsReport> r =
      RunUntilDecided(source, 5, {0, absl::Minutes(12)}, 0.01, "boot", clock.Now());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->max_rounds, 12);
  EXPECT_THAT(source.added, ElementsAre(5, 7));
  ASSERT_EQ(source.looks.size(), 2u);
  EXPECT_EQ(source.looks[1].blocks, 12);
  EXPECT_EQ(source.looks[1].max_blocks, 12);  // the last look spends what is left
  EXPECT_DOUBLE_EQ(r->looks[0].level + r->looks[1].level, 0.01);
  EXPECT_FALSE(r->decided);
  EXPECT_EQ(r->additional_rounds_needed, 9);
}

TEST(RoundsUntilDecidedTest, SlowerRoundsThanPlannedStopAtTheTimeBudget) {
  FakeClock clock;
  class Slowing : public ScriptedSource {
   public:
    using ScriptedSource::ScriptedSource;
    absl::Status AddRounds(int rounds) override {
      // Rounds after the first take three times as long.
      if (!added.empty()) extra_ += rounds * absl::Minutes(2);
      return ScriptedSource::AddRounds(rounds);
    }
    absl::Duration extra_;
  };
  Slowing source(&clock, {{2}, {2}, {2}});
  const std::function<absl::Time()> now = [&] { return clock.t + source.extra_; };
  absl::StatusOr<RoundsReport> r =
      RunUntilDecided(source, 4, {0, absl::Minutes(12)}, 0.01, "run", now);
  ASSERT_TRUE(r.ok()) << r.status();
  // 4 min for 4 rounds plans 12; then 2 rounds take 6 min (10 min in all), leaving 2 min at
  // 10/6 min a round: one round, which takes 3 min; then none fits.
  EXPECT_THAT(source.added, ElementsAre(4, 2, 1));
  EXPECT_EQ(r->max_rounds, 12);
  EXPECT_EQ(r->rounds, 7);
  EXPECT_FALSE(r->decided);
  EXPECT_THAT(r->stop_reason, HasSubstr("has no room for another round"));
}

TEST(RoundsUntilDecidedTest, RefusesABudgetThatBoundsNothing) {
  FakeClock clock;
  ScriptedSource source(&clock, {{}});
  absl::StatusOr<RoundsReport> r = RunUntilDecided(source, 10, {}, 0.01, "run", clock.Now());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  r = RunUntilDecided(source, 10, {5, absl::ZeroDuration()}, 0.01, "run", clock.Now());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("sequential.max_rounds"));
  EXPECT_TRUE(source.added.empty());
}

// Synthetic runs: one metric, lognormal noise of `cv`, the candidate `shift` slower; each round
// adds one run (one sample) per side; each look compares at its level.
class SyntheticSource : public RoundSource {
 public:
  SyntheticSource(double cv, double shift, uint64_t seed) : cv_(cv), shift_(shift), random_(seed) {}
  absl::Status AddRounds(int rounds) override {
    const double sigma = std::sqrt(std::log1p(cv_ * cv_));
    for (int i = 0; i < rounds; ++i) {
      samples_.baseline.push_back(1000 * std::exp(sigma * random_.Normal()));
      samples_.candidate.push_back(1000 * shift_ * std::exp(sigma * random_.Normal()));
    }
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<int>> Look(const analysis::SequentialLook& look) override {
    analysis::CompareOptions options;
    options.bootstrap_resamples = 0;
    samples_.benchmark = "synthetic";
    samples_.metric = "ns_per_fault";
    absl::StatusOr<analysis::SuiteComparison> c =
        analysis::CompareSuite({samples_}, analysis::CompareOptionsAtLook(options, look));
    if (!c.ok()) return c.status();
    last = c->metrics[0];
    return analysis::UndecidedEstimates(*c);
  }
  analysis::MetricComparison last;

 private:
  double cv_, shift_;
  analysis::DeterministicRandom random_;
  analysis::MetricSamples samples_;
};

TEST(RoundsUntilDecidedTest, AFivePercentShiftIsDecidedAfterMoreRounds) {
  FakeClock clock;
  SyntheticSource source(0.02, 1.05, 7);
  absl::StatusOr<RoundsReport> r =
      RunUntilDecided(source, 5, {40, absl::ZeroDuration()}, 0.01, "run", clock.Now());
  ASSERT_TRUE(r.ok()) << r.status();
  // Five runs spend almost nothing of the level; the estimate asks for more and gets them.
  EXPECT_GT(r->looks.size(), 1u);
  EXPECT_TRUE(r->decided) << r->stop_reason;
  EXPECT_GT(r->rounds, 5);
  EXPECT_LE(r->rounds, 40);
  EXPECT_EQ(source.last.verdict, analysis::Verdict::kRegression);
}

TEST(RoundsUntilDecidedTest, SameKernelNeverFlagsOverManySeeds) {
  // 200 A/A campaigns of up to 30 rounds: none ends in a regression or improvement (the bound
  // is 1%; at these seeds none occurs), and every one stops within the budget.
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    FakeClock clock;
    SyntheticSource source(0.02, 1.0, seed);
    absl::StatusOr<RoundsReport> r =
        RunUntilDecided(source, 10, {30, absl::ZeroDuration()}, 0.01, "run", clock.Now());
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_LE(r->rounds, 30);
    EXPECT_NE(source.last.verdict, analysis::Verdict::kRegression) << "seed " << seed;
    EXPECT_NE(source.last.verdict, analysis::Verdict::kImprovement) << "seed " << seed;
  }
}

}  // namespace
}  // namespace faultline::controller::runs
