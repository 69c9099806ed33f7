#include "controller/scheduling/fleet.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "controller/validation/request_validation.h"

namespace faultline::controller::scheduling {
namespace {

absl::Status Invalid(const std::string& field, const std::string& reason) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", reason));
}

absl::Status ValidateCatalog(const std::vector<v1::BenchmarkSpec>& catalog) {
  if (catalog.size() > 1024) return Invalid("catalog", "more than 1024 benchmarks");
  for (size_t i = 0; i < catalog.size(); ++i) {
    const v1::BenchmarkSpec& b = catalog[i];
    const std::string field = absl::StrCat("catalog[", i, "]");
    if (b.name().empty() || b.name().size() > 128) {
      return Invalid(field + ".name", "must be 1..128 characters");
    }
    for (int p = 0; p < b.params_size(); ++p) {
      const v1::ParamSpec& param = b.params(p);
      const std::string pfield = absl::StrCat(field, ".params[", p, "]");
      if (param.name().empty()) return Invalid(pfield + ".name", "must be set");
      if (!v1::ParamType_IsValid(param.type()) || param.type() == v1::PARAM_TYPE_UNSPECIFIED) {
        return Invalid(pfield + ".type", "must be a known parameter type");
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

Fleet::Fleet(store::Store* store, Options options, Clock clock, std::function<void()> on_change)
    : store_(store), options_(options), clock_(std::move(clock)), on_change_(std::move(on_change)) {
  if (options_.heartbeat_flush_interval <= absl::ZeroDuration()) return;
  flusher_ = std::thread([this] {
    while (true) {
      {
        absl::MutexLock lock(&mu_);
        auto stopping = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stopping_; };
        if (mu_.AwaitWithTimeout(absl::Condition(&stopping),
                                 options_.heartbeat_flush_interval)) {
          break;
        }
      }
      (void)FlushHeartbeats();
    }
  });
}

Fleet::~Fleet() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (flusher_.joinable()) flusher_.join();
  (void)FlushHeartbeats();
}

absl::Status Fleet::FlushHeartbeats() {
  absl::flat_hash_map<std::string, Beat> beats;
  {
    absl::MutexLock lock(&mu_);
    beats.swap(pending_);
  }
  absl::Status first = absl::OkStatus();
  for (const auto& [agent_id, beat] : beats) {
    absl::Status s = store_->TouchAgent(agent_id, beat.state, beat.job_id, beat.at);
    // An agent removed from the store meanwhile simply registers again.
    if (!s.ok() && !absl::IsNotFound(s) && first.ok()) first = s;
  }
  return first;
}

absl::Status Fleet::Register(store::AgentRecord agent) {
  if (absl::Status s = validation::ValidateAgentId(agent.agent_id, "agent_id"); !s.ok()) return s;
  if (!v1::Arch_IsValid(agent.host.arch()) || agent.host.arch() == v1::ARCH_UNSPECIFIED) {
    return Invalid("host.arch", "must be a known architecture");
  }
  if (agent.host.kernel_release().empty()) return Invalid("host.kernel_release", "must be set");
  if (agent.host.kernel_label().empty()) agent.host.set_kernel_label("stock");
  if (agent.tags.size() > 64) return Invalid("tags", "more than 64 tags");
  if (absl::Status s = ValidateCatalog(agent.catalog); !s.ok()) return s;
  const absl::Time now = clock_();
  agent.registered = now;
  agent.last_seen = now;
  if (agent.state == 0) agent.state = v1::AGENT_STATE_IDLE;
  if (absl::Status s = store_->UpsertAgent(agent); !s.ok()) return s;
  {
    absl::MutexLock lock(&mu_);
    cache_[agent.agent_id] = Cached{std::make_shared<const store::AgentRecord>(agent), now};
  }
  if (on_change_) on_change_();
  return absl::OkStatus();
}

absl::StatusOr<bool> Fleet::Heartbeat(const std::string& agent_id, int state,
                                      const std::string& job_id) {
  if (absl::Status s = validation::ValidateAgentId(agent_id, "agent_id"); !s.ok()) return s;
  if (!v1::AgentState_IsValid(state) || state == v1::AGENT_STATE_LOST) {
    return Invalid("state", absl::StrCat("agents may not report state ", state));
  }
  if (!flusher_.joinable()) {
    absl::Status s = store_->TouchAgent(agent_id, state, job_id, clock_());
    if (absl::IsNotFound(s)) return false;
    if (!s.ok()) return s;
    return true;
  }
  absl::StatusOr<std::shared_ptr<const store::AgentRecord>> known = GetShared(agent_id);
  if (absl::IsNotFound(known.status())) return false;
  if (!known.ok()) return known.status();
  absl::MutexLock lock(&mu_);
  pending_[agent_id] = Beat{state, job_id, clock_()};
  return true;
}

absl::StatusOr<std::vector<store::AgentRecord>> Fleet::List(bool include_lost) {
  absl::StatusOr<std::vector<store::AgentRecord>> agents = store_->ListAgents();
  if (!agents.ok()) return agents.status();
  const absl::Time cutoff =
      clock_() - options_.heartbeat_interval * options_.lost_after_intervals;
  {
    // Heartbeats not yet flushed are the freshest word on liveness.
    absl::MutexLock lock(&mu_);
    for (store::AgentRecord& agent : *agents) {
      auto it = pending_.find(agent.agent_id);
      if (it == pending_.end()) continue;
      agent.last_seen = std::max(agent.last_seen, it->second.at);
      agent.state = it->second.state;
      agent.current_job_id = it->second.job_id;
    }
  }
  std::vector<store::AgentRecord> out;
  for (store::AgentRecord& agent : *agents) {
    if (agent.last_seen < cutoff) {
      agent.state = v1::AGENT_STATE_LOST;
      if (!include_lost) continue;
    }
    out.push_back(std::move(agent));
  }
  return out;
}

absl::StatusOr<store::AgentRecord> Fleet::Get(const std::string& agent_id) {
  absl::StatusOr<std::shared_ptr<const store::AgentRecord>> agent = GetShared(agent_id);
  if (!agent.ok()) return agent.status();
  return **agent;
}

absl::StatusOr<std::shared_ptr<const store::AgentRecord>> Fleet::GetShared(
    const std::string& agent_id) {
  const absl::Time now = clock_();
  {
    absl::MutexLock lock(&mu_);
    auto it = cache_.find(agent_id);
    if (it != cache_.end() && now - it->second.fetched < options_.cache_ttl) {
      return it->second.agent;
    }
  }
  absl::StatusOr<store::AgentRecord> agent = store_->GetAgent(agent_id);
  if (!agent.ok()) return agent.status();
  auto shared = std::make_shared<const store::AgentRecord>(std::move(*agent));
  absl::MutexLock lock(&mu_);
  cache_[agent_id] = Cached{shared, now};
  return shared;
}

}  // namespace faultline::controller::scheduling
