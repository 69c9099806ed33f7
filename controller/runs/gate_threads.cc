#include "controller/runs/gate_threads.h"

#include <utility>

namespace faultline::controller::runs {

absl::Status GateThreads::Start(GateSpec spec, std::function<bool()> cancelled,
                                std::function<void(absl::StatusOr<GateReport>)> done) {
  absl::MutexLock lock(&mu_);
  if (shutting_down_) return absl::UnavailableError("controller shutting down");
  JoinFinishedLocked();
  threads_.emplace_back();
  Slot* slot = &threads_.back();
  slot->thread = std::thread([this, slot, spec = std::move(spec),
                              cancelled = std::move(cancelled), done = std::move(done)] {
    auto give_up = [this, &cancelled] {
      absl::MutexLock lock(&mu_);
      return shutting_down_ || (cancelled && cancelled());
    };
    done(runner_->Run(spec, give_up));
    absl::MutexLock lock(&mu_);
    slot->done = true;
  });
  return absl::OkStatus();
}

void GateThreads::Shutdown() {
  std::list<Slot> threads;
  {
    absl::MutexLock lock(&mu_);
    shutting_down_ = true;
    threads.swap(threads_);
  }
  for (Slot& t : threads) t.thread.join();
}

void GateThreads::JoinFinishedLocked() {
  for (auto it = threads_.begin(); it != threads_.end();) {
    if (it->done) {
      it->thread.join();
      it = threads_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace faultline::controller::runs
