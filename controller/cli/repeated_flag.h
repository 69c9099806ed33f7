// Flags a command takes more than once (`run --on=SEL --on=SEL`, `compare --candidate=SEL
// --candidate=SEL`). Abseil's flags keep only the last occurrence, so these are taken out of the
// command line before Abseil parses it.
#ifndef FAULTLINE_CONTROLLER_CLI_REPEATED_FLAG_H_
#define FAULTLINE_CONTROLLER_CLI_REPEATED_FLAG_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace faultline::controller::cli {

// Removes every `--NAME=VALUE`, `-NAME=VALUE`, `--NAME VALUE` and `-NAME VALUE` from `args`
// (args[0], the program, is kept; nothing after a bare "--" is looked at) and returns the
// values in command-line order. INVALID_ARGUMENT naming the flag when it ends the command line
// without a value.
absl::StatusOr<std::vector<std::string>> TakeRepeatedFlag(std::vector<char*>* args,
                                                          absl::string_view name);

}  // namespace faultline::controller::cli

#endif  // FAULTLINE_CONTROLLER_CLI_REPEATED_FLAG_H_
