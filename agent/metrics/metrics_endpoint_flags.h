// The flags both daemons (faultline-controller, faultline-agent) take for their /metrics
// endpoint's security: --metrics_tls_cert, --metrics_tls_key, --metrics_bearer_token_file.
// Each binary keeps its own --metrics_listen, whose default differs.
#ifndef FAULTLINE_AGENT_METRICS_METRICS_ENDPOINT_FLAGS_H_
#define FAULTLINE_AGENT_METRICS_METRICS_ENDPOINT_FLAGS_H_

#include <string>

#include "agent/metrics/metrics_exposer.h"

namespace faultline::agent::metrics {

// The endpoint on `listen` as the flags describe it; Start checks that they fit together.
MetricsEndpointOptions MetricsEndpointFromFlags(const std::string& listen);

}  // namespace faultline::agent::metrics

#endif  // FAULTLINE_AGENT_METRICS_METRICS_ENDPOINT_FLAGS_H_
