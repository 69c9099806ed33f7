#include "agent/metrics/bearer_token.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "controller/security/token_hash.h"

namespace faultline::agent::metrics {
namespace {

// RFC 6750 section 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
bool IsB64Token(absl::string_view token) {
  size_t i = 0;
  while (i < token.size() && (absl::ascii_isalnum(token[i]) ||
                              absl::string_view("-._~+/").find(token[i]) != absl::string_view::npos)) {
    ++i;
  }
  if (i == 0) return false;
  while (i < token.size() && token[i] == '=') ++i;
  return i == token.size();
}

}  // namespace

absl::StatusOr<BearerToken> BearerToken::FromText(absl::string_view text) {
  const absl::string_view token = absl::StripAsciiWhitespace(text);
  if (token.empty()) return absl::InvalidArgumentError("the bearer token is empty");
  if (!IsB64Token(token)) {
    return absl::InvalidArgumentError(
        "the bearer token holds characters a token cannot (letters, digits and -._~+/ only, "
        "then '=' padding)");
  }
  return BearerToken(controller::security::HashToken(token));
}

absl::StatusOr<BearerToken> BearerToken::FromFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat(path, ": cannot read the bearer token"));
  std::ostringstream text;
  text << in.rdbuf();
  absl::StatusOr<BearerToken> token = FromText(text.str());
  if (!token.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", token.status().message()));
  }
  return token;
}

bool BearerToken::Grants(absl::string_view authorization) const {
  // The scheme is case-insensitive (RFC 9110 section 11.1); one space separates it here, as
  // every client we know sends it.
  constexpr absl::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size() ||
      !absl::EqualsIgnoreCase(authorization.substr(0, kScheme.size()), kScheme)) {
    return false;
  }
  const absl::string_view presented = absl::StripAsciiWhitespace(authorization.substr(kScheme.size()));
  return controller::security::ConstantTimeEquals(controller::security::HashToken(presented), hash_);
}

}  // namespace faultline::agent::metrics
