#include "agent/backoff.h"

#include "gtest/gtest.h"

namespace faultline::agent {
namespace {

TEST(BackoffTest, GrowsToMaxWithinJitter) {
  Backoff backoff(absl::Milliseconds(100), absl::Seconds(1), 2.0, 0.2);
  const double expected_ms[] = {100, 200, 400, 800, 1000, 1000, 1000};
  for (double ms : expected_ms) {
    const double got = absl::ToDoubleMilliseconds(backoff.Next());
    EXPECT_GE(got, ms * 0.8 - 1e-6);
    EXPECT_LE(got, ms * 1.2 + 1e-6);
  }
}

TEST(BackoffTest, ResetStartsOver) {
  Backoff backoff(absl::Milliseconds(100), absl::Seconds(10), 2.0, 0.0);
  backoff.Next();
  backoff.Next();
  EXPECT_EQ(backoff.Next(), absl::Milliseconds(400));
  backoff.Reset();
  EXPECT_EQ(backoff.Next(), absl::Milliseconds(100));
}

TEST(BackoffTest, JitterSpreadsDelays) {
  Backoff backoff(absl::Seconds(1), absl::Seconds(1), 2.0, 0.5);
  absl::Duration lo = absl::InfiniteDuration(), hi = absl::ZeroDuration();
  for (int i = 0; i < 200; ++i) {
    absl::Duration d = backoff.Next();
    lo = std::min(lo, d);
    hi = std::max(hi, d);
  }
  EXPECT_LT(lo, absl::Milliseconds(900));
  EXPECT_GT(hi, absl::Milliseconds(1100));
}

}  // namespace
}  // namespace faultline::agent
