// Latency distributions compared per quantile (p50, p90, p99, p99.9) with blocks as the unit of
// replication, as the metrics are (compare.h): each block (a run, or in the lab a boot) merges
// its repetitions' histograms and contributes one value per quantile; the interval and the test
// are on those per-block values, so many faults of one run cannot pass for independent samples.
// The ratio B/A is the Hodges-Lehmann estimate on log block quantiles with its distribution-free
// interval, and p the two-sided Mann-Whitney test of the block quantiles (hodges_lehmann.h,
// mann_whitney.h), the same estimator and test a metric gets.
//
// Quantiles are reported with their intervals but not tested: they stay out of the
// Benjamini-Hochberg family and carry no verdict. Four tail quantiles per histogram are strongly
// correlated with each other and with the benchmark's own latency metrics (ns_per_fault,
// fork_p99_ns, ...), which are in the family; adding them would cost those metrics power for
// little new evidence, the reason neutral metrics leave the family too.
#ifndef FAULTLINE_CONTROLLER_ANALYSIS_LATENCY_QUANTILES_H_
#define FAULTLINE_CONTROLLER_ANALYSIS_LATENCY_QUANTILES_H_

#include <cstdint>
#include <string>
#include <vector>

namespace faultline::controller::analysis {

// The quantiles every comparison reports, in order.
inline constexpr double kReportedQuantiles[] = {0.5, 0.9, 0.99, 0.999};

// "p50", "p90", "p99", "p99.9".
std::string QuantileName(double quantile);

struct QuantileComparison {
  double quantile = 0;
  // The quantile of each block's merged histogram, per side, in block order.
  std::vector<double> baseline_blocks;
  std::vector<double> candidate_blocks;
  // Median over the blocks; NaN for a side without blocks.
  double baseline = 0;
  double candidate = 0;
  // B/A and its interval at the comparison's confidence, and the Mann-Whitney p of the block
  // values; NaN when a side has fewer than kMinBlocksForInterval blocks or a value is not
  // positive.
  double ratio = 0;
  double ratio_lower = 0;
  double ratio_upper = 0;
  double p_value = 0;
};

// Fewer blocks than this on a side: no interval or p (a median of one block has no spread).
inline constexpr int kMinBlocksForInterval = 2;

// One histogram of one benchmark invocation, both sides.
struct LatencyDistribution {
  // As MetricComparison::benchmark: the name, with the parameters when needed to tell
  // invocations apart.
  std::string benchmark;
  // The histogram's name, e.g. "fault_latency_ns", and its unit.
  std::string histogram;
  std::string unit;
  int baseline_blocks = 0;
  int candidate_blocks = 0;
  // Values recorded per side (every block's histograms).
  uint64_t baseline_values = 0;
  uint64_t candidate_values = 0;
  // One entry per kReportedQuantiles.
  std::vector<QuantileComparison> quantiles;
  // Quantile curves of each side's histograms merged over all its blocks, for plots: the value
  // at curve_quantiles[i] (from kCurveQuantiles()); empty for a side that recorded nothing.
  std::vector<double> curve_quantiles;
  std::vector<double> baseline_curve;
  std::vector<double> candidate_curve;
  // Why intervals are missing ("B: not recorded", "A: 1 run; intervals need at least 2 runs per
  // side"); empty when every quantile has one.
  std::string reason;
};

// Where the plotted curves are evaluated: q = 1 - 10^-x for x = 0, 0.125, ..., 3 (from the
// minimum to p99.9, evenly spaced in "nines"), then 1 (the maximum).
std::vector<double> CurveQuantiles();

// Fills medians, ratio, interval and p of `q` from its block values, and returns why they are
// missing ("" when they are not). `block_unit` ("run" or "boot") is for the reason.
std::string CompareQuantileBlocks(double confidence, const std::string& block_unit,
                                  QuantileComparison* q);

}  // namespace faultline::controller::analysis

#endif  // FAULTLINE_CONTROLLER_ANALYSIS_LATENCY_QUANTILES_H_
