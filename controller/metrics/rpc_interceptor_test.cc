#include "controller/metrics/rpc_interceptor.h"

#include "gtest/gtest.h"
#include "proto/faultline/v1/agent_service.grpc.pb.h"

namespace faultline::controller::metrics {
namespace {

TEST(RpcMethodLabelTest, KnownMethodsKeepTheirNameOthersAreUnknown) {
  // Referencing the service links its descriptor into the generated pool.
  ASSERT_NE(v1::AgentService::service_full_name(), nullptr);
  EXPECT_EQ(RpcMethodLabel("/faultline.v1.AgentService/PollWork"),
            "faultline.v1.AgentService/PollWork");
  EXPECT_EQ(RpcMethodLabel("/grpc.health.v1.Health/Check"), "grpc.health.v1.Health/Check");
  EXPECT_EQ(RpcMethodLabel("/faultline.v1.AgentService/NoSuchMethod"), "unknown");
  EXPECT_EQ(RpcMethodLabel("/job-12345/whatever"), "unknown");
  EXPECT_EQ(RpcMethodLabel("garbage"), "unknown");
  EXPECT_EQ(RpcMethodLabel("/"), "unknown");
}

TEST(StatusCodeNameTest, NamesEveryCode) {
  EXPECT_EQ(StatusCodeName(grpc::StatusCode::OK), "OK");
  EXPECT_EQ(StatusCodeName(grpc::StatusCode::FAILED_PRECONDITION), "FAILED_PRECONDITION");
  EXPECT_EQ(StatusCodeName(grpc::StatusCode::UNAUTHENTICATED), "UNAUTHENTICATED");
  EXPECT_EQ(StatusCodeName(static_cast<grpc::StatusCode>(99)), "UNKNOWN");
}

}  // namespace
}  // namespace faultline::controller::metrics
