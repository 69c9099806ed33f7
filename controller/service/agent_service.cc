#include "controller/service/agent_service.h"

#include <cstdio>
#include <string>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "controller/service/agent_proto.h"
#include "controller/service/handler.h"
#include "controller/store/store_encoding.h"
#include "controller/validation/request_validation.h"

namespace faultline::controller::service {
namespace {

constexpr uint32_t kDefaultPollWaitSeconds = 20;

// A permit from `control`, or an empty one when the RPC is unbounded.
absl::StatusOr<AdmissionControl::Permit> Admit(AdmissionControl* control) {
  if (control == nullptr) return AdmissionControl::Permit();
  return control->TryAdmit();
}

// Sends a refusal's retry hint as trailing metadata too, so clients need not parse text.
grpc::ServerUnaryReactor* Refuse(grpc::CallbackServerContext* ctx,
                                 const AgentAdmission& admission, const std::string& rpc,
                                 const absl::Status& refusal) {
  if (admission.rejected) admission.rejected(rpc);
  if (std::optional<absl::Duration> hint = ParseRetryAfter(std::string(refusal.message()))) {
    ctx->AddTrailingMetadata(kRetryAfterKey, absl::StrCat(absl::ToInt64Milliseconds(*hint)));
  }
  return FinishNow(ctx, refusal);
}

}  // namespace

AgentServiceImpl::AgentServiceImpl(scheduling::Fleet* fleet, scheduling::WorkDispatcher* dispatcher,
                                   scheduling::JobReports* reports, absl::Duration lease,
                                   scheduling::Clock clock,
                                   const security::CallAuthorizer* authorizer)
    : fleet_(fleet),
      dispatcher_(dispatcher),
      reports_(reports),
      lease_(lease),
      clock_(std::move(clock)),
      authorizer_(authorizer) {}

grpc::ServerUnaryReactor* AgentServiceImpl::Register(grpc::CallbackServerContext* ctx,
                                                     const v1::RegisterRequest* request,
                                                     v1::RegisterResponse* response) {
  if (absl::Status refused =
          CheckAgentCall(*ctx, *authorizer_, *request, &validation::ValidateRegisterRequest);
      !refused.ok()) {
    return FinishNow(ctx, refused);
  }
  absl::StatusOr<AdmissionControl::Permit> permit = Admit(admission_.registers);
  if (!permit.ok()) return Refuse(ctx, admission_, "Register", permit.status());
  absl::Status s = fleet_->Register(AgentRecordFromProto(*request));
  if (s.ok()) {
    response->set_heartbeat_interval_seconds(
        static_cast<uint32_t>(absl::ToInt64Seconds(fleet_->options().heartbeat_interval)));
    response->set_lease_seconds(static_cast<uint32_t>(absl::ToInt64Seconds(lease_)));
  }
  return FinishNow(ctx, s);
}

grpc::ServerUnaryReactor* AgentServiceImpl::Heartbeat(grpc::CallbackServerContext* ctx,
                                                      const v1::HeartbeatRequest* request,
                                                      v1::HeartbeatResponse* response) {
  if (absl::Status refused =
          CheckAgentCall(*ctx, *authorizer_, *request, &validation::ValidateHeartbeatRequest);
      !refused.ok()) {
    return FinishNow(ctx, refused);
  }
  absl::StatusOr<bool> known =
      fleet_->Heartbeat(request->agent_id(), request->state(), request->job_id());
  if (known.ok()) response->set_reregister(!*known);
  return FinishNow(ctx, known.status());
}

namespace {

// Finishes a PollWork. A poll the agent cancelled (a drain, SIGTERM: the agent stops waiting)
// may have been given a job just before or while the cancellation arrived; the job never
// reached the agent, so it is released at once instead of holding a lease nobody renews.
class PollReactor : public grpc::ServerUnaryReactor {
 public:
  PollReactor(grpc::CallbackServerContext* ctx, scheduling::JobReports* reports)
      : ctx_(ctx), reports_(reports) {}

  // Before Finish.
  void Assigned(std::string job_id, std::string lease_id) {
    job_id_ = std::move(job_id);
    lease_id_ = std::move(lease_id);
  }

  void OnCancel() override {}

  void OnDone() override {
    // IsCancelled: the call failed before its status reached the client, so the assignment did
    // not reach it either (gRPC's ServerContextBase::IsCancelled).
    if (!job_id_.empty() && ctx_->IsCancelled()) {
      absl::StatusOr<bool> released = reports_->ReleaseUndelivered(job_id_, lease_id_);
      if (!released.ok()) {
        std::fprintf(stderr, "PollWork: job %s assigned to a cancelled poll: %s\n",
                     job_id_.c_str(), released.status().ToString().c_str());
      }
    }
    delete this;
  }

 private:
  grpc::CallbackServerContext* const ctx_;
  scheduling::JobReports* const reports_;
  std::string job_id_;
  std::string lease_id_;
};

}  // namespace

grpc::ServerUnaryReactor* AgentServiceImpl::PollWork(grpc::CallbackServerContext* ctx,
                                                     const v1::PollWorkRequest* request,
                                                     v1::PollWorkResponse* response) {
  if (absl::Status refused =
          CheckAgentCall(*ctx, *authorizer_, *request, &validation::ValidatePollWorkRequest);
      !refused.ok()) {
    return FinishNow(ctx, refused);
  }
  absl::StatusOr<std::shared_ptr<const store::AgentRecord>> agent =
      fleet_->GetShared(request->agent_id());
  if (!agent.ok()) {
    if (absl::IsNotFound(agent.status())) {
      return FinishNow(ctx, absl::NotFoundError(absl::StrCat(
                                "agent_id: ", request->agent_id(), " is not registered")));
    }
    return FinishNow(ctx, agent.status());
  }
  // Liveness comes from heartbeats alone: a poll writes nothing, so thousands of agents
  // re-polling at once cost no store writes.
  const uint32_t wait =
      request->wait_seconds() == 0 ? kDefaultPollWaitSeconds : request->wait_seconds();
  // End empty polls at a jittered 80-100% of the wait: agents that all polled at once (a
  // controller restart, a fleet boot) then come back spread out instead of as one herd.
  thread_local absl::BitGen gen;
  const absl::Duration jittered = absl::Seconds(wait) * absl::Uniform(gen, 0.8, 1.0);
  auto* reactor = new PollReactor(ctx, reports_);
  const bool parked = dispatcher_->Wait(
      *agent, clock_() + jittered,
      [reactor, response, agent = *agent](
          absl::StatusOr<std::optional<scheduling::LeasedJob>> leased) {
        if (leased.ok() && leased->has_value()) {
          *response->mutable_assignment() = AssignmentToProto(**leased, *agent);
          reactor->Assigned((*leased)->job.id(), (*leased)->lease_id);
        }
        reactor->Finish(ToGrpcStatus(leased.status()));
      });
  if (!parked) {
    // The dispatcher is full: no work now, and a spread-out wait before the next poll.
    if (admission_.rejected) admission_.rejected("PollWork");
    const absl::Duration wait = admission_.poll_retry_after * absl::Uniform(gen, 0.5, 1.5);
    ctx->AddTrailingMetadata(kRetryAfterKey, absl::StrCat(absl::ToInt64Milliseconds(wait)));
    reactor->Finish(grpc::Status::OK);
  }
  return reactor;
}

grpc::ServerUnaryReactor* AgentServiceImpl::RenewLease(grpc::CallbackServerContext* ctx,
                                                       const v1::RenewLeaseRequest* request,
                                                       v1::RenewLeaseResponse* response) {
  if (absl::Status refused =
          CheckAgentCall(*ctx, *authorizer_, *request, &validation::ValidateRenewLeaseRequest);
      !refused.ok()) {
    return FinishNow(ctx, refused);
  }
  absl::StatusOr<absl::Time> deadline =
      reports_->Renew(request->agent_id(), request->job_id(), request->lease_id());
  if (deadline.ok()) *response->mutable_lease_deadline() = store::ToProtoTime(*deadline);
  return FinishNow(ctx, deadline.status());
}

grpc::ServerUnaryReactor* AgentServiceImpl::ReportResult(grpc::CallbackServerContext* ctx,
                                                         const v1::ReportResultRequest* request,
                                                         v1::ReportResultResponse* response) {
  if (absl::Status refused =
          CheckAgentCall(*ctx, *authorizer_, *request, &validation::ValidateReportResultRequest);
      !refused.ok()) {
    return FinishNow(ctx, refused);
  }
  absl::StatusOr<AdmissionControl::Permit> permit = Admit(admission_.reports);
  if (!permit.ok()) return Refuse(ctx, admission_, "ReportResult", permit.status());
  absl::StatusOr<store::ReportOutcome> outcome =
      reports_->Report(request->agent_id(), request->job_id(), request->attempt(),
                       request->lease_id(), request->result());
  if (outcome.ok()) ReportOutcomeToProto(*outcome, response);
  return FinishNow(ctx, outcome.status());
}

}  // namespace faultline::controller::service
