// `faultlinectl run BENCHMARK [NAME=VALUE ...] --on=SEL --on=SEL ...`: a campaign written on one
// command line instead of a file. The campaign it builds is interleaved (one run per
// --repetitions_per_job repetitions, targets alternating A B A B ...) and paired (every target on
// one host class), so that a comparison of its targets has runs as blocks and no host-class
// difference; campaign files remain for suites.
#ifndef FAULTLINE_CONTROLLER_CLI_RUN_ARGS_H_
#define FAULTLINE_CONTROLLER_CLI_RUN_ARGS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/faultline/v1/campaign.pb.h"

namespace faultline::controller::cli {

struct RunArgs {
  std::string benchmark;
  // "name=value" items (param_args.h).
  std::vector<std::string> params;
  // One selector per target, the selector syntax of compare (selector.h) limited to what picks
  // machines: kernel_label, kernel_release, arch, host_class, agent, and target (the target's
  // name; default the kernel label when it is a plain label, else "target<N>").
  std::vector<std::string> on;
  int repetitions = 10;
  int repetitions_per_job = 1;
};

// The campaign, checked with the controller's own shape check (ValidateCampaignSpecShape, as a
// campaign file is when submitted); errors name the argument or flag the user wrote (see
// InCommandLineTerms). The benchmark's parameters are checked by the controller against the
// agents' catalogs when the campaign is submitted.
absl::StatusOr<v1::CampaignSpec> CampaignFromRunArgs(const RunArgs& args);

// `status` with the campaign's field paths as the command line spells them:
// "spec.suite[0].params.threads: ..." -> "threads: ...", "spec.targets[1]" -> "--on #2",
// "spec.repetitions" -> "--repetitions", "spec.suite[0].benchmark" -> "BENCHMARK".
absl::Status InCommandLineTerms(const absl::Status& status);

}  // namespace faultline::controller::cli

#endif  // FAULTLINE_CONTROLLER_CLI_RUN_ARGS_H_
