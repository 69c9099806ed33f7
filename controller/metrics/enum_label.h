// Label values for proto enums: "AGENT_STATE_IDLE" with prefix "AGENT_STATE_" -> "idle".
#ifndef FAULTLINE_CONTROLLER_METRICS_ENUM_LABEL_H_
#define FAULTLINE_CONTROLLER_METRICS_ENUM_LABEL_H_

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace faultline::controller::metrics {

inline std::string EnumLabel(const std::string& enum_name, const std::string& prefix) {
  std::string out = absl::StartsWith(enum_name, prefix) ? enum_name.substr(prefix.size())
                                                        : enum_name;
  if (out.empty()) return "unknown";
  absl::AsciiStrToLower(&out);
  return out;
}

}  // namespace faultline::controller::metrics

#endif  // FAULTLINE_CONTROLLER_METRICS_ENUM_LABEL_H_
