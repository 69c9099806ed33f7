#include "controller/service/campaign_service.h"

#include <string>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "controller/service/campaign_proto.h"
#include "controller/service/handler.h"
#include "controller/validation/request_validation.h"

namespace faultline::controller::service {
namespace {

// A WatchCampaign stream refused before it started.
class RefusedWatch final : public grpc::ServerWriteReactor<v1::Campaign> {
 public:
  explicit RefusedWatch(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

// One WatchCampaign stream: the hub pushes states, this writes them one at a time.
class WatchReactor final : public grpc::ServerWriteReactor<v1::Campaign>,
                           public scheduling::CampaignSink {
 public:
  WatchReactor(scheduling::CampaignWatchHub* hub, const std::string& campaign_id) : hub_(hub) {
    hub_->Add(this, campaign_id);
  }

  void Send(const v1::Campaign& campaign, bool final, const absl::Status& status) override {
    absl::MutexLock lock(&mu_);
    if (finished_) return;
    if (!status.ok()) {
      FinishLocked(ToGrpcStatus(status));
      return;
    }
    message_ = campaign;
    final_ = final;
    StartWrite(&message_);
  }

  void OnWriteDone(bool ok) override {
    {
      absl::MutexLock lock(&mu_);
      if (finished_) return;
      if (!ok) {
        FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "watcher went away"));
        return;
      }
      if (final_) {
        FinishLocked(grpc::Status::OK);
        return;
      }
    }
    hub_->SendDone(this);
  }

  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    if (!finished_) FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
  }

  void OnDone() override {
    hub_->Remove(this);
    delete this;
  }

 private:
  void FinishLocked(const grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    finished_ = true;
    Finish(status);
  }

  scheduling::CampaignWatchHub* const hub_;
  absl::Mutex mu_;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool final_ ABSL_GUARDED_BY(mu_) = false;
  v1::Campaign message_;
};

}  // namespace

CampaignServiceImpl::CampaignServiceImpl(scheduling::Campaigns* campaigns, scheduling::Fleet* fleet,
                                         store::Store* store, scheduling::CampaignWatchHub* hub,
                                         const security::CallAuthorizer* authorizer)
    : campaigns_(campaigns), authorizer_(authorizer), fleet_(fleet), store_(store), hub_(hub) {}

grpc::ServerUnaryReactor* CampaignServiceImpl::SubmitCampaign(
    grpc::CallbackServerContext* ctx, const v1::SubmitCampaignRequest* request,
    v1::Campaign* response) {
  if (absl::Status refused = CheckCall(*ctx, *authorizer_, security::Permission::kSubmit,
                                       *request, &validation::ValidateSubmitCampaignRequest);
      !refused.ok()) {
    return FinishNow(ctx, refused);
  }
  absl::StatusOr<v1::Campaign> campaign = campaigns_->Submit(request->spec());
  if (campaign.ok()) *response = std::move(*campaign);
  return FinishNow(ctx, campaign.status());
}

grpc::ServerUnaryReactor* CampaignServiceImpl::GetCampaign(grpc::CallbackServerContext* ctx,
                                                           const v1::GetCampaignRequest* request,
                                                           v1::Campaign* response) {
  if (absl::Status refused = CheckCall(*ctx, *authorizer_, security::Permission::kQuery,
                                       *request, &validation::ValidateGetCampaignRequest);
      !refused.ok()) {
    return FinishNow(ctx, refused);
  }
  absl::StatusOr<v1::Campaign> campaign = campaigns_->Get(request->campaign_id());
  if (campaign.ok()) *response = std::move(*campaign);
  return FinishNow(ctx, campaign.status());
}

grpc::ServerUnaryReactor* CampaignServiceImpl::ListCampaigns(
    grpc::CallbackServerContext* ctx, const v1::ListCampaignsRequest* request,
    v1::ListCampaignsResponse* response) {
  if (absl::Status refused = CheckCall(*ctx, *authorizer_, security::Permission::kQuery,
                                       *request, &validation::ValidateListCampaignsRequest);
      !refused.ok()) {
    return FinishNow(ctx, refused);
  }
  absl::StatusOr<std::vector<v1::Campaign>> list =
      campaigns_->List(static_cast<int>(request->limit()));
  if (list.ok()) {
    for (auto& c : *list) *response->add_campaigns() = std::move(c);
  }
  return FinishNow(ctx, list.status());
}

grpc::ServerUnaryReactor* CampaignServiceImpl::CancelCampaign(
    grpc::CallbackServerContext* ctx, const v1::CancelCampaignRequest* request,
    v1::Campaign* response) {
  if (absl::Status refused = CheckCall(*ctx, *authorizer_, security::Permission::kSubmit,
                                       *request, &validation::ValidateCancelCampaignRequest);
      !refused.ok()) {
    return FinishNow(ctx, refused);
  }
  absl::StatusOr<v1::Campaign> campaign = campaigns_->Cancel(request->campaign_id());
  if (campaign.ok()) *response = std::move(*campaign);
  return FinishNow(ctx, campaign.status());
}

grpc::ServerWriteReactor<v1::Campaign>* CampaignServiceImpl::WatchCampaign(
    grpc::CallbackServerContext* ctx, const v1::WatchCampaignRequest* request) {
  if (absl::Status refused = CheckCall(*ctx, *authorizer_, security::Permission::kQuery, *request,
                                       &validation::ValidateWatchCampaignRequest);
      !refused.ok()) {
    return new RefusedWatch(ToGrpcStatus(refused));
  }
  return new WatchReactor(hub_, request->campaign_id());
}

grpc::ServerUnaryReactor* CampaignServiceImpl::ListAgents(grpc::CallbackServerContext* ctx,
                                                          const v1::ListAgentsRequest* request,
                                                          v1::ListAgentsResponse* response) {
  if (absl::Status refused = CheckCall(*ctx, *authorizer_, security::Permission::kQuery,
                                       *request, &validation::ValidateListAgentsRequest);
      !refused.ok()) {
    return FinishNow(ctx, refused);
  }
  absl::StatusOr<std::vector<store::AgentRecord>> agents = fleet_->List(request->include_lost());
  if (agents.ok()) {
    for (const store::AgentRecord& a : *agents) *response->add_agents() = AgentInfoToProto(a);
  }
  return FinishNow(ctx, agents.status());
}

grpc::ServerUnaryReactor* CampaignServiceImpl::QueryResults(
    grpc::CallbackServerContext* ctx, const v1::QueryResultsRequest* request,
    v1::QueryResultsResponse* response) {
  if (absl::Status refused = CheckCall(*ctx, *authorizer_, security::Permission::kQuery,
                                       *request, &validation::ValidateQueryResultsRequest);
      !refused.ok()) {
    return FinishNow(ctx, refused);
  }
  absl::StatusOr<std::vector<store::StoredRunRecord>> runs =
      store_->QueryRuns(RunQueryFromProto(*request));
  if (runs.ok()) {
    for (store::StoredRunRecord& r : *runs) *response->add_runs() = StoredRunToProto(std::move(r));
  }
  return FinishNow(ctx, runs.status());
}

}  // namespace faultline::controller::service
