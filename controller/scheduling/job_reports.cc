#include "controller/scheduling/job_reports.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "controller/scheduling/target_matcher.h"
#include "controller/validation/request_validation.h"

namespace faultline::controller::scheduling {
namespace {

absl::Status Invalid(const std::string& field, const std::string& reason) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", reason));
}

}  // namespace

JobReports::JobReports(store::Store* store, Options options, Clock clock,
                       std::function<void()> on_change, Fleet* fleet)
    : store_(store),
      options_(options),
      clock_(std::move(clock)),
      on_change_(std::move(on_change)),
      fleet_(fleet) {}

bool JobReports::ShouldConfirmElsewhere(const std::string& job_id,
                                        const std::string& agent_id) {
  if (fleet_ == nullptr) return false;
  absl::StatusOr<v1::Job> job = store_->GetJob(job_id);
  // Confirm once: a job already barred from one host has failed on two after this attempt.
  if (!job.ok() || job->excluded_agent_ids_size() > 0) return false;
  absl::StatusOr<std::vector<store::AgentRecord>> agents = fleet_->List(/*include_lost=*/false);
  if (!agents.ok()) return false;
  for (const store::AgentRecord& other : *agents) {
    if (other.agent_id != agent_id && AgentCanRunJob(*job, other)) return true;
  }
  return false;
}

absl::StatusOr<absl::Time> JobReports::Renew(const std::string& agent_id,
                                             const std::string& job_id,
                                             const std::string& lease_id) {
  if (job_id.empty()) return Invalid("job_id", "must be set");
  if (lease_id.empty()) return Invalid("lease_id", "must be set");
  absl::StatusOr<store::Lease> lease = store_->GetLease(job_id);
  if (absl::IsNotFound(lease.status())) {
    // Expired and requeued, finished, cancelled or unknown: either way the agent must stop.
    return absl::FailedPreconditionError(lease.status().message());
  }
  if (!lease.ok()) return lease.status();
  if (lease->lease_id != lease_id || lease->agent_id != agent_id) {
    return absl::FailedPreconditionError(
        absl::StrCat("job ", job_id, ": lease ", lease_id,
                     " is not held by agent ", agent_id, " (expired, revoked or never granted)"));
  }
  const absl::Time deadline = clock_() + options_.lease;
  if (absl::Status s = store_->RenewLease(job_id, lease_id, deadline); !s.ok()) return s;
  return deadline;
}

absl::StatusOr<store::ReportOutcome> JobReports::Report(const std::string& agent_id,
                                                        const std::string& job_id, uint32_t attempt,
                                                        const std::string& lease_id,
                                                        const v1::RunResult& result) {
  if (job_id.empty()) return Invalid("job_id", "must be set");
  if (attempt == 0) return Invalid("attempt", "must be at least 1");
  if (lease_id.empty()) return Invalid("lease_id", "must be set");
  if (absl::Status s = validation::ValidateRunResult(result, "result"); !s.ok()) return s;
  absl::StatusOr<store::Lease> lease = store_->GetLease(job_id);
  if (!lease.ok() && !absl::IsNotFound(lease.status())) return lease.status();
  // A report carrying another agent's lease is refused outright: lease ids are secrets, so
  // this is a confused or malicious agent, not a late one.
  if (lease.ok() && lease->lease_id == lease_id && lease->agent_id != agent_id) {
    return absl::PermissionDeniedError(
        absl::StrCat("job ", job_id, ": lease belongs to another agent"));
  }
  // A host-specific failure (crash, timeout, error, refusal) is confirmed on a second host
  // before the job is failed: one broken box must not fail a kernel.
  const bool failed = result.state() != v1::RUN_STATE_OK && result.state() != v1::RUN_STATE_SKIPPED;
  absl::StatusOr<store::ReportOutcome> outcome =
      failed && lease.ok() && lease->lease_id == lease_id &&
              ShouldConfirmElsewhere(job_id, agent_id)
          ? store_->RecordFailureAndRequeue(job_id, attempt, lease_id, agent_id, result, clock_())
          : store_->RecordResult(job_id, attempt, lease_id, agent_id, result, clock_());
  if (outcome.ok() && *outcome == store::ReportOutcome::kStored && on_change_) on_change_();
  return outcome;
}

}  // namespace faultline::controller::scheduling
