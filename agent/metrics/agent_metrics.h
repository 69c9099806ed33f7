// The agent daemon's Prometheus metrics: its state, the job it is running and that job's
// progress, benchmark run durations by benchmark (names come from the agent's own catalog, so
// the label is bounded), spooled results and reconnects. No job ids as labels.
#ifndef FAULTLINE_AGENT_METRICS_AGENT_METRICS_H_
#define FAULTLINE_AGENT_METRICS_AGENT_METRICS_H_

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "proto/faultline/v1/benchmark.pb.h"
#include "proto/faultline/v1/host.pb.h"

namespace faultline::agent::metrics {

class AgentMetrics {
 public:
  AgentMetrics();

  // faultline_agent_state{state}: 1 for the current state, 0 for the others.
  void SetState(v1::AgentState state);
  void JobStarted();
  // Ends the current job: its run duration is observed under `benchmark`.
  void JobFinished(const std::string& benchmark, v1::RunState result, absl::Duration elapsed);
  // Fraction (0..1) of the current job done, e.g. repetitions completed / requested. The
  // benchmark executor reports nothing before a run ends, so the agent does not call this yet;
  // time() - faultline_agent_job_start_time_seconds gives a running job's elapsed time.
  void SetJobProgress(double fraction);
  void SetSpooledResults(int64_t count);
  // The connection to the controller came back after failing.
  void Reconnected();

  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Gauge>& state_;
  prometheus::Gauge& job_running_;
  prometheus::Gauge& job_progress_;
  prometheus::Gauge& job_start_time_;
  prometheus::Family<prometheus::Histogram>& run_duration_;
  prometheus::Family<prometheus::Counter>& jobs_;
  prometheus::Gauge& spooled_;
  prometheus::Counter& reconnects_;
};

}  // namespace faultline::agent::metrics

#endif  // FAULTLINE_AGENT_METRICS_AGENT_METRICS_H_
