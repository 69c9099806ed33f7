#include "controller/analysis/latency_quantiles.h"

#include <cmath>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace faultline::controller::analysis {
namespace {

TEST(LatencyQuantilesTest, Names) {
  EXPECT_EQ(QuantileName(0.5), "p50");
  EXPECT_EQ(QuantileName(0.9), "p90");
  EXPECT_EQ(QuantileName(0.99), "p99");
  EXPECT_EQ(QuantileName(0.999), "p99.9");
}

TEST(LatencyQuantilesTest, CurveRunsFromTheMinimumThroughTheNinesToTheMaximum) {
  const std::vector<double> q = CurveQuantiles();
  ASSERT_EQ(q.size(), 26u);
  EXPECT_EQ(q.front(), 0);
  EXPECT_NEAR(q[8], 0.9, 1e-12);
  EXPECT_NEAR(q[16], 0.99, 1e-12);
  EXPECT_NEAR(q[24], 0.999, 1e-12);
  EXPECT_EQ(q.back(), 1);
  EXPECT_TRUE(std::is_sorted(q.begin(), q.end()));
}

TEST(LatencyQuantilesTest, BlockIntervalIsTheHodgesLehmannRatioOfBlockValues) {
  QuantileComparison q;
  q.quantile = 0.99;
  // Five blocks a side, B's p99 10% higher in every block: no overlap.
  q.baseline_blocks = {1000, 1010, 990, 1005, 995};
  for (double v : q.baseline_blocks) q.candidate_blocks.push_back(v * 1.1);
  EXPECT_EQ(CompareQuantileBlocks(0.95, "run", &q), "");
  EXPECT_EQ(q.baseline, 1000);
  EXPECT_DOUBLE_EQ(q.candidate, 1100);
  EXPECT_NEAR(q.ratio, 1.1, 1e-9);
  EXPECT_LT(q.ratio_lower, 1.1);
  EXPECT_GT(q.ratio_upper, 1.1);
  EXPECT_GT(q.ratio_lower, 1.0);
  // Exact Mann-Whitney with no overlap at 5 + 5: 2 / C(10, 5).
  EXPECT_NEAR(q.p_value, 2.0 / 252, 1e-12);
}

TEST(LatencyQuantilesTest, OneBlockOfManyValuesIsNoInterval) {
  QuantileComparison q;
  q.baseline_blocks = {1000};
  q.candidate_blocks = {1100, 1090, 1120};
  EXPECT_EQ(CompareQuantileBlocks(0.95, "run", &q),
            "A: 1 run; intervals need at least 2 runs per side");
  EXPECT_EQ(q.baseline, 1000);
  EXPECT_EQ(q.candidate, 1100);
  EXPECT_TRUE(std::isnan(q.ratio));
  EXPECT_TRUE(std::isnan(q.p_value));
  QuantileComparison missing;
  missing.baseline_blocks = {1, 2};
  EXPECT_EQ(CompareQuantileBlocks(0.95, "boot", &missing), "B: not recorded");
  EXPECT_TRUE(std::isnan(missing.candidate));
}

}  // namespace
}  // namespace faultline::controller::analysis
