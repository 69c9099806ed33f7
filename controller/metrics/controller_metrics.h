// The controller's Prometheus metrics: event counters and latency histograms updated as things
// happen, plus fleet, queue and campaign gauges computed from the store when Prometheus scrapes
// (so they are right even with several controllers on one store, and cost nothing between
// scrapes).
//
// Label cardinality is bounded by construction: agent state, arch, hardware class and kernel
// label (the machines and kernels in the fleet), queue priority, job and run states, RPC
// methods the server implements, store operations, and gate policy names (capped at kMaxGates). Job, campaign and agent ids never
// become labels; campaign progress is exposed summed over the active campaigns by job state.
// Campaign names are free text chosen by whoever submits, so they are not labels either.
#ifndef FAULTLINE_CONTROLLER_METRICS_CONTROLLER_METRICS_H_
#define FAULTLINE_CONTROLLER_METRICS_CONTROLLER_METRICS_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "controller/store/store.h"
#include "prometheus/collectable.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace faultline::controller::metrics {

// faultline_gate_verdict values. Ordered so that "below zero" is bad in dashboards.
enum GateVerdictCode : int {
  kGateFail = -1,
  kGateInconclusive = 0,
  kGatePass = 1,
};

// Where the scrape-time gauges come from. Each may be empty (its gauges are then absent).
struct StateSources {
  // Every known agent with liveness applied (state LOST for silent ones).
  std::function<absl::StatusOr<std::vector<store::AgentRecord>>()> agents;
  // Queued jobs by campaign priority (v1::Priority value).
  std::function<absl::StatusOr<std::map<int, int64_t>>()> queued_jobs;
  // Recent campaigns with their progress.
  std::function<absl::StatusOr<std::vector<v1::Campaign>>()> campaigns;
  // Long-polls parked now, and the cap past which new polls are turned away (0: none), so an
  // operator sees a herd coming before agents are refused.
  std::function<size_t()> parked_polls;
  size_t parked_polls_limit = 0;
};

class ControllerMetrics : public prometheus::Collectable {
 public:
  // Distinct gate names kept; verdicts of further gates are dropped and counted.
  static constexpr size_t kMaxGates = 256;

  ControllerMetrics();

  void SetStateSources(StateSources sources);

  // --- Job lifecycle (called by InstrumentedStore) ---
  void JobStarted();
  // `run_state` of the stored result decides succeeded / skipped / failed{reason}.
  void JobFinished(v1::RunState run_state);
  // A report that changed nothing: "duplicate" or "stale".
  void ResultDiscarded(const std::string& reason);
  // A failed attempt went back to the queue to be confirmed on another host.
  void JobRequeued(const std::string& reason);
  void LeasesExpired(int count);

  // --- RPCs and store ---
  // `method` is "package.Service/Method" (bounded by the caller), `code` a gRPC code name.
  void RecordRpc(const std::string& method, const std::string& code, absl::Duration elapsed);
  void RecordStoreOperation(const std::string& operation, absl::Duration elapsed, bool ok);

  // --- Admission control ---
  // A call refused (RESOURCE_EXHAUSTED) or a long-poll turned away because the controller was
  // at its bound. `rpc` is the method name ("Register", "ReportResult", "PollWork").
  void AdmissionRejected(const std::string& rpc);

  // --- Gates ---
  // Latest verdict of the gate policy `gate`: one of GateVerdictCode (other values are
  // rejected and counted in faultline_gate_verdict_rejected_total).
  void RecordGateVerdict(const std::string& gate, int verdict);

  // Registry metrics plus the scrape-time gauges.
  std::vector<prometheus::MetricFamily> Collect() const override;

  // The exposition text of Collect(), for tests and debugging.
  std::string Render() const;

 private:
  std::vector<prometheus::MetricFamily> CollectState() const;

  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Counter& jobs_started_;
  prometheus::Counter& jobs_succeeded_;
  prometheus::Counter& jobs_skipped_;
  prometheus::Family<prometheus::Counter>& jobs_failed_;
  prometheus::Family<prometheus::Counter>& jobs_requeued_;
  prometheus::Counter& lease_expiries_;
  prometheus::Family<prometheus::Counter>& results_discarded_;
  prometheus::Family<prometheus::Counter>& rpcs_;
  prometheus::Family<prometheus::Histogram>& rpc_duration_;
  prometheus::Family<prometheus::Histogram>& store_duration_;
  prometheus::Family<prometheus::Counter>& store_errors_;
  prometheus::Family<prometheus::Counter>& admission_rejected_;
  prometheus::Family<prometheus::Gauge>& gate_verdict_;
  prometheus::Family<prometheus::Gauge>& gate_verdict_time_;
  prometheus::Counter& gate_verdict_rejected_;
  prometheus::Counter& state_collect_errors_;

  mutable absl::Mutex mu_;
  StateSources sources_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> gate_names_ ABSL_GUARDED_BY(mu_);
};

}  // namespace faultline::controller::metrics

#endif  // FAULTLINE_CONTROLLER_METRICS_CONTROLLER_METRICS_H_
