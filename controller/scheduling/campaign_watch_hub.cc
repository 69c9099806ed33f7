#include "controller/scheduling/campaign_watch_hub.h"

#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

namespace faultline::controller::scheduling {
namespace {

bool IsFinal(v1::CampaignState state) {
  return state == v1::CAMPAIGN_STATE_SUCCEEDED || state == v1::CAMPAIGN_STATE_FAILED ||
         state == v1::CAMPAIGN_STATE_CANCELLED;
}

}  // namespace

CampaignWatchHub::CampaignWatchHub(store::Store* store, absl::Duration poll_interval)
    : store_(store), poll_interval_(poll_interval) {
  thread_ = std::thread([this] { Loop(); });
}

CampaignWatchHub::~CampaignWatchHub() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void CampaignWatchHub::Add(CampaignSink* sink, const std::string& campaign_id) {
  absl::MutexLock lock(&mu_);
  Watch& w = watches_[sink];
  w.campaign_id = campaign_id;
  dirty_ = true;
}

void CampaignWatchHub::SendDone(CampaignSink* sink) {
  absl::MutexLock lock(&mu_);
  auto it = watches_.find(sink);
  if (it == watches_.end()) return;
  it->second.in_flight = false;
  dirty_ = true;  // A change may have been held back while the write was in flight.
}

void CampaignWatchHub::Remove(CampaignSink* sink) {
  absl::MutexLock lock(&mu_);
  watches_.erase(sink);
}

void CampaignWatchHub::Notify() {
  absl::MutexLock lock(&mu_);
  dirty_ = true;
}

size_t CampaignWatchHub::watchers() const {
  absl::MutexLock lock(&mu_);
  return watches_.size();
}

void CampaignWatchHub::Loop() {
  absl::Time next_poll = absl::Now() + poll_interval_;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      auto woken = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return dirty_ || stopping_; };
      mu_.AwaitWithTimeout(absl::Condition(&woken), absl::Milliseconds(100));
      if (stopping_) return;
      if (!dirty_ && absl::Now() < next_poll) continue;
      dirty_ = false;
    }
    next_poll = absl::Now() + poll_interval_;
    Pass();
  }
}

void CampaignWatchHub::Pass() {
  absl::flat_hash_set<std::string> ids;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [sink, w] : watches_) {
      if (!w.in_flight && !w.finished) ids.insert(w.campaign_id);
    }
  }
  // Read outside the lock: store calls may be slow and sinks may call back into the hub.
  absl::flat_hash_map<std::string, absl::StatusOr<v1::Campaign>> states;
  for (const std::string& id : ids) states.emplace(id, store_->GetCampaign(id));

  absl::MutexLock lock(&mu_);
  for (auto& [sink, w] : watches_) {
    if (w.in_flight || w.finished) continue;
    auto it = states.find(w.campaign_id);
    if (it == states.end()) continue;
    const absl::StatusOr<v1::Campaign>& campaign = it->second;
    if (!campaign.ok()) {
      w.finished = true;
      w.in_flight = true;
      sink->Send(v1::Campaign(), true, campaign.status());
      continue;
    }
    // State and progress only: the spec holds maps, whose wire order is not stable, and it
    // never changes after submission.
    std::string serialized =
        absl::StrCat(campaign->state(), ":", campaign->progress().SerializeAsString());
    if (serialized == w.last_sent) continue;
    w.last_sent = std::move(serialized);
    w.in_flight = true;
    w.finished = IsFinal(campaign->state());
    // Under the lock so Remove() cannot interleave; Send only starts an asynchronous write.
    sink->Send(*campaign, w.finished, absl::OkStatus());
  }
}

}  // namespace faultline::controller::scheduling
