// faultline.v1.CampaignService over gRPC's callback API. Translates protos and calls Campaigns,
// Fleet, the store and the watch hub.
#ifndef FAULTLINE_CONTROLLER_SERVICE_CAMPAIGN_SERVICE_H_
#define FAULTLINE_CONTROLLER_SERVICE_CAMPAIGN_SERVICE_H_

#include "controller/scheduling/campaign_watch_hub.h"
#include "controller/scheduling/campaigns.h"
#include "controller/scheduling/fleet.h"
#include "controller/security/call_authorizer.h"
#include "controller/store/store.h"
#include "proto/faultline/v1/campaign_service.grpc.pb.h"

namespace faultline::controller::service {

class CampaignServiceImpl final : public v1::CampaignService::CallbackService {
 public:
  CampaignServiceImpl(scheduling::Campaigns* campaigns, scheduling::Fleet* fleet,
                      store::Store* store, scheduling::CampaignWatchHub* hub,
                      const security::CallAuthorizer* authorizer);

  grpc::ServerUnaryReactor* SubmitCampaign(grpc::CallbackServerContext* ctx,
                                           const v1::SubmitCampaignRequest* request,
                                           v1::Campaign* response) override;
  grpc::ServerUnaryReactor* GetCampaign(grpc::CallbackServerContext* ctx,
                                        const v1::GetCampaignRequest* request,
                                        v1::Campaign* response) override;
  grpc::ServerUnaryReactor* ListCampaigns(grpc::CallbackServerContext* ctx,
                                          const v1::ListCampaignsRequest* request,
                                          v1::ListCampaignsResponse* response) override;
  grpc::ServerUnaryReactor* CancelCampaign(grpc::CallbackServerContext* ctx,
                                           const v1::CancelCampaignRequest* request,
                                           v1::Campaign* response) override;
  grpc::ServerWriteReactor<v1::Campaign>* WatchCampaign(
      grpc::CallbackServerContext* ctx, const v1::WatchCampaignRequest* request) override;
  grpc::ServerUnaryReactor* ListAgents(grpc::CallbackServerContext* ctx,
                                       const v1::ListAgentsRequest* request,
                                       v1::ListAgentsResponse* response) override;
  grpc::ServerUnaryReactor* QueryResults(grpc::CallbackServerContext* ctx,
                                         const v1::QueryResultsRequest* request,
                                         v1::QueryResultsResponse* response) override;

 private:
  scheduling::Campaigns* const campaigns_;
  const security::CallAuthorizer* const authorizer_;
  scheduling::Fleet* const fleet_;
  store::Store* const store_;
  scheduling::CampaignWatchHub* const hub_;
};

}  // namespace faultline::controller::service

#endif  // FAULTLINE_CONTROLLER_SERVICE_CAMPAIGN_SERVICE_H_
