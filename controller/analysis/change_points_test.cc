#include "controller/analysis/change_points.h"

#include <cmath>
#include <vector>

#include "controller/analysis/deterministic_random.h"
#include "gtest/gtest.h"

namespace faultline::controller::analysis {
namespace {

// `n` points of lognormal-ish noise around `level` with coefficient of variation `cv`.
void Append(std::vector<double>& series, int n, double level, double cv,
            DeterministicRandom& random) {
  for (int i = 0; i < n; ++i) series.push_back(level * std::exp(cv * random.Normal()));
}

TEST(ChangePointsTest, FindsASingleStepAndAttributesItToTheFirstPointAfter) {
  DeterministicRandom random(11);
  std::vector<double> series;
  Append(series, 40, 1000, 0.02, random);
  Append(series, 40, 1100, 0.02, random);  // 10% slower from index 40 on
  absl::StatusOr<std::vector<ChangePoint>> cps = FindChangePoints(series);
  ASSERT_TRUE(cps.ok()) << cps.status();
  ASSERT_EQ(cps->size(), 1u);
  const ChangePoint& cp = (*cps)[0];
  EXPECT_EQ(cp.index, 40);
  EXPECT_NEAR(cp.mean_before, 1000, 15);
  EXPECT_NEAR(cp.mean_after, 1100, 15);
  EXPECT_NEAR(cp.relative_change, 0.10, 0.02);
  EXPECT_LT(cp.p_value, 1e-6);
  EXPECT_GT(cp.q_hat, 0);
}

TEST(ChangePointsTest, FindsTwoStepsInOrder) {
  DeterministicRandom random(12);
  std::vector<double> series;
  Append(series, 30, 500, 0.01, random);
  Append(series, 25, 540, 0.01, random);  // +8% at 30
  Append(series, 35, 510, 0.01, random);  // partial recovery at 55
  absl::StatusOr<std::vector<ChangePoint>> cps = FindChangePoints(series);
  ASSERT_TRUE(cps.ok()) << cps.status();
  ASSERT_EQ(cps->size(), 2u);
  EXPECT_EQ((*cps)[0].index, 30);
  EXPECT_EQ((*cps)[1].index, 55);
  EXPECT_GT((*cps)[0].relative_change, 0.06);
  EXPECT_LT((*cps)[1].relative_change, -0.04);
}

TEST(ChangePointsTest, PureNoiseHasNone) {
  // 100-point noise series from 40 seeds: at p = 0.001 the search should essentially never fire.
  int series_with_false_points = 0;
  for (uint64_t seed = 100; seed < 140; ++seed) {
    DeterministicRandom random(seed);
    std::vector<double> series;
    Append(series, 100, 1000, 0.03, random);
    absl::StatusOr<std::vector<ChangePoint>> cps = FindChangePoints(series);
    ASSERT_TRUE(cps.ok());
    series_with_false_points += !cps->empty();
  }
  EXPECT_LE(series_with_false_points, 1);
}

TEST(ChangePointsTest, PermutationTestFindsTheStepAndIsDeterministic) {
  DeterministicRandom random(13);
  std::vector<double> series;
  Append(series, 20, 100, 0.02, random);
  Append(series, 20, 110, 0.02, random);
  ChangePointOptions options;
  options.test = ChangePointOptions::Test::kPermutation;
  options.permutations = 199;
  options.max_p_value = 0.01;
  absl::StatusOr<std::vector<ChangePoint>> first = FindChangePoints(series, options);
  absl::StatusOr<std::vector<ChangePoint>> second = FindChangePoints(series, options);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->size(), 1u);
  EXPECT_EQ((*first)[0].index, 20);
  // The smallest attainable permutation p-value is 1 / 200.
  EXPECT_DOUBLE_EQ((*first)[0].p_value, 1.0 / 200);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ((*second)[0].p_value, (*first)[0].p_value);
}

TEST(ChangePointsTest, ShortOrConstantSeriesHaveNone) {
  absl::StatusOr<std::vector<ChangePoint>> cps = FindChangePoints({1, 2, 3, 4, 5});
  ASSERT_TRUE(cps.ok());
  EXPECT_TRUE(cps->empty());
  cps = FindChangePoints(std::vector<double>(50, 7.0));
  ASSERT_TRUE(cps.ok());
  EXPECT_TRUE(cps->empty());
}

TEST(ChangePointsTest, RejectsBadInput) {
  EXPECT_FALSE(FindChangePoints({1, NAN, 3}).ok());
  ChangePointOptions options;
  options.min_segment = 1;
  absl::StatusOr<std::vector<ChangePoint>> cps = FindChangePoints({1, 2}, options);
  EXPECT_EQ(cps.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(cps.status().message().find("min_segment"), std::string::npos);
}

}  // namespace
}  // namespace faultline::controller::analysis
