// Exponential backoff with jitter for retrying RPCs to the controller, so a fleet of agents that
// lost the controller at once does not reconnect in lockstep.
#ifndef FAULTLINE_AGENT_BACKOFF_H_
#define FAULTLINE_AGENT_BACKOFF_H_

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
