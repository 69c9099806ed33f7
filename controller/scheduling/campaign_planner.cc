#include "controller/scheduling/campaign_planner.h"

#include <map>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "controller/scheduling/param_validation.h"
#include "controller/scheduling/target_matcher.h"
#include "controller/validation/limits.h"
#include "controller/validation/request_validation.h"

namespace faultline::controller::scheduling {
namespace {

absl::Status Invalid(const std::string& field, const std::string& reason) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", reason));
}

}  // namespace

absl::StatusOr<CampaignPlan> PlanCampaign(const v1::CampaignSpec& input,
                                          const std::vector<store::AgentRecord>& agents) {
  CampaignPlan plan;
  v1::CampaignSpec& spec = plan.spec;
  spec = input;

  // The same shape check SubmitCampaign's handler runs first: the planner is also called by
  // gates, with specs the controller completed itself.
  if (absl::Status shape =
          validation::ValidateCampaignSpecShape(spec, "spec", /*targets_required=*/true);
      !shape.ok()) {
    return shape;
  }
  if (spec.priority() == v1::PRIORITY_UNSPECIFIED) spec.set_priority(v1::PRIORITY_INTERACTIVE);
  if (spec.repetitions() == 0) spec.set_repetitions(kDefaultRepetitions);

  // Targets: which agents each one can use.
  std::vector<std::vector<const store::AgentRecord*>> matching(spec.targets_size());
  std::set<std::string> target_names;
  for (int t = 0; t < spec.targets_size(); ++t) {
    v1::TargetSelector* target = spec.mutable_targets(t);
    const std::string field = absl::StrCat("spec.targets[", t, "]");
    if (target->name().empty()) {
      target->set_name(!target->kernel_label().empty() ? target->kernel_label()
                                                       : absl::StrCat("target", t));
    }
    if (!target_names.insert(target->name()).second) {
      return Invalid(field + ".name", absl::StrCat("\"", target->name(),
                                                   "\" names another target too; give each "
                                                   "target a distinct name"));
    }
    for (const store::AgentRecord& agent : agents) {
      if (AgentMatchesTarget(*target, agent)) matching[t].push_back(&agent);
    }
    if (matching[t].empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          field, ": no registered agent matches ", DescribeTarget(*target)));
    }
  }
  if (spec.paired()) {
    // Pin every target to one host class that has agents for all of them, so each kernel is
    // measured on the same hardware. Chosen now, stored with the spec: restart-safe.
    std::map<std::string, int> common;  // host class -> agents across all targets
    for (int t = 0; t < spec.targets_size(); ++t) {
      std::set<std::string> classes_here;
      for (const store::AgentRecord* a : matching[t]) classes_here.insert(a->host.host_class());
      if (t == 0) {
        for (const std::string& cls : classes_here) common[cls] = 0;
      }
      for (auto it = common.begin(); it != common.end();) {
        it = classes_here.count(it->first) ? std::next(it) : common.erase(it);
      }
      for (const store::AgentRecord* a : matching[t]) {
        if (common.count(a->host.host_class())) common[a->host.host_class()]++;
      }
    }
    if (common.empty()) {
      return absl::FailedPreconditionError(
          "spec.paired: no host class has agents for every target");
    }
    // The class with the most agents spreads the work widest; ties go to the first name.
    std::string chosen;
    int most = -1;
    for (const auto& [cls, n] : common) {
      if (n > most) {
        most = n;
        chosen = cls;
      }
    }
    for (int t = 0; t < spec.targets_size(); ++t) {
      spec.mutable_targets(t)->set_host_class(chosen);
      std::vector<const store::AgentRecord*> kept;
      for (const store::AgentRecord* a : matching[t]) {
        if (a->host.host_class() == chosen) kept.push_back(a);
      }
      matching[t].swap(kept);
    }
  }

  // Invocations: benchmark known to every target's agents, parameters valid.
  for (int i = 0; i < spec.suite_size(); ++i) {
    v1::BenchmarkInvocation* inv = spec.mutable_suite(i);
    const std::string field = absl::StrCat("spec.suite[", i, "]");
    if (inv->repetitions() == 0) inv->set_repetitions(spec.repetitions());
    if (inv->timeout_seconds() == 0) inv->set_timeout_seconds(kDefaultTimeoutSeconds);

    // Validate against the first matching agent that offers the benchmark; agents of one
    // build advertise one catalog, and a job only goes to agents that offer its benchmark.
    bool resolved = false;
    for (int t = 0; t < spec.targets_size(); ++t) {
      const v1::BenchmarkSpec* bench = nullptr;
      for (const store::AgentRecord* agent : matching[t]) {
        bench = FindInCatalog(*agent, inv->benchmark());
        if (bench != nullptr) break;
      }
      if (bench == nullptr) {
        std::set<std::string> offered;
        for (const store::AgentRecord* agent : matching[t]) {
          for (const v1::BenchmarkSpec& b : agent->catalog) offered.insert(b.name());
        }
        return Invalid(field + ".benchmark",
                       absl::StrCat("unknown benchmark \"", inv->benchmark(),
                                    "\" on the agents matching spec.targets[", t,
                                    "] (they offer: ", absl::StrJoin(offered, ", "), ")"));
      }
      if (!resolved) {
        absl::Status status =
            ResolveInvocationParams(*bench, field + ".params", inv->mutable_params());
        if (!status.ok()) return status;
        resolved = true;
      }
    }
  }

  // Expansion. Interleaved campaigns split repetitions into single-repetition jobs ordered
  // repetition-major, so targets alternate A B A B over the whole campaign.
  auto add_job = [&](int i, int t, uint32_t reps, const std::string& pinned) {
    v1::Job job;
    *job.mutable_invocation() = spec.suite(i);
    job.mutable_invocation()->set_repetitions(reps);
    job.set_target_index(t);
    *job.mutable_target() = spec.targets(t);
    job.set_pinned_agent_id(pinned);
    job.set_state(v1::JOB_STATE_QUEUED);
    job.set_sequence(static_cast<uint32_t>(plan.jobs.size()));
    plan.jobs.push_back(std::move(job));
  };
  auto add_for_target = [&](int i, int t, uint32_t reps) {
    if (!spec.targets(t).every_matching_host()) {
      add_job(i, t, reps, "");
      return;
    }
    for (const store::AgentRecord* agent : matching[t]) {
      if (FindInCatalog(*agent, spec.suite(i).benchmark())) add_job(i, t, reps, agent->agent_id);
    }
  };
  const uint32_t per_job = std::max<uint32_t>(1, spec.repetitions_per_job());
  uint64_t planned = 0;
  for (int i = 0; i < spec.suite_size(); ++i) {
    for (int t = 0; t < spec.targets_size(); ++t) {
      const uint64_t hosts = spec.targets(t).every_matching_host() ? matching[t].size() : 1;
      planned += hosts * (spec.interleave() ? (spec.suite(i).repetitions() + per_job - 1) / per_job
                                            : 1);
    }
  }
  if (planned > static_cast<uint64_t>(validation::limits::kMaxJobsPerCampaign)) {
    return Invalid("spec", absl::StrCat("expands into ", planned, " jobs, more than ",
                                        validation::limits::kMaxJobsPerCampaign));
  }
  if (spec.interleave()) {
    uint32_t max_reps = 0;
    for (const auto& inv : spec.suite()) max_reps = std::max(max_reps, inv.repetitions());
    for (uint32_t r = 0; r < max_reps; r += per_job) {
      for (int i = 0; i < spec.suite_size(); ++i) {
        const uint32_t reps = spec.suite(i).repetitions();
        if (r >= reps) continue;
        for (int t = 0; t < spec.targets_size(); ++t) {
          add_for_target(i, t, std::min(per_job, reps - r));
        }
      }
    }
  } else {
    for (int i = 0; i < spec.suite_size(); ++i) {
      for (int t = 0; t < spec.targets_size(); ++t) {
        add_for_target(i, t, spec.suite(i).repetitions());
      }
    }
  }
  return plan;
}

}  // namespace faultline::controller::scheduling
