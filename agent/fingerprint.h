// Builds the HostFingerprint of the machine the agent runs on: everything about the host and its
// kernel that can change a memory-management figure.
#ifndef FAULTLINE_AGENT_FINGERPRINT_H_
#define FAULTLINE_AGENT_FINGERPRINT_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "proto/faultline/v1/host.pb.h"

namespace faultline::agent {

struct FingerprintOptions {
  // "stock", or "patched/<series>".
  std::string kernel_label = "stock";
  // Replaces the derived host class when non-empty.
  std::string host_class;
  // Replaces the detected virtualization (e.g. VIRTUALIZATION_EMULATED for a TCG guest whose CPU
  // model does not give it away).
  std::optional<v1::Virtualization> virtualization;
  // qemu's -icount shift of a VIRTUALIZATION_EMULATED_ICOUNT guest (the guest cannot tell).
  uint32_t icount_shift = 0;
  // Prefix for /proc, /sys and /boot paths; tests point it at a fixture tree.
  std::string root;
};

// Reads the fingerprint. Files that cannot be read leave their fields empty (a container may hide
// /sys); only a failing uname(2) is an error.
absl::StatusOr<v1::HostFingerprint> ReadHostFingerprint(const FingerprintOptions& options);

// SHA-256 (hex) of the kernel configuration's text. /proc/config.gz is decompressed first, so a
// kernel hashes the same whether its config is read from /proc/config.gz or
// /boot/config-<release>. Empty when neither is readable.
std::string KernelConfigHash(const std::string& root, const std::string& release);

}  // namespace faultline::agent

#endif  // FAULTLINE_AGENT_FINGERPRINT_H_
