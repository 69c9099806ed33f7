#include "controller/security/call_authorizer.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "grpcpp/security/auth_context.h"

namespace faultline::controller::security {

CallerCredentials CredentialsOf(const grpc::ServerContextBase& context) {
  CallerCredentials credentials;
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth != nullptr && auth->IsPeerAuthenticated()) {
    std::vector<grpc::string_ref> names = auth->FindPropertyValues("x509_common_name");
    if (!names.empty()) {
      credentials.certificate_common_name = std::string(names.front().data(), names.front().size());
    }
  }
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it != metadata.end()) {
    absl::string_view value(it->second.data(), it->second.size());
    // An authorization header that is not a bearer token is still "a token": it must not
    // silently fall back to the certificate.
    if (value.size() >= 7 && absl::EqualsIgnoreCase(value.substr(0, 7), "bearer ")) {
      value.remove_prefix(7);
    }
    credentials.bearer_token = std::string(absl::StripAsciiWhitespace(value));
  }
  return credentials;
}

std::shared_ptr<const AccessPolicy> CallAuthorizer::current() const {
  absl::MutexLock lock(&mu_);
  return policy_;
}

absl::Status CallAuthorizer::Replace(AccessPolicy policy) {
  absl::MutexLock lock(&mu_);
  if (policy_->open() || policy.open()) {
    return absl::FailedPreconditionError(
        "access policy: a plaintext controller has none, and a policy cannot be opened up");
  }
  policy_ = std::make_shared<const AccessPolicy>(std::move(policy));
  return absl::OkStatus();
}

absl::Status CallAuthorizer::Check(const grpc::ServerContextBase& context, Permission permission,
                                   absl::string_view agent_id) const {
  const std::shared_ptr<const AccessPolicy> policy = current();
  if (policy->open()) return absl::OkStatus();
  absl::StatusOr<Principal> principal = policy->Authenticate(CredentialsOf(context));
  if (!principal.ok()) return principal.status();
  return Authorize(*principal, permission, agent_id);
}

}  // namespace faultline::controller::security
