// Line-oriented logging to stderr with a UTC timestamp (Abseil 20220623 has no absl/log).
#ifndef FAULTLINE_AGENT_LOG_H_
#define FAULTLINE_AGENT_LOG_H_

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace faultline::agent {

void LogLine(absl::string_view line);

template <typename... Args>
void Log(const Args&... args) {
  LogLine(absl::StrCat(args...));
}

}  // namespace faultline::agent

#endif  // FAULTLINE_AGENT_LOG_H_
