#include "controller/security/transport.h"

#include <arpa/inet.h>

#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "controller/security/host_port.h"

namespace faultline::controller::security {
namespace {

absl::StatusOr<std::string> ReadPem(const std::string& path, absl::string_view what) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(what, ": cannot read ", path));
  std::stringstream text;
  text << in.rdbuf();
  if (!absl::StrContains(text.str(), "-----BEGIN ")) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": ", path, " is not a PEM file"));
  }
  return text.str();
}

}  // namespace

bool IsLoopbackAddress(absl::string_view address) {
  if (absl::StartsWith(address, "unix:") || absl::StartsWith(address, "unix-abstract:")) {
    return true;
  }
  const std::string host = absl::AsciiStrToLower(HostOf(address));
  if (host == "localhost") return true;
  in_addr v4;
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    return IN6_IS_ADDR_LOOPBACK(&v6);
  }
  return false;
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const ServerTransport& transport, absl::string_view listen) {
  if (absl::Status port = ValidatePort(listen, "--listen"); !port.ok()) return port;
  if (transport.plaintext) {
    if (!IsLoopbackAddress(listen)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "--plaintext: only allowed on a loopback address, and ", listen,
          " is not one; use --tls_cert/--tls_key (and --client_ca for agents)"));
    }
    return grpc::InsecureServerCredentials();
  }
  if (transport.cert_file.empty() || transport.key_file.empty()) {
    return absl::FailedPreconditionError(
        "--tls_cert and --tls_key are required (or --plaintext on a loopback address)");
  }
  absl::StatusOr<std::string> cert = ReadPem(transport.cert_file, "--tls_cert");
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadPem(transport.key_file, "--tls_key");
  if (!key.ok()) return key.status();
  grpc::SslServerCredentialsOptions options(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  if (!transport.client_ca_file.empty()) {
    absl::StatusOr<std::string> ca = ReadPem(transport.client_ca_file, "--client_ca");
    if (!ca.ok()) return ca.status();
    options.pem_root_certs = *ca;
    // Request, not require: users may come with a bearer token and no certificate. A
    // certificate that is presented must verify, or the handshake fails.
    options.client_certificate_request = GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  options.pem_key_cert_pairs.push_back({*key, *cert});
  return grpc::SslServerCredentials(options);
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const ClientTransport& transport, absl::string_view target) {
  if (absl::Status port = ValidatePort(target, "--controller"); !port.ok()) return port;
  if (transport.plaintext) {
    if (!IsLoopbackAddress(target)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "--plaintext: only allowed to a loopback address, and ", target,
          " is not one; use --tls_ca (and --tls_cert/--tls_key or a token)"));
    }
    if (!transport.token.empty()) {
      return absl::FailedPreconditionError(
          "--token_file: a bearer token needs TLS; drop --plaintext and pass --tls_ca");
    }
    return grpc::InsecureChannelCredentials();
  }
  grpc::SslCredentialsOptions options;
  if (!transport.ca_file.empty()) {
    absl::StatusOr<std::string> ca = ReadPem(transport.ca_file, "--tls_ca");
    if (!ca.ok()) return ca.status();
    options.pem_root_certs = *ca;
  }
  if (transport.cert_file.empty() != transport.key_file.empty()) {
    return absl::FailedPreconditionError("--tls_cert and --tls_key go together");
  }
  if (!transport.cert_file.empty()) {
    absl::StatusOr<std::string> cert = ReadPem(transport.cert_file, "--tls_cert");
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = ReadPem(transport.key_file, "--tls_key");
    if (!key.ok()) return key.status();
    options.pem_cert_chain = *cert;
    options.pem_private_key = *key;
  }
  std::shared_ptr<grpc::ChannelCredentials> channel = grpc::SslCredentials(options);
  if (transport.token.empty()) return channel;
  return grpc::CompositeChannelCredentials(channel,
                                           grpc::AccessTokenCredentials(transport.token));
}

absl::StatusOr<std::string> ReadTokenFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("--token_file: cannot read ", path));
  std::stringstream text;
  text << in.rdbuf();
  std::string token(absl::StripAsciiWhitespace(text.str()));
  if (token.empty()) return absl::InvalidArgumentError(absl::StrCat("--token_file: ", path,
                                                                    " is empty"));
  return token;
}

}  // namespace faultline::controller::security
