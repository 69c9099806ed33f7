#include "controller/analysis/sequential_plan.h"

#include "controller/analysis/sequential.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace faultline::controller::analysis {
namespace {

using ::testing::HasSubstr;

TEST(SequentialPlanTest, LooksSpendTheLevelOnce) {
  // Looks at 10, 17 and 30 of 30 blocks spend exactly alpha in all, the first almost nothing.
  const double alpha = 0.01;
  const SequentialLook looks[] = {{0, 10, 30}, {10, 17, 30}, {17, 30, 30}};
  double total = 0;
  for (const SequentialLook& look : looks) total += LookLevel(alpha, look);
  EXPECT_NEAR(total, alpha, 1e-15);
  EXPECT_LT(LookLevel(alpha, looks[0]), 1e-5);
  EXPECT_DOUBLE_EQ(LookLevel(alpha, {0, 30, 30}), alpha);  // one look: the full level
  EXPECT_DOUBLE_EQ(LookLevel(alpha, looks[1]),
                   SequentialLookLevel(alpha, 10.0 / 30, 17.0 / 30));
}

TEST(SequentialPlanTest, OptionsAndPolicyAtALook) {
  CompareOptions options;
  options.fdr_level = 0.01;
  EXPECT_DOUBLE_EQ(CompareOptionsAtLook(options, {10, 20, 30}).fdr_level,
                   SequentialLookLevel(0.01, 1.0 / 3, 2.0 / 3));
  // The estimate of further blocks plans for the whole level, not the look's share.
  EXPECT_DOUBLE_EQ(CompareOptionsAtLook(options, {10, 20, 30}).planning_fdr_level, 0.01);
  // A first look of a long budget spends less than a double holds: still a valid level.
  EXPECT_GT(CompareOptionsAtLook(options, {0, 1, 1000}).fdr_level, 0);
  EXPECT_TRUE(ValidateCompareOptions(CompareOptionsAtLook(options, {0, 1, 1000})).ok());
  GatePolicy policy;
  policy.rules.push_back(GateRule{"fault_*", "*", 0.05, 0.95});
  const GatePolicy at = GatePolicyAtLook(policy, {10, 20, 30});
  EXPECT_NEAR(1 - at.rules[0].confidence, SequentialLookLevel(0.05, 1.0 / 3, 2.0 / 3), 1e-15);
  EXPECT_EQ(at.rules[0].benchmark_glob, "fault_*");
  EXPECT_DOUBLE_EQ(at.rules[0].planning_confidence, 0.95);
  EXPECT_DOUBLE_EQ(GatePolicyAtLook(policy, {0, 5, 5}).rules[0].confidence, 0.95);
}

TEST(SequentialPlanTest, ValidationNamesTheField) {
  EXPECT_TRUE(ValidateSequentialLook({0, 5, 30}, "sequential").ok());
  absl::Status s = ValidateSequentialLook({5, 5, 30}, "sequential");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("sequential.previous_blocks"));
  EXPECT_THAT(ValidateSequentialLook({0, 31, 30}, "look").message(), HasSubstr("look.blocks"));
  EXPECT_THAT(ValidateSequentialLook({0, 1, 0}, "look").message(), HasSubstr("look.max_blocks"));
}

TEST(SequentialPlanTest, DecidedWhenNothingIsUndecided) {
  const LookOutcome o = DecideLook({}, {0, 10, 30}, "run");
  EXPECT_EQ(o.decision, LookDecision::kDecided);
  EXPECT_THAT(o.reason, HasSubstr("decided at 10 runs per side"));
}

TEST(SequentialPlanTest, MoreBlocksTakesTheLargestEstimateThatFits) {
  // 20 blocks left: 7 and 15 fit, 40 does not; one step gives both that fit what they ask for.
  const LookOutcome o = DecideLook({7, 40, 15, 0}, {0, 10, 30}, "boot");
  EXPECT_EQ(o.decision, LookDecision::kMoreBlocks);
  EXPECT_EQ(o.additional_blocks, 15);
  EXPECT_EQ(o.undecided, 4);
  EXPECT_THAT(o.reason, HasSubstr("about 15 more"));
  EXPECT_THAT(o.reason, HasSubstr("budget: 30 boots per side"));
}

TEST(SequentialPlanTest, OutOfBudgetSaysWhatWouldHaveBeenNeeded) {
  LookOutcome o = DecideLook({40, 25}, {10, 20, 30}, "run");
  EXPECT_EQ(o.decision, LookDecision::kOutOfBudget);
  EXPECT_EQ(o.additional_blocks, 25);
  EXPECT_THAT(o.reason, HasSubstr("about 25 more (45 runs per side)"));
  // At the last look nothing fits, whatever the estimate.
  o = DecideLook({1}, {20, 30, 30}, "run");
  EXPECT_EQ(o.decision, LookDecision::kOutOfBudget);
  EXPECT_EQ(o.additional_blocks, 1);
  // No estimate at all: more blocks are not known to help.
  o = DecideLook({0, 0}, {0, 10, 30}, "run");
  EXPECT_EQ(o.decision, LookDecision::kOutOfBudget);
  EXPECT_EQ(o.additional_blocks, 0);
  EXPECT_THAT(o.reason, HasSubstr("none has an estimate"));
}

TEST(SequentialPlanTest, UndecidedEstimatesOfAComparison) {
  SuiteComparison c;
  c.metrics.resize(4);
  c.metrics[0].verdict = Verdict::kInconclusive;
  c.metrics[0].additional_blocks = 6;
  c.metrics[1].verdict = Verdict::kNoChange;
  c.metrics[2].verdict = Verdict::kInconclusive;  // neutral: reported, not tested
  c.metrics[2].tested = false;
  c.metrics[3].verdict = Verdict::kInconclusive;
  c.metrics[3].additional_blocks = 9;
  EXPECT_EQ(UndecidedEstimates(c), (std::vector<int>{6, 9}));
  EXPECT_EQ(UndecidedEstimates(c, {false, true, true, true}), (std::vector<int>{9}));
}

TEST(SequentialPlanTest, UndecidedEstimatesOfAGate) {
  GateResult r;
  r.outcome = GateOutcome::kInconclusive;
  r.rules.resize(1);
  r.rules[0].findings.resize(2);
  r.rules[0].findings[0].outcome = GateOutcome::kPass;
  r.rules[0].findings[1].outcome = GateOutcome::kInconclusive;
  r.rules[0].findings[1].additional_blocks = 4;
  EXPECT_EQ(UndecidedEstimates(r), (std::vector<int>{4}));
  r.outcome = GateOutcome::kFail;
  EXPECT_TRUE(UndecidedEstimates(r).empty());
  // A rule that matches nothing cannot be helped by more blocks.
  r.outcome = GateOutcome::kInconclusive;
  r.rules[0].findings.clear();
  EXPECT_EQ(UndecidedEstimates(r), (std::vector<int>{0}));
}

}  // namespace
}  // namespace faultline::controller::analysis
