// Load benchmark (not a test): simulated agents over real gRPC on loopback against a real
// faultline-controller process. Prints sustained agents, RPC latency quantiles, scheduling
// decisions per second, result ingestion in samples per second, and the controller's CPU and
// RSS. Every phase is bounded in count and time. --scenario=reconnect_storm instead restarts
// the controller under a registered fleet and measures the fleet coming back (reconnect_storm.h).
//
//   bazel run -c opt //tests/load:controller_load_bench -- --agents=10000
//   bazel run -c opt //tests/load:controller_load_bench -- --scenario=reconnect_storm
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "proto/faultline/v1/agent_service.grpc.pb.h"
#include "proto/faultline/v1/campaign_service.grpc.pb.h"
#include "tests/load/load_support.h"
#include "tests/load/reconnect_storm.h"
#include "tests/testing/subprocess.h"

ABSL_FLAG(int, agents, 10000, "Simulated agents (1..20000).");
ABSL_FLAG(int, heartbeat_seconds, 10, "Heartbeat interval of every simulated agent.");
ABSL_FLAG(int, steady_seconds, 30, "Length of the steady phase (heartbeats + parked polls).");
ABSL_FLAG(int, jobs, 2000, "Jobs in the scheduling/ingestion phase.");
ABSL_FLAG(int, repetitions, 20, "Repetitions per synthetic result.");
ABSL_FLAG(int, metrics, 10, "Metrics per repetition (samples per result = reps x metrics).");
ABSL_FLAG(int, agents_per_channel, 10,
          "Simulated agents sharing one gRPC channel (TCP connection). 10 keeps their open calls "
          "(at most 3 each) within the controller's --max_streams_per_connection (32), as real "
          "agents, one to a connection, are; more and the connection itself holds their calls.");
ABSL_FLAG(std::string, controller_binary, "", "faultline-controller to start (default: runfiles).");
ABSL_FLAG(bool, poll, true, "Keep a long-poll parked per agent during the steady phase.");
ABSL_FLAG(std::string, store_flag, "",
          "Extra controller flag selecting the store (e.g. --postgres=...); default SQLite.");
ABSL_FLAG(std::string, scenario, "steady",
          "steady (register, heartbeat, schedule, ingest) or reconnect_storm (restart the "
          "controller under the fleet; every agent registers again).");
ABSL_FLAG(std::vector<std::string>, controller_flags, {},
          "More controller flags, comma-separated (e.g. --register_rate=0,--max_parked_polls=0 "
          "to measure without admission control).");
ABSL_FLAG(int, storm_window_seconds, 10,
          "reconnect_storm: agents' first re-registrations fall uniformly in this window after "
          "the kill (0: all at once).");
ABSL_FLAG(int, storm_warmup_seconds, 10,
          "reconnect_storm: heartbeats and polls before the restart.");
ABSL_FLAG(std::string, restart_signal, "KILL",
          "reconnect_storm: KILL (a crash) or TERM (a graceful stop) before the restart.");

namespace {

namespace v1 = faultline::v1;
using faultline::testing::Subprocess;

using faultline::load::Latencies;
using faultline::load::ProcStats;
using faultline::load::ReadProc;
using faultline::load::WaitFor;

// The controller's retry-after-ms, spread like an agent's full jitter; 100 ms without one.
absl::Duration RetryHint(const grpc::ClientContext& ctx) {
  thread_local absl::BitGen gen;
  const absl::Duration hint = faultline::load::TrailingMilliseconds(ctx, "retry-after-ms")
                                   .value_or(absl::Milliseconds(100));
  return hint + hint * absl::Uniform(gen, 0.0, 1.0);
}

v1::BenchmarkSpec SyntheticSpec() {
  v1::BenchmarkSpec spec;
  spec.set_name("synthetic");
  return spec;
}

class Fleet;

// One simulated agent: registers, heartbeats on a timer, and keeps one PollWork outstanding;
// on an assignment it reports a synthetic result at once and polls again.
class SimAgent {
 public:
  SimAgent(Fleet* fleet, int index, v1::AgentService::Stub* stub);
  void Register();
  void Heartbeat();
  void Poll();

 private:
  void Report(const v1::Assignment& a);
  Fleet* fleet_;
  std::string id_;
  v1::AgentService::Stub* stub_;
};

class Fleet {
 public:
  std::atomic<int> registered{0};
  std::atomic<int> register_failures{0};
  std::atomic<int> heartbeat_failures{0};
  std::atomic<int> poll_failures{0};
  std::atomic<int> assignments{0};
  std::atomic<int64_t> samples_stored{0};
  std::atomic<int> reports_stored{0};
  std::atomic<int> report_failures{0};
  std::atomic<bool> stopping{false};
  std::atomic<int> outstanding{0};
  // Calls refused with RESOURCE_EXHAUSTED, retried after the controller's hint.
  std::atomic<int> register_refusals{0};
  std::atomic<int> report_refusals{0};
  Latencies register_latency, heartbeat_latency, report_latency;
  int repetitions = 0, metrics = 0;
  faultline::load::DelayedCalls retries;
};

SimAgent::SimAgent(Fleet* fleet, int index, v1::AgentService::Stub* stub)
    : fleet_(fleet), id_(absl::StrFormat("sim-%05d", index)), stub_(stub) {}

void SimAgent::Register() {
  struct Call {
    grpc::ClientContext ctx;
    v1::RegisterRequest req;
    v1::RegisterResponse resp;
    absl::Time start = absl::Now();
  };
  auto* call = new Call;
  call->ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
  call->req.set_agent_id(id_);
  v1::HostFingerprint* host = call->req.mutable_host();
  host->set_arch(v1::ARCH_X86_64);
  host->set_kernel_release("6.18.0-sim");
  host->set_kernel_label("stock");
  host->set_host_class("sim");
  *call->req.add_catalog() = SyntheticSpec();
  fleet_->outstanding++;
  stub_->async()->Register(&call->ctx, &call->req, &call->resp, [this, call](grpc::Status s) {
    fleet_->register_latency.Add(absl::Now() - call->start);
    if (s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED && !fleet_->stopping) {
      fleet_->register_refusals++;
      fleet_->outstanding++;
      fleet_->retries.After(RetryHint(call->ctx), [this] {
        Register();
        fleet_->outstanding--;
      });
    } else {
      s.ok() ? fleet_->registered++ : fleet_->register_failures++;
    }
    fleet_->outstanding--;
    delete call;
  });
}

void SimAgent::Heartbeat() {
  struct Call {
    grpc::ClientContext ctx;
    v1::HeartbeatRequest req;
    v1::HeartbeatResponse resp;
    absl::Time start = absl::Now();
  };
  auto* call = new Call;
  call->ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  call->req.set_agent_id(id_);
  call->req.set_state(v1::AGENT_STATE_IDLE);
  fleet_->outstanding++;
  stub_->async()->Heartbeat(&call->ctx, &call->req, &call->resp, [this, call](grpc::Status s) {
    fleet_->heartbeat_latency.Add(absl::Now() - call->start);
    if (!s.ok()) fleet_->heartbeat_failures++;
    fleet_->outstanding--;
    delete call;
  });
}

void SimAgent::Poll() {
  if (fleet_->stopping) return;
  struct Call {
    grpc::ClientContext ctx;
    v1::PollWorkRequest req;
    v1::PollWorkResponse resp;
  };
  auto* call = new Call;
  call->ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(40)));
  call->req.set_agent_id(id_);
  call->req.set_wait_seconds(20);
  fleet_->outstanding++;
  stub_->async()->PollWork(&call->ctx, &call->req, &call->resp, [this, call](grpc::Status s) {
    if (!s.ok()) {
      fleet_->poll_failures++;
    } else if (call->resp.has_assignment()) {
      fleet_->assignments++;
      Report(call->resp.assignment());
    } else {
      Poll();
    }
    fleet_->outstanding--;
    delete call;
  });
}

void SimAgent::Report(const v1::Assignment& a) {
  struct Call {
    grpc::ClientContext ctx;
    v1::ReportResultRequest req;
    v1::ReportResultResponse resp;
    absl::Time start = absl::Now();
  };
  auto* call = new Call;
  call->ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
  call->req.set_agent_id(id_);
  call->req.set_job_id(a.job().id());
  call->req.set_attempt(a.job().attempt());
  call->req.set_lease_id(a.lease_id());
  v1::RunResult* r = call->req.mutable_result();
  r->set_benchmark("synthetic");
  r->set_state(v1::RUN_STATE_OK);
  for (int i = 0; i < fleet_->repetitions; ++i) {
    v1::Repetition* rep = r->add_repetitions();
    rep->set_index(i);
    for (int m = 0; m < fleet_->metrics; ++m) {
      v1::MetricValue* mv = rep->add_metrics();
      mv->set_name(absl::StrCat("metric_", m));
      mv->set_unit("ns");
      mv->set_direction(v1::DIRECTION_LOWER_IS_BETTER);
      mv->set_value(1000 + i + m);
    }
  }
  const int64_t samples = int64_t{fleet_->repetitions} * fleet_->metrics;
  fleet_->outstanding++;
  stub_->async()->ReportResult(&call->ctx, &call->req, &call->resp,
                               [this, call, samples, a](grpc::Status s) {
                                 fleet_->report_latency.Add(absl::Now() - call->start);
                                 if (s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED &&
                                     !fleet_->stopping) {
                                   fleet_->report_refusals++;
                                   fleet_->outstanding++;
                                   fleet_->retries.After(RetryHint(call->ctx), [this, a] {
                                     Report(a);
                                     fleet_->outstanding--;
                                   });
                                   fleet_->outstanding--;
                                   delete call;
                                   return;
                                 }
                                 if (s.ok() && call->resp.stored()) {
                                   fleet_->reports_stored++;
                                   fleet_->samples_stored += samples;
                                 } else {
                                   fleet_->report_failures++;
                                 }
                                 fleet_->outstanding--;
                                 Poll();
                                 delete call;
                               });
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const int n = std::clamp(absl::GetFlag(FLAGS_agents), 1, 20000);
  const int heartbeat_s = std::max(1, absl::GetFlag(FLAGS_heartbeat_seconds));
  const int jobs = std::clamp(absl::GetFlag(FLAGS_jobs), 0, 100000);

  // Each agent holds a connection-multiplexed stream; raise the fd limit for the sockets.
  rlimit nofile{65536, 65536};
  setrlimit(RLIMIT_NOFILE, &nofile);

  std::string dir = faultline::testing::MakeTempDir("load");
  if (dir.empty()) dir = "/tmp";
  std::string binary = absl::GetFlag(FLAGS_controller_binary);
  if (binary.empty()) binary = faultline::testing::RunfilePath("controller/faultline-controller");
  if (absl::GetFlag(FLAGS_scenario) == "reconnect_storm") {
    faultline::load::StormOptions storm;
    storm.launch.binary = binary;
    storm.launch.dir = dir;
    storm.launch.store_flag = absl::GetFlag(FLAGS_store_flag);
    storm.launch.heartbeat_seconds = heartbeat_s;
    storm.launch.extra_flags = absl::GetFlag(FLAGS_controller_flags);
    storm.agents = n;
    storm.agents_per_channel = absl::GetFlag(FLAGS_agents_per_channel);
    storm.window = absl::Seconds(std::clamp(absl::GetFlag(FLAGS_storm_window_seconds), 0, 600));
    storm.warmup = absl::Seconds(std::clamp(absl::GetFlag(FLAGS_storm_warmup_seconds), 0, 600));
    const std::string signal = absl::GetFlag(FLAGS_restart_signal);
    if (signal != "KILL" && signal != "TERM") {
      std::fprintf(stderr, "--restart_signal: must be KILL or TERM, got \"%s\"\n",
                   signal.c_str());
      return 2;
    }
    storm.restart_signal = signal == "KILL" ? SIGKILL : SIGTERM;
    return faultline::load::RunReconnectStorm(storm);
  }
  if (absl::GetFlag(FLAGS_scenario) != "steady") {
    std::fprintf(stderr, "--scenario: must be steady or reconnect_storm, got \"%s\"\n",
                 absl::GetFlag(FLAGS_scenario).c_str());
    return 2;
  }
  faultline::load::ControllerLaunch launch;
  launch.binary = binary;
  launch.dir = dir;
  launch.store_flag = absl::GetFlag(FLAGS_store_flag);
  launch.heartbeat_seconds = heartbeat_s;
  launch.extra_flags = absl::GetFlag(FLAGS_controller_flags);
  Subprocess controller;
  absl::StatusOr<int> port =
      faultline::load::StartController(launch, 0, "controller", &controller);
  if (!port.ok()) {
    std::fprintf(stderr, "%s\n", std::string(port.status().message()).c_str());
    return 1;
  }
  const std::string address = absl::StrCat("127.0.0.1:", *port);

  std::vector<std::shared_ptr<grpc::Channel>> channels;
  std::vector<std::unique_ptr<v1::AgentService::Stub>> stubs;
  for (int c = 0; c < faultline::load::ChannelsFor(n, absl::GetFlag(FLAGS_agents_per_channel));
       ++c) {
    grpc::ChannelArguments args;
    args.SetInt("faultline.load.channel", c);  // Distinct args: a distinct connection.
    channels.push_back(
        grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args));
    stubs.push_back(v1::AgentService::NewStub(channels.back()));
  }

  Fleet fleet;
  fleet.repetitions = absl::GetFlag(FLAGS_repetitions);
  fleet.metrics = absl::GetFlag(FLAGS_metrics);
  std::vector<std::unique_ptr<SimAgent>> agents;
  for (int i = 0; i < n; ++i) {
    agents.push_back(std::make_unique<SimAgent>(&fleet, i, stubs[i % stubs.size()].get()));
  }

  std::printf("faultline controller load benchmark: %d agents, heartbeat %ds, %d channels\n", n,
              heartbeat_s, int(stubs.size()));
  // Phase 1: registration, at most 500 in flight.
  const absl::Time reg_start = absl::Now();
  for (int i = 0; i < n; ++i) {
    WaitFor([&] { return fleet.outstanding.load() < 500; }, absl::Seconds(60));
    agents[i]->Register();
  }
  WaitFor([&] { return fleet.registered + fleet.register_failures >= n; }, absl::Seconds(120));
  const double reg_s = absl::ToDoubleSeconds(absl::Now() - reg_start);
  std::printf("register:   %d ok, %d failed in %.1fs (%.0f/s), %d refused and retried; "
              "latency %s\n",
              fleet.registered.load(), fleet.register_failures.load(), reg_s, n / reg_s,
              fleet.register_refusals.load(), fleet.register_latency.Summary().c_str());

  // Phase 2: steady state. Every agent keeps a long-poll parked and heartbeats on schedule.
  if (absl::GetFlag(FLAGS_poll)) {
    for (auto& a : agents) a->Poll();
  }
  const ProcStats before = ReadProc(controller.pid());
  const absl::Time steady_start = absl::Now();
  const absl::Duration steady = absl::Seconds(absl::GetFlag(FLAGS_steady_seconds));
  const absl::Duration spacing = absl::Seconds(heartbeat_s) / n;
  int64_t beats = 0;
  int64_t peak_rss = 0;
  while (absl::Now() - steady_start < steady) {
    // Heartbeat i is due at steady_start + (beats) * spacing: spread evenly over the interval.
    const absl::Time due = steady_start + beats * spacing;
    if (absl::Now() < due) {
      absl::SleepFor(std::min(due - absl::Now(), absl::Milliseconds(5)));
      continue;
    }
    agents[beats % n]->Heartbeat();
    ++beats;
    if (beats % 1000 == 0) peak_rss = std::max(peak_rss, ReadProc(controller.pid()).rss_kib);
  }
  const ProcStats after = ReadProc(controller.pid());
  const double steady_s = absl::ToDoubleSeconds(absl::Now() - steady_start);
  peak_rss = std::max(peak_rss, after.rss_kib);
  std::printf("steady:     %.0fs, %" PRId64 " heartbeats (%.0f/s), %d failed; polls failed %d\n",
              steady_s, beats, beats / steady_s, fleet.heartbeat_failures.load(),
              fleet.poll_failures.load());
  std::printf("            heartbeat latency %s\n", fleet.heartbeat_latency.Summary().c_str());
  std::printf("            controller CPU %.0f%% of one core, RSS %.1f MiB (peak %.1f MiB)\n",
              100 * (after.cpu_seconds - before.cpu_seconds) / steady_s, after.rss_kib / 1024.0,
              peak_rss / 1024.0);

  // Phase 3: scheduling and ingestion: one campaign of `jobs` jobs for any agent.
  if (jobs > 0) {
    auto campaigns = v1::CampaignService::NewStub(channels[0]);
    // One campaign holds at most 256 invocations; fan the rest out as further campaigns.
    std::vector<v1::SubmitCampaignRequest> requests;
    for (int start = 0; start < jobs; start += 256) {
      v1::SubmitCampaignRequest r;
      r.mutable_spec()->set_name(absl::StrCat("load-", start / 256));
      r.mutable_spec()->add_targets();
      for (int j = start; j < std::min(jobs, start + 256); ++j) {
        v1::BenchmarkInvocation* inv = r.mutable_spec()->add_suite();
        inv->set_benchmark("synthetic");
        inv->set_repetitions(1);
      }
      requests.push_back(std::move(r));
    }
    const ProcStats cpu0 = ReadProc(controller.pid());
    const absl::Time start = absl::Now();
    for (const auto& r : requests) {
      grpc::ClientContext ctx;
      ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
      v1::Campaign c;
      grpc::Status s = campaigns->SubmitCampaign(&ctx, r, &c);
      if (!s.ok()) std::fprintf(stderr, "submit failed: %s\n", s.error_message().c_str());
    }
    WaitFor([&] { return fleet.reports_stored + fleet.report_failures >= jobs; },
            absl::Seconds(300));
    const double secs = absl::ToDoubleSeconds(absl::Now() - start);
    const ProcStats cpu1 = ReadProc(controller.pid());
    std::printf("schedule:   %d jobs assigned and reported in %.1fs: %.0f scheduling decisions/s\n",
                fleet.assignments.load(), secs, fleet.assignments / secs);
    std::printf("ingest:     %d results stored (%d failed, %d refused and retried), %" PRId64
                " samples: %.0f samples/s; report latency %s\n",
                fleet.reports_stored.load(), fleet.report_failures.load(),
                fleet.report_refusals.load(),
                fleet.samples_stored.load(), fleet.samples_stored / secs,
                fleet.report_latency.Summary().c_str());
    std::printf("            controller CPU %.0f%% of one core, RSS %.1f MiB\n",
                100 * (cpu1.cpu_seconds - cpu0.cpu_seconds) / secs, cpu1.rss_kib / 1024.0);
  }

  fleet.stopping = true;
  controller.Stop(SIGTERM, absl::Seconds(30));
  WaitFor([&] { return fleet.outstanding.load() == 0; }, absl::Seconds(30));
  return 0;
}
