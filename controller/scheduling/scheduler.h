// Chooses which queued job an agent runs next and leases it.
//
// Placement rules: a job goes only to an agent that matches its target, offers its benchmark
// and (if pinned) is the pinned agent. Higher campaign priority always wins; among campaigns of
// the same priority the one served least recently goes first (fair sharing), and within a
// campaign jobs go in sequence order (which is what makes interleaved campaigns alternate).
#ifndef FAULTLINE_CONTROLLER_SCHEDULING_SCHEDULER_H_
#define FAULTLINE_CONTROLLER_SCHEDULING_SCHEDULER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "controller/scheduling/clock.h"
#include "controller/store/store.h"

namespace faultline::controller::scheduling {

struct LeasedJob {
  v1::Job job;
  std::string lease_id;
  absl::Time deadline;
};

class Scheduler {
 public:
  struct Options {
    absl::Duration lease = absl::Seconds(60);
    // How many queued jobs one scheduling pass considers.
    int scan_limit = 5000;
  };

  Scheduler(store::Store* store, Options options, Clock clock);

  // Leases, to each agent in `agents` (in order), the best job it can run, considering the
  // queue once for the whole batch. Entry i is the lease for agents[i], or nullopt.
  absl::StatusOr<std::vector<std::optional<LeasedJob>>> AssignBatch(
      const std::vector<const store::AgentRecord*>& agents);

  const Options& options() const { return options_; }

 private:
  std::string NewLeaseId();
  // Index of the best job in `queued` not yet `taken` for `agent`, or -1.
  int PickJob(const std::vector<store::QueuedJob>& queued, const std::vector<bool>& taken,
              const store::AgentRecord& agent) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  store::Store* const store_;
  const Options options_;
  const Clock clock_;
  absl::Mutex mu_;
  // Campaign id -> pass number in which it last got a job; drives fair sharing.
  absl::flat_hash_map<std::string, uint64_t> last_served_ ABSL_GUARDED_BY(mu_);
  uint64_t pass_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace faultline::controller::scheduling

#endif  // FAULTLINE_CONTROLLER_SCHEDULING_SCHEDULER_H_
