// Latency histograms of two sets of runs compared per quantile, with the comparison's blocks as
// the unit (controller/analysis/latency_quantiles.h for the statistics and why).
#ifndef FAULTLINE_CONTROLLER_RUNS_LATENCY_DISTRIBUTIONS_H_
#define FAULTLINE_CONTROLLER_RUNS_LATENCY_DISTRIBUTIONS_H_

#include <vector>

#include "controller/analysis/latency_quantiles.h"
#include "controller/runs/kernel_comparison.h"
#include "controller/store/store.h"

namespace faultline::controller::runs {

// One entry per (benchmark invocation, histogram name) either side recorded, ordered by
// benchmark display name (as `comparison` names its metrics), then histogram. Each block of
// `comparison.replication_unit` (BlockKeyOf) merges the histograms of its measured repetitions,
// leaving out the disturbed ones when it has an undisturbed one (the rule BlockSummaries applies
// to metrics), and contributes its value of each kReportedQuantiles.
std::vector<analysis::LatencyDistribution> CompareLatencyDistributions(
    const std::vector<store::StoredRunRecord>& baseline,
    const std::vector<store::StoredRunRecord>& candidate, const KernelComparison& comparison,
    double confidence);

}  // namespace faultline::controller::runs

#endif  // FAULTLINE_CONTROLLER_RUNS_LATENCY_DISTRIBUTIONS_H_
