// faultline.v1.AgentService over gRPC's callback API: a parked PollWork holds no thread.
// Translates protos and calls Fleet, WorkDispatcher and JobReports.
#ifndef FAULTLINE_CONTROLLER_SERVICE_AGENT_SERVICE_H_
#define FAULTLINE_CONTROLLER_SERVICE_AGENT_SERVICE_H_

#include "controller/scheduling/fleet.h"
#include "controller/scheduling/job_reports.h"
#include "controller/scheduling/work_dispatcher.h"
#include "controller/security/call_authorizer.h"
#include "controller/service/admission_control.h"
#include "proto/faultline/v1/agent_service.grpc.pb.h"

namespace faultline::controller::service {

class AgentServiceImpl final : public v1::AgentService::CallbackService {
 public:
  AgentServiceImpl(scheduling::Fleet* fleet, scheduling::WorkDispatcher* dispatcher,
                   scheduling::JobReports* reports, absl::Duration lease, scheduling::Clock clock,
                   const security::CallAuthorizer* authorizer);

  // Bounds on store-touching calls and on parked polls; call before serving. Unset: none.
  void SetAdmission(AgentAdmission admission) { admission_ = std::move(admission); }

  grpc::ServerUnaryReactor* Register(grpc::CallbackServerContext* ctx,
                                     const v1::RegisterRequest* request,
                                     v1::RegisterResponse* response) override;
  grpc::ServerUnaryReactor* Heartbeat(grpc::CallbackServerContext* ctx,
                                      const v1::HeartbeatRequest* request,
                                      v1::HeartbeatResponse* response) override;
  grpc::ServerUnaryReactor* PollWork(grpc::CallbackServerContext* ctx,
                                     const v1::PollWorkRequest* request,
                                     v1::PollWorkResponse* response) override;
  grpc::ServerUnaryReactor* RenewLease(grpc::CallbackServerContext* ctx,
                                       const v1::RenewLeaseRequest* request,
                                       v1::RenewLeaseResponse* response) override;
  grpc::ServerUnaryReactor* ReportResult(grpc::CallbackServerContext* ctx,
                                         const v1::ReportResultRequest* request,
                                         v1::ReportResultResponse* response) override;

 private:
  scheduling::Fleet* const fleet_;
  scheduling::WorkDispatcher* const dispatcher_;
  scheduling::JobReports* const reports_;
  const absl::Duration lease_;
  const scheduling::Clock clock_;
  AgentAdmission admission_;
  const security::CallAuthorizer* const authorizer_;
};

}  // namespace faultline::controller::service

#endif  // FAULTLINE_CONTROLLER_SERVICE_AGENT_SERVICE_H_
