// Fans campaign changes out to progress watchers (WatchCampaign streams) without a thread per
// watcher: one thread re-reads watched campaigns when told something changed (and once a second,
// for changes made by another controller replica) and pushes each changed state to its
// watchers, one write in flight per watcher.
#ifndef FAULTLINE_CONTROLLER_SCHEDULING_CAMPAIGN_WATCH_HUB_H_
#define FAULTLINE_CONTROLLER_SCHEDULING_CAMPAIGN_WATCH_HUB_H_

#include <cstdint>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "controller/store/store.h"

namespace faultline::controller::scheduling {

// The receiving end of a watch; implemented by the gRPC stream reactor.
class CampaignSink {
 public:
  virtual ~CampaignSink() = default;
  // Starts sending `campaign`; the sink calls CampaignWatchHub::SendDone when the write
  // completes. `final` is true for the last state (the campaign finished, or was not found,
  // in which case `status` is not OK): the sink ends the stream after it.
  virtual void Send(const v1::Campaign& campaign, bool final, const absl::Status& status) = 0;
};

class CampaignWatchHub {
 public:
  explicit CampaignWatchHub(store::Store* store, absl::Duration poll_interval = absl::Seconds(1));
  ~CampaignWatchHub();

  // Starts watching; the first state is sent promptly.
  void Add(CampaignSink* sink, const std::string& campaign_id);
  // The sink's write finished; the next change may be sent.
  void SendDone(CampaignSink* sink);
  // The sink is going away; it is never called again once this returns.
  void Remove(CampaignSink* sink);
  // Something changed; re-read watched campaigns soon.
  void Notify();
  size_t watchers() const;

 private:
  struct Watch {
    std::string campaign_id;
    std::string last_sent;  // Serialized state last sent, to send only changes.
    bool in_flight = false;
    bool finished = false;
  };
  void Loop();
  void Pass();

  store::Store* const store_;
  const absl::Duration poll_interval_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<CampaignSink*, Watch> watches_ ABSL_GUARDED_BY(mu_);
  bool dirty_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace faultline::controller::scheduling

#endif  // FAULTLINE_CONTROLLER_SCHEDULING_CAMPAIGN_WATCH_HUB_H_
