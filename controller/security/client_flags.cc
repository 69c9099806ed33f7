#include "controller/security/client_flags.h"

#include "absl/flags/flag.h"
#include "absl/status/status.h"

ABSL_FLAG(bool, plaintext, false,
          "Talk to the controller without TLS. Refused unless --controller is a loopback "
          "address (the single-box quick start).");
ABSL_FLAG(std::string, tls_ca, "",
          "PEM CA bundle that signs the controller's certificate (default: system roots).");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM client certificate for mutual TLS (agents: its common name is the agent id).");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert.");
ABSL_FLAG(std::string, token_file, "",
          "File holding a bearer token (faultlinectl token new makes one); sent over TLS only.");

namespace faultline::controller::security {

absl::StatusOr<ClientTransport> ClientTransportFromFlags() {
  ClientTransport transport;
  transport.plaintext = absl::GetFlag(FLAGS_plaintext);
  transport.ca_file = absl::GetFlag(FLAGS_tls_ca);
  transport.cert_file = absl::GetFlag(FLAGS_tls_cert);
  transport.key_file = absl::GetFlag(FLAGS_tls_key);
  if (transport.plaintext && (!transport.ca_file.empty() || !transport.cert_file.empty())) {
    return absl::FailedPreconditionError(
        "--plaintext contradicts --tls_ca/--tls_cert: choose one");
  }
  if (const std::string path = absl::GetFlag(FLAGS_token_file); !path.empty()) {
    absl::StatusOr<std::string> token = ReadTokenFile(path);
    if (!token.ok()) return token.status();
    transport.token = *std::move(token);
  }
  return transport;
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentialsFromFlags(
    const std::string& target) {
  absl::StatusOr<ClientTransport> transport = ClientTransportFromFlags();
  if (!transport.ok()) return transport.status();
  return MakeChannelCredentials(*transport, target);
}

}  // namespace faultline::controller::security
