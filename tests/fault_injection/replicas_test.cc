// Two controller replicas on one real PostgreSQL server with 20 real agents split between them:
// every job is leased exactly once and stored exactly once, and both replicas share the work.
#include <cstdio>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "tests/postgres/postgres_server.h"
#include "tests/testing/local_fleet.h"

namespace faultline {
namespace {

using testing::LocalFleet;

TEST(ReplicasTest, TwoControllersOnOnePostgresNeverAssignAJobTwice) {
  auto pg = testing::PostgresServer::Start();
  ASSERT_TRUE(pg.ok()) << pg.status();
  auto conninfo = (*pg)->CreateDatabase("faultline");
  ASSERT_TRUE(conninfo.ok()) << conninfo.status();

  LocalFleet a(testing::MakeTempDir("replica-a"));
  LocalFleet b(testing::MakeTempDir("replica-b"));
  ASSERT_TRUE(a.StartController({"--postgres=" + *conninfo}).ok()) << a.Logs();
  ASSERT_TRUE(b.StartController({"--postgres=" + *conninfo}).ok()) << b.Logs();
  constexpr int kAgentsPerReplica = 10;
  for (int i = 0; i < kAgentsPerReplica; ++i) {
    ASSERT_TRUE(a.StartAgent({absl::StrFormat("a%02d", i), "stock", {}, ""}).ok()) << a.Logs();
    ASSERT_TRUE(b.StartAgent({absl::StrFormat("b%02d", i), "stock", {}, ""}).ok()) << b.Logs();
  }
  // Both replicas see all 20 agents: the registry is the shared database.
  ASSERT_TRUE(a.WaitForAgents(2 * kAgentsPerReplica).ok());
  ASSERT_TRUE(b.WaitForAgents(2 * kAgentsPerReplica).ok());

  constexpr int kJobs = 60;
  std::string spec = R"(name: "replicas" repetitions: 1 targets { kernel_label: "stock" } )";
  for (int j = 0; j < kJobs; ++j) {
    absl::StrAppend(&spec, R"(suite { benchmark: "fault_anon" warmup: 0
        params { key: "region_mib" value { int_value: 1 } }
        params { key: "passes" value { int_value: 1 } } } )");
  }
  auto id = a.Submit(spec);
  ASSERT_TRUE(id.ok()) << id.status();
  // Watched through the other replica: campaign state lives in the store, not in a process.
  auto done = b.WaitForCampaign(
      *id, [](const v1::Campaign& c) { return c.state() == v1::CAMPAIGN_STATE_SUCCEEDED; },
      absl::Seconds(180));
  ASSERT_TRUE(done.ok()) << done.status() << a.Logs() << b.Logs();

  std::vector<v1::StoredRun> runs = b.Runs(*id);
  std::set<std::string> jobs;
  std::map<char, int> by_replica;
  for (const auto& run : runs) {
    EXPECT_TRUE(jobs.insert(run.job_id()).second) << "stored twice: " << run.job_id();
    EXPECT_EQ(run.attempt(), 1u) << run.job_id() << " was leased more than once";
    by_replica[run.agent_id()[0]]++;
  }
  EXPECT_EQ(jobs.size(), static_cast<size_t>(kJobs));
  // Both replicas hand out a fair share. The submission's commit wakes both dispatchers at once
  // (replica a by itself, replica b by PostgreSQL's NOTIFY), while each replica has its 10
  // agents parked, and an agent holds one job at a time: each replica's first sweep leases one
  // job to each of its 10 agents, 20 of the 60, whoever runs first. So each replica hands out
  // at least 10 (a third of an even 30), however the rest falls. Without the notification,
  // replica b only rescanned after a second, by which time fast jobs had often all gone to a.
  std::printf("jobs handed out: replica a %d, replica b %d\n", by_replica['a'], by_replica['b']);
  EXPECT_GE(by_replica['a'], kAgentsPerReplica);
  EXPECT_GE(by_replica['b'], kAgentsPerReplica);

  // No agent ever started a job another agent also started.
  std::map<std::string, int> starts;
  const std::regex running("running (c-[0-9]+/j-[0-9]+) attempt");
  for (LocalFleet* fleet : {&a, &b}) {
    for (int i = 0; i < kAgentsPerReplica; ++i) {
      const std::string log = testing::ReadFileOrEmpty(
          fleet->agent(absl::StrFormat("%c%02d", fleet == &a ? 'a' : 'b', i))->log_path());
      for (auto it = std::sregex_iterator(log.begin(), log.end(), running);
           it != std::sregex_iterator(); ++it) {
        starts[(*it)[1]]++;
      }
    }
  }
  EXPECT_EQ(starts.size(), static_cast<size_t>(kJobs));
  for (const auto& [job, n] : starts) EXPECT_EQ(n, 1) << job;
}

}  // namespace
}  // namespace faultline
