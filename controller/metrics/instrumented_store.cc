#include "controller/metrics/instrumented_store.h"

#include "absl/time/clock.h"

namespace faultline::controller::metrics {
namespace {

const absl::Status& StatusOf(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& StatusOf(const absl::StatusOr<T>& s) {
  return s.status();
}

}  // namespace

InstrumentedStore::InstrumentedStore(store::Store* store, ControllerMetrics* metrics)
    : store_(store), metrics_(metrics) {}

template <typename F>
auto InstrumentedStore::Timed(const char* operation, F&& call) {
  const absl::Time start = absl::Now();
  auto result = call();
  // "Not implemented" is a property of the backend, not a failing store.
  const absl::Status& status = StatusOf(result);
  const bool ok = status.ok() || absl::IsUnimplemented(status);
  metrics_->RecordStoreOperation(operation, absl::Now() - start, ok);
  return result;
}

absl::Status InstrumentedStore::UpsertAgent(const store::AgentRecord& agent) {
  return Timed("upsert_agent", [&] { return store_->UpsertAgent(agent); });
}

absl::Status InstrumentedStore::TouchAgent(const std::string& agent_id, int state,
                                           const std::string& current_job_id, absl::Time now) {
  return Timed("touch_agent",
               [&] { return store_->TouchAgent(agent_id, state, current_job_id, now); });
}

absl::StatusOr<store::AgentRecord> InstrumentedStore::GetAgent(const std::string& agent_id) {
  return Timed("get_agent", [&] { return store_->GetAgent(agent_id); });
}

absl::StatusOr<std::vector<store::AgentRecord>> InstrumentedStore::ListAgents() {
  return Timed("list_agents", [&] { return store_->ListAgents(); });
}

absl::StatusOr<v1::Campaign> InstrumentedStore::CreateCampaign(const v1::CampaignSpec& spec,
                                                               const std::vector<v1::Job>& jobs,
                                                               absl::Time now) {
  return Timed("create_campaign", [&] { return store_->CreateCampaign(spec, jobs, now); });
}

absl::StatusOr<v1::Campaign> InstrumentedStore::GetCampaign(const std::string& campaign_id) {
  return Timed("get_campaign", [&] { return store_->GetCampaign(campaign_id); });
}

absl::StatusOr<std::vector<v1::Campaign>> InstrumentedStore::ListCampaigns(int limit) {
  return Timed("list_campaigns", [&] { return store_->ListCampaigns(limit); });
}

absl::StatusOr<std::vector<v1::Job>> InstrumentedStore::ListJobs(
    const std::string& campaign_id) {
  return Timed("list_jobs", [&] { return store_->ListJobs(campaign_id); });
}

absl::StatusOr<v1::Campaign> InstrumentedStore::CancelCampaign(const std::string& campaign_id,
                                                               absl::Time now) {
  return Timed("cancel_campaign", [&] { return store_->CancelCampaign(campaign_id, now); });
}

absl::StatusOr<std::vector<store::QueuedJob>> InstrumentedStore::ListQueuedJobs(int limit) {
  return Timed("list_queued_jobs", [&] { return store_->ListQueuedJobs(limit); });
}

absl::StatusOr<std::map<int, int64_t>> InstrumentedStore::CountQueuedJobsByPriority() {
  return Timed("count_queued_jobs", [&] { return store_->CountQueuedJobsByPriority(); });
}

absl::StatusOr<bool> InstrumentedStore::LeaseJob(const std::string& job_id,
                                                 const std::string& agent_id,
                                                 const std::string& lease_id,
                                                 absl::Time deadline, absl::Time now) {
  absl::StatusOr<bool> won = Timed(
      "lease_job", [&] { return store_->LeaseJob(job_id, agent_id, lease_id, deadline, now); });
  if (won.ok() && *won) metrics_->JobStarted();
  return won;
}

absl::Status InstrumentedStore::RenewLease(const std::string& job_id,
                                           const std::string& lease_id, absl::Time deadline) {
  return Timed("renew_lease", [&] { return store_->RenewLease(job_id, lease_id, deadline); });
}

absl::StatusOr<store::Lease> InstrumentedStore::GetLease(const std::string& job_id) {
  return Timed("get_lease", [&] { return store_->GetLease(job_id); });
}

absl::StatusOr<int> InstrumentedStore::ExpireLeases(absl::Time now, uint32_t max_attempts) {
  absl::StatusOr<int> n =
      Timed("expire_leases", [&] { return store_->ExpireLeases(now, max_attempts); });
  if (n.ok()) metrics_->LeasesExpired(*n);
  return n;
}

absl::StatusOr<store::ReportOutcome> InstrumentedStore::RecordResult(
    const std::string& job_id, uint32_t attempt, const std::string& lease_id,
    const std::string& agent_id, const v1::RunResult& result, absl::Time now) {
  absl::StatusOr<store::ReportOutcome> outcome = Timed("record_result", [&] {
    return store_->RecordResult(job_id, attempt, lease_id, agent_id, result, now);
  });
  if (outcome.ok()) {
    switch (*outcome) {
      case store::ReportOutcome::kStored:
        metrics_->JobFinished(result.state());
        break;
      case store::ReportOutcome::kDuplicate:
        metrics_->ResultDiscarded("duplicate");
        break;
      case store::ReportOutcome::kStale:
        metrics_->ResultDiscarded("stale");
        break;
    }
  }
  return outcome;
}

absl::StatusOr<v1::Job> InstrumentedStore::GetJob(const std::string& job_id) {
  return Timed("get_job", [&] { return store_->GetJob(job_id); });
}

absl::StatusOr<store::ReportOutcome> InstrumentedStore::RecordFailureAndRequeue(
    const std::string& job_id, uint32_t attempt, const std::string& lease_id,
    const std::string& agent_id, const v1::RunResult& result, absl::Time now) {
  absl::StatusOr<store::ReportOutcome> outcome = Timed("record_result", [&] {
    return store_->RecordFailureAndRequeue(job_id, attempt, lease_id, agent_id, result, now);
  });
  if (outcome.ok() && *outcome == store::ReportOutcome::kStored) {
    metrics_->JobRequeued("failed_on_host");
  }
  return outcome;
}

absl::StatusOr<std::vector<store::StoredRunRecord>> InstrumentedStore::QueryRuns(
    const store::RunQuery& query) {
  return Timed("query_runs", [&] { return store_->QueryRuns(query); });
}

absl::StatusOr<std::vector<store::SampleRecord>> InstrumentedStore::QuerySamples(
    const store::SampleQuery& query) {
  return Timed("query_samples", [&] { return store_->QuerySamples(query); });
}

absl::StatusOr<std::vector<store::MetricSummary>> InstrumentedStore::GetRunSummaries(
    int64_t run_id) {
  return Timed("get_run_summaries", [&] { return store_->GetRunSummaries(run_id); });
}

absl::StatusOr<std::vector<store::ProfileRow>> InstrumentedStore::GetRunProfile(int64_t run_id) {
  return Timed("get_run_profile", [&] { return store_->GetRunProfile(run_id); });
}

absl::StatusOr<int64_t> InstrumentedStore::PruneSamples(absl::Time older_than) {
  return Timed("prune_samples", [&] { return store_->PruneSamples(older_than); });
}

absl::StatusOr<bool> InstrumentedStore::ReleaseLease(const std::string& job_id,
                                                     const std::string& lease_id) {
  absl::StatusOr<bool> released =
      Timed("release_lease", [&] { return store_->ReleaseLease(job_id, lease_id); });
  if (released.ok() && *released) metrics_->JobRequeued("undelivered");
  return released;
}

absl::StatusOr<std::unique_ptr<store::QueueListener>> InstrumentedStore::ListenForQueuedJobs() {
  // Not timed: it opens a connection and its Await blocks by design.
  return store_->ListenForQueuedJobs();
}

}  // namespace faultline::controller::metrics
