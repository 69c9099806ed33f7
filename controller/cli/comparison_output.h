// Machine-readable renderings of a comparison (or of several candidates against one baseline) for `faultlinectl compare --format=json|csv`.
// Both carry every number the table and the HTML report show, with the verdict's reason: the JSON
// is the whole faultline.v1.CompareResponse (samples and their blocks included); the CSV has one
// row per metric with every per-metric statistic, then one per kernel counter and two per
// profile function (their shares), told apart by the last column, `kind`.
#ifndef FAULTLINE_CONTROLLER_CLI_COMPARISON_OUTPUT_H_
#define FAULTLINE_CONTROLLER_CLI_COMPARISON_OUTPUT_H_

#include <string>

#include "proto/faultline/v1/analysis.pb.h"

namespace faultline::controller::cli {

// Any message in proto3 JSON as every JSON output of faultlinectl writes it: field names as in
// the .proto, every field printed, indented.
std::string FormatProtoJson(const google::protobuf::Message& message);

// The response in proto3 JSON (field names as in analysis.proto, every field printed, NaN as
// "NaN" as the proto3 JSON mapping writes non-finite doubles).
std::string FormatComparisonJson(const v1::CompareResponse& response);

// Header line, then one line per metric ("kind" metric), latency histogram quantile ("kind"
// distribution: metric "fault_latency_ns.p99", verdict "not_tested", a_median/b_median the
// medians of the block values; statistics a quantile does not have are NaN), kernel counter
// ("kind" counter) and profile share ("kind" profile: metric "profile.total_share.<function>"
// and "profile.self_share.<function>").
std::string FormatComparisonCsv(const v1::CompareResponse& response);

// Several candidates against one baseline: the whole faultline.v1.KernelsComparison as JSON, and
// the CSV above with a first column naming the candidate (one row per candidate x metric).
std::string FormatKernelsJson(const v1::KernelsComparison& comparison);
std::string FormatKernelsCsv(const v1::KernelsComparison& comparison);

}  // namespace faultline::controller::cli

#endif  // FAULTLINE_CONTROLLER_CLI_COMPARISON_OUTPUT_H_
