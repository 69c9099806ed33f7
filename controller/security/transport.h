// Transport security for every faultline gRPC endpoint: TLS (mutual for agents) by default,
// plaintext only when asked for and only on loopback, where the single-box quick start runs.
#ifndef FAULTLINE_CONTROLLER_SECURITY_TRANSPORT_H_
#define FAULTLINE_CONTROLLER_SECURITY_TRANSPORT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"

namespace faultline::controller::security {

struct ServerTransport {
  static ServerTransport LoopbackPlaintext() {
    ServerTransport t;
    t.plaintext = true;
    return t;
  }

  bool plaintext = false;
  // PEM files: the controller's certificate chain and key.
  std::string cert_file;
  std::string key_file;
  // PEM CA bundle that signs client certificates. When set, clients are asked for a certificate
  // and one that does not verify fails the handshake; clients without one may still use a token.
  std::string client_ca_file;
};

struct ClientTransport {
  static ClientTransport LoopbackPlaintext() {
    ClientTransport t;
    t.plaintext = true;
    return t;
  }

  bool plaintext = false;
  // PEM CA bundle that signs the controller's certificate; empty uses the system roots.
  std::string ca_file;
  // This client's certificate and key (agents: mutual TLS). Both or neither.
  std::string cert_file;
  std::string key_file;
  // Bearer token sent with every call (needs TLS: a token must never cross the wire in clear).
  std::string token;
};

// True for 127.0.0.0/8, ::1, localhost and unix sockets, given "host:port", "[::1]:port",
// "ipv4:127.0.0.1:port", "dns:///localhost:port" or "unix:/path".
bool IsLoopbackAddress(absl::string_view address);

// FAILED_PRECONDITION naming the flag when plaintext is asked for off loopback or TLS files are
// missing; NOT_FOUND when a file cannot be read.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const ServerTransport& transport, absl::string_view listen);

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const ClientTransport& transport, absl::string_view target);

// Reads a token file (one token, surrounding whitespace ignored).
absl::StatusOr<std::string> ReadTokenFile(const std::string& path);

}  // namespace faultline::controller::security

#endif  // FAULTLINE_CONTROLLER_SECURITY_TRANSPORT_H_
