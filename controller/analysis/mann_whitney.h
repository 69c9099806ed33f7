// Mann-Whitney U (Wilcoxon rank-sum) test, two-sided.
//
// Why this test: benchmark repetitions are skewed and carry outliers (a repetition that caught a
// compaction or a timer interrupt storm), so a rank test keeps its false-positive rate where a
// t-test on raw values would not, while losing little power (asymptotic efficiency 0.955 against
// the t-test under normal noise). LLVM LNT and Google Benchmark's compare.py use it too; faultline
// differs in what it does with the p-value (false-discovery control across a suite, see
// multiple_testing.h, and an effect-size requirement, see compare.h).
//
// p-value: exact when neither sample exceeds kExactMaxPerSide. Without ties, the null
// distribution of U (MannWhitneyNullCdf). With ties, the conditional permutation distribution of
// the mid-rank sum given the observed tie pattern (every way of choosing which m of the pooled
// values belong to the first sample is equally likely under H0), counted by dynamic programming
// over the tie groups; the distribution Streitberg & Roehmel's shift algorithm computes (Statistical Software
// Newsletter 12, 1986), as R's exactRankTests::wilcox.exact does for tied samples. Benchmarks tie
// often (integer nanoseconds, counters), and the normal approximation is poor at small n: at
// n = 5 a sample with no overlap but two ties gets 0.0107 from it against the exact 0.0079.
// Beyond kExactMaxPerSide: the normal approximation with the tie correction of the variance and a
// continuity correction of 0.5, as scipy.stats.mannwhitneyu (method="asymptotic",
// use_continuity=True) does.
#ifndef FAULTLINE_CONTROLLER_ANALYSIS_MANN_WHITNEY_H_
#define FAULTLINE_CONTROLLER_ANALYSIS_MANN_WHITNEY_H_

#include <vector>

#include "absl/status/statusor.h"

namespace faultline::controller::analysis {

inline constexpr int kExactMaxPerSide = 50;

struct MannWhitneyResult {
  // U of the first sample: pairs (a_i, b_j) with a_i > b_j, ties counted one half. The second
  // sample's U is m * n - u_a.
  double u_a = 0;
  // Two-sided p-value.
  double p_value = 1;
  // True when the p-value comes from the exact distribution.
  bool exact = false;
};

// Two-sided Mann-Whitney U test of a against b. Both samples need at least one finite value;
// NaN or infinite samples are an error.
absl::StatusOr<MannWhitneyResult> MannWhitneyU(const std::vector<double>& a,
                                               const std::vector<double>& b);

// Two-sided exact p of the observed mid-rank sum of `a` under the conditional permutation
// distribution given the pooled values' tie pattern. Cost O((m + n) * m * (m + n)^2); callers keep
// the sizes within kExactMaxPerSide.
double ExactConditionalPValue(const std::vector<double>& a, const std::vector<double>& b);

// Null distribution of U for sample sizes m and n without ties: element u is P(U <= u), for
// u = 0 .. m * n. Counts are accumulated with additions only (the Mann-Whitney recurrence), so
// the result has no cancellation error. Cost O(m * n * m * n); callers keep m, n small.
std::vector<double> MannWhitneyNullCdf(int m, int n);

}  // namespace faultline::controller::analysis

#endif  // FAULTLINE_CONTROLLER_ANALYSIS_MANN_WHITNEY_H_
