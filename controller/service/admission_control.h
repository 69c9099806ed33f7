// Admission control for calls that write to the store: at most `max_in_flight` run at once and
// at most `rate_per_second` start per second (a token bucket holding `burst`). A call over
// either bound is refused at once with RESOURCE_EXHAUSTED and a retry hint instead of waiting
// for a thread or a store lock, so a herd of agents reconnecting after a controller restart
// costs a bounded amount of memory and threads, and the agents spread their retries out.
#ifndef FAULTLINE_CONTROLLER_SERVICE_ADMISSION_CONTROL_H_
#define FAULTLINE_CONTROLLER_SERVICE_ADMISSION_CONTROL_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "controller/scheduling/clock.h"

namespace faultline::controller::service {

// The key of the retry hint, both as trailing gRPC metadata and inside the status message
// ("... retry-after-ms=1234").
inline constexpr char kRetryAfterKey[] = "retry-after-ms";

class AdmissionControl {
 public:
  struct Options {
    // Calls executing at once; 0 is unbounded.
    int max_in_flight = 0;
    // Calls admitted per second on average; 0 is unlimited.
    double rate_per_second = 0;
    // Calls admitted back to back before the rate applies (at least 1 when a rate is set).
    int burst = 0;
    // Bounds of the retry hint. The hint grows with the refusals of the last second divided by
    // the rate: the time the rate needs to admit the callers now waiting.
    absl::Duration min_retry_after = absl::Milliseconds(250);
    absl::Duration max_retry_after = absl::Seconds(30);
  };

  // Releases its slot when destroyed; movable, so a call can hold it until it finishes.
  class Permit {
   public:
    Permit() = default;
    Permit(Permit&& other) noexcept : owner_(other.owner_) { other.owner_ = nullptr; }
    Permit& operator=(Permit&& other) noexcept;
    Permit(const Permit&) = delete;
    Permit& operator=(const Permit&) = delete;
    ~Permit() { Release(); }
    void Release();

   private:
    friend class AdmissionControl;
    explicit Permit(AdmissionControl* owner) : owner_(owner) {}
    AdmissionControl* owner_ = nullptr;
  };

  // `name` appears in refusals ("Register: controller busy ...").
  AdmissionControl(std::string name, Options options,
                   scheduling::Clock clock = scheduling::RealClock());
  AdmissionControl(const AdmissionControl&) = delete;
  AdmissionControl& operator=(const AdmissionControl&) = delete;

  // A permit, or RESOURCE_EXHAUSTED whose message ends in "retry-after-ms=N".
  absl::StatusOr<Permit> TryAdmit();

  int in_flight() const;
  int64_t rejected() const;
  const Options& options() const { return options_; }

 private:
  void Release();
  absl::Duration RetryAfterLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string name_;
  const Options options_;
  const scheduling::Clock clock_;
  mutable absl::Mutex mu_;
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  double tokens_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time refilled_ ABSL_GUARDED_BY(mu_);
  int64_t rejected_ ABSL_GUARDED_BY(mu_) = 0;
  // Refusals in the current and previous one-second windows, for the retry hint.
  absl::Time window_start_ ABSL_GUARDED_BY(mu_);
  int64_t window_rejections_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t previous_window_rejections_ ABSL_GUARDED_BY(mu_) = 0;
};

// The bounds AgentService applies. A null control leaves that RPC unbounded.
struct AgentAdmission {
  AdmissionControl* registers = nullptr;
  AdmissionControl* reports = nullptr;
  // The wait suggested to a long-poll turned away because the dispatcher is full.
  absl::Duration poll_retry_after = absl::Seconds(5);
  // Told the RPC name ("Register", "ReportResult", "PollWork") of every refusal; may be empty.
  std::function<void(const std::string& rpc)> rejected;
};

// The hint in a refusal's message, if it carries one.
std::optional<absl::Duration> ParseRetryAfter(const std::string& message);

}  // namespace faultline::controller::service

#endif  // FAULTLINE_CONTROLLER_SERVICE_ADMISSION_CONTROL_H_
