#include "controller/scheduling/job_reports.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "controller/scheduling/param_validation.h"
#include "controller/scheduling/target_matcher.h"
#include "google/protobuf/util/message_differencer.h"
#include "controller/validation/request_validation.h"

namespace faultline::controller::scheduling {
namespace {

absl::Status Invalid(const std::string& field, const std::string& reason) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", reason));
}

// The job says what was run: a result naming another benchmark, or other parameter values, is
// not a result of this job (an agent's bug, or a lease holder relabelling its run).
absl::Status MatchJob(const v1::Job& job, v1::RunResult* result) {
  const v1::BenchmarkInvocation& invocation = job.invocation();
  if (result->benchmark() != invocation.benchmark()) {
    return Invalid("result.benchmark", absl::StrCat("\"", result->benchmark(), "\" is not job ",
                                                    job.id(), "'s benchmark \"",
                                                    invocation.benchmark(), "\""));
  }
  for (const auto& [name, value] : result->params()) {
    auto wanted = invocation.params().find(name);
    if (wanted == invocation.params().end()) {
      return Invalid(absl::StrCat("result.params.", name),
                     absl::StrCat("job ", job.id(), " has no parameter \"", name, "\""));
    }
    if (!google::protobuf::util::MessageDifferencer::Equals(value, wanted->second)) {
      return Invalid(absl::StrCat("result.params.", name),
                     absl::StrCat(FormatParamValue(value), " is not job ", job.id(), "'s value ",
                                  FormatParamValue(wanted->second)));
    }
  }
  *result->mutable_params() = invocation.params();
  return absl::OkStatus();
}

// Of the fields runs are selected and compared by, the first the report sets to something else
// than the registration. One it leaves unset is taken from the registration like the rest.
std::string DifferingHostField(const v1::HostFingerprint& reported,
                               const v1::HostFingerprint& registered) {
  auto differs = [](const std::string& a, const std::string& b) { return !a.empty() && a != b; };
  if (differs(reported.kernel_label(), registered.kernel_label())) return "kernel_label";
  if (differs(reported.kernel_release(), registered.kernel_release())) return "kernel_release";
  if (reported.arch() != v1::ARCH_UNSPECIFIED && reported.arch() != registered.arch()) {
    return "arch";
  }
  if (differs(reported.host_class(), registered.host_class())) return "host_class";
  return "";
}

std::string HostFieldValue(const v1::HostFingerprint& host, const std::string& field) {
  if (field == "kernel_label") return host.kernel_label();
  if (field == "kernel_release") return host.kernel_release();
  if (field == "arch") return v1::Arch_Name(host.arch());
  return host.host_class();
}

}  // namespace

absl::Status JobReports::MatchRegistration(const std::string& agent_id, v1::RunResult* result) {
  // The cached record first; a replica may have taken a re-registration (after provisioning)
  // since, so a mismatch is checked against the store before it is refused.
  std::shared_ptr<const store::AgentRecord> cached;
  if (fleet_ != nullptr) {
    absl::StatusOr<std::shared_ptr<const store::AgentRecord>> shared = fleet_->GetShared(agent_id);
    if (shared.ok()) cached = *shared;
  }
  store::AgentRecord fresh;
  if (cached == nullptr || !DifferingHostField(result->host(), cached->host).empty()) {
    absl::StatusOr<store::AgentRecord> stored = store_->GetAgent(agent_id);
    if (!stored.ok()) return stored.status();
    fresh = *std::move(stored);
  }
  const v1::HostFingerprint& registered = fresh.agent_id.empty() ? cached->host : fresh.host;
  if (const std::string field = DifferingHostField(result->host(), registered); !field.empty()) {
    return Invalid(absl::StrCat("result.host.", field),
                   absl::StrCat("\"", HostFieldValue(result->host(), field),
                                "\" is not what agent ", agent_id, " registered (\"",
                                HostFieldValue(registered, field),
                                "\"); an agent that changed kernels registers again first"));
  }
  *result->mutable_host() = registered;
  return absl::OkStatus();
}

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

absl::StatusOr<bool> JobReports::ReleaseUndelivered(const std::string& job_id,
                                                    const std::string& lease_id) {
  absl::StatusOr<bool> released = store_->ReleaseLease(job_id, lease_id);
  if (released.ok() && *released && on_change_) on_change_();
  return released;
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
  // What is stored of the current lease holder's run comes from the job (benchmark, parameters;
  // the store takes the target from it too) and from the agent's registration (the host), so
  // a holder cannot file its run under another benchmark or kernel. Late reports of lost
  // leases are not stored, so they need no check.
  v1::RunResult checked = result;
  if (lease.ok() && lease->lease_id == lease_id) {
    absl::StatusOr<v1::Job> job = store_->GetJob(job_id);
    if (!job.ok()) return job.status();
    if (absl::Status s = MatchJob(*job, &checked); !s.ok()) return s;
    if (absl::Status s = MatchRegistration(agent_id, &checked); !s.ok()) return s;
  }
  // A host-specific failure (crash, timeout, error, refusal) is confirmed on a second host
  // before the job is failed: one broken box must not fail a kernel.
  const bool failed = result.state() != v1::RUN_STATE_OK && result.state() != v1::RUN_STATE_SKIPPED;
  absl::StatusOr<store::ReportOutcome> outcome =
      failed && lease.ok() && lease->lease_id == lease_id &&
              ShouldConfirmElsewhere(job_id, agent_id)
          ? store_->RecordFailureAndRequeue(job_id, attempt, lease_id, agent_id, checked,
                                            clock_())
          : store_->RecordResult(job_id, attempt, lease_id, agent_id, checked, clock_());
  if (outcome.ok() && *outcome == store::ReportOutcome::kStored && on_change_) on_change_();
  return outcome;
}

}  // namespace faultline::controller::scheduling
