// Admission control through a real in-process controller (gRPC on loopback, SQLite store): a
// refused Register is RESOURCE_EXHAUSTED with its retry hint in the trailers and the message,
// a poll over the parked-poll cap comes back at once with no work and a hint, and both are
// counted in faultline_controller_admission_rejected_total. A connection past its stream bound
// has its further calls held in the client: the controller never sees them until one ends.
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "controller/controller_server.h"
#include "controller/service/admission_control.h"
#include "controller/store/sqlite_store.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/faultline/v1/agent_service.grpc.pb.h"
#include "proto/faultline/v1/campaign_service.grpc.pb.h"

namespace faultline::controller::service {
namespace {

using ::testing::HasSubstr;

v1::RegisterRequest Registration(const std::string& id) {
  v1::RegisterRequest r;
  r.set_agent_id(id);
  r.mutable_host()->set_arch(v1::ARCH_X86_64);
  r.mutable_host()->set_kernel_release("6.18.0");
  r.mutable_host()->set_kernel_label("stock");
  r.add_catalog()->set_name("fault_anon");
  return r;
}

std::optional<int64_t> TrailerMs(const grpc::ClientContext& ctx) {
  const auto& trailers = ctx.GetServerTrailingMetadata();
  auto it = trailers.find(kRetryAfterKey);
  int64_t ms = 0;
  if (it == trailers.end() ||
      !absl::SimpleAtoi(absl::string_view(it->second.data(), it->second.size()), &ms)) {
    return std::nullopt;
  }
  return ms;
}

class AdmissionServerTest : public ::testing::Test {
 protected:
  void Start(const ControllerOptions& base) {
    const std::string path = ::testing::TempDir() + "/admission_server_test_" +
                             ::testing::UnitTest::GetInstance()->current_test_info()->name() +
                             ".db";
    std::remove(path.c_str());
    auto store = store::SqliteStore::Open(path);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    ControllerOptions options = base;
    options.listen = "127.0.0.1:0";
    auto server = ControllerServer::Start(store_.get(), options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    stub_ = v1::AgentService::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", server_->port()), grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  std::unique_ptr<grpc::ClientContext> Context() {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    return ctx;
  }

  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<ControllerServer> server_;
  std::unique_ptr<v1::AgentService::Stub> stub_;
};

TEST_F(AdmissionServerTest, RegistrationsPastTheRateAreRefusedWithAHint) {
  ControllerOptions options;
  // One token that refills in about three hours: only the first registration gets in.
  options.register_rate_per_second = 0.0001;
  options.register_burst = 1;
  Start(options);
  v1::RegisterResponse response;
  auto first = Context();
  ASSERT_TRUE(stub_->Register(first.get(), Registration("a1"), &response).ok());

  auto second = Context();
  grpc::Status refused = stub_->Register(second.get(), Registration("a2"), &response);
  ASSERT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(refused.error_message(), HasSubstr("Register: controller busy"));
  std::optional<absl::Duration> in_message = ParseRetryAfter(refused.error_message());
  ASSERT_TRUE(in_message.has_value()) << refused.error_message();
  std::optional<int64_t> in_trailer = TrailerMs(*second);
  ASSERT_TRUE(in_trailer.has_value());
  EXPECT_EQ(absl::Milliseconds(*in_trailer), *in_message);
  EXPECT_GE(*in_trailer, 250);  // The floor.

  const std::string metrics = server_->metrics()->Render();
  EXPECT_THAT(metrics,
              HasSubstr("faultline_controller_admission_rejected_total{rpc=\"Register\"} 1\n"));
  // The refused agent was not stored: a heartbeat from it asks for registration.
  v1::HeartbeatRequest beat;
  beat.set_agent_id("a2");
  beat.set_state(v1::AGENT_STATE_IDLE);
  v1::HeartbeatResponse beat_response;
  ASSERT_TRUE(stub_->Heartbeat(Context().get(), beat, &beat_response).ok());
  EXPECT_TRUE(beat_response.reregister());
}

TEST_F(AdmissionServerTest, PollOverTheParkedCapReturnsAtOnceWithAHint) {
  ControllerOptions options;
  options.max_parked_polls = 1;
  options.poll_retry_after = absl::Seconds(4);
  Start(options);
  v1::RegisterResponse registered;
  ASSERT_TRUE(stub_->Register(Context().get(), Registration("a1"), &registered).ok());
  ASSERT_TRUE(stub_->Register(Context().get(), Registration("a2"), &registered).ok());

  // a1 parks for its whole wait; a2's poll finds the dispatcher full.
  v1::PollWorkRequest parked_request;
  parked_request.set_agent_id("a1");
  parked_request.set_wait_seconds(30);
  grpc::ClientContext parked_ctx;
  parked_ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
  v1::PollWorkResponse parked_response;
  absl::Notification parked_done;
  stub_->async()->PollWork(&parked_ctx, &parked_request, &parked_response,
                           [&](grpc::Status) { parked_done.Notify(); });
  // a2 must poll only once a1 is parked: polled first, a2 would take the one slot itself and
  // wait out its own second instead of being turned away.
  bool a1_parked = false;
  for (int i = 0; i < 1000 && !a1_parked && !parked_done.HasBeenNotified(); ++i) {
    a1_parked = absl::StrContains(server_->metrics()->Render(),
                                  "\nfaultline_controller_parked_polls 1\n");
    if (!a1_parked) absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_TRUE(a1_parked) << server_->metrics()->Render();

  v1::PollWorkRequest request;
  request.set_agent_id("a2");
  request.set_wait_seconds(20);
  v1::PollWorkResponse response;
  auto ctx = Context();
  grpc::Status s = stub_->PollWork(ctx.get(), request, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_FALSE(response.has_assignment());
  // Only a poll that was turned away carries the hint; one that parked would not.
  std::optional<int64_t> hint = TrailerMs(*ctx);
  ASSERT_TRUE(hint.has_value());
  // poll_retry_after jittered by 0.5-1.5x.
  EXPECT_GE(*hint, 2000);
  EXPECT_LE(*hint, 6000);
  EXPECT_THAT(server_->metrics()->Render(),
              HasSubstr("faultline_controller_admission_rejected_total{rpc=\"PollWork\"} 1\n"));
  EXPECT_FALSE(parked_done.HasBeenNotified());  // The parked poll is still parked.
  server_->Shutdown();
  ASSERT_TRUE(parked_done.WaitForNotificationWithTimeout(absl::Seconds(30)));
}

// The number after "faultline_controller_parked_polls " in a scrape, or -1.
int ParkedPolls(ControllerServer& server) {
  const std::string text = server.metrics()->Render();
  const std::string gauge = "\nfaultline_controller_parked_polls ";
  const size_t at = text.find(gauge);
  if (at == std::string::npos) return -1;
  const size_t start = at + gauge.size();
  int parked = -1;
  if (!absl::SimpleAtoi(text.substr(start, text.find('\n', start) - start), &parked)) return -1;
  return parked;
}

bool WaitForParked(ControllerServer& server, int parked) {
  for (int i = 0; i < 2000; ++i) {
    if (ParkedPolls(server) == parked) return true;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return false;
}

struct AsyncPoll {
  grpc::ClientContext ctx;
  v1::PollWorkRequest request;
  v1::PollWorkResponse response;
  absl::Notification done;
  grpc::Status status;

  void Start(v1::AgentService::Stub* stub, const std::string& agent_id) {
    request.set_agent_id(agent_id);
    request.set_wait_seconds(60);
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(120)));
    stub->async()->PollWork(&ctx, &request, &response, [this](grpc::Status s) {
      status = std::move(s);
      done.Notify();
    });
  }
};

TEST_F(AdmissionServerTest, CallsPastTheStreamBoundWaitInTheirConnection) {
  ControllerOptions options;
  options.max_streams_per_connection = 2;
  Start(options);
  v1::RegisterResponse registered;
  for (const char* id : {"a1", "a2", "a3", "a4"}) {
    ASSERT_TRUE(stub_->Register(Context().get(), Registration(id), &registered).ok()) << id;
  }

  // Two long-polls fill the connection's two streams.
  AsyncPoll first, second, third;
  first.Start(stub_.get(), "a1");
  ASSERT_TRUE(WaitForParked(*server_, 1));
  second.Start(stub_.get(), "a2");
  ASSERT_TRUE(WaitForParked(*server_, 2));
  // The third long-poll and a heartbeat on the same connection wait in the client: the
  // controller has not parked the poll, and the heartbeat does not finish.
  third.Start(stub_.get(), "a3");
  grpc::ClientContext held_ctx;
  held_ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(120)));
  v1::HeartbeatRequest beat;
  beat.set_agent_id("a3");
  beat.set_state(v1::AGENT_STATE_IDLE);
  v1::HeartbeatResponse held_response;
  absl::Notification held_done;
  grpc::Status held_status;
  stub_->async()->Heartbeat(&held_ctx, &beat, &held_response, [&](grpc::Status s) {
    held_status = std::move(s);
    held_done.Notify();
  });

  // Another connection is not held: its poll parks and its heartbeat is answered meanwhile.
  grpc::ChannelArguments distinct;
  distinct.SetInt("faultline.test.connection", 2);
  std::shared_ptr<grpc::Channel> other_channel = grpc::CreateCustomChannel(
      absl::StrCat("127.0.0.1:", server_->port()), grpc::InsecureChannelCredentials(), distinct);
  auto other = v1::AgentService::NewStub(other_channel);
  AsyncPoll fourth;
  fourth.Start(other.get(), "a4");
  ASSERT_TRUE(WaitForParked(*server_, 3));
  v1::HeartbeatResponse other_response;
  ASSERT_TRUE(other->Heartbeat(Context().get(), beat, &other_response).ok());
  EXPECT_FALSE(held_done.HasBeenNotified());
  EXPECT_FALSE(third.done.HasBeenNotified());
  EXPECT_EQ(ParkedPolls(*server_), 3);

  // A job for a3 is stored while its poll waits; the controller cannot hand it out yet.
  auto campaigns = v1::CampaignService::NewStub(other_channel);
  v1::SubmitCampaignRequest submit;
  submit.mutable_spec()->set_name("held");
  submit.mutable_spec()->add_suite()->set_benchmark("fault_anon");
  v1::TargetSelector* target = submit.mutable_spec()->add_targets();
  target->set_name("stock");
  target->set_kernel_label("stock");
  target->add_agent_ids("a3");
  v1::Campaign submitted;
  grpc::Status submit_status = campaigns->SubmitCampaign(Context().get(), submit, &submitted);
  ASSERT_TRUE(submit_status.ok()) << submit_status.error_message();

  // a1's poll ends (its agent stops waiting): the slot frees, and the held poll reaches the
  // controller and is given a3's job; the heartbeat waits for the next slot and is answered
  // when a2's poll ends. Nothing was refused and nothing lost.
  first.ctx.TryCancel();
  ASSERT_TRUE(third.done.WaitForNotificationWithTimeout(absl::Seconds(30)));
  ASSERT_TRUE(third.status.ok()) << third.status.error_message();
  ASSERT_TRUE(third.response.has_assignment());
  EXPECT_EQ(third.response.assignment().job().invocation().benchmark(), "fault_anon");
  second.ctx.TryCancel();
  ASSERT_TRUE(held_done.WaitForNotificationWithTimeout(absl::Seconds(30)));
  ASSERT_TRUE(held_status.ok()) << held_status.error_message();
  EXPECT_FALSE(held_response.reregister());  // a3's registration is there.
  const std::string metrics = server_->metrics()->Render();
  for (const char* rpc : {"Register", "PollWork", "ReportResult"}) {
    EXPECT_THAT(metrics, HasSubstr(absl::StrCat("faultline_controller_admission_rejected_total{rpc=\"",
                                                rpc, "\"} 0\n")));
  }

  server_->Shutdown();
  for (AsyncPoll* poll : {&first, &second, &fourth}) {
    ASSERT_TRUE(poll->done.WaitForNotificationWithTimeout(absl::Seconds(30)));
  }
}

}  // namespace
}  // namespace faultline::controller::service
