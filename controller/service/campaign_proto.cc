#include "controller/service/campaign_proto.h"

#include <utility>

#include "controller/store/store_encoding.h"

namespace faultline::controller::service {

v1::AgentInfo AgentInfoToProto(const store::AgentRecord& agent) {
  v1::AgentInfo info;
  info.set_agent_id(agent.agent_id);
  *info.mutable_host() = agent.host;
  for (const auto& b : agent.catalog) *info.add_catalog() = b;
  for (const auto& t : agent.tags) info.add_tags(t);
  info.set_agent_version(agent.agent_version);
  info.set_state(static_cast<v1::AgentState>(agent.state));
  *info.mutable_registered() = store::ToProtoTime(agent.registered);
  *info.mutable_last_seen() = store::ToProtoTime(agent.last_seen);
  info.set_current_job_id(agent.current_job_id);
  return info;
}

store::RunQuery RunQueryFromProto(const v1::QueryResultsRequest& request) {
  store::RunQuery query;
  query.campaign_id = request.campaign_id();
  query.benchmark = request.benchmark();
  query.arch = request.arch();
  query.kernel_label_glob = request.kernel_label();
  query.agent_id = request.agent_id();
  query.limit = request.limit() == 0 ? 1000 : static_cast<int>(request.limit());
  return query;
}

v1::StoredRun StoredRunToProto(store::StoredRunRecord run) {
  v1::StoredRun out;
  out.set_run_id(run.run_id);
  out.set_campaign_id(run.campaign_id);
  out.set_job_id(run.job_id);
  out.set_attempt(run.attempt);
  out.set_agent_id(run.agent_id);
  out.set_target_name(run.target_name);
  *out.mutable_result() = std::move(run.result);
  *out.mutable_stored() = store::ToProtoTime(run.stored);
  return out;
}

}  // namespace faultline::controller::service
