// Checks campaign parameter values against the parameter specs agents advertise.
#ifndef FAULTLINE_CONTROLLER_PARAM_VALIDATION_H_
#define FAULTLINE_CONTROLLER_PARAM_VALIDATION_H_

#include <string>

#include "absl/status/status.h"
#include "google/protobuf/map.h"
#include "proto/faultline/v1/benchmark.pb.h"

namespace faultline::controller::scheduling {

// Validates `params` against `spec` and fills in the defaults of unset parameters. `field` is
// the request path of the params map (e.g. "spec.suite[2].params") and prefixes every error:
// INVALID_ARGUMENT "spec.suite[2].params.threads: 9999 is above the maximum 64".
absl::Status ResolveInvocationParams(const v1::BenchmarkSpec& spec, const std::string& field,
                                     google::protobuf::Map<std::string, v1::ParamValue>* params);

// A value as a user would write it: "64", "0.5", "true", "hugepage".
std::string FormatParamValue(const v1::ParamValue& value);

}  // namespace faultline::controller::scheduling

#endif  // FAULTLINE_CONTROLLER_PARAM_VALIDATION_H_
