// The access policy parser and authentication on arbitrary text: no crash, errors say
// "<file>:<line>: expected ...", and whatever a parsed policy admits is a principal with a plain
// name that Authorize can judge. The input's last line doubles as the caller's credentials.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "controller/security/access_policy.h"
#include "controller/security/token_hash.h"

namespace {

using faultline::controller::security::AccessPolicy;
using faultline::controller::security::Authorize;
using faultline::controller::security::CallerCredentials;
using faultline::controller::security::Permission;
using faultline::controller::security::Principal;
using faultline::controller::security::Role;

bool PlainName(const std::string& name) {
  if (name.empty() || name.size() > 128) return false;
  for (char c : name) {
    if (!(absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == ':' || c == '@')) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<AccessPolicy> policy = AccessPolicy::Parse(text, "fuzz.policy");
  if (!policy.ok()) {
    if (policy.status().code() != absl::StatusCode::kInvalidArgument) std::abort();
    if (!absl::StartsWith(policy.status().message(), "fuzz.policy:")) std::abort();
    if (!absl::StrContains(policy.status().message(), "expected") &&
        !absl::StrContains(policy.status().message(), "already listed")) {
      std::abort();
    }
    return 0;
  }
  const std::string last = text.substr(text.rfind('\n') == std::string::npos ? 0
                                                                             : text.rfind('\n') + 1);
  CallerCredentials as_cert;
  as_cert.certificate_common_name = last;
  CallerCredentials as_token;
  as_token.bearer_token = last;
  for (const CallerCredentials& credentials : {as_cert, as_token, CallerCredentials{}}) {
    absl::StatusOr<Principal> principal = policy->Authenticate(credentials);
    if (!principal.ok()) {
      if (principal.status().code() != absl::StatusCode::kUnauthenticated) std::abort();
      continue;
    }
    if (!PlainName(principal->name) || principal->role == Role::kLocal) std::abort();
    for (Permission p : {Permission::kAgent, Permission::kQuery, Permission::kSubmit}) {
      absl::Status s = Authorize(*principal, p, principal->name);
      if (!s.ok() && s.code() != absl::StatusCode::kPermissionDenied) std::abort();
      // An agent is admitted only as itself.
      if (p == Permission::kAgent && Authorize(*principal, p, principal->name + "x").ok()) {
        std::abort();
      }
    }
  }
  // A stored hash is never a credential for itself.
  if (faultline::controller::security::IsTokenHash(last)) {
    CallerCredentials hash_as_token;
    hash_as_token.bearer_token = last;
    absl::StatusOr<Principal> principal = policy->Authenticate(hash_as_token);
    if (principal.ok() && faultline::controller::security::HashToken(last) != last &&
        !absl::StrContains(text, faultline::controller::security::HashToken(last))) {
      std::abort();
    }
  }
  return 0;
}
