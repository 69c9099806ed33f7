// A minimal HTTP/1.0 GET over loopback TCP for tests that read /metrics or Prometheus's API.
#ifndef FAULTLINE_CONTROLLER_METRICS_HTTP_GET_H_
#define FAULTLINE_CONTROLLER_METRICS_HTTP_GET_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace faultline::controller::metrics {

struct HttpResponse {
  int status = 0;
  std::string body;
};

// GET http://127.0.0.1:<port><target>; `target` must be URL-encoded already.
absl::StatusOr<HttpResponse> HttpGet(int port, const std::string& target,
                                     absl::Duration timeout = absl::Seconds(10));

// Percent-encodes everything but unreserved characters, for query parameters.
std::string UrlEncode(const std::string& text);

}  // namespace faultline::controller::metrics

#endif  // FAULTLINE_CONTROLLER_METRICS_HTTP_GET_H_
