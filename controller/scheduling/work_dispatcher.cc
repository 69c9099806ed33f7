#include "controller/scheduling/work_dispatcher.h"

#include <utility>
#include <vector>

namespace faultline::controller::scheduling {

WorkDispatcher::WorkDispatcher(Scheduler* scheduler, Clock clock,
                               absl::Duration rescan_interval, size_t max_parked)
    : scheduler_(scheduler),
      clock_(std::move(clock)),
      rescan_interval_(rescan_interval),
      max_parked_(max_parked) {
  thread_ = std::thread([this] { Loop(); });
}

WorkDispatcher::~WorkDispatcher() { Shutdown(); }

void WorkDispatcher::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  // Drain only once the thread is gone: a sweep in flight holds its batch outside parked_ and
  // puts the unserved polls back when it ends, so draining earlier would strand them.
  if (thread_.joinable()) thread_.join();
  std::list<Parked> drained;
  {
    absl::MutexLock lock(&mu_);
    drained.swap(parked_);
  }
  for (Parked& p : drained) p.done(std::optional<LeasedJob>());
}

size_t WorkDispatcher::parked() const {
  absl::MutexLock lock(&mu_);
  return parked_.size() + sweeping_;
}

bool WorkDispatcher::Wait(std::shared_ptr<const store::AgentRecord> agent, absl::Time deadline,
                          Done done) {
  bool stopping;
  {
    absl::MutexLock lock(&mu_);
    stopping = stopping_;
  }
  if (stopping) {
    done(std::optional<LeasedJob>());
    return true;
  }
  if (clock_() >= deadline) {
    done(std::optional<LeasedJob>());
    return true;
  }
  // Park and let the dispatcher thread assign: polls that arrive together are served by one
  // scan of the queue instead of one scan each.
  {
    absl::MutexLock lock(&mu_);
    if (!stopping_) {
      if (max_parked_ > 0 && parked_.size() + sweeping_ >= max_parked_) return false;
      parked_.push_back(Parked{std::move(agent), deadline, std::move(done)});
      dirty_ = true;
      return true;
    }
  }
  done(std::optional<LeasedJob>());
  return true;
}

void WorkDispatcher::Notify() {
  absl::MutexLock lock(&mu_);
  dirty_ = true;
}

void WorkDispatcher::Loop() {
  // Deadlines are checked every tick; the queue is rescanned on Notify() and at least every
  // rescan_interval_: another writer to the store may have queued work that no notification
  // announced (SQLite, a replica whose QueueWatch is reconnecting) or a sweep may have failed.
  const absl::Duration tick = absl::Milliseconds(100);
  // A sweep walks every parked poll. A registration storm notifies thousands of times a second;
  // sweeping back to back for each kept a core busy, so notifications within this spacing of
  // the last sweep share the next one.
  const absl::Duration min_sweep_spacing = absl::Milliseconds(20);
  absl::Time next_rescan = clock_() + rescan_interval_;
  absl::Time last_sweep = absl::InfinitePast();
  while (true) {
    bool rescan = false;
    {
      absl::MutexLock lock(&mu_);
      const absl::Duration quiet = last_sweep + min_sweep_spacing - absl::Now();
      if (quiet > absl::ZeroDuration()) {
        auto stopping = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stopping_; };
        mu_.AwaitWithTimeout(absl::Condition(&stopping), quiet);
      } else {
        auto woken = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return dirty_ || stopping_; };
        mu_.AwaitWithTimeout(absl::Condition(&woken), tick);
      }
      if (stopping_) return;
      rescan = dirty_;
      dirty_ = false;
    }
    if (clock_() >= next_rescan) rescan = true;
    if (rescan) {
      next_rescan = clock_() + rescan_interval_;
      last_sweep = absl::Now();
      Sweep();
    }
    // Expire waits whose deadline passed.
    std::vector<Done> expired;
    {
      absl::MutexLock lock(&mu_);
      const absl::Time now = clock_();
      for (auto it = parked_.begin(); it != parked_.end();) {
        if (it->deadline <= now) {
          expired.push_back(std::move(it->done));
          it = parked_.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (Done& done : expired) done(std::optional<LeasedJob>());
  }
}

void WorkDispatcher::Sweep() {
  std::list<Parked> batch;
  {
    absl::MutexLock lock(&mu_);
    batch.swap(parked_);
    sweeping_ = batch.size();
  }
  if (batch.empty()) return;
  std::vector<const store::AgentRecord*> agents;
  agents.reserve(batch.size());
  for (const Parked& p : batch) agents.push_back(p.agent.get());
  absl::StatusOr<std::vector<std::optional<LeasedJob>>> leased = scheduler_->AssignBatch(agents);

  std::list<Parked> still_waiting;
  std::vector<std::pair<Done, std::optional<LeasedJob>>> finished;
  size_t i = 0;
  for (Parked& p : batch) {
    if (leased.ok() && (*leased)[i].has_value()) {
      finished.emplace_back(std::move(p.done), std::move((*leased)[i]));
    } else {
      still_waiting.push_back(std::move(p));
    }
    ++i;
  }
  {
    absl::MutexLock lock(&mu_);
    // Polls that arrived during the sweep stay behind those that waited longer.
    parked_.splice(parked_.begin(), still_waiting);
    sweeping_ = 0;
  }
  for (auto& [done, job] : finished) done(std::move(job));
}

}  // namespace faultline::controller::scheduling
