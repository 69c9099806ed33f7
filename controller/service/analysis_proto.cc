#include "controller/service/analysis_proto.h"

#include "controller/runs/metric_direction.h"

namespace faultline::controller::service {

analysis::CompareOptions CompareOptionsFromProto(const v1::CompareOptions& in) {
  analysis::CompareOptions out;
  if (in.confidence() != 0) out.confidence = in.confidence();
  // Presence, not zero, marks a set FDR level or minimum effect: 0 is a real minimum effect.
  if (in.has_fdr_level()) out.fdr_level = in.fdr_level();
  if (in.has_min_effect()) out.min_effect = in.min_effect();
  if (in.max_cv() != 0) out.max_cv = in.max_cv();
  if (in.min_samples_per_side() != 0) {
    out.min_blocks_per_side = static_cast<int>(in.min_samples_per_side());
  }
  return out;
}

v1::CompareOptions CompareOptionsToProto(const analysis::CompareOptions& in) {
  v1::CompareOptions out;
  out.set_confidence(in.confidence);
  out.set_fdr_level(in.fdr_level);
  out.set_min_effect(in.min_effect);
  out.set_max_cv(in.max_cv);
  out.set_min_samples_per_side(static_cast<uint32_t>(in.min_blocks_per_side));
  return out;
}

v1::Verdict VerdictToProto(analysis::Verdict verdict) {
  switch (verdict) {
    case analysis::Verdict::kRegression:
      return v1::VERDICT_REGRESSION;
    case analysis::Verdict::kImprovement:
      return v1::VERDICT_IMPROVEMENT;
    case analysis::Verdict::kNoChange:
      return v1::VERDICT_NO_CHANGE;
    case analysis::Verdict::kInconclusive:
      return v1::VERDICT_INCONCLUSIVE;
  }
  return v1::VERDICT_UNSPECIFIED;
}

analysis::Verdict VerdictFromProto(v1::Verdict verdict) {
  switch (verdict) {
    case v1::VERDICT_REGRESSION:
      return analysis::Verdict::kRegression;
    case v1::VERDICT_IMPROVEMENT:
      return analysis::Verdict::kImprovement;
    case v1::VERDICT_NO_CHANGE:
      return analysis::Verdict::kNoChange;
    default:
      return analysis::Verdict::kInconclusive;
  }
}

v1::GateOutcome GateOutcomeToProto(analysis::GateOutcome outcome) {
  switch (outcome) {
    case analysis::GateOutcome::kPass:
      return v1::GATE_OUTCOME_PASS;
    case analysis::GateOutcome::kFail:
      return v1::GATE_OUTCOME_FAIL;
    case analysis::GateOutcome::kInconclusive:
      return v1::GATE_OUTCOME_INCONCLUSIVE;
  }
  return v1::GATE_OUTCOME_UNSPECIFIED;
}

analysis::GateOutcome GateOutcomeFromProto(v1::GateOutcome outcome) {
  switch (outcome) {
    case v1::GATE_OUTCOME_PASS:
      return analysis::GateOutcome::kPass;
    case v1::GATE_OUTCOME_FAIL:
      return analysis::GateOutcome::kFail;
    default:
      return analysis::GateOutcome::kInconclusive;
  }
}

void MetricComparisonToProto(const analysis::MetricComparison& in, v1::MetricComparison* out) {
  out->set_benchmark(in.benchmark);
  out->set_metric(in.metric);
  out->set_unit(in.unit);
  out->set_direction(runs::DirectionToProto(in.direction));
  out->set_baseline_count(static_cast<uint32_t>(in.baseline_count));
  out->set_candidate_count(static_cast<uint32_t>(in.candidate_count));
  out->set_baseline_median(in.baseline_median);
  out->set_candidate_median(in.candidate_median);
  out->set_baseline_cv(in.baseline_cv);
  out->set_candidate_cv(in.candidate_cv);
  out->set_baseline_robust_cv(in.baseline_robust_cv);
  out->set_candidate_robust_cv(in.candidate_robust_cv);
  out->set_ratio(in.ratio);
  out->set_ratio_lower(in.ratio_lower);
  out->set_ratio_upper(in.ratio_upper);
  out->set_ratio_method(in.ratio_method);
  out->set_median_ratio_lower(in.median_ratio_lower);
  out->set_median_ratio_upper(in.median_ratio_upper);
  out->set_p_value(in.p_value);
  out->set_q_value(in.q_value);
  out->set_verdict(VerdictToProto(in.verdict));
  out->set_noisy(in.noisy);
  out->set_shifted(in.shifted);
  out->set_reason(in.reason);
  out->set_additional_repetitions(static_cast<uint32_t>(in.additional_blocks));
  out->set_baseline_blocks(static_cast<uint32_t>(in.baseline_blocks));
  out->set_candidate_blocks(static_cast<uint32_t>(in.candidate_blocks));
  out->set_baseline_mean(in.baseline_mean);
  out->set_candidate_mean(in.candidate_mean);
  out->set_tested(in.tested);
}

analysis::MetricComparison MetricComparisonFromProto(const v1::MetricComparison& in) {
  analysis::MetricComparison out;
  out.benchmark = in.benchmark();
  out.metric = in.metric();
  out.unit = in.unit();
  out.direction = runs::DirectionFromProto(in.direction());
  out.baseline_count = static_cast<int>(in.baseline_count());
  out.candidate_count = static_cast<int>(in.candidate_count());
  out.baseline_median = in.baseline_median();
  out.candidate_median = in.candidate_median();
  out.baseline_cv = in.baseline_cv();
  out.candidate_cv = in.candidate_cv();
  out.baseline_robust_cv = in.baseline_robust_cv();
  out.candidate_robust_cv = in.candidate_robust_cv();
  out.ratio = in.ratio();
  out.ratio_lower = in.ratio_lower();
  out.ratio_upper = in.ratio_upper();
  out.ratio_method = in.ratio_method();
  out.median_ratio_lower = in.median_ratio_lower();
  out.median_ratio_upper = in.median_ratio_upper();
  out.p_value = in.p_value();
  out.q_value = in.q_value();
  out.verdict = VerdictFromProto(in.verdict());
  out.noisy = in.noisy();
  out.shifted = in.shifted();
  out.reason = in.reason();
  out.additional_blocks = static_cast<int>(in.additional_repetitions());
  out.baseline_blocks = static_cast<int>(in.baseline_blocks());
  out.candidate_blocks = static_cast<int>(in.candidate_blocks());
  out.baseline_mean = in.baseline_mean();
  out.candidate_mean = in.candidate_mean();
  out.tested = in.tested();
  return out;
}

void DistributionToProto(const analysis::LatencyDistribution& in, v1::DistributionComparison* out) {
  out->set_benchmark(in.benchmark);
  out->set_histogram(in.histogram);
  out->set_unit(in.unit);
  out->set_baseline_blocks(static_cast<uint32_t>(in.baseline_blocks));
  out->set_candidate_blocks(static_cast<uint32_t>(in.candidate_blocks));
  out->set_baseline_values(in.baseline_values);
  out->set_candidate_values(in.candidate_values);
  for (const analysis::QuantileComparison& q : in.quantiles) {
    v1::QuantileComparison* pq = out->add_quantiles();
    pq->set_quantile(q.quantile);
    pq->set_baseline(q.baseline);
    pq->set_candidate(q.candidate);
    pq->set_ratio(q.ratio);
    pq->set_ratio_lower(q.ratio_lower);
    pq->set_ratio_upper(q.ratio_upper);
    pq->set_p_value(q.p_value);
    pq->mutable_baseline_blocks()->Add(q.baseline_blocks.begin(), q.baseline_blocks.end());
    pq->mutable_candidate_blocks()->Add(q.candidate_blocks.begin(), q.candidate_blocks.end());
  }
  out->mutable_curve_quantiles()->Add(in.curve_quantiles.begin(), in.curve_quantiles.end());
  out->mutable_baseline_curve()->Add(in.baseline_curve.begin(), in.baseline_curve.end());
  out->mutable_candidate_curve()->Add(in.candidate_curve.begin(), in.candidate_curve.end());
  out->set_reason(in.reason);
}

analysis::LatencyDistribution DistributionFromProto(const v1::DistributionComparison& in) {
  analysis::LatencyDistribution out;
  out.benchmark = in.benchmark();
  out.histogram = in.histogram();
  out.unit = in.unit();
  out.baseline_blocks = static_cast<int>(in.baseline_blocks());
  out.candidate_blocks = static_cast<int>(in.candidate_blocks());
  out.baseline_values = in.baseline_values();
  out.candidate_values = in.candidate_values();
  for (const v1::QuantileComparison& pq : in.quantiles()) {
    analysis::QuantileComparison q;
    q.quantile = pq.quantile();
    q.baseline = pq.baseline();
    q.candidate = pq.candidate();
    q.ratio = pq.ratio();
    q.ratio_lower = pq.ratio_lower();
    q.ratio_upper = pq.ratio_upper();
    q.p_value = pq.p_value();
    q.baseline_blocks.assign(pq.baseline_blocks().begin(), pq.baseline_blocks().end());
    q.candidate_blocks.assign(pq.candidate_blocks().begin(), pq.candidate_blocks().end());
    out.quantiles.push_back(std::move(q));
  }
  out.curve_quantiles.assign(in.curve_quantiles().begin(), in.curve_quantiles().end());
  out.baseline_curve.assign(in.baseline_curve().begin(), in.baseline_curve().end());
  out.candidate_curve.assign(in.candidate_curve().begin(), in.candidate_curve().end());
  out.reason = in.reason();
  return out;
}

analysis::SuiteComparison SuiteComparisonFromProto(const v1::CompareResponse& response) {
  analysis::SuiteComparison out;
  out.options = CompareOptionsFromProto(response.options());
  out.options.block_unit =
      response.replication_unit() == v1::REPLICATION_UNIT_BOOT ? "boot" : "run";
  for (const v1::MetricComparison& m : response.metrics()) {
    out.metrics.push_back(MetricComparisonFromProto(m));
  }
  out.regressions = static_cast<int>(response.regressions());
  out.improvements = static_cast<int>(response.improvements());
  out.no_change = static_cast<int>(response.no_change());
  out.inconclusive = static_cast<int>(response.inconclusive());
  return out;
}

analysis::SuiteComparison CounterSuiteFromProto(const v1::CompareResponse& response) {
  analysis::SuiteComparison out = SuiteComparisonFromProto(response);
  out.metrics.clear();
  for (const v1::MetricComparison& m : response.counters()) {
    out.metrics.push_back(MetricComparisonFromProto(m));
  }
  return out;
}

void ProfileChangeToProto(const analysis::ProfileChange& in, v1::ProfileChange* out) {
  out->set_benchmark(in.benchmark);
  out->set_function(in.function);
  out->set_baseline_profiles(static_cast<uint32_t>(in.baseline_profiles));
  out->set_candidate_profiles(static_cast<uint32_t>(in.candidate_profiles));
  out->set_baseline_total_share(in.baseline_total_share);
  out->set_candidate_total_share(in.candidate_total_share);
  out->set_baseline_self_share(in.baseline_self_share);
  out->set_candidate_self_share(in.candidate_self_share);
  out->set_baseline_total_sd(in.baseline_total_sd);
  out->set_candidate_total_sd(in.candidate_total_sd);
}

std::vector<analysis::ProfileChange> ProfileChangesFromProto(const v1::CompareResponse& response) {
  std::vector<analysis::ProfileChange> out;
  for (const v1::ProfileChange& p : response.profile_changes()) {
    analysis::ProfileChange c;
    c.benchmark = p.benchmark();
    c.function = p.function();
    c.baseline_profiles = static_cast<int>(p.baseline_profiles());
    c.candidate_profiles = static_cast<int>(p.candidate_profiles());
    c.baseline_total_share = p.baseline_total_share();
    c.candidate_total_share = p.candidate_total_share();
    c.baseline_self_share = p.baseline_self_share();
    c.candidate_self_share = p.candidate_self_share();
    c.baseline_total_sd = p.baseline_total_sd();
    c.candidate_total_sd = p.candidate_total_sd();
    out.push_back(std::move(c));
  }
  return out;
}

void GateRulesToProto(const analysis::GateResult& result, v1::GateResponse* out) {
  for (const analysis::GateRuleResult& rule : result.rules) {
    v1::GateRuleResult* r = out->add_rules();
    r->set_benchmark_glob(rule.rule.benchmark_glob);
    r->set_metric_glob(rule.rule.metric_glob);
    r->set_max_regression(rule.rule.max_regression);
    r->set_confidence(rule.rule.confidence);
    r->set_outcome(GateOutcomeToProto(rule.outcome));
    r->set_reason(rule.reason);
    for (const analysis::GateMetricFinding& f : rule.findings) {
      v1::GateMetricFinding* pf = r->add_findings();
      pf->set_benchmark(f.benchmark);
      pf->set_metric(f.metric);
      pf->set_outcome(GateOutcomeToProto(f.outcome));
      pf->set_regression(f.regression);
      pf->set_regression_lower(f.regression_lower);
      pf->set_regression_upper(f.regression_upper);
      pf->set_reason(f.reason);
      pf->set_additional_repetitions(static_cast<uint32_t>(f.additional_blocks));
    }
  }
}

analysis::GateResult GateResultFromProto(const v1::GateResponse& response) {
  analysis::GateResult out;
  out.outcome = GateOutcomeFromProto(response.original_outcome());
  out.comparison = SuiteComparisonFromProto(response.comparison());
  for (const v1::GateRuleResult& r : response.rules()) {
    analysis::GateRuleResult rule;
    rule.rule.benchmark_glob = r.benchmark_glob();
    rule.rule.metric_glob = r.metric_glob();
    rule.rule.max_regression = r.max_regression();
    rule.rule.confidence = r.confidence();
    rule.outcome = GateOutcomeFromProto(r.outcome());
    rule.reason = r.reason();
    for (const v1::GateMetricFinding& f : r.findings()) {
      analysis::GateMetricFinding finding;
      finding.benchmark = f.benchmark();
      finding.metric = f.metric();
      finding.outcome = GateOutcomeFromProto(f.outcome());
      finding.regression = f.regression();
      finding.regression_lower = f.regression_lower();
      finding.regression_upper = f.regression_upper();
      finding.reason = f.reason();
      finding.additional_blocks = static_cast<int>(f.additional_repetitions());
      rule.findings.push_back(std::move(finding));
    }
    out.rules.push_back(std::move(rule));
  }
  return out;
}

}  // namespace faultline::controller::service
