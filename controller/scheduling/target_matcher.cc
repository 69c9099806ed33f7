#include "controller/scheduling/target_matcher.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "controller/scheduling/glob.h"

namespace faultline::controller::scheduling {

std::optional<std::string> KernelLabelFor(const v1::TargetSelector& target,
                                          const store::AgentRecord& agent) {
  if (GlobMatch(target.kernel_label(), agent.host.kernel_label()) &&
      GlobMatch(target.kernel_release(), agent.host.kernel_release())) {
    return agent.host.kernel_label();
  }
  // A kernel to provision: its release is unknown until it boots, so a target that pins the
  // release only matches agents already running it.
  if (!target.kernel_release().empty()) return std::nullopt;
  for (const std::string& label : agent.provisionable_kernels) {
    if (GlobMatch(target.kernel_label(), label)) return label;
  }
  return std::nullopt;
}

bool AgentMatchesTarget(const v1::TargetSelector& target, const store::AgentRecord& agent) {
  const v1::HostFingerprint& host = agent.host;
  if (target.arch() != v1::ARCH_UNSPECIFIED && target.arch() != host.arch()) return false;
  if (!KernelLabelFor(target, agent).has_value()) return false;
  if (!GlobMatch(target.host_class(), host.host_class())) return false;
  for (const std::string& tag : target.host_tags()) {
    if (std::find(agent.tags.begin(), agent.tags.end(), tag) == agent.tags.end()) return false;
  }
  if (!target.agent_ids().empty() &&
      std::find(target.agent_ids().begin(), target.agent_ids().end(), agent.agent_id) ==
          target.agent_ids().end()) {
    return false;
  }
  return true;
}

bool NeedsProvisioning(const v1::Job& job, const store::AgentRecord& agent) {
  std::optional<std::string> label = KernelLabelFor(job.target(), agent);
  return label.has_value() && *label != agent.host.kernel_label();
}

const v1::BenchmarkSpec* FindInCatalog(const store::AgentRecord& agent,
                                       const std::string& benchmark) {
  for (const v1::BenchmarkSpec& spec : agent.catalog) {
    if (spec.name() == benchmark) return &spec;
  }
  return nullptr;
}

bool AgentCanRunJob(const v1::Job& job, const store::AgentRecord& agent) {
  if (!job.pinned_agent_id().empty() && job.pinned_agent_id() != agent.agent_id) return false;
  for (const std::string& excluded : job.excluded_agent_ids()) {
    if (excluded == agent.agent_id) return false;
  }
  return AgentMatchesTarget(job.target(), agent) &&
         FindInCatalog(agent, job.invocation().benchmark()) != nullptr;
}

std::string DescribeTarget(const v1::TargetSelector& target) {
  std::vector<std::string> parts;
  if (target.arch() != v1::ARCH_UNSPECIFIED) {
    parts.push_back(absl::StrCat("arch=", v1::Arch_Name(target.arch())));
  }
  if (!target.kernel_label().empty()) {
    parts.push_back(absl::StrCat("kernel_label=", target.kernel_label()));
  }
  if (!target.kernel_release().empty()) {
    parts.push_back(absl::StrCat("kernel_release=", target.kernel_release()));
  }
  if (!target.host_class().empty()) {
    parts.push_back(absl::StrCat("host_class=", target.host_class()));
  }
  if (!target.host_tags().empty()) {
    parts.push_back(absl::StrCat("host_tags=", absl::StrJoin(target.host_tags(), ",")));
  }
  if (!target.agent_ids().empty()) {
    parts.push_back(absl::StrCat("agent_ids=", absl::StrJoin(target.agent_ids(), ",")));
  }
  if (parts.empty()) return "any host";
  return absl::StrJoin(parts, " ");
}

}  // namespace faultline::controller::scheduling
