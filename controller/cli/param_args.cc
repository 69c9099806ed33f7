#include "controller/cli/param_args.h"

#include <cmath>
#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace faultline::controller::cli {
namespace {

bool IsParamName(const std::string& name) {
  if (name.empty() || !absl::ascii_islower(static_cast<unsigned char>(name[0]))) return false;
  for (char c : name) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (!absl::ascii_islower(u) && !absl::ascii_isdigit(u) && c != '_') return false;
  }
  return true;
}

}  // namespace

v1::ParamValue ParseParamValue(const std::string& text) {
  v1::ParamValue value;
  int64_t i = 0;
  double d = 0;
  if (absl::SimpleAtoi(text, &i)) {
    value.set_int_value(i);
  } else if (absl::SimpleAtod(text, &d) && std::isfinite(d)) {
    value.set_double_value(d);
  } else if (text == "true" || text == "false") {
    value.set_bool_value(text == "true");
  } else {
    value.set_enum_value(text);
  }
  return value;
}

absl::StatusOr<std::map<std::string, v1::ParamValue>> ParseParamAssignments(
    const std::vector<std::string>& items, const std::string& field) {
  std::map<std::string, v1::ParamValue> params;
  for (const std::string& item : items) {
    const size_t eq = item.find('=');
    if (eq == std::string::npos || eq + 1 == item.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": \"", item, "\" is not name=value (e.g. threads=4)"));
    }
    const std::string name = item.substr(0, eq);
    if (!IsParamName(name)) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ": \"", name, "\" is not a parameter name ([a-z][a-z0-9_]*)"));
    }
    if (!params.emplace(name, ParseParamValue(item.substr(eq + 1))).second) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": ", name, " given twice"));
    }
  }
  return params;
}

}  // namespace faultline::controller::cli
