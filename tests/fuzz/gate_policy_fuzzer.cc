// The gate policy parser on arbitrary text: it must not crash, errors must say where ("line N:"
// or "policy:"), and every accepted rule must be one EvaluateGate accepts too.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "controller/analysis/gate.h"

namespace {

using faultline::controller::analysis::GatePolicy;
using faultline::controller::analysis::GlobMatches;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<GatePolicy> policy = faultline::controller::analysis::ParseGatePolicy(text);
  if (!policy.ok()) {
    const absl::string_view message = policy.status().message();
    if (!absl::StartsWith(message, "line ") && !absl::StartsWith(message, "policy:")) {
      std::abort();
    }
    return 0;
  }
  if (policy->rules.empty()) std::abort();
  for (const auto& rule : policy->rules) {
    if (!(rule.max_regression >= 0 && rule.max_regression < 1)) std::abort();
    if (!(rule.confidence > 0.5 && rule.confidence < 1)) std::abort();
    if (rule.benchmark_glob.empty() || rule.metric_glob.empty()) std::abort();
    // Fuzzed globs against fixed names: the matcher must stay linear and in bounds.
    for (const char* name : {"fault_anon", "ns_per_fault", "", "fork_*x?"}) {
      (void)GlobMatches(rule.benchmark_glob, name);
      (void)GlobMatches(rule.metric_glob, name);
      (void)GlobMatches(name, rule.benchmark_glob);
    }
  }
  // Evaluating on no metrics exercises rule validation without the statistics.
  absl::StatusOr<faultline::controller::analysis::GateResult> result =
      faultline::controller::analysis::EvaluateGate(*policy, {});
  if (!result.ok() && result.status().code() != absl::StatusCode::kInvalidArgument) std::abort();
  return 0;
}
