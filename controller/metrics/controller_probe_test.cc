// The real faultline-controller binary answers the standard gRPC probes (health checking and
// server reflection) and counts them in its /metrics.
#include <memory>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "controller/metrics/http_get.h"
#include "controller/metrics/testdata/health.grpc.pb.h"
#include "controller/metrics/testdata/reflection.grpc.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.pb.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/testing/subprocess.h"

namespace faultline::controller::metrics {
namespace {

using ::grpc::health::v1::Health;
using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;
using ::grpc::reflection::v1alpha::ServerReflection;
using ::grpc::reflection::v1alpha::ServerReflectionRequest;
using ::grpc::reflection::v1alpha::ServerReflectionResponse;
using ::testing::Contains;
using ::testing::HasSubstr;

class ControllerProbeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = faultline::testing::MakeTempDir("probe");
    ASSERT_TRUE(controller_
                    .Start({faultline::testing::RunfilePath("controller/faultline-controller"),
                            "--listen=127.0.0.1:0", "--plaintext", "--db=" + dir_ + "/faultline.db",
                            "--port_file=" + dir_ + "/port", "--metrics_listen=127.0.0.1:0",
                            "--metrics_port_file=" + dir_ + "/metrics_port"},
                           dir_ + "/controller.log")
                    .ok());
    absl::StatusOr<std::string> port =
        faultline::testing::WaitForFile(dir_ + "/port", absl::Seconds(30));
    absl::StatusOr<std::string> metrics_port =
        faultline::testing::WaitForFile(dir_ + "/metrics_port", absl::Seconds(30));
    ASSERT_TRUE(port.ok() && metrics_port.ok())
        << faultline::testing::ReadFileOrEmpty(dir_ + "/controller.log");
    ASSERT_TRUE(absl::SimpleAtoi(*metrics_port, &metrics_port_));
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", *port),
                                   grpc::InsecureChannelCredentials());
  }

  HealthCheckResponse::ServingStatus Check(const std::string& service, grpc::Status* status) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    HealthCheckRequest request;
    request.set_service(service);
    HealthCheckResponse response;
    *status = Health::NewStub(channel_)->Check(&ctx, request, &response);
    return response.status();
  }

  std::string dir_;
  faultline::testing::Subprocess controller_;
  int metrics_port_ = 0;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(ControllerProbeTest, HealthCheckReportsServing) {
  for (const char* service : {"", "faultline.v1.AgentService", "faultline.v1.CampaignService",
                              "faultline.v1.AnalysisService"}) {
    grpc::Status status;
    EXPECT_EQ(Check(service, &status), HealthCheckResponse::SERVING) << service;
    EXPECT_TRUE(status.ok()) << service << ": " << status.error_message();
  }
  grpc::Status status;
  Check("no.such.Service", &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(ControllerProbeTest, ReflectionListsServicesAndServesTheirDescriptors) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  auto stream = ServerReflection::NewStub(channel_)->ServerReflectionInfo(&ctx);
  ServerReflectionRequest list;
  list.set_list_services("");
  ASSERT_TRUE(stream->Write(list));
  ServerReflectionResponse response;
  ASSERT_TRUE(stream->Read(&response));
  std::vector<std::string> services;
  for (const auto& s : response.list_services_response().service()) services.push_back(s.name());
  EXPECT_THAT(services, Contains("faultline.v1.AgentService"));
  EXPECT_THAT(services, Contains("faultline.v1.CampaignService"));
  EXPECT_THAT(services, Contains("faultline.v1.AnalysisService"));
  EXPECT_THAT(services, Contains("grpc.reflection.v1alpha.ServerReflection"));

  ServerReflectionRequest file;
  file.set_file_containing_symbol("faultline.v1.CampaignService");
  ASSERT_TRUE(stream->Write(file));
  ASSERT_TRUE(stream->Read(&response));
  ASSERT_GT(response.file_descriptor_response().file_descriptor_proto_size(), 0)
      << response.DebugString();
  google::protobuf::FileDescriptorProto proto;
  ASSERT_TRUE(proto.ParseFromString(response.file_descriptor_response().file_descriptor_proto(0)));
  EXPECT_EQ(proto.package(), "faultline.v1");
  ASSERT_EQ(proto.service_size(), 1);
  EXPECT_EQ(proto.service(0).name(), "CampaignService");
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_F(ControllerProbeTest, MetricsCountProbesByBoundedMethodLabel) {
  grpc::Status status;
  Check("", &status);
  ASSERT_TRUE(status.ok());
  // A call to a method nobody implements must not mint a new label value.
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    grpc::GenericStub generic(channel_);
    grpc::CompletionQueue cq;
    grpc::ByteBuffer request;
    grpc::ByteBuffer reply;
    grpc::Status unimplemented;
    auto call = generic.PrepareUnaryCall(&ctx, "/job-0042.Anything/Here", request, &cq);
    call->StartCall();
    call->Finish(&reply, &unimplemented, &cq);
    void* tag = nullptr;
    bool ok = false;
    ASSERT_TRUE(cq.Next(&tag, &ok));
    cq.Shutdown();
    while (cq.Next(&tag, &ok)) {
    }
    EXPECT_EQ(unimplemented.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  }
  absl::StatusOr<HttpResponse> metrics = HttpGet(metrics_port_, "/metrics");
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_EQ(metrics->status, 200);
  EXPECT_THAT(metrics->body,
              HasSubstr("faultline_controller_rpcs_total{code=\"OK\",method=\"grpc.health.v1."
                        "Health/Check\"} 1\n"));
  EXPECT_THAT(metrics->body, HasSubstr("faultline_controller_rpc_duration_seconds_count{method="
                                       "\"grpc.health.v1.Health/Check\"} 1\n"));
  EXPECT_THAT(metrics->body, ::testing::Not(HasSubstr("job-0042")));
  EXPECT_THAT(metrics->body, HasSubstr("faultline_controller_queued_jobs{priority=\"gate\"} 0\n"));
}

}  // namespace
}  // namespace faultline::controller::metrics
