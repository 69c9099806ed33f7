// Failures with real processes: agents killed mid-job, a controller killed mid-campaign, and a
// network cut between an agent and the controller. In every case the campaign completes with
// exactly one stored result per job.
#include <signal.h>

#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/local_fleet.h"
#include "tests/testing/tcp_proxy.h"

namespace faultline {
namespace {

using ::testing::HasSubstr;
using testing::LocalFleet;

bool Succeeded(const v1::Campaign& c) { return c.state() == v1::CAMPAIGN_STATE_SUCCEEDED; }
bool Running(const v1::Campaign& c) { return c.progress().jobs_running() > 0; }

// About 3-6 s of work here: long enough to be interrupted, short enough for CI.
std::string LongJobCampaign(int jobs) {
  std::string suite;
  for (int i = 0; i < jobs; ++i) {
    absl::StrAppend(&suite, R"(suite { benchmark: "fault_anon" repetitions: 12
      params { key: "region_mib" value { int_value: 32 } } })");
  }
  return absl::StrCat(R"(name: "faults" targets { kernel_label: "stock" } )", suite);
}

void ExpectOneRunPerJob(const std::vector<v1::StoredRun>& runs, size_t jobs) {
  std::set<std::string> job_ids;
  for (const auto& run : runs) {
    EXPECT_EQ(run.result().state(), v1::RUN_STATE_OK) << run.result().diagnostic();
    EXPECT_TRUE(job_ids.insert(run.job_id()).second) << "stored twice: " << run.job_id();
  }
  EXPECT_EQ(job_ids.size(), jobs);
}

TEST(FaultInjectionTest, AgentKilledMidJobIsReplacedAndResultStoredOnce) {
  LocalFleet fleet(testing::MakeTempDir("kill-agent"));
  ASSERT_TRUE(fleet.StartController({"--lease_seconds=10"}).ok()) << fleet.Logs();
  ASSERT_TRUE(fleet.StartAgent({"doomed", "stock", {}, ""}).ok()) << fleet.Logs();
  auto id = fleet.Submit(LongJobCampaign(1));
  ASSERT_TRUE(id.ok()) << id.status();
  ASSERT_TRUE(fleet.WaitForCampaign(*id, Running, absl::Seconds(30)).ok());
  fleet.agent("doomed")->Stop(SIGKILL);

  ASSERT_TRUE(fleet.StartAgent({"survivor", "stock", {}, ""}).ok()) << fleet.Logs();
  // The lease (10 s) must lapse before the job is requeued to the survivor.
  auto done = fleet.WaitForCampaign(*id, Succeeded, absl::Seconds(90));
  ASSERT_TRUE(done.ok()) << done.status();
  std::vector<v1::StoredRun> runs = fleet.Runs(*id);
  ExpectOneRunPerJob(runs, 1);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].agent_id(), "survivor");
  EXPECT_EQ(runs[0].attempt(), 2u);
}

TEST(FaultInjectionTest, ControllerKilledMidCampaignRestartsAndFinishes) {
  LocalFleet fleet(testing::MakeTempDir("kill-controller"));
  ASSERT_TRUE(fleet.StartController({"--lease_seconds=30"}).ok()) << fleet.Logs();
  ASSERT_TRUE(fleet.StartAgent({"box", "stock", {}, ""}).ok()) << fleet.Logs();
  auto id = fleet.Submit(LongJobCampaign(4));
  ASSERT_TRUE(id.ok()) << id.status();
  ASSERT_TRUE(fleet
                  .WaitForCampaign(
                      *id, [](const v1::Campaign& c) { return c.progress().jobs_succeeded() >= 1 &&
                                                              c.progress().jobs_running() == 1; },
                      absl::Seconds(60))
                  .ok())
      << fleet.Logs();
  fleet.StopController(/*hard=*/true);
  absl::SleepFor(absl::Seconds(1));
  ASSERT_TRUE(fleet.StartController({"--lease_seconds=30"}).ok()) << fleet.Logs();

  auto done = fleet.WaitForCampaign(*id, Succeeded, absl::Seconds(120));
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->progress().jobs_succeeded(), 4u);
  ExpectOneRunPerJob(fleet.Runs(*id), 4);
}

// Two results finish while the controller is down for half a lease (20 s lease, 10 s outage).
// Their agents keep renewing the leases they hold undelivered, so once the controller is back
// both results are stored under their first attempt and no job is run again. The lease is long
// enough that the jobs finish inside the outage on a loaded host too (a second of work each on a
// quiet one; several when the host's other work takes its two CPUs).
TEST(FaultInjectionTest, ResultsSpooledDuringAShortOutageAreStoredWithoutReruns) {
  LocalFleet fleet(testing::MakeTempDir("short-outage"));
  const std::vector<std::string> flags = {"--lease_seconds=20"};
  ASSERT_TRUE(fleet.StartController(flags).ok()) << fleet.Logs();
  ASSERT_TRUE(fleet.StartAgent({"one", "stock", {}, ""}).ok()) << fleet.Logs();
  ASSERT_TRUE(fleet.StartAgent({"two", "stock", {}, ""}).ok()) << fleet.Logs();
  // About a second of work each: both finish inside the outage.
  std::string spec = R"(name: "outage" repetitions: 3 targets { kernel_label: "stock" } )";
  for (int i = 0; i < 2; ++i) {
    absl::StrAppend(&spec, R"(suite { benchmark: "fault_anon" warmup: 0
        params { key: "region_mib" value { int_value: 16 } } })");
  }
  auto id = fleet.Submit(spec);
  ASSERT_TRUE(id.ok()) << id.status();
  ASSERT_TRUE(fleet
                  .WaitForCampaign(
                      *id, [](const v1::Campaign& c) { return c.progress().jobs_running() == 2; },
                      absl::Seconds(30))
                  .ok())
      << fleet.Logs();
  // The controller counts a job running once it leases it, before the poll's answer reaches the
  // agent: kill it only when both agents have their jobs, or the kill may take an answer with it.
  auto has_job = [&](const std::string& agent) {
    return testing::ReadFileOrEmpty(fleet.agent(agent)->log_path()).find(": running ") !=
           std::string::npos;
  };
  const absl::Time given = absl::Now() + absl::Seconds(30);
  while (absl::Now() < given && !(has_job("one") && has_job("two"))) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_TRUE(has_job("one") && has_job("two")) << fleet.Logs();
  fleet.StopController(/*hard=*/true);
  const absl::Time killed = absl::Now();

  // Both results are spooled and their delivery fails while the controller is away.
  auto spooled = [&](const std::string& agent) {
    return testing::ReadFileOrEmpty(fleet.agent(agent)->log_path()).find("ReportResult for") !=
           std::string::npos;
  };
  while (absl::Now() < killed + absl::Milliseconds(9500) && !(spooled("one") && spooled("two"))) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_TRUE(spooled("one") && spooled("two")) << fleet.Logs();
  absl::SleepFor(killed + absl::Seconds(10) - absl::Now());
  ASSERT_TRUE(fleet.StartController(flags).ok()) << fleet.Logs();

  auto done = fleet.WaitForCampaign(*id, Succeeded, absl::Seconds(60));
  ASSERT_TRUE(done.ok()) << done.status();
  std::vector<v1::StoredRun> runs = fleet.Runs(*id);
  ExpectOneRunPerJob(runs, 2);
  for (const v1::StoredRun& run : runs) {
    EXPECT_EQ(run.attempt(), 1u) << run.job_id() << " was run again" << fleet.Logs();
  }
  for (const std::string agent : {"one", "two"}) {
    const std::string log = testing::ReadFileOrEmpty(fleet.agent(agent)->log_path());
    EXPECT_THAT(log, HasSubstr(": stored")) << log;
    EXPECT_THAT(log, ::testing::Not(HasSubstr("not stored"))) << log;
    EXPECT_THAT(log, ::testing::Not(HasSubstr("attempt 2"))) << log;
  }
}

TEST(FaultInjectionTest, ResultFinishedDuringNetworkCutIsDeliveredFromSpool) {
  LocalFleet fleet(testing::MakeTempDir("cut"));
  ASSERT_TRUE(fleet.StartController({"--lease_seconds=60"}).ok()) << fleet.Logs();
  auto proxy = testing::TcpProxy::Start(fleet.port());
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  ASSERT_TRUE(
      fleet.StartAgent({"remote", "stock", {}, absl::StrCat("127.0.0.1:", (*proxy)->port())})
          .ok())
      << fleet.Logs();
  auto id = fleet.Submit(LongJobCampaign(1));
  ASSERT_TRUE(id.ok()) << id.status();
  ASSERT_TRUE(fleet.WaitForCampaign(*id, Running, absl::Seconds(30)).ok());
  // The controller counts the job running once it leases it, before the poll's answer reaches
  // the agent: cut only when the agent has the job, or the cut may take the answer with it.
  const std::string log = fleet.agent("remote")->log_path();
  const absl::Time started = absl::Now() + absl::Seconds(30);
  while (absl::Now() < started &&
         testing::ReadFileOrEmpty(log).find(": running ") == std::string::npos) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_THAT(testing::ReadFileOrEmpty(log), HasSubstr(": running ")) << fleet.Logs();
  (*proxy)->Cut();

  // The job finishes while the link is down: the agent must keep the result on disk.
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (absl::Now() < deadline &&
         testing::ReadFileOrEmpty(log).find("ReportResult for") == std::string::npos) {
    absl::SleepFor(absl::Milliseconds(200));
  }
  ASSERT_THAT(testing::ReadFileOrEmpty(log), HasSubstr("ReportResult for")) << fleet.Logs();
  auto during = fleet.WaitForCampaign(*id, Running, absl::Seconds(5));
  ASSERT_TRUE(during.ok());
  EXPECT_TRUE(fleet.Runs(*id).empty());

  (*proxy)->Restore();
  auto done = fleet.WaitForCampaign(*id, Succeeded, absl::Seconds(90));
  ASSERT_TRUE(done.ok()) << done.status();
  std::vector<v1::StoredRun> runs = fleet.Runs(*id);
  ExpectOneRunPerJob(runs, 1);
  EXPECT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].attempt(), 1u);
}

}  // namespace
}  // namespace faultline
