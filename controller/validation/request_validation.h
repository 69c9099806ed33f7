// Shape checks for every RPC request, run before a handler touches the domain or the store.
//
// Each function takes one request message and returns OK, or INVALID_ARGUMENT whose message
// starts with the offending field's path in the request and says what was wrong, e.g.
// "result.repetitions[3].metrics: 300 metrics, at most 256". Checks here need nothing but the
// request: whether an agent is registered or a lease still held is the domain's business.
// A request these accept may still be refused by the domain (unknown campaign, no matching
// agent), but never for a bound listed here.
#ifndef FAULTLINE_CONTROLLER_REQUEST_VALIDATION_H_
#define FAULTLINE_CONTROLLER_REQUEST_VALIDATION_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "controller/validation/limits.h"
#include "google/protobuf/message.h"
#include "proto/faultline/v1/agent_service.pb.h"
#include "proto/faultline/v1/analysis.pb.h"
#include "proto/faultline/v1/campaign_service.pb.h"

namespace faultline::controller::validation {


// --- AgentService ---
absl::Status ValidateRegisterRequest(const v1::RegisterRequest& request);
absl::Status ValidateHeartbeatRequest(const v1::HeartbeatRequest& request);
absl::Status ValidatePollWorkRequest(const v1::PollWorkRequest& request);
absl::Status ValidateRenewLeaseRequest(const v1::RenewLeaseRequest& request);
absl::Status ValidateReportResultRequest(const v1::ReportResultRequest& request);

// --- CampaignService ---
absl::Status ValidateSubmitCampaignRequest(const v1::SubmitCampaignRequest& request);
absl::Status ValidateGetCampaignRequest(const v1::GetCampaignRequest& request);
absl::Status ValidateListCampaignsRequest(const v1::ListCampaignsRequest& request);
absl::Status ValidateCancelCampaignRequest(const v1::CancelCampaignRequest& request);
absl::Status ValidateWatchCampaignRequest(const v1::WatchCampaignRequest& request);
absl::Status ValidateListAgentsRequest(const v1::ListAgentsRequest& request);
absl::Status ValidateQueryResultsRequest(const v1::QueryResultsRequest& request);

// --- AnalysisService ---
absl::Status ValidateCompareRequest(const v1::CompareRequest& request);
absl::Status ValidateChangePointsRequest(const v1::ChangePointsRequest& request);
// Also parses the policy: a parse error reads "policy: line 3: ...".
absl::Status ValidateGateRequest(const v1::GateRequest& request);

// Building blocks, for the domain and the store, which take these messages from callers other
// than the services too, and for tests that check single fields.

// 1..kMaxIdentifierLength characters of [A-Za-z0-9._:@/-] (`required`), or that or empty.
absl::Status ValidateIdentifier(absl::string_view value, absl::string_view field, bool required);
// An agent id: 1..kMaxIdentifierLength characters of [A-Za-z0-9._:-]. The one check of it: the
// agent runs it on its --agent_id before dialing, the services on every request, Fleet on what
// it stores.
absl::Status ValidateAgentId(absl::string_view agent_id, absl::string_view field);
// INVALID_ARGUMENT naming the first string field under `field` (at any depth, in repeated
// fields and maps too) that is not valid UTF-8, e.g. "spec.targets[0].kernel_label: not valid
// UTF-8". Clients run it before sending: proto3 strings must be UTF-8, so the server cannot even
// decode such a request, let alone say which field was wrong.
absl::Status ValidateUtf8Strings(const google::protobuf::Message& message,
                                 absl::string_view field);
// A CampaignSpec's shape under `field` (e.g. "spec"): everything PlanCampaign checks that does
// not depend on the registered agents, plus string and map bounds. `targets_required` is false
// for a gate's campaign, whose targets the controller makes.
absl::Status ValidateCampaignSpecShape(const v1::CampaignSpec& spec, const std::string& field,
                                       bool targets_required);
// A run's result under `field` (e.g. "result"): bounds, finite numbers, and what the store keys
// samples by: repetition indexes and, within a repetition, metric names appear once each.
absl::Status ValidateRunResult(const v1::RunResult& result, const std::string& field);

}  // namespace faultline::controller::validation

#endif  // FAULTLINE_CONTROLLER_REQUEST_VALIDATION_H_
