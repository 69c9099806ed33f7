#include "controller/analysis/distributions.h"

#include <cmath>

#include "gtest/gtest.h"

namespace faultline::controller::analysis {
namespace {

TEST(NormalTest, CdfAndQuantileMatchTables) {
  EXPECT_NEAR(NormalCdf(0), 0.5, 1e-15);
  EXPECT_NEAR(NormalCdf(1.959963984540054), 0.975, 1e-12);
  EXPECT_NEAR(NormalSurvival(5), 2.866515718791939e-07, 1e-18);
  EXPECT_NEAR(NormalQuantile(0.975), 1.959963984540054, 1e-12);
  EXPECT_NEAR(NormalQuantile(0.5), 0, 1e-15);
  EXPECT_NEAR(NormalQuantile(1e-10), -6.361340902404056, 1e-9);
  EXPECT_NEAR(NormalQuantile(0.995), 2.5758293035489004, 1e-12);
  EXPECT_TRUE(std::isnan(NormalQuantile(1.5)));
}

TEST(IncompleteBetaTest, ClosedForms) {
  for (double x : {0.01, 0.2, 0.5, 0.77, 0.999}) {
    EXPECT_NEAR(RegularizedIncompleteBeta(1, 3.5, x), 1 - std::pow(1 - x, 3.5), 1e-13) << x;
    EXPECT_NEAR(RegularizedIncompleteBeta(2.5, 1, x), std::pow(x, 2.5), 1e-13) << x;
  }
  EXPECT_NEAR(RegularizedIncompleteBeta(7.3, 7.3, 0.5), 0.5, 1e-13);
  EXPECT_TRUE(std::isnan(RegularizedIncompleteBeta(-1, 1, 0.5)));
}

TEST(StudentTTest, ClosedFormsForOneAndTwoDegreesOfFreedom) {
  for (double t : {-30.0, -2.0, -0.3, 0.0, 0.7, 4.0, 100.0}) {
    // df = 1 is the Cauchy distribution; df = 2 has F(t) = 1/2 + t / (2 sqrt(2 + t^2)).
    EXPECT_NEAR(StudentTCdf(t, 1), 0.5 + std::atan(t) / M_PI, 1e-13) << t;
    EXPECT_NEAR(StudentTCdf(t, 2), 0.5 + t / (2 * std::sqrt(2 + t * t)), 1e-13) << t;
  }
}

TEST(StudentTTest, MatchesPublishedCriticalValues) {
  // Critical values from standard t tables (e.g. NIST/SEMATECH e-Handbook, table 1.3.6.7.2).
  EXPECT_NEAR(StudentTCdf(2.228138851986, 10), 0.975, 1e-10);
  EXPECT_NEAR(StudentTCdf(1.812461122811, 10), 0.95, 1e-10);
  EXPECT_NEAR(StudentTCdf(2.042272456301, 30), 0.975, 1e-10);
  EXPECT_NEAR(StudentTCdf(-2.763262455461, 28), 0.005, 1e-10);
  EXPECT_NEAR(StudentTTwoSidedP(4.586893858, 10), 0.001, 1e-9);
  EXPECT_NEAR(StudentTTwoSidedP(12.70620473617, 1), 0.05, 1e-10);
  // Far tail keeps relative precision: t = 40 with 30 df is ~1e-27.
  const double tiny = StudentTTwoSidedP(40, 30);
  EXPECT_GT(tiny, 0);
  EXPECT_LT(tiny, 1e-25);
}

TEST(StudentTTest, LargeDfApproachesNormal) {
  EXPECT_NEAR(StudentTCdf(1.959963984540054, 1e7), 0.975, 1e-7);
}

}  // namespace
}  // namespace faultline::controller::analysis
