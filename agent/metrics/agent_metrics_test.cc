#include "agent/metrics/agent_metrics.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/text_serializer.h"

namespace faultline::agent::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Render(const AgentMetrics& metrics) {
  return prometheus::TextSerializer().Serialize(metrics.registry()->Collect());
}

TEST(AgentMetricsTest, TracksStateJobAndDurations) {
  AgentMetrics metrics;
  EXPECT_THAT(Render(metrics), HasSubstr("faultline_agent_state{state=\"idle\"} 1\n"));
  metrics.SetState(v1::AGENT_STATE_RUNNING);
  metrics.JobStarted();
  metrics.SetJobProgress(0.5);
  std::string text = Render(metrics);
  EXPECT_THAT(text, HasSubstr("faultline_agent_state{state=\"idle\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("faultline_agent_state{state=\"running\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("faultline_agent_job_running 1\n"));
  EXPECT_THAT(text, HasSubstr("faultline_agent_job_progress_ratio 0.5\n"));
  EXPECT_THAT(text, Not(HasSubstr("faultline_agent_job_start_time_seconds 0\n")));

  metrics.JobFinished("fault_anon", v1::RUN_STATE_OK, absl::Milliseconds(700));
  metrics.SetSpooledResults(2);
  metrics.Reconnected();
  metrics.SetJobProgress(7);  // Clamped.
  text = Render(metrics);
  EXPECT_THAT(text, HasSubstr("faultline_agent_job_running 0\n"));
  EXPECT_THAT(text, HasSubstr("faultline_agent_job_start_time_seconds 0\n"));
  EXPECT_THAT(text, HasSubstr("faultline_agent_job_progress_ratio 1\n"));
  EXPECT_THAT(text, HasSubstr(
      "faultline_agent_benchmark_run_duration_seconds_bucket{benchmark=\"fault_anon\",le=\"1\"} 1\n"));
  EXPECT_THAT(text, HasSubstr(
      "faultline_agent_benchmark_run_duration_seconds_bucket{benchmark=\"fault_anon\",le=\"0.5\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("faultline_agent_jobs_total{result=\"ok\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("faultline_agent_spooled_results 2\n"));
  EXPECT_THAT(text, HasSubstr("faultline_agent_reconnects_total 1\n"));
}

}  // namespace
}  // namespace faultline::agent::metrics
