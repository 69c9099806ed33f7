// The agents the controller knows: registration, liveness, listing.
#ifndef FAULTLINE_CONTROLLER_SCHEDULING_FLEET_H_
#define FAULTLINE_CONTROLLER_SCHEDULING_FLEET_H_

#include <functional>
#include <memory>
#include <thread>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "controller/scheduling/clock.h"
#include "controller/store/store.h"

namespace faultline::controller::scheduling {

class Fleet {
 public:
  struct Options {
    absl::Duration heartbeat_interval = absl::Seconds(10);
    // An agent silent for this many heartbeat intervals is shown as lost.
    int lost_after_intervals = 3;
    absl::Duration cache_ttl = absl::Seconds(30);
    // Heartbeats are answered from memory and written to the store in one batch this often
    // (zero: write each heartbeat at once). Liveness in the store lags by at most this much.
    absl::Duration heartbeat_flush_interval = absl::Seconds(1);
  };

  // `on_change` runs after a registration (the agent may now match queued work).
  Fleet(store::Store* store, Options options, Clock clock, std::function<void()> on_change);
  ~Fleet();  // Flushes pending heartbeats.

  // Validates and stores a registration. INVALID_ARGUMENT names the bad field.
  absl::Status Register(store::AgentRecord agent);
  // False when the agent is unknown and must register again.
  absl::StatusOr<bool> Heartbeat(const std::string& agent_id, int state,
                                 const std::string& job_id);
  // Agents with their liveness applied: state LOST for silent ones (left out unless asked).
  absl::StatusOr<std::vector<store::AgentRecord>> List(bool include_lost);
  // From a short-lived cache: every long-poll looks its agent up, and a registration (the only
  // thing that changes what Get returns besides liveness) refreshes the entry here. Another
  // controller replica's registration is seen within `cache_ttl`.
  absl::StatusOr<store::AgentRecord> Get(const std::string& agent_id);
  // The same, shared rather than copied (the long-poll path holds it while parked).
  absl::StatusOr<std::shared_ptr<const store::AgentRecord>> GetShared(const std::string& agent_id);

  const Options& options() const { return options_; }

  // Writes heartbeats received since the last flush to the store.
  absl::Status FlushHeartbeats();

 private:
  struct Beat {
    int state = 0;
    std::string job_id;
    absl::Time at;
  };
  store::Store* const store_;
  const Options options_;
  const Clock clock_;
  const std::function<void()> on_change_;
  absl::Mutex mu_;
  struct Cached {
    std::shared_ptr<const store::AgentRecord> agent;
    absl::Time fetched;
  };
  absl::flat_hash_map<std::string, Cached> cache_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Beat> pending_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread flusher_;
};

}  // namespace faultline::controller::scheduling

#endif  // FAULTLINE_CONTROLLER_SCHEDULING_FLEET_H_
