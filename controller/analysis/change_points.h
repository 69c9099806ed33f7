// Change points in a metric's history (one benchmark x metric x arch x host class, ordered by
// kernel version or time): E-Divisive means (Matteson & James 2014, "A nonparametric approach for
// multiple change point analysis of multivariate data") with a significance check per split, the
// variant Apache Otava (Hunter) and MongoDB's signal-processing service run on their CI history.
//
// Algorithm:
//   1. Within each current segment, every split tau gets the energy statistic
//        Q(tau) = m k / (m + k) * (2/(m k) sum|x_i - y_j| - sum_{i<i'}|x_i - x_i'| / C(m, 2)
//                                                   - sum_{j<j'}|y_j - y_j'| / C(k, 2))
//      for the m points before tau and the k points from tau on (alpha = 1). It grows with any
//      difference in distribution, not just in mean, and needs no noise model. Sums are updated
//      incrementally as tau moves, O(n^2) per segment and O(n) memory.
//   2. The best split over all segments is tested. kWelch (default, as Otava): Welch's t-test of
//      the points between the neighbouring change points on either side, at most `window` points
//      each side (the window keeps an old regime far back in history from diluting a recent
//      change), its p multiplied by the number of splits the segment admitted (Bonferroni for
//      having picked the best one: Otava's unadjusted p lets ~7% of 100-point pure-noise series
//      through at 0.001, this keeps it under 1%; a real step of 10% at 2% CV still has p ~1e-20).
//      kPermutation (as the original E-Divisive): the segment is shuffled `permutations`
//      times with a seeded generator and p = (1 + #{max Q of shuffle >= Q}) / (1 + permutations).
//   3. A significant split (p <= max_p_value) is kept and step 1 repeats on the new segments; the
//      first insignificant best split ends the search.
//   4. Every kept point is re-tested against its final neighbours and the weakest insignificant
//      one dropped, until all pass (a later split can make an earlier one redundant).
//
// Attribution: a change point's index is the first point AFTER the change, i.e. the first kernel
// that carries it; the caller maps indices back to kernels.
//
// Why E-Divisive + t-test rather than Perfherder's sliding t-test (t >= 7 over 12-24 points):
// the sliding test fires repeatedly around one step and misses gradual drifts split across its
// window; E-Divisive locates each change once, over the whole history, and the significance check
// (p = 0.001 by default, as Otava) keeps the alert rate on pure noise low (see the tests).
#ifndef FAULTLINE_CONTROLLER_ANALYSIS_CHANGE_POINTS_H_
#define FAULTLINE_CONTROLLER_ANALYSIS_CHANGE_POINTS_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"

namespace faultline::controller::analysis {

struct ChangePointOptions {
  enum class Test { kWelch, kPermutation };
  Test test = Test::kWelch;
  // A split is kept when its p-value is at most this.
  double max_p_value = 0.001;
  // Fewest points on either side of a split.
  int min_segment = 3;
  // Most points each side that the Welch test and the reported means use.
  int window = 50;
  // kWelch only: multiply p by the number of admissible splits (see above). false reproduces
  // Otava's unadjusted p, for comparison.
  bool adjust_for_split_choice = true;
  // kPermutation only. The smallest attainable p is 1 / (1 + permutations): with the default
  // 999 it reaches 0.001. Each test costs permutations * O(n^2), so the permutation test suits
  // histories of a few hundred points; kWelch scales to thousands.
  int permutations = 999;
  uint64_t seed = 0x0c4a'9e90'1217'0001;
};

struct ChangePoint {
  // First point after the change (the first kernel carrying it).
  int index = 0;
  // Means of the windowed segments before and after, and their relative difference
  // (mean_after / mean_before - 1; NaN when mean_before is 0).
  double mean_before = 0;
  double mean_after = 0;
  double relative_change = 0;
  // Significance of the split against its final neighbours (for kWelch adjusted for the choice
  // of split, see above), and the unadjusted windowed Welch p-value.
  double p_value = 1;
  double raw_p_value = 1;
  // The E-Divisive energy statistic of the split when it was found.
  double q_hat = 0;
};

// Change points of `series`, in increasing index order. InvalidArgument for non-finite values or
// out-of-range options; a series shorter than 2 * min_segment simply has none.
absl::StatusOr<std::vector<ChangePoint>> FindChangePoints(const std::vector<double>& series,
                                                          const ChangePointOptions& options = {});

}  // namespace faultline::controller::analysis

#endif  // FAULTLINE_CONTROLLER_ANALYSIS_CHANGE_POINTS_H_
