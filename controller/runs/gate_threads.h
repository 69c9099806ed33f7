// Runs gates on threads of their own. A gate may wait hours for its campaigns, which must hold
// neither a gRPC callback thread nor the controller's shutdown: Shutdown makes running gates
// give up (CANCELLED; their campaigns are cancelled) and joins them.
#ifndef FAULTLINE_CONTROLLER_RUNS_GATE_THREADS_H_
#define FAULTLINE_CONTROLLER_RUNS_GATE_THREADS_H_

#include <functional>
#include <list>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "controller/runs/gate_runner.h"

namespace faultline::controller::runs {

class GateThreads {
 public:
  explicit GateThreads(GateRunner* runner) : runner_(runner) {}
  ~GateThreads() { Shutdown(); }

  GateThreads(const GateThreads&) = delete;
  GateThreads& operator=(const GateThreads&) = delete;

  // Decides `spec` on a new thread and hands the report to `done` there. The gate gives up
  // when `cancelled` returns true (the caller went away) or at Shutdown. UNAVAILABLE, with
  // `done` never called, once Shutdown has begun.
  absl::Status Start(GateSpec spec, std::function<bool()> cancelled,
                     std::function<void(absl::StatusOr<GateReport>)> done);

  // Idempotent.
  void Shutdown();

 private:
  struct Slot {
    std::thread thread;
    bool done = false;
  };
  void JoinFinishedLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  GateRunner* const runner_;
  absl::Mutex mu_;
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  std::list<Slot> threads_ ABSL_GUARDED_BY(mu_);
};

}  // namespace faultline::controller::runs

#endif  // FAULTLINE_CONTROLLER_RUNS_GATE_THREADS_H_
