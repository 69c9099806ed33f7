// Upgrade gates over stored results: optionally runs the campaign the gate needs, evaluates the
// policy (controller/analysis/gate.h) on the comparison, and confirms a failure that rests on a
// single host by re-running the failing benchmarks on a second host of the same class.
//
// Confirmation rule: a failing metric whose samples on either side came from one agent is
// re-run, in one interleaved campaign, on another live agent of the comparison's host class
// that matches the candidate selector (and, for the baseline, an agent matching the baseline
// selector on that class, a different one than before when there is one). The final verdict:
//   fail          some failing metric failed again on the second host, or had no second host
//                 to try (reported as unconfirmed);
//   inconclusive  every failing metric was re-run and none failed again (a failure one host
//                 shows and another does not is a host problem until shown otherwise);
//   otherwise the original verdict.
#ifndef FAULTLINE_CONTROLLER_RUNS_GATE_RUNNER_H_
#define FAULTLINE_CONTROLLER_RUNS_GATE_RUNNER_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "controller/analysis/compare.h"
#include "controller/analysis/gate.h"
#include "controller/runs/kernel_comparison.h"
#include "controller/runs/rounds_until_decided.h"
#include "controller/scheduling/campaigns.h"
#include "controller/scheduling/fleet.h"
#include "controller/store/store.h"

namespace faultline::controller::runs {

struct GateSpec {
  std::string policy_text;
  // For reports and the verdict gauge; empty means "gate".
  std::string policy_name;
  RunSelector baseline;
  RunSelector candidate;
  analysis::CompareOptions options;
  ReplicationUnit replication_unit = ReplicationUnit::kAuto;
  // Run this campaign first (targets made from the selectors) and decide on its results.
  std::optional<v1::CampaignSpec> campaign;
  bool skip_confirmation = false;
  // With campaign: keep adding interleaved rounds until the gate is decided or this budget is
  // spent (rounds_until_decided.h). Each extra step is a campaign of its own (the spec with
  // repetitions for the step's rounds); the looks compare all of them at their spending level.
  std::optional<RoundBudget> until_decided;
  // Longest wait for each campaign the gate runs.
  absl::Duration campaign_timeout = absl::Hours(1);
};

struct GateConfirmation {
  std::string benchmark;  // display name in the original comparison
  std::string metric;
  std::vector<std::string> original_baseline_agents;
  std::vector<std::string> original_candidate_agents;
  std::vector<std::string> confirmation_baseline_agents;
  std::vector<std::string> confirmation_candidate_agents;
  // Empty when no confirmation campaign could run (reason says why).
  std::string campaign_id;
  analysis::GateOutcome original_outcome = analysis::GateOutcome::kFail;
  analysis::GateOutcome confirmation_outcome = analysis::GateOutcome::kInconclusive;
  // The metric in the confirmation comparison, when it ran.
  std::optional<analysis::MetricComparison> confirmation;
  std::optional<ComparedMetric> confirmation_samples;
  std::string reason;
};

struct GateReport {
  analysis::GateOutcome outcome = analysis::GateOutcome::kInconclusive;
  // The verdict on the original results, with the comparison it was decided on.
  analysis::GateResult original;
  KernelComparison comparison;
  std::string campaign_id;
  std::vector<GateConfirmation> confirmations;
  std::vector<std::string> reasons;
  // With GateSpec::until_decided: the looks and why it stopped, and every round's campaign
  // (campaign_id first).
  std::optional<RoundsReport> sequential;
  std::vector<std::string> round_campaign_ids;
};

class GateRunner {
 public:
  struct Options {
    // How often a running campaign's state is polled.
    absl::Duration poll_interval = absl::Milliseconds(200);
  };
  // `on_verdict(policy_name, outcome)` runs once per decided gate (e.g. the verdict gauge).
  GateRunner(store::Store* store, scheduling::Fleet* fleet, scheduling::Campaigns* campaigns,
             Options options,
             std::function<void(const std::string&, analysis::GateOutcome)> on_verdict);

  // Decides the gate. `cancelled` is polled while waiting for campaigns (returns CANCELLED).
  // INVALID_ARGUMENT for a bad policy (naming its line), selectors or options; errors of
  // campaign submission as Campaigns::Submit returns them; DEADLINE_EXCEEDED when a campaign
  // does not finish within spec.campaign_timeout (it is cancelled).
  absl::StatusOr<GateReport> Run(const GateSpec& spec,
                                 const std::function<bool()>& cancelled = nullptr);

 private:
  absl::StatusOr<v1::Campaign> WaitForCampaign(const std::string& campaign_id,
                                               absl::Duration timeout,
                                               const std::function<bool()>& cancelled);
  absl::Status Confirm(const GateSpec& spec, const analysis::GatePolicy& policy,
                       const std::function<bool()>& cancelled, GateReport& report);
  // The gate's campaign, then rounds until decided; fills the report's comparison, verdict on
  // the original results, campaigns and sequential record.
  absl::Status RunUntilDecided(const GateSpec& spec, const analysis::GatePolicy& policy,
                               const v1::CampaignSpec& campaign,
                               const std::function<bool()>& cancelled, GateReport& report);

  store::Store* const store_;
  scheduling::Fleet* const fleet_;
  scheduling::Campaigns* const campaigns_;
  const Options options_;
  const std::function<void(const std::string&, analysis::GateOutcome)> on_verdict_;
};

// The two campaign targets a gate run uses, made from its selectors: "baseline" and
// "candidate" (kernel_label, kernel_release, arch, host_class, agent_id -> agent_ids).
// INVALID_ARGUMENT when a selector names a campaign or target (those select stored results,
// not machines).
absl::StatusOr<v1::CampaignSpec> GateCampaignSpec(const GateSpec& spec);

}  // namespace faultline::controller::runs

#endif  // FAULTLINE_CONTROLLER_RUNS_GATE_RUNNER_H_
