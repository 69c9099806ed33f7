// Decides whether an agent can serve a campaign target, and a job.
#ifndef FAULTLINE_CONTROLLER_SCHEDULING_TARGET_MATCHER_H_
#define FAULTLINE_CONTROLLER_SCHEDULING_TARGET_MATCHER_H_

#include <optional>
#include <string>

#include "controller/store/store.h"
#include "proto/faultline/v1/benchmark.pb.h"
#include "proto/faultline/v1/campaign.pb.h"

namespace faultline::controller::scheduling {

// The kernel label the agent would run the target on: its current one when that matches, else
// the first kernel it can provision that matches; nullopt when neither does.
std::optional<std::string> KernelLabelFor(const v1::TargetSelector& target,
                                          const store::AgentRecord& agent);

// True when the agent's host satisfies every set field of the selector, possibly after
// provisioning another kernel (see KernelLabelFor).
bool AgentMatchesTarget(const v1::TargetSelector& target, const store::AgentRecord& agent);

// True when the agent would have to boot another kernel to run `job`.
bool NeedsProvisioning(const v1::Job& job, const store::AgentRecord& agent);

// The agent's catalog entry for `benchmark`, or nullptr.
const v1::BenchmarkSpec* FindInCatalog(const store::AgentRecord& agent,
                                       const std::string& benchmark);

// True when `agent` may run `job`: pinned to it (if pinned), matching the job's target, and
// advertising the job's benchmark.
bool AgentCanRunJob(const v1::Job& job, const store::AgentRecord& agent);

// One line describing a selector for error messages, e.g. "arch=ARCH_X86_64 kernel_label=stock".
std::string DescribeTarget(const v1::TargetSelector& target);

}  // namespace faultline::controller::scheduling

#endif  // FAULTLINE_CONTROLLER_SCHEDULING_TARGET_MATCHER_H_
