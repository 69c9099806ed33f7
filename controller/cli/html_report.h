// A comparison as one self-contained HTML page (no scripts, styles or fonts fetched: it opens
// offline and can be attached to a review): a summary table of every metric (unit, better
// direction, per side median and mean +- %stddev, B/A with its interval, p, q, blocks, verdict
// and reason) and, for every metric, one inline SVG figure (class "fl-plot") with both kernels'
// repetitions as a strip plot, each block's median as a ring (class "fl-block") when blocks hold
// several repetitions, the median of the block medians as a bar, and the ratio B/A with its
// confidence interval against 1 and the minimum-effect band. Latency histograms get a table of
// their quantiles (class "fl-distributions") and one figure each (class "fl-quantiles"): both
// sides' quantile curves (class "fl-curve") on a nines axis, with every block's p50/p90/p99/p99.9.
#ifndef FAULTLINE_CONTROLLER_CLI_HTML_REPORT_H_
#define FAULTLINE_CONTROLLER_CLI_HTML_REPORT_H_

#include <string>

#include "proto/faultline/v1/analysis.pb.h"

namespace faultline::controller::cli {

// `baseline` and `candidate` describe the two sides (e.g. the selectors given).
std::string RenderComparisonHtml(const v1::CompareResponse& response, const std::string& baseline,
                                 const std::string& candidate);

// Several candidates against one baseline: a summary table with the baseline's median and mean
// +- %stddev and, per candidate, its median, change with interval and verdict (class
// "fl-kernels"), then each candidate's pair section as RenderComparisonHtml shows it (its table
// and one plot per metric).
std::string RenderKernelsHtml(const v1::KernelsComparison& comparison);

// Minimal HTML escaping of text content and attribute values.
std::string HtmlEscape(const std::string& text);

}  // namespace faultline::controller::cli

#endif  // FAULTLINE_CONTROLLER_CLI_HTML_REPORT_H_
