#include "controller/security/access_policy.h"

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "controller/scheduling/glob.h"
#include "controller/security/token_hash.h"

namespace faultline::controller::security {
namespace {

std::optional<Role> ParseRole(absl::string_view text) {
  if (text == "agent") return Role::kAgent;
  if (text == "read") return Role::kRead;
  if (text == "submit") return Role::kSubmit;
  return std::nullopt;
}

// Agent ids and principal names end up in logs and the store: keep them plain.
bool IsPlainName(absl::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.' || c == ':' || c == '@';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

absl::string_view RoleName(Role role) {
  switch (role) {
    case Role::kAgent:
      return "agent";
    case Role::kRead:
      return "read";
    case Role::kSubmit:
      return "submit";
    case Role::kLocal:
      return "local";
  }
  return "unknown";
}

AccessPolicy AccessPolicy::Open() {
  AccessPolicy policy;
  policy.open_ = true;
  return policy;
}

absl::StatusOr<AccessPolicy> AccessPolicy::Parse(absl::string_view text,
                                                 absl::string_view source) {
  AccessPolicy policy;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    const size_t hash = line.find('#');
    if (hash != absl::string_view::npos) line = line.substr(0, hash);
    std::vector<absl::string_view> words =
        absl::StrSplit(line, absl::ByAnyChar(" \t\r"), absl::SkipEmpty());
    if (words.empty()) continue;
    auto error = [&](absl::string_view what) {
      return absl::InvalidArgumentError(absl::StrCat(source, ":", line_number, ": ", what));
    };
    if (words[0] == "cert") {
      if (words.size() != 3) return error("expected: cert <common-name glob> <role>");
      std::optional<Role> role = ParseRole(words[2]);
      if (!role) return error(absl::StrCat("expected a role (agent, read, submit), got \"",
                                           words[2], "\""));
      policy.cert_rules_.push_back({std::string(words[1]), *role});
    } else if (words[0] == "token") {
      if (words.size() != 4) return error("expected: token <sha256:hex> <role> <name>");
      if (!IsTokenHash(words[1])) {
        return error("expected a token hash \"sha256:<64 lowercase hex digits>\" (tokens are "
                     "stored hashed: faultlinectl token new prints one)");
      }
      std::optional<Role> role = ParseRole(words[2]);
      if (!role) return error(absl::StrCat("expected a role (agent, read, submit), got \"",
                                           words[2], "\""));
      if (!IsPlainName(words[3])) {
        return error("expected a name of 1-128 characters from [A-Za-z0-9._:@-]");
      }
      auto [it, inserted] =
          policy.tokens_.emplace(std::string(words[1]), Principal{std::string(words[3]), *role});
      if (!inserted) return error("this token hash is already listed");
    } else {
      return error(absl::StrCat("expected \"cert\" or \"token\", got \"", words[0], "\""));
    }
  }
  return policy;
}

std::string AccessPolicy::Summary() const {
  if (open_) return "open (plaintext on loopback)";
  return absl::StrCat(cert_rules_.size(), " certificate rules, ", tokens_.size(), " tokens");
}

absl::StatusOr<AccessPolicy> AccessPolicy::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot read access policy"));
  std::stringstream text;
  text << in.rdbuf();
  return Parse(text.str(), path);
}

absl::StatusOr<Principal> AccessPolicy::Authenticate(const CallerCredentials& credentials) const {
  if (open_) {
    return Principal{credentials.certificate_common_name.value_or("local"), Role::kLocal};
  }
  if (credentials.bearer_token.has_value()) {
    auto it = tokens_.find(HashToken(*credentials.bearer_token));
    if (it == tokens_.end()) {
      return absl::UnauthenticatedError("authorization: bearer token is not known");
    }
    return it->second;
  }
  if (credentials.certificate_common_name.has_value()) {
    const std::string& cn = *credentials.certificate_common_name;
    for (const CertRule& rule : cert_rules_) {
      if (!rule.common_name_glob.empty() && scheduling::GlobMatch(rule.common_name_glob, cn)) {
        if (!IsPlainName(cn)) {
          return absl::UnauthenticatedError(
              absl::StrCat("client certificate common name \"", cn,
                           "\" is not a plain name ([A-Za-z0-9._:@-], at most 128)"));
        }
        return Principal{cn, rule.role};
      }
    }
    return absl::UnauthenticatedError(absl::StrCat(
        "client certificate \"", cn, "\" is not granted any role by the access policy"));
  }
  return absl::UnauthenticatedError(
      "no credentials: present a client certificate or an \"authorization: Bearer\" token");
}

absl::Status Authorize(const Principal& principal, Permission permission,
                       absl::string_view agent_id) {
  if (principal.role == Role::kLocal) return absl::OkStatus();
  switch (permission) {
    case Permission::kAgent:
      if (principal.role != Role::kAgent) {
        return absl::PermissionDeniedError(absl::StrCat(
            "\"", principal.name, "\" has role ", RoleName(principal.role),
            "; only agents may call the agent service"));
      }
      if (agent_id != principal.name) {
        return absl::PermissionDeniedError(
            absl::StrCat("agent_id: \"", agent_id, "\" is not the authenticated agent \"",
                         principal.name, "\""));
      }
      return absl::OkStatus();
    case Permission::kQuery:
      if (principal.role == Role::kRead || principal.role == Role::kSubmit) {
        return absl::OkStatus();
      }
      return absl::PermissionDeniedError(absl::StrCat(
          "\"", principal.name, "\" has role ", RoleName(principal.role),
          "; queries need role read or submit"));
    case Permission::kSubmit:
      if (principal.role == Role::kSubmit) return absl::OkStatus();
      return absl::PermissionDeniedError(absl::StrCat(
          "\"", principal.name, "\" has role ", RoleName(principal.role),
          "; creating or cancelling work needs role submit"));
  }
  return absl::PermissionDeniedError("unknown permission");
}

}  // namespace faultline::controller::security
