// Kernel provisioning end to end: an agent on the stock kernel that can provision a patched
// one is given a job for the patched kernel, runs its provisioning command, re-registers with
// its new fingerprint, and runs the job there.
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/testing/local_fleet.h"

namespace faultline {
namespace {

using ::testing::HasSubstr;
using testing::LocalFleet;

TEST(ProvisioningE2eTest, AgentBootsTheRequestedKernelThenRunsTheJob) {
  LocalFleet fleet(testing::MakeTempDir("provision"));
  ASSERT_TRUE(fleet.StartController().ok()) << fleet.Logs();
  // The "kernel" here is the label file: the provisioning command stands in for a kexec script
  // by writing the label the new kernel would report.
  const std::string label_file = fleet.dir() + "/kernel_label";
  std::ofstream(label_file) << "stock\n";
  ASSERT_TRUE(fleet
                  .StartAgent({"flexible", "stock",
                               {"--kernel_label_file=" + label_file,
                                "--provisionable_kernels=patched/v2",
                                "--provision_command=echo \"$1\" > " + label_file},
                               ""})
                  .ok())
      << fleet.Logs();

  auto refused = fleet.Submit(R"(name: "x" suite { benchmark: "fault_anon" }
                                 targets { kernel_label: "patched/v3" })");
  EXPECT_FALSE(refused.ok());
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("no registered agent matches"));

  auto id = fleet.Submit(R"(name: "provision" repetitions: 2
      suite { benchmark: "fault_anon" params { key: "region_mib" value { int_value: 1 } } }
      targets { kernel_label: "patched/*" })");
  ASSERT_TRUE(id.ok()) << id.status();
  auto done = fleet.WaitForCampaign(
      *id, [](const v1::Campaign& c) { return c.state() == v1::CAMPAIGN_STATE_SUCCEEDED; },
      absl::Seconds(60));
  ASSERT_TRUE(done.ok()) << done.status();

  std::vector<v1::StoredRun> runs = fleet.Runs(*id);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].result().state(), v1::RUN_STATE_OK) << runs[0].result().diagnostic();
  EXPECT_EQ(runs[0].result().host().kernel_label(), "patched/v2");
  EXPECT_THAT(testing::ReadFileOrEmpty(fleet.agent("flexible")->log_path()),
              HasSubstr("provisioning kernel patched/v2"));

  // The controller now knows the agent by its new fingerprint.
  grpc::ClientContext ctx;
  v1::ListAgentsResponse agents;
  ASSERT_TRUE(fleet.stub()->ListAgents(&ctx, v1::ListAgentsRequest(), &agents).ok());
  ASSERT_EQ(agents.agents_size(), 1);
  EXPECT_EQ(agents.agents(0).host().kernel_label(), "patched/v2");
}

}  // namespace
}  // namespace faultline
