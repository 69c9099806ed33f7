#include "controller/analysis/descriptive.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"

namespace faultline::controller::analysis {
namespace {

TEST(DescriptiveTest, MedianOddAndEven) {
  EXPECT_DOUBLE_EQ(Median({5, 1, 3}), 3);
  EXPECT_DOUBLE_EQ(Median({4, 1, 3, 2}), 2.5);
  EXPECT_TRUE(std::isnan(Median({})));
}

TEST(DescriptiveTest, MeanStdDevAndCv) {
  // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, sum of squared deviations 32, sample variance 32 / 7.
  const std::vector<double> x = {2, 4, 4, 4, 5, 5, 7, 9};
  EXPECT_DOUBLE_EQ(Mean(x), 5);
  EXPECT_NEAR(StdDev(x), std::sqrt(32.0 / 7), 1e-12);
  EXPECT_NEAR(CoefficientOfVariation(x), std::sqrt(32.0 / 7) / 5, 1e-12);
  EXPECT_DOUBLE_EQ(Min(x), 2);
  EXPECT_DOUBLE_EQ(Max(x), 9);
}

TEST(DescriptiveTest, StdDevIsStableForLargeOffsets) {
  // Naive sum-of-squares loses every digit here; Welford's update does not.
  const std::vector<double> x = {1e9 + 4, 1e9 + 7, 1e9 + 13, 1e9 + 16};
  EXPECT_NEAR(StdDev(x), std::sqrt(30.0), 1e-6);
}

TEST(DescriptiveTest, RobustCvIgnoresOneOutlier) {
  // Median 100, absolute deviations 0 1 1 2 2 3 100 -> MAD 2, robust CV 1.4826 * 2 / 100.
  const std::vector<double> x = {100, 99, 101, 98, 102, 97, 200};
  EXPECT_DOUBLE_EQ(MedianAbsoluteDeviation(x), 2);
  EXPECT_NEAR(RobustCoefficientOfVariation(x), 0.029652, 1e-6);
  EXPECT_GT(CoefficientOfVariation(x), 0.3);
}

TEST(DescriptiveTest, DegenerateInputsAreNaN) {
  EXPECT_TRUE(std::isnan(StdDev({1})));
  EXPECT_TRUE(std::isnan(CoefficientOfVariation({-1, 1})));
  EXPECT_TRUE(std::isnan(Mean({})));
}

}  // namespace
}  // namespace faultline::controller::analysis
