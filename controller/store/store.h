// The controller's only state: agents, campaigns, jobs, leases, runs and samples. Every backend
// (SQLite by default, PostgreSQL for fleets) implements this interface; the scheduler and
// services hold no state of their own that a restart could lose.
#ifndef FAULTLINE_CONTROLLER_STORE_STORE_H_
#define FAULTLINE_CONTROLLER_STORE_STORE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "controller/store/queue_listener.h"
#include "proto/faultline/v1/benchmark.pb.h"
#include "proto/faultline/v1/campaign.pb.h"
#include "proto/faultline/v1/host.pb.h"

namespace faultline::controller::store {

// An agent's registration and liveness as stored.
struct AgentRecord {
  std::string agent_id;
  v1::HostFingerprint host;
  std::vector<v1::BenchmarkSpec> catalog;
  std::vector<std::string> tags;
  std::string agent_version;
  std::vector<std::string> provisionable_kernels;
  absl::Time registered;
  absl::Time last_seen;
  // The v1::AgentState enum value last reported (or LOST, set by the controller).
  int state = 0;
  std::string current_job_id;
};

// A job as the scheduler sees it, with what it needs to decide placement.
struct QueuedJob {
  v1::Job job;
  int priority = 0;  // v1::Priority of its campaign.
  absl::Time campaign_created;
};

// The lease a job is held under.
struct Lease {
  std::string job_id;
  std::string agent_id;
  std::string lease_id;
  uint32_t attempt = 0;
  absl::Time deadline;
};

enum class ReportOutcome {
  // The result was stored and the job finished.
  kStored,
  // The same (job, attempt) was stored before; nothing changed.
  kDuplicate,
  // The attempt is not the job's current lease (expired and requeued, cancelled, or another
  // agent's); nothing was stored.
  kStale,
};

// Filter for stored runs; empty fields match everything.
struct RunQuery {
  std::string campaign_id;
  std::string benchmark;
  int arch = 0;  // v1::Arch; 0 for any.
  std::string kernel_label_glob;
  std::string agent_id;
  int limit = 1000;
};

// One metric of one repetition of a stored run, as the samples table holds it.
struct SampleRecord {
  int64_t run_id = 0;
  uint32_t repetition = 0;
  std::string metric;
  std::string unit;
  int direction = 0;  // v1::Direction.
  double value = 0;
  std::string benchmark;
  int arch = 0;  // v1::Arch.
  std::string kernel_label;
  std::string host_class;
  // When the run started.
  absl::Time time;
};

// Filter for samples; empty fields match everything. Ordered by time, run, repetition.
struct SampleQuery {
  std::string benchmark;
  std::string metric;
  int arch = 0;  // v1::Arch; 0 for any.
  std::string kernel_label_glob;
  std::string host_class;
  int64_t run_id = 0;  // 0 for any.
  absl::Time since = absl::InfinitePast();
  absl::Time until = absl::InfiniteFuture();
  int limit = 100000;
};

// Aggregate of one metric over the repetitions of one run, computed when the run is stored and
// kept when its raw samples are pruned.
struct MetricSummary {
  int64_t run_id = 0;
  std::string metric;
  std::string unit;
  int direction = 0;  // v1::Direction.
  int64_t count = 0;
  double mean = 0;
  double median = 0;
  double min = 0;
  double max = 0;
  // Sample standard deviation (n - 1); 0 for a single repetition.
  double stddev = 0;
};

// One kernel function of a stored run's profile, as the run_profiles table holds it.
struct ProfileRow {
  std::string function;
  uint64_t self_samples = 0;
  uint64_t total_samples = 0;
  // The profile's samples in all: the base of the function's share.
  uint64_t samples = 0;
};

struct StoredRunRecord {
  int64_t run_id = 0;
  std::string campaign_id;
  std::string job_id;
  uint32_t attempt = 0;
  std::string agent_id;
  std::string target_name;
  v1::RunResult result;
  absl::Time stored;
};

class Store {
 public:
  virtual ~Store() = default;

  // --- Agents ---
  // Inserts or replaces an agent's registration (keeps `registered` of an existing agent).
  virtual absl::Status UpsertAgent(const AgentRecord& agent) = 0;
  // NOT_FOUND when the agent never registered.
  virtual absl::Status TouchAgent(const std::string& agent_id, int state,
                                  const std::string& current_job_id, absl::Time now) = 0;
  virtual absl::StatusOr<AgentRecord> GetAgent(const std::string& agent_id) = 0;
  virtual absl::StatusOr<std::vector<AgentRecord>> ListAgents() = 0;

  // --- Campaigns ---
  // Stores a campaign and all its jobs in one transaction, assigning the campaign id and job ids
  // ("<campaign id>/j-<n>"); `jobs` carry invocation, target, target_index, pinned agent and
  // sequence. Returns the stored campaign.
  virtual absl::StatusOr<v1::Campaign> CreateCampaign(const v1::CampaignSpec& spec,
                                                      const std::vector<v1::Job>& jobs,
                                                      absl::Time now) = 0;
  // With progress counted from its jobs. NOT_FOUND for an unknown id.
  virtual absl::StatusOr<v1::Campaign> GetCampaign(const std::string& campaign_id) = 0;
  // Newest first.
  virtual absl::StatusOr<std::vector<v1::Campaign>> ListCampaigns(int limit) = 0;
  virtual absl::StatusOr<std::vector<v1::Job>> ListJobs(const std::string& campaign_id) = 0;
  // Cancels queued and running jobs and marks the campaign cancelled (no-op when final).
  virtual absl::StatusOr<v1::Campaign> CancelCampaign(const std::string& campaign_id,
                                                      absl::Time now) = 0;

  // --- Scheduling ---
  // Queued jobs, highest priority first, then oldest campaign, then sequence.
  virtual absl::StatusOr<std::vector<QueuedJob>> ListQueuedJobs(int limit) = 0;
  // Queued jobs counted by campaign priority (v1::Priority value); priorities with none are
  // absent. A count, not a listing: a metrics scrape then costs the same at ten queued jobs or
  // ten million, and is never cut short by a listing limit.
  virtual absl::StatusOr<std::map<int, int64_t>> CountQueuedJobsByPriority() = 0;
  // Atomically moves a QUEUED job to RUNNING under a new lease (attempt + 1). Returns false, not
  // an error, when another caller took it first (or the job is no longer queued): safe with
  // several controllers on one store. NOT_FOUND for an unknown job.
  virtual absl::StatusOr<bool> LeaseJob(const std::string& job_id, const std::string& agent_id,
                                        const std::string& lease_id, absl::Time deadline,
                                        absl::Time now) = 0;
  // Extends a held lease. FAILED_PRECONDITION when the lease is not the job's current one.
  virtual absl::Status RenewLease(const std::string& job_id, const std::string& lease_id,
                                  absl::Time deadline) = 0;
  // NOT_FOUND for an unknown job or one that is not RUNNING under a lease.
  virtual absl::StatusOr<Lease> GetLease(const std::string& job_id) = 0;
  // Puts a RUNNING job whose lease `lease_id` is current back in the queue as if that lease had
  // never been granted (its attempt does not count): for an assignment the agent never received.
  // Returns false, not an error, when the lease is not current (nothing changed).
  virtual absl::StatusOr<bool> ReleaseLease(const std::string& job_id,
                                            const std::string& lease_id) {
    return absl::UnimplementedError("ReleaseLease is not implemented by this store");
  }
  // Requeues RUNNING jobs whose lease deadline passed; a job that already used `max_attempts`
  // attempts becomes FAILED. Returns the number of jobs touched.
  virtual absl::StatusOr<int> ExpireLeases(absl::Time now, uint32_t max_attempts) = 0;

  // --- Results ---
  // Records the result of (job_id, attempt) in one transaction: the run, its samples, the job's
  // final state (SUCCEEDED, FAILED or SKIPPED from the result's state) and, when it was the
  // campaign's last open job, the campaign's final state. Stores only when `lease_id` is the
  // job's current lease; idempotent per (job_id, attempt). A failed run appends
  // "attempt <n> on <agent>: <RUN_STATE_...>: <diagnostic>" to the job's diagnostic.
  virtual absl::StatusOr<ReportOutcome> RecordResult(const std::string& job_id, uint32_t attempt,
                                                     const std::string& lease_id,
                                                     const std::string& agent_id,
                                                     const v1::RunResult& result,
                                                     absl::Time now) = 0;
  // Newest first. INVALID_ARGUMENT for a limit below 1.
  virtual absl::StatusOr<std::vector<StoredRunRecord>> QueryRuns(const RunQuery& query) = 0;

  // One job with its current state. NOT_FOUND for an unknown id.
  virtual absl::StatusOr<v1::Job> GetJob(const std::string& job_id) = 0;
  // RecordResult for a failed attempt that should be confirmed on another host: stores the run
  // (with its diagnostic) the same way, but puts the job back in the queue with `agent_id` added
  // to its excluded_agent_ids instead of failing it. Same lease checks and idempotency.
  virtual absl::StatusOr<ReportOutcome> RecordFailureAndRequeue(
      const std::string& job_id, uint32_t attempt, const std::string& lease_id,
      const std::string& agent_id, const v1::RunResult& result, absl::Time now) = 0;

  // --- Samples and retention ---
  // Not pure so that test fakes of Store need not implement them.
  virtual absl::StatusOr<std::vector<SampleRecord>> QuerySamples(const SampleQuery& query) {
    return absl::UnimplementedError("QuerySamples is not implemented by this store");
  }
  // Per-metric summaries of one run, by metric name. NOT_FOUND for an unknown run.
  virtual absl::StatusOr<std::vector<MetricSummary>> GetRunSummaries(int64_t run_id) {
    return absl::UnimplementedError("GetRunSummaries is not implemented by this store");
  }
  // The kernel profile of one run, most total samples first; empty for a run without one.
  // NOT_FOUND for an unknown run.
  virtual absl::StatusOr<std::vector<ProfileRow>> GetRunProfile(int64_t run_id) {
    return absl::UnimplementedError("GetRunProfile is not implemented by this store");
  }
  // Deletes the raw samples of runs started before `older_than`: their sample rows and the
  // repetitions inside their stored RunResult. Run metadata and per-run summaries stay. Returns
  // the number of sample rows deleted.
  virtual absl::StatusOr<int64_t> PruneSamples(absl::Time older_than) {
    return absl::UnimplementedError("PruneSamples is not implemented by this store");
  }

  // --- Work queued by other writers ---
  // A listener woken whenever a writer to this database (another controller replica included)
  // queues or requeues jobs. UNIMPLEMENTED when the backend cannot tell (SQLite: in practice
  // one controller process writes its file); callers then rescan the queue periodically.
  virtual absl::StatusOr<std::unique_ptr<QueueListener>> ListenForQueuedJobs() {
    return absl::UnimplementedError("this store does not announce queued jobs");
  }
};

}  // namespace faultline::controller::store

#endif  // FAULTLINE_CONTROLLER_STORE_STORE_H_
