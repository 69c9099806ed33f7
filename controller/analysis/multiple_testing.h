// False-discovery-rate control across the metrics of one comparison.
//
// A suite compares dozens of metrics at once; testing each at alpha = 0.05 (what LNT and
// compare.py do) flags at least one metric in most A/A suites. Benjamini-Hochberg (1995) bounds
// the expected fraction of false flags among the flagged ones, and under the global null (an A/A
// comparison) bounds the chance of any flag by the chosen level, while keeping far more power
// than Bonferroni when several metrics really move together, which is how kernel changes behave.
#ifndef FAULTLINE_CONTROLLER_ANALYSIS_MULTIPLE_TESTING_H_
#define FAULTLINE_CONTROLLER_ANALYSIS_MULTIPLE_TESTING_H_

#include <vector>

namespace faultline::controller::analysis {

// Benjamini-Hochberg adjusted p-values (q-values), in the order of p_values: rejecting every
// hypothesis with q <= level controls the FDR at level. q_(i) = min over j >= i of
// p_(j) * m / j, capped at 1. NaN p-values are left out of the family (m counts only the others)
// and get a NaN q-value.
std::vector<double> BenjaminiHochbergQValues(const std::vector<double>& p_values);

}  // namespace faultline::controller::analysis

#endif  // FAULTLINE_CONTROLLER_ANALYSIS_MULTIPLE_TESTING_H_
