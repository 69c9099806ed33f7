#include "controller/analysis/welch_t_test.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"

namespace faultline::controller::analysis {
namespace {

TEST(WelchTTest, WikipediaExampleOne) {
  // Welch's t-test, Wikipedia "Examples" section, example 1: t = -2.46, df = 25.0, p = 0.021
  // (sample 1 minus sample 2; our t is b - a, so the sign flips).
  const std::vector<double> a1 = {27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1,
                                  21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4};
  const std::vector<double> a2 = {27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0,
                                  24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4};
  absl::StatusOr<WelchResult> r = WelchTTest(a2, a1);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_NEAR(r->t, -2.46, 0.005);
  EXPECT_NEAR(r->df, 25.0, 0.05);
  EXPECT_NEAR(r->p_value, 0.021, 0.0005);
}

TEST(WelchTTest, HandComputed) {
  // a: mean 2, var 1 (n 3); b: mean 6, var 4 (n 3). SE = sqrt(1/3 + 4/3) = 1.290994,
  // t = 4 / 1.290994 = 3.098387, df = (5/3)^2 / ((1/3)^2/2 + (4/3)^2/2) = 2.941176.
  absl::StatusOr<WelchResult> r = WelchTTest({1, 2, 3}, {4, 6, 8});
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR(r->t, 3.0983866769659336, 1e-12);
  EXPECT_NEAR(r->df, 2.9411764705882355, 1e-12);
  EXPECT_GT(r->p_value, 0.05);
  EXPECT_LT(r->p_value, 0.06);
}

TEST(WelchTTest, ConstantSamples) {
  absl::StatusOr<WelchResult> same = WelchTTest({5, 5}, {5, 5, 5});
  ASSERT_TRUE(same.ok());
  EXPECT_DOUBLE_EQ(same->p_value, 1);
  absl::StatusOr<WelchResult> differ = WelchTTest({5, 5}, {6, 6});
  ASSERT_TRUE(differ.ok());
  EXPECT_DOUBLE_EQ(differ->p_value, 0);
}

TEST(WelchTTest, NeedsTwoSamplesPerSide) {
  absl::StatusOr<WelchResult> r = WelchTTest({1}, {1, 2});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace faultline::controller::analysis
