// The bearer token a /metrics endpoint asks scrapers for (RFC 6750: "Authorization: Bearer
// <token>", what Prometheus sends with `authorization: {type: Bearer, credentials_file: F}`).
// The token lives in a file so that it never shows in a process listing; only its hash is kept.
#ifndef FAULTLINE_AGENT_METRICS_BEARER_TOKEN_H_
#define FAULTLINE_AGENT_METRICS_BEARER_TOKEN_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace faultline::agent::metrics {

class BearerToken {
 public:
  // Reads the token from `path`; surrounding whitespace (a trailing newline) is dropped, as
  // Prometheus drops it from credentials_file. INVALID_ARGUMENT naming the file when it is
  // empty or holds characters a bearer token cannot (RFC 6750 section 2.1, b64token).
  static absl::StatusOr<BearerToken> FromFile(const std::string& path);
  static absl::StatusOr<BearerToken> FromText(absl::string_view token);

  // Whether the value of an Authorization header carries the token. Compares SHA-256 digests in
  // constant time, so neither the token nor its length leaks through timing.
  bool Grants(absl::string_view authorization) const;

 private:
  explicit BearerToken(std::string hash) : hash_(std::move(hash)) {}
  std::string hash_;
};

}  // namespace faultline::agent::metrics

#endif  // FAULTLINE_AGENT_METRICS_BEARER_TOKEN_H_
