// The gRPC side of access control: reads who is calling from a call's TLS peer and metadata and
// asks the AccessPolicy whether they may. Every service handler starts with one Check.
#ifndef FAULTLINE_CONTROLLER_SECURITY_CALL_AUTHORIZER_H_
#define FAULTLINE_CONTROLLER_SECURITY_CALL_AUTHORIZER_H_

#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "controller/security/access_policy.h"
#include "grpcpp/server_context.h"

namespace faultline::controller::security {

// The verified client certificate's common name (none unless the handshake verified one) and
// the bearer token of the "authorization" header.
CallerCredentials CredentialsOf(const grpc::ServerContextBase& context);

class CallAuthorizer {
 public:
  explicit CallAuthorizer(AccessPolicy policy)
      : policy_(std::make_shared<const AccessPolicy>(std::move(policy))) {}

  // UNAUTHENTICATED or PERMISSION_DENIED with the reason; OK to go on.
  absl::Status Check(const grpc::ServerContextBase& context, Permission permission,
                     absl::string_view agent_id = {}) const;

  // Swaps in a new policy for the calls that start from now on (a revoked token or certificate
  // is refused without a restart, which would drop every parked poll). An open policy cannot be
  // replaced, nor replace a closed one: that is a transport decision made at start.
  absl::Status Replace(AccessPolicy policy);

 private:
  std::shared_ptr<const AccessPolicy> current() const;

  mutable absl::Mutex mu_;
  std::shared_ptr<const AccessPolicy> policy_ ABSL_GUARDED_BY(mu_);
};

}  // namespace faultline::controller::security

#endif  // FAULTLINE_CONTROLLER_SECURITY_CALL_AUTHORIZER_H_
