// AnalysisService through a real in-process controller (gRPC on loopback, SQLite store): the
// RPCs translate requests and results faithfully, a gate's verdict reaches the metrics, and a
// gate waiting for its campaign gives up (cancelling the campaign) when the server shuts down.
#include <memory>
#include <thread>

#include "absl/time/clock.h"
#include "controller/controller_server.h"
#include "controller/scheduling/assign_one_for_tests.h"
#include "controller/scheduling/campaigns.h"
#include "controller/scheduling/fleet.h"
#include "controller/scheduling/job_reports.h"
#include "controller/scheduling/scheduler.h"
#include "controller/store/sqlite_store.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/faultline/v1/analysis.grpc.pb.h"

namespace faultline::controller::service {
namespace {

using ::testing::HasSubstr;

store::AgentRecord Agent(const std::string& id, const std::string& label) {
  store::AgentRecord a;
  a.agent_id = id;
  a.host.set_arch(v1::ARCH_X86_64);
  a.host.set_kernel_release("6.18.0");
  a.host.set_kernel_label(label);
  a.host.set_host_class("epyc-2cpu");
  google::protobuf::TextFormat::ParseFromString(R"pb(name: "fault_anon")pb",
                                                &a.catalog.emplace_back());
  return a;
}

class AnalysisServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string path = ::testing::TempDir() + "/analysis_service_test_" +
                             ::testing::UnitTest::GetInstance()->current_test_info()->name() +
                             ".db";
    std::remove(path.c_str());
    auto store = store::SqliteStore::Open(path);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    fleet_ = std::make_unique<scheduling::Fleet>(store_.get(), scheduling::Fleet::Options{},
                                                 scheduling::RealClock(), nullptr);
    campaigns_ = std::make_unique<scheduling::Campaigns>(store_.get(), fleet_.get(),
                                                         scheduling::RealClock(), nullptr);
    scheduler_ = std::make_unique<scheduling::Scheduler>(
        store_.get(), scheduling::Scheduler::Options{}, scheduling::RealClock());
    reports_ = std::make_unique<scheduling::JobReports>(
        store_.get(), scheduling::JobReports::Options{}, scheduling::RealClock(), nullptr);
  }

  void StartServer() {
    ControllerOptions options;
    options.listen = "127.0.0.1:0";
    auto server = ControllerServer::Start(store_.get(), options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    stub_ = v1::AnalysisService::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials()));
  }

  // Submits and runs a campaign synchronously: `value(agent, repetition)` is ns_per_fault.
  std::string Run(const std::string& spec_text, const std::vector<store::AgentRecord>& agents,
                  const std::function<double(const store::AgentRecord&, int)>& value) {
    v1::CampaignSpec spec;
    EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(spec_text, &spec));
    auto campaign = campaigns_->Submit(spec);
    EXPECT_TRUE(campaign.ok()) << campaign.status();
    for (int round = 0; round < 1000; ++round) {
      bool any = false;
      for (const store::AgentRecord& agent : agents) {
        auto leased = scheduling::AssignOne(*scheduler_, agent);
        if (!leased.ok() || !leased->has_value()) continue;
        any = true;
        v1::RunResult r;
        r.set_benchmark("fault_anon");
        r.set_state(v1::RUN_STATE_OK);
        *r.mutable_host() = agent.host;
        r.mutable_started()->set_seconds(1700000000 + ++runs_);
        for (uint32_t i = 0; i < (*leased)->job.invocation().repetitions(); ++i) {
          v1::Repetition* rep = r.add_repetitions();
          rep->set_index(i);
          v1::MetricValue* m = rep->add_metrics();
          m->set_name("ns_per_fault");
          m->set_unit("ns");
          m->set_direction(v1::DIRECTION_LOWER_IS_BETTER);
          m->set_value(value(agent, static_cast<int>(i)));
        }
        auto stored = reports_->Report(agent.agent_id, (*leased)->job.id(),
                                       (*leased)->job.attempt(), (*leased)->lease_id, r);
        EXPECT_TRUE(stored.ok()) << stored.status();
      }
      if (!any) break;
    }
    return campaign.ok() ? campaign->id() : "";
  }

  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<scheduling::Fleet> fleet_;
  std::unique_ptr<scheduling::Campaigns> campaigns_;
  std::unique_ptr<scheduling::Scheduler> scheduler_;
  std::unique_ptr<scheduling::JobReports> reports_;
  std::unique_ptr<ControllerServer> server_;
  std::unique_ptr<v1::AnalysisService::Stub> stub_;
  int runs_ = 0;
};

TEST_F(AnalysisServiceTest, CompareAndGateOverStoredResults) {
  std::vector<store::AgentRecord> agents = {Agent("s", "stock"), Agent("p", "patched/v3")};
  for (const auto& a : agents) ASSERT_TRUE(fleet_->Register(a).ok());
  const std::string id = Run(R"pb(name: "ab"
                                  repetitions: 8
                                  interleave: true
                                  suite { benchmark: "fault_anon" }
                                  targets { name: "stock" kernel_label: "stock" }
                                  targets { name: "patched" kernel_label: "patched/*" })pb",
                             agents, [](const store::AgentRecord& a, int i) {
                               return (a.agent_id == "p" ? 1250.0 : 1000.0) + i;
                             });
  StartServer();

  v1::CompareRequest compare;
  compare.mutable_baseline()->set_campaign_id(id);
  compare.mutable_baseline()->set_target_name("stock");
  compare.mutable_candidate()->set_campaign_id(id);
  compare.mutable_candidate()->set_target_name("patched");
  v1::CompareResponse response;
  grpc::ClientContext ctx;
  ASSERT_TRUE(stub_->Compare(&ctx, compare, &response).ok());
  ASSERT_EQ(response.metrics_size(), 1);
  const v1::MetricComparison& m = response.metrics(0);
  EXPECT_EQ(m.verdict(), v1::VERDICT_REGRESSION);
  EXPECT_EQ(m.baseline_samples_size(), 8);
  EXPECT_EQ(m.candidate_samples(0), 1250.0);
  EXPECT_NEAR(m.ratio(), 1.25, 0.01);
  EXPECT_EQ(m.candidate_agents(0), "p");
  EXPECT_EQ(response.regressions(), 1u);
  EXPECT_EQ(response.options().min_effect(), 0.02);
  EXPECT_EQ(response.baseline_host_class(), "epyc-2cpu");
  // Interleaved: one run per repetition, each run a block.
  EXPECT_EQ(response.replication_unit(), v1::REPLICATION_UNIT_RUN);
  EXPECT_EQ(m.baseline_blocks(), 8u);
  ASSERT_EQ(m.baseline_sample_blocks_size(), 8);
  EXPECT_EQ(m.baseline_sample_blocks(7), 7u);
  EXPECT_TRUE(m.tested());

  // The same kernels, one run of 8 repetitions per side: one block per side, whatever the
  // repetitions say.
  const std::string pooled = Run(R"pb(name: "pooled" repetitions: 8
                                      suite { benchmark: "fault_anon" }
                                      targets { name: "stock" kernel_label: "stock" }
                                      targets { name: "patched" kernel_label: "patched/*" })pb",
                                 agents, [](const store::AgentRecord& a, int i) {
                                   return (a.agent_id == "p" ? 1250.0 : 1000.0) + i;
                                 });
  v1::CompareRequest one_run = compare;
  one_run.mutable_baseline()->set_campaign_id(pooled);
  one_run.mutable_candidate()->set_campaign_id(pooled);
  v1::CompareResponse blocked;
  grpc::ClientContext octx;
  ASSERT_TRUE(stub_->Compare(&octx, one_run, &blocked).ok());
  ASSERT_EQ(blocked.metrics_size(), 1);
  EXPECT_EQ(blocked.metrics(0).verdict(), v1::VERDICT_INCONCLUSIVE);
  EXPECT_EQ(blocked.metrics(0).reason(),
            "A: 1 run of 8 repetitions; B: 1 run of 8 repetitions; needs at least 5 runs per side");

  // An explicit zero minimum effect is honoured, an explicit zero FDR level refused.
  v1::CompareRequest zero = compare;
  zero.mutable_options()->set_min_effect(0);
  v1::CompareResponse zero_response;
  grpc::ClientContext zctx;
  ASSERT_TRUE(stub_->Compare(&zctx, zero, &zero_response).ok());
  EXPECT_TRUE(zero_response.options().has_min_effect());
  EXPECT_EQ(zero_response.options().min_effect(), 0);
  zero.mutable_options()->set_fdr_level(0);
  grpc::ClientContext fctx;
  grpc::Status refused = stub_->Compare(&fctx, zero, &zero_response);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(refused.error_message(), HasSubstr("fdr_level"));

  v1::GateRequest gate;
  gate.set_policy("fault_anon ns_per_fault 5%\n");
  gate.set_policy_name("svc-gate");
  *gate.mutable_baseline() = compare.baseline();
  *gate.mutable_candidate() = compare.candidate();
  v1::GateResponse verdict;
  grpc::ClientContext gctx;
  grpc::Status status = stub_->Gate(&gctx, gate, &verdict);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(verdict.outcome(), v1::GATE_OUTCOME_FAIL);
  EXPECT_EQ(verdict.exit_code(), 1);
  ASSERT_EQ(verdict.rules_size(), 1);
  EXPECT_EQ(verdict.rules(0).findings(0).outcome(), v1::GATE_OUTCOME_FAIL);
  EXPECT_NEAR(verdict.rules(0).findings(0).regression(), 0.25, 0.01);
  ASSERT_EQ(verdict.confirmations_size(), 1);
  EXPECT_THAT(verdict.confirmations(0).reason(), HasSubstr("no second live host"));
  EXPECT_THAT(server_->metrics()->Render(), HasSubstr("faultline_gate_verdict{gate=\"svc-gate\"} -1"));

  gate.set_policy("fault_anon ns_per_fault\n");
  grpc::ClientContext bctx;
  status = stub_->Gate(&bctx, gate, &verdict);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("policy: line 1"));
  gate.set_policy_name("bad name!");
  grpc::ClientContext nctx;
  EXPECT_EQ(stub_->Gate(&nctx, gate, &verdict).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(AnalysisServiceTest, ChangePointsNameTheFirstKernelAfterTheStep) {
  for (int k = 0; k < 10; ++k) {
    store::AgentRecord box = Agent("box", "stock");
    box.host.set_kernel_release("6.1." + std::to_string(k));
    ASSERT_TRUE(fleet_->Register(box).ok());
    Run(R"pb(name: "nightly"
             repetitions: 5
             suite { benchmark: "fault_anon" }
             targets { kernel_label: "stock" })pb",
        {box}, [k](const store::AgentRecord&, int i) { return (k >= 4 ? 1150.0 : 1000.0) + i; });
  }
  StartServer();
  v1::ChangePointsRequest request;
  request.set_benchmark("fault_anon");
  request.set_metric("ns_per_fault");
  request.set_order(v1::ChangePointsRequest::ORDER_BY_KERNEL);
  v1::ChangePointsResponse response;
  grpc::ClientContext ctx;
  grpc::Status status = stub_->ChangePoints(&ctx, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.points_size(), 10);
  EXPECT_EQ(response.points(3).kernel_release(), "6.1.3");
  EXPECT_EQ(response.unit(), "ns");
  ASSERT_EQ(response.change_points_size(), 1);
  const v1::ChangePointReport& cp = response.change_points(0);
  EXPECT_EQ(cp.index(), 4u);
  EXPECT_EQ(cp.kernel_release(), "6.1.4");
  EXPECT_EQ(cp.verdict(), v1::VERDICT_REGRESSION);
  EXPECT_NEAR(cp.relative_change(), 0.15, 0.01);

  request.clear_metric();
  grpc::ClientContext bctx;
  EXPECT_EQ(stub_->ChangePoints(&bctx, request, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(AnalysisServiceTest, ShutdownCancelsAWaitingGateAndItsCampaign) {
  for (const auto& a : {Agent("s", "stock"), Agent("p", "patched/v3")}) {
    ASSERT_TRUE(fleet_->Register(a).ok());
  }
  StartServer();
  v1::GateRequest gate;
  gate.set_policy("* * 5%\n");
  gate.mutable_baseline()->set_kernel_label("stock");
  gate.mutable_candidate()->set_kernel_label("patched/*");
  google::protobuf::TextFormat::ParseFromString(R"pb(suite { benchmark: "fault_anon" })pb",
                                                gate.mutable_campaign());
  grpc::Status status;
  std::thread call([&] {
    v1::GateResponse response;
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    status = stub_->Gate(&ctx, gate, &response);
  });
  // Nobody runs the jobs: the gate waits until its campaign exists, then the server stops.
  std::vector<v1::Campaign> listed;
  for (int i = 0; i < 200 && listed.empty(); ++i) {
    absl::SleepFor(absl::Milliseconds(20));
    listed = *campaigns_->List(10);
  }
  ASSERT_EQ(listed.size(), 1u);
  server_->Shutdown();
  call.join();
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(campaigns_->Get(listed[0].id())->state(), v1::CAMPAIGN_STATE_CANCELLED);
}

}  // namespace
}  // namespace faultline::controller::service
