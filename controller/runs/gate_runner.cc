#include "controller/runs/gate_runner.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "controller/analysis/sequential_plan.h"
#include "controller/runs/campaign_rounds.h"
#include "controller/scheduling/glob.h"
#include "controller/scheduling/target_matcher.h"

namespace faultline::controller::runs {
namespace {

using analysis::GateOutcome;

constexpr uint32_t kDefaultGateRepetitions = 10;

bool IsFinal(v1::CampaignState s) {
  return s == v1::CAMPAIGN_STATE_SUCCEEDED || s == v1::CAMPAIGN_STATE_FAILED ||
         s == v1::CAMPAIGN_STATE_CANCELLED;
}

absl::StatusOr<v1::TargetSelector> TargetFrom(const RunSelector& s, const std::string& name) {
  if (!s.campaign_id.empty() || !s.campaign_ids.empty() || !s.target_name.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        name, ": a gate that runs its campaign selects machines, so the selector must not name "
              "a campaign or target (use kernel_label, kernel_release, arch, host_class, agent)"));
  }
  v1::TargetSelector t;
  t.set_name(name);
  t.set_kernel_label(s.kernel_label);
  t.set_kernel_release(s.kernel_release);
  t.set_arch(static_cast<v1::Arch>(s.arch));
  t.set_host_class(s.host_class);
  if (!s.agent_id.empty()) t.add_agent_ids(s.agent_id);
  return t;
}

// A selector that matches what the machine-level fields of `s` match.
v1::TargetSelector MachinesOf(const RunSelector& s) {
  v1::TargetSelector t;
  t.set_kernel_label(s.kernel_label);
  t.set_kernel_release(s.kernel_release);
  t.set_arch(static_cast<v1::Arch>(s.arch));
  t.set_host_class(s.host_class);
  return t;
}

RunSelector CampaignSide(const std::string& campaign_id, const std::string& target,
                         const std::string& benchmark) {
  RunSelector s;
  s.campaign_id = campaign_id;
  s.target_name = target;
  s.benchmark = benchmark;
  return s;
}

// Per (display benchmark, metric): the strictest outcome over the rules' findings.
std::map<std::pair<std::string, std::string>, GateOutcome> OutcomeByMetric(
    const analysis::GateResult& result) {
  std::map<std::pair<std::string, std::string>, GateOutcome> out;
  for (const analysis::GateRuleResult& rule : result.rules) {
    for (const analysis::GateMetricFinding& f : rule.findings) {
      auto [it, inserted] = out.emplace(std::make_pair(f.benchmark, f.metric), f.outcome);
      if (inserted) continue;
      if (f.outcome == GateOutcome::kFail ||
          (f.outcome == GateOutcome::kInconclusive && it->second == GateOutcome::kPass)) {
        it->second = f.outcome;
      }
    }
  }
  return out;
}

// The gate's RoundSource: each step is a campaign; each look compares all of them.
class GateRounds : public RoundSource {
 public:
  using SubmitAndWait = std::function<absl::StatusOr<v1::Campaign>(const v1::CampaignSpec&)>;
  GateRounds(store::Store* store, const GateSpec& spec, const analysis::GatePolicy& policy,
             const v1::CampaignSpec& campaign, SubmitAndWait submit_and_wait)
      : store_(store),
        spec_(spec),
        policy_(policy),
        campaign_(campaign),
        submit_and_wait_(std::move(submit_and_wait)) {}

  absl::Status AddRounds(int rounds) override {
    const v1::CampaignSpec spec =
        campaign_ids.empty() ? campaign_
                             : CampaignStep(campaign_, campaign_ids.front(),
                                            static_cast<int>(campaign_ids.size()) + 1, rounds);
    absl::StatusOr<v1::Campaign> done = submit_and_wait_(spec);
    if (!done.ok()) return done.status();
    campaign_ids.push_back(done->id());
    if (done->state() == v1::CAMPAIGN_STATE_FAILED) {
      reasons.push_back(absl::StrCat("campaign ", done->id(),
                                     " had failed jobs; deciding on the runs that succeeded"));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<int>> Look(const analysis::SequentialLook& look) override {
    RunSelector baseline, candidate;
    baseline.campaign_ids = candidate.campaign_ids = campaign_ids;
    baseline.target_name = "baseline";
    candidate.target_name = "candidate";
    baseline.benchmark = spec_.baseline.benchmark;
    candidate.benchmark = spec_.candidate.benchmark;
    absl::StatusOr<KernelComparison> c =
        CompareKernels(store_, baseline, candidate,
                       analysis::CompareOptionsAtLook(spec_.options, look), spec_.replication_unit);
    if (!c.ok()) return c.status();
    std::vector<analysis::MetricSamples> inputs;
    for (const ComparedMetric& m : c->metrics) inputs.push_back(m.samples);
    absl::StatusOr<analysis::GateResult> r = analysis::EvaluateGate(
        analysis::GatePolicyAtLook(policy_, look), inputs, c->suite.options);
    if (!r.ok()) return r.status();
    comparison = *std::move(c);
    result = *std::move(r);
    return analysis::UndecidedEstimates(result);
  }

  std::vector<std::string> campaign_ids;
  std::vector<std::string> reasons;
  // The last look's.
  KernelComparison comparison;
  analysis::GateResult result;

 private:
  store::Store* const store_;
  const GateSpec& spec_;
  const analysis::GatePolicy& policy_;
  const v1::CampaignSpec& campaign_;
  const SubmitAndWait submit_and_wait_;
};

}  // namespace

absl::StatusOr<v1::CampaignSpec> GateCampaignSpec(const GateSpec& spec) {
  if (!spec.campaign.has_value()) return absl::InvalidArgumentError("campaign: not set");
  v1::CampaignSpec out = *spec.campaign;
  if (!out.targets().empty()) {
    return absl::InvalidArgumentError(
        "campaign.targets: must be empty; the gate makes its targets from the selectors");
  }
  absl::StatusOr<v1::TargetSelector> a = TargetFrom(spec.baseline, "baseline");
  if (!a.ok()) return a.status();
  absl::StatusOr<v1::TargetSelector> b = TargetFrom(spec.candidate, "candidate");
  if (!b.ok()) return b.status();
  *out.add_targets() = *a;
  *out.add_targets() = *b;
  out.set_paired(true);
  // One job per repetition, alternating the targets: each repetition is then its own run, a
  // block of the comparison, so the gate's verdict rests on independent runs.
  out.set_interleave(true);
  if (out.name().empty()) {
    out.set_name(absl::StrCat("gate ", spec.policy_name.empty() ? "gate" : spec.policy_name));
  }
  if (out.priority() == v1::PRIORITY_UNSPECIFIED) out.set_priority(v1::PRIORITY_GATE);
  if (out.repetitions() == 0) out.set_repetitions(kDefaultGateRepetitions);
  (*out.mutable_labels())["gate"] = spec.policy_name.empty() ? "gate" : spec.policy_name;
  return out;
}

GateRunner::GateRunner(store::Store* store, scheduling::Fleet* fleet,
                       scheduling::Campaigns* campaigns, Options options,
                       std::function<void(const std::string&, GateOutcome)> on_verdict)
    : store_(store),
      fleet_(fleet),
      campaigns_(campaigns),
      options_(options),
      on_verdict_(std::move(on_verdict)) {}

absl::StatusOr<v1::Campaign> GateRunner::WaitForCampaign(const std::string& campaign_id,
                                                         absl::Duration timeout,
                                                         const std::function<bool()>& cancelled) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    absl::StatusOr<v1::Campaign> campaign = campaigns_->Get(campaign_id);
    if (!campaign.ok()) return campaign.status();
    if (IsFinal(campaign->state())) return campaign;
    if (cancelled && cancelled()) {
      (void)campaigns_->Cancel(campaign_id);
      return absl::CancelledError(absl::StrCat("gate cancelled while campaign ", campaign_id,
                                               " was running (the campaign was cancelled)"));
    }
    if (absl::Now() >= deadline) {
      (void)campaigns_->Cancel(campaign_id);
      return absl::DeadlineExceededError(absl::StrCat(
          "campaign ", campaign_id, " did not finish within ", absl::FormatDuration(timeout),
          " (cancelled)"));
    }
    absl::SleepFor(options_.poll_interval);
  }
}

absl::StatusOr<GateReport> GateRunner::Run(const GateSpec& spec,
                                           const std::function<bool()>& cancelled) {
  absl::StatusOr<analysis::GatePolicy> policy = analysis::ParseGatePolicy(spec.policy_text);
  if (!policy.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("policy: ", policy.status().message()));
  }
  if (absl::Status s = analysis::ValidateCompareOptions(spec.options); !s.ok()) return s;
  GateReport report;
  RunSelector baseline = spec.baseline;
  RunSelector candidate = spec.candidate;
  if (spec.until_decided.has_value() && !spec.campaign.has_value()) {
    return absl::InvalidArgumentError(
        "sequential: needs campaign: a gate adds rounds only to a campaign it runs itself");
  }
  if (spec.until_decided.has_value()) {
    absl::StatusOr<v1::CampaignSpec> campaign_spec = GateCampaignSpec(spec);
    if (!campaign_spec.ok()) return campaign_spec.status();
    if (absl::Status s = RunUntilDecided(spec, *policy, *campaign_spec, cancelled, report);
        !s.ok()) {
      return s;
    }
  } else if (spec.campaign.has_value()) {
    absl::StatusOr<v1::CampaignSpec> campaign_spec = GateCampaignSpec(spec);
    if (!campaign_spec.ok()) return campaign_spec.status();
    absl::StatusOr<v1::Campaign> submitted = campaigns_->Submit(*campaign_spec);
    if (!submitted.ok()) return submitted.status();
    report.campaign_id = submitted->id();
    absl::StatusOr<v1::Campaign> done =
        WaitForCampaign(submitted->id(), spec.campaign_timeout, cancelled);
    if (!done.ok()) return done.status();
    if (done->state() == v1::CAMPAIGN_STATE_FAILED) {
      report.reasons.push_back(absl::StrCat("campaign ", done->id(),
                                            " had failed jobs; deciding on the runs that "
                                            "succeeded"));
    }
    baseline = CampaignSide(done->id(), "baseline", spec.baseline.benchmark);
    candidate = CampaignSide(done->id(), "candidate", spec.candidate.benchmark);
  }
  if (!spec.until_decided.has_value()) {
    absl::StatusOr<KernelComparison> comparison =
        CompareKernels(store_, baseline, candidate, spec.options, spec.replication_unit);
    if (!comparison.ok()) return comparison.status();
    std::vector<analysis::MetricSamples> inputs;
    for (const ComparedMetric& m : comparison->metrics) inputs.push_back(m.samples);
    absl::StatusOr<analysis::GateResult> result =
        analysis::EvaluateGate(*policy, inputs, comparison->suite.options);
    if (!result.ok()) return result.status();
    report.comparison = std::move(*comparison);
    report.original = std::move(*result);
  }
  report.outcome = report.original.outcome;
  for (const analysis::GateRuleResult& rule : report.original.rules) {
    report.reasons.push_back(absl::StrCat(rule.rule.benchmark_glob, " ", rule.rule.metric_glob,
                                          " <= ", rule.rule.max_regression * 100, "%: ",
                                          analysis::GateOutcomeName(rule.outcome), ": ",
                                          rule.reason));
  }
  if (report.sequential.has_value()) {
    report.reasons.push_back(absl::StrCat("until decided: ", report.sequential->stop_reason));
  }
  if (report.outcome == GateOutcome::kFail && !spec.skip_confirmation) {
    if (absl::Status s = Confirm(spec, *policy, cancelled, report); !s.ok()) return s;
  }
  if (on_verdict_) on_verdict_(spec.policy_name.empty() ? "gate" : spec.policy_name,
                               report.outcome);
  return report;
}

absl::Status GateRunner::RunUntilDecided(const GateSpec& spec,
                                         const analysis::GatePolicy& policy,
                                         const v1::CampaignSpec& campaign,
                                         const std::function<bool()>& cancelled,
                                         GateReport& report) {
  GateRounds rounds(store_, spec, policy, campaign,
                    [&](const v1::CampaignSpec& step) -> absl::StatusOr<v1::Campaign> {
                      absl::StatusOr<v1::Campaign> submitted = campaigns_->Submit(step);
                      if (!submitted.ok()) return submitted.status();
                      return WaitForCampaign(submitted->id(), spec.campaign_timeout, cancelled);
                    });
  absl::StatusOr<RoundsReport> record =
      runs::RunUntilDecided(rounds, CampaignRounds(campaign), *spec.until_decided,
                            spec.options.fdr_level, "run", [] { return absl::Now(); });
  if (!record.ok()) return record.status();
  report.campaign_id = rounds.campaign_ids.front();
  report.round_campaign_ids = rounds.campaign_ids;
  report.reasons = rounds.reasons;
  report.comparison = std::move(rounds.comparison);
  report.original = std::move(rounds.result);
  report.sequential = *std::move(record);
  return absl::OkStatus();
}

absl::Status GateRunner::Confirm(const GateSpec& spec, const analysis::GatePolicy& policy,
                                 const std::function<bool()>& cancelled, GateReport& report) {
  const KernelComparison& original = report.comparison;
  // The failing metrics, and which of them rest on a single host.
  std::vector<int> failing;
  for (const auto& [key, outcome] : OutcomeByMetric(report.original)) {
    if (outcome != GateOutcome::kFail) continue;
    for (size_t i = 0; i < original.metrics.size(); ++i) {
      if (original.metrics[i].samples.benchmark == key.first &&
          original.metrics[i].samples.metric == key.second) {
        failing.push_back(static_cast<int>(i));
      }
    }
  }
  std::vector<int> to_confirm;
  std::set<std::string> used_candidate_agents, used_baseline_agents;
  for (int i : failing) {
    const ComparedMetric& m = original.metrics[i];
    GateConfirmation c;
    c.benchmark = m.samples.benchmark;
    c.metric = m.samples.metric;
    c.original_baseline_agents = m.baseline_agents;
    c.original_candidate_agents = m.candidate_agents;
    if (m.baseline_agents.size() > 1 && m.candidate_agents.size() > 1) {
      c.confirmation_outcome = GateOutcome::kFail;
      c.reason = "measured on several hosts per side already; no re-run needed";
    } else {
      to_confirm.push_back(static_cast<int>(report.confirmations.size()));
      used_candidate_agents.insert(m.candidate_agents.begin(), m.candidate_agents.end());
      used_baseline_agents.insert(m.baseline_agents.begin(), m.baseline_agents.end());
    }
    report.confirmations.push_back(std::move(c));
  }
  if (to_confirm.empty()) return absl::OkStatus();

  // Second hosts: live agents of the comparison's host class matching each side's kernel.
  absl::StatusOr<std::vector<store::AgentRecord>> agents = fleet_->List(/*include_lost=*/false);
  if (!agents.ok()) return agents.status();
  const std::string& host_class = original.candidate_host_class;
  v1::TargetSelector candidate_machines = MachinesOf(spec.candidate);
  v1::TargetSelector baseline_machines = MachinesOf(spec.baseline);
  candidate_machines.set_host_class(host_class);
  baseline_machines.set_host_class(original.baseline_host_class);
  // The kernel a second host must run is the one measured (a campaign selector names none).
  for (auto [machines, labels] :
       {std::make_pair(&candidate_machines, &original.candidate_kernel_labels),
        std::make_pair(&baseline_machines, &original.baseline_kernel_labels)}) {
    if (labels->size() == 1) machines->set_kernel_label(labels->front());
  }
  if (candidate_machines.kernel_label().empty() || baseline_machines.kernel_label().empty()) {
    const std::string why = absl::StrCat(
        "not confirmed: the ", candidate_machines.kernel_label().empty() ? "candidate" : "baseline",
        " side spans several kernel labels, so no second host can stand in for it");
    for (int ci : to_confirm) {
      report.confirmations[ci].confirmation_outcome = GateOutcome::kInconclusive;
      report.confirmations[ci].reason = why;
    }
    report.reasons.push_back(why);
    return absl::OkStatus();
  }
  std::set<std::string> benchmarks;
  for (int ci : to_confirm) {
    const GateConfirmation& c = report.confirmations[ci];
    for (const ComparedMetric& m : original.metrics) {
      if (m.samples.benchmark == c.benchmark) benchmarks.insert(m.benchmark_name);
    }
  }
  auto offers_all = [&](const store::AgentRecord& a) {
    for (const std::string& b : benchmarks) {
      if (scheduling::FindInCatalog(a, b) == nullptr) return false;
    }
    return true;
  };
  std::string second_candidate, baseline_agent, baseline_fallback;
  for (const store::AgentRecord& a : *agents) {
    if (!offers_all(a)) continue;
    if (second_candidate.empty() && scheduling::AgentMatchesTarget(candidate_machines, a) &&
        !used_candidate_agents.count(a.agent_id)) {
      second_candidate = a.agent_id;
    }
    if (scheduling::AgentMatchesTarget(baseline_machines, a)) {
      if (baseline_agent.empty() && !used_baseline_agents.count(a.agent_id)) {
        baseline_agent = a.agent_id;
      }
      if (baseline_fallback.empty()) baseline_fallback = a.agent_id;
    }
  }
  if (baseline_agent.empty()) baseline_agent = baseline_fallback;
  if (second_candidate.empty() || baseline_agent.empty()) {
    const std::string why =
        second_candidate.empty()
            ? absl::StrCat("not confirmed: no second live host of class ", host_class,
                           " runs the candidate kernel (",
                           scheduling::DescribeTarget(candidate_machines), ")")
            : absl::StrCat("not confirmed: no live host of class ", original.baseline_host_class,
                           " runs the baseline kernel");
    for (int ci : to_confirm) {
      report.confirmations[ci].confirmation_outcome = GateOutcome::kInconclusive;
      report.confirmations[ci].reason = why;
    }
    report.reasons.push_back(why);
    return absl::OkStatus();  // The failure stands, unconfirmed.
  }

  // One interleaved campaign re-running every failing invocation on the second hosts.
  v1::CampaignSpec confirm;
  confirm.set_name(absl::StrCat("gate ", spec.policy_name.empty() ? "gate" : spec.policy_name,
                                " confirmation"));
  confirm.set_priority(v1::PRIORITY_GATE);
  confirm.set_interleave(true);
  (*confirm.mutable_labels())["gate_confirmation"] = report.campaign_id;
  std::set<std::pair<std::string, std::string>> invocations;
  for (int ci : to_confirm) {
    const GateConfirmation& c = report.confirmations[ci];
    for (const ComparedMetric& m : original.metrics) {
      if (m.samples.benchmark != c.benchmark || m.samples.metric != c.metric) continue;
      if (!invocations.insert({m.benchmark_name, CanonicalParams(m.params)}).second) continue;
      v1::BenchmarkInvocation* inv = confirm.add_suite();
      inv->set_benchmark(m.benchmark_name);
      for (const auto& [name, value] : m.params) (*inv->mutable_params())[name] = value;
      const size_t reps = std::max(m.samples.baseline.size(), m.samples.candidate.size());
      inv->set_repetitions(static_cast<uint32_t>(std::clamp<size_t>(reps, 5, 1000)));
    }
  }
  v1::TargetSelector* base_target = confirm.add_targets();
  base_target->set_name("baseline");
  base_target->add_agent_ids(baseline_agent);
  v1::TargetSelector* cand_target = confirm.add_targets();
  cand_target->set_name("candidate");
  cand_target->add_agent_ids(second_candidate);
  absl::StatusOr<v1::Campaign> submitted = campaigns_->Submit(confirm);
  if (!submitted.ok()) {
    return absl::Status(submitted.status().code(),
                        absl::StrCat("confirmation campaign: ", submitted.status().message()));
  }
  absl::StatusOr<v1::Campaign> done =
      WaitForCampaign(submitted->id(), spec.campaign_timeout, cancelled);
  if (!done.ok()) return done.status();
  absl::StatusOr<KernelComparison> second = CompareKernels(
      store_, CampaignSide(done->id(), "baseline", ""),
      CampaignSide(done->id(), "candidate", ""), spec.options, spec.replication_unit);
  if (!second.ok()) {
    return absl::Status(second.status().code(),
                        absl::StrCat("confirmation campaign ", done->id(), ": ",
                                     second.status().message()));
  }
  std::vector<analysis::MetricSamples> inputs;
  for (const ComparedMetric& m : second->metrics) inputs.push_back(m.samples);
  absl::StatusOr<analysis::GateResult> result =
      analysis::EvaluateGate(policy, inputs, second->suite.options);
  if (!result.ok()) return result.status();
  const auto outcomes = OutcomeByMetric(*result);

  bool any_confirmed = false;
  for (int ci : to_confirm) {
    GateConfirmation& c = report.confirmations[ci];
    c.campaign_id = done->id();
    c.confirmation_baseline_agents = {baseline_agent};
    c.confirmation_candidate_agents = {second_candidate};
    // Find the metric by invocation: display names differ when fewer parameter sets ran.
    int index = -1;
    for (const ComparedMetric& m : original.metrics) {
      if (m.samples.benchmark == c.benchmark && m.samples.metric == c.metric) {
        index = FindComparedMetric(*second, m.benchmark_name, CanonicalParams(m.params),
                                   m.samples.metric);
        break;
      }
    }
    if (index < 0) {
      c.confirmation_outcome = GateOutcome::kInconclusive;
      c.reason = absl::StrCat("confirmation campaign ", done->id(), " produced no samples");
      continue;
    }
    c.confirmation = second->suite.metrics[index];
    c.confirmation_samples = second->metrics[index];
    auto it = outcomes.find({second->metrics[index].samples.benchmark, c.metric});
    c.confirmation_outcome = it == outcomes.end() ? GateOutcome::kInconclusive : it->second;
    const std::string ratio = absl::StrFormat("B/A %.3f [%.3f, %.3f]", c.confirmation->ratio,
                                              c.confirmation->ratio_lower,
                                              c.confirmation->ratio_upper);
    if (c.confirmation_outcome == GateOutcome::kFail) {
      any_confirmed = true;
      c.reason = absl::StrCat("confirmed on ", second_candidate, " vs ", baseline_agent, ": ",
                              ratio);
    } else {
      c.reason = absl::StrCat("not reproduced on ", second_candidate, " vs ", baseline_agent,
                              " (", analysis::GateOutcomeName(c.confirmation_outcome), ", ",
                              ratio, ")");
    }
    report.reasons.push_back(absl::StrCat(c.benchmark, " ", c.metric, ": ", c.reason));
  }
  // Metrics that needed no re-run keep the failure; otherwise the re-runs decide.
  const bool failure_stands =
      any_confirmed || static_cast<size_t>(to_confirm.size()) < report.confirmations.size();
  if (!failure_stands) {
    report.outcome = GateOutcome::kInconclusive;
    report.reasons.push_back(
        "the failure was not reproduced on a second host: inconclusive until it is");
  }
  return absl::OkStatus();
}

}  // namespace faultline::controller::runs
