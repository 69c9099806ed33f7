#include "controller/cli/repeated_flag.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace faultline::controller::cli {

absl::StatusOr<std::vector<std::string>> TakeRepeatedFlag(std::vector<char*>* args,
                                                          absl::string_view name) {
  std::vector<std::string> values;
  std::vector<char*> kept;
  const std::vector<char*>& in = *args;
  bool after_dashes = false;
  for (size_t i = 0; i < in.size(); ++i) {
    absl::string_view arg = in[i];
    if (i == 0 || after_dashes) {
      kept.push_back(in[i]);
      continue;
    }
    if (arg == "--") {
      after_dashes = true;
      kept.push_back(in[i]);
      continue;
    }
    absl::string_view rest = arg;
    if (!absl::ConsumePrefix(&rest, "--")) absl::ConsumePrefix(&rest, "-");
    if (rest.size() == arg.size() || !absl::ConsumePrefix(&rest, name)) {
      kept.push_back(in[i]);
      continue;
    }
    if (absl::ConsumePrefix(&rest, "=")) {
      values.emplace_back(rest);
    } else if (rest.empty()) {
      if (i + 1 == in.size()) {
        return absl::InvalidArgumentError(absl::StrCat("--", name, ": missing value"));
      }
      values.emplace_back(in[++i]);
    } else {
      kept.push_back(in[i]);  // another flag that starts with this name, e.g. --online
    }
  }
  *args = std::move(kept);
  return values;
}

}  // namespace faultline::controller::cli
