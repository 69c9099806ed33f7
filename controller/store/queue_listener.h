// Tells a controller that some writer to its database queued or requeued jobs, so that replicas
// sharing one database hand out new work at once instead of when their parked polls expire.
#ifndef FAULTLINE_CONTROLLER_STORE_QUEUE_LISTENER_H_
#define FAULTLINE_CONTROLLER_STORE_QUEUE_LISTENER_H_

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace faultline::controller::store {

class QueueListener {
 public:
  virtual ~QueueListener() = default;

  // Waits up to `timeout` for jobs to be queued or requeued by any writer, this process
  // included. True when that happened (one or several times) since the last call, false when
  // the wait timed out or was interrupted. UNAVAILABLE when notifications can no longer arrive
  // (the connection was lost): the listener is then useless and the caller opens another.
  virtual absl::StatusOr<bool> Await(absl::Duration timeout) = 0;

  // Makes a blocked Await, and the next one, return false at once. Thread-safe.
  virtual void Interrupt() = 0;
};

}  // namespace faultline::controller::store

#endif  // FAULTLINE_CONTROLLER_STORE_QUEUE_LISTENER_H_
