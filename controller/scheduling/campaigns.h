// Campaign lifecycle: submission (validate, plan, store), lookup, cancellation.
#ifndef FAULTLINE_CONTROLLER_SCHEDULING_CAMPAIGNS_H_
#define FAULTLINE_CONTROLLER_SCHEDULING_CAMPAIGNS_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "controller/scheduling/clock.h"
#include "controller/scheduling/fleet.h"
#include "controller/store/store.h"

namespace faultline::controller::scheduling {

class Campaigns {
 public:
  // `on_change` runs after a submission or cancellation (work or progress changed).
  Campaigns(store::Store* store, Fleet* fleet, Clock clock, std::function<void()> on_change);

  // Plans the campaign against the live agents (lost ones excluded) and stores it with its jobs
  // atomically; on any error nothing is stored.
  absl::StatusOr<v1::Campaign> Submit(const v1::CampaignSpec& spec);
  absl::StatusOr<v1::Campaign> Get(const std::string& campaign_id);
  absl::StatusOr<std::vector<v1::Campaign>> List(int limit);
  absl::StatusOr<v1::Campaign> Cancel(const std::string& campaign_id);

 private:
  store::Store* const store_;
  Fleet* const fleet_;
  const Clock clock_;
  const std::function<void()> on_change_;
};

}  // namespace faultline::controller::scheduling

#endif  // FAULTLINE_CONTROLLER_SCHEDULING_CAMPAIGNS_H_
