#include "controller/analysis/mann_whitney.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"

namespace faultline::controller::analysis {
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

TEST(MannWhitneyTest, TiesWithoutOverlapGetTheExactP) {
  // No overlap at all, ties within each side only: of the C(10, 5) = 252 equally likely ways to
  // split the pooled values, exactly one puts all of A below all of B, and one the reverse, so the
  // exact two-sided p is 2 / 252 = 0.0079. The tie-corrected normal approximation gives 0.0107.
  absl::StatusOr<MannWhitneyResult> r =
      MannWhitneyU({100, 103, 101, 103, 101}, {107, 106, 104, 107, 107});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->exact);
  EXPECT_DOUBLE_EQ(r->u_a, 0);
  EXPECT_NEAR(r->p_value, 2.0 / 252, 1e-15);
}

TEST(MannWhitneyTest, TiesHandComputed) {
  // Pooled: 1 | 2 2 2 | 3 3 | 4 | 5, mid-ranks 1 | 3 3 3 | 5.5 5.5 | 7 | 8; a = {1, 2, 2, 3} has
  // rank sum 12.5 (U_a = 2.5), 4.5 below the mean 18. Of the 70 ways to pick a's four ranks, the
  // sums at least 4.5 from 18 are: at or below 13.5 -- {1,3,3,3} 10, {1,3,3,5.5} 12.5 (x3 x2 = 6),
  // {3,3,3,5.5} 14.5 no, {1,3,3,7} 14 no, {1,3,5.5,5.5} 15 no -> 7 ways; at or above 22.5 --
  // {5.5,5.5,7,8} 26, {3,5.5,7,8} 23.5 (x3 x2 = 6), {3,3,7,8} 21 no, {1,5.5,7,8} 21.5 no,
  // {3,5.5,5.5,8} 22 no, {3,5.5,5.5,7} 21 no -> 7 ways. p = 14 / 70 = 0.2.
  absl::StatusOr<MannWhitneyResult> r = MannWhitneyU({1, 2, 2, 3}, {2, 3, 4, 5});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->exact);
  EXPECT_DOUBLE_EQ(r->u_a, 2.5);
  EXPECT_NEAR(r->p_value, 0.2, 1e-14);
}

// Brute force with ties: every subset of pooled positions as the first sample, mid-ranked.
double EnumeratedTiedP(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> pooled = a;
  pooled.insert(pooled.end(), b.begin(), b.end());
  const int total = static_cast<int>(pooled.size());
  auto mid_rank = [&](double v) {
    int below = 0, equal = 0;
    for (double x : pooled) {
      below += x < v;
      equal += x == v;
    }
    return below + (equal + 1) / 2.0;
  };
  double observed = 0;
  for (double x : a) observed += mid_rank(x);
  const double mean = a.size() * (total + 1) / 2.0;
  double extreme = 0, all = 0;
  for (unsigned mask = 0; mask < (1u << total); ++mask) {
    if (__builtin_popcount(mask) != static_cast<int>(a.size())) continue;
    double sum = 0;
    for (int i = 0; i < total; ++i) {
      if (mask & (1u << i)) sum += mid_rank(pooled[i]);
    }
    all += 1;
    if (std::fabs(sum - mean) >= std::fabs(observed - mean) - 1e-9) extreme += 1;
  }
  return extreme / all;
}

TEST(MannWhitneyTest, TiedExactPMatchesEnumeration) {
  const std::vector<std::pair<std::vector<double>, std::vector<double>>> cases = {
      {{1, 1, 2}, {1, 2, 2}},
      {{5, 5, 5, 6}, {5, 6, 7, 7, 7}},
      {{10, 11, 11, 12, 13, 13}, {11, 12, 12, 14, 14, 15, 13}},
      {{3, 3, 3, 3, 4}, {3, 4, 4, 4, 4, 4}},
      {{0, 1, 2, 2, 2, 3, 9}, {2, 2, 8, 9, 9, 9, 9}},
  };
  for (const auto& [a, b] : cases) {
    absl::StatusOr<MannWhitneyResult> r = MannWhitneyU(a, b);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->exact);
    EXPECT_NEAR(r->p_value, EnumeratedTiedP(a, b), 1e-12) << a.size() << "x" << b.size();
    // The conditional distribution is symmetric, so swapping the samples keeps p.
    EXPECT_NEAR(MannWhitneyU(b, a)->p_value, r->p_value, 1e-12);
  }
}

TEST(MannWhitneyTest, TiesAtFiftyPerSideStayExact) {
  std::vector<double> a, b;
  for (int i = 0; i < 50; ++i) {
    a.push_back(i % 7);
    b.push_back(i % 7 + (i % 3 == 0));
  }
  absl::StatusOr<MannWhitneyResult> r = MannWhitneyU(a, b);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->exact);
  EXPECT_GT(r->p_value, 0);
  EXPECT_LT(r->p_value, 1);
  // At this size the tie-corrected normal approximation is close: within 10% of the exact p.
  a.push_back(3);
  absl::StatusOr<MannWhitneyResult> normal = MannWhitneyU(a, b);
  ASSERT_TRUE(normal.ok());
  EXPECT_FALSE(normal->exact);
  EXPECT_NEAR(normal->p_value / r->p_value, 1, 0.1);
}

TEST(MannWhitneyTest, LargeTiedSamplesUseCorrectedNormalApproximation) {
  // 51 per side, values 0..16 three times each on both sides shifted by one for b:
  // checked against the formula scipy.stats.mannwhitneyu(method="asymptotic") uses.
  std::vector<double> a, b;
  for (int i = 0; i < 51; ++i) {
    a.push_back(i / 3);
    b.push_back(i / 3 + 1);
  }
  absl::StatusOr<MannWhitneyResult> r = MannWhitneyU(a, b);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->exact);
  // Tie groups: value 0 and 17 have 3 values, 1..16 have 6: sum t^3 - t = 2 * 24 + 16 * 210 =
  // 3408. U_a = pairs a > b plus half the ties: sum over a of (values of b below) + ties / 2.
  double u = 0;
  for (double x : a) {
    for (double y : b) u += x > y ? 1 : (x == y ? 0.5 : 0);
  }
  EXPECT_DOUBLE_EQ(r->u_a, u);
  const double mn = 51.0 * 51, total = 102;
  const double variance = mn / 12 * ((total + 1) - 3408 / (total * (total - 1)));
  const double z = (std::max(u, mn - u) - mn / 2 - 0.5) / std::sqrt(variance);
  EXPECT_NEAR(r->p_value, std::erfc(z / std::sqrt(2)), 1e-12);
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
}  // namespace faultline::controller::analysis
