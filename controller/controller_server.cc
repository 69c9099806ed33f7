#include "controller/controller_server.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "controller/agent_service.h"
#include "controller/campaign_service.h"
#include "controller/campaign_watch_hub.h"
#include "controller/campaigns.h"
#include "controller/fleet.h"
#include "controller/job_reports.h"
#include "controller/lease_reaper.h"
#include "controller/scheduler.h"
#include "controller/work_dispatcher.h"
#include "grpcpp/server_builder.h"

namespace faultline::controller {

struct ControllerServer::Parts {
  ControllerOptions options;
  int port = 0;
  Clock clock = RealClock();
  std::unique_ptr<CampaignWatchHub> hub;
  std::unique_ptr<Scheduler> scheduler;
  std::unique_ptr<WorkDispatcher> dispatcher;
  std::unique_ptr<Fleet> fleet;
  std::unique_ptr<Campaigns> campaigns;
  std::unique_ptr<JobReports> reports;
  std::unique_ptr<LeaseReaper> reaper;
  std::unique_ptr<AgentServiceImpl> agent_service;
  std::unique_ptr<CampaignServiceImpl> campaign_service;
  std::unique_ptr<grpc::Server> server;
  bool shut_down = false;
};

absl::StatusOr<std::unique_ptr<ControllerServer>> ControllerServer::Start(
    Store* store, const ControllerOptions& options) {
  auto p = std::make_unique<Parts>();
  p->options = options;
  Parts* raw = p.get();
  // Anything that may create work or change progress wakes parked polls and watchers.
  auto changed = [raw] {
    if (raw->dispatcher) raw->dispatcher->Notify();
    if (raw->hub) raw->hub->Notify();
  };
  p->hub = std::make_unique<CampaignWatchHub>(store);
  Scheduler::Options sched;
  sched.lease = options.lease;
  p->scheduler = std::make_unique<Scheduler>(store, sched, p->clock);
  p->dispatcher = std::make_unique<WorkDispatcher>(p->scheduler.get(), p->clock);
  Fleet::Options fleet;
  fleet.heartbeat_interval = options.heartbeat_interval;
  p->fleet = std::make_unique<Fleet>(store, fleet, p->clock, changed);
  p->campaigns = std::make_unique<Campaigns>(store, p->fleet.get(), p->clock, changed);
  JobReports::Options reports;
  reports.lease = options.lease;
  p->reports = std::make_unique<JobReports>(store, reports, p->clock, changed);
  p->reaper = std::make_unique<LeaseReaper>(store, p->clock, options.max_attempts,
                                            options.reaper_interval, changed);
  p->agent_service = std::make_unique<AgentServiceImpl>(
      p->fleet.get(), p->dispatcher.get(), p->reports.get(), options.lease, p->clock);
  p->campaign_service = std::make_unique<CampaignServiceImpl>(p->campaigns.get(),
                                                              p->fleet.get(), store, p->hub.get());

  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, grpc::InsecureServerCredentials(), &p->port);
  builder.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  builder.RegisterService(p->agent_service.get());
  builder.RegisterService(p->campaign_service.get());
  p->server = builder.BuildAndStart();
  if (p->server == nullptr || p->port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options.listen));
  }
  return std::unique_ptr<ControllerServer>(new ControllerServer(std::move(p)));
}

ControllerServer::ControllerServer(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

ControllerServer::~ControllerServer() { Shutdown(); }

int ControllerServer::port() const { return parts_->port; }

void ControllerServer::Shutdown() {
  if (parts_->shut_down) return;
  parts_->shut_down = true;
  // Parked polls must be finished before the server can drain its calls.
  parts_->dispatcher->Shutdown();
  parts_->server->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  parts_->server->Wait();
  parts_->reaper.reset();
}

void ControllerServer::Wait() { parts_->server->Wait(); }

}  // namespace faultline::controller
