// The one home for reading "host:port" addresses given on the command line (gRPC listen and
// target addresses, metrics endpoints): splitting off the host, checking the port's range, and
// saying why a listen address cannot be bound.
#ifndef FAULTLINE_CONTROLLER_SECURITY_HOST_PORT_H_
#define FAULTLINE_CONTROLLER_SECURITY_HOST_PORT_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace faultline::controller::security {

// The host part of "host:port", "[v6]:port" or a bare host, after any gRPC scheme prefix
// ("dns:///", "ipv4:", "ipv6:").
absl::string_view HostOf(absl::string_view address);

// INVALID_ARGUMENT starting with `flag` when the address's port is not a number in 0..65535
// (the resolvers would otherwise take 99999 modulo 65536 and serve or dial port 34463).
// Addresses without a port (unix sockets, a bare host) are left to the resolver.
absl::Status ValidatePort(absl::string_view address, absl::string_view flag);

// Why binding a TCP listener on `address` fails right now, e.g. "port 7070 is already in use
// (another process listens on it)", or "" when it would succeed or the host is not a
// numeric address. For messages after a server failed to start: gRPC only logs the reason.
std::string ListenFailureReason(absl::string_view address);

}  // namespace faultline::controller::security

#endif  // FAULTLINE_CONTROLLER_SECURITY_HOST_PORT_H_
