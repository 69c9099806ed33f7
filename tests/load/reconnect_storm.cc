#include "tests/load/reconnect_storm.h"

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <queue>
#include <set>
#include <thread>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "agent/backoff.h"
#include "grpcpp/grpcpp.h"
#include "proto/faultline/v1/campaign_service.grpc.pb.h"

namespace faultline::load {
namespace {

using faultline::testing::Subprocess;

constexpr char kRetryAfter[] = "retry-after-ms";

enum class Action { kRegister, kHeartbeat, kPoll };

struct Timer {
  absl::Time at;
  int agent;
  Action action;
  int epoch;
};

struct Later {
  bool operator()(const Timer& a, const Timer& b) const { return a.at > b.at; }
};

// The simulated fleet: every agent's next step waits in one timer queue that the benchmark's
// main thread runs; RPCs are asynchronous, so 10,000 agents need no thread each. An epoch
// number separates the fleet before the restart from the fleet after it: steps and replies of
// an older epoch are dropped.
class Storm {
 public:
  Storm(const StormOptions& options, std::vector<v1::AgentService::Stub*> stubs)
      : options_(options) {
    for (int i = 0; i < options.agents; ++i) {
      agents_.push_back(std::make_unique<AgentState>(
          absl::StrFormat("sim-%05d", i), stubs[i % stubs.size()], options));
    }
  }

  std::atomic<int> registered{0};
  std::atomic<int> attempts{0};
  std::atomic<int> refused{0};
  std::atomic<int> unavailable{0};
  // Held in the client past the call's deadline (the connection's streams were all open) or
  // not answered in time.
  std::atomic<int> deadline_exceeded{0};
  std::atomic<int> other_failures{0};
  std::atomic<int> polls_turned_away{0};
  std::atomic<int> poll_failures{0};
  std::atomic<int> heartbeat_failures{0};
  std::atomic<int> outstanding{0};
  std::atomic<bool> stopping{false};
  Latencies admitted_latency, refused_latency, time_to_register, heartbeat_latency;

  // Forgets the current fleet's registrations and pending steps.
  void NewEpoch() {
    absl::MutexLock lock(&mu_);
    ++epoch_;
    timers_ = {};
    for (auto& a : agents_) {
      a->registered = false;
      a->backoff.Reset();
    }
  }

  // Every agent's first Register falls uniformly in [from, from + window].
  void ScheduleRegistrations(absl::Time from, absl::Duration window) {
    absl::MutexLock lock(&mu_);
    for (size_t i = 0; i < agents_.size(); ++i) {
      const absl::Time at = from + window * absl::Uniform(rng_, 0.0, 1.0);
      agents_[i]->first_attempt = at;
      timers_.push(Timer{at, int(i), Action::kRegister, epoch_});
    }
  }

  // Runs due steps on this thread until `done` holds or `deadline` passes.
  void Run(const std::function<bool()>& done, absl::Time deadline) {
    std::vector<Timer> due;
    while (!done() && absl::Now() < deadline) {
      due.clear();
      absl::Duration idle = absl::Milliseconds(5);
      {
        absl::MutexLock lock(&mu_);
        const absl::Time now = absl::Now();
        while (!timers_.empty() && timers_.top().at <= now && due.size() < 2000) {
          due.push_back(timers_.top());
          timers_.pop();
        }
        if (!timers_.empty()) idle = std::min(idle, timers_.top().at - now);
      }
      for (const Timer& t : due) {
        switch (t.action) {
          case Action::kRegister:
            Register(t.agent, t.epoch);
            break;
          case Action::kHeartbeat:
            Heartbeat(t.agent, t.epoch);
            break;
          case Action::kPoll:
            Poll(t.agent, t.epoch);
            break;
        }
      }
      if (due.empty() && idle > absl::ZeroDuration()) absl::SleepFor(idle);
    }
  }

  // Sets what the counters and latencies collect from now on.
  void ResetFigures() {
    registered = attempts = refused = unavailable = deadline_exceeded = other_failures = 0;
    polls_turned_away = poll_failures = heartbeat_failures = 0;
    admitted_latency.Clear();
    refused_latency.Clear();
    time_to_register.Clear();
    heartbeat_latency.Clear();
  }

 private:
  struct AgentState {
    AgentState(std::string id_in, v1::AgentService::Stub* stub_in, const StormOptions& o)
        : id(std::move(id_in)), stub(stub_in), backoff(o.initial_backoff, o.max_backoff) {}
    const std::string id;
    v1::AgentService::Stub* const stub;
    // Guarded by Storm::mu_.
    agent::Backoff backoff;
    absl::Time first_attempt;
    bool registered = false;
  };

  bool Current(int epoch) {
    absl::MutexLock lock(&mu_);
    return epoch == epoch_ && !stopping;
  }

  void Schedule(absl::Time at, int agent, Action action, int epoch) {
    absl::MutexLock lock(&mu_);
    if (epoch != epoch_ || stopping) return;
    timers_.push(Timer{at, agent, action, epoch});
  }

  void Register(int i, int epoch) {
    struct Call {
      grpc::ClientContext ctx;
      v1::RegisterRequest req;
      v1::RegisterResponse resp;
      absl::Time start = absl::Now();
    };
    AgentState& agent = *agents_[i];
    auto* call = new Call;
    call->ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    call->req = SimRegisterRequest(agent.id);
    ++outstanding;
    ++attempts;
    agent.stub->async()->Register(
        &call->ctx, &call->req, &call->resp, [this, i, epoch, call](grpc::Status s) {
          const absl::Time now = absl::Now();
          AgentState& agent = *agents_[i];
          if (s.ok()) {
            admitted_latency.Add(now - call->start);
            absl::Time first;
            bool current;
            {
              absl::MutexLock lock(&mu_);
              current = epoch == epoch_;
              if (current && !agent.registered) {
                agent.registered = true;
                first = agent.first_attempt;
              } else {
                current = false;
              }
            }
            if (current) {
              ++registered;
              time_to_register.Add(now - first);
              const absl::Duration interval = absl::Seconds(options_.launch.heartbeat_seconds);
              absl::Duration first_beat;
              {
                absl::MutexLock lock(&mu_);
                first_beat = interval * absl::Uniform(rng_, 0.0, 1.0);
              }
              Schedule(now + first_beat, i, Action::kHeartbeat, epoch);
              Poll(i, epoch);
            }
          } else {
            std::optional<absl::Duration> hint;
            if (s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
              ++refused;
              refused_latency.Add(now - call->start);
              hint = TrailingMilliseconds(call->ctx, kRetryAfter);
            } else if (s.error_code() == grpc::StatusCode::UNAVAILABLE) {
              ++unavailable;
            } else if (s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
              ++deadline_exceeded;
            } else {
              ++other_failures;
            }
            absl::Duration wait;
            {
              absl::MutexLock lock(&mu_);
              wait = agent.backoff.NextFullJitter(hint);
            }
            Schedule(now + wait, i, Action::kRegister, epoch);
          }
          --outstanding;
          delete call;
        });
  }

  void Heartbeat(int i, int epoch) {
    struct Call {
      grpc::ClientContext ctx;
      v1::HeartbeatRequest req;
      v1::HeartbeatResponse resp;
      absl::Time start = absl::Now();
    };
    AgentState& agent = *agents_[i];
    auto* call = new Call;
    call->ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    call->req.set_agent_id(agent.id);
    call->req.set_state(v1::AGENT_STATE_IDLE);
    ++outstanding;
    agent.stub->async()->Heartbeat(
        &call->ctx, &call->req, &call->resp, [this, i, epoch, call](grpc::Status s) {
          if (Current(epoch)) {
            heartbeat_latency.Add(absl::Now() - call->start);
            if (!s.ok()) ++heartbeat_failures;
            Schedule(call->start + absl::Seconds(options_.launch.heartbeat_seconds), i,
                     Action::kHeartbeat, epoch);
          }
          --outstanding;
          delete call;
        });
  }

  void Poll(int i, int epoch) {
    struct Call {
      grpc::ClientContext ctx;
      v1::PollWorkRequest req;
      v1::PollWorkResponse resp;
    };
    AgentState& agent = *agents_[i];
    auto* call = new Call;
    call->ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(40)));
    call->req.set_agent_id(agent.id);
    call->req.set_wait_seconds(20);
    ++outstanding;
    agent.stub->async()->PollWork(
        &call->ctx, &call->req, &call->resp, [this, i, epoch, call](grpc::Status s) {
          if (Current(epoch)) {
            const absl::Time now = absl::Now();
            if (!s.ok()) {
              ++poll_failures;
              absl::Duration wait;
              {
                absl::MutexLock lock(&mu_);
                wait = absl::Seconds(2) * absl::Uniform(rng_, 0.0, 1.0);
              }
              Schedule(now + wait, i, Action::kPoll, epoch);
            } else if (std::optional<absl::Duration> hint =
                           TrailingMilliseconds(call->ctx, kRetryAfter)) {
              ++polls_turned_away;
              Schedule(now + *hint, i, Action::kPoll, epoch);
            } else {
              Schedule(now, i, Action::kPoll, epoch);
            }
          }
          --outstanding;
          delete call;
        });
  }

  const StormOptions options_;
  absl::Mutex mu_;
  std::priority_queue<Timer, std::vector<Timer>, Later> timers_ ABSL_GUARDED_BY(mu_);
  int epoch_ ABSL_GUARDED_BY(mu_) = 0;
  absl::BitGen rng_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<AgentState>> agents_;
};

double MiB(int64_t kib) { return kib / 1024.0; }

}  // namespace

int RunReconnectStorm(const StormOptions& options) {
  const int n = options.agents;
  Subprocess first;
  absl::StatusOr<int> port = StartController(options.launch, 0, "controller-1", &first);
  if (!port.ok()) {
    std::fprintf(stderr, "%s\n", std::string(port.status().message()).c_str());
    return 1;
  }
  const std::string address = absl::StrCat("127.0.0.1:", *port);
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  std::vector<std::unique_ptr<v1::AgentService::Stub>> stubs;
  std::vector<v1::AgentService::Stub*> stub_ptrs;
  for (int c = 0; c < ChannelsFor(n, options.agents_per_channel); ++c) {
    grpc::ChannelArguments args;
    args.SetInt("faultline.load.channel", c);  // Distinct args: a distinct connection.
    channels.push_back(
        grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args));
    stubs.push_back(v1::AgentService::NewStub(channels.back()));
    stub_ptrs.push_back(stubs.back().get());
  }
  const std::string flags =
      options.launch.extra_flags.empty() ? "defaults"
                                         : absl::StrJoin(options.launch.extra_flags, " ");
  std::printf("reconnect storm: %d agents over %d channels (%d per channel), heartbeat %ds, re-registration "
              "window %.0fs, restart by %s; controller admission flags: %s\n",
              n, int(stubs.size()), options.agents_per_channel, options.launch.heartbeat_seconds,
              absl::ToDoubleSeconds(options.window),
              options.restart_signal == SIGKILL ? "SIGKILL" : "SIGTERM", flags.c_str());

  Storm storm(options, stub_ptrs);
  // Phase 1: the fleet registers and settles into heartbeats and parked polls.
  const absl::Time start = absl::Now();
  storm.ScheduleRegistrations(start, options.initial_window);
  storm.Run([&] { return storm.registered.load() >= n; },
            start + options.initial_window + options.storm_timeout);
  std::printf("initial:   %d/%d registered in %.1fs (refused %d, retries %d)\n",
              storm.registered.load(), n, absl::ToDoubleSeconds(absl::Now() - start),
              storm.refused.load(), storm.attempts.load() - storm.registered.load());
  storm.heartbeat_latency.Clear();
  storm.heartbeat_failures = 0;
  storm.Run([] { return false; }, absl::Now() + options.warmup);
  const ProcStats before = ReadProc(first.pid());
  std::printf("steady:    heartbeat latency %s, %d failed; controller RSS %.1f MiB (peak %.1f "
              "MiB)\n",
              storm.heartbeat_latency.Summary().c_str(), storm.heartbeat_failures.load(),
              MiB(before.rss_kib), MiB(before.peak_rss_kib));

  // Phase 2: the controller goes away and comes back on the same store and port while the
  // fleet re-registers.
  storm.NewEpoch();
  storm.ResetFigures();
  const absl::Time kill = absl::Now();
  storm.ScheduleRegistrations(kill, options.window);
  Subprocess second;
  std::atomic<bool> restarted{false};
  absl::Time serving;
  absl::Status restart_status;
  std::thread restart([&] {
    first.Stop(options.restart_signal, absl::Seconds(30));
    absl::StatusOr<int> again = StartController(options.launch, *port, "controller-2", &second);
    serving = absl::Now();
    if (!again.ok()) restart_status = again.status();
    restarted = true;
  });
  int64_t peak_sampled_kib = 0;
  int peak_threads = 0;
  const absl::Time storm_deadline = kill + options.window + options.storm_timeout;
  absl::Time next_sample = kill;
  storm.Run(
      [&] {
        if (restarted && second.running() && absl::Now() >= next_sample) {
          const ProcStats now = ReadProc(second.pid());
          peak_sampled_kib = std::max(peak_sampled_kib, now.rss_kib);
          peak_threads = std::max(peak_threads, now.threads);
          next_sample = absl::Now() + absl::Milliseconds(250);
        }
        return restarted && storm.registered.load() >= n;
      },
      storm_deadline);
  restart.join();
  if (!restart_status.ok()) {
    std::fprintf(stderr, "restart failed: %s\n", std::string(restart_status.message()).c_str());
    storm.stopping = true;
    return 1;
  }
  const absl::Time all_back = absl::Now();
  const ProcStats during = ReadProc(second.pid());
  std::printf("restart:   controller down and serving again in %.2fs\n",
              absl::ToDoubleSeconds(serving - kill));
  std::printf("storm:     %d/%d registered again %.1fs after the kill (%.1fs after the new "
              "controller served)\n",
              storm.registered.load(), n, absl::ToDoubleSeconds(all_back - kill),
              absl::ToDoubleSeconds(all_back - serving));
  std::printf("           %d Register attempts: %d admitted, %d refused RESOURCE_EXHAUSTED, %d "
              "unavailable, %d deadline exceeded, %d other errors; %d retries\n",
              storm.attempts.load(), storm.registered.load(), storm.refused.load(),
              storm.unavailable.load(), storm.deadline_exceeded.load(),
              storm.other_failures.load(), storm.attempts.load() - storm.registered.load());
  std::printf("           register latency, admitted: %s\n",
              storm.admitted_latency.Summary().c_str());
  std::printf("           register latency, refused:  %s\n",
              storm.refused_latency.Summary().c_str());
  std::printf("           time from first attempt to registered: %s\n",
              storm.time_to_register.Summary().c_str());
  std::printf("           heartbeats of agents back: %s, %d failed\n",
              storm.heartbeat_latency.Summary().c_str(), storm.heartbeat_failures.load());
  std::printf("           polls turned away by the parked-poll cap %d, polls failed %d\n",
              storm.polls_turned_away.load(), storm.poll_failures.load());
  std::printf("           controller peak RSS (VmHWM) %.1f MiB, sampled peak %.1f MiB, RSS now "
              "%.1f MiB\n",
              MiB(during.peak_rss_kib), MiB(std::max(peak_sampled_kib, during.rss_kib)),
              MiB(during.rss_kib));
  std::printf("           controller threads: peak sampled %d, now %d\n",
              std::max(peak_threads, during.threads), during.threads);

  // Phase 3: the fleet settles again; then the store must hold every agent exactly once.
  storm.heartbeat_latency.Clear();
  storm.heartbeat_failures = 0;
  storm.Run([] { return false; }, absl::Now() + absl::Seconds(options.launch.heartbeat_seconds));
  std::printf("settled:   heartbeat latency %s, %d failed\n",
              storm.heartbeat_latency.Summary().c_str(), storm.heartbeat_failures.load());
  grpc::ChannelArguments big;
  big.SetMaxReceiveMessageSize(-1);
  auto campaigns = v1::CampaignService::NewStub(
      grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), big));
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
  v1::ListAgentsRequest list_request;
  list_request.set_include_lost(true);
  v1::ListAgentsResponse listed;
  grpc::Status listed_status = campaigns->ListAgents(&ctx, list_request, &listed);
  if (!listed_status.ok()) {
    std::printf("end:       ListAgents failed: %s\n", listed_status.error_message().c_str());
  } else {
    std::set<std::string> ids;
    int lost = 0;
    for (const v1::AgentInfo& a : listed.agents()) {
      ids.insert(a.agent_id());
      lost += a.state() == v1::AGENT_STATE_LOST;
    }
    std::printf("end:       ListAgents: %d agents, %d distinct, %d lost; every agent registered "
                "once: %s\n",
                listed.agents_size(), int(ids.size()), lost,
                listed.agents_size() == n && int(ids.size()) == n ? "yes" : "NO");
  }

  storm.stopping = true;
  second.Stop(SIGTERM, absl::Seconds(30));
  WaitFor([&] { return storm.outstanding.load() == 0; }, absl::Seconds(60));
  return 0;
}

}  // namespace faultline::load
