// Plain-text renderings of comparisons and gate results for terminals and CI logs (what
// `faultlinectl compare` and `faultlinectl gate` print). Columns are padded to their widest cell;
// nothing here depends on a terminal library.
#ifndef FAULTLINE_CONTROLLER_ANALYSIS_REPORT_TEXT_H_
#define FAULTLINE_CONTROLLER_ANALYSIS_REPORT_TEXT_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "controller/analysis/compare.h"
#include "controller/analysis/gate.h"
#include "controller/analysis/latency_quantiles.h"
#include "controller/analysis/profile_diff.h"

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

// Whether a metric is a per-operation figure of the kernel's own mechanism (mmap_lock.*,
// vmstat.vma_lock_*_per_fault, per arm baseline./contended.vmstat.*) rather than a timing: shown
// among the counter rows too, with its verdict.
bool IsMechanismMetric(absl::string_view metric);

// The kernel's figures in LKP's style, one row per benchmark x figure: A mean +-%stddev,
// %change of the means, B mean +-%stddev, then the verdict: the mechanism metrics of
// `comparison` (IsMechanismMetric) with theirs, and every raw counter of `counters` (neutral:
// "shifted" when its distribution moved, "-" otherwise). Empty when there are none.
std::string FormatCounterTable(const SuiteComparison& comparison,
                               const SuiteComparison& counters);

// The kernel functions whose share of the samples changed most, per invocation: total share
// (on the call chain) A -> B with the change in percentage points, self share A -> B, profiles
// per side. Empty when there are none.
std::string FormatProfileChanges(const std::vector<ProfileChange>& changes);

// One line per rule and one indented line per metric finding that is not a pass, then the
// overall outcome and the exit code a pipeline sees.
std::string FormatGateResult(const GateResult& result);

}  // namespace faultline::controller::analysis

#endif  // FAULTLINE_CONTROLLER_ANALYSIS_REPORT_TEXT_H_
