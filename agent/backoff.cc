#include "agent/backoff.h"

#include <algorithm>

#include "absl/random/distributions.h"

namespace faultline::agent {

Backoff::Backoff(absl::Duration initial, absl::Duration max, double multiplier, double jitter)
    : initial_(initial),
      max_(std::max(initial, max)),
      multiplier_(std::max(1.0, multiplier)),
      jitter_(std::clamp(jitter, 0.0, 1.0)),
      current_(initial) {}

absl::Duration Backoff::Next() {
  const absl::Duration base = current_;
  current_ = std::min(max_, current_ * multiplier_);
  const double factor = absl::Uniform(rng_, 1.0 - jitter_, 1.0 + jitter_);
  return base * factor;
}

absl::Duration Backoff::NextFullJitter(std::optional<absl::Duration> retry_after) {
  const absl::Duration base = current_;
  current_ = std::min(max_, current_ * multiplier_);
  if (retry_after.has_value() && *retry_after > absl::ZeroDuration()) {
    const absl::Duration spread = std::max(*retry_after, base);
    return *retry_after + spread * absl::Uniform(rng_, 0.0, 1.0);
  }
  return base * absl::Uniform(rng_, 0.0, 1.0);
}

}  // namespace faultline::agent
