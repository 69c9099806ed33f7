#include "controller/cli/run_args.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "controller/cli/param_args.h"
#include "controller/cli/selector.h"
#include "controller/validation/limits.h"
#include "controller/validation/request_validation.h"

namespace faultline::controller::cli {
namespace {

// A label that can name its target: no glob, and short enough for a name (a long label is
// reported as the label's error, not as a name the user never wrote).
bool IsPlainLabel(const std::string& label) {
  return !label.empty() && label.size() <= validation::limits::kMaxNameLength &&
         label.find_first_of("*?[") == std::string::npos;
}

}  // namespace

absl::Status InCommandLineTerms(const absl::Status& status) {
  if (status.ok()) return status;
  std::string message(status.message());
  // Longest paths first, so "spec.suite[0].params." goes before "spec.suite[0].".
  message = absl::StrReplaceAll(message, {{"spec.suite[0].params.", ""},
                                          {"spec.suite[0].params", "parameters"},
                                          {"spec.suite[0].benchmark", "BENCHMARK"},
                                          {"spec.suite[0]", "BENCHMARK"},
                                          {"spec.repetitions_per_job", "--repetitions_per_job"},
                                          {"spec.repetitions", "--repetitions"}});
  for (int t = 63; t >= 0; --t) {
    message = absl::StrReplaceAll(
        message, {{absl::StrCat("spec.targets[", t, "]"), absl::StrCat("--on #", t + 1)}});
  }
  return absl::Status(status.code(), message);
}

absl::StatusOr<v1::CampaignSpec> CampaignFromRunArgs(const RunArgs& args) {
  if (args.benchmark.empty()) {
    return absl::InvalidArgumentError("BENCHMARK: must be given (faultlinectl run BENCHMARK ...)");
  }
  if (args.on.empty()) {
    return absl::InvalidArgumentError(
        "--on: give one --on=SEL per kernel to run on, e.g. --on=kernel_label=stock");
  }
  if (args.repetitions < 1) return absl::InvalidArgumentError("--repetitions: must be at least 1");
  if (args.repetitions_per_job < 1) {
    return absl::InvalidArgumentError("--repetitions_per_job: must be at least 1");
  }
  absl::StatusOr<std::map<std::string, v1::ParamValue>> params =
      ParseParamAssignments(args.params, "parameters");
  if (!params.ok()) return params.status();

  v1::CampaignSpec spec;
  spec.set_name(absl::StrCat("run ", args.benchmark));
  spec.set_repetitions(static_cast<uint32_t>(args.repetitions));
  spec.set_interleave(true);
  spec.set_paired(true);
  spec.set_repetitions_per_job(static_cast<uint32_t>(args.repetitions_per_job));
  v1::BenchmarkInvocation* invocation = spec.add_suite();
  invocation->set_benchmark(args.benchmark);
  invocation->mutable_params()->insert(params->begin(), params->end());
  std::set<std::string> names;
  for (size_t i = 0; i < args.on.size(); ++i) {
    const std::string flag = absl::StrCat("--on #", i + 1);
    absl::StatusOr<v1::ResultSelector> s = ParseSelector(args.on[i], flag);
    if (!s.ok()) return s.status();
    if (!s->campaign_id().empty() || !s->benchmark().empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          flag, ": \"", args.on[i], "\" names a campaign or benchmark; --on picks machines "
          "(kernel_label, kernel_release, arch, host_class, agent, target=NAME)"));
    }
    v1::TargetSelector* target = spec.add_targets();
    target->set_kernel_label(s->kernel_label());
    target->set_kernel_release(s->kernel_release());
    target->set_arch(s->arch());
    target->set_host_class(s->host_class());
    if (!s->agent_id().empty()) target->add_agent_ids(s->agent_id());
    std::string name = s->target_name();
    if (name.empty()) {
      name = IsPlainLabel(s->kernel_label()) && !names.count(s->kernel_label())
                 ? s->kernel_label()
                 : absl::StrCat("target", i + 1);
    }
    if (!names.insert(name).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          flag, ": target name \"", name, "\" is taken by another --on; add target=NAME"));
    }
    target->set_name(name);
  }
  absl::Status shape = validation::ValidateCampaignSpecShape(spec, "spec", /*targets_required=*/true);
  if (!shape.ok()) return InCommandLineTerms(shape);
  absl::Status utf8 = validation::ValidateUtf8Strings(spec, "spec");
  if (!utf8.ok()) return InCommandLineTerms(utf8);
  return spec;
}

}  // namespace faultline::controller::cli
