// Serves Prometheus text exposition at /metrics: plain http, or https with a certificate and
// key, optionally behind a bearer token, as Prometheus scrapes them (scrape_config
// `scheme: https`, `tls_config: {ca_file: ...}`, `authorization: {type: Bearer,
// credentials_file: ...}`).
//
// A small HTTP/1.1 server of its own over OpenSSL rather than civetweb (which prometheus-cpp's
// Exposer uses): Debian 12's civetweb 1.15 loads OpenSSL with dlopen and looks up
// SSL_get_peer_certificate, which OpenSSL 3 no longer exports (it is a macro for
// SSL_get1_peer_certificate), so every https request crashes its worker after the handshake.
// Scrapes are one GET each, so the server reads one request per connection and closes it.
#ifndef FAULTLINE_AGENT_METRICS_METRICS_EXPOSER_H_
#define FAULTLINE_AGENT_METRICS_METRICS_EXPOSER_H_

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "agent/metrics/bearer_token.h"
#include "prometheus/collectable.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace faultline::agent::metrics {

// The metrics endpoint both daemons serve (flags in metrics_endpoint_flags.h).
struct MetricsEndpointOptions {
  // host:port; port 0 picks a free one (see MetricsExposer::port()). Empty serves nothing.
  std::string listen;
  // PEM certificate chain and its private key. With them the port speaks https only.
  std::string tls_cert_file;
  std::string tls_key_file;
  // A file holding the token scrapers must present ("Authorization: Bearer <token>"); other
  // requests get 401. Needs TLS: a token must not cross the wire in clear.
  std::string bearer_token_file;

  bool tls() const { return !tls_cert_file.empty() || !tls_key_file.empty(); }
};

class MetricsExposer {
 public:
  // `collectable` is held weakly, so it may be destroyed first (scrapes then return nothing for
  // it). INVALID_ARGUMENT / FAILED_PRECONDITION name the flag at fault; UNAVAILABLE when the
  // port cannot be served.
  static absl::StatusOr<std::unique_ptr<MetricsExposer>> Start(
      const MetricsEndpointOptions& options, std::weak_ptr<prometheus::Collectable> collectable);
  // Plain http on `listen`.
  static absl::StatusOr<std::unique_ptr<MetricsExposer>> Start(
      const std::string& listen, std::weak_ptr<prometheus::Collectable> collectable);

  // Stops accepting, and waits for the requests being answered.
  ~MetricsExposer();
  MetricsExposer(const MetricsExposer&) = delete;
  MetricsExposer& operator=(const MetricsExposer&) = delete;

  int port() const { return port_; }

 private:
  MetricsExposer(std::weak_ptr<prometheus::Collectable> collectable,
                 std::optional<BearerToken> token)
      : collectable_(std::move(collectable)), token_(std::move(token)) {}

  void AcceptLoop();
  void WorkLoop();
  void Serve(int fd);
  // The whole HTTP response to a request head.
  std::string Respond(const std::string& head) const;

  const std::weak_ptr<prometheus::Collectable> collectable_;
  const std::optional<BearerToken> token_;
  SSL_CTX* tls_ = nullptr;
  int listen_fd_ = -1;
  // Written to by the destructor to wake the accept loop.
  int stop_fd_ = -1;
  int port_ = 0;
  absl::Mutex mu_;
  std::deque<int> accepted_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread acceptor_;
  std::vector<std::thread> workers_;
};

// Writes `port` to `path` through a temporary file and a rename, so a reader never sees a
// partial number.
absl::Status WritePortFile(const std::string& path, int port);

}  // namespace faultline::agent::metrics

#endif  // FAULTLINE_AGENT_METRICS_METRICS_EXPOSER_H_
