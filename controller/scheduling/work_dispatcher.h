// Long-poll bookkeeping: agents waiting for work park here and are handed a job as soon as one
// they can run appears, or nothing when their wait ends.
//
// One thread serves every parked poll, so thousands of waiting agents cost memory, not threads:
// the gRPC callback API lets PollWork return without finishing its call, and this class finishes
// it later.
#ifndef FAULTLINE_CONTROLLER_SCHEDULING_WORK_DISPATCHER_H_
#define FAULTLINE_CONTROLLER_SCHEDULING_WORK_DISPATCHER_H_

#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "controller/scheduling/clock.h"
#include "controller/scheduling/scheduler.h"

namespace faultline::controller::scheduling {

class WorkDispatcher {
 public:
  // Called exactly once per Wait, never under the dispatcher's lock.
  using Done = std::function<void(absl::StatusOr<std::optional<LeasedJob>>)>;

  // At most `max_parked` polls park at once (0: unbounded), so a herd of agents costs bounded
  // memory.
  WorkDispatcher(Scheduler* scheduler, Clock clock,
                 absl::Duration rescan_interval = absl::Seconds(1), size_t max_parked = 0);
  ~WorkDispatcher();  // Finishes every parked poll with "no work".

  // Parks the poll; the dispatcher thread assigns it work as soon as there is some (its next
  // scan is immediate), or finishes it empty at `deadline`. Returns false, without calling
  // `done`, when max_parked polls are already parked: the caller answers that poll itself.
  bool Wait(std::shared_ptr<const store::AgentRecord> agent, absl::Time deadline, Done done);

  // Something changed that may make work available (a campaign was submitted, a lease expired,
  // an agent re-registered): rescan for every parked poll.
  void Notify();

  // Finishes every parked poll with "no work" and stops the thread; Wait then answers at once.
  void Shutdown();

  size_t parked() const;

 private:
  struct Parked {
    // Shared, not copied: thousands of parked polls are rescanned every second.
    std::shared_ptr<const store::AgentRecord> agent;
    absl::Time deadline;
    Done done;
  };

  void Loop();
  void Sweep();

  Scheduler* const scheduler_;
  const Clock clock_;
  const absl::Duration rescan_interval_;
  const size_t max_parked_;
  mutable absl::Mutex mu_;
  std::list<Parked> parked_ ABSL_GUARDED_BY(mu_);
  // Polls taken out of parked_ by a running sweep; they still count against max_parked_.
  size_t sweeping_ ABSL_GUARDED_BY(mu_) = 0;
  bool dirty_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace faultline::controller::scheduling

#endif  // FAULTLINE_CONTROLLER_SCHEDULING_WORK_DISPATCHER_H_
