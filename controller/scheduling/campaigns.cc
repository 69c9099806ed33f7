#include "controller/scheduling/campaigns.h"

#include <utility>

#include "controller/scheduling/campaign_planner.h"

namespace faultline::controller::scheduling {

Campaigns::Campaigns(store::Store* store, Fleet* fleet, Clock clock,
                     std::function<void()> on_change)
    : store_(store), fleet_(fleet), clock_(std::move(clock)), on_change_(std::move(on_change)) {}

absl::StatusOr<v1::Campaign> Campaigns::Submit(const v1::CampaignSpec& spec) {
  absl::StatusOr<std::vector<store::AgentRecord>> agents = fleet_->List(/*include_lost=*/false);
  if (!agents.ok()) return agents.status();
  absl::StatusOr<CampaignPlan> plan = PlanCampaign(spec, *agents);
  if (!plan.ok()) return plan.status();
  absl::StatusOr<v1::Campaign> campaign = store_->CreateCampaign(plan->spec, plan->jobs, clock_());
  if (campaign.ok() && on_change_) on_change_();
  return campaign;
}

absl::StatusOr<v1::Campaign> Campaigns::Get(const std::string& campaign_id) {
  if (campaign_id.empty()) return absl::InvalidArgumentError("campaign_id: must be set");
  return store_->GetCampaign(campaign_id);
}

absl::StatusOr<std::vector<v1::Campaign>> Campaigns::List(int limit) {
  if (limit < 0 || limit > 1000) return absl::InvalidArgumentError("limit: must be 0..1000");
  return store_->ListCampaigns(limit == 0 ? 100 : limit);
}

absl::StatusOr<v1::Campaign> Campaigns::Cancel(const std::string& campaign_id) {
  if (campaign_id.empty()) return absl::InvalidArgumentError("campaign_id: must be set");
  absl::StatusOr<v1::Campaign> campaign = store_->CancelCampaign(campaign_id, clock_());
  if (campaign.ok() && on_change_) on_change_();
  return campaign;
}

}  // namespace faultline::controller::scheduling
