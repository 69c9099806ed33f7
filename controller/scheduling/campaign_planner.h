// Turns a submitted campaign into jobs: validates it against the catalogs of the agents it
// targets, fills in defaults, and expands suite x targets x repetitions into jobs.
#ifndef FAULTLINE_CONTROLLER_SCHEDULING_CAMPAIGN_PLANNER_H_
#define FAULTLINE_CONTROLLER_SCHEDULING_CAMPAIGN_PLANNER_H_

#include <vector>

#include "absl/status/statusor.h"
#include "controller/store/store.h"
#include "proto/faultline/v1/campaign.pb.h"

namespace faultline::controller {

struct CampaignPlan {
  // The spec as it will be stored: defaults filled in, target names set.
  v1::CampaignSpec spec;
  // In scheduling order (`sequence` ascending); ids are assigned by the store.
  std::vector<v1::Job> jobs;
};

// Limits that keep one campaign from flooding the queue.
inline constexpr int kMaxSuiteSize = 256;
inline constexpr int kMaxTargets = 64;
inline constexpr uint32_t kMaxRepetitions = 1000;
inline constexpr uint32_t kMaxWarmup = 100;
inline constexpr uint32_t kMaxTimeoutSeconds = 86400;
inline constexpr uint32_t kDefaultRepetitions = 5;
inline constexpr uint32_t kDefaultTimeoutSeconds = 600;
inline constexpr int kMaxJobsPerCampaign = 100000;

// INVALID_ARGUMENT naming the field for a malformed spec, an unknown benchmark or parameter, or
// an out-of-range value; FAILED_PRECONDITION when a target matches no registered agent (or none
// that offers a benchmark of the suite). `agents` are the registered agents.
absl::StatusOr<CampaignPlan> PlanCampaign(const v1::CampaignSpec& spec,
                                          const std::vector<AgentRecord>& agents);

}  // namespace faultline::controller

#endif  // FAULTLINE_CONTROLLER_SCHEDULING_CAMPAIGN_PLANNER_H_
