#include "controller/scheduling/queue_watch.h"

#include <cstdio>
#include <memory>
#include <utility>

namespace faultline::controller::scheduling {

QueueWatch::QueueWatch(store::Store* store, std::function<void()> queued,
                       absl::Duration reconnect_interval)
    : store_(store), queued_(std::move(queued)), reconnect_interval_(reconnect_interval) {
  thread_ = std::thread([this] { Loop(); });
}

QueueWatch::~QueueWatch() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    if (listener_ != nullptr) listener_->Interrupt();
  }
  thread_.join();
}

bool QueueWatch::listening() const {
  absl::MutexLock lock(&mu_);
  return listener_ != nullptr;
}

bool QueueWatch::SleepUnlessStopping(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  auto stopping = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stopping_; };
  return !mu_.AwaitWithTimeout(absl::Condition(&stopping), d);
}

void QueueWatch::Loop() {
  bool lost = false;
  while (true) {
    absl::StatusOr<std::unique_ptr<store::QueueListener>> listener =
        store_->ListenForQueuedJobs();
    if (listener.status().code() == absl::StatusCode::kUnimplemented) return;
    if (!listener.ok()) {
      if (!lost) {
        std::fprintf(stderr, "queue watch: %s; finding queued jobs by rescanning until back\n",
                     listener.status().ToString().c_str());
      }
      lost = true;
      if (!SleepUnlessStopping(reconnect_interval_)) return;
      continue;
    }
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      listener_ = listener->get();
    }
    if (lost) std::fprintf(stderr, "queue watch: listening for queued jobs again\n");
    lost = false;
    queued_();
    absl::Status status;
    while (true) {
      // The wait is long: Interrupt() ends it on shutdown, and a dropped connection ends it too.
      absl::StatusOr<bool> woken = (*listener)->Await(absl::Minutes(1));
      {
        absl::MutexLock lock(&mu_);
        if (stopping_) {
          listener_ = nullptr;
          return;
        }
      }
      if (!woken.ok()) {
        status = woken.status();
        break;
      }
      if (*woken) queued_();
    }
    {
      absl::MutexLock lock(&mu_);
      listener_ = nullptr;
    }
    std::fprintf(stderr, "queue watch: %s; reconnecting\n", status.ToString().c_str());
    lost = true;
    if (!SleepUnlessStopping(reconnect_interval_)) return;
  }
}

}  // namespace faultline::controller::scheduling
