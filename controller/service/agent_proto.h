// AgentService messages <-> the domain's records: what Register stores, what PollWork hands out
// and what ReportResult answers.
#ifndef FAULTLINE_CONTROLLER_SERVICE_AGENT_PROTO_H_
#define FAULTLINE_CONTROLLER_SERVICE_AGENT_PROTO_H_

#include "controller/scheduling/scheduler.h"
#include "controller/store/store.h"
#include "proto/faultline/v1/agent_service.pb.h"

namespace faultline::controller::service {

// An idle agent as the request describes it; the fleet sets the times.
store::AgentRecord AgentRecordFromProto(const v1::RegisterRequest& request);

// `leased` as `agent` receives it: with the kernel it must run on, its own or one it must
// provision first.
v1::Assignment AssignmentToProto(const scheduling::LeasedJob& leased,
                                 const store::AgentRecord& agent);

void ReportOutcomeToProto(store::ReportOutcome outcome, v1::ReportResultResponse* response);

}  // namespace faultline::controller::service

#endif  // FAULTLINE_CONTROLLER_SERVICE_AGENT_PROTO_H_
