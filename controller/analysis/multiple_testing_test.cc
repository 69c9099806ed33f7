#include "controller/analysis/multiple_testing.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"

namespace faultline::controller::analysis {
namespace {

TEST(BenjaminiHochbergTest, ClassicFifteenPValueExample) {
  // Benjamini & Hochberg (1995), section 4: 15 p-values from a clinical trial; at q = 0.05 the
  // procedure rejects the four smallest (Bonferroni would reject three).
  const std::vector<double> p = {0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344,
                                 0.0459, 0.3240, 0.4262, 0.5719, 0.6528, 0.7590, 1.0000};
  const std::vector<double> q = BenjaminiHochbergQValues(p);
  ASSERT_EQ(q.size(), p.size());
  int rejected = 0;
  for (double v : q) rejected += v <= 0.05;
  EXPECT_EQ(rejected, 4);
  EXPECT_NEAR(q[0], 0.0015, 1e-12);
  EXPECT_NEAR(q[1], 0.003, 1e-12);
  EXPECT_NEAR(q[2], 0.0095, 1e-12);
  EXPECT_NEAR(q[3], 0.035625, 1e-12);
  // q_(5) = min over j >= 5 of p_(j) * 15 / j:
  // min(0.0603, 0.0695, 0.063857, 0.0645, 0.0765, ...) = 0.0603.
  EXPECT_NEAR(q[4], 0.0603, 1e-12);
  EXPECT_NEAR(q[14], 1.0, 1e-12);
}

TEST(BenjaminiHochbergTest, OrderOfInputIsKept) {
  const std::vector<double> q = BenjaminiHochbergQValues({0.04, 0.01, 0.03});
  // Sorted 0.01, 0.03, 0.04 -> 0.03, 0.045, 0.04 -> step-up min -> 0.03, 0.04, 0.04.
  EXPECT_NEAR(q[0], 0.04, 1e-15);
  EXPECT_NEAR(q[1], 0.03, 1e-15);
  EXPECT_NEAR(q[2], 0.04, 1e-15);
}

TEST(BenjaminiHochbergTest, NaNIsOutsideTheFamily) {
  const std::vector<double> q = BenjaminiHochbergQValues({0.01, NAN, 0.02});
  EXPECT_NEAR(q[0], 0.02, 1e-15);
  EXPECT_TRUE(std::isnan(q[1]));
  EXPECT_NEAR(q[2], 0.02, 1e-15);
}

}  // namespace
}  // namespace faultline::controller::analysis
