// The store keeps every acknowledged result across an unclean stop: synthetic agents stream
// results into a real faultline-controller over gRPC, the controller is SIGKILLed mid-stream,
// restarted on the same store (SQLite file in WAL mode, or PostgreSQL), and the stored runs are
// recounted. Every ReportResult that returned stored=true must be there, none twice, and the
// campaigns must still complete (the agents re-send what was never acknowledged, as the real
// agent's spool does).
#include <signal.h>
#include <sys/stat.h>

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/faultline/v1/agent_service.grpc.pb.h"
#include "tests/postgres/postgres_server.h"
#include "tests/testing/local_fleet.h"

namespace faultline {
namespace {

using testing::LocalFleet;

constexpr char kBenchmark[] = "durability_probe";
constexpr char kKernelLabel[] = "durability";
constexpr int kAgents = 4;
constexpr int kCampaigns = 2;
constexpr int kJobsPerCampaign = 150;
// Acknowledged results before each kill: well inside the stream of 300.
constexpr int kKillAfterAcks[] = {100, 200};

std::unique_ptr<v1::AgentService::Stub> AgentStub(const std::string& address) {
  grpc::ChannelArguments args;
  // Reconnect quickly once the controller is back, as a fleet of agents would within seconds.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
  return v1::AgentService::NewStub(
      grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args));
}

std::unique_ptr<grpc::ClientContext> Context(absl::Duration timeout) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  return ctx;
}

v1::HostFingerprint Host(const std::string& agent_id) {
  v1::HostFingerprint host;
  host.set_hostname(agent_id);
  host.set_arch(v1::ARCH_X86_64);
  host.set_kernel_release("6.1.0-durability");
  host.set_kernel_label(kKernelLabel);
  host.set_host_class("durability-class");
  host.set_cpu_count(2);
  return host;
}

v1::RegisterRequest Registration(const std::string& agent_id) {
  v1::RegisterRequest request;
  request.set_agent_id(agent_id);
  *request.mutable_host() = Host(agent_id);
  v1::BenchmarkSpec* bench = request.add_catalog();
  bench->set_name(kBenchmark);
  v1::MetricSpec* metric = bench->add_metrics();
  metric->set_name("value");
  metric->set_unit("ns");
  metric->set_direction(v1::DIRECTION_LOWER_IS_BETTER);
  request.set_agent_version("durability-test");
  return request;
}

// What the agents saw; every field is written by the agents under `mu`.
struct Ledger {
  absl::Mutex mu;
  // (job id, attempt) of every ReportResult answered OK with stored=true.
  std::set<std::pair<std::string, uint32_t>> acknowledged ABSL_GUARDED_BY(mu);
  // Reports answered OK with stored=false: a re-send of one the store had committed before the
  // controller died, without the agent hearing back.
  int acknowledged_duplicates ABSL_GUARDED_BY(mu) = 0;
  // Refusals that are not the controller being down: each one is a test failure.
  std::vector<std::string> errors ABSL_GUARDED_BY(mu);
  // ReportResult calls sent and not yet answered, to show the kill lands mid-ingestion.
  std::atomic<int> reports_in_flight{0};
};

bool ControllerDown(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::UNAVAILABLE ||
         status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED ||
         status.error_code() == grpc::StatusCode::CANCELLED;
}

// One synthetic agent: lease, "run" instantly, report; a report the controller did not answer
// is kept and re-sent until it is (the spool's contract). Ends when `stop` is set or at
// `deadline`.
void RunAgent(const std::string& address, const std::string& agent_id,
              const std::atomic<bool>& stop, absl::Time deadline, Ledger& ledger) {
  std::unique_ptr<v1::AgentService::Stub> stub = AgentStub(address);
  std::optional<v1::ReportResultRequest> pending;
  absl::Time next_heartbeat = absl::InfinitePast();
  double value = 100;
  while (!stop.load() && absl::Now() < deadline) {
    if (pending.has_value()) {
      v1::ReportResultResponse response;
      ++ledger.reports_in_flight;
      grpc::Status status = stub->ReportResult(Context(absl::Seconds(5)).get(), *pending, &response);
      --ledger.reports_in_flight;
      if (ControllerDown(status)) {
        absl::SleepFor(absl::Milliseconds(50));
        continue;
      }
      absl::MutexLock lock(&ledger.mu);
      if (!status.ok()) {
        ledger.errors.push_back(absl::StrCat(agent_id, " ReportResult ", pending->job_id(), ": ",
                                             status.error_message()));
      } else if (response.stored()) {
        ledger.acknowledged.insert({pending->job_id(), pending->attempt()});
      } else {
        ++ledger.acknowledged_duplicates;
      }
      pending.reset();
      continue;
    }
    if (absl::Now() >= next_heartbeat) {
      v1::HeartbeatRequest beat;
      beat.set_agent_id(agent_id);
      beat.set_state(v1::AGENT_STATE_IDLE);
      v1::HeartbeatResponse answer;
      if (!stub->Heartbeat(Context(absl::Seconds(5)).get(), beat, &answer).ok()) {
        absl::SleepFor(absl::Milliseconds(50));
        continue;
      }
      if (answer.reregister()) {
        v1::RegisterResponse registered;
        (void)stub->Register(Context(absl::Seconds(5)).get(), Registration(agent_id), &registered);
      }
      next_heartbeat = absl::Now() + absl::Seconds(2);
    }
    v1::PollWorkRequest poll;
    poll.set_agent_id(agent_id);
    poll.set_wait_seconds(1);
    v1::PollWorkResponse work;
    grpc::Status status = stub->PollWork(Context(absl::Seconds(5)).get(), poll, &work);
    if (!status.ok()) {
      absl::SleepFor(absl::Milliseconds(50));
      continue;
    }
    if (!work.has_assignment()) continue;
    const v1::Assignment& assignment = work.assignment();
    v1::ReportResultRequest report;
    report.set_agent_id(agent_id);
    report.set_job_id(assignment.job().id());
    report.set_attempt(assignment.job().attempt());
    report.set_lease_id(assignment.lease_id());
    v1::RunResult* result = report.mutable_result();
    result->set_benchmark(kBenchmark);
    result->set_state(v1::RUN_STATE_OK);
    *result->mutable_host() = Host(agent_id);
    v1::Repetition* rep = result->add_repetitions();
    rep->set_index(0);
    v1::MetricValue* metric = rep->add_metrics();
    metric->set_name("value");
    metric->set_unit("ns");
    metric->set_direction(v1::DIRECTION_LOWER_IS_BETTER);
    metric->set_value(value += 1);
    rep->set_wall_ns(1000);
    pending = std::move(report);
  }
}

std::string CampaignText(int index) {
  std::string spec = absl::StrFormat(
      R"(name: "durability-%d" repetitions: 1 targets { kernel_label: "%s" } )", index,
      kKernelLabel);
  for (int j = 0; j < kJobsPerCampaign; ++j) {
    absl::StrAppend(&spec, "suite { benchmark: \"", kBenchmark, "\" warmup: 0 } ");
  }
  return spec;
}

// Every stored run of `campaign_ids`, through the controller's QueryResults.
absl::StatusOr<std::vector<v1::StoredRun>> StoredRuns(LocalFleet& fleet,
                                                      const std::vector<std::string>& ids) {
  std::vector<v1::StoredRun> runs;
  for (const std::string& id : ids) {
    v1::QueryResultsRequest request;
    request.set_campaign_id(id);
    request.set_limit(10000);
    v1::QueryResultsResponse response;
    grpc::Status status =
        fleet.stub()->QueryResults(Context(absl::Seconds(30)).get(), request, &response);
    if (!status.ok()) return absl::UnavailableError(status.error_message());
    runs.insert(runs.end(), response.runs().begin(), response.runs().end());
  }
  return runs;
}

// Starts the controller with `flags`, streams results, SIGKILLs it after each of
// kKillAfterAcks acknowledgements, restarts it and recounts.
void KillAndRecount(const std::string& store_name, const std::vector<std::string>& flags) {
  LocalFleet fleet(testing::MakeTempDir("durability-" + store_name));
  ASSERT_TRUE(fleet.StartController(flags).ok()) << fleet.Logs();
  std::vector<std::string> agent_ids;
  {
    std::unique_ptr<v1::AgentService::Stub> stub = AgentStub(fleet.address());
    for (int i = 0; i < kAgents; ++i) {
      agent_ids.push_back(absl::StrFormat("probe-%02d", i));
      v1::RegisterResponse response;
      grpc::Status status = stub->Register(Context(absl::Seconds(10)).get(),
                                           Registration(agent_ids.back()), &response);
      ASSERT_TRUE(status.ok()) << status.error_message();
    }
  }
  ASSERT_TRUE(fleet.WaitForAgents(kAgents).ok()) << fleet.Logs();
  std::vector<std::string> campaign_ids;
  for (int c = 0; c < kCampaigns; ++c) {
    absl::StatusOr<std::string> id = fleet.Submit(CampaignText(c));
    ASSERT_TRUE(id.ok()) << id.status() << fleet.Logs();
    campaign_ids.push_back(*id);
  }

  Ledger ledger;
  std::atomic<bool> stop{false};
  const absl::Time deadline = absl::Now() + absl::Seconds(50);
  std::vector<std::thread> agents;
  for (const std::string& id : agent_ids) {
    agents.emplace_back([&, id] { RunAgent(fleet.address(), id, stop, deadline, ledger); });
  }
  struct JoinAll {
    std::atomic<bool>& stop;
    std::vector<std::thread>& threads;
    ~JoinAll() {
      stop = true;
      for (std::thread& t : threads) t.join();
    }
  } join_all{stop, agents};

  auto acked = [&ledger] {
    absl::MutexLock lock(&ledger.mu);
    return static_cast<int>(ledger.acknowledged.size());
  };
  // Twice while results are still arriving: the second restart recovers a store that was
  // itself recovered from a kill.
  for (int kill_after : kKillAfterAcks) {
    for (int i = 0; i < 6000 && acked() < kill_after; ++i) absl::SleepFor(absl::Milliseconds(5));
    ASSERT_GE(acked(), kill_after) << "the stream stalled\n" << fleet.Logs();
    const int in_flight_at_kill = ledger.reports_in_flight.load();
    fleet.StopController(/*hard=*/true);
    std::set<std::pair<std::string, uint32_t>> acked_before_kill;
    {
      absl::MutexLock lock(&ledger.mu);
      acked_before_kill = ledger.acknowledged;
    }
    ASSERT_LT(acked_before_kill.size(), static_cast<size_t>(kCampaigns * kJobsPerCampaign))
        << "the kill came after the stream had ended";
    if (store_name == "sqlite") {
      // A clean close checkpoints and deletes the write-ahead log; after a kill it is still
      // there, and the restart has to recover from it.
      struct stat wal;
      ASSERT_EQ(stat((fleet.db_path() + "-wal").c_str(), &wal), 0)
          << "no write-ahead log left by the killed controller";
      std::printf("sqlite: %lld-byte write-ahead log left by the kill\n",
                  static_cast<long long>(wal.st_size));
    }

    ASSERT_TRUE(fleet.StartController(flags).ok()) << fleet.Logs();
    absl::StatusOr<std::vector<v1::StoredRun>> after_restart = StoredRuns(fleet, campaign_ids);
    ASSERT_TRUE(after_restart.ok()) << after_restart.status();
    std::set<std::pair<std::string, uint32_t>> found;
    for (const v1::StoredRun& run : *after_restart) found.insert({run.job_id(), run.attempt()});
    int acked_found = 0;
    for (const auto& key : acked_before_kill) {
      if (found.count(key) > 0) {
        ++acked_found;
      } else {
        ADD_FAILURE() << "acknowledged before the kill but lost: " << key.first << " attempt "
                      << key.second;
      }
    }
    std::printf("%s kill -9 recount: %zu acknowledged before the kill (%d reports in flight "
                "at it), %d of them found after restart; %zu runs stored at the recount\n",
                store_name.c_str(), acked_before_kill.size(), in_flight_at_kill, acked_found,
                found.size());
  }

  for (const std::string& id : campaign_ids) {
    absl::StatusOr<v1::Campaign> done = fleet.WaitForCampaign(
        id, [](const v1::Campaign& c) { return c.state() == v1::CAMPAIGN_STATE_SUCCEEDED; },
        absl::Seconds(30));
    ASSERT_TRUE(done.ok()) << done.status();
  }
  stop = true;

  absl::StatusOr<std::vector<v1::StoredRun>> final_runs = StoredRuns(fleet, campaign_ids);
  ASSERT_TRUE(final_runs.ok()) << final_runs.status();
  std::map<std::string, int> runs_per_job;
  std::set<std::pair<std::string, uint32_t>> stored;
  for (const v1::StoredRun& run : *final_runs) {
    runs_per_job[run.job_id()]++;
    stored.insert({run.job_id(), run.attempt()});
  }
  EXPECT_EQ(runs_per_job.size(), static_cast<size_t>(kCampaigns * kJobsPerCampaign));
  for (const auto& [job, n] : runs_per_job) EXPECT_EQ(n, 1) << job << " stored " << n << " times";
  absl::MutexLock lock(&ledger.mu);
  for (const auto& key : ledger.acknowledged) {
    EXPECT_EQ(stored.count(key), 1u) << "acknowledged but not stored: " << key.first;
  }
  for (const std::string& error : ledger.errors) ADD_FAILURE() << error;
  std::printf("%s final: %zu acknowledged in all, %d re-sends answered as already stored, "
              "%zu runs for %d jobs\n",
              store_name.c_str(), ledger.acknowledged.size(), ledger.acknowledged_duplicates,
              final_runs->size(), kCampaigns * kJobsPerCampaign);
}

// A lease granted by a PollWork whose answer died with the controller is only requeued when it
// lapses: the shortest lease the controller allows keeps the test short.
constexpr char kShortLease[] = "--lease_seconds=10";

TEST(Kill9RecountTest, SqliteKeepsEveryAcknowledgedResult) {
  KillAndRecount("sqlite", {kShortLease});
}

TEST(Kill9RecountTest, PostgresKeepsEveryAcknowledgedResult) {
  auto pg = testing::PostgresServer::Start();
  ASSERT_TRUE(pg.ok()) << pg.status();
  auto conninfo = (*pg)->CreateDatabase("faultline");
  ASSERT_TRUE(conninfo.ok()) << conninfo.status();
  KillAndRecount("postgres", {kShortLease, "--postgres=" + *conninfo});
}

}  // namespace
}  // namespace faultline
