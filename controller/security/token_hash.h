// Bearer tokens are stored only as hashes: a leaked access policy file grants nothing.
// Tokens are 256 random bits, so a plain SHA-256 (no salt, no slow KDF) cannot be brute-forced;
// a slow hash would only cost CPU on every call.
#ifndef FAULTLINE_CONTROLLER_SECURITY_TOKEN_HASH_H_
#define FAULTLINE_CONTROLLER_SECURITY_TOKEN_HASH_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace faultline::controller::security {

// "sha256:" followed by 64 lowercase hex digits.
std::string HashToken(absl::string_view token);

// True when `hash` has the form HashToken produces.
bool IsTokenHash(absl::string_view hash);

// A new token: "flt_" followed by 64 hex digits of RAND_bytes output.
absl::StatusOr<std::string> NewToken();

// Constant-time equality of two strings of equal length (false when lengths differ).
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

}  // namespace faultline::controller::security

#endif  // FAULTLINE_CONTROLLER_SECURITY_TOKEN_HASH_H_
