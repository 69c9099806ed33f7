// The controller's domain (fleet, campaigns, scheduler, dispatcher, reports, reaper) on a real
// SQLite store, driven with a manual clock: no gRPC, no sleeping for leases to expire.
#include <atomic>
#include <memory>
#include <optional>

#include "absl/synchronization/notification.h"
#include "controller/scheduling/assign_one_for_tests.h"
#include "controller/scheduling/campaigns.h"
#include "controller/scheduling/fleet.h"
#include "controller/scheduling/job_reports.h"
#include "controller/scheduling/lease_reaper.h"
#include "controller/scheduling/scheduler.h"
#include "controller/scheduling/work_dispatcher.h"
#include "controller/store/sqlite_store.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace faultline::controller::scheduling {
namespace {

using ::testing::HasSubstr;

class ManualClock {
 public:
  absl::Time Now() const { return absl::FromUnixSeconds(1700000000) + offset_.load() * absl::Seconds(1); }
  void Advance(int seconds) { offset_ += seconds; }
  Clock AsClock() const {
    return [this] { return Now(); };
  }

 private:
  std::atomic<int> offset_{0};
};

v1::BenchmarkSpec FaultAnon() {
  v1::BenchmarkSpec spec;
  google::protobuf::TextFormat::ParseFromString(R"pb(
    name: "fault_anon"
    params { name: "region_mib" type: PARAM_TYPE_INT default_value { int_value: 64 }
             min { int_value: 1 } max { int_value: 1024 } }
  )pb", &spec);
  return spec;
}

store::AgentRecord Agent(const std::string& id, const std::string& label) {
  store::AgentRecord a;
  a.agent_id = id;
  a.host.set_arch(v1::ARCH_X86_64);
  a.host.set_kernel_release("6.18.0");
  a.host.set_kernel_label(label);
  a.host.set_host_class("epyc-2cpu");
  a.catalog = {FaultAnon()};
  return a;
}

v1::RunResult OkResult(int reps) {
  v1::RunResult r;
  r.set_benchmark("fault_anon");
  r.set_state(v1::RUN_STATE_OK);
  for (int i = 0; i < reps; ++i) {
    v1::Repetition* rep = r.add_repetitions();
    rep->set_index(i);
    v1::MetricValue* m = rep->add_metrics();
    m->set_name("ns_per_fault");
    m->set_unit("ns");
    m->set_direction(v1::DIRECTION_LOWER_IS_BETTER);
    m->set_value(1500 + i);
  }
  return r;
}

class DomainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = ::testing::TempDir() + "/domain_test_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".db";
    std::remove(path_.c_str());
    auto store = store::SqliteStore::Open(path_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    fleet_ = std::make_unique<Fleet>(store_.get(), Fleet::Options{}, clock_.AsClock(), nullptr);
    campaigns_ = std::make_unique<Campaigns>(store_.get(), fleet_.get(), clock_.AsClock(),
                                             nullptr);
    Scheduler::Options options;
    options.lease = absl::Seconds(30);
    scheduler_ = std::make_unique<Scheduler>(store_.get(), options, clock_.AsClock());
    JobReports::Options report_options;
    report_options.lease = absl::Seconds(30);
    reports_ = std::make_unique<JobReports>(store_.get(), report_options, clock_.AsClock(),
                                            nullptr, fleet_.get());
  }

  v1::Campaign Submit(const std::string& text) {
    v1::CampaignSpec spec;
    EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &spec));
    auto c = campaigns_->Submit(spec);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *c : v1::Campaign();
  }

  std::string path_;
  ManualClock clock_;
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<Fleet> fleet_;
  std::unique_ptr<Campaigns> campaigns_;
  std::unique_ptr<Scheduler> scheduler_;
  std::unique_ptr<JobReports> reports_;
};

TEST_F(DomainTest, JobsGoOnlyToMatchingAgentsAndCampaignCompletes) {
  ASSERT_TRUE(fleet_->Register(Agent("stock-box", "stock")).ok());
  ASSERT_TRUE(fleet_->Register(Agent("patched-box", "patched/v3")).ok());
  v1::Campaign c = Submit(R"pb(name: "ab" repetitions: 3
                               suite { benchmark: "fault_anon" }
                               targets { kernel_label: "stock" }
                               targets { kernel_label: "patched/*" })pb");
  EXPECT_EQ(c.progress().jobs_total(), 2u);

  auto stock_job = AssignOne(*scheduler_, Agent("stock-box", "stock"));
  ASSERT_TRUE(stock_job.ok() && stock_job->has_value());
  EXPECT_EQ((*stock_job)->job.target().kernel_label(), "stock");
  // The stock agent cannot take the patched target's job.
  auto none = AssignOne(*scheduler_, Agent("stock-box", "stock"));
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  auto patched_job = AssignOne(*scheduler_, Agent("patched-box", "patched/v3"));
  ASSERT_TRUE(patched_job.ok() && patched_job->has_value());

  for (const auto* leased : {&**stock_job, &**patched_job}) {
    auto outcome = reports_->Report(leased->job.agent_id(), leased->job.id(),
                                    leased->job.attempt(), leased->lease_id, OkResult(3));
    ASSERT_TRUE(outcome.ok()) << outcome.status();
    EXPECT_EQ(*outcome, store::ReportOutcome::kStored);
  }
  auto done = campaigns_->Get(c.id());
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->state(), v1::CAMPAIGN_STATE_SUCCEEDED);
  EXPECT_EQ(done->progress().jobs_succeeded(), 2u);
}

TEST_F(DomainTest, ExpiredLeaseRequeuesAndLateResultIsDiscarded) {
  ASSERT_TRUE(fleet_->Register(Agent("a1", "stock")).ok());
  ASSERT_TRUE(fleet_->Register(Agent("a2", "stock")).ok());
  v1::Campaign c = Submit(R"pb(name: "x" suite { benchmark: "fault_anon" } targets {})pb");
  auto first = AssignOne(*scheduler_, Agent("a1", "stock"));
  ASSERT_TRUE(first.ok() && first->has_value());

  clock_.Advance(31);
  LeaseReaper reaper(store_.get(), clock_.AsClock(), 3, absl::Hours(1), nullptr);
  auto reaped = reaper.RunOnce();
  ASSERT_TRUE(reaped.ok());
  EXPECT_EQ(*reaped, 1);
  // The first agent's lease is gone: renewing it tells the agent to abandon the job.
  EXPECT_EQ(reports_->Renew("a1", (*first)->job.id(), (*first)->lease_id).status().code(),
            absl::StatusCode::kFailedPrecondition);

  auto second = AssignOne(*scheduler_, Agent("a2", "stock"));
  ASSERT_TRUE(second.ok() && second->has_value());
  EXPECT_EQ((*second)->job.id(), (*first)->job.id());
  EXPECT_EQ((*second)->job.attempt(), 2u);

  auto late = reports_->Report("a1", (*first)->job.id(), 1, (*first)->lease_id, OkResult(2));
  ASSERT_TRUE(late.ok()) << late.status();
  EXPECT_EQ(*late, store::ReportOutcome::kStale);
  auto stored = reports_->Report("a2", (*second)->job.id(), 2, (*second)->lease_id, OkResult(2));
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(*stored, store::ReportOutcome::kStored);
  auto again = reports_->Report("a2", (*second)->job.id(), 2, (*second)->lease_id, OkResult(2));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, store::ReportOutcome::kDuplicate);

  store::RunQuery query;
  query.campaign_id = c.id();
  auto runs = store_->QueryRuns(query);
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_EQ((*runs)[0].agent_id, "a2");
}

TEST_F(DomainTest, StolenLeaseIsRefused) {
  ASSERT_TRUE(fleet_->Register(Agent("a1", "stock")).ok());
  Submit(R"pb(name: "x" suite { benchmark: "fault_anon" } targets {})pb");
  auto leased = AssignOne(*scheduler_, Agent("a1", "stock"));
  ASSERT_TRUE(leased.ok() && leased->has_value());
  auto stolen = reports_->Report("intruder", (*leased)->job.id(), 1, (*leased)->lease_id,
                                 OkResult(1));
  EXPECT_EQ(stolen.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(reports_->Renew("intruder", (*leased)->job.id(), (*leased)->lease_id).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(DomainTest, MalformedResultIsRejectedAndNothingStored) {
  ASSERT_TRUE(fleet_->Register(Agent("a1", "stock")).ok());
  v1::Campaign c = Submit(R"pb(name: "x" suite { benchmark: "fault_anon" } targets {})pb");
  auto leased = AssignOne(*scheduler_, Agent("a1", "stock"));
  ASSERT_TRUE(leased.ok() && leased->has_value());
  v1::RunResult bad = OkResult(1);
  bad.mutable_repetitions(0)->mutable_metrics(0)->set_value(std::nan(""));
  auto outcome = reports_->Report("a1", (*leased)->job.id(), 1, (*leased)->lease_id, bad);
  EXPECT_EQ(outcome.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(outcome.status().message()),
              HasSubstr("result.repetitions[0].metrics[0].value"));
  auto campaign = campaigns_->Get(c.id());
  ASSERT_TRUE(campaign.ok());
  EXPECT_EQ(campaign->progress().jobs_running(), 1u);
}

TEST_F(DomainTest, InvalidCampaignLeavesStoreUntouched) {
  ASSERT_TRUE(fleet_->Register(Agent("a1", "stock")).ok());
  v1::CampaignSpec spec;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(
      R"pb(name: "x" suite { benchmark: "fault_anon" }
           suite { benchmark: "fault_anon" params { key: "region_mib" value { int_value: 0 } } }
           targets {})pb", &spec));
  auto c = campaigns_->Submit(spec);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("spec.suite[1].params.region_mib"));
  auto all = campaigns_->List(0);
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->empty());
}

TEST_F(DomainTest, HigherPriorityFirstAndFairShareWithinPriority) {
  ASSERT_TRUE(fleet_->Register(Agent("a1", "stock")).ok());
  v1::Campaign nightly1 = Submit(R"pb(name: "n1" priority: PRIORITY_NIGHTLY interleave: true
                                      repetitions: 3 suite { benchmark: "fault_anon" }
                                      targets {})pb");
  v1::Campaign nightly2 = Submit(R"pb(name: "n2" priority: PRIORITY_NIGHTLY interleave: true
                                      repetitions: 3 suite { benchmark: "fault_anon" }
                                      targets {})pb");
  v1::Campaign gate = Submit(R"pb(name: "g" priority: PRIORITY_GATE
                                  suite { benchmark: "fault_anon" } targets {})pb");
  std::vector<std::string> order;
  for (int i = 0; i < 7; ++i) {
    auto leased = AssignOne(*scheduler_, Agent("a1", "stock"));
    ASSERT_TRUE(leased.ok() && leased->has_value()) << i;
    order.push_back((*leased)->job.campaign_id());
  }
  EXPECT_EQ(order[0], gate.id());
  // The two nightly campaigns alternate rather than one draining first.
  for (int i = 1; i + 1 < 7; ++i) EXPECT_NE(order[i], order[i + 1]) << i;
}

TEST_F(DomainTest, ParkedPollIsWokenBySubmission) {
  ASSERT_TRUE(fleet_->Register(Agent("a1", "stock")).ok());
  WorkDispatcher dispatcher(scheduler_.get(), RealClock(), absl::Seconds(30));
  absl::Notification got;
  std::optional<LeasedJob> result;
  dispatcher.Wait(std::make_shared<const store::AgentRecord>(Agent("a1", "stock")),
                  absl::Now() + absl::Seconds(20), [&](absl::StatusOr<std::optional<LeasedJob>> r) {
                    if (r.ok()) result = *r;
                    got.Notify();
                  });
  EXPECT_FALSE(got.WaitForNotificationWithTimeout(absl::Milliseconds(300)));  // No work yet.
  Submit(R"pb(name: "x" suite { benchmark: "fault_anon" } targets {})pb");
  dispatcher.Notify();
  ASSERT_TRUE(got.WaitForNotificationWithTimeout(absl::Seconds(10)));
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->job.agent_id(), "a1");
}

TEST_F(DomainTest, ParkedPollEndsEmptyAtDeadline) {
  ASSERT_TRUE(fleet_->Register(Agent("a1", "stock")).ok());
  WorkDispatcher dispatcher(scheduler_.get(), RealClock(), absl::Seconds(30));
  absl::Notification got;
  bool empty = false;
  dispatcher.Wait(std::make_shared<const store::AgentRecord>(Agent("a1", "stock")),
                  absl::Now() + absl::Milliseconds(300),
                  [&](absl::StatusOr<std::optional<LeasedJob>> r) {
                    empty = r.ok() && !r->has_value();
                    got.Notify();
                  });
  ASSERT_TRUE(got.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_TRUE(empty);
}

v1::RunResult Crashed(const std::string& why) {
  v1::RunResult r;
  r.set_benchmark("fault_anon");
  r.set_state(v1::RUN_STATE_CRASHED);
  r.set_diagnostic(why);
  return r;
}

TEST_F(DomainTest, FailureIsConfirmedOnASecondHostBeforeTheJobFails) {
  ASSERT_TRUE(fleet_->Register(Agent("a1", "stock")).ok());
  ASSERT_TRUE(fleet_->Register(Agent("a2", "stock")).ok());
  v1::Campaign c = Submit(R"pb(name: "x" suite { benchmark: "fault_anon" } targets {})pb");
  auto first = AssignOne(*scheduler_, Agent("a1", "stock"));
  ASSERT_TRUE(first.ok() && first->has_value());
  auto outcome = reports_->Report("a1", (*first)->job.id(), 1, (*first)->lease_id,
                                  Crashed("SIGSEGV on a1"));
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(*outcome, store::ReportOutcome::kStored);
  // Requeued, but never back to the host it failed on.
  auto campaign = campaigns_->Get(c.id());
  ASSERT_TRUE(campaign.ok());
  EXPECT_EQ(campaign->progress().jobs_queued(), 1u);
  auto again = AssignOne(*scheduler_, Agent("a1", "stock"));
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->has_value());
  auto second = AssignOne(*scheduler_, Agent("a2", "stock"));
  ASSERT_TRUE(second.ok() && second->has_value());
  EXPECT_EQ((*second)->job.attempt(), 2u);
  outcome = reports_->Report("a2", (*second)->job.id(), 2, (*second)->lease_id,
                             Crashed("SIGSEGV on a2"));
  ASSERT_TRUE(outcome.ok());
  campaign = campaigns_->Get(c.id());
  ASSERT_TRUE(campaign.ok());
  EXPECT_EQ(campaign->state(), v1::CAMPAIGN_STATE_FAILED);
  auto jobs = store_->ListJobs(c.id());
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ((*jobs)[0].state(), v1::JOB_STATE_FAILED);
  EXPECT_THAT((*jobs)[0].diagnostic(), HasSubstr("SIGSEGV on a1"));
  EXPECT_THAT((*jobs)[0].diagnostic(), HasSubstr("SIGSEGV on a2"));
  store::RunQuery query;
  query.campaign_id = c.id();
  auto runs = store_->QueryRuns(query);
  ASSERT_TRUE(runs.ok());
  EXPECT_EQ(runs->size(), 2u);  // Both failed attempts are on record.
}

TEST_F(DomainTest, FailureIsFinalWithoutAnotherHost) {
  ASSERT_TRUE(fleet_->Register(Agent("a1", "stock")).ok());
  v1::Campaign c = Submit(R"pb(name: "x" suite { benchmark: "fault_anon" } targets {})pb");
  auto first = AssignOne(*scheduler_, Agent("a1", "stock"));
  ASSERT_TRUE(first.ok() && first->has_value());
  ASSERT_TRUE(
      reports_->Report("a1", (*first)->job.id(), 1, (*first)->lease_id, Crashed("boom")).ok());
  auto campaign = campaigns_->Get(c.id());
  ASSERT_TRUE(campaign.ok());
  EXPECT_EQ(campaign->state(), v1::CAMPAIGN_STATE_FAILED);
}

TEST_F(DomainTest, SilentAgentsAreLost) {
  ASSERT_TRUE(fleet_->Register(Agent("a1", "stock")).ok());
  clock_.Advance(31);
  auto live = fleet_->List(false);
  ASSERT_TRUE(live.ok());
  EXPECT_TRUE(live->empty());
  auto all = fleet_->List(true);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].state, v1::AGENT_STATE_LOST);
  auto beat = fleet_->Heartbeat("ghost", v1::AGENT_STATE_IDLE, "");
  ASSERT_TRUE(beat.ok());
  EXPECT_FALSE(*beat);
}

}  // namespace
}  // namespace faultline::controller::scheduling
