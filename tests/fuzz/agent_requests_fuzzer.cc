// What an agent can send that is validated before the store: Register (agent id, catalog) and
// ReportResult (result shape and bounds), through Fleet and JobReports over a fake store. Must
// not crash; a refusal is INVALID_ARGUMENT (or PERMISSION_DENIED for another agent's lease), and
// a refused request never reaches the store.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "controller/fleet.h"
#include "controller/job_reports.h"
#include "proto/faultline/v1/agent_service.pb.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

using faultline::controller::AgentRecord;
using faultline::controller::Lease;
using faultline::controller::ReportOutcome;
using faultline::controller::StoredRunRecord;

// Records which writes arrived; the job "c-1/j-1" is leased to agent "x86-a" under "lease-1".
class FakeStore : public faultline::controller::Store {
 public:
  int writes = 0;

  absl::Status UpsertAgent(const AgentRecord&) override {
    ++writes;
    return absl::OkStatus();
  }
  absl::Status TouchAgent(const std::string&, int, const std::string&, absl::Time) override {
    return absl::OkStatus();
  }
  absl::StatusOr<AgentRecord> GetAgent(const std::string&) override {
    return absl::NotFoundError("agent");
  }
  absl::StatusOr<std::vector<AgentRecord>> ListAgents() override {
    return std::vector<AgentRecord>();
  }
  absl::StatusOr<faultline::v1::Campaign> CreateCampaign(const faultline::v1::CampaignSpec&,
                                                         const std::vector<faultline::v1::Job>&,
                                                         absl::Time) override {
    return absl::UnimplementedError("fake");
  }
  absl::StatusOr<faultline::v1::Campaign> GetCampaign(const std::string&) override {
    return absl::UnimplementedError("fake");
  }
  absl::StatusOr<std::vector<faultline::v1::Campaign>> ListCampaigns(int) override {
    return absl::UnimplementedError("fake");
  }
  absl::StatusOr<std::vector<faultline::v1::Job>> ListJobs(const std::string&) override {
    return absl::UnimplementedError("fake");
  }
  absl::StatusOr<faultline::v1::Campaign> CancelCampaign(const std::string&,
                                                         absl::Time) override {
    return absl::UnimplementedError("fake");
  }
  absl::StatusOr<std::vector<faultline::controller::QueuedJob>> ListQueuedJobs(int) override {
    return absl::UnimplementedError("fake");
  }
  absl::StatusOr<bool> LeaseJob(const std::string&, const std::string&, const std::string&,
                                absl::Time, absl::Time) override {
    return absl::UnimplementedError("fake");
  }
  absl::Status RenewLease(const std::string&, const std::string&, absl::Time) override {
    return absl::OkStatus();
  }
  absl::StatusOr<Lease> GetLease(const std::string& job_id) override {
    if (job_id != "c-1/j-1") return absl::NotFoundError("no lease");
    Lease lease;
    lease.job_id = job_id;
    lease.agent_id = "x86-a";
    lease.lease_id = "lease-1";
    lease.attempt = 1;
    lease.deadline = absl::InfiniteFuture();
    return lease;
  }
  absl::StatusOr<int> ExpireLeases(absl::Time, uint32_t) override { return 0; }
  absl::StatusOr<ReportOutcome> RecordResult(const std::string& job_id, uint32_t,
                                             const std::string& lease_id, const std::string&,
                                             const faultline::v1::RunResult&,
                                             absl::Time) override {
    ++writes;
    return job_id == "c-1/j-1" && lease_id == "lease-1" ? ReportOutcome::kStored
                                                         : ReportOutcome::kStale;
  }
  absl::StatusOr<std::vector<StoredRunRecord>> QueryRuns(
      const faultline::controller::RunQuery&) override {
    return absl::UnimplementedError("fake");
  }
};

faultline::controller::Fleet::Options FleetOptions() {
  faultline::controller::Fleet::Options options;
  options.heartbeat_flush_interval = absl::ZeroDuration();  // No flusher thread per input.
  return options;
}

void CheckRegister(const faultline::v1::RegisterRequest& request) {
  FakeStore store;
  faultline::controller::Fleet fleet(&store, FleetOptions(), [] { return absl::UnixEpoch(); },
                                     nullptr);
  AgentRecord agent;
  agent.agent_id = request.agent_id();
  agent.host = request.host();
  agent.catalog.assign(request.catalog().begin(), request.catalog().end());
  agent.tags.assign(request.tags().begin(), request.tags().end());
  agent.agent_version = request.agent_version();
  agent.provisionable_kernels.assign(request.provisionable_kernels().begin(),
                                     request.provisionable_kernels().end());
  agent.state = faultline::v1::AGENT_STATE_IDLE;
  const absl::Status status = fleet.Register(std::move(agent));
  if (status.ok()) {
    if (store.writes != 1) std::abort();
    if (!faultline::controller::ValidateAgentId(request.agent_id(), "agent_id").ok()) {
      std::abort();
    }
    return;
  }
  if (status.code() != absl::StatusCode::kInvalidArgument || store.writes != 0) std::abort();
}

void CheckReport(const faultline::v1::ReportResultRequest& request) {
  FakeStore store;
  faultline::controller::JobReports reports(&store, faultline::controller::JobReports::Options(),
                                            [] { return absl::UnixEpoch(); }, nullptr);
  absl::StatusOr<ReportOutcome> outcome =
      reports.Report(request.agent_id(), request.job_id(), request.attempt(),
                     request.lease_id(), request.result());
  if (outcome.ok()) {
    if (store.writes != 1) std::abort();
    return;
  }
  const absl::StatusCode code = outcome.status().code();
  if (code != absl::StatusCode::kInvalidArgument &&
      code != absl::StatusCode::kPermissionDenied) {
    std::abort();
  }
  if (store.writes != 0) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The first byte picks the request, so one corpus covers both.
  if (size == 0) return 0;
  if (data[0] == 'R') {
    faultline::v1::RegisterRequest request;
    if (faultline::fuzz::ParseRequest(data + 1, size - 1, &request)) CheckRegister(request);
  } else {
    faultline::v1::ReportResultRequest request;
    if (faultline::fuzz::ParseRequest(data + 1, size - 1, &request)) CheckReport(request);
  }
  return 0;
}
