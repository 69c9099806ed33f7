#include "controller/metrics/controller_metrics.h"

#include <map>
#include <tuple>
#include <utility>

#include "absl/time/clock.h"
#include "controller/store/store_encoding.h"
#include "proto/faultline/v1/enum_names.h"
#include "prometheus/metric_family.h"
#include "prometheus/text_serializer.h"

namespace faultline::controller::metrics {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;
using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

// PollWork long-polls for up to a minute, so RPC buckets reach 60 s.
const prometheus::Histogram::BucketBoundaries& RpcBuckets() {
  static const auto* const buckets = new prometheus::Histogram::BucketBoundaries{
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
  return *buckets;
}

const prometheus::Histogram::BucketBoundaries& StoreBuckets() {
  static const auto* const buckets = new prometheus::Histogram::BucketBoundaries{
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
  return *buckets;
}

MetricFamily GaugeFamily(const std::string& name, const std::string& help) {
  MetricFamily family;
  family.name = name;
  family.help = help;
  family.type = MetricType::Gauge;
  return family;
}

void AddGauge(MetricFamily* family, std::vector<ClientMetric::Label> labels, double value) {
  ClientMetric metric;
  metric.label = std::move(labels);
  metric.gauge.value = value;
  family->metric.push_back(std::move(metric));
}

bool CampaignIsFinal(int state) {
  return state == v1::CAMPAIGN_STATE_SUCCEEDED || state == v1::CAMPAIGN_STATE_FAILED ||
         state == v1::CAMPAIGN_STATE_CANCELLED;
}

}  // namespace

ControllerMetrics::ControllerMetrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      jobs_started_(BuildCounter()
                        .Name("faultline_controller_jobs_started_total")
                        .Help("Jobs leased to an agent (each attempt counts).")
                        .Register(*registry_)
                        .Add({})),
      jobs_succeeded_(BuildCounter()
                          .Name("faultline_controller_jobs_succeeded_total")
                          .Help("Jobs whose stored result completed every repetition.")
                          .Register(*registry_)
                          .Add({})),
      jobs_skipped_(BuildCounter()
                        .Name("faultline_controller_jobs_skipped_total")
                        .Help("Jobs whose benchmark cannot run on its host (not a failure).")
                        .Register(*registry_)
                        .Add({})),
      jobs_failed_(BuildCounter()
                       .Name("faultline_controller_jobs_failed_total")
                       .Help("Jobs whose stored result is a failure, by run state "
                             "(failed, timed_out, crashed, refused).")
                       .Register(*registry_)),
      jobs_requeued_(BuildCounter()
                         .Name("faultline_controller_jobs_requeued_total")
                         .Help("Jobs put back on the queue, by reason. lease_expired counts every "
                               "expired lease, including a job's last attempt, which fails it.")
                         .Register(*registry_)),
      lease_expiries_(BuildCounter()
                          .Name("faultline_controller_lease_expiries_total")
                          .Help("Leases that lapsed because their agent stopped renewing.")
                          .Register(*registry_)
                          .Add({})),
      results_discarded_(BuildCounter()
                             .Name("faultline_controller_results_discarded_total")
                             .Help("Result reports that changed nothing, by reason "
                                   "(duplicate, stale).")
                             .Register(*registry_)),
      rpcs_(BuildCounter()
                .Name("faultline_controller_rpcs_total")
                .Help("gRPC calls finished, by method and status code.")
                .Register(*registry_)),
      rpc_duration_(BuildHistogram()
                        .Name("faultline_controller_rpc_duration_seconds")
                        .Help("gRPC call duration from arrival to status, by method (PollWork "
                              "includes its long-poll wait).")
                        .Register(*registry_)),
      store_duration_(BuildHistogram()
                          .Name("faultline_controller_store_operation_duration_seconds")
                          .Help("Store call duration, by operation.")
                          .Register(*registry_)),
      store_errors_(BuildCounter()
                        .Name("faultline_controller_store_errors_total")
                        .Help("Store calls that returned an error, by operation.")
                        .Register(*registry_)),
      admission_rejected_(BuildCounter()
                              .Name("faultline_controller_admission_rejected_total")
                              .Help("Calls refused with RESOURCE_EXHAUSTED, or long-polls "
                                    "answered at once, because the controller was at its "
                                    "admission bound, by RPC.")
                              .Register(*registry_)),
      gate_verdict_(BuildGauge()
                        .Name("faultline_gate_verdict")
                        .Help("Latest verdict of each gate policy: 1 pass, 0 inconclusive, "
                              "-1 fail.")
                        .Register(*registry_)),
      gate_verdict_time_(BuildGauge()
                             .Name("faultline_gate_verdict_timestamp_seconds")
                             .Help("Unix time of each gate policy's latest verdict.")
                             .Register(*registry_)),
      gate_verdict_rejected_(BuildCounter()
                                 .Name("faultline_gate_verdict_rejected_total")
                                 .Help("Gate verdicts dropped: unknown verdict value, empty "
                                       "name, or more distinct gates than the metric keeps.")
                                 .Register(*registry_)
                                 .Add({})),
      state_collect_errors_(BuildCounter()
                                .Name("faultline_controller_state_collect_errors_total")
                                .Help("Scrapes whose fleet, queue or campaign gauges could not "
                                      "be read from the store.")
                                .Register(*registry_)
                                .Add({})) {
  // Present from the start so rate() and dashboards see zeros rather than nothing.
  jobs_requeued_.Add({{"reason", "lease_expired"}});
  jobs_requeued_.Add({{"reason", "failed_on_host"}});
  jobs_requeued_.Add({{"reason", "undelivered"}});
  for (const char* reason : {"failed", "timed_out", "crashed", "refused"}) {
    jobs_failed_.Add({{"reason", reason}});
  }
  for (const char* reason : {"duplicate", "stale"}) results_discarded_.Add({{"reason", reason}});
  for (const char* rpc : {"Register", "ReportResult", "PollWork"}) {
    admission_rejected_.Add({{"rpc", rpc}});
  }
}

void ControllerMetrics::SetStateSources(StateSources sources) {
  absl::MutexLock lock(&mu_);
  sources_ = std::move(sources);
}

void ControllerMetrics::JobStarted() { jobs_started_.Increment(); }

void ControllerMetrics::JobFinished(v1::RunState run_state) {
  switch (run_state) {
    case v1::RUN_STATE_OK:
      jobs_succeeded_.Increment();
      return;
    case v1::RUN_STATE_SKIPPED:
      jobs_skipped_.Increment();
      return;
    default:
      jobs_failed_.Add({{"reason", store::RunStateName(run_state)}}).Increment();
  }
}

void ControllerMetrics::ResultDiscarded(const std::string& reason) {
  results_discarded_.Add({{"reason", reason}}).Increment();
}

void ControllerMetrics::JobRequeued(const std::string& reason) {
  jobs_requeued_.Add({{"reason", reason}}).Increment();
}

void ControllerMetrics::LeasesExpired(int count) {
  if (count <= 0) return;
  lease_expiries_.Increment(count);
  jobs_requeued_.Add({{"reason", "lease_expired"}}).Increment(count);
}

void ControllerMetrics::RecordRpc(const std::string& method, const std::string& code,
                                  absl::Duration elapsed) {
  rpcs_.Add({{"method", method}, {"code", code}}).Increment();
  rpc_duration_.Add({{"method", method}}, RpcBuckets())
      .Observe(absl::ToDoubleSeconds(elapsed));
}

void ControllerMetrics::RecordStoreOperation(const std::string& operation,
                                             absl::Duration elapsed, bool ok) {
  store_duration_.Add({{"operation", operation}}, StoreBuckets())
      .Observe(absl::ToDoubleSeconds(elapsed));
  if (!ok) store_errors_.Add({{"operation", operation}}).Increment();
}

void ControllerMetrics::AdmissionRejected(const std::string& rpc) {
  admission_rejected_.Add({{"rpc", rpc}}).Increment();
}

void ControllerMetrics::RecordGateVerdict(const std::string& gate, int verdict) {
  if (gate.empty() || verdict < kGateFail || verdict > kGatePass) {
    gate_verdict_rejected_.Increment();
    return;
  }
  {
    absl::MutexLock lock(&mu_);
    if (!gate_names_.contains(gate)) {
      if (gate_names_.size() >= kMaxGates) {
        gate_verdict_rejected_.Increment();
        return;
      }
      gate_names_.insert(gate);
    }
  }
  gate_verdict_.Add({{"gate", gate}}).Set(verdict);
  gate_verdict_time_.Add({{"gate", gate}}).Set(absl::ToDoubleSeconds(absl::Now() -
                                                                     absl::UnixEpoch()));
}

std::vector<MetricFamily> ControllerMetrics::CollectState() const {
  StateSources sources;
  {
    absl::MutexLock lock(&mu_);
    sources = sources_;
  }
  std::vector<MetricFamily> out;
  bool failed = false;

  if (sources.agents) {
    absl::StatusOr<std::vector<store::AgentRecord>> agents = sources.agents();
    if (agents.ok()) {
      std::map<std::tuple<std::string, std::string, std::string, std::string>, int> counts;
      for (const store::AgentRecord& agent : *agents) {
        const std::string state = v1::EnumLabel(
            v1::AgentState_Name(static_cast<v1::AgentState>(agent.state)), "AGENT_STATE_");
        std::string arch = v1::ArchName(agent.host.arch());
        if (arch.empty()) arch = "unknown";
        std::string host_class = agent.host.host_class();
        if (host_class.empty()) host_class = "unknown";
        ++counts[{state, arch, agent.host.kernel_label(), host_class}];
      }
      MetricFamily family = GaugeFamily(
          "faultline_controller_agents",
          "Registered agents by state (lost: missed heartbeats), architecture, hardware class "
          "and kernel label.");
      for (const auto& [key, n] : counts) {
        AddGauge(&family,
                 {{"arch", std::get<1>(key)},
                  {"host_class", std::get<3>(key)},
                  {"kernel_label", std::get<2>(key)},
                  {"state", std::get<0>(key)}},
                 n);
      }
      out.push_back(std::move(family));
    } else {
      failed = true;
    }
  }

  if (sources.parked_polls) {
    MetricFamily parked = GaugeFamily(
        "faultline_controller_parked_polls",
        "PollWork calls parked waiting for work now (one per idle agent).");
    AddGauge(&parked, {}, static_cast<double>(sources.parked_polls()));
    out.push_back(std::move(parked));
    if (sources.parked_polls_limit > 0) {
      MetricFamily limit = GaugeFamily(
          "faultline_controller_parked_polls_limit",
          "--max_parked_polls: past it a poll is answered at once with a retry hint.");
      AddGauge(&limit, {}, static_cast<double>(sources.parked_polls_limit));
      out.push_back(std::move(limit));
    }
  }

  if (sources.queued_jobs) {
    absl::StatusOr<std::map<int, int64_t>> queued = sources.queued_jobs();
    if (queued.ok()) {
      std::map<std::string, int64_t> by_priority;
      for (int p = v1::Priority_MIN; p <= v1::Priority_MAX; ++p) {
        if (p == v1::PRIORITY_UNSPECIFIED || !v1::Priority_IsValid(p)) continue;
        by_priority[v1::EnumLabel(v1::Priority_Name(static_cast<v1::Priority>(p)), "PRIORITY_")] = 0;
      }
      for (const auto& [priority, n] : *queued) {
        by_priority[v1::EnumLabel(v1::Priority_Name(static_cast<v1::Priority>(priority)),
                              "PRIORITY_")] += n;
      }
      MetricFamily family = GaugeFamily("faultline_controller_queued_jobs",
                                        "Jobs waiting for an agent, by campaign priority.");
      for (const auto& [priority, n] : by_priority) {
        AddGauge(&family, {{"priority", priority}}, n);
      }
      out.push_back(std::move(family));
    } else {
      failed = true;
    }
  }

  if (sources.campaigns) {
    absl::StatusOr<std::vector<v1::Campaign>> campaigns = sources.campaigns();
    if (campaigns.ok()) {
      std::map<std::string, int> by_state;
      for (int s = v1::CampaignState_MIN; s <= v1::CampaignState_MAX; ++s) {
        if (s == v1::CAMPAIGN_STATE_UNSPECIFIED || !v1::CampaignState_IsValid(s)) continue;
        by_state[v1::EnumLabel(v1::CampaignState_Name(static_cast<v1::CampaignState>(s)),
                           "CAMPAIGN_STATE_")] = 0;
      }
      std::map<std::string, uint64_t> jobs = {{"queued", 0},    {"running", 0},
                                              {"succeeded", 0}, {"failed", 0},
                                              {"cancelled", 0}, {"skipped", 0}};
      for (const v1::Campaign& c : *campaigns) {
        ++by_state[v1::EnumLabel(v1::CampaignState_Name(c.state()), "CAMPAIGN_STATE_")];
        if (CampaignIsFinal(c.state())) continue;
        const v1::CampaignProgress& p = c.progress();
        jobs["queued"] += p.jobs_queued();
        jobs["running"] += p.jobs_running();
        jobs["succeeded"] += p.jobs_succeeded();
        jobs["failed"] += p.jobs_failed();
        jobs["cancelled"] += p.jobs_cancelled();
        jobs["skipped"] += p.jobs_skipped();
      }
      MetricFamily campaigns_family = GaugeFamily(
          "faultline_controller_campaigns",
          "Recent campaigns (the newest 1000) by state.");
      for (const auto& [state, n] : by_state) {
        AddGauge(&campaigns_family, {{"state", state}}, n);
      }
      out.push_back(std::move(campaigns_family));
      MetricFamily jobs_family = GaugeFamily(
          "faultline_controller_active_campaign_jobs",
          "Jobs of the campaigns still pending or running, by job state: campaign progress "
          "summed over active campaigns.");
      for (const auto& [state, n] : jobs) {
        AddGauge(&jobs_family, {{"state", state}}, static_cast<double>(n));
      }
      out.push_back(std::move(jobs_family));
    } else {
      failed = true;
    }
  }
  if (failed) state_collect_errors_.Increment();
  return out;
}

std::vector<MetricFamily> ControllerMetrics::Collect() const {
  std::vector<MetricFamily> out = CollectState();
  std::vector<MetricFamily> registered = registry_->Collect();
  out.insert(out.end(), std::make_move_iterator(registered.begin()),
             std::make_move_iterator(registered.end()));
  return out;
}

std::string ControllerMetrics::Render() const {
  return prometheus::TextSerializer().Serialize(Collect());
}

}  // namespace faultline::controller::metrics
