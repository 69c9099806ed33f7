// Plain-text renderings of comparisons and gate results for terminals and CI logs (what
// `faultlinectl compare` and `faultlinectl gate` print). Columns are padded to their widest cell;
// nothing here depends on a terminal library.
#ifndef FAULTLINE_CONTROLLER_ANALYSIS_REPORT_TEXT_H_
#define FAULTLINE_CONTROLLER_ANALYSIS_REPORT_TEXT_H_

#include <string>
#include <vector>

#include "controller/analysis/compare.h"
#include "controller/analysis/gate.h"
#include "controller/analysis/latency_quantiles.h"

namespace faultline::controller::analysis {

// One row per metric: benchmark, metric, unit, better direction, per side the median of the
// block summaries and LKP's mean +- %stddev over all repetitions, B/A with its interval, change,
// p, q ("untested" for neutral metrics), blocks per side, verdict and its reason (which carries
// the one repetition estimate), then a summary line with the verdict counts. A cell that was not
// computed, or a side that never measured the metric, is "-".
std::string FormatComparisonTable(const SuiteComparison& comparison);

// Several candidates against one baseline (mmtests compare-kernels style): one row per
// benchmark x metric with its unit, better direction and the baseline's median and mean +-
// %stddev, then one column per candidate: its median, change, interval and verdict. Below, per
// candidate, the verdict counts and the reason of every verdict that is not no_change. Each
// candidate's comparison is its own FDR family (docs/analysis.md). names[0] names the baseline,
// names[i] the candidate of candidates[i - 1]; the header calls them A, B1, B2, ...
std::string FormatKernelsTable(const std::vector<std::string>& names,
                               const std::vector<SuiteComparison>& candidates);

// One row per histogram x quantile (latency_quantiles.h): benchmark, histogram, quantile, unit,
// per side the median of the block quantiles, B/A with its interval, change, p, blocks per side,
// and the reason when intervals are missing, under a line saying what a value is. "" for no
// distributions.
std::string FormatDistributionTable(const std::vector<LatencyDistribution>& distributions,
                                    double confidence, const std::string& block_unit);

// `rows` with every column padded to its widest cell (two spaces between columns, trailing
// blanks trimmed), one line each: the layout of every table here.
std::string RenderColumns(const std::vector<std::vector<std::string>>& rows);

// One line per rule and one indented line per metric finding that is not a pass, then the
// overall outcome and the exit code a pipeline sees.
std::string FormatGateResult(const GateResult& result);

}  // namespace faultline::controller::analysis

#endif  // FAULTLINE_CONTROLLER_ANALYSIS_REPORT_TEXT_H_
