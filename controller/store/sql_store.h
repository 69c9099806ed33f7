// The Store on a SQL database: the logic both backends share, parameterised by a SqlDialect.
#ifndef FAULTLINE_CONTROLLER_STORE_SQL_STORE_H_
#define FAULTLINE_CONTROLLER_STORE_SQL_STORE_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "controller/store/sql_connection.h"
#include "controller/store/sql_dialect.h"
#include "controller/store/store.h"

namespace faultline::controller::store {

// Thread-safe: one connection, used under a mutex. Several SqlStores (in one process or in
// several controller replicas) may share a database; every state change is a conditional update
// or runs under row locks, so they never double-assign a job or store a result twice.
class SqlStore : public Store {
 public:
  // The schema version this build knows (the number of migrations).
  int KnownSchemaVersion() const { return static_cast<int>(dialect_.migrations.size()); }
  // The schema version of the open database.
  absl::StatusOr<int> SchemaVersion();

  absl::Status UpsertAgent(const AgentRecord& agent) override;
  absl::Status TouchAgent(const std::string& agent_id, int state,
                          const std::string& current_job_id, absl::Time now) override;
  absl::StatusOr<AgentRecord> GetAgent(const std::string& agent_id) override;
  absl::StatusOr<std::vector<AgentRecord>> ListAgents() override;

  absl::StatusOr<v1::Campaign> CreateCampaign(const v1::CampaignSpec& spec,
                                              const std::vector<v1::Job>& jobs,
                                              absl::Time now) override;
  absl::StatusOr<v1::Campaign> GetCampaign(const std::string& campaign_id) override;
  absl::StatusOr<std::vector<v1::Campaign>> ListCampaigns(int limit) override;
  absl::StatusOr<std::vector<v1::Job>> ListJobs(const std::string& campaign_id) override;
  absl::StatusOr<v1::Campaign> CancelCampaign(const std::string& campaign_id,
                                              absl::Time now) override;

  absl::StatusOr<std::vector<QueuedJob>> ListQueuedJobs(int limit) override;
  absl::StatusOr<std::map<int, int64_t>> CountQueuedJobsByPriority() override;
  absl::StatusOr<bool> LeaseJob(const std::string& job_id, const std::string& agent_id,
                                const std::string& lease_id, absl::Time deadline,
                                absl::Time now) override;
  absl::Status RenewLease(const std::string& job_id, const std::string& lease_id,
                          absl::Time deadline) override;
  absl::StatusOr<Lease> GetLease(const std::string& job_id) override;
  absl::StatusOr<bool> ReleaseLease(const std::string& job_id,
                                    const std::string& lease_id) override;
  absl::StatusOr<int> ExpireLeases(absl::Time now, uint32_t max_attempts) override;

  absl::StatusOr<v1::Job> GetJob(const std::string& job_id) override;
  absl::StatusOr<ReportOutcome> RecordFailureAndRequeue(const std::string& job_id,
                                                        uint32_t attempt,
                                                        const std::string& lease_id,
                                                        const std::string& agent_id,
                                                        const v1::RunResult& result,
                                                        absl::Time now) override;
  absl::StatusOr<ReportOutcome> RecordResult(const std::string& job_id, uint32_t attempt,
                                             const std::string& lease_id,
                                             const std::string& agent_id,
                                             const v1::RunResult& result,
                                             absl::Time now) override;
  absl::StatusOr<std::vector<StoredRunRecord>> QueryRuns(const RunQuery& query) override;

  absl::StatusOr<std::vector<SampleRecord>> QuerySamples(const SampleQuery& query) override;
  absl::StatusOr<std::vector<MetricSummary>> GetRunSummaries(int64_t run_id) override;
  absl::StatusOr<std::vector<ProfileRow>> GetRunProfile(int64_t run_id) override;
  absl::StatusOr<int64_t> PruneSamples(absl::Time older_than) override;

 protected:
  SqlStore(const SqlDialect& dialect, std::unique_ptr<SqlConnection> db);

  // Brings the schema up to KnownSchemaVersion(); FAILED_PRECONDITION when the database is newer.
  absl::Status Migrate();

 private:
  absl::StatusOr<ReportOutcome> StoreResult(const std::string& job_id, uint32_t attempt,
                                            const std::string& lease_id,
                                            const std::string& agent_id,
                                            const v1::RunResult& result, absl::Time now,
                                            bool requeue);
  // Runs `body` in a write transaction, committing when it succeeds and rolling back otherwise;
  // retried a few times when the database reports a serialisation failure or deadlock.
  absl::Status Transact(const std::function<absl::Status()>& body)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<v1::Campaign> ReadCampaign(const std::string& campaign_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<v1::CampaignProgress> CountProgress(const std::string& campaign_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Locks the campaign's row; NOT_FOUND when it does not exist. Returns its stored state.
  absl::StatusOr<std::string> LockCampaign(const std::string& campaign_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Sets the campaign's final state once none of its jobs is queued or running.
  absl::Status FinishCampaignIfDone(const std::string& campaign_id, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<bool> JobExists(const std::string& job_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Inside a transaction that queues or requeues jobs: tells the other replicas at its commit.
  absl::Status AnnounceJobsQueued() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The columns every sample of one run shares.
  struct SampleColumns {
    int64_t run_id;
    const std::string& benchmark;
    const std::string& arch;
    const std::string& kernel_label;
    const std::string& host_class;
    absl::Time time;
  };
  absl::Status InsertSampleRows(const SampleColumns& run, const v1::RunResult& result)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status InsertSamplesFromArrays(const SampleColumns& run, const v1::RunResult& result)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status InsertRows(const std::string& table, const std::vector<std::string>& columns,
                          const SqlParams& values) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const SqlDialect& dialect_;
  absl::Mutex mu_;
  std::unique_ptr<SqlConnection> db_ ABSL_GUARDED_BY(mu_);
};

// Converts a shell glob (`*`, `?`, `[...]`) to an anchored POSIX regular expression.
std::string GlobToRegex(const std::string& glob);

}  // namespace faultline::controller::store

#endif  // FAULTLINE_CONTROLLER_STORE_SQL_STORE_H_
