// Hodges-Lehmann estimate of the shift between two samples, with its distribution-free
// confidence interval (Lehmann 1963; Hollander & Wolfe, Nonparametric Statistical Methods, 4.3).
//
// The estimate is the median of the m * n pairwise differences b_j - a_i. It is the estimator that
// goes with the Mann-Whitney test: its interval is the set of shifts the test would not reject,
// read off the ordered differences at ranks given by the U null distribution. Unlike a bootstrap
// interval it has guaranteed coverage at any sample size, and unlike the difference of means it
// is not dragged by one outlier repetition.
//
// For benchmark metrics the effect is multiplicative (a kernel change makes a fault 4% slower,
// not 40 ns slower on every machine), so comparisons use HodgesLehmannRatio: the same estimator
// on log samples, reported as the ratio B/A = exp(shift) with exp of the interval ends.
#ifndef FAULTLINE_CONTROLLER_ANALYSIS_HODGES_LEHMANN_H_
#define FAULTLINE_CONTROLLER_ANALYSIS_HODGES_LEHMANN_H_

#include <vector>

#include "absl/status/statusor.h"

namespace faultline::controller::analysis {

struct IntervalEstimate {
  double estimate = 0;
  // Interval ends; -inf / +inf when the samples are too small to bound the interval at the
  // requested confidence (for example m = n = 2 at 95%).
  double lower = 0;
  double upper = 0;
  // Nominal confidence the interval was built for, e.g. 0.95. The distribution-free interval's
  // actual coverage is at least this (U is discrete).
  double confidence = 0;
};

// Shift of b relative to a (b - a). confidence must be in (0, 1).
absl::StatusOr<IntervalEstimate> HodgesLehmannShift(const std::vector<double>& a,
                                                    const std::vector<double>& b,
                                                    double confidence = 0.95);

// Ratio b / a on the log scale; every sample must be > 0.
absl::StatusOr<IntervalEstimate> HodgesLehmannRatio(const std::vector<double>& a,
                                                    const std::vector<double>& b,
                                                    double confidence = 0.95);

// Number of ordered differences to trim from each end for the interval: the largest k with
// P(U <= k - 1) <= (1 - confidence) / 2, from the exact U distribution for small samples and the
// normal approximation otherwise. Zero means the interval is unbounded.
int HodgesLehmannTrim(int m, int n, double confidence);

}  // namespace faultline::controller::analysis

#endif  // FAULTLINE_CONTROLLER_ANALYSIS_HODGES_LEHMANN_H_
