// PlanCampaign, the validator every SubmitCampaign goes through, on arbitrary specs against a
// fixed fleet: it must not crash, must refuse with INVALID_ARGUMENT or FAILED_PRECONDITION, and
// an accepted plan must respect the limits the planner promises. The request shape check the
// handler runs first (ValidateCampaignSpecShape) must be at least as strict as the planner's own
// shape checks: after it accepts, the planner refuses only for what depends on the fleet.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "controller/scheduling/campaign_planner.h"
#include "controller/validation/request_validation.h"
#include "tests/fuzz/fake_fleet.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

namespace limits = faultline::controller::validation::limits;
namespace validation = faultline::controller::validation;
using faultline::controller::scheduling::CampaignPlan;
using faultline::controller::store::AgentRecord;

const std::vector<AgentRecord>& Fleet() {
  static const auto* const fleet = new std::vector<AgentRecord>(faultline::fuzz::FakeFleet());
  return *fleet;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  faultline::v1::CampaignSpec spec;
  if (!faultline::fuzz::ParseRequest(data, size, &spec)) return 0;
  const absl::Status shape =
      validation::ValidateCampaignSpecShape(spec, "spec", /*targets_required=*/true);
  if (!shape.ok() && (shape.code() != absl::StatusCode::kInvalidArgument ||
                      !absl::StartsWith(shape.message(), "spec"))) {
    std::abort();
  }
  absl::StatusOr<CampaignPlan> plan =
      faultline::controller::scheduling::PlanCampaign(spec, Fleet());
  if (!plan.ok() && shape.ok() && plan.status().code() == absl::StatusCode::kInvalidArgument) {
    // What only the fleet's catalogs can decide: benchmarks, parameters, target names after
    // defaults, the expansion into jobs.
    const absl::string_view m = plan.status().message();
    if (!absl::StrContains(m, ".benchmark: unknown benchmark") &&
        !absl::StrContains(m, ".params") && !absl::StrContains(m, "names another target") &&
        !absl::StartsWith(m, "spec: expands into")) {
      std::abort();
    }
  }
  if (!plan.ok()) {
    const absl::StatusCode code = plan.status().code();
    if (code != absl::StatusCode::kInvalidArgument &&
        code != absl::StatusCode::kFailedPrecondition) {
      std::abort();
    }
    // The field is named: "spec.<field>: <reason>".
    if (plan.status().message().find(':') == absl::string_view::npos) std::abort();
    return 0;
  }
  const faultline::v1::CampaignSpec& planned = plan->spec;
  if (plan->jobs.empty()) std::abort();
  if (plan->jobs.size() > static_cast<size_t>(limits::kMaxJobsPerCampaign)) {
    std::abort();
  }
  if (planned.suite_size() > limits::kMaxSuiteSize) std::abort();
  if (planned.targets_size() > limits::kMaxTargets) std::abort();
  std::set<std::string> benchmarks = {"fault_anon", "fork_cow"};
  uint32_t last_sequence = 0;
  for (size_t i = 0; i < plan->jobs.size(); ++i) {
    const faultline::v1::Job& job = plan->jobs[i];
    if (job.target_index() >= static_cast<uint32_t>(planned.targets_size())) std::abort();
    if (benchmarks.count(job.invocation().benchmark()) == 0) std::abort();
    const uint32_t reps = job.invocation().repetitions();
    if (reps < 1 || reps > limits::kMaxRepetitions) std::abort();
    if (job.invocation().warmup() > limits::kMaxWarmup) std::abort();
    const uint32_t timeout = job.invocation().timeout_seconds();
    if (timeout < 1 || timeout > limits::kMaxTimeoutSeconds) std::abort();
    if (i > 0 && job.sequence() < last_sequence) std::abort();
    last_sequence = job.sequence();
  }
  return 0;
}
