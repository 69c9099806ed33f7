#include "tests/sensitivity/variance_components.h"

#include <cmath>
#include <random>

#include "gtest/gtest.h"

namespace faultline::tests::sensitivity {
namespace {

TEST(VarianceComponentsTest, SeparatesWithinFromBetweenRuns) {
  // Runs offset by -1, 0, +1 around 100 (between variance 1), each with repetitions -1, +1
  // around its offset (within variance 2 with 1 degree of freedom per run).
  const VarianceComponents c =
      EstimateVarianceComponents({{98, 100}, {99, 101}, {100, 102}});
  EXPECT_DOUBLE_EQ(c.mean, 100);
  EXPECT_EQ(c.runs, 3);
  // MSW = 6 / 3 = 2; MSB = 2 * (1 + 0 + 1) / 2 = 2; sigma_b^2 = (2 - 2) / 2 = 0.
  EXPECT_NEAR(c.within, 2.0 / 10000, 1e-12);
  EXPECT_NEAR(c.between, 0, 1e-12);
}

TEST(VarianceComponentsTest, RecoversTheSimulatedComponents) {
  std::mt19937_64 rng(18);
  std::normal_distribution<double> run_offset(0, 2);   // between: CV 2%
  std::normal_distribution<double> repetition(0, 3);   // within: CV 3%
  std::vector<std::vector<double>> runs(400);
  for (std::vector<double>& run : runs) {
    const double offset = run_offset(rng);
    for (int i = 0; i < 5; ++i) run.push_back(100 + offset + repetition(rng));
  }
  const VarianceComponents c = EstimateVarianceComponents(runs);
  EXPECT_NEAR(c.RepetitionCv(), 0.03, 0.002);
  EXPECT_NEAR(std::sqrt(c.between), 0.02, 0.002);
  EXPECT_NEAR(c.BetweenShare(), 4.0 / 13, 0.05);
  EXPECT_NEAR(c.RunMeanCv(5), std::sqrt(0.0004 + 0.0009 / 5), 0.002);
}

TEST(VarianceComponentsTest, OneRunHasNoBetweenEstimate) {
  const VarianceComponents c = EstimateVarianceComponents({{}, {1, 2, 3}});
  EXPECT_EQ(c.runs, 1);
  EXPECT_EQ(c.between, 0);
  EXPECT_GT(c.within, 0);
}

}  // namespace
}  // namespace faultline::tests::sensitivity
