#include "controller/service/agent_proto.h"

#include "controller/scheduling/target_matcher.h"
#include "controller/store/store_encoding.h"

namespace faultline::controller::service {

store::AgentRecord AgentRecordFromProto(const v1::RegisterRequest& request) {
  store::AgentRecord agent;
  agent.agent_id = request.agent_id();
  agent.host = request.host();
  agent.catalog.assign(request.catalog().begin(), request.catalog().end());
  agent.tags.assign(request.tags().begin(), request.tags().end());
  agent.agent_version = request.agent_version();
  agent.provisionable_kernels.assign(request.provisionable_kernels().begin(),
                                     request.provisionable_kernels().end());
  agent.state = v1::AGENT_STATE_IDLE;
  return agent;
}

v1::Assignment AssignmentToProto(const scheduling::LeasedJob& leased,
                                 const store::AgentRecord& agent) {
  v1::Assignment a;
  *a.mutable_job() = leased.job;
  a.set_lease_id(leased.lease_id);
  *a.mutable_lease_deadline() = store::ToProtoTime(leased.deadline);
  a.set_required_kernel_label(
      scheduling::KernelLabelFor(leased.job.target(), agent).value_or(agent.host.kernel_label()));
  return a;
}

void ReportOutcomeToProto(store::ReportOutcome outcome, v1::ReportResultResponse* response) {
  switch (outcome) {
    case store::ReportOutcome::kStored:
      response->set_stored(true);
      break;
    case store::ReportOutcome::kDuplicate:
      response->set_detail("duplicate: this attempt's result is already stored");
      break;
    case store::ReportOutcome::kStale:
      response->set_detail("discarded: the attempt no longer holds the job's lease");
      break;
  }
}

}  // namespace faultline::controller::service
