// Welch's unequal-variance t-test, two-sided. Change-point detection uses it (as Apache Otava
// does) to decide whether the split E-Divisive found separates two different means; the segments
// on either side of a change rarely share a variance, hence Welch rather than Student.
#ifndef FAULTLINE_CONTROLLER_ANALYSIS_WELCH_T_TEST_H_
#define FAULTLINE_CONTROLLER_ANALYSIS_WELCH_T_TEST_H_

#include <vector>

#include "absl/status/statusor.h"

namespace faultline::controller::analysis {

struct WelchResult {
  double mean_a = 0;
  double mean_b = 0;
  // (mean_b - mean_a) / standard error; +-inf when both samples are constant but differ.
  double t = 0;
  // Welch-Satterthwaite degrees of freedom.
  double df = 0;
  double p_value = 1;
};

// Each sample needs at least two finite values.
absl::StatusOr<WelchResult> WelchTTest(const std::vector<double>& a, const std::vector<double>& b);

}  // namespace faultline::controller::analysis

#endif  // FAULTLINE_CONTROLLER_ANALYSIS_WELCH_T_TEST_H_
