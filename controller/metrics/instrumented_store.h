// A Store that forwards to another and records, for every call, its latency and errors, and
// for the calls that move jobs through their lifecycle (lease, result, lease expiry) the job
// counters. Wrapping the store keeps the domain classes free of metrics code.
#ifndef FAULTLINE_CONTROLLER_METRICS_INSTRUMENTED_STORE_H_
#define FAULTLINE_CONTROLLER_METRICS_INSTRUMENTED_STORE_H_

#include <memory>
#include <string>
#include <vector>

#include "controller/metrics/controller_metrics.h"
#include "controller/store/store.h"

namespace faultline::controller::metrics {

class InstrumentedStore final : public store::Store {
 public:
  // Both must outlive this.
  InstrumentedStore(store::Store* store, ControllerMetrics* metrics);

  absl::Status UpsertAgent(const store::AgentRecord& agent) override;
  absl::Status TouchAgent(const std::string& agent_id, int state,
                          const std::string& current_job_id, absl::Time now) override;
  absl::StatusOr<store::AgentRecord> GetAgent(const std::string& agent_id) override;
  absl::StatusOr<std::vector<store::AgentRecord>> ListAgents() override;
  absl::StatusOr<v1::Campaign> CreateCampaign(const v1::CampaignSpec& spec,
                                              const std::vector<v1::Job>& jobs,
                                              absl::Time now) override;
  absl::StatusOr<v1::Campaign> GetCampaign(const std::string& campaign_id) override;
  absl::StatusOr<std::vector<v1::Campaign>> ListCampaigns(int limit) override;
  absl::StatusOr<std::vector<v1::Job>> ListJobs(const std::string& campaign_id) override;
  absl::StatusOr<v1::Campaign> CancelCampaign(const std::string& campaign_id,
                                              absl::Time now) override;
  absl::StatusOr<std::vector<store::QueuedJob>> ListQueuedJobs(int limit) override;
  absl::StatusOr<std::map<int, int64_t>> CountQueuedJobsByPriority() override;
  absl::StatusOr<bool> LeaseJob(const std::string& job_id, const std::string& agent_id,
                                const std::string& lease_id, absl::Time deadline,
                                absl::Time now) override;
  absl::Status RenewLease(const std::string& job_id, const std::string& lease_id,
                          absl::Time deadline) override;
  absl::StatusOr<store::Lease> GetLease(const std::string& job_id) override;
  absl::StatusOr<bool> ReleaseLease(const std::string& job_id,
                                    const std::string& lease_id) override;
  absl::StatusOr<int> ExpireLeases(absl::Time now, uint32_t max_attempts) override;
  absl::StatusOr<store::ReportOutcome> RecordResult(const std::string& job_id, uint32_t attempt,
                                                    const std::string& lease_id,
                                                    const std::string& agent_id,
                                                    const v1::RunResult& result,
                                                    absl::Time now) override;
  absl::StatusOr<std::vector<store::StoredRunRecord>> QueryRuns(
      const store::RunQuery& query) override;
  absl::StatusOr<std::vector<store::SampleRecord>> QuerySamples(
      const store::SampleQuery& query) override;
  absl::StatusOr<v1::Job> GetJob(const std::string& job_id) override;
  absl::StatusOr<store::ReportOutcome> RecordFailureAndRequeue(
      const std::string& job_id, uint32_t attempt, const std::string& lease_id,
      const std::string& agent_id, const v1::RunResult& result, absl::Time now) override;
  absl::StatusOr<std::vector<store::MetricSummary>> GetRunSummaries(int64_t run_id) override;
  absl::StatusOr<std::vector<store::ProfileRow>> GetRunProfile(int64_t run_id) override;
  absl::StatusOr<int64_t> PruneSamples(absl::Time older_than) override;
  absl::StatusOr<std::unique_ptr<store::QueueListener>> ListenForQueuedJobs() override;

 private:
  template <typename F>
  auto Timed(const char* operation, F&& call);

  store::Store* const store_;
  ControllerMetrics* const metrics_;
};

}  // namespace faultline::controller::metrics

#endif  // FAULTLINE_CONTROLLER_METRICS_INSTRUMENTED_STORE_H_
