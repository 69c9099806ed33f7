#include "proto/faultline/v1/enum_names.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace faultline::v1 {

std::string ArchName(Arch arch) {
  switch (arch) {
    case ARCH_X86_64:
      return "x86_64";
    case ARCH_ARM64:
      return "arm64";
    default:
      return "";
  }
}

Arch ParseArch(absl::string_view name) {
  if (name == "x86_64") return ARCH_X86_64;
  if (name == "arm64") return ARCH_ARM64;
  return ARCH_UNSPECIFIED;
}

std::string EnumLabel(absl::string_view enum_name, absl::string_view prefix) {
  std::string out(absl::StartsWith(enum_name, prefix) ? enum_name.substr(prefix.size())
                                                      : enum_name);
  if (out.empty()) return "unknown";
  absl::AsciiStrToLower(&out);
  return out;
}

}  // namespace faultline::v1
