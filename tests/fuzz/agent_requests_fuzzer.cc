// Every RPC request's validation (controller/validation/request_validation.h), and what an
// agent can send that the domain validates before the store: Register (agent id, catalog) and
// ReportResult (result shape and bounds), through Fleet and JobReports over a fake store. Must
// not crash; a request validator refuses with INVALID_ARGUMENT whose message starts with a field
// of the request; a domain refusal is INVALID_ARGUMENT (or PERMISSION_DENIED for another agent's lease)
// and never reaches the store; and a request its validator accepted is never refused by the
// domain as malformed (the handler's check is at least as strict as the domain's).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "controller/scheduling/fleet.h"
#include "controller/scheduling/job_reports.h"
#include "controller/service/agent_proto.h"
#include "controller/validation/request_validation.h"
#include "proto/faultline/v1/agent_service.pb.h"
#include "proto/faultline/v1/analysis.pb.h"
#include "proto/faultline/v1/campaign_service.pb.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

using faultline::controller::store::AgentRecord;
using faultline::controller::store::Lease;
using faultline::controller::store::ReportOutcome;
using faultline::controller::store::StoredRunRecord;

// Records which writes arrived; the job "c-1/j-1" is leased to agent "x86-a" under "lease-1".
class FakeStore : public faultline::controller::store::Store {
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
  absl::StatusOr<std::vector<faultline::controller::store::QueuedJob>> ListQueuedJobs(
      int) override {
    return absl::UnimplementedError("fake");
  }
  absl::StatusOr<std::map<int, int64_t>> CountQueuedJobsByPriority() override {
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
      const faultline::controller::store::RunQuery&) override {
    return absl::UnimplementedError("fake");
  }
  // A report is checked against its job: this store knows none, so every report that gets that
  // far is refused without a write. (Without a fleet, JobReports never confirms a failure
  // elsewhere: RecordFailureAndRequeue is not reached.)
  absl::StatusOr<faultline::v1::Job> GetJob(const std::string&) override {
    return absl::NotFoundError("job");
  }
  absl::StatusOr<ReportOutcome> RecordFailureAndRequeue(const std::string&, uint32_t,
                                                        const std::string&, const std::string&,
                                                        const faultline::v1::RunResult&,
                                                        absl::Time) override {
    return absl::UnimplementedError("fake");
  }
};

faultline::controller::scheduling::Fleet::Options FleetOptions() {
  faultline::controller::scheduling::Fleet::Options options;
  options.heartbeat_flush_interval = absl::ZeroDuration();  // No flusher thread per input.
  return options;
}

void CheckRegister(const faultline::v1::RegisterRequest& request) {
  FakeStore store;
  faultline::controller::scheduling::Fleet fleet(
      &store, FleetOptions(), [] { return absl::UnixEpoch(); }, nullptr);
  // The record the Register handler builds from the request.
  const absl::Status status =
      fleet.Register(faultline::controller::service::AgentRecordFromProto(request));
  if (!status.ok() &&
      faultline::controller::validation::ValidateRegisterRequest(request).ok()) {
    std::abort();
  }
  if (status.ok()) {
    if (store.writes != 1) std::abort();
    if (!faultline::controller::validation::ValidateAgentId(request.agent_id(), "agent_id").ok()) {
      std::abort();
    }
    return;
  }
  if (status.code() != absl::StatusCode::kInvalidArgument || store.writes != 0) std::abort();
}

void CheckReport(const faultline::v1::ReportResultRequest& request) {
  FakeStore store;
  faultline::controller::scheduling::JobReports reports(
      &store, faultline::controller::scheduling::JobReports::Options(),
      [] { return absl::UnixEpoch(); }, nullptr);
  absl::StatusOr<ReportOutcome> outcome =
      reports.Report(request.agent_id(), request.job_id(), request.attempt(),
                     request.lease_id(), request.result());
  if (outcome.status().code() == absl::StatusCode::kInvalidArgument &&
      faultline::controller::validation::ValidateReportResultRequest(request).ok()) {
    std::abort();
  }
  if (outcome.ok()) {
    if (store.writes != 1) std::abort();
    return;
  }
  const absl::StatusCode code = outcome.status().code();
  if (code != absl::StatusCode::kInvalidArgument &&
      code != absl::StatusCode::kPermissionDenied && code != absl::StatusCode::kNotFound &&
      code != absl::StatusCode::kFailedPrecondition) {
    std::abort();
  }
  if (store.writes != 0) std::abort();
}

// A validator's verdict: OK, or INVALID_ARGUMENT "<field of the request>...: reason".
void CheckValidation(const google::protobuf::Message& request, const absl::Status& status) {
  if (status.ok()) return;
  if (status.code() != absl::StatusCode::kInvalidArgument) std::abort();
  const absl::string_view message = status.message();
  const size_t end = message.find_first_of(".[:");
  if (end == absl::string_view::npos || end == 0) std::abort();
  const std::string field(message.substr(0, end));
  if (request.GetDescriptor()->FindFieldByName(field) == nullptr) std::abort();
}

template <typename Request>
void Validate(const uint8_t* data, size_t size, absl::Status (*validate)(const Request&)) {
  Request request;
  if (faultline::fuzz::ParseRequest(data, size, &request)) {
    CheckValidation(request, validate(request));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The first byte picks the request, so one corpus covers them all: 'R' Register, lower-case
  // letters the other requests, anything else ReportResult.
  if (size == 0) return 0;
  namespace c = faultline::controller::validation;
  namespace v1 = faultline::v1;
  const uint8_t* body = data + 1;
  const size_t n = size - 1;
  switch (data[0]) {
    case 'h': Validate<v1::HeartbeatRequest>(body, n, c::ValidateHeartbeatRequest); return 0;
    case 'p': Validate<v1::PollWorkRequest>(body, n, c::ValidatePollWorkRequest); return 0;
    case 'l': Validate<v1::RenewLeaseRequest>(body, n, c::ValidateRenewLeaseRequest); return 0;
    case 's':
      Validate<v1::SubmitCampaignRequest>(body, n, c::ValidateSubmitCampaignRequest);
      return 0;
    case 'g': Validate<v1::GetCampaignRequest>(body, n, c::ValidateGetCampaignRequest); return 0;
    case 'i':
      Validate<v1::ListCampaignsRequest>(body, n, c::ValidateListCampaignsRequest);
      return 0;
    case 'c':
      Validate<v1::CancelCampaignRequest>(body, n, c::ValidateCancelCampaignRequest);
      return 0;
    case 'w':
      Validate<v1::WatchCampaignRequest>(body, n, c::ValidateWatchCampaignRequest);
      return 0;
    case 'q':
      Validate<v1::QueryResultsRequest>(body, n, c::ValidateQueryResultsRequest);
      return 0;
    case 'm': Validate<v1::CompareRequest>(body, n, c::ValidateCompareRequest); return 0;
    case 'k':
      Validate<v1::ChangePointsRequest>(body, n, c::ValidateChangePointsRequest);
      return 0;
    case 't': Validate<v1::GateRequest>(body, n, c::ValidateGateRequest); return 0;
    default:
      break;
  }
  if (data[0] == 'R') {
    v1::RegisterRequest request;
    if (faultline::fuzz::ParseRequest(body, n, &request)) {
      CheckValidation(request, c::ValidateRegisterRequest(request));
      CheckRegister(request);
    }
  } else {
    v1::ReportResultRequest request;
    if (faultline::fuzz::ParseRequest(body, n, &request)) {
      CheckValidation(request, c::ValidateReportResultRequest(request));
      CheckReport(request);
    }
  }
  return 0;
}
