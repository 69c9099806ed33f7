// Small file helpers shared by the fingerprint, the spool and the benchmark child.
#ifndef FAULTLINE_AGENT_FILE_UTIL_H_
#define FAULTLINE_AGENT_FILE_UTIL_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace faultline::agent {

// The whole content of `path`.
absl::StatusOr<std::string> ReadFileToString(const std::string& path);

// Content of a gzip file, decompressed; a file that is not gzip-compressed is returned as is.
absl::StatusOr<std::string> ReadGzipFileToString(const std::string& path);

// Reads `fd` until EOF.
absl::StatusOr<std::string> ReadAll(int fd);

// Writes all of `data` to `fd`, retrying short writes and EINTR.
absl::Status WriteAll(int fd, const std::string& data);

// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(const std::string& data);

}  // namespace faultline::agent

#endif  // FAULTLINE_AGENT_FILE_UTIL_H_
