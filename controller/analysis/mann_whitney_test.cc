#include "controller/analysis/mann_whitney.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"

namespace faultline::analysis {
namespace {

TEST(MannWhitneyTest, ScipyDocumentationExampleExact) {
  // scipy.stats.mannwhitneyu documentation: ages of male and female participants;
  // mannwhitneyu(males, females, method="exact") -> statistic 17.0, pvalue 0.1111111111111111.
  const std::vector<double> males = {19, 22, 16, 29, 24};
  const std::vector<double> females = {20, 11, 17, 12};
  absl::StatusOr<MannWhitneyResult> r = MannWhitneyU(males, females);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_DOUBLE_EQ(r->u_a, 17);
  EXPECT_TRUE(r->exact);
  EXPECT_NEAR(r->p_value, 0.1111111111111111, 1e-14);
  // Swapping the samples gives the complementary U and the same two-sided p.
  r = MannWhitneyU(females, males);
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(r->u_a, 3);
  EXPECT_NEAR(r->p_value, 0.1111111111111111, 1e-14);
}

TEST(MannWhitneyTest, HollanderWolfeExampleExact) {
  // Hollander & Wolfe's permeability data, R's wilcox.test(x, y, alternative = "greater"):
  // W = 35, exact one-sided p = 0.1272 (two-sided is twice that).
  const std::vector<double> x = {0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46};
  const std::vector<double> y = {1.15, 0.88, 0.90, 0.74, 1.21};
  absl::StatusOr<MannWhitneyResult> r = MannWhitneyU(x, y);
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(r->u_a, 35);
  EXPECT_NEAR(r->p_value, 2 * 0.1272, 2e-4);
}

TEST(MannWhitneyTest, TiesUseCorrectedNormalApproximation) {
  // Pooled ranks: 1 | 2 2 2 -> 3 | 3 3 -> 5.5 | 4 -> 7 | 5 -> 8. Rank sum of a = 12.5, U_a = 2.5,
  // tie groups of 3 and 2 (sum t^3 - t = 30), variance 16/12 * (9 - 30/56) = 11.2857,
  // z = (13.5 - 8 - 0.5) / sqrt(11.2857) = 1.48835, p = 2 * (1 - Phi(z)) = 0.136658.
  absl::StatusOr<MannWhitneyResult> r = MannWhitneyU({1, 2, 2, 3}, {2, 3, 4, 5});
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->exact);
  EXPECT_DOUBLE_EQ(r->u_a, 2.5);
  EXPECT_NEAR(r->p_value, 0.13665824773814753, 1e-12);
}

TEST(MannWhitneyTest, AllEqualGivesPOne) {
  absl::StatusOr<MannWhitneyResult> r = MannWhitneyU({3, 3, 3}, {3, 3});
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(r->p_value, 1);
}

TEST(MannWhitneyTest, CompleteSeparationReachesTheSmallestExactP) {
  std::vector<double> a;
  std::vector<double> b;
  for (int i = 0; i < 10; ++i) {
    a.push_back(i);
    b.push_back(100 + i);
  }
  absl::StatusOr<MannWhitneyResult> r = MannWhitneyU(a, b);
  ASSERT_TRUE(r.ok());
  // 2 / C(20, 10) = 2 / 184756.
  EXPECT_NEAR(r->p_value, 2.0 / 184756, 1e-15);
}

// Brute force: enumerate every way to choose which pooled ranks belong to the first sample.
std::vector<double> EnumeratedCdf(int m, int n) {
  std::vector<double> counts(m * n + 1, 0);
  const int total = m + n;
  double arrangements = 0;
  for (unsigned mask = 0; mask < (1u << total); ++mask) {
    if (__builtin_popcount(mask) != m) continue;
    int u = 0;  // pairs where the first sample's element has the higher rank
    int seen_second = 0;
    for (int rank = 0; rank < total; ++rank) {
      if (mask & (1u << rank)) {
        u += seen_second;
      } else {
        ++seen_second;
      }
    }
    counts[u] += 1;
    arrangements += 1;
  }
  std::vector<double> cdf(counts.size());
  double running = 0;
  for (size_t u = 0; u < counts.size(); ++u) {
    running += counts[u];
    cdf[u] = running / arrangements;
  }
  return cdf;
}

TEST(MannWhitneyTest, NullDistributionMatchesEnumeration) {
  for (auto [m, n] : {std::pair{1, 1}, std::pair{3, 4}, std::pair{5, 5}, std::pair{7, 6}}) {
    const std::vector<double> expected = EnumeratedCdf(m, n);
    const std::vector<double> actual = MannWhitneyNullCdf(m, n);
    ASSERT_EQ(actual.size(), expected.size());
    for (size_t u = 0; u < actual.size(); ++u) {
      EXPECT_NEAR(actual[u], expected[u], 1e-14) << m << "x" << n << " u=" << u;
    }
  }
}

TEST(MannWhitneyTest, LargeSamplesUseNormalApproximation) {
  std::vector<double> a;
  std::vector<double> b;
  for (int i = 0; i < 60; ++i) {
    a.push_back(i);
    b.push_back(i + 0.5);
  }
  absl::StatusOr<MannWhitneyResult> r = MannWhitneyU(a, b);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->exact);
  // U_a = 60 * 59 / 2 = 1770 of 3600; sigma = sqrt(3600 * 121 / 12) = 190.526;
  // z = (1830 - 1800 - 0.5) / 190.526 = 0.154834, p = 0.876951.
  EXPECT_DOUBLE_EQ(r->u_a, 1770);
  EXPECT_NEAR(r->p_value, 0.87695, 1e-4);
}

TEST(MannWhitneyTest, RejectsBadInput) {
  EXPECT_FALSE(MannWhitneyU({}, {1}).ok());
  EXPECT_FALSE(MannWhitneyU({1, NAN}, {1}).ok());
  EXPECT_EQ(MannWhitneyU({1}, {INFINITY}).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace faultline::analysis
