// What agents say about the jobs they hold: lease renewals and results.
#ifndef FAULTLINE_CONTROLLER_SCHEDULING_JOB_REPORTS_H_
#define FAULTLINE_CONTROLLER_SCHEDULING_JOB_REPORTS_H_

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "controller/scheduling/clock.h"
#include "controller/scheduling/fleet.h"
#include "controller/store/store.h"

namespace faultline::controller::scheduling {

class JobReports {
 public:
  struct Options {
    absl::Duration lease = absl::Seconds(60);
  };

  // `on_change` runs after a result is stored (campaign progress changed). With a `fleet`, a
  // job whose first attempt failed is requeued to another live host that can run it, and only
  // marked failed when that second host fails too (both diagnostics kept); without one, or
  // when no other host exists, the first failure is final.
  JobReports(store::Store* store, Options options, Clock clock, std::function<void()> on_change,
             Fleet* fleet = nullptr);

  // Extends the caller's lease. FAILED_PRECONDITION when the lease is not the job's current one
  // or belongs to another agent: the agent must abandon the job.
  absl::StatusOr<absl::Time> Renew(const std::string& agent_id, const std::string& job_id,
                                   const std::string& lease_id);

  // An assignment whose poll was cancelled before it reached the agent (the agent drained or
  // went away): the job goes back to the queue now instead of when its lease lapses. Returns
  // whether it did (false: the lease was no longer current).
  absl::StatusOr<bool> ReleaseUndelivered(const std::string& job_id, const std::string& lease_id);

  // Validates (as ReportResult's handler does: the API's bounds, so a buggy agent cannot make
  // the controller store unbounded data) and stores a result. INVALID_ARGUMENT names the
  // malformed field, or the field that contradicts the job (benchmark, params) or the agent's
  // registration (host: kernel label and release, arch, host class); a duplicate or superseded
  // report is not an error (see ReportOutcome).
  absl::StatusOr<store::ReportOutcome> Report(const std::string& agent_id,
                                              const std::string& job_id, uint32_t attempt,
                                              const std::string& lease_id,
                                              const v1::RunResult& result);

 private:
  // Refuses a result whose host contradicts `agent_id`'s registration; else sets the host to it.
  absl::Status MatchRegistration(const std::string& agent_id, v1::RunResult* result);
  // Whether a failed attempt of `job_id` on `agent_id` should be confirmed on another host.
  bool ShouldConfirmElsewhere(const std::string& job_id, const std::string& agent_id);

  store::Store* const store_;
  const Options options_;
  const Clock clock_;
  const std::function<void()> on_change_;
  Fleet* const fleet_;
};

}  // namespace faultline::controller::scheduling

#endif  // FAULTLINE_CONTROLLER_SCHEDULING_JOB_REPORTS_H_
