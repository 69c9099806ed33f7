#include "controller/service/runs_proto.h"

#include <algorithm>
#include <string>

#include "absl/time/time.h"
#include "controller/analysis/sequential_plan.h"
#include "controller/service/analysis_proto.h"
#include "controller/service/sequential_proto.h"
#include "controller/store/store_encoding.h"

namespace faultline::controller::service {
namespace {

void ComparedMetricToProto(const analysis::MetricComparison& stats, const runs::ComparedMetric& m,
                           v1::MetricComparison* out) {
  MetricComparisonToProto(stats, out);
  for (const auto& [name, value] : m.params) (*out->mutable_params())[name] = value;
  for (double v : m.samples.baseline) out->add_baseline_samples(v);
  for (double v : m.samples.candidate) out->add_candidate_samples(v);
  for (const std::string& a : m.baseline_agents) out->add_baseline_agents(a);
  for (const std::string& a : m.candidate_agents) out->add_candidate_agents(a);
  for (int b : m.samples.baseline_blocks) out->add_baseline_sample_blocks(b);
  for (int b : m.samples.candidate_blocks) out->add_candidate_sample_blocks(b);
}

v1::Verdict ChangeVerdict(const analysis::ChangePoint& cp, int direction) {
  if (direction == v1::DIRECTION_NEUTRAL) return v1::VERDICT_NO_CHANGE;
  const bool up = cp.mean_after > cp.mean_before;
  const bool worse = direction == v1::DIRECTION_HIGHER_IS_BETTER ? !up : up;
  return worse ? v1::VERDICT_REGRESSION : v1::VERDICT_IMPROVEMENT;
}

}  // namespace

runs::ReplicationUnit ReplicationUnitFromProto(v1::ReplicationUnit unit) {
  switch (unit) {
    case v1::REPLICATION_UNIT_RUN:
      return runs::ReplicationUnit::kRun;
    case v1::REPLICATION_UNIT_BOOT:
      return runs::ReplicationUnit::kBoot;
    default:
      return runs::ReplicationUnit::kAuto;
  }
}

runs::RunSelector RunSelectorFromProto(const v1::ResultSelector& s) {
  runs::RunSelector out;
  out.campaign_id = s.campaign_id();
  out.campaign_ids.assign(s.campaign_ids().begin(), s.campaign_ids().end());
  out.target_name = s.target_name();
  out.kernel_label = s.kernel_label();
  out.kernel_release = s.kernel_release();
  out.arch = s.arch();
  out.host_class = s.host_class();
  out.benchmark = s.benchmark();
  out.agent_id = s.agent_id();
  return out;
}

v1::CompareResponse CompareResponseToProto(const runs::KernelComparison& c) {
  v1::CompareResponse out;
  for (size_t i = 0; i < c.metrics.size() && i < c.suite.metrics.size(); ++i) {
    ComparedMetricToProto(c.suite.metrics[i], c.metrics[i], out.add_metrics());
  }
  *out.mutable_options() = CompareOptionsToProto(c.suite.options);
  out.set_regressions(c.suite.regressions);
  out.set_improvements(c.suite.improvements);
  out.set_no_change(c.suite.no_change);
  out.set_inconclusive(c.suite.inconclusive);
  out.set_baseline_runs(c.baseline_runs);
  out.set_candidate_runs(c.candidate_runs);
  out.set_baseline_host_class(c.baseline_host_class);
  out.set_candidate_host_class(c.candidate_host_class);
  for (const auto& l : c.baseline_kernel_labels) out.add_baseline_kernel_labels(l);
  for (const auto& l : c.candidate_kernel_labels) out.add_candidate_kernel_labels(l);
  for (const auto& w : c.warnings) out.add_warnings(w);
  out.set_replication_unit(c.replication_unit == runs::ReplicationUnit::kBoot
                               ? v1::REPLICATION_UNIT_BOOT
                               : v1::REPLICATION_UNIT_RUN);
  for (const analysis::LatencyDistribution& d : c.distributions) {
    DistributionToProto(d, out.add_distributions());
  }
  for (size_t i = 0; i < c.counters.size() && i < c.counter_suite.metrics.size(); ++i) {
    ComparedMetricToProto(c.counter_suite.metrics[i], c.counters[i], out.add_counters());
  }
  for (const analysis::ProfileChange& change : c.profile_changes) {
    v1::ProfileChange* p = out.add_profile_changes();
    ProfileChangeToProto(change, p);
    for (const runs::ComparedProfiles& profiles : c.profiles) {
      if (profiles.benchmark != change.benchmark) continue;
      for (const auto& [name, value] : profiles.params) (*p->mutable_params())[name] = value;
      break;
    }
  }
  return out;
}

runs::GateSpec GateSpecFromProto(const v1::GateRequest& request) {
  runs::GateSpec spec;
  spec.policy_text = request.policy();
  spec.policy_name = request.policy_name().empty() ? "gate" : request.policy_name();
  spec.baseline = RunSelectorFromProto(request.baseline());
  spec.candidate = RunSelectorFromProto(request.candidate());
  spec.options = CompareOptionsFromProto(request.options());
  spec.replication_unit = ReplicationUnitFromProto(request.options().replication_unit());
  if (request.has_campaign()) spec.campaign = request.campaign();
  spec.skip_confirmation = request.skip_confirmation();
  if (request.has_sequential()) {
    runs::RoundBudget budget;
    budget.max_rounds = static_cast<int>(request.sequential().max_rounds());
    budget.time = absl::Seconds(request.sequential().budget_seconds());
    spec.until_decided = budget;
  }
  spec.campaign_timeout =
      absl::Seconds(request.timeout_seconds() == 0 ? 3600 : request.timeout_seconds());
  return spec;
}

v1::GateResponse GateResponseToProto(const runs::GateReport& report) {
  v1::GateResponse out;
  out.set_outcome(GateOutcomeToProto(report.outcome));
  out.set_exit_code(analysis::GateExitCode(report.outcome));
  out.set_original_outcome(GateOutcomeToProto(report.original.outcome));
  GateRulesToProto(report.original, &out);
  *out.mutable_comparison() = CompareResponseToProto(report.comparison);
  out.set_campaign_id(report.campaign_id);
  for (const runs::GateConfirmation& c : report.confirmations) {
    v1::GateConfirmation* pc = out.add_confirmations();
    pc->set_benchmark(c.benchmark);
    pc->set_metric(c.metric);
    for (const auto& a : c.original_baseline_agents) pc->add_original_baseline_agents(a);
    for (const auto& a : c.original_candidate_agents) pc->add_original_candidate_agents(a);
    for (const auto& a : c.confirmation_baseline_agents) pc->add_confirmation_baseline_agents(a);
    for (const auto& a : c.confirmation_candidate_agents) {
      pc->add_confirmation_candidate_agents(a);
    }
    pc->set_campaign_id(c.campaign_id);
    pc->set_original_outcome(GateOutcomeToProto(c.original_outcome));
    pc->set_confirmation_outcome(GateOutcomeToProto(c.confirmation_outcome));
    if (c.confirmation.has_value() && c.confirmation_samples.has_value()) {
      ComparedMetricToProto(*c.confirmation, *c.confirmation_samples, pc->mutable_confirmation());
    }
    pc->set_reason(c.reason);
  }
  for (const std::string& r : report.reasons) out.add_reasons(r);
  if (report.sequential.has_value()) {
    *out.mutable_sequential() = RoundsReportToProto(*report.sequential, report.round_campaign_ids);
  }
  return out;
}

runs::HistoryQuery HistoryQueryFromProto(const v1::ChangePointsRequest& request) {
  runs::HistoryQuery query;
  query.benchmark = request.benchmark();
  query.metric = request.metric();
  query.params = {request.params().begin(), request.params().end()};
  query.arch = request.arch();
  query.host_class = request.host_class();
  query.kernel_label = request.kernel_label();
  query.order = request.order() == v1::ChangePointsRequest::ORDER_BY_KERNEL
                    ? runs::HistoryQuery::Order::kByKernel
                    : runs::HistoryQuery::Order::kByTime;
  if (request.max_p_value() != 0) query.options.max_p_value = request.max_p_value();
  if (request.limit() != 0) query.limit = static_cast<int>(std::min(request.limit(), 1000000u));
  return query;
}

v1::ChangePointsResponse ChangePointsResponseToProto(const runs::MetricHistory& history) {
  v1::ChangePointsResponse response;
  response.set_unit(history.unit);
  response.set_direction(static_cast<v1::Direction>(history.direction));
  response.set_host_class(history.host_class);
  for (const runs::HistoryPoint& p : history.points) {
    v1::SeriesPoint* sp = response.add_points();
    sp->set_value(p.value);
    sp->set_kernel_label(p.kernel_label);
    sp->set_kernel_release(p.kernel_release);
    sp->set_kernel_version(p.kernel_version);
    *sp->mutable_time() = store::ToProtoTime(p.time);
    sp->set_run_id(p.run_id);
    sp->set_runs(static_cast<uint32_t>(p.runs));
  }
  for (const analysis::ChangePoint& cp : history.change_points) {
    const runs::HistoryPoint& first = history.points[cp.index];
    v1::ChangePointReport* r = response.add_change_points();
    r->set_index(static_cast<uint32_t>(cp.index));
    r->set_kernel_label(first.kernel_label);
    r->set_kernel_release(first.kernel_release);
    r->set_kernel_version(first.kernel_version);
    *r->mutable_time() = store::ToProtoTime(first.time);
    r->set_mean_before(cp.mean_before);
    r->set_mean_after(cp.mean_after);
    r->set_relative_change(cp.relative_change);
    r->set_p_value(cp.p_value);
    r->set_raw_p_value(cp.raw_p_value);
    r->set_verdict(ChangeVerdict(cp, history.direction));
  }
  return response;
}

}  // namespace faultline::controller::service
