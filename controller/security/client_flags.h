// The command-line flags every faultline client shares (faultline-agent, faultlinectl) to reach
// the controller: --plaintext, --tls_ca, --tls_cert, --tls_key, --token_file.
#ifndef FAULTLINE_CONTROLLER_SECURITY_CLIENT_FLAGS_H_
#define FAULTLINE_CONTROLLER_SECURITY_CLIENT_FLAGS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "controller/security/transport.h"
#include "grpcpp/security/credentials.h"

namespace faultline::controller::security {

// The transport the flags describe; reads --token_file.
absl::StatusOr<ClientTransport> ClientTransportFromFlags();

// Credentials for `target` from the flags: FAILED_PRECONDITION naming the flag when they
// contradict each other or ask for plaintext off loopback.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentialsFromFlags(
    const std::string& target);

}  // namespace faultline::controller::security

#endif  // FAULTLINE_CONTROLLER_SECURITY_CLIENT_FLAGS_H_
