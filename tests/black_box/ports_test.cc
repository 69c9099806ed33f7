// Listening ports: a taken port is refused (no second server shares it through SO_REUSEPORT),
// and a port above 65535 is refused instead of being taken modulo 65536.
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/local_fleet.h"

namespace faultline {
namespace {

using ::testing::HasSubstr;
using testing::LocalFleet;
using testing::RunCommand;
using testing::RunfilePath;

std::vector<std::string> Controller(const std::string& dir, const std::string& listen,
                                    const std::string& metrics_listen) {
  return {RunfilePath("controller/faultline-controller"), "--plaintext", "--listen=" + listen,
          "--db=" + dir + "/other.db", "--metrics_listen=" + metrics_listen};
}

TEST(PortsTest, SecondControllerOnATakenPortExitsNonZero) {
  LocalFleet fleet(testing::MakeTempDir("taken-port"));
  const std::string metrics_file = fleet.dir() + "/metrics.port";
  ASSERT_TRUE(fleet.StartController({"--metrics_port_file=" + metrics_file}).ok())
      << fleet.Logs();

  testing::CommandResult second =
      RunCommand(Controller(fleet.dir(), fleet.address(), "127.0.0.1:0"), absl::Seconds(30));
  EXPECT_NE(second.exit_code, 0) << second.errors;
  EXPECT_THAT(second.errors, HasSubstr("already in use"));
  EXPECT_THAT(second.errors, ::testing::Not(HasSubstr("serving")));

  // The metrics port is no more shareable than the gRPC one.
  absl::StatusOr<std::string> metrics_port = testing::WaitForFile(metrics_file, absl::Seconds(5));
  ASSERT_TRUE(metrics_port.ok());
  testing::CommandResult metrics = RunCommand(
      Controller(fleet.dir(), "127.0.0.1:0", "127.0.0.1:" + *metrics_port), absl::Seconds(30));
  EXPECT_NE(metrics.exit_code, 0) << metrics.errors;
  EXPECT_THAT(metrics.errors, HasSubstr("already in use"));

  // The first controller still serves its own store alone.
  EXPECT_TRUE(fleet.WaitForAgents(0).ok());
}

TEST(PortsTest, SecondAgentOnATakenMetricsPortExitsNonZero) {
  LocalFleet fleet(testing::MakeTempDir("taken-agent-port"));
  ASSERT_TRUE(fleet.StartController().ok()) << fleet.Logs();
  const std::string port_file = fleet.dir() + "/agent-metrics.port";
  ASSERT_TRUE(fleet
                  .StartAgent({"first", "stock",
                               {"--metrics_listen=127.0.0.1:0", "--metrics_port_file=" + port_file},
                               ""})
                  .ok())
      << fleet.Logs();
  absl::StatusOr<std::string> port = testing::WaitForFile(port_file, absl::Seconds(10));
  ASSERT_TRUE(port.ok());

  testing::CommandResult second = RunCommand(
      {RunfilePath("agent/faultline-agent"), "--plaintext", "--controller=" + fleet.address(),
       "--agent_id=second", "--spool_dir=" + fleet.dir() + "/spool-second",
       "--metrics_listen=127.0.0.1:" + *port},
      absl::Seconds(30));
  EXPECT_NE(second.exit_code, 0) << second.errors;
  EXPECT_THAT(second.errors, HasSubstr("already in use"));
}

TEST(PortsTest, PortsAbove65535AreRefusedEverywhere) {
  LocalFleet fleet(testing::MakeTempDir("port-range"));
  testing::CommandResult controller =
      RunCommand(Controller(fleet.dir(), "127.0.0.1:99999", "127.0.0.1:0"), absl::Seconds(30));
  EXPECT_EQ(controller.exit_code, 2) << controller.errors;
  EXPECT_THAT(controller.errors, HasSubstr("--listen: port \"99999\""));

  testing::CommandResult metrics =
      RunCommand(Controller(fleet.dir(), "127.0.0.1:0", "127.0.0.1:70000"), absl::Seconds(30));
  EXPECT_EQ(metrics.exit_code, 2) << metrics.errors;
  EXPECT_THAT(metrics.errors, HasSubstr("port \"70000\""));

  testing::CommandResult agent = RunCommand(
      {RunfilePath("agent/faultline-agent"), "--plaintext", "--controller=127.0.0.1:99999",
       "--agent_id=a1", "--spool_dir=" + fleet.dir() + "/spool"},
      absl::Seconds(30));
  EXPECT_EQ(agent.exit_code, 2) << agent.errors;
  EXPECT_THAT(agent.errors, HasSubstr("--controller: port \"99999\""));

  testing::CommandResult ctl = RunCommand({RunfilePath("controller/cli/faultlinectl"),
                                           "--plaintext", "--controller=127.0.0.1:99999", "list"},
                                          absl::Seconds(30));
  EXPECT_EQ(ctl.exit_code, 2) << ctl.errors;
  EXPECT_THAT(ctl.errors, HasSubstr("--controller: port \"99999\""));
}

}  // namespace
}  // namespace faultline
