#include "agent/log.h"

#include <cstdio>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace faultline::agent {

void LogLine(absl::string_view line) {
  const std::string stamp =
      absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone());
  // One fprintf per line keeps lines from concurrent threads whole.
  std::fprintf(stderr, "%s faultline-agent: %.*s\n", stamp.c_str(), static_cast<int>(line.size()),
               line.data());
}

}  // namespace faultline::agent
