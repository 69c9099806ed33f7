#include "controller/scheduling/scheduler.h"

#include <algorithm>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_format.h"
#include "controller/scheduling/target_matcher.h"

namespace faultline::controller::scheduling {

Scheduler::Scheduler(store::Store* store, Options options, Clock clock)
    : store_(store), options_(options), clock_(std::move(clock)) {}

std::string Scheduler::NewLeaseId() {
  // Lease ids are bearer secrets for RenewLease/ReportResult: unguessable, not sequential.
  thread_local absl::BitGen gen;
  return absl::StrFormat("%016x%016x", absl::Uniform<uint64_t>(gen),
                         absl::Uniform<uint64_t>(gen));
}

int Scheduler::PickJob(const std::vector<store::QueuedJob>& queued,
                       const std::vector<bool>& taken, const store::AgentRecord& agent) {
  // The store orders by priority, campaign age, sequence; pick the first matching job of the
  // highest priority, preferring the campaign served least recently.
  // Rebooting a host into another kernel costs minutes: only when it has nothing to run on
  // the kernel it is on.
  int best = -1;
  for (int pass = 0; pass < 2 && best < 0; ++pass) {
    for (size_t j = 0; j < queued.size(); ++j) {
      if (taken[j]) continue;
      const store::QueuedJob& candidate = queued[j];
      if (best >= 0 && candidate.priority < queued[best].priority) break;
      if (!AgentCanRunJob(candidate.job, agent)) continue;
      if ((pass == 0) == NeedsProvisioning(candidate.job, agent)) continue;
      if (best < 0) {
        best = static_cast<int>(j);
        continue;
      }
      const std::string& cand_campaign = candidate.job.campaign_id();
      const std::string& best_campaign = queued[best].job.campaign_id();
      if (cand_campaign == best_campaign) continue;  // Keep sequence order within a campaign.
      if (last_served_[cand_campaign] < last_served_[best_campaign]) best = static_cast<int>(j);
    }
  }
  return best;
}

absl::StatusOr<std::vector<std::optional<LeasedJob>>> Scheduler::AssignBatch(
    const std::vector<const store::AgentRecord*>& agents) {
  std::vector<std::optional<LeasedJob>> out(agents.size());
  if (agents.empty()) return out;
  absl::StatusOr<std::vector<store::QueuedJob>> queued =
      store_->ListQueuedJobs(options_.scan_limit);
  if (!queued.ok()) return queued.status();
  if (queued->empty()) return out;

  absl::MutexLock lock(&mu_);
  std::vector<bool> taken(queued->size(), false);
  for (size_t a = 0; a < agents.size(); ++a) {
    const store::AgentRecord& agent = *agents[a];
    while (true) {
      const int best = PickJob(*queued, taken, agent);
      if (best < 0) break;
      taken[best] = true;
      const absl::Time now = clock_();
      LeasedJob leased;
      leased.job = (*queued)[best].job;
      leased.lease_id = NewLeaseId();
      leased.deadline = now + options_.lease;
      absl::StatusOr<bool> won = store_->LeaseJob(leased.job.id(), agent.agent_id,
                                                  leased.lease_id, leased.deadline, now);
      if (!won.ok()) return won.status();
      // Another controller replica leased it first; replicas woken by the same submission scan
      // the same queue at once, so the agent tries the next best instead of waiting for the
      // next sweep.
      if (!*won) continue;
      last_served_[leased.job.campaign_id()] = ++pass_;
      leased.job.set_state(v1::JOB_STATE_RUNNING);
      leased.job.set_attempt(leased.job.attempt() + 1);
      leased.job.set_agent_id(agent.agent_id);
      out[a] = std::move(leased);
      break;
    }
  }
  return out;
}

}  // namespace faultline::controller::scheduling
