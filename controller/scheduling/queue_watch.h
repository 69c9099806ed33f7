// Wakes this controller when another replica sharing its store queued or requeued jobs
// (submitted a campaign, expired a lease, requeued a failed attempt, released a lease), so that
// every replica's parked polls get new work within milliseconds instead of when they expire.
//
// Notifications come from the store (store::Store::ListenForQueuedJobs). Where the store has
// none (SQLite), or while its listening connection is down, the WorkDispatcher's own rescan,
// every second, is what finds work another writer queued.
#ifndef FAULTLINE_CONTROLLER_SCHEDULING_QUEUE_WATCH_H_
#define FAULTLINE_CONTROLLER_SCHEDULING_QUEUE_WATCH_H_

#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "controller/store/store.h"

namespace faultline::controller::scheduling {

class QueueWatch {
 public:
  // `queued` runs on the watch's thread after every notification, and once each time listening
  // (re)starts, since jobs may have been queued while nobody listened. A lost listening
  // connection is reopened every `reconnect_interval`.
  QueueWatch(store::Store* store, std::function<void()> queued,
             absl::Duration reconnect_interval = absl::Seconds(1));
  ~QueueWatch();

  // True while a listener is open (for metrics and tests).
  bool listening() const;

 private:
  void Loop();
  // False when stopping.
  bool SleepUnlessStopping(absl::Duration d);

  store::Store* const store_;
  const std::function<void()> queued_;
  const absl::Duration reconnect_interval_;
  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  store::QueueListener* listener_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::thread thread_;
};

}  // namespace faultline::controller::scheduling

#endif  // FAULTLINE_CONTROLLER_SCHEDULING_QUEUE_WATCH_H_
