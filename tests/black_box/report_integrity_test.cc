// A lease holder that mislabels its run: it holds a fault_anon job on target "stock" and reports
// benchmark mmap_munmap, other parameters, or kernel label patched/evil. Each report is refused
// naming the field and nothing is stored; the honest report of the same lease is stored with
// the job's benchmark and the registered host.
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/faultline/v1/agent_service.grpc.pb.h"
#include "tests/testing/local_fleet.h"

namespace faultline {
namespace {

using ::testing::HasSubstr;
using testing::LocalFleet;

template <typename T>
T Parse(const std::string& text) {
  T message;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &message)) << text;
  return message;
}

std::unique_ptr<grpc::ClientContext> Context() {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
  return ctx;
}

TEST(ReportIntegrityTest, MislabelledRunIsRefusedAndNothingIsStored) {
  LocalFleet fleet(testing::MakeTempDir("report-integrity"));
  ASSERT_TRUE(fleet.StartController().ok()) << fleet.Logs();
  auto agents = v1::AgentService::NewStub(
      grpc::CreateChannel(fleet.address(), grpc::InsecureChannelCredentials()));

  v1::RegisterResponse registered;
  grpc::Status s = agents->Register(Context().get(), Parse<v1::RegisterRequest>(R"pb(
    agent_id: "liar"
    host { hostname: "liar" arch: ARCH_X86_64 kernel_release: "6.1.0" kernel_label: "stock"
           host_class: "test-2cpu" }
    catalog { name: "fault_anon"
              params { name: "region_mib" type: PARAM_TYPE_INT default_value { int_value: 64 } }
              metrics { name: "ns_per_fault" unit: "ns" direction: DIRECTION_LOWER_IS_BETTER } }
    catalog { name: "mmap_munmap"
              metrics { name: "ns_per_op" unit: "ns" direction: DIRECTION_LOWER_IS_BETTER } }
  )pb"), &registered);
  ASSERT_TRUE(s.ok()) << s.error_message();
  auto id = fleet.Submit(R"(name: "honest" repetitions: 1 targets { name: "stock" kernel_label: "stock" }
      suite { benchmark: "fault_anon" warmup: 0 params { key: "region_mib" value { int_value: 8 } } })");
  ASSERT_TRUE(id.ok()) << id.status();
  v1::PollWorkRequest poll;
  poll.set_agent_id("liar");
  poll.set_wait_seconds(5);
  v1::PollWorkResponse work;
  s = agents->PollWork(Context().get(), poll, &work);
  ASSERT_TRUE(s.ok() && work.has_assignment()) << s.error_message() << fleet.Logs();
  const v1::Assignment& a = work.assignment();

  auto report = [&](const std::string& result_text) {
    v1::ReportResultRequest r;
    r.set_agent_id("liar");
    r.set_job_id(a.job().id());
    r.set_attempt(a.job().attempt());
    r.set_lease_id(a.lease_id());
    *r.mutable_result() = Parse<v1::RunResult>(result_text);
    v1::ReportResultResponse response;
    grpc::Status status = agents->ReportResult(Context().get(), r, &response);
    return std::make_pair(status, response);
  };
  const std::string reps = R"( state: RUN_STATE_OK
      repetitions { index: 0 metrics { name: "ns_per_fault" value: 100 unit: "ns" } })";

  auto [benchmark, unused1] = report(R"(benchmark: "mmap_munmap"
      params { key: "region_mib" value { int_value: 8 } }
      host { arch: ARCH_X86_64 kernel_release: "6.1.0" kernel_label: "stock" })" + reps);
  EXPECT_EQ(benchmark.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(benchmark.error_message(), HasSubstr("result.benchmark: \"mmap_munmap\" is not job"));

  auto [params, unused2] = report(R"(benchmark: "fault_anon"
      params { key: "region_mib" value { int_value: 4096 } }
      host { arch: ARCH_X86_64 kernel_release: "6.1.0" kernel_label: "stock" })" + reps);
  EXPECT_EQ(params.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(params.error_message(), HasSubstr("result.params.region_mib: 4096 is not job"));

  auto [label, unused3] = report(R"(benchmark: "fault_anon"
      params { key: "region_mib" value { int_value: 8 } }
      host { arch: ARCH_X86_64 kernel_release: "6.1.0" kernel_label: "patched/evil" })" + reps);
  EXPECT_EQ(label.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(label.error_message(),
              HasSubstr("result.host.kernel_label: \"patched/evil\" is not what agent liar "
                        "registered (\"stock\")"));

  // Nothing stored, nothing counted under the claimed kernel.
  EXPECT_TRUE(fleet.Runs(*id).empty());
  testing::CommandResult patched = fleet.Ctl({"results", "--kernel_label=patched/*",
                                              "--format=csv"});
  EXPECT_EQ(patched.exit_code, 0) << patched.errors;
  EXPECT_THAT(patched.output, ::testing::Not(HasSubstr("liar")));

  // The honest report of the same lease is stored, host as registered.
  auto [honest, response] = report(R"(benchmark: "fault_anon"
      params { key: "region_mib" value { int_value: 8 } }
      host { arch: ARCH_X86_64 kernel_release: "6.1.0" kernel_label: "stock" })" + reps);
  ASSERT_TRUE(honest.ok()) << honest.error_message();
  EXPECT_TRUE(response.stored()) << response.detail();
  std::vector<v1::StoredRun> runs = fleet.Runs(*id);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].result().benchmark(), "fault_anon");
  EXPECT_EQ(runs[0].target_name(), "stock");
  EXPECT_EQ(runs[0].result().host().kernel_label(), "stock");
  EXPECT_EQ(runs[0].result().host().host_class(), "test-2cpu");
  EXPECT_EQ(runs[0].result().params().at("region_mib").int_value(), 8);
}

}  // namespace
}  // namespace faultline
