#include "agent/metrics/agent_metrics.h"

#include <algorithm>

#include "absl/time/clock.h"

#include "proto/faultline/v1/enum_names.h"

namespace faultline::agent::metrics {
namespace {

// Benchmarks run from a fraction of a second to the hour-long timeout.
const prometheus::Histogram::BucketBoundaries& RunBuckets() {
  static const auto* const buckets = new prometheus::Histogram::BucketBoundaries{
      0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600};
  return *buckets;
}

std::string RunResultLabel(v1::RunState state) {
  return v1::EnumLabel(v1::RunState_Name(state), "RUN_STATE_");
}

}  // namespace

AgentMetrics::AgentMetrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      state_(prometheus::BuildGauge()
                 .Name("faultline_agent_state")
                 .Help("1 for the agent's current state (idle, running, provisioning, "
                       "draining), 0 for the others.")
                 .Register(*registry_)),
      job_running_(prometheus::BuildGauge()
                       .Name("faultline_agent_job_running")
                       .Help("1 while a benchmark job runs, else 0.")
                       .Register(*registry_)
                       .Add({})),
      job_progress_(prometheus::BuildGauge()
                        .Name("faultline_agent_job_progress_ratio")
                        .Help("Fraction of the current job done (0 when idle).")
                        .Register(*registry_)
                        .Add({})),
      job_start_time_(prometheus::BuildGauge()
                          .Name("faultline_agent_job_start_time_seconds")
                          .Help("Unix time the current job started (0 when idle).")
                          .Register(*registry_)
                          .Add({})),
      run_duration_(prometheus::BuildHistogram()
                        .Name("faultline_agent_benchmark_run_duration_seconds")
                        .Help("Wall time of benchmark runs (child process start to result), by "
                              "benchmark.")
                        .Register(*registry_)),
      jobs_(prometheus::BuildCounter()
                .Name("faultline_agent_jobs_total")
                .Help("Jobs finished by this agent, by run result (ok, failed, skipped, "
                      "timed_out, crashed, refused).")
                .Register(*registry_)),
      spooled_(prometheus::BuildGauge()
                   .Name("faultline_agent_spooled_results")
                   .Help("Results on disk waiting for the controller to acknowledge them.")
                   .Register(*registry_)
                   .Add({})),
      reconnects_(prometheus::BuildCounter()
                      .Name("faultline_agent_reconnects_total")
                      .Help("Times the controller became reachable again after failing.")
                      .Register(*registry_)
                      .Add({})) {
  SetState(v1::AGENT_STATE_IDLE);
  for (v1::RunState s : {v1::RUN_STATE_OK, v1::RUN_STATE_FAILED, v1::RUN_STATE_SKIPPED,
                         v1::RUN_STATE_TIMED_OUT, v1::RUN_STATE_CRASHED, v1::RUN_STATE_REFUSED}) {
    jobs_.Add({{"result", RunResultLabel(s)}});
  }
}

void AgentMetrics::SetState(v1::AgentState state) {
  for (v1::AgentState s : {v1::AGENT_STATE_IDLE, v1::AGENT_STATE_RUNNING,
                           v1::AGENT_STATE_PROVISIONING, v1::AGENT_STATE_DRAINING}) {
    state_.Add({{"state", v1::EnumLabel(v1::AgentState_Name(s), "AGENT_STATE_")}})
        .Set(s == state ? 1 : 0);
  }
}

void AgentMetrics::JobStarted() {
  job_running_.Set(1);
  job_progress_.Set(0);
  job_start_time_.SetToCurrentTime();
}

void AgentMetrics::JobFinished(const std::string& benchmark, v1::RunState result,
                               absl::Duration elapsed) {
  run_duration_.Add({{"benchmark", benchmark}}, RunBuckets())
      .Observe(absl::ToDoubleSeconds(elapsed));
  jobs_.Add({{"result", RunResultLabel(result)}}).Increment();
  job_running_.Set(0);
  job_progress_.Set(0);
  job_start_time_.Set(0);
}

void AgentMetrics::SetJobProgress(double fraction) {
  job_progress_.Set(std::clamp(fraction, 0.0, 1.0));
}

void AgentMetrics::SetSpooledResults(int64_t count) {
  spooled_.Set(static_cast<double>(count));
}

void AgentMetrics::Reconnected() { reconnects_.Increment(); }

}  // namespace faultline::agent::metrics
