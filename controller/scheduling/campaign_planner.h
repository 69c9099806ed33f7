// Turns a submitted campaign into jobs: validates it against the catalogs of the agents it
// targets, fills in defaults, and expands suite x targets x repetitions into jobs.
#ifndef FAULTLINE_CONTROLLER_SCHEDULING_CAMPAIGN_PLANNER_H_
#define FAULTLINE_CONTROLLER_SCHEDULING_CAMPAIGN_PLANNER_H_

#include <vector>

#include "absl/status/statusor.h"
#include "controller/store/store.h"
#include "proto/faultline/v1/campaign.pb.h"

namespace faultline::controller::scheduling {

struct CampaignPlan {
  // The spec as it will be stored: defaults filled in, target names set.
  v1::CampaignSpec spec;
  // In scheduling order (`sequence` ascending); ids are assigned by the store.
  std::vector<v1::Job> jobs;
};

// What an unset field of the spec becomes. The bounds are the API's
// (controller/validation/limits.h).
inline constexpr uint32_t kDefaultRepetitions = 5;
inline constexpr uint32_t kDefaultTimeoutSeconds = 600;

// INVALID_ARGUMENT naming the field for a malformed spec, an unknown benchmark or parameter, or
// an out-of-range value; FAILED_PRECONDITION when a target matches no registered agent (or none
// that offers a benchmark of the suite). `agents` are the registered agents.
absl::StatusOr<CampaignPlan> PlanCampaign(const v1::CampaignSpec& spec,
                                          const std::vector<store::AgentRecord>& agents);

}  // namespace faultline::controller::scheduling

#endif  // FAULTLINE_CONTROLLER_SCHEDULING_CAMPAIGN_PLANNER_H_
