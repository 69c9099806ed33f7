// Malformed requests through a real in-process controller (gRPC on loopback, SQLite store): each
// is refused with INVALID_ARGUMENT naming the field, and the store's rows (agents, campaigns,
// jobs, runs) are exactly what they were before. A request over the server's receive limit is
// refused by gRPC with RESOURCE_EXHAUSTED, and the server keeps serving.
#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "controller/controller_server.h"
#include "controller/store/sqlite_store.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/faultline/v1/agent_service.grpc.pb.h"
#include "proto/faultline/v1/analysis.grpc.pb.h"
#include "proto/faultline/v1/campaign_service.grpc.pb.h"

namespace faultline::controller {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr int kMaxReceiveBytes = 1 << 20;

struct RowCounts {
  size_t agents = 0;
  size_t campaigns = 0;
  size_t jobs = 0;
  size_t runs = 0;
  bool operator==(const RowCounts& o) const {
    return agents == o.agents && campaigns == o.campaigns && jobs == o.jobs && runs == o.runs;
  }
};

std::ostream& operator<<(std::ostream& os, const RowCounts& c) {
  return os << "{agents " << c.agents << ", campaigns " << c.campaigns << ", jobs " << c.jobs
            << ", runs " << c.runs << "}";
}

template <typename Message>
Message Parse(const std::string& text) {
  Message m;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &m)) << text;
  return m;
}

v1::RegisterRequest GoodRegister() {
  return Parse<v1::RegisterRequest>(R"pb(
    agent_id: "box-1"
    host {
      hostname: "box-1"
      arch: ARCH_X86_64
      kernel_release: "6.1.0"
      kernel_label: "stock"
      host_class: "test-2cpu"
      cmdline: "root=/dev/vda1"
    }
    catalog {
      name: "fault_anon"
      metrics { name: "ns_per_fault" unit: "ns" direction: DIRECTION_LOWER_IS_BETTER }
    }
  )pb");
}

class BadRequestsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string path = ::testing::TempDir() + "/bad_requests_test_" +
                             ::testing::UnitTest::GetInstance()->current_test_info()->name() +
                             ".db";
    std::remove(path.c_str());
    auto store = store::SqliteStore::Open(path);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    ControllerOptions options;
    options.listen = "127.0.0.1:0";
    options.max_receive_message_bytes = kMaxReceiveBytes;
    auto server = ControllerServer::Start(store_.get(), options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                                       grpc::InsecureChannelCredentials());
    agents_ = v1::AgentService::NewStub(channel);
    campaigns_ = v1::CampaignService::NewStub(channel);
    analysis_ = v1::AnalysisService::NewStub(channel);
  }

  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  std::unique_ptr<grpc::ClientContext> Context() {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return ctx;
  }

  RowCounts Count() {
    RowCounts c;
    auto agents = store_->ListAgents();
    EXPECT_TRUE(agents.ok()) << agents.status();
    if (agents.ok()) c.agents = agents->size();
    auto campaigns = store_->ListCampaigns(1000);
    EXPECT_TRUE(campaigns.ok()) << campaigns.status();
    if (campaigns.ok()) {
      c.campaigns = campaigns->size();
      for (const v1::Campaign& campaign : *campaigns) {
        auto jobs = store_->ListJobs(campaign.id());
        EXPECT_TRUE(jobs.ok()) << jobs.status();
        if (jobs.ok()) c.jobs += jobs->size();
      }
    }
    store::RunQuery query;
    query.limit = 100000;
    auto runs = store_->QueryRuns(query);
    EXPECT_TRUE(runs.ok()) << runs.status();
    if (runs.ok()) c.runs = runs->size();
    return c;
  }

  grpc::Status Register(const v1::RegisterRequest& request) {
    v1::RegisterResponse response;
    return agents_->Register(Context().get(), request, &response);
  }

  grpc::Status Submit(const v1::CampaignSpec& spec, v1::Campaign* campaign) {
    v1::SubmitCampaignRequest request;
    *request.mutable_spec() = spec;
    return campaigns_->SubmitCampaign(Context().get(), request, campaign);
  }

  grpc::Status Report(const v1::ReportResultRequest& request, v1::ReportResultResponse* out) {
    return agents_->ReportResult(Context().get(), request, out);
  }

  // A registered agent holding the lease of the only job of a one-job campaign.
  v1::Assignment RegisterSubmitAndLease() {
    EXPECT_TRUE(Register(GoodRegister()).ok());
    v1::Campaign campaign;
    grpc::Status s = Submit(Parse<v1::CampaignSpec>(R"pb(
                              name: "one"
                              repetitions: 1
                              suite { benchmark: "fault_anon" }
                              targets { kernel_label: "stock" })pb"),
                            &campaign);
    EXPECT_TRUE(s.ok()) << s.error_message();
    v1::PollWorkRequest poll;
    poll.set_agent_id("box-1");
    poll.set_wait_seconds(5);
    v1::PollWorkResponse work;
    s = agents_->PollWork(Context().get(), poll, &work);
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_TRUE(work.has_assignment());
    return work.assignment();
  }

  static v1::ReportResultRequest GoodReport(const v1::Assignment& a) {
    v1::ReportResultRequest r = Parse<v1::ReportResultRequest>(R"pb(
      agent_id: "box-1"
      result {
        benchmark: "fault_anon"
        state: RUN_STATE_OK
        host { arch: ARCH_X86_64 kernel_release: "6.1.0" kernel_label: "stock" }
        repetitions {
          metrics {
            name: "ns_per_fault"
            unit: "ns"
            direction: DIRECTION_LOWER_IS_BETTER
            value: 500
          }
          histograms {
            name: "fault_latency_ns"
            histogram {
              unit: "ns"
              sub_bucket_bits: 5
              bucket_index: [ 300, 301 ]
              count: [ 5, 7 ]
            }
          }
        }
      }
    )pb");
    r.set_job_id(a.job().id());
    r.set_attempt(a.job().attempt());
    r.set_lease_id(a.lease_id());
    return r;
  }

  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<ControllerServer> server_;
  std::unique_ptr<v1::AgentService::Stub> agents_;
  std::unique_ptr<v1::CampaignService::Stub> campaigns_;
  std::unique_ptr<v1::AnalysisService::Stub> analysis_;
};

TEST_F(BadRequestsTest, MalformedReportsAreRefusedAndStoreNothing) {
  const v1::Assignment assignment = RegisterSubmitAndLease();
  ASSERT_FALSE(assignment.lease_id().empty());
  const RowCounts before = Count();
  EXPECT_EQ(before.agents, 1u);
  EXPECT_EQ(before.campaigns, 1u);
  EXPECT_EQ(before.jobs, 1u);
  EXPECT_EQ(before.runs, 0u);

  v1::ReportResultResponse response;
  // Too many repetitions: each one copy of the first.
  v1::ReportResultRequest oversized = GoodReport(assignment);
  for (int i = 0; i < 1000; ++i) {
    *oversized.mutable_result()->add_repetitions() = oversized.result().repetitions(0);
  }
  grpc::Status s = Report(oversized, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), StartsWith("result.repetitions: 1001 repetitions, at most 1000"));

  // A histogram whose parallel arrays disagree: the lease is real, so only validation stops it.
  v1::ReportResultRequest torn = GoodReport(assignment);
  torn.mutable_result()
      ->mutable_repetitions(0)
      ->mutable_histograms(0)
      ->mutable_histogram()
      ->add_count(9);
  s = Report(torn, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(),
              StartsWith("result.repetitions[0].histograms[0].histogram.count: 3 counts for 2"));

  v1::ReportResultRequest no_state = GoodReport(assignment);
  no_state.mutable_result()->clear_state();
  s = Report(no_state, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), StartsWith("result.state: "));

  v1::ReportResultRequest bad_lease = GoodReport(assignment);
  bad_lease.set_lease_id("lease; DROP TABLE runs");
  s = Report(bad_lease, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), StartsWith("lease_id: "));

  EXPECT_EQ(Count(), before);

  // The same lease still reports a well-formed result: the refusals changed nothing.
  s = Report(GoodReport(assignment), &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(response.stored()) << response.detail();
  RowCounts after = before;
  after.runs = 1;
  EXPECT_EQ(Count(), after);
}

TEST_F(BadRequestsTest, MalformedRegistrationsChangeNoAgent) {
  ASSERT_TRUE(Register(GoodRegister()).ok());
  const RowCounts before = Count();
  ASSERT_EQ(before.agents, 1u);

  v1::RegisterRequest r = GoodRegister();
  r.set_agent_id("box 2");
  grpc::Status s = Register(r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), StartsWith("agent_id: ' ' is not allowed"));

  r = GoodRegister();
  r.set_agent_id("box-2");
  for (int i = 0; i < 1024; ++i) *r.add_catalog() = r.catalog(0);
  s = Register(r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), StartsWith("catalog: 1025 benchmarks, at most 1024"));

  // A known agent re-registering with a bad fingerprint keeps its old registration whole.
  r = GoodRegister();
  r.mutable_host()->set_cmdline(std::string(5000, 'x'));
  r.mutable_host()->set_kernel_label("patched/v9");
  s = Register(r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), StartsWith("host.cmdline: 5000 characters, at most 4096"));

  r = GoodRegister();
  r.mutable_catalog(0)->add_params()->set_name("threads");  // No type.
  s = Register(r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), StartsWith("catalog[0].params[0].type: "));

  EXPECT_EQ(Count(), before);
  auto agent = store_->GetAgent("box-1");
  ASSERT_TRUE(agent.ok()) << agent.status();
  EXPECT_EQ(agent->host.kernel_label(), "stock");
  EXPECT_EQ(agent->host.cmdline(), "root=/dev/vda1");
  EXPECT_EQ(agent->catalog.size(), 1u);
  EXPECT_EQ(agent->catalog[0].params_size(), 0);
}

TEST_F(BadRequestsTest, MalformedCampaignsQueueNoJobs) {
  ASSERT_TRUE(Register(GoodRegister()).ok());
  const RowCounts before = Count();
  const auto good = Parse<v1::CampaignSpec>(R"pb(
    name: "ab"
    suite { benchmark: "fault_anon" }
    targets { kernel_label: "stock" })pb");

  v1::Campaign campaign;
  v1::CampaignSpec spec = good;
  for (int i = 0; i < 65; ++i) (*spec.mutable_labels())[absl::StrCat("l", i)] = "v";
  grpc::Status s = Submit(spec, &campaign);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), StartsWith("spec.labels: 65 labels, at most 64"));

  spec = good;
  *spec.add_suite() = spec.suite(0);
  spec.mutable_suite(1)->set_warmup(101);
  s = Submit(spec, &campaign);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), StartsWith("spec.suite[1].warmup: 101 is above the maximum 100"));

  spec = good;
  spec.mutable_targets(0)->set_arch(static_cast<v1::Arch>(77));
  s = Submit(spec, &campaign);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), StartsWith("spec.targets[0].arch: unknown value 77"));

  // Well-formed but matching no agent: the domain's FAILED_PRECONDITION, still nothing stored.
  spec = good;
  spec.mutable_targets(0)->set_kernel_label("nonexistent");
  s = Submit(spec, &campaign);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("spec.targets[0]"));

  v1::GetCampaignRequest get;
  get.set_campaign_id("c-1 OR 1=1");
  s = campaigns_->GetCampaign(Context().get(), get, &campaign);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), StartsWith("campaign_id: "));

  EXPECT_EQ(Count(), before);
  s = Submit(good, &campaign);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(Count().campaigns, before.campaigns + 1);
}

TEST_F(BadRequestsTest, GateAndWatchRefuseMalformedRequestsBeforeRunningAnything) {
  ASSERT_TRUE(Register(GoodRegister()).ok());
  const RowCounts before = Count();
  // A gate that would run a campaign first: a bad policy line stops it before the campaign.
  auto gate = Parse<v1::GateRequest>(R"pb(
    policy: "# budget\nfault_anon ns_per_fault lots\n"
    baseline { kernel_label: "stock" }
    candidate { kernel_label: "stock" }
    campaign { suite { benchmark: "fault_anon" } }
  )pb");
  v1::GateResponse verdict;
  grpc::Status s = analysis_->Gate(Context().get(), gate, &verdict);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(),
              StartsWith("policy: line 2: max_regression 'lots': expected a percentage"));
  gate.set_policy("fault_anon ns_per_fault 3%\n");
  gate.mutable_campaign()->mutable_suite(0)->set_repetitions(5000);
  s = analysis_->Gate(Context().get(), gate, &verdict);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), StartsWith("campaign.suite[0].repetitions: 5000"));
  EXPECT_EQ(Count(), before);

  v1::WatchCampaignRequest watch;
  watch.set_campaign_id("../../etc/passwd\n");
  auto ctx = Context();
  std::unique_ptr<grpc::ClientReader<v1::Campaign>> stream =
      campaigns_->WatchCampaign(ctx.get(), watch);
  v1::Campaign update;
  EXPECT_FALSE(stream->Read(&update));
  s = stream->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), StartsWith("campaign_id: "));
}

TEST_F(BadRequestsTest, OversizedMessageIsResourceExhaustedAndServingContinues) {
  v1::RegisterRequest huge = GoodRegister();
  huge.set_agent_version(std::string(kMaxReceiveBytes + 1024, 'v'));
  grpc::Status s = Register(huge);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
  EXPECT_EQ(Count(), RowCounts{});

  // The same channel and server go on serving.
  s = Register(GoodRegister());
  ASSERT_TRUE(s.ok()) << s.error_message();
  v1::ListAgentsRequest list;
  v1::ListAgentsResponse agents;
  s = campaigns_->ListAgents(Context().get(), list, &agents);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(agents.agents_size(), 1);
  EXPECT_EQ(agents.agents(0).agent_id(), "box-1");

  // Just under the limit is accepted by gRPC and judged by validation instead.
  v1::RegisterRequest large = GoodRegister();
  large.set_agent_version(std::string(kMaxReceiveBytes / 2, 'v'));
  s = Register(large);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), StartsWith("agent_version: "));
}

}  // namespace
}  // namespace faultline::controller
