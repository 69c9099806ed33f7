// Wires the controller together: store -> domain (fleet, campaigns, scheduler, dispatcher,
// reports, reaper, watch hub) -> gRPC services -> one grpc::Server. Used by the
// faultline-controller binary and by tests that want a real server in-process.
#ifndef FAULTLINE_CONTROLLER_CONTROLLER_SERVER_H_
#define FAULTLINE_CONTROLLER_CONTROLLER_SERVER_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "agent/metrics/metrics_exposer.h"
#include "controller/metrics/controller_metrics.h"
#include "controller/security/access_policy.h"
#include "controller/security/transport.h"
#include "controller/store/store.h"
#include "grpcpp/server.h"

namespace faultline::controller {

struct ControllerOptions {
  // host:port; port 0 picks a free one (see ControllerServer::port()).
  std::string listen = "127.0.0.1:7070";
  absl::Duration lease = absl::Seconds(60);
  absl::Duration heartbeat_interval = absl::Seconds(10);
  uint32_t max_attempts = 3;
  absl::Duration reaper_interval = absl::Seconds(1);
  // Largest request accepted (results with histograms are the big ones).
  int max_receive_message_bytes = 32 * 1024 * 1024;
  // Prometheus metrics at /metrics: metrics.listen is host:port, empty serves none (metrics are
  // still collected), port 0 picks a free one (see ControllerServer::metrics_port()); optionally
  // https with a bearer token (docs/security.md).
  agent::metrics::MetricsEndpointOptions metrics;
  // Admission control (0: unbounded). Registrations and result reports write to the store: past
  // these bounds they are refused at once with RESOURCE_EXHAUSTED and a retry-after-ms hint
  // (message text and trailing metadata) instead of queueing, so a fleet reconnecting at once
  // after a restart costs bounded threads and memory. tests/load/README.md: the defaults.
  int max_concurrent_registers = 32;
  double register_rate_per_second = 2000;
  int register_burst = 500;
  int max_concurrent_reports = 32;
  // Parked PollWork long-polls; over the cap a poll is answered at once with no work and a
  // retry-after-ms hint of about poll_retry_after.
  int max_parked_polls = 20000;
  absl::Duration poll_retry_after = absl::Seconds(5);
  // Calls one client connection may have open at once (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS,
  // gRPC's GRPC_ARG_MAX_CONCURRENT_STREAMS); 0 leaves gRPC's default, unbounded. This bounds the
  // queue in front of the handlers, which the in-handler bounds above cannot: a gRPC client
  // holds a call over the bound in its own channel until one of its calls on that connection
  // ends (RFC 9113 section 5.1.2), so the controller never holds more than this many calls per
  // connection. A faultline-agent has at most 3 open (a parked PollWork, a Heartbeat, a
  // RenewLease or ReportResult), faultlinectl one or two; 32 leaves room for tools that
  // multiplex, and tests/load/README.md has the storm with and without it.
  int max_streams_per_connection = 32;
  // Plaintext (on loopback only) by default so in-process tests need no certificates; the
  // faultline-controller binary makes its users choose.
  security::ServerTransport transport = security::ServerTransport::LoopbackPlaintext();
  // Who may call what. Required with TLS; with plaintext on loopback everyone may do everything
  // and a policy is refused (its tokens would cross the wire in clear).
  std::optional<security::AccessPolicy> access_policy;
};

class ControllerServer {
 public:
  // Starts serving. `store` must outlive the server.
  static absl::StatusOr<std::unique_ptr<ControllerServer>> Start(store::Store* store,
                                                                 const ControllerOptions& options);
  ~ControllerServer();

  int port() const;
  // The metrics port, or 0 when options.metrics.listen was empty.
  int metrics_port() const;
  // Never null; lives as long as the server (e.g. for RecordGateVerdict).
  metrics::ControllerMetrics* metrics() const;
  // Replaces the access policy for calls from now on (SIGHUP in faultline-controller).
  // FAILED_PRECONDITION on a plaintext controller, which has none.
  absl::Status ReloadAccessPolicy(security::AccessPolicy policy);
  // Stops accepting calls, finishes parked polls and watches, and waits for handlers.
  void Shutdown();
  void Wait();

 private:
  struct Parts;
  explicit ControllerServer(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace faultline::controller

#endif  // FAULTLINE_CONTROLLER_CONTROLLER_SERVER_H_
