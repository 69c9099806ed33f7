// The faultline-agent binary as an operator runs it: flags, SIGTERM drain, second-signal abandon.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <deque>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "agent/test_paths.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/faultline/v1/agent_service.grpc.pb.h"

extern char** environ;

namespace faultline::agent {
namespace {

class Controller final : public v1::AgentService::Service {
 public:
  grpc::Status Register(grpc::ServerContext*, const v1::RegisterRequest* request,
                        v1::RegisterResponse* response) override {
    absl::MutexLock lock(&mu);
    registers.push_back(*request);
    response->set_heartbeat_interval_seconds(1);
    response->set_lease_seconds(60);
    return grpc::Status::OK;
  }
  grpc::Status Heartbeat(grpc::ServerContext*, const v1::HeartbeatRequest* request,
                         v1::HeartbeatResponse*) override {
    absl::MutexLock lock(&mu);
    if (request->state() == v1::AGENT_STATE_RUNNING) ++running_heartbeats;
    return grpc::Status::OK;
  }
  grpc::Status PollWork(grpc::ServerContext* context, const v1::PollWorkRequest* request,
                        v1::PollWorkResponse* response) override {
    const absl::Time until = absl::Now() + absl::Seconds(std::min(request->wait_seconds(), 5u));
    absl::MutexLock lock(&mu);
    while (work.empty() && absl::Now() < until && !context->IsCancelled()) {
      mu.AwaitWithTimeout(absl::Condition(this, &Controller::HasWork), absl::Milliseconds(20));
    }
    if (!work.empty()) {
      *response->mutable_assignment() = work.front();
      work.pop_front();
      ++handed_out;
    }
    return grpc::Status::OK;
  }
  grpc::Status RenewLease(grpc::ServerContext*, const v1::RenewLeaseRequest*,
                          v1::RenewLeaseResponse*) override {
    return grpc::Status::OK;
  }
  grpc::Status ReportResult(grpc::ServerContext*, const v1::ReportResultRequest* request,
                            v1::ReportResultResponse* response) override {
    absl::MutexLock lock(&mu);
    reports.push_back(*request);
    response->set_stored(true);
    return grpc::Status::OK;
  }
  bool HasWork() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return !work.empty(); }

  absl::Mutex mu;
  std::deque<v1::Assignment> work ABSL_GUARDED_BY(mu);
  int handed_out ABSL_GUARDED_BY(mu) = 0;
  // Heartbeats saying a job is running: the agent has the assignment, not just the server.
  int running_heartbeats ABSL_GUARDED_BY(mu) = 0;
  std::vector<v1::RegisterRequest> registers ABSL_GUARDED_BY(mu);
  std::vector<v1::ReportResultRequest> reports ABSL_GUARDED_BY(mu);
};

class AgentBinaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&controller_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }
  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    server_->Shutdown(absl::ToChronoTime(absl::Now()));
  }

  void Start(const std::vector<std::string>& extra) {
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::vector<std::string> args = {
        AgentBinaryPath(),
        absl::StrCat("--controller=127.0.0.1:", port_),
        "--plaintext",
        absl::StrCat("--spool_dir=", TestTempDir(), "/spool_", info->name()),
        "--agent_id=bin-agent",
        "--kernel_label=patched/test-series",
        "--tags=lab,rack-1",
        "--poll_wait_seconds=30",
    };
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    ASSERT_EQ(posix_spawn(&pid_, argv[0], nullptr, nullptr, argv.data(), environ), 0);
  }

  // Exit status of the agent, or -1 if it did not exit within 30 s.
  int Wait() {
    for (int i = 0; i < 3000; ++i) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      absl::SleepFor(absl::Milliseconds(10));
    }
    return -1;
  }

  template <typename Pred>
  bool WaitFor(Pred pred) {
    for (int i = 0; i < 1000; ++i) {
      {
        absl::MutexLock lock(&controller_.mu);
        if (pred()) return true;
      }
      absl::SleepFor(absl::Milliseconds(10));
    }
    return false;
  }

  static v1::Assignment FaultAnon(const std::string& job_id, int64_t region_mib, int64_t passes,
                                  uint32_t repetitions) {
    v1::Assignment assignment;
    assignment.mutable_job()->set_id(job_id);
    assignment.mutable_job()->set_attempt(1);
    v1::BenchmarkInvocation* invocation = assignment.mutable_job()->mutable_invocation();
    invocation->set_benchmark("fault_anon");
    (*invocation->mutable_params())["region_mib"].set_int_value(region_mib);
    (*invocation->mutable_params())["passes"].set_int_value(passes);
    (*invocation->mutable_params())["sample_latency"].set_bool_value(false);
    invocation->set_repetitions(repetitions);
    invocation->set_timeout_seconds(120);
    assignment.set_lease_id("lease-1");
    return assignment;
  }

  Controller controller_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  pid_t pid_ = -1;
};

TEST_F(AgentBinaryTest, RegistersWithFlagsAndDrainsOnSigterm) {
  Start({});
  ASSERT_TRUE(WaitFor([&] { return !controller_.registers.empty(); }));
  {
    absl::MutexLock lock(&controller_.mu);
    const v1::RegisterRequest& request = controller_.registers[0];
    EXPECT_EQ(request.agent_id(), "bin-agent");
    EXPECT_EQ(request.host().kernel_label(), "patched/test-series");
    ASSERT_EQ(request.tags_size(), 2);
    EXPECT_EQ(request.tags(1), "rack-1");
    EXPECT_GT(request.catalog_size(), 0);
  }
  absl::SleepFor(absl::Milliseconds(200));  // Let it reach the long-poll.
  kill(pid_, SIGTERM);
  EXPECT_EQ(Wait(), 0);
}

TEST_F(AgentBinaryTest, SigtermDuringJobFinishesAndReportsIt) {
  {
    absl::MutexLock lock(&controller_.mu);
    // Seconds of work, so that a 1 s heartbeat sees it running.
    controller_.work.push_back(FaultAnon("c-1/j-1", 64, 4, 10));
  }
  Start({});
  // Not handed_out: a SIGTERM between the server's answer and the agent reading it cancels the
  // poll, and the job is then the lease reaper's (a different case).
  ASSERT_TRUE(WaitFor([&] { return controller_.running_heartbeats > 0; }));
  kill(pid_, SIGTERM);
  EXPECT_EQ(Wait(), 0);
  absl::MutexLock lock(&controller_.mu);
  ASSERT_EQ(controller_.reports.size(), 1u);
  EXPECT_EQ(controller_.reports[0].result().state(), v1::RUN_STATE_OK)
      << controller_.reports[0].result().diagnostic();
  EXPECT_EQ(controller_.reports[0].result().repetitions_size(), 10);
}

TEST_F(AgentBinaryTest, SecondSignalAbandonsJob) {
  {
    absl::MutexLock lock(&controller_.mu);
    // Minutes of work: only abandonment ends it within the test.
    controller_.work.push_back(FaultAnon("c-1/j-2", 256, 10000, 1000));
  }
  Start({});
  ASSERT_TRUE(WaitFor([&] { return controller_.running_heartbeats > 0; }));
  kill(pid_, SIGTERM);
  absl::SleepFor(absl::Milliseconds(100));
  kill(pid_, SIGINT);
  EXPECT_EQ(Wait(), 0);
  absl::MutexLock lock(&controller_.mu);
  EXPECT_TRUE(controller_.reports.empty());
}

TEST_F(AgentBinaryTest, BadFlagIsRejected) {
  Start({"--virtualization=paravirt"});
  EXPECT_EQ(Wait(), 2);
}

}  // namespace
}  // namespace faultline::agent
