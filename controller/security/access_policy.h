// Who may call what: maps a caller's credentials (a verified client certificate's common name,
// or a bearer token) to a principal with one role, and decides each call from that role.
//
// Policy file, one rule per line ('#' starts a comment):
//   cert  <common-name glob>  <role>           e.g.  cert  agent-*  agent
//   token <sha256:hex>        <role>  <name>   e.g.  token sha256:9f86...  read  grafana
// Roles: agent (register, heartbeat, lease, report: only as the agent it is), read (query),
// submit (query, create and cancel campaigns, run gates). For an agent, the certificate's common
// name or the token's name is its agent id, and it may act only under that id.
#ifndef FAULTLINE_CONTROLLER_SECURITY_ACCESS_POLICY_H_
#define FAULTLINE_CONTROLLER_SECURITY_ACCESS_POLICY_H_

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace faultline::controller::security {

enum class Role {
  kAgent,
  kRead,
  kSubmit,
  // Everything: only for an open policy (plaintext on loopback, the single-box quick start).
  kLocal,
};

absl::string_view RoleName(Role role);

// What a call needs.
enum class Permission {
  kAgent,   // AgentService
  kQuery,   // reading campaigns, agents, results, comparisons
  kSubmit,  // creating or cancelling work
};

struct Principal {
  // The agent id for agents; the token's name or the certificate's common name otherwise.
  std::string name;
  Role role = Role::kRead;
};

// What the transport and the call's metadata say about the caller.
struct CallerCredentials {
  // Common name of a client certificate the TLS handshake verified against the client CA.
  std::optional<std::string> certificate_common_name;
  // The token of an "authorization: Bearer <token>" header.
  std::optional<std::string> bearer_token;
};

class AccessPolicy {
 public:
  // Everyone is Role::kLocal. Only for plaintext on loopback.
  static AccessPolicy Open();
  // Parses policy text; errors read "<source>:<line>: <what was expected>".
  static absl::StatusOr<AccessPolicy> Parse(absl::string_view text, absl::string_view source);
  static absl::StatusOr<AccessPolicy> Load(const std::string& path);

  bool open() const { return open_; }
  // "3 certificate rules, 5 tokens", for logs.
  std::string Summary() const;

  // UNAUTHENTICATED when the caller presents nothing this policy knows. A presented token decides
  // alone (a wrong token is refused even alongside a good certificate: it is a mistake worth
  // hearing about).
  absl::StatusOr<Principal> Authenticate(const CallerCredentials& credentials) const;

 private:
  struct CertRule {
    std::string common_name_glob;
    Role role;
  };
  AccessPolicy() = default;

  bool open_ = false;
  std::vector<CertRule> cert_rules_;
  // Token hash -> principal.
  std::unordered_map<std::string, Principal> tokens_;
};

// PERMISSION_DENIED unless `principal` may do `permission`. For Permission::kAgent,
// `agent_id` is the id the request acts for (field name "agent_id"), which must be the
// principal's own.
absl::Status Authorize(const Principal& principal, Permission permission,
                       absl::string_view agent_id = {});

}  // namespace faultline::controller::security

#endif  // FAULTLINE_CONTROLLER_SECURITY_ACCESS_POLICY_H_
