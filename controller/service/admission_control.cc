#include "controller/service/admission_control.h"

#include <algorithm>
#include <cstdlib>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace faultline::controller::service {

AdmissionControl::Permit& AdmissionControl::Permit::operator=(Permit&& other) noexcept {
  if (this != &other) {
    Release();
    owner_ = other.owner_;
    other.owner_ = nullptr;
  }
  return *this;
}

void AdmissionControl::Permit::Release() {
  if (owner_ != nullptr) owner_->Release();
  owner_ = nullptr;
}

AdmissionControl::AdmissionControl(std::string name, Options options, scheduling::Clock clock)
    : name_(std::move(name)), options_(options), clock_(std::move(clock)) {
  const absl::Time now = clock_();
  absl::MutexLock lock(&mu_);
  tokens_ = std::max(1, options_.burst);
  refilled_ = now;
  window_start_ = now;
}

absl::StatusOr<AdmissionControl::Permit> AdmissionControl::TryAdmit() {
  const absl::Time now = clock_();
  absl::MutexLock lock(&mu_);
  if (now - window_start_ >= absl::Seconds(1)) {
    // A window with no refusals in between means the herd is gone: forget it.
    previous_window_rejections_ =
        now - window_start_ >= absl::Seconds(2) ? 0 : window_rejections_;
    window_rejections_ = 0;
    window_start_ = now;
  }
  bool admit = options_.max_in_flight <= 0 || in_flight_ < options_.max_in_flight;
  if (admit && options_.rate_per_second > 0) {
    const double capacity = std::max(1, options_.burst);
    tokens_ = std::min(capacity, tokens_ + absl::ToDoubleSeconds(now - refilled_) *
                                               options_.rate_per_second);
    refilled_ = now;
    if (tokens_ >= 1) {
      tokens_ -= 1;
    } else {
      admit = false;
    }
  }
  if (!admit) {
    ++rejected_;
    ++window_rejections_;
    const absl::Duration retry_after = RetryAfterLocked(now);
    return absl::ResourceExhaustedError(
        absl::StrCat(name_, ": controller busy (", in_flight_, " in flight); ", kRetryAfterKey,
                     "=", absl::ToInt64Milliseconds(retry_after)));
  }
  ++in_flight_;
  return Permit(this);
}

absl::Duration AdmissionControl::RetryAfterLocked(absl::Time now) {
  absl::Duration hint = options_.min_retry_after;
  if (options_.rate_per_second > 0) {
    // Callers refused over about the last second, all coming back, need this long at the rate.
    const double elapsed = std::clamp(absl::ToDoubleSeconds(now - window_start_), 0.0, 1.0);
    const double waiting =
        window_rejections_ + previous_window_rejections_ * (1.0 - elapsed);
    hint = std::max(hint, absl::Seconds(waiting / options_.rate_per_second));
  }
  return std::min(hint, std::max(options_.min_retry_after, options_.max_retry_after));
}

void AdmissionControl::Release() {
  absl::MutexLock lock(&mu_);
  --in_flight_;
}

int AdmissionControl::in_flight() const {
  absl::MutexLock lock(&mu_);
  return in_flight_;
}

int64_t AdmissionControl::rejected() const {
  absl::MutexLock lock(&mu_);
  return rejected_;
}

std::optional<absl::Duration> ParseRetryAfter(const std::string& message) {
  const std::string key = absl::StrCat(kRetryAfterKey, "=");
  const size_t at = message.rfind(key);
  if (at == std::string::npos) return std::nullopt;
  const size_t start = at + key.size();
  size_t end = start;
  while (end < message.size() && message[end] >= '0' && message[end] <= '9') ++end;
  int64_t ms = 0;
  if (end == start || end - start > 9 ||
      !absl::SimpleAtoi(message.substr(start, end - start), &ms)) {
    return std::nullopt;
  }
  return absl::Milliseconds(ms);
}

}  // namespace faultline::controller::service
