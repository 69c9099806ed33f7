#include "controller/analysis/hodges_lehmann.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"

namespace faultline::controller::analysis {
namespace {

TEST(HodgesLehmannTest, HandComputedShiftAndInterval) {
  // Differences b_j - a_i: 1 2 3 3 4 5 5 6 7, median 4. For m = n = 3, P(U <= 0) = 1/20 = 0.05,
  // so the 90% interval trims one difference from each end: [1, 7].
  absl::StatusOr<IntervalEstimate> r = HodgesLehmannShift({1, 2, 3}, {4, 6, 8}, 0.90);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_DOUBLE_EQ(r->estimate, 4);
  EXPECT_DOUBLE_EQ(r->lower, 1);
  EXPECT_DOUBLE_EQ(r->upper, 7);
  // At 95% three per side cannot bound the interval.
  r = HodgesLehmannShift({1, 2, 3}, {4, 6, 8}, 0.95);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(std::isinf(r->lower) && r->lower < 0);
  EXPECT_TRUE(std::isinf(r->upper) && r->upper > 0);
}

TEST(HodgesLehmannTest, EvenNumberOfDifferencesAveragesTheMiddlePair) {
  // Differences: 9 - 1 = 8, 9 - 3 = 6, 10 - 1 = 9, 10 - 3 = 7 -> sorted 6 7 8 9, median 7.5.
  absl::StatusOr<IntervalEstimate> r = HodgesLehmannShift({1, 3}, {9, 10}, 0.5);
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(r->estimate, 7.5);
}

TEST(HodgesLehmannTest, TrimMatchesMannWhitneyCriticalValueTables) {
  // Two-sided alpha = 0.05 critical values of U (reject when U <= c): m = n = 5 -> 2,
  // m = n = 10 -> 23, m = 8, n = 12 -> 22. The interval trims c + 1 from each end.
  EXPECT_EQ(HodgesLehmannTrim(5, 5, 0.95), 3);
  EXPECT_EQ(HodgesLehmannTrim(10, 10, 0.95), 24);
  EXPECT_EQ(HodgesLehmannTrim(8, 12, 0.95), 23);
  EXPECT_EQ(HodgesLehmannTrim(3, 3, 0.95), 0);
  // Normal approximation: floor(1800 - 1.959964 * sqrt(3600 * 121 / 12)) = floor(1426.57).
  EXPECT_EQ(HodgesLehmannTrim(60, 60, 0.95), 1426);
}

TEST(HodgesLehmannTest, RatioOfScaledSamplesIsTheScale) {
  const std::vector<double> a = {100, 103, 98, 101, 99, 104, 97, 102};
  std::vector<double> b;
  for (double x : a) b.push_back(1.1 * x);
  absl::StatusOr<IntervalEstimate> r = HodgesLehmannRatio(a, b);
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR(r->estimate, 1.1, 1e-12);
  EXPECT_LT(r->lower, 1.1);
  EXPECT_GT(r->upper, 1.1);
  EXPECT_GT(r->lower, 1.0);
}

TEST(HodgesLehmannTest, RatioNeedsPositiveSamples) {
  absl::StatusOr<IntervalEstimate> r = HodgesLehmannRatio({1, 0}, {1, 2});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("sample a[1]"), std::string::npos) << r.status();
  EXPECT_FALSE(HodgesLehmannShift({1}, {2}, 1.0).ok());
}

}  // namespace
}  // namespace faultline::controller::analysis
