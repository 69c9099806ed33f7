// The agent loop against an in-process fake controller on loopback.
#include "agent/agent.h"

#include <deque>
#include <functional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "agent/bench/runner.h"
#include "agent/catalog_proto.h"
#include "agent/fingerprint.h"
#include "agent/result_spool.h"
#include "agent/test_paths.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/faultline/v1/agent_service.grpc.pb.h"

namespace faultline::agent {
namespace {

google::protobuf::Timestamp In(absl::Duration d) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(absl::ToUnixSeconds(absl::Now() + d));
  return ts;
}

class FakeController final : public v1::AgentService::Service {
 public:
  grpc::Status Register(grpc::ServerContext* context, const v1::RegisterRequest* request,
                        v1::RegisterResponse* response) override {
    absl::MutexLock lock(&mu);
    ++register_calls;
    register_times.push_back(absl::Now());
    if (register_refusals > 0) {
      --register_refusals;
      if (hint_in_metadata) {
        context->AddTrailingMetadata("retry-after-ms", absl::StrCat(retry_after_ms));
        return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "Register: controller busy");
      }
      return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                          absl::StrCat("Register: controller busy; retry-after-ms=",
                                       retry_after_ms));
    }
    if (register_failures > 0) {
      --register_failures;
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "starting up");
    }
    registers.push_back(*request);
    response->set_heartbeat_interval_seconds(1);
    response->set_lease_seconds(30);
    return grpc::Status::OK;
  }

  grpc::Status Heartbeat(grpc::ServerContext*, const v1::HeartbeatRequest* request,
                         v1::HeartbeatResponse* response) override {
    absl::MutexLock lock(&mu);
    heartbeats.push_back(*request);
    if (ask_reregister) {
      ask_reregister = false;
      response->set_reregister(true);
    }
    return grpc::Status::OK;
  }

  grpc::Status PollWork(grpc::ServerContext* context, const v1::PollWorkRequest* request,
                        v1::PollWorkResponse* response) override {
    const absl::Time until = absl::Now() + absl::Seconds(std::min(request->wait_seconds(), 5u));
    absl::MutexLock lock(&mu);
    poll_times.push_back(absl::Now());
    if (turn_polls_away) {
      context->AddTrailingMetadata("retry-after-ms", absl::StrCat(retry_after_ms));
      return grpc::Status::OK;
    }
    while (work.empty() && absl::Now() < until && !context->IsCancelled()) {
      mu.AwaitWithTimeout(absl::Condition(this, &FakeController::HasWork),
                          absl::Milliseconds(20));
    }
    if (!work.empty()) {
      *response->mutable_assignment() = work.front();
      work.pop_front();
    }
    return grpc::Status::OK;
  }

  grpc::Status RenewLease(grpc::ServerContext*, const v1::RenewLeaseRequest* request,
                          v1::RenewLeaseResponse* response) override {
    absl::MutexLock lock(&mu);
    ++renewals;
    if (revoke_leases) {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "lease revoked");
    }
    *response->mutable_lease_deadline() = In(absl::Seconds(3));
    return grpc::Status::OK;
  }

  grpc::Status ReportResult(grpc::ServerContext*, const v1::ReportResultRequest* request,
                            v1::ReportResultResponse* response) override {
    absl::MutexLock lock(&mu);
    ++report_calls;
    if (report_failures > 0) {
      --report_failures;
      return grpc::Status(report_failure_code, "not now");
    }
    reports.push_back(*request);
    response->set_stored(true);
    return grpc::Status::OK;
  }

  bool HasWork() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return !work.empty(); }

  absl::Mutex mu;
  std::deque<v1::Assignment> work ABSL_GUARDED_BY(mu);
  std::vector<v1::RegisterRequest> registers ABSL_GUARDED_BY(mu);
  std::vector<v1::HeartbeatRequest> heartbeats ABSL_GUARDED_BY(mu);
  std::vector<v1::ReportResultRequest> reports ABSL_GUARDED_BY(mu);
  int register_calls ABSL_GUARDED_BY(mu) = 0;
  int register_failures ABSL_GUARDED_BY(mu) = 0;
  // Refusals as an admission-controlled controller sends them, with a retry hint.
  int register_refusals ABSL_GUARDED_BY(mu) = 0;
  bool hint_in_metadata ABSL_GUARDED_BY(mu) = true;
  int retry_after_ms ABSL_GUARDED_BY(mu) = 300;
  bool turn_polls_away ABSL_GUARDED_BY(mu) = false;
  std::vector<absl::Time> register_times ABSL_GUARDED_BY(mu);
  std::vector<absl::Time> poll_times ABSL_GUARDED_BY(mu);
  int report_calls ABSL_GUARDED_BY(mu) = 0;
  int report_failures ABSL_GUARDED_BY(mu) = 0;
  grpc::StatusCode report_failure_code ABSL_GUARDED_BY(mu) = grpc::StatusCode::UNAVAILABLE;
  int renewals ABSL_GUARDED_BY(mu) = 0;
  bool revoke_leases ABSL_GUARDED_BY(mu) = false;
  bool ask_reregister ABSL_GUARDED_BY(mu) = false;
};

class AgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&fake_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port_, 0);
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    spool_dir_ = TestTempDir() + "/spool_" + info->name();
  }

  void TearDown() override { server_->Shutdown(absl::ToChronoTime(absl::Now())); }

  AgentOptions Options() {
    AgentOptions options;
    options.agent_id = "test-agent";
    options.tags = {"lab"};
    options.agent_version = "test";
    absl::StatusOr<v1::HostFingerprint> host = ReadHostFingerprint(FingerprintOptions{});
    EXPECT_TRUE(host.ok()) << host.status();
    options.host = *host;
    for (const bench::BenchmarkInfo& info : bench::Catalog()) {
      options.catalog.push_back(BenchmarkSpecToProto(info));
    }
    options.spool_dir = spool_dir_;
    options.max_jobs = 1;
    options.poll_wait_seconds = 2;
    options.executor.child_argv = {AgentBinaryPath(), "--bench_child"};
    options.initial_backoff = absl::Milliseconds(20);
    options.max_backoff = absl::Milliseconds(200);
    options.rpc_timeout = absl::Seconds(5);
    return options;
  }

  std::unique_ptr<v1::AgentService::StubInterface> Stub() {
    return v1::AgentService::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", port_), grpc::InsecureChannelCredentials()));
  }

  static v1::Assignment FaultAnonAssignment(const std::string& job_id) {
    v1::Assignment assignment;
    v1::Job* job = assignment.mutable_job();
    job->set_id(job_id);
    job->set_campaign_id("c-000001");
    job->set_attempt(1);
    v1::BenchmarkInvocation* invocation = job->mutable_invocation();
    invocation->set_benchmark("fault_anon");
    (*invocation->mutable_params())["region_mib"].set_int_value(4);
    invocation->set_repetitions(2);
    invocation->set_warmup(1);
    invocation->set_timeout_seconds(60);
    assignment.set_lease_id("lease-" + job_id);
    *assignment.mutable_lease_deadline() = In(absl::Seconds(30));
    return assignment;
  }

  FakeController fake_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::string spool_dir_;
};

TEST_F(AgentTest, RunsFaultAnonAndReportsResult) {
  {
    absl::MutexLock lock(&fake_.mu);
    fake_.work.push_back(FaultAnonAssignment("c-000001/j-0001"));
  }
  Agent agent(Options(), Stub());
  ASSERT_TRUE(agent.Run().ok());
  EXPECT_EQ(agent.jobs_handled(), 1);

  absl::MutexLock lock(&fake_.mu);
  ASSERT_GE(fake_.registers.size(), 1u);
  const v1::RegisterRequest& registered = fake_.registers[0];
  EXPECT_EQ(registered.agent_id(), "test-agent");
  ASSERT_EQ(registered.tags_size(), 1);
  bool advertises_fault_anon = false;
  for (const v1::BenchmarkSpec& spec : registered.catalog()) {
    advertises_fault_anon |= spec.name() == "fault_anon";
  }
  EXPECT_TRUE(advertises_fault_anon);
  EXPECT_FALSE(registered.host().host_class().empty());

  ASSERT_EQ(fake_.reports.size(), 1u);
  const v1::ReportResultRequest& report = fake_.reports[0];
  EXPECT_EQ(report.agent_id(), "test-agent");
  EXPECT_EQ(report.job_id(), "c-000001/j-0001");
  EXPECT_EQ(report.attempt(), 1u);
  EXPECT_EQ(report.lease_id(), "lease-c-000001/j-0001");
  const v1::RunResult& result = report.result();
  ASSERT_EQ(result.state(), v1::RUN_STATE_OK) << result.diagnostic();
  EXPECT_EQ(result.benchmark(), "fault_anon");
  EXPECT_EQ(result.params().at("region_mib").int_value(), 4);
  ASSERT_EQ(result.repetitions_size(), 2);
  for (const v1::Repetition& rep : result.repetitions()) {
    double ns_per_fault = -1;
    for (const v1::MetricValue& metric : rep.metrics()) {
      if (metric.name() == "ns_per_fault") ns_per_fault = metric.value();
    }
    EXPECT_GT(ns_per_fault, 0);
    EXPECT_EQ(rep.counters().count("rusage.minflt"), 1u);
    EXPECT_GT(rep.counters().at("rusage.minflt"), 0);
    EXPECT_EQ(rep.counters().count("rusage.nvcsw"), 1u);
    EXPECT_GT(rep.wall_ns(), 0);
  }
  EXPECT_FALSE(result.host().hostname().empty());
  EXPECT_NE(result.host().arch(), v1::ARCH_UNSPECIFIED);
  EXPECT_FALSE(result.host().kernel_release().empty());
  EXPECT_EQ(result.host().kernel_label(), "stock");
  EXPECT_GT(result.host().memory_bytes(), 0u);
  EXPECT_GT(result.started().seconds(), 0);

  auto spool = ResultSpool::Open(spool_dir_);
  ASSERT_TRUE(spool.ok());
  EXPECT_EQ((*spool)->Count(), 0u);
}

TEST_F(AgentTest, LeaseRevokedMidRunAbandonsWithoutReport) {
  v1::Assignment assignment = FaultAnonAssignment("c-000001/j-0002");
  // Close to its end, so the agent renews within about a second.
  *assignment.mutable_lease_deadline() = In(absl::Seconds(2));
  {
    absl::MutexLock lock(&fake_.mu);
    fake_.work.push_back(assignment);
    fake_.revoke_leases = true;
  }
  AgentOptions options = Options();
  // A run that would otherwise last 30 s and then report a (failed) result.
  options.executor.child_argv = {"/bin/sh", "-c", "cat >/dev/null; sleep 30"};
  Agent agent(std::move(options), Stub());
  ASSERT_TRUE(agent.Run().ok());
  EXPECT_EQ(agent.jobs_handled(), 1);
  absl::MutexLock lock(&fake_.mu);
  EXPECT_GE(fake_.renewals, 1);
  EXPECT_EQ(fake_.report_calls, 0);
  auto spool = ResultSpool::Open(spool_dir_);
  ASSERT_TRUE(spool.ok());
  EXPECT_EQ((*spool)->Count(), 0u);
}

TEST_F(AgentTest, SpooledResultsAreDeliveredFirstInOrder) {
  {
    auto spool = ResultSpool::Open(spool_dir_);
    ASSERT_TRUE(spool.ok());
    for (const char* job : {"c-000001/j-0009", "c-000001/j-0003"}) {
      v1::ReportResultRequest old;
      old.set_agent_id("test-agent");
      old.set_job_id(job);
      old.set_attempt(1);
      old.mutable_result()->set_state(v1::RUN_STATE_OK);
      ASSERT_TRUE((*spool)->Add(old).ok());
    }
  }
  {
    absl::MutexLock lock(&fake_.mu);
    fake_.work.push_back(FaultAnonAssignment("c-000001/j-0010"));
  }
  AgentOptions options = Options();
  options.executor.child_argv = {"/bin/sh", "-c", "cat >/dev/null; exit 3"};
  Agent agent(std::move(options), Stub());
  ASSERT_TRUE(agent.Run().ok());
  absl::MutexLock lock(&fake_.mu);
  ASSERT_EQ(fake_.reports.size(), 3u);
  EXPECT_EQ(fake_.reports[0].job_id(), "c-000001/j-0009");
  EXPECT_EQ(fake_.reports[1].job_id(), "c-000001/j-0003");
  EXPECT_EQ(fake_.reports[2].job_id(), "c-000001/j-0010");
  EXPECT_EQ(fake_.reports[2].result().state(), v1::RUN_STATE_FAILED);
  EXPECT_NE(fake_.reports[2].result().diagnostic().find("code 3"), std::string::npos);
}

TEST_F(AgentTest, ReportIsRetriedUntilAcknowledged) {
  {
    absl::MutexLock lock(&fake_.mu);
    fake_.work.push_back(FaultAnonAssignment("c-000001/j-0004"));
    fake_.report_failures = 3;
  }
  AgentOptions options = Options();
  options.executor.child_argv = {"/bin/sh", "-c", "cat >/dev/null; exit 1"};
  Agent agent(std::move(options), Stub());
  ASSERT_TRUE(agent.Run().ok());
  absl::MutexLock lock(&fake_.mu);
  EXPECT_EQ(fake_.report_calls, 4);
  ASSERT_EQ(fake_.reports.size(), 1u);
  EXPECT_EQ(fake_.reports[0].job_id(), "c-000001/j-0004");
}

TEST_F(AgentTest, PermanentlyRefusedReportIsSetAside) {
  {
    absl::MutexLock lock(&fake_.mu);
    fake_.work.push_back(FaultAnonAssignment("c-000001/j-0005"));
    fake_.report_failures = 1;
    fake_.report_failure_code = grpc::StatusCode::INVALID_ARGUMENT;
  }
  AgentOptions options = Options();
  options.executor.child_argv = {"/bin/sh", "-c", "cat >/dev/null; exit 1"};
  Agent agent(std::move(options), Stub());
  ASSERT_TRUE(agent.Run().ok());
  absl::MutexLock lock(&fake_.mu);
  EXPECT_EQ(fake_.report_calls, 1);
  auto spool = ResultSpool::Open(spool_dir_);
  ASSERT_TRUE(spool.ok());
  EXPECT_EQ((*spool)->Count(), 0u);
  EXPECT_EQ(access((spool_dir_ + "/rejected/00000000000000000001-c-000001_j-0005-a1.report").c_str(),
                   F_OK),
            0);
}

TEST_F(AgentTest, RegisterIsRetriedAndReRegistersWhenAsked) {
  {
    absl::MutexLock lock(&fake_.mu);
    fake_.register_failures = 2;
    fake_.ask_reregister = true;
  }
  AgentOptions options = Options();
  options.max_jobs = 0;
  Agent agent(std::move(options), Stub());
  std::thread runner([&] { EXPECT_TRUE(agent.Run().ok()); });
  bool reregistered = false;
  for (int i = 0; i < 200 && !reregistered; ++i) {
    absl::SleepFor(absl::Milliseconds(50));
    absl::MutexLock lock(&fake_.mu);
    reregistered = fake_.registers.size() >= 2;
  }
  agent.RequestDrain();
  runner.join();
  absl::MutexLock lock(&fake_.mu);
  EXPECT_TRUE(reregistered);
  EXPECT_GE(fake_.register_calls, 4);
  EXPECT_GE(fake_.heartbeats.size(), 1u);
  EXPECT_EQ(fake_.heartbeats[0].agent_id(), "test-agent");
  EXPECT_EQ(agent.jobs_handled(), 0);
}

// Runs an agent that takes no work until `done` holds (checked every 20 ms, at most 10 s).
void RunUntil(Agent* agent, const std::function<bool()>& done) {
  std::thread runner([agent] { EXPECT_TRUE(agent->Run().ok()); });
  for (int i = 0; i < 500 && !done(); ++i) absl::SleepFor(absl::Milliseconds(20));
  agent->RequestDrain();
  runner.join();
}

TEST_F(AgentTest, RefusedRegistrationWaitsAtLeastTheRetryHint) {
  for (bool in_metadata : {true, false}) {
    {
      absl::MutexLock lock(&fake_.mu);
      fake_.register_refusals = 2;
      fake_.hint_in_metadata = in_metadata;
      fake_.retry_after_ms = 300;
      fake_.register_times.clear();
      fake_.registers.clear();
    }
    AgentOptions options = Options();
    options.max_jobs = 0;
    // Far below the hint: only the hint can account for the waits.
    options.initial_backoff = absl::Milliseconds(10);
    Agent agent(std::move(options), Stub());
    RunUntil(&agent, [&] {
      absl::MutexLock lock(&fake_.mu);
      return !fake_.registers.empty();
    });
    absl::MutexLock lock(&fake_.mu);
    ASSERT_EQ(fake_.register_times.size(), 3u) << "hint in metadata: " << in_metadata;
    EXPECT_EQ(fake_.registers.size(), 1u);
    for (int i = 1; i < 3; ++i) {
      EXPECT_GE(fake_.register_times[i] - fake_.register_times[i - 1], absl::Milliseconds(300))
          << "hint in metadata: " << in_metadata << ", retry " << i;
    }
  }
}

// A controller bounds the calls open on one connection (faultline-controller
// --max_streams_per_connection); a call over the bound waits in the client and, past its
// deadline, fails there with DEADLINE_EXCEEDED without reaching the controller. The agent
// retries that like an outage, and registers once the connection has room.
TEST(AgentStreamBoundTest, RegistrationHeldPastItsDeadlineIsRetried) {
  FakeController fake;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, 1);
  builder.RegisterService(&fake);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  std::shared_ptr<grpc::Channel> channel = grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials());
  auto blocker_stub = v1::AgentService::NewStub(channel);
  // Another call fills the connection's one stream for about a second.
  grpc::ClientContext blocker_ctx;
  blocker_ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  v1::PollWorkRequest blocker_request;
  blocker_request.set_agent_id("other");
  blocker_request.set_wait_seconds(1);
  v1::PollWorkResponse blocker_response;
  absl::Notification blocker_done;
  blocker_stub->async()->PollWork(&blocker_ctx, &blocker_request, &blocker_response,
                                  [&](grpc::Status) { blocker_done.Notify(); });
  bool blocking = false;
  for (int i = 0; i < 1000 && !blocking; ++i) {
    absl::SleepFor(absl::Milliseconds(5));
    absl::MutexLock lock(&fake.mu);
    blocking = !fake.poll_times.empty();
  }
  ASSERT_TRUE(blocking);

  AgentOptions options;
  options.agent_id = "held-agent";
  options.agent_version = "test";
  absl::StatusOr<v1::HostFingerprint> host = ReadHostFingerprint(FingerprintOptions{});
  ASSERT_TRUE(host.ok()) << host.status();
  options.host = *host;
  for (const bench::BenchmarkInfo& info : bench::Catalog()) {
    options.catalog.push_back(BenchmarkSpecToProto(info));
  }
  options.spool_dir = TestTempDir() + "/spool_held";
  options.max_jobs = 0;
  options.poll_wait_seconds = 1;
  options.initial_backoff = absl::Milliseconds(20);
  options.max_backoff = absl::Milliseconds(100);
  // Far shorter than the blocker holds the stream: the first attempts time out in the client.
  options.rpc_timeout = absl::Milliseconds(150);
  Agent agent(std::move(options), v1::AgentService::NewStub(channel));
  absl::Status run_status;
  std::thread runner([&] { run_status = agent.Run(); });
  bool registered = false;
  for (int i = 0; i < 500 && !registered; ++i) {
    absl::SleepFor(absl::Milliseconds(20));
    absl::MutexLock lock(&fake.mu);
    registered = !fake.registers.empty();
  }
  agent.RequestDrain();
  runner.join();
  EXPECT_TRUE(run_status.ok()) << run_status;
  ASSERT_TRUE(blocker_done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  server->Shutdown(absl::ToChronoTime(absl::Now()));
  absl::MutexLock lock(&fake.mu);
  ASSERT_TRUE(registered);
  // The held attempts never reached the controller: it saw one Register, after the stream freed.
  ASSERT_EQ(fake.register_times.size(), 1u);
  // The fake answers the blocker when its one-second wait is over.
  EXPECT_GE(fake.register_times[0], fake.poll_times[0] + absl::Seconds(1));
  EXPECT_EQ(fake.registers[0].agent_id(), "held-agent");
}

TEST_F(AgentTest, PollTurnedAwayWaitsBeforePollingAgain) {
  {
    absl::MutexLock lock(&fake_.mu);
    fake_.turn_polls_away = true;
    fake_.retry_after_ms = 300;
  }
  AgentOptions options = Options();
  options.max_jobs = 0;
  Agent agent(std::move(options), Stub());
  RunUntil(&agent, [&] {
    absl::MutexLock lock(&fake_.mu);
    return fake_.poll_times.size() >= 3;
  });
  absl::MutexLock lock(&fake_.mu);
  ASSERT_GE(fake_.poll_times.size(), 3u);
  for (size_t i = 1; i < fake_.poll_times.size(); ++i) {
    EXPECT_GE(fake_.poll_times[i] - fake_.poll_times[i - 1], absl::Milliseconds(300)) << i;
  }
}

TEST_F(AgentTest, DrainInterruptsLongPoll) {
  AgentOptions options = Options();
  options.max_jobs = 0;
  options.poll_wait_seconds = 60;
  Agent agent(std::move(options), Stub());
  std::thread runner([&] { EXPECT_TRUE(agent.Run().ok()); });
  // Wait until the agent is registered and polling, then drain.
  bool registered = false;
  for (int i = 0; i < 200 && !registered; ++i) {
    absl::SleepFor(absl::Milliseconds(20));
    absl::MutexLock lock(&fake_.mu);
    registered = !fake_.registers.empty();
  }
  absl::SleepFor(absl::Milliseconds(200));
  agent.RequestDrain();
  runner.join();
  EXPECT_TRUE(registered);
  EXPECT_EQ(agent.jobs_handled(), 0);
}

}  // namespace
}  // namespace faultline::agent
