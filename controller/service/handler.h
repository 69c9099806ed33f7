// What every handler of the three services shares: absl::Status <-> grpc::Status (the domain
// speaks absl, only the services see gRPC), and the checks a call opens with.
#ifndef FAULTLINE_CONTROLLER_SERVICE_HANDLER_H_
#define FAULTLINE_CONTROLLER_SERVICE_HANDLER_H_

#include <string>

#include "absl/status/status.h"
#include "controller/security/call_authorizer.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/server_callback.h"
#include "grpcpp/support/status.h"

namespace faultline::controller::service {

inline grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  // absl and gRPC share the canonical code numbering.
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

// Ends a unary call that does no asynchronous work.
inline grpc::ServerUnaryReactor* FinishNow(grpc::CallbackServerContext* ctx,
                                           const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

// The checks a call opens with, in this order so that a caller without the permission learns
// nothing about what a valid request looks like: the caller holds `permission`, then `validate`
// accepts the request. OK to go on; otherwise the status to finish the call with.
template <typename Request>
absl::Status CheckCall(const grpc::CallbackServerContext& ctx,
                       const security::CallAuthorizer& authorizer,
                       security::Permission permission, const Request& request,
                       absl::Status (*validate)(const Request&)) {
  if (absl::Status denied = authorizer.Check(ctx, permission); !denied.ok()) return denied;
  return validate(request);
}

// The same for an AgentService call: the caller must be the agent the request names.
template <typename Request>
absl::Status CheckAgentCall(const grpc::CallbackServerContext& ctx,
                            const security::CallAuthorizer& authorizer, const Request& request,
                            absl::Status (*validate)(const Request&)) {
  if (absl::Status denied =
          authorizer.Check(ctx, security::Permission::kAgent, request.agent_id());
      !denied.ok()) {
    return denied;
  }
  return validate(request);
}

}  // namespace faultline::controller::service

#endif  // FAULTLINE_CONTROLLER_SERVICE_HANDLER_H_
