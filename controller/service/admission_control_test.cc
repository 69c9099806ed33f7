#include "controller/service/admission_control.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace faultline::controller::service {
namespace {

using ::testing::HasSubstr;

struct FakeClock {
  absl::Time now = absl::FromUnixSeconds(1700000000);
  scheduling::Clock clock() {
    return [this] { return now; };
  }
};

TEST(AdmissionControlTest, UnboundedByDefault) {
  AdmissionControl admission("Register", AdmissionControl::Options{});
  std::vector<AdmissionControl::Permit> permits;
  for (int i = 0; i < 1000; ++i) {
    absl::StatusOr<AdmissionControl::Permit> p = admission.TryAdmit();
    ASSERT_TRUE(p.ok()) << p.status();
    permits.push_back(*std::move(p));
  }
  EXPECT_EQ(admission.in_flight(), 1000);
  EXPECT_EQ(admission.rejected(), 0);
  permits.clear();
  EXPECT_EQ(admission.in_flight(), 0);
}

TEST(AdmissionControlTest, RefusesOverInFlightBoundUntilAPermitIsReleased) {
  AdmissionControl::Options options;
  options.max_in_flight = 2;
  AdmissionControl admission("Register", options);
  absl::StatusOr<AdmissionControl::Permit> a = admission.TryAdmit();
  absl::StatusOr<AdmissionControl::Permit> b = admission.TryAdmit();
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  absl::StatusOr<AdmissionControl::Permit> c = admission.TryAdmit();
  ASSERT_EQ(c.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(c.status().message(), HasSubstr("Register: controller busy"));
  EXPECT_THAT(c.status().message(), HasSubstr("retry-after-ms=250"));
  EXPECT_EQ(admission.rejected(), 1);

  a->Release();
  EXPECT_EQ(admission.in_flight(), 1);
  EXPECT_TRUE(admission.TryAdmit().ok());  // Its permit is released at once.
  EXPECT_EQ(admission.in_flight(), 1);
}

TEST(AdmissionControlTest, MovedPermitReleasesOnce) {
  AdmissionControl::Options options;
  options.max_in_flight = 1;
  AdmissionControl admission("Register", options);
  {
    absl::StatusOr<AdmissionControl::Permit> p = admission.TryAdmit();
    ASSERT_TRUE(p.ok());
    AdmissionControl::Permit moved = *std::move(p);
    AdmissionControl::Permit again;
    again = std::move(moved);
    EXPECT_EQ(admission.in_flight(), 1);
    EXPECT_FALSE(admission.TryAdmit().ok());
  }
  EXPECT_EQ(admission.in_flight(), 0);
  EXPECT_TRUE(admission.TryAdmit().ok());
}

TEST(AdmissionControlTest, TokenBucketAdmitsBurstThenRate) {
  FakeClock clock;
  AdmissionControl::Options options;
  options.rate_per_second = 100;
  options.burst = 10;
  AdmissionControl admission("Register", options, clock.clock());
  int admitted = 0;
  for (int i = 0; i < 50; ++i) admitted += admission.TryAdmit().ok();
  EXPECT_EQ(admitted, 10);
  EXPECT_EQ(admission.rejected(), 40);

  // 100 ms at 100/s refills 10 tokens; the bucket holds no more than the burst.
  clock.now += absl::Milliseconds(100);
  admitted = 0;
  for (int i = 0; i < 50; ++i) admitted += admission.TryAdmit().ok();
  EXPECT_EQ(admitted, 10);
  clock.now += absl::Seconds(60);
  admitted = 0;
  for (int i = 0; i < 50; ++i) admitted += admission.TryAdmit().ok();
  EXPECT_EQ(admitted, 10);
}

TEST(AdmissionControlTest, RetryHintGrowsWithTheHerdAndIsCapped) {
  FakeClock clock;
  AdmissionControl::Options options;
  options.rate_per_second = 1000;
  options.burst = 1;
  options.min_retry_after = absl::Milliseconds(100);
  options.max_retry_after = absl::Seconds(5);
  AdmissionControl admission("Register", options, clock.clock());
  ASSERT_TRUE(admission.TryAdmit().ok());
  absl::Duration first = absl::ZeroDuration(), last = absl::ZeroDuration();
  for (int i = 0; i < 3000; ++i) {
    absl::StatusOr<AdmissionControl::Permit> p = admission.TryAdmit();
    ASSERT_FALSE(p.ok());
    std::optional<absl::Duration> hint = ParseRetryAfter(std::string(p.status().message()));
    ASSERT_TRUE(hint.has_value()) << p.status();
    if (i == 0) first = *hint;
    last = *hint;
  }
  EXPECT_EQ(first, absl::Milliseconds(100));  // One refusal: the floor.
  EXPECT_EQ(last, absl::Seconds(3));          // 3000 waiting at 1000/s.

  for (int i = 0; i < 10000; ++i) (void)admission.TryAdmit();
  absl::StatusOr<AdmissionControl::Permit> p = admission.TryAdmit();
  EXPECT_EQ(ParseRetryAfter(std::string(p.status().message())), absl::Seconds(5));

  // Once the herd has gone quiet for two windows the hint falls back to the floor.
  clock.now += absl::Seconds(3);
  ASSERT_TRUE(admission.TryAdmit().ok());
  p = admission.TryAdmit();
  EXPECT_EQ(ParseRetryAfter(std::string(p.status().message())), absl::Milliseconds(100));
}

TEST(ParseRetryAfterTest, ReadsTheLastHint) {
  EXPECT_EQ(ParseRetryAfter("busy; retry-after-ms=1234"), absl::Milliseconds(1234));
  EXPECT_EQ(ParseRetryAfter("retry-after-ms=1 retry-after-ms=7"), absl::Milliseconds(7));
  EXPECT_EQ(ParseRetryAfter("busy"), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("retry-after-ms="), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("retry-after-ms=99999999999999"), std::nullopt);
}

}  // namespace
}  // namespace faultline::controller::service
