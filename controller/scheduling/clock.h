// Time source for the controller's domain code, so lease and liveness logic is testable without
// sleeping.
#ifndef FAULTLINE_CONTROLLER_CLOCK_H_
#define FAULTLINE_CONTROLLER_CLOCK_H_

#include <functional>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace faultline::controller::scheduling {

using Clock = std::function<absl::Time()>;

inline Clock RealClock() {
  return [] { return absl::Now(); };
}

}  // namespace faultline::controller::scheduling

#endif  // FAULTLINE_CONTROLLER_CLOCK_H_
