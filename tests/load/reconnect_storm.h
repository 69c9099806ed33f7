// The reconnect-storm scenario of the load benchmark: a registered, heartbeating fleet loses
// its controller (killed and started again on the same store), and every agent registers
// again within a window, retrying the way faultline agents do (full-jitter exponential backoff
// that honours the controller's retry-after-ms hint). Prints how long the fleet takes to come
// back, what the controller refused, how heartbeats fare meanwhile, and the controller's peak
// memory.
#ifndef FAULTLINE_TESTS_LOAD_RECONNECT_STORM_H_
#define FAULTLINE_TESTS_LOAD_RECONNECT_STORM_H_

#include "tests/load/load_support.h"

namespace faultline::load {

struct StormOptions {
  ControllerLaunch launch;
  int agents = 10000;
  int agents_per_channel = 10;
  // Initial registrations are spread over this, then the fleet heartbeats for `warmup`.
  absl::Duration initial_window = absl::Seconds(5);
  absl::Duration warmup = absl::Seconds(10);
  // Every agent's first re-registration falls uniformly in [kill, kill + window].
  absl::Duration window = absl::Seconds(10);
  // SIGKILL (a crash) or SIGTERM (a graceful restart).
  int restart_signal = 9;
  // Bounds the storm: agents not back by then are counted as missing.
  absl::Duration storm_timeout = absl::Seconds(120);
  // Agents' backoff (as agent/agent.h's defaults).
  absl::Duration initial_backoff = absl::Milliseconds(500);
  absl::Duration max_backoff = absl::Seconds(30);
};

// Returns a process exit code: 0 when the scenario ran to the end (whatever its figures).
int RunReconnectStorm(const StormOptions& options);

}  // namespace faultline::load

#endif  // FAULTLINE_TESTS_LOAD_RECONNECT_STORM_H_
