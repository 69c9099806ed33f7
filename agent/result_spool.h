// Durable queue of results waiting for the controller's acknowledgement. Each (job, attempt) is
// one fsynced file whose name starts with a sequence number, so results survive an agent crash or
// a controller outage and are delivered in the order they were produced.
#ifndef FAULTLINE_AGENT_RESULT_SPOOL_H_
#define FAULTLINE_AGENT_RESULT_SPOOL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "proto/faultline/v1/agent_service.pb.h"

namespace faultline::agent {

class ResultSpool {
 public:
  struct Entry {
    // File name inside the spool directory, e.g. "00000000000000000007-c-000001_j-0003-a2.report".
    std::string name;
    v1::ReportResultRequest report;
  };

  // Opens (creating if needed) the spool directory. Leftover temporary files from a crash in the
  // middle of Add are removed.
  static absl::StatusOr<std::unique_ptr<ResultSpool>> Open(const std::string& dir);

  // Durably stores `report` (written to a temporary file, fsynced, renamed, directory fsynced).
  // A report for a (job_id, attempt) already spooled replaces it in place, keeping its position.
  absl::StatusOr<std::string> Add(const v1::ReportResultRequest& report);

  // Spooled reports, oldest first. Files that do not parse are moved to "rejected/" and skipped.
  absl::StatusOr<std::vector<Entry>> List();

  // Drops an acknowledged report.
  absl::Status Remove(const std::string& name);

  // Moves a report the controller refused for good to "rejected/" for an operator to inspect.
  absl::Status Reject(const std::string& name);

  // Number of spooled reports.
  size_t Count();

  const std::string& dir() const { return dir_; }

 private:
  explicit ResultSpool(std::string dir, uint64_t next_sequence)
      : dir_(std::move(dir)), next_sequence_(next_sequence) {}

  absl::StatusOr<std::vector<std::string>> ReportFiles() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status RejectLocked(const std::string& name) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string dir_;
  absl::Mutex mu_;
  uint64_t next_sequence_ ABSL_GUARDED_BY(mu_);
};

// The part of a spool file name that identifies (job_id, attempt): "c-000001_j-0003-a2".
std::string SpoolKey(const std::string& job_id, uint32_t attempt);

}  // namespace faultline::agent

#endif  // FAULTLINE_AGENT_RESULT_SPOOL_H_
