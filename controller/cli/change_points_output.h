// `faultlinectl changepoints`: a metric's history and its change points (AnalysisService.
// ChangePoints) for people (a table of the series with each change point marked, then one line
// per change point) and for tools (the whole faultline.v1.ChangePointsResponse as proto3 JSON).
#ifndef FAULTLINE_CONTROLLER_CLI_CHANGE_POINTS_OUTPUT_H_
#define FAULTLINE_CONTROLLER_CLI_CHANGE_POINTS_OUTPUT_H_

#include <string>

#include "proto/faultline/v1/analysis.pb.h"

namespace faultline::controller::cli {

// `title` names the series, e.g. "fault_anon ns_per_fault".
std::string FormatChangePointsTable(const v1::ChangePointsResponse& response,
                                    const std::string& title);

// Field names as in analysis.proto, every field printed.
std::string FormatChangePointsJson(const v1::ChangePointsResponse& response);

}  // namespace faultline::controller::cli

#endif  // FAULTLINE_CONTROLLER_CLI_CHANGE_POINTS_OUTPUT_H_
