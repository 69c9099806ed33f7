#include "controller/analysis/bootstrap.h"

#include <vector>

#include "controller/analysis/deterministic_random.h"
#include "gtest/gtest.h"

namespace faultline::controller::analysis {
namespace {

std::vector<double> Noisy(double center, int n, uint64_t seed) {
  DeterministicRandom random(seed);
  std::vector<double> x;
  for (int i = 0; i < n; ++i) x.push_back(center * (1 + 0.02 * random.Normal()));
  return x;
}

TEST(BootstrapTest, SameSeedSameIntervalAndItCoversTheShift) {
  const std::vector<double> a = Noisy(1000, 20, 1);
  const std::vector<double> b = Noisy(1100, 20, 2);
  absl::StatusOr<IntervalEstimate> first = BootstrapMedianRatio(a, b);
  absl::StatusOr<IntervalEstimate> second = BootstrapMedianRatio(a, b);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(first->lower, second->lower);
  EXPECT_EQ(first->upper, second->upper);
  EXPECT_LT(first->lower, first->estimate);
  EXPECT_GT(first->upper, first->estimate);
  EXPECT_GT(first->lower, 1.05);
  EXPECT_LT(first->upper, 1.15);

  BootstrapOptions other_seed;
  other_seed.seed = 99;
  absl::StatusOr<IntervalEstimate> third = BootstrapMedianRatio(a, b, other_seed);
  ASSERT_TRUE(third.ok());
  EXPECT_NE(first->lower, third->lower);
}

TEST(BootstrapTest, RejectsBadInput) {
  EXPECT_FALSE(BootstrapMedianRatio({1, -2}, {1, 2}).ok());
  BootstrapOptions few;
  few.resamples = 10;
  EXPECT_FALSE(BootstrapMedianRatio({1, 2}, {1, 2}, few).ok());
}

}  // namespace
}  // namespace faultline::controller::analysis
