#include "agent/metrics/metrics_exposer.h"

#include <cstdio>
#include <exception>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "controller/security/host_port.h"

namespace faultline::agent::metrics {
namespace {

// civetweb's own words ("null context when constructing CivetServer") do not say why.
std::string Reason(const std::string& listen, absl::string_view fallback) {
  const std::string reason = controller::security::ListenFailureReason(listen);
  if (!reason.empty()) return absl::StrCat(": ", reason);
  return fallback.empty() ? "" : absl::StrCat(": ", fallback);
}

}  // namespace

absl::StatusOr<std::unique_ptr<MetricsExposer>> MetricsExposer::Start(
    const std::string& listen, std::weak_ptr<prometheus::Collectable> collectable) {
  if (listen.empty() || listen.find(':') == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics listen address \"", listen, "\" is not host:port"));
  }
  if (absl::Status port = controller::security::ValidatePort(listen, "metrics listen address");
      !port.ok()) {
    return port;
  }
  std::unique_ptr<prometheus::Exposer> exposer;
  try {
    // One thread: scrapes come from a handful of Prometheus servers, not from users.
    exposer = std::make_unique<prometheus::Exposer>(listen, 1);
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve metrics on ", listen, Reason(listen, e.what())));
  }
  const std::vector<int> ports = exposer->GetListeningPorts();
  if (ports.empty() || ports[0] <= 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve metrics on ", listen, Reason(listen, "")));
  }
  exposer->RegisterCollectable(collectable);
  return std::unique_ptr<MetricsExposer>(new MetricsExposer(std::move(exposer), ports[0]));
}

absl::Status WritePortFile(const std::string& path, int port) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << port << "\n";
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", tmp));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("cannot rename ", tmp, " to ", path));
  }
  return absl::OkStatus();
}

}  // namespace faultline::agent::metrics
