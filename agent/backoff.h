// Exponential backoff with jitter for retrying RPCs to the controller, so a fleet of agents that
// lost the controller at once does not reconnect in lockstep.
#ifndef FAULTLINE_AGENT_BACKOFF_H_
#define FAULTLINE_AGENT_BACKOFF_H_

#include <optional>

#include "absl/random/random.h"
#include "absl/time/time.h"

namespace faultline::agent {

class Backoff {
 public:
  // Delays grow from `initial` by `multiplier` up to `max`; each is then scaled by a random
  // factor in [1 - jitter, 1 + jitter].
  Backoff(absl::Duration initial, absl::Duration max, double multiplier = 2.0,
          double jitter = 0.2);

  absl::Duration Next();

  // Full jitter: uniform in [0, d), d growing like Next()'s base, so a fleet that failed at the
  // same instant retries spread over the whole window rather than around one point. With the
  // controller's retry hint: hint + uniform in [0, max(hint, d)), never sooner than asked and
  // spread over at least as long again, so a refused herd returns no faster than the controller
  // said it can admit it.
  absl::Duration NextFullJitter(std::optional<absl::Duration> retry_after = std::nullopt);
  void Reset() { current_ = initial_; }

 private:
  absl::Duration initial_;
  absl::Duration max_;
  double multiplier_;
  double jitter_;
  absl::Duration current_;
  absl::BitGen rng_;
};

}  // namespace faultline::agent

#endif  // FAULTLINE_AGENT_BACKOFF_H_
