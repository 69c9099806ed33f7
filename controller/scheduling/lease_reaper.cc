#include "controller/scheduling/lease_reaper.h"

#include <cstdio>
#include <utility>

namespace faultline::controller::scheduling {

LeaseReaper::LeaseReaper(store::Store* store, Clock clock, uint32_t max_attempts,
                         absl::Duration interval, std::function<void()> on_change)
    : store_(store),
      clock_(std::move(clock)),
      max_attempts_(max_attempts),
      interval_(interval),
      on_change_(std::move(on_change)) {
  thread_ = std::thread([this] {
    while (true) {
      {
        absl::MutexLock lock(&mu_);
        auto stopping = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stopping_; };
        if (mu_.AwaitWithTimeout(absl::Condition(&stopping), interval_)) return;
      }
      absl::StatusOr<int> n = RunOnce();
      if (!n.ok()) std::fprintf(stderr, "lease reaper: %s\n", n.status().ToString().c_str());
    }
  });
}

LeaseReaper::~LeaseReaper() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

absl::StatusOr<int> LeaseReaper::RunOnce() {
  absl::StatusOr<int> n = store_->ExpireLeases(clock_(), max_attempts_);
  if (n.ok() && *n > 0 && on_change_) on_change_();
  return n;
}

}  // namespace faultline::controller::scheduling
