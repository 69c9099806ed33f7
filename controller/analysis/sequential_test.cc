#include "controller/analysis/sequential.h"

#include "gtest/gtest.h"

namespace faultline::controller::analysis {
namespace {

TEST(SequentialTest, ObrienFlemingSpendingMatchesItsFormula) {
  // alpha*(t) = 2 - 2 Phi(z / sqrt(t)): at alpha 0.05 (z = 1.959964), t = 0.5 gives
  // 2 - 2 Phi(2.771808) = 0.005575.
  EXPECT_NEAR(ObrienFlemingSpent(0.05, 0.5), 0.005575, 2e-6);
  EXPECT_EQ(ObrienFlemingSpent(0.05, 0), 0);
  EXPECT_EQ(ObrienFlemingSpent(0.05, 1), 0.05);
  EXPECT_EQ(ObrienFlemingSpent(0.05, 2), 0.05);  // clamped
}

TEST(SequentialTest, LookLevelsAddUpToAlpha) {
  const double alpha = 0.01;
  double total = 0, previous = 0;
  for (double t : {1.0 / 3, 2.0 / 3, 1.0}) {
    const double level = SequentialLookLevel(alpha, previous, t);
    EXPECT_GE(level, 0);
    total += level;
    previous = t;
  }
  EXPECT_NEAR(total, alpha, 1e-15);
  // Early looks spend almost nothing; the last keeps most of the budget.
  EXPECT_LT(SequentialLookLevel(alpha, 0, 1.0 / 3), 1e-5);
  EXPECT_GT(SequentialLookLevel(alpha, 2.0 / 3, 1.0), 0.008);
}

}  // namespace
}  // namespace faultline::controller::analysis
