#include "controller/analysis/compare.h"

#include <cmath>
#include <string>
#include <vector>

#include "controller/analysis/deterministic_random.h"
#include "gtest/gtest.h"

namespace faultline::controller::analysis {
namespace {

std::vector<double> Lognormal(double center, double cv, int n, DeterministicRandom& random) {
  std::vector<double> x;
  for (int i = 0; i < n; ++i) x.push_back(center * std::exp(cv * random.Normal()));
  return x;
}

MetricSamples Metric(const std::string& name, MetricDirection direction, double factor, double cv,
                     int n, uint64_t seed) {
  DeterministicRandom random(seed);
  MetricSamples m;
  m.benchmark = "fault_anon";
  m.metric = name;
  m.direction = direction;
  m.baseline = Lognormal(1000, cv, n, random);
  m.candidate = Lognormal(1000 * factor, cv, n, random);
  return m;
}

TEST(CompareTest, TenPercentSlowerLatencyIsARegression) {
  absl::StatusOr<SuiteComparison> c =
      CompareSuite({Metric("ns_per_fault", MetricDirection::kLowerIsBetter, 1.10, 0.01, 10, 1)});
  ASSERT_TRUE(c.ok()) << c.status();
  const MetricComparison& m = c->metrics[0];
  EXPECT_EQ(m.verdict, Verdict::kRegression) << m.reason;
  EXPECT_NEAR(m.ratio, 1.10, 0.015);
  EXPECT_GT(m.ratio_lower, 1.0);
  EXPECT_LT(m.ratio_lower, m.ratio);
  EXPECT_GT(m.ratio_upper, m.ratio);
  EXPECT_LT(m.q_value, 0.001);
  EXPECT_EQ(m.ratio_method, "hodges_lehmann_log");
  EXPECT_LT(m.median_ratio_lower, m.candidate_median / m.baseline_median);
  EXPECT_GT(m.median_ratio_upper, m.candidate_median / m.baseline_median);
  EXPECT_EQ(c->regressions, 1);
}

TEST(CompareTest, DirectionDecidesRegressionOrImprovement) {
  absl::StatusOr<SuiteComparison> c = CompareSuite({
      Metric("faults_per_sec", MetricDirection::kHigherIsBetter, 0.9, 0.01, 10, 2),
      Metric("ns_per_fault", MetricDirection::kLowerIsBetter, 0.9, 0.01, 10, 3),
      Metric("pgfault", MetricDirection::kNeutral, 1.2, 0.01, 10, 4),
  });
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->metrics[0].verdict, Verdict::kRegression) << c->metrics[0].reason;
  EXPECT_EQ(c->metrics[1].verdict, Verdict::kImprovement) << c->metrics[1].reason;
  // Neutral metrics never regress, but the move is recorded.
  EXPECT_EQ(c->metrics[2].verdict, Verdict::kNoChange) << c->metrics[2].reason;
  EXPECT_TRUE(c->metrics[2].shifted);
  EXPECT_NE(c->metrics[2].reason.find("neutral"), std::string::npos);
}

TEST(CompareTest, SignificantButTinyChangeIsNoChange) {
  // 0.3% slower with 0.05% noise: overwhelmingly significant, below the 2% minimum effect.
  absl::StatusOr<SuiteComparison> c =
      CompareSuite({Metric("ns_per_fault", MetricDirection::kLowerIsBetter, 1.003, 0.0005, 20, 5)});
  ASSERT_TRUE(c.ok());
  const MetricComparison& m = c->metrics[0];
  EXPECT_LT(m.q_value, 1e-4);
  EXPECT_EQ(m.verdict, Verdict::kNoChange) << m.reason;
  EXPECT_NE(m.reason.find("significant but too small"), std::string::npos) << m.reason;
}

TEST(CompareTest, TooFewSamplesIsInconclusiveWithARepetitionEstimate) {
  absl::StatusOr<SuiteComparison> c =
      CompareSuite({Metric("ns_per_fault", MetricDirection::kLowerIsBetter, 1.5, 0.01, 3, 6)});
  ASSERT_TRUE(c.ok());
  const MetricComparison& m = c->metrics[0];
  EXPECT_EQ(m.verdict, Verdict::kInconclusive);
  EXPECT_NE(m.reason.find("A: 3 runs, 3 repetitions; B: 3 runs, 3 repetitions; needs at least 5 runs "
                          "per side"),
            std::string::npos)
      << m.reason;
  EXPECT_GE(m.additional_blocks, 2);
  EXPECT_TRUE(std::isnan(m.p_value));
}

TEST(CompareTest, NoisyMetricIsInconclusiveUnlessTheChangeDwarfsTheNoise) {
  absl::StatusOr<SuiteComparison> c = CompareSuite({
      Metric("fork_ns", MetricDirection::kLowerIsBetter, 1.05, 0.30, 10, 7),
      Metric("fork_ns_3x", MetricDirection::kLowerIsBetter, 3.0, 0.15, 10, 8),
  });
  ASSERT_TRUE(c.ok());
  const MetricComparison& noisy = c->metrics[0];
  EXPECT_TRUE(noisy.noisy);
  EXPECT_EQ(noisy.verdict, Verdict::kInconclusive);
  EXPECT_NE(noisy.reason.find("noisy"), std::string::npos) << noisy.reason;
  // Resolving a 5% change at ~30% CV takes hundreds of repetitions; the estimate says so.
  EXPECT_GT(noisy.additional_blocks, 100);
  const MetricComparison& huge = c->metrics[1];
  EXPECT_TRUE(huge.noisy);
  EXPECT_EQ(huge.verdict, Verdict::kRegression) << huge.reason;
}

TEST(CompareTest, FalseDiscoveryControlSpansTheWholeComparison) {
  // Five clean-cut repetitions per side reach the smallest exact p, 2 / 252 = 0.0079: enough on
  // its own at FDR 1%, not once it is one of twenty metrics (q = 0.0079 * 20).
  MetricSamples shifted;
  shifted.benchmark = "fault_anon";
  shifted.metric = "ns_per_fault";
  shifted.baseline = {100, 101, 102, 103, 104};
  shifted.candidate = {105, 106, 107, 108, 109};
  absl::StatusOr<SuiteComparison> alone = CompareSuite({shifted});
  ASSERT_TRUE(alone.ok());
  EXPECT_NEAR(alone->metrics[0].q_value, 2.0 / 252, 1e-12);
  EXPECT_EQ(alone->metrics[0].verdict, Verdict::kRegression) << alone->metrics[0].reason;

  std::vector<MetricSamples> suite = {shifted};
  for (int i = 0; i < 19; ++i) {
    MetricSamples same = shifted;
    same.metric = "other" + std::to_string(i);
    same.candidate = same.baseline;
    suite.push_back(same);
  }
  absl::StatusOr<SuiteComparison> crowded = CompareSuite(suite);
  ASSERT_TRUE(crowded.ok());
  EXPECT_NEAR(crowded->metrics[0].q_value, 20 * 2.0 / 252, 1e-12);
  EXPECT_EQ(crowded->metrics[0].verdict, Verdict::kInconclusive) << crowded->metrics[0].reason;
  EXPECT_GE(crowded->metrics[0].additional_blocks, 1);
  EXPECT_EQ(crowded->no_change, 19);
}

TEST(CompareTest, OneRunPerSideIsInconclusiveWhateverItsRepetitionsSay) {
  // Two runs of 6 repetitions, one per side: within each run the repetitions agree closely and
  // the runs differ by 8%, as runs of one kernel on one machine can (memory layout, page cache).
  // Pooled, the 6 + 6 samples would be "significant"; as blocks they are one sample per side.
  MetricSamples m;
  m.benchmark = "fault_anon";
  m.metric = "ns_per_fault";
  m.baseline = {1000, 1001, 999, 1002, 1000, 998};
  m.candidate = {920, 921, 919, 922, 920, 918};
  m.baseline_blocks = {7, 7, 7, 7, 7, 7};
  m.candidate_blocks = {9, 9, 9, 9, 9, 9};
  absl::StatusOr<SuiteComparison> c = CompareSuite({m});
  ASSERT_TRUE(c.ok()) << c.status();
  const MetricComparison& r = c->metrics[0];
  EXPECT_EQ(r.verdict, Verdict::kInconclusive);
  EXPECT_EQ(r.baseline_blocks, 1);
  EXPECT_EQ(r.baseline_count, 6);
  EXPECT_EQ(r.reason,
            "A: 1 run of 6 repetitions; B: 1 run of 6 repetitions; needs at least 5 runs per side");
  // No noise estimate from one block: the estimate is only what the minimum asks for.
  EXPECT_EQ(r.additional_blocks, 4);

  // The same samples as independent repetitions are a clear-cut improvement: what the blocks
  // prevent.
  m.baseline_blocks.clear();
  m.candidate_blocks.clear();
  EXPECT_EQ(CompareSuite({m})->metrics[0].verdict, Verdict::kImprovement);
}

TEST(CompareTest, BlocksAreSummarisedByTheirMedians) {
  // Five runs per side of three repetitions; each run's median is 100 + run (A) or 110 + run (B)
  // whatever its outlying repetition.
  MetricSamples m;
  m.benchmark = "fault_anon";
  m.metric = "ns_per_fault";
  for (int run = 0; run < 5; ++run) {
    for (double d : {0.0, 0.1, 50.0}) {
      m.baseline.push_back(100 + run + d);
      m.baseline_blocks.push_back(run);
      m.candidate.push_back(110 + run + d);
      m.candidate_blocks.push_back(run);
    }
  }
  const MetricSamples summaries = BlockSummaries(m);
  EXPECT_EQ(summaries.baseline, (std::vector<double>{100.1, 101.1, 102.1, 103.1, 104.1}));
  EXPECT_TRUE(summaries.baseline_blocks.empty());
  absl::StatusOr<SuiteComparison> c = CompareSuite({m});
  ASSERT_TRUE(c.ok());
  const MetricComparison& r = c->metrics[0];
  EXPECT_EQ(r.baseline_blocks, 5);
  EXPECT_EQ(r.baseline_count, 15);
  EXPECT_DOUBLE_EQ(r.baseline_median, 102.1);
  EXPECT_NEAR(r.p_value, 2.0 / 252, 1e-12);  // the exact p of 5 blocks against 5
  EXPECT_EQ(r.verdict, Verdict::kRegression) << r.reason;
  // Mean over every repetition, outliers included (LKP's mean +- %stddev).
  EXPECT_NEAR(r.baseline_mean, 102 + 50.1 / 3, 1e-9);

  m.baseline_blocks.pop_back();
  EXPECT_EQ(CompareSuite({m}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(CompareTest, NeutralMetricsStayOutOfTheFalseDiscoveryFamily) {
  // One real shift at the smallest exact p of 5 against 5 (0.0079) passes FDR 1% alone; twenty
  // neutral metrics beside it (constant by construction, like pages_touched) must not dilute it.
  MetricSamples shifted;
  shifted.benchmark = "fault_anon";
  shifted.metric = "ns_per_fault";
  shifted.baseline = {100, 101, 102, 103, 104};
  shifted.candidate = {105, 106, 107, 108, 109};
  std::vector<MetricSamples> suite = {shifted};
  for (int i = 0; i < 20; ++i) {
    MetricSamples neutral = shifted;
    neutral.metric = "pages_touched" + std::to_string(i);
    neutral.direction = MetricDirection::kNeutral;
    neutral.baseline = neutral.candidate = {4096, 4096, 4096, 4096, 4096};
    suite.push_back(neutral);
  }
  absl::StatusOr<SuiteComparison> c = CompareSuite(suite);
  ASSERT_TRUE(c.ok());
  EXPECT_NEAR(c->metrics[0].q_value, 2.0 / 252, 1e-12);
  EXPECT_EQ(c->metrics[0].verdict, Verdict::kRegression) << c->metrics[0].reason;
  for (size_t i = 1; i < c->metrics.size(); ++i) {
    EXPECT_FALSE(c->metrics[i].tested);
    EXPECT_TRUE(std::isnan(c->metrics[i].q_value));
    EXPECT_EQ(c->metrics[i].verdict, Verdict::kNoChange);
    EXPECT_EQ(c->metrics[i].reason, "neutral metric: reported, not tested (+0.0%)");
  }
}

TEST(CompareTest, ASideThatNeverMeasuredAMetricSaysSo) {
  MetricSamples m;
  m.benchmark = "fault_anon";
  m.metric = "vma_lock_retries";
  m.baseline = {3, 4, 5, 3, 4};
  absl::StatusOr<SuiteComparison> c = CompareSuite({m});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->metrics[0].verdict, Verdict::kInconclusive);
  EXPECT_EQ(c->metrics[0].reason, "B: not measured");
  EXPECT_EQ(c->metrics[0].additional_blocks, 0);
}

TEST(CompareTest, NoRepetitionEstimateFromTwoBlocks) {
  CompareOptions options;
  options.min_blocks_per_side = 2;
  absl::StatusOr<SuiteComparison> c = CompareSuite(
      {Metric("ns_per_fault", MetricDirection::kLowerIsBetter, 1.03, 0.02, 2, 11)}, options);
  ASSERT_TRUE(c.ok());
  const MetricComparison& m = c->metrics[0];
  EXPECT_EQ(m.verdict, Verdict::kInconclusive) << m.reason;
  EXPECT_EQ(m.additional_blocks, 1);
  EXPECT_NE(m.reason.find("at least 3 runs per side are needed to estimate the noise"),
            std::string::npos)
      << m.reason;
}

TEST(CompareTest, ZeroMinimumEffectIsHonoured) {
  CompareOptions options;
  options.min_effect = 0;
  absl::StatusOr<SuiteComparison> c = CompareSuite(
      {Metric("ns_per_fault", MetricDirection::kLowerIsBetter, 1.01, 0.001, 10, 12)}, options);
  ASSERT_TRUE(c.ok());
  // A significant 1% change: no_change under the default 2%, a regression at 0.
  EXPECT_EQ(c->metrics[0].verdict, Verdict::kRegression) << c->metrics[0].reason;
  EXPECT_EQ(CompareSuite({Metric("ns_per_fault", MetricDirection::kLowerIsBetter, 1.01, 0.001,
                                 10, 12)})
                ->metrics[0]
                .verdict,
            Verdict::kNoChange);
}

TEST(CompareTest, NonPositiveSamplesFallBackToTheShift) {
  MetricSamples m;
  m.benchmark = "b";
  m.metric = "delta";
  m.baseline = {0, 10, 11, 9, 10, 10};
  m.candidate = {20, 21, 19, 20, 22, 20};
  absl::StatusOr<SuiteComparison> c = CompareSuite({m});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->metrics[0].ratio_method, "hodges_lehmann_shift");
  EXPECT_NEAR(c->metrics[0].ratio, 2.0, 0.15);
}

std::vector<MetricSamples> Suite(double factor, uint64_t seed) {
  std::vector<MetricSamples> suite;
  for (int i = 0; i < 20; ++i) {
    suite.push_back(Metric("m" + std::to_string(i), MetricDirection::kLowerIsBetter, factor, 0.02,
                           10, seed * 100 + i));
  }
  return suite;
}

TEST(CompareTest, AaSuitesAreNotFlagged) {
  // 40 seeded A/A suites of 20 metrics at 2% CV: the FDR level bounds the chance of any flag in a
  // suite by 1%, so none of these should flag (verdict_power_bench measures the rate).
  CompareOptions options;
  options.bootstrap_resamples = 0;
  int flagged = 0;
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    absl::StatusOr<SuiteComparison> c = CompareSuite(Suite(1.0, seed), options);
    ASSERT_TRUE(c.ok());
    flagged += c->regressions + c->improvements > 0;
  }
  EXPECT_EQ(flagged, 0);
}

TEST(CompareTest, SuiteWideTenPercentShiftIsCaughtEverywhere) {
  CompareOptions options;
  options.bootstrap_resamples = 0;
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    absl::StatusOr<SuiteComparison> c = CompareSuite(Suite(1.10, seed), options);
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->regressions, 20) << "seed " << seed;
  }
}

TEST(CompareTest, BadInputNamesTheField) {
  MetricSamples m = Metric("ns_per_fault", MetricDirection::kLowerIsBetter, 1, 0.01, 5, 9);
  m.candidate[2] = NAN;
  absl::StatusOr<SuiteComparison> c = CompareSuite({m});
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("fault_anon/ns_per_fault: candidate[2]"), std::string::npos)
      << c.status();
  CompareOptions options;
  options.fdr_level = 0;
  c = CompareSuite({}, options);
  EXPECT_NE(c.status().message().find("fdr_level"), std::string::npos) << c.status();
}

TEST(CompareTest, RepetitionsToResolveMatchesTheNormalPowerFormula) {
  // z = 1.959964 + 0.841621; (z * log 1.02 / log 1.05)^2 * 2 / 0.955 + 1 = 3.71 -> 4.
  EXPECT_EQ(RepetitionsToResolve(0.02, 0.05, 0.05, 0.8), 4);
  // A 2% change at 2% CV among 20 metrics at FDR 1% (alpha 0.0005): 41 per side.
  EXPECT_EQ(RepetitionsToResolve(0.02, 0.02, 0.0005, 0.8), 41);
}

// A repetition the host disturbed leaves its block's median when the block has a quiet one; a
// block disturbed throughout keeps all of its repetitions, so the block count never drops.
TEST(CompareTest, DisturbedRepetitionsLeaveTheirBlocksMedian) {
  MetricSamples m;
  m.benchmark = "fault_anon";
  m.metric = "ns_per_fault";
  for (int run = 0; run < 5; ++run) {
    for (double d : {0.0, 1.0, 40.0}) {
      m.baseline.push_back(100 + d);
      m.baseline_blocks.push_back(run);
      // The slow repetition is the disturbed one, except in run 4, where all are.
      m.baseline_disturbed.push_back(d == 40.0 || run == 4);
      m.candidate.push_back(100 + d);
      m.candidate_blocks.push_back(run);
    }
  }
  DisturbedExcluded excluded;
  const MetricSamples summaries = BlockSummaries(m, &excluded);
  EXPECT_EQ(summaries.baseline, (std::vector<double>{100.5, 100.5, 100.5, 100.5, 101}));
  EXPECT_EQ(summaries.candidate, (std::vector<double>{101, 101, 101, 101, 101}));
  EXPECT_EQ(excluded.baseline, 4);
  EXPECT_EQ(excluded.candidate, 0);
  absl::StatusOr<SuiteComparison> c = CompareSuite({m});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->metrics[0].baseline_blocks, 5);
  EXPECT_EQ(c->metrics[0].baseline_disturbed_excluded, 4);
  EXPECT_NE(c->metrics[0].reason.find("disturbed repetitions left out: A 4, B 0"),
            std::string::npos)
      << c->metrics[0].reason;
}

TEST(CompareTest, MinimumDetectableEffectInvertsRepetitionsToResolve) {
  // z = 2.575829 + 1.644854; exp(z * log 1.10 * sqrt(2 / (0.955 * 9))) - 1 = 0.21416.
  EXPECT_NEAR(MinimumDetectableEffect(0.10, 10, 0.01, 0.95), 0.21416, 1e-4);
  for (const double cv : {0.01, 0.05, 0.2}) {
    for (const int n : {5, 12, 40}) {
      const double effect = MinimumDetectableEffect(cv, n, 0.01, 0.95);
      EXPECT_LE(RepetitionsToResolve(cv, effect * 1.001, 0.01, 0.95), n) << cv << " " << n;
      EXPECT_GT(RepetitionsToResolve(cv, effect * 0.9, 0.01, 0.95), n) << cv << " " << n;
    }
  }
  EXPECT_TRUE(std::isinf(MinimumDetectableEffect(0.05, 1, 0.01, 0.95)));
}

}  // namespace
}  // namespace faultline::controller::analysis
