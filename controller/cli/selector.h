// Result selectors on the command line: comma-separated key=value filters, all of which must
// match (docs/analysis.md), e.g.
//   campaign=c-000012,target=stock
//   kernel_label=patched/*,arch=x86_64,host_class=x86_64-epyc-2cpu-*,benchmark=fault_*
#ifndef FAULTLINE_CONTROLLER_CLI_SELECTOR_H_
#define FAULTLINE_CONTROLLER_CLI_SELECTOR_H_

#include <string>

#include "absl/status/statusor.h"
#include "proto/faultline/v1/analysis.pb.h"

namespace faultline::controller::cli {

// Keys: campaign, target, kernel_label (or kernel), kernel_release (or release), arch
// (x86_64, arm64 or aarch64), host_class, benchmark, agent. Errors name `flag` and the
// offending part, and list the keys.
absl::StatusOr<v1::ResultSelector> ParseSelector(const std::string& text, const std::string& flag);

}  // namespace faultline::controller::cli

#endif  // FAULTLINE_CONTROLLER_CLI_SELECTOR_H_
