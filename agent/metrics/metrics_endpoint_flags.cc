#include "agent/metrics/metrics_endpoint_flags.h"

#include "absl/flags/flag.h"

ABSL_FLAG(std::string, metrics_tls_cert, "",
          "PEM certificate chain for the /metrics endpoint; with --metrics_tls_key it serves "
          "https only (Prometheus: scheme: https, tls_config: {ca_file: ...}).");
ABSL_FLAG(std::string, metrics_tls_key, "", "PEM private key of --metrics_tls_cert.");
ABSL_FLAG(std::string, metrics_bearer_token_file, "",
          "File holding the token scrapers must send as \"Authorization: Bearer <token>\" "
          "(Prometheus: authorization: {type: Bearer, credentials_file: ...}); others get 401. "
          "Needs --metrics_tls_cert. A file, so the token never shows in a process listing.");

namespace faultline::agent::metrics {

MetricsEndpointOptions MetricsEndpointFromFlags(const std::string& listen) {
  MetricsEndpointOptions options;
  options.listen = listen;
  options.tls_cert_file = absl::GetFlag(FLAGS_metrics_tls_cert);
  options.tls_key_file = absl::GetFlag(FLAGS_metrics_tls_key);
  options.bearer_token_file = absl::GetFlag(FLAGS_metrics_bearer_token_file);
  return options;
}

}  // namespace faultline::agent::metrics
