// A gRPC server interceptor that counts every finished call by method and status code and
// observes its duration. Method labels are bounded: a method the server does not implement
// (any client can send any path) is labelled "unknown".
#ifndef FAULTLINE_CONTROLLER_METRICS_RPC_INTERCEPTOR_H_
#define FAULTLINE_CONTROLLER_METRICS_RPC_INTERCEPTOR_H_

#include <memory>
#include <string>

#include "controller/metrics/controller_metrics.h"
#include "grpcpp/support/server_interceptor.h"

namespace faultline::controller::metrics {

// "/pkg.Service/Method" -> "pkg.Service/Method" when the method is in the generated descriptor
// pool (the services linked into this binary) or is a gRPC health check; "unknown" otherwise.
std::string RpcMethodLabel(const std::string& path);

// "OK", "NOT_FOUND", ... as in grpc/status.h.
std::string StatusCodeName(grpc::StatusCode code);

// `metrics` must outlive the server the factory is installed in.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> NewRpcMetricsFactory(
    ControllerMetrics* metrics);

}  // namespace faultline::controller::metrics

#endif  // FAULTLINE_CONTROLLER_METRICS_RPC_INTERCEPTOR_H_
