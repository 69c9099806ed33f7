// Serves Prometheus text exposition at http://<listen>/metrics (prometheus-cpp's civetweb
// server), with errors as absl::Status instead of exceptions.
#ifndef FAULTLINE_AGENT_METRICS_METRICS_EXPOSER_H_
#define FAULTLINE_AGENT_METRICS_METRICS_EXPOSER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "prometheus/collectable.h"
#include "prometheus/exposer.h"

namespace faultline::agent::metrics {

class MetricsExposer {
 public:
  // `listen` is host:port; port 0 picks a free one (see port()). `collectable` is held weakly,
  // so it may be destroyed first (scrapes then return nothing for it).
  static absl::StatusOr<std::unique_ptr<MetricsExposer>> Start(
      const std::string& listen, std::weak_ptr<prometheus::Collectable> collectable);

  int port() const { return port_; }

 private:
  MetricsExposer(std::unique_ptr<prometheus::Exposer> exposer, int port)
      : exposer_(std::move(exposer)), port_(port) {}

  std::unique_ptr<prometheus::Exposer> exposer_;
  int port_;
};

// Writes `port` to `path` through a temporary file and a rename, so a reader never sees a
// partial number.
absl::Status WritePortFile(const std::string& path, int port);

}  // namespace faultline::agent::metrics

#endif  // FAULTLINE_AGENT_METRICS_METRICS_EXPOSER_H_
