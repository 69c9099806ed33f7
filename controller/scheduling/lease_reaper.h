// Requeues jobs whose agents stopped renewing their leases (died, hung, cut off).
#ifndef FAULTLINE_CONTROLLER_SCHEDULING_LEASE_REAPER_H_
#define FAULTLINE_CONTROLLER_SCHEDULING_LEASE_REAPER_H_

#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "controller/scheduling/clock.h"
#include "controller/store/store.h"

namespace faultline::controller::scheduling {

class LeaseReaper {
 public:
  // `on_change` runs when a pass requeued or failed jobs.
  LeaseReaper(store::Store* store, Clock clock, uint32_t max_attempts, absl::Duration interval,
              std::function<void()> on_change);
  ~LeaseReaper();

  // One pass; returns the number of jobs requeued or failed.
  absl::StatusOr<int> RunOnce();

 private:
  store::Store* const store_;
  const Clock clock_;
  const uint32_t max_attempts_;
  const absl::Duration interval_;
  const std::function<void()> on_change_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace faultline::controller::scheduling

#endif  // FAULTLINE_CONTROLLER_SCHEDULING_LEASE_REAPER_H_
