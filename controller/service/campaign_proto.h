// CampaignService messages <-> the domain's and the store's records.
#ifndef FAULTLINE_CONTROLLER_SERVICE_CAMPAIGN_PROTO_H_
#define FAULTLINE_CONTROLLER_SERVICE_CAMPAIGN_PROTO_H_

#include "controller/store/store.h"
#include "proto/faultline/v1/campaign_service.pb.h"

namespace faultline::controller::service {

v1::AgentInfo AgentInfoToProto(const store::AgentRecord& agent);

// An unset limit is the API's documented default of 1000 runs.
store::RunQuery RunQueryFromProto(const v1::QueryResultsRequest& request);
v1::StoredRun StoredRunToProto(store::StoredRunRecord run);

}  // namespace faultline::controller::service

#endif  // FAULTLINE_CONTROLLER_SERVICE_CAMPAIGN_PROTO_H_
