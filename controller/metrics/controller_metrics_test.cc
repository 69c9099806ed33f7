#include "controller/metrics/controller_metrics.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "controller/metrics/instrumented_store.h"
#include "controller/store/sqlite_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace faultline::controller::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const absl::Time kT0 = absl::FromUnixSeconds(1800000000);

std::string TempDb(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir ? dir : "/tmp", "/", name, ".db");
}

v1::RunResult Result(v1::RunState state) {
  v1::RunResult result;
  result.set_state(state);
  result.set_benchmark("fault_anon");
  result.mutable_host()->set_arch(v1::ARCH_X86_64);
  result.mutable_host()->set_kernel_release("6.1.0");
  result.mutable_host()->set_kernel_label("stock");
  if (state == v1::RUN_STATE_OK) {
    v1::MetricValue* m = result.add_repetitions()->add_metrics();
    m->set_name("ns_per_fault");
    m->set_unit("ns");
    m->set_value(1500);
  }
  return result;
}

v1::CampaignSpec Spec(v1::Priority priority) {
  v1::CampaignSpec spec;
  spec.set_name("nightly");
  spec.set_priority(priority);
  spec.add_suite()->set_benchmark("fault_anon");
  spec.add_targets()->set_kernel_label("stock");
  return spec;
}

std::vector<v1::Job> Jobs(int n) {
  std::vector<v1::Job> jobs;
  for (int i = 0; i < n; ++i) {
    v1::Job job;
    job.mutable_invocation()->set_benchmark("fault_anon");
    job.mutable_target()->set_kernel_label("stock");
    job.set_sequence(i);
    jobs.push_back(job);
  }
  return jobs;
}

TEST(ControllerMetricsTest, GateVerdictsUseTheDocumentedEncoding) {
  ControllerMetrics metrics;
  metrics.RecordGateVerdict("mm-upgrade", kGatePass);
  metrics.RecordGateVerdict("fork-latency", kGateFail);
  metrics.RecordGateVerdict("mmap-storm", kGateInconclusive);
  // The latest verdict wins.
  metrics.RecordGateVerdict("mm-upgrade", kGateFail);
  const std::string text = metrics.Render();
  EXPECT_THAT(text, HasSubstr("faultline_gate_verdict{gate=\"mm-upgrade\"} -1\n"));
  EXPECT_THAT(text, HasSubstr("faultline_gate_verdict{gate=\"fork-latency\"} -1\n"));
  EXPECT_THAT(text, HasSubstr("faultline_gate_verdict{gate=\"mmap-storm\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("faultline_gate_verdict_timestamp_seconds{gate=\"mm-upgrade\"}"));
  EXPECT_THAT(text, HasSubstr("faultline_gate_verdict_rejected_total 0\n"));
}

TEST(ControllerMetricsTest, GateVerdictsRejectBadValuesAndBoundTheGateCount) {
  ControllerMetrics metrics;
  metrics.RecordGateVerdict("bad-value", 2);
  metrics.RecordGateVerdict("", kGatePass);
  for (size_t i = 0; i < ControllerMetrics::kMaxGates + 3; ++i) {
    metrics.RecordGateVerdict(absl::StrCat("gate-", i), kGatePass);
  }
  // A gate already kept still updates after the cap is reached.
  metrics.RecordGateVerdict("gate-0", kGateFail);
  const std::string text = metrics.Render();
  EXPECT_THAT(text, Not(HasSubstr("bad-value")));
  EXPECT_THAT(text, HasSubstr("faultline_gate_verdict_rejected_total 5\n"));
  EXPECT_THAT(text, HasSubstr("faultline_gate_verdict{gate=\"gate-0\"} -1\n"));
  EXPECT_THAT(text, Not(HasSubstr(absl::StrCat("gate=\"gate-", ControllerMetrics::kMaxGates,
                                               "\""))));
}

TEST(ControllerMetricsTest, AdmissionRejectionsAreCountedByRpc) {
  ControllerMetrics metrics;
  metrics.AdmissionRejected("Register");
  metrics.AdmissionRejected("Register");
  metrics.AdmissionRejected("PollWork");
  const std::string text = metrics.Render();
  EXPECT_THAT(text, HasSubstr("faultline_controller_admission_rejected_total{rpc=\"Register\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("faultline_controller_admission_rejected_total{rpc=\"PollWork\"} 1\n"));
  // Present at zero before the first refusal, so rate() sees a series.
  EXPECT_THAT(text,
              HasSubstr("faultline_controller_admission_rejected_total{rpc=\"ReportResult\"} 0\n"));
}

TEST(ControllerMetricsTest, StoreCallsDriveJobCountersAndLatency) {
  auto sqlite = store::SqliteStore::Open(TempDb("job_counters"));
  ASSERT_TRUE(sqlite.ok()) << sqlite.status();
  ControllerMetrics metrics;
  InstrumentedStore store(sqlite->get(), &metrics);

  absl::StatusOr<v1::Campaign> campaign =
      store.CreateCampaign(Spec(v1::PRIORITY_NIGHTLY), Jobs(3), kT0);
  ASSERT_TRUE(campaign.ok()) << campaign.status();
  const std::string job1 = campaign->id() + "/j-0001";
  const std::string job2 = campaign->id() + "/j-0002";
  const std::string job3 = campaign->id() + "/j-0003";
  ASSERT_TRUE(*store.LeaseJob(job1, "a", "l1", kT0 + absl::Minutes(1), kT0));
  ASSERT_TRUE(*store.LeaseJob(job2, "a", "l2", kT0 + absl::Minutes(1), kT0));
  ASSERT_TRUE(*store.LeaseJob(job3, "a", "l3", kT0 + absl::Seconds(1), kT0));
  EXPECT_EQ(*store.RecordResult(job1, 1, "l1", "a", Result(v1::RUN_STATE_OK), kT0),
            store::ReportOutcome::kStored);
  EXPECT_EQ(*store.RecordResult(job1, 1, "l1", "a", Result(v1::RUN_STATE_OK), kT0),
            store::ReportOutcome::kDuplicate);
  EXPECT_EQ(*store.RecordResult(job2, 1, "l2", "a", Result(v1::RUN_STATE_TIMED_OUT), kT0),
            store::ReportOutcome::kStored);
  EXPECT_EQ(*store.ExpireLeases(kT0 + absl::Seconds(2), 3), 1);
  EXPECT_FALSE(store.GetCampaign("c-999999").ok());

  const std::string text = metrics.Render();
  EXPECT_THAT(text, HasSubstr("faultline_controller_jobs_started_total 3\n"));
  EXPECT_THAT(text, HasSubstr("faultline_controller_jobs_succeeded_total 1\n"));
  EXPECT_THAT(text, HasSubstr("faultline_controller_jobs_failed_total{reason=\"timed_out\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("faultline_controller_jobs_failed_total{reason=\"crashed\"} 0\n"));
  EXPECT_THAT(text,
              HasSubstr("faultline_controller_jobs_requeued_total{reason=\"lease_expired\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("faultline_controller_lease_expiries_total 1\n"));
  EXPECT_THAT(text,
              HasSubstr("faultline_controller_results_discarded_total{reason=\"duplicate\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("faultline_controller_store_operation_duration_seconds_count{"
                              "operation=\"record_result\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("faultline_controller_store_errors_total{operation=\"get_campaign\"}"
                              " 1\n"));
}

TEST(ControllerMetricsTest, ScrapeTimeGaugesCountAgentsQueueAndCampaigns) {
  auto sqlite = store::SqliteStore::Open(TempDb("gauges"));
  ASSERT_TRUE(sqlite.ok()) << sqlite.status();
  store::Store* store = sqlite->get();
  ASSERT_TRUE(store->CreateCampaign(Spec(v1::PRIORITY_GATE), Jobs(2), kT0).ok());
  ASSERT_TRUE(store->CreateCampaign(Spec(v1::PRIORITY_NIGHTLY), Jobs(3), kT0).ok());

  ControllerMetrics metrics;
  StateSources sources;
  sources.agents = [] {
    std::vector<store::AgentRecord> agents(3);
    agents[0].host.set_arch(v1::ARCH_X86_64);
    agents[0].host.set_kernel_label("stock");
    agents[0].state = v1::AGENT_STATE_IDLE;
    agents[1] = agents[0];
    agents[2].host.set_arch(v1::ARCH_ARM64);
    agents[2].host.set_kernel_label("patched/vma-retry");
    agents[2].state = v1::AGENT_STATE_LOST;
    return absl::StatusOr<std::vector<store::AgentRecord>>(agents);
  };
  sources.queued_jobs = [store] { return store->CountQueuedJobsByPriority(); };
  sources.campaigns = [store] { return store->ListCampaigns(1000); };
  sources.parked_polls = [] { return size_t{17}; };
  sources.parked_polls_limit = 20000;
  metrics.SetStateSources(sources);

  const std::string text = metrics.Render();
  EXPECT_THAT(text, HasSubstr("faultline_controller_parked_polls 17\n"));
  EXPECT_THAT(text, HasSubstr("faultline_controller_parked_polls_limit 20000\n"));
  EXPECT_THAT(text, HasSubstr("faultline_controller_agents{arch=\"x86_64\",host_class=\"unknown\","
                              "kernel_label=\"stock\","
                              "state=\"idle\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("faultline_controller_agents{arch=\"arm64\",host_class=\"unknown\","
                              "kernel_label=\"patched/"
                              "vma-retry\",state=\"lost\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("faultline_controller_queued_jobs{priority=\"gate\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("faultline_controller_queued_jobs{priority=\"nightly\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("faultline_controller_queued_jobs{priority=\"interactive\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("faultline_controller_campaigns{state=\"pending\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("faultline_controller_active_campaign_jobs{state=\"queued\"} 5\n"));
  // No id of any campaign or job becomes a label.
  EXPECT_THAT(text, Not(HasSubstr("c-0")));
  EXPECT_THAT(text, HasSubstr("faultline_controller_state_collect_errors_total 0\n"));
}

TEST(ControllerMetricsTest, StoreErrorsDuringScrapeAreCountedNotFatal) {
  ControllerMetrics metrics;
  StateSources sources;
  sources.queued_jobs = [] {
    return absl::StatusOr<std::map<int, int64_t>>(absl::UnavailableError("database is gone"));
  };
  metrics.SetStateSources(sources);
  const std::string text = metrics.Render();
  EXPECT_THAT(text, Not(HasSubstr("faultline_controller_queued_jobs{")));
  EXPECT_THAT(text, HasSubstr("faultline_controller_state_collect_errors_total 1\n"));
}

}  // namespace
}  // namespace faultline::controller::metrics
