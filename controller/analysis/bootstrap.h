// Percentile-bootstrap confidence interval of the ratio of medians, median(b) / median(a).
//
// Offered beside the Hodges-Lehmann ratio (hodges_lehmann.h) because some readers want "the
// median got 4% slower" literally. It is deterministic: resampling draws come from a seeded
// DeterministicRandom, so the same samples and seed give the same interval on every machine.
// With fewer than ~10 samples per side the percentile bootstrap under-covers (the resampled
// medians take few distinct values); comparisons therefore headline the Hodges-Lehmann interval,
// whose coverage is exact.
#ifndef FAULTLINE_CONTROLLER_ANALYSIS_BOOTSTRAP_H_
#define FAULTLINE_CONTROLLER_ANALYSIS_BOOTSTRAP_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "controller/analysis/hodges_lehmann.h"

namespace faultline::controller::analysis {

struct BootstrapOptions {
  double confidence = 0.95;
  int resamples = 2000;
  uint64_t seed = 0x5eed'fa17'11e0'0001;
};

// Every sample of a and b must be > 0.
absl::StatusOr<IntervalEstimate> BootstrapMedianRatio(const std::vector<double>& a,
                                                      const std::vector<double>& b,
                                                      const BootstrapOptions& options = {});

}  // namespace faultline::controller::analysis

#endif  // FAULTLINE_CONTROLLER_ANALYSIS_BOOTSTRAP_H_
