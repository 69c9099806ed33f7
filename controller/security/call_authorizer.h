// The gRPC side of access control: reads who is calling from a call's TLS peer and metadata and
// asks the AccessPolicy whether they may. Every service handler starts with one Check.
#ifndef FAULTLINE_CONTROLLER_SECURITY_CALL_AUTHORIZER_H_
#define FAULTLINE_CONTROLLER_SECURITY_CALL_AUTHORIZER_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "controller/security/access_policy.h"
#include "grpcpp/server_context.h"

namespace faultline::controller::security {

// The verified client certificate's common name (none unless the handshake verified one) and
// the bearer token of the "authorization" header.
CallerCredentials CredentialsOf(const grpc::ServerContextBase& context);

class CallAuthorizer {
 public:
  explicit CallAuthorizer(AccessPolicy policy) : policy_(std::move(policy)) {}

  // UNAUTHENTICATED or PERMISSION_DENIED with the reason; OK to go on.
  absl::Status Check(const grpc::ServerContextBase& context, Permission permission,
                     absl::string_view agent_id = {}) const;

  const AccessPolicy& policy() const { return policy_; }

 private:
  AccessPolicy policy_;
};

}  // namespace faultline::controller::security

#endif  // FAULTLINE_CONTROLLER_SECURITY_CALL_AUTHORIZER_H_
