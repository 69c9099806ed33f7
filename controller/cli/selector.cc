#include "controller/cli/selector.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace faultline::controller::cli {
namespace {

constexpr char kKeys[] =
    "campaign, target, kernel_label, kernel_release, arch, host_class, benchmark, agent";

}  // namespace

absl::StatusOr<v1::ResultSelector> ParseSelector(const std::string& text,
                                                 const std::string& flag) {
  v1::ResultSelector selector;
  if (absl::StripAsciiWhitespace(text).empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        flag, ": empty selector; expected key=value[,key=value...] with keys ", kKeys));
  }
  for (absl::string_view part : absl::StrSplit(text, ',')) {
    part = absl::StripAsciiWhitespace(part);
    const size_t eq = part.find('=');
    if (eq == absl::string_view::npos || eq == 0 || eq + 1 == part.size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          flag, ": \"", part, "\" is not key=value (keys: ", kKeys, ")"));
    }
    const std::string key(absl::StripAsciiWhitespace(part.substr(0, eq)));
    const std::string value(absl::StripAsciiWhitespace(part.substr(eq + 1)));
    std::string* field = nullptr;
    if (key == "campaign") {
      field = selector.mutable_campaign_id();
    } else if (key == "target") {
      field = selector.mutable_target_name();
    } else if (key == "kernel_label" || key == "kernel") {
      field = selector.mutable_kernel_label();
    } else if (key == "kernel_release" || key == "release") {
      field = selector.mutable_kernel_release();
    } else if (key == "host_class") {
      field = selector.mutable_host_class();
    } else if (key == "benchmark") {
      field = selector.mutable_benchmark();
    } else if (key == "agent") {
      field = selector.mutable_agent_id();
    } else if (key == "arch") {
      if (selector.arch() != v1::ARCH_UNSPECIFIED) {
        return absl::InvalidArgumentError(absl::StrCat(flag, ": arch given twice"));
      }
      if (value == "x86_64" || value == "amd64") {
        selector.set_arch(v1::ARCH_X86_64);
      } else if (value == "arm64" || value == "aarch64") {
        selector.set_arch(v1::ARCH_ARM64);
      } else {
        return absl::InvalidArgumentError(absl::StrCat(
            flag, ": arch \"", value, "\" is not one of x86_64, arm64 (aarch64)"));
      }
      continue;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat(flag, ": unknown key \"", key, "\" (keys: ", kKeys, ")"));
    }
    if (!field->empty()) {
      return absl::InvalidArgumentError(absl::StrCat(flag, ": ", key, " given twice"));
    }
    *field = value;
  }
  return selector;
}

}  // namespace faultline::controller::cli
