// Benchmark parameters written on the command line, `threads=4 region_mib=64 thp=never`, for
// `faultlinectl run` and `faultlinectl changepoints --params=...`.
#ifndef FAULTLINE_CONTROLLER_CLI_PARAM_ARGS_H_
#define FAULTLINE_CONTROLLER_CLI_PARAM_ARGS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/faultline/v1/benchmark.pb.h"

namespace faultline::controller::cli {

// A value as written: an integer ("64", "-1") is int_value, another number ("0.5", "1e3")
// double_value, "true"/"false" bool_value, anything else enum_value. The command line has no
// types; the controller checks each value against the benchmark's advertised parameter (an
// integer is accepted for a number parameter there, and a whole number for an integer one).
v1::ParamValue ParseParamValue(const std::string& text);

// "name=value" items. INVALID_ARGUMENT naming `field` and the item for one that is not
// name=value, a name that is not a lower-case identifier, or a name given twice (as a campaign
// file refuses a key given twice).
absl::StatusOr<std::map<std::string, v1::ParamValue>> ParseParamAssignments(
    const std::vector<std::string>& items, const std::string& field);

}  // namespace faultline::controller::cli

#endif  // FAULTLINE_CONTROLLER_CLI_PARAM_ARGS_H_
