// Tests lease jobs to one agent at a time; the controller always leases in batches
// (WorkDispatcher -> Scheduler::AssignBatch).
#ifndef FAULTLINE_CONTROLLER_SCHEDULING_ASSIGN_ONE_FOR_TESTS_H_
#define FAULTLINE_CONTROLLER_SCHEDULING_ASSIGN_ONE_FOR_TESTS_H_

#include <optional>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "controller/scheduling/scheduler.h"

namespace faultline::controller::scheduling {

inline absl::StatusOr<std::optional<LeasedJob>> AssignOne(Scheduler& scheduler,
                                                          const store::AgentRecord& agent) {
  absl::StatusOr<std::vector<std::optional<LeasedJob>>> batch = scheduler.AssignBatch({&agent});
  if (!batch.ok()) return batch.status();
  return std::move((*batch)[0]);
}

}  // namespace faultline::controller::scheduling

#endif  // FAULTLINE_CONTROLLER_SCHEDULING_ASSIGN_ONE_FOR_TESTS_H_
