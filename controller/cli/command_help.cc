#include "controller/cli/command_help.h"

#include <algorithm>
#include <vector>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace faultline::controller::cli {
namespace {

// "compare/gate: the baseline (A) selector" documents compare and gate.
bool FlagBelongsTo(absl::string_view help, absl::string_view command) {
  const size_t colon = help.find(':');
  if (colon == absl::string_view::npos) return false;
  const absl::string_view owners = help.substr(0, colon);
  for (absl::string_view owner : absl::StrSplit(owners, '/')) {
    owner = absl::StripAsciiWhitespace(owner);
    // "submit --wait / watch / gate" names submit, watch and gate.
    owner = owner.substr(0, owner.find(' '));
    if (owner == command) return true;
  }
  return false;
}

}  // namespace

bool IsHelpFlag(absl::string_view arg) {
  return arg == "--help" || arg == "-help" || arg == "-h" || arg == "--helpfull" ||
         absl::StartsWith(arg, "--help=");
}

std::string CommandHelp(absl::string_view usage, absl::string_view command) {
  std::string entry;
  bool in_commands = false;
  bool in_entry = false;
  for (absl::string_view line : absl::StrSplit(usage, '\n')) {
    if (line == "Commands:") {
      in_commands = true;
      continue;
    }
    if (!in_commands) continue;
    if (line.empty()) break;
    // A command's first line is indented by two spaces, its continuation lines by more.
    const bool starts_command = absl::StartsWith(line, "  ") && line.size() > 2 && line[2] != ' ';
    if (starts_command) {
      const absl::string_view rest = line.substr(2);
      in_entry = rest == command || absl::StartsWith(rest, absl::StrCat(command, " "));
    }
    if (in_entry) absl::StrAppend(&entry, "  ", line.substr(2), "\n");
  }
  if (entry.empty()) return "";

  std::vector<std::string> flags;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (!FlagBelongsTo(flag->Help(), command)) continue;
    flags.push_back(absl::StrCat("  --", name, " (default \"", flag->DefaultValue(), "\")\n      ",
                                 flag->Help(), "\n"));
  }
  std::sort(flags.begin(), flags.end());
  std::string help = absl::StrCat("usage: faultlinectl [connection flags]\n", entry);
  if (!flags.empty()) absl::StrAppend(&help, "\nFlags:\n", absl::StrJoin(flags, ""));
  absl::StrAppend(&help,
                  "\nConnection flags (--controller, --plaintext, --tls_ca, --tls_cert, --tls_key, "
                  "--token_file) and exit codes: faultlinectl --help\n");
  return help;
}

}  // namespace faultline::controller::cli
