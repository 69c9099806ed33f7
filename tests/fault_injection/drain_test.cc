// An agent drained (SIGTERM) while its poll is parked: the poll is cancelled, and a job the
// controller then hands to that poll never reaches the agent. The job goes back to the queue at
// once, not after its lease lapses.
#include <signal.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "controller/metrics/http_get.h"
#include "gtest/gtest.h"
#include "tests/testing/local_fleet.h"

namespace faultline {
namespace {

using testing::LocalFleet;

// The value of an unlabelled (or the first labelled) sample of `name` in /metrics, or -1.
double Metric(int port, const std::string& name) {
  absl::StatusOr<controller::metrics::HttpResponse> page =
      controller::metrics::HttpGet(port, "/metrics");
  if (!page.ok() || page->status != 200) return -1;
  for (absl::string_view line : absl::StrSplit(page->body, '\n')) {
    if (!absl::StartsWith(line, name)) continue;
    const size_t space = line.rfind(' ');
    double value;
    if (space != absl::string_view::npos && absl::SimpleAtod(line.substr(space + 1), &value)) {
      return value;
    }
  }
  return -1;
}

bool WaitForMetric(int port, const std::string& name, double value, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (Metric(port, name) == value) return true;
    absl::SleepFor(absl::Milliseconds(100));
  }
  return false;
}

TEST(DrainTest, AJobGivenToAPollTheDrainCancelledIsReleasedAtOnce) {
  LocalFleet fleet(testing::MakeTempDir("drain"));
  const std::string metrics_file = fleet.dir() + "/metrics.port";
  // A lease far longer than the test's waits: a job stranded under it cannot come back in time.
  ASSERT_TRUE(
      fleet.StartController({"--lease_seconds=300", "--metrics_port_file=" + metrics_file}).ok())
      << fleet.Logs();
  absl::StatusOr<std::string> metrics_port_text =
      testing::WaitForFile(metrics_file, absl::Seconds(10));
  ASSERT_TRUE(metrics_port_text.ok());
  int metrics_port = 0;
  ASSERT_TRUE(absl::SimpleAtoi(*metrics_port_text, &metrics_port));

  // Long polls, so the cancelled one is still parked when the job arrives.
  ASSERT_TRUE(fleet.StartAgent({"drained", "stock", {"--poll_wait_seconds=60"}, ""}).ok())
      << fleet.Logs();
  ASSERT_TRUE(WaitForMetric(metrics_port, "faultline_controller_parked_polls ", 1,
                            absl::Seconds(30)))
      << fleet.Logs();
  EXPECT_EQ(fleet.agent("drained")->Stop(SIGTERM), 0) << fleet.Logs();

  auto id = fleet.Submit(R"(name: "after-drain" targets { kernel_label: "stock" }
      suite { benchmark: "fault_anon" warmup: 0 params { key: "region_mib" value { int_value: 1 } }
              params { key: "passes" value { int_value: 1 } } })");
  ASSERT_TRUE(id.ok()) << id.status();
  // The only parked poll is the cancelled one: the job is leased to it, and released.
  EXPECT_TRUE(WaitForMetric(metrics_port, "faultline_controller_jobs_started_total ", 1,
                            absl::Seconds(30)))
      << fleet.Logs();
  EXPECT_TRUE(WaitForMetric(metrics_port,
                            "faultline_controller_jobs_requeued_total{reason=\"undelivered\"} ", 1,
                            absl::Seconds(30)))
      << fleet.Logs();

  // Another agent runs it long before the 300 s lease could have lapsed, as its first attempt.
  // Not asserted: StartAgent waits for as many live agents as it started, and the drained one
  // is gone. The campaign's outcome below says whether "next" ran.
  fleet.StartAgent({"next", "stock", {}, ""}).IgnoreError();
  auto done = fleet.WaitForCampaign(
      *id, [](const v1::Campaign& c) { return c.state() == v1::CAMPAIGN_STATE_SUCCEEDED; },
      absl::Seconds(120));
  ASSERT_TRUE(done.ok()) << done.status() << fleet.Logs();
  std::vector<v1::StoredRun> runs = fleet.Runs(*id);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].agent_id(), "next");
  EXPECT_EQ(runs[0].attempt(), 1u) << "the undelivered assignment counted as an attempt";
}

}  // namespace
}  // namespace faultline
