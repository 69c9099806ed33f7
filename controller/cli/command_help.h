// `faultlinectl COMMAND --help`: the command's own entry of the usage text and the flags it
// takes, instead of the whole program's help.
#ifndef FAULTLINE_CONTROLLER_CLI_COMMAND_HELP_H_
#define FAULTLINE_CONTROLLER_CLI_COMMAND_HELP_H_

#include <string>

#include "absl/strings/string_view.h"

namespace faultline::controller::cli {

// True when `arg` asks for help: --help, -help, -h, --helpfull, --help=... .
bool IsHelpFlag(absl::string_view arg);

// `usage`'s entry for `command` (the lines under "Commands:" from "  COMMAND" up to the next
// command), then the flags whose help text starts with the command's name ("gate: ...",
// "compare/gate: ..."). "" when `usage` documents no such command.
std::string CommandHelp(absl::string_view usage, absl::string_view command);

}  // namespace faultline::controller::cli

#endif  // FAULTLINE_CONTROLLER_CLI_COMMAND_HELP_H_
