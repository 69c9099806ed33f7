#include "controller/controller_server.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "controller/metrics/instrumented_store.h"
#include "agent/metrics/metrics_exposer.h"
#include "controller/metrics/rpc_interceptor.h"
#include "controller/runs/gate_runner.h"
#include "controller/runs/gate_threads.h"
#include "controller/scheduling/campaign_watch_hub.h"
#include "controller/scheduling/campaigns.h"
#include "controller/scheduling/fleet.h"
#include "controller/scheduling/job_reports.h"
#include "controller/scheduling/lease_reaper.h"
#include "controller/scheduling/queue_watch.h"
#include "controller/scheduling/scheduler.h"
#include "controller/scheduling/work_dispatcher.h"
#include "controller/security/host_port.h"
#include "controller/service/admission_control.h"
#include "controller/service/agent_service.h"
#include "controller/service/analysis_service.h"
#include "controller/service/campaign_service.h"
#include "controller/service/undecodable_request.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/server_builder.h"

namespace faultline::controller {

struct ControllerServer::Parts {
  ControllerOptions options;
  int port = 0;
  scheduling::Clock clock = scheduling::RealClock();
  // Declared first so they outlive everything that records into them.
  std::shared_ptr<metrics::ControllerMetrics> metrics;
  std::unique_ptr<metrics::InstrumentedStore> store;
  std::unique_ptr<scheduling::CampaignWatchHub> hub;
  std::unique_ptr<scheduling::Scheduler> scheduler;
  std::unique_ptr<scheduling::WorkDispatcher> dispatcher;
  std::unique_ptr<scheduling::Fleet> fleet;
  std::unique_ptr<scheduling::Campaigns> campaigns;
  std::unique_ptr<scheduling::JobReports> reports;
  std::unique_ptr<scheduling::LeaseReaper> reaper;
  std::unique_ptr<scheduling::QueueWatch> queue_watch;
  std::unique_ptr<service::AdmissionControl> register_admission;
  std::unique_ptr<service::AdmissionControl> report_admission;
  std::unique_ptr<security::CallAuthorizer> authorizer;
  std::unique_ptr<service::AgentServiceImpl> agent_service;
  std::unique_ptr<service::CampaignServiceImpl> campaign_service;
  std::unique_ptr<runs::GateRunner> gates;
  std::unique_ptr<runs::GateThreads> gate_threads;
  std::unique_ptr<service::AnalysisServiceImpl> analysis_service;
  std::unique_ptr<grpc::Server> server;
  // Declared last: destroyed (stops scraping the store) before anything else.
  std::unique_ptr<agent::metrics::MetricsExposer> metrics_exposer;
  bool shut_down = false;
};

absl::StatusOr<std::unique_ptr<ControllerServer>> ControllerServer::Start(
    store::Store* backing_store, const ControllerOptions& options) {
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      security::MakeServerCredentials(options.transport, options.listen);
  if (!credentials.ok()) return credentials.status();
  if (options.transport.plaintext && options.access_policy.has_value()) {
    return absl::FailedPreconditionError(
        "--access_policy: needs TLS (bearer tokens must not cross the wire in clear)");
  }
  if (!options.transport.plaintext && !options.access_policy.has_value()) {
    return absl::FailedPreconditionError(
        "--access_policy: required with TLS (it says which certificates and tokens may do what)");
  }
  auto p = std::make_unique<Parts>();
  p->options = options;
  p->authorizer = std::make_unique<security::CallAuthorizer>(
      options.access_policy.value_or(security::AccessPolicy::Open()));
  Parts* raw = p.get();
  p->metrics = std::make_shared<metrics::ControllerMetrics>();
  p->store = std::make_unique<metrics::InstrumentedStore>(backing_store, p->metrics.get());
  store::Store* store = p->store.get();
  // Anything that may create work or change progress wakes parked polls and watchers.
  auto changed = [raw] {
    if (raw->dispatcher) raw->dispatcher->Notify();
    if (raw->hub) raw->hub->Notify();
  };
  p->hub = std::make_unique<scheduling::CampaignWatchHub>(store);
  scheduling::Scheduler::Options sched;
  sched.lease = options.lease;
  p->scheduler = std::make_unique<scheduling::Scheduler>(store, sched, p->clock);
  p->dispatcher = std::make_unique<scheduling::WorkDispatcher>(
      p->scheduler.get(), p->clock, absl::Seconds(1),
      static_cast<size_t>(std::max(0, options.max_parked_polls)));
  scheduling::Fleet::Options fleet;
  fleet.heartbeat_interval = options.heartbeat_interval;
  p->fleet = std::make_unique<scheduling::Fleet>(store, fleet, p->clock, changed);
  p->campaigns = std::make_unique<scheduling::Campaigns>(store, p->fleet.get(), p->clock, changed);
  scheduling::JobReports::Options reports;
  reports.lease = options.lease;
  p->reports =
      std::make_unique<scheduling::JobReports>(store, reports, p->clock, changed, p->fleet.get());
  p->reaper = std::make_unique<scheduling::LeaseReaper>(store, p->clock, options.max_attempts,
                                                        options.reaper_interval, changed);
  // Other replicas on the same store queue work too.
  p->queue_watch = std::make_unique<scheduling::QueueWatch>(store, changed);
  p->agent_service = std::make_unique<service::AgentServiceImpl>(
      p->fleet.get(), p->dispatcher.get(), p->reports.get(), options.lease, p->clock,
      p->authorizer.get());
  p->campaign_service = std::make_unique<service::CampaignServiceImpl>(
      p->campaigns.get(), p->fleet.get(), store, p->hub.get(), p->authorizer.get());
  {
    service::AdmissionControl::Options registers;
    registers.max_in_flight = options.max_concurrent_registers;
    registers.rate_per_second = options.register_rate_per_second;
    registers.burst = options.register_burst;
    p->register_admission =
        std::make_unique<service::AdmissionControl>("Register", registers, p->clock);
    service::AdmissionControl::Options reports;
    reports.max_in_flight = options.max_concurrent_reports;
    p->report_admission =
        std::make_unique<service::AdmissionControl>("ReportResult", reports, p->clock);
    service::AgentAdmission admission;
    admission.registers = p->register_admission.get();
    admission.reports = p->report_admission.get();
    admission.poll_retry_after = options.poll_retry_after;
    metrics::ControllerMetrics* m = p->metrics.get();
    admission.rejected = [m](const std::string& rpc) { m->AdmissionRejected(rpc); };
    p->agent_service->SetAdmission(std::move(admission));
  }
  metrics::ControllerMetrics* gate_metrics = p->metrics.get();
  p->gates = std::make_unique<runs::GateRunner>(
      store, p->fleet.get(), p->campaigns.get(), runs::GateRunner::Options{},
      [gate_metrics](const std::string& gate, analysis::GateOutcome outcome) {
        gate_metrics->RecordGateVerdict(gate, outcome == analysis::GateOutcome::kPass
                                                  ? metrics::kGatePass
                                              : outcome == analysis::GateOutcome::kFail
                                                  ? metrics::kGateFail
                                                  : metrics::kGateInconclusive);
      });
  p->gate_threads = std::make_unique<runs::GateThreads>(p->gates.get());
  p->analysis_service = std::make_unique<service::AnalysisServiceImpl>(
      store, p->gate_threads.get(), p->authorizer.get());

  metrics::StateSources sources;
  sources.agents = [raw] { return raw->fleet->List(/*include_lost=*/true); };
  // Bounded so that a scrape of a huge backlog stays cheap; the gauge then saturates.
  sources.queued_jobs = [store] { return store->CountQueuedJobsByPriority(); };
  sources.campaigns = [store] { return store->ListCampaigns(1000); };
  sources.parked_polls = [raw] { return raw->dispatcher->parked(); };
  sources.parked_polls_limit = static_cast<size_t>(std::max(0, options.max_parked_polls));
  p->metrics->SetStateSources(std::move(sources));

  // Standard probes: grpc.health.v1.Health and server reflection (grpcurl, grpc_cli).
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      interceptors;
  // First, so that the metrics count the status the client gets.
  interceptors.push_back(service::NewUndecodableRequestFactory());
  interceptors.push_back(metrics::NewRpcMetricsFactory(p->metrics.get()));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  // gRPC sets SO_REUSEPORT by default: a second controller on a taken port would then share it
  // and clients would alternate between two stores. Off, the second one fails to bind.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  if (options.max_streams_per_connection > 0) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                               options.max_streams_per_connection);
  }
  builder.AddListeningPort(options.listen, *credentials, &p->port);
  builder.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  builder.RegisterService(p->agent_service.get());
  builder.RegisterService(p->campaign_service.get());
  builder.RegisterService(p->analysis_service.get());
  p->server = builder.BuildAndStart();
  if (p->server == nullptr || p->port == 0) {
    const std::string reason = security::ListenFailureReason(options.listen);
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options.listen,
                                               reason.empty() ? "" : ": ", reason));
  }
  if (grpc::HealthCheckServiceInterface* health = p->server->GetHealthCheckService()) {
    health->SetServingStatus(v1::AgentService::service_full_name(), true);
    health->SetServingStatus(v1::CampaignService::service_full_name(), true);
    health->SetServingStatus(v1::AnalysisService::service_full_name(), true);
  }
  if (!options.metrics.listen.empty()) {
    absl::StatusOr<std::unique_ptr<agent::metrics::MetricsExposer>> exposer =
        agent::metrics::MetricsExposer::Start(options.metrics, p->metrics);
    if (!exposer.ok()) {
      p->dispatcher->Shutdown();
      p->server->Shutdown();
      return exposer.status();
    }
    p->metrics_exposer = std::move(*exposer);
  }
  return std::unique_ptr<ControllerServer>(new ControllerServer(std::move(p)));
}

ControllerServer::ControllerServer(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

ControllerServer::~ControllerServer() { Shutdown(); }

int ControllerServer::port() const { return parts_->port; }

int ControllerServer::metrics_port() const {
  return parts_->metrics_exposer ? parts_->metrics_exposer->port() : 0;
}

metrics::ControllerMetrics* ControllerServer::metrics() const { return parts_->metrics.get(); }

absl::Status ControllerServer::ReloadAccessPolicy(security::AccessPolicy policy) {
  return parts_->authorizer->Replace(std::move(policy));
}

void ControllerServer::Shutdown() {
  if (parts_->shut_down) return;
  parts_->shut_down = true;
  parts_->metrics_exposer.reset();
  // Gates wait on campaigns; they give up now so the server can drain their calls.
  parts_->gate_threads->Shutdown();
  // Parked polls must be finished before the server can drain its calls.
  parts_->dispatcher->Shutdown();
  parts_->server->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  parts_->server->Wait();
  parts_->queue_watch.reset();
  parts_->reaper.reset();
}

void ControllerServer::Wait() { parts_->server->Wait(); }

}  // namespace faultline::controller
