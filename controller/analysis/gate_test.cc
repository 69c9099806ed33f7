#include "controller/analysis/gate.h"

#include <cmath>
#include <string>
#include <vector>

#include "controller/analysis/deterministic_random.h"
#include "gtest/gtest.h"

namespace faultline::controller::analysis {
namespace {

MetricSamples Metric(const std::string& benchmark, const std::string& metric,
                     MetricDirection direction, double factor, double cv, int n, uint64_t seed) {
  DeterministicRandom random(seed);
  MetricSamples m;
  m.benchmark = benchmark;
  m.metric = metric;
  m.direction = direction;
  for (int i = 0; i < n; ++i) m.baseline.push_back(500 * std::exp(cv * random.Normal()));
  for (int i = 0; i < n; ++i) m.candidate.push_back(500 * factor * std::exp(cv * random.Normal()));
  return m;
}

GatePolicy Policy(const std::string& text) {
  absl::StatusOr<GatePolicy> p = ParseGatePolicy(text);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *p : GatePolicy{};
}

TEST(GlobTest, Matches) {
  EXPECT_TRUE(GlobMatches("*", ""));
  EXPECT_TRUE(GlobMatches("fork_*", "fork_1g"));
  EXPECT_TRUE(GlobMatches("f?ult_*_ns", "fault_anon_ns"));
  EXPECT_FALSE(GlobMatches("fork_*", "fault_anon"));
  EXPECT_FALSE(GlobMatches("fault", "fault_anon"));
  EXPECT_TRUE(GlobMatches("*a*b*c", "xaybzbc"));
}

TEST(GatePolicyTest, ParsesTheDocumentedFormat) {
  absl::StatusOr<GatePolicy> p = ParseGatePolicy(
      "# benchmark metric max_regression [confidence]\n"
      "fault_anon  ns_per_fault  3%  0.99\n"
      "\n"
      "fork_*\t*\t0.05   # fork may cost up to 5%\n");
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(p->rules.size(), 2u);
  EXPECT_EQ(p->rules[0].benchmark_glob, "fault_anon");
  EXPECT_EQ(p->rules[0].metric_glob, "ns_per_fault");
  EXPECT_DOUBLE_EQ(p->rules[0].max_regression, 0.03);
  EXPECT_DOUBLE_EQ(p->rules[0].confidence, 0.99);
  EXPECT_DOUBLE_EQ(p->rules[1].max_regression, 0.05);
  EXPECT_DOUBLE_EQ(p->rules[1].confidence, 0.95);
}

TEST(GatePolicyTest, ErrorsNameLineAndField) {
  absl::StatusOr<GatePolicy> p = ParseGatePolicy("a b 3%\nx y lots\n");
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(p.status().message().find("line 2: max_regression 'lots'"), std::string::npos)
      << p.status();
  p = ParseGatePolicy("a b 3% 0.3\n");
  EXPECT_NE(p.status().message().find("line 1: confidence"), std::string::npos) << p.status();
  p = ParseGatePolicy("a b\n");
  EXPECT_NE(p.status().message().find("line 1: expected"), std::string::npos) << p.status();
  EXPECT_FALSE(ParseGatePolicy("# only a comment\n").ok());
}

TEST(GatePolicyTest, FileErrorsNameFileLineColumnAndWhatWasExpected) {
  absl::StatusOr<GatePolicy> p =
      ParseGatePolicyFile("# budget\nfault_anon ns_per_fault 3%\n  fork_*  *  lots\n", "mm.policy");
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(p.status().message(),
            "mm.policy:3:14: max_regression 'lots': expected a percentage like 3% or a fraction "
            "like 0.03");
  p = ParseGatePolicyFile("a b 3% 0.3\n", "g.txt");
  EXPECT_EQ(p.status().message(), "g.txt:1:8: confidence: expected a number in (0.5, 1), got 0.3");
  p = ParseGatePolicyFile("a b 150%\n", "g.txt");
  EXPECT_EQ(p.status().message(),
            "g.txt:1:5: max_regression: expected a fraction in [0, 1), got 1.5");
  // Too few fields: the column is where the missing one should start.
  p = ParseGatePolicyFile("\nfault_anon ns\n", "g.txt");
  EXPECT_EQ(p.status().message(),
            "g.txt:2:14: expected 'benchmark metric max_regression [confidence]', got 2 fields");
  p = ParseGatePolicyFile("a b 3% 0.9 extra\n", "g.txt");
  EXPECT_EQ(p.status().message().rfind("g.txt:1:12: expected", 0), 0u) << p.status();
  p = ParseGatePolicyFile("# nothing\n\n", "empty.policy");
  EXPECT_EQ(p.status().message().rfind("empty.policy: no rules (expected", 0), 0u)
      << p.status();
  // Accepted text parses the same either way.
  p = ParseGatePolicyFile("fork_* * 5%\n", "g.txt");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_DOUBLE_EQ(p->rules[0].max_regression, 0.05);
}

TEST(GateTest, AaComparisonPasses) {
  std::vector<MetricSamples> metrics;
  for (int i = 0; i < 6; ++i) {
    metrics.push_back(Metric("fault_anon", "m" + std::to_string(i),
                             MetricDirection::kLowerIsBetter, 1.0, 0.01, 10, 100 + i));
  }
  absl::StatusOr<GateResult> g = EvaluateGate(Policy("* * 5%\n"), metrics);
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->outcome, GateOutcome::kPass) << g->rules[0].reason;
  EXPECT_EQ(GateExitCode(g->outcome), 0);
  EXPECT_EQ(g->rules[0].findings.size(), 6u);
}

TEST(GateTest, ClearRegressionOverBudgetFails) {
  const std::vector<MetricSamples> metrics = {
      Metric("fault_anon", "ns_per_fault", MetricDirection::kLowerIsBetter, 1.15, 0.01, 10, 1),
      Metric("fault_anon", "faults_per_sec", MetricDirection::kHigherIsBetter, 1 / 1.15, 0.01, 10,
             2),
      Metric("fork_1g", "ns", MetricDirection::kLowerIsBetter, 1.0, 0.01, 10, 3),
  };
  absl::StatusOr<GateResult> g =
      EvaluateGate(Policy("fault_anon * 5%\nfork_* * 5%\n"), metrics);
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->outcome, GateOutcome::kFail);
  EXPECT_EQ(GateExitCode(g->outcome), 1);
  ASSERT_EQ(g->rules[0].findings.size(), 2u);
  for (const GateMetricFinding& f : g->rules[0].findings) {
    EXPECT_EQ(f.outcome, GateOutcome::kFail) << f.metric << ": " << f.reason;
    EXPECT_GT(f.regression_lower, 0.05);
    EXPECT_NE(f.reason.find("over budget"), std::string::npos);
  }
  EXPECT_NEAR(g->rules[0].findings[1].regression, 1 - 1 / 1.15, 0.02);
  EXPECT_EQ(g->rules[1].outcome, GateOutcome::kPass) << g->rules[1].findings[0].reason;
}

TEST(GateTest, BudgetTighterThanTheMinimumEffectCanFail) {
  // 1.5% slower at 0.1% noise: "no change" for a comparison (under its 2% minimum effect), but a
  // clear breach of a 1% budget.
  const std::vector<MetricSamples> metrics = {
      Metric("fault_anon", "ns_per_fault", MetricDirection::kLowerIsBetter, 1.015, 0.001, 10, 9)};
  absl::StatusOr<GateResult> g = EvaluateGate(Policy("* * 1%\n"), metrics);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->comparison.metrics[0].verdict, Verdict::kNoChange);
  EXPECT_EQ(g->outcome, GateOutcome::kFail) << g->rules[0].findings[0].reason;
  g = EvaluateGate(Policy("* * 2.5%\n"), metrics);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->outcome, GateOutcome::kPass) << g->rules[0].findings[0].reason;
}

TEST(GateTest, RegressionNearTheBudgetIsInconclusive) {
  // 6% slower against a 5% budget with 4% noise: neither side of the budget is certain.
  const std::vector<MetricSamples> metrics = {
      Metric("fault_anon", "ns_per_fault", MetricDirection::kLowerIsBetter, 1.06, 0.04, 8, 4)};
  absl::StatusOr<GateResult> g = EvaluateGate(Policy("* ns_per_fault 5%\n"), metrics);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->outcome, GateOutcome::kInconclusive);
  EXPECT_EQ(GateExitCode(g->outcome), 2);
  const GateMetricFinding& f = g->rules[0].findings[0];
  EXPECT_LT(f.regression_lower, 0.05);
  EXPECT_GT(f.regression_upper, 0.05);
  EXPECT_GT(f.additional_blocks, 0);
}

TEST(GateTest, MissingDataAndNeutralMetricsNeverPassOrFailWrongly) {
  const std::vector<MetricSamples> metrics = {
      Metric("fault_anon", "pgfault", MetricDirection::kNeutral, 1.5, 0.01, 10, 5)};
  absl::StatusOr<GateResult> g = EvaluateGate(Policy("fault_anon pgfault 1%\n"), metrics);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->outcome, GateOutcome::kPass);
  g = EvaluateGate(Policy("madvise_* * 1%\n"), metrics);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->outcome, GateOutcome::kInconclusive);
  EXPECT_NE(g->rules[0].reason.find("no metric matches"), std::string::npos);
  // Too few repetitions: inconclusive, not pass.
  g = EvaluateGate(Policy("* * 5%\n"),
                   {Metric("b", "m", MetricDirection::kLowerIsBetter, 1.0, 0.01, 3, 6)});
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->outcome, GateOutcome::kInconclusive);
}

}  // namespace
}  // namespace faultline::controller::analysis
