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

TEST(BackoffTest, FullJitterSpansZeroToTheGrowingBase) {
  Backoff backoff(absl::Seconds(1), absl::Seconds(4), 2.0);
  const double base_ms[] = {1000, 2000, 4000, 4000};
  for (double ms : base_ms) {
    const double got = absl::ToDoubleMilliseconds(backoff.NextFullJitter());
    EXPECT_GE(got, 0);
    EXPECT_LT(got, ms);
  }
  // Spread over the whole window: some retries come early, some late.
  absl::Duration lo = absl::InfiniteDuration(), hi = absl::ZeroDuration();
  for (int i = 0; i < 500; ++i) {
    absl::Duration d = backoff.NextFullJitter();
    lo = std::min(lo, d);
    hi = std::max(hi, d);
  }
  EXPECT_LT(lo, absl::Milliseconds(400));
  EXPECT_GT(hi, absl::Milliseconds(3600));
}

TEST(BackoffTest, FullJitterHonoursTheRetryHint) {
  Backoff backoff(absl::Milliseconds(100), absl::Seconds(30), 2.0);
  absl::Duration hi = absl::ZeroDuration();
  for (int i = 0; i < 200; ++i) {
    backoff.Reset();
    const absl::Duration d = backoff.NextFullJitter(absl::Seconds(3));
    EXPECT_GE(d, absl::Seconds(3));
    // Spread over as long again as the hint (the base is shorter than the hint here).
    EXPECT_LT(d, absl::Seconds(6));
    hi = std::max(hi, d);
  }
  EXPECT_GT(hi, absl::Seconds(5));
  // A base longer than the hint widens the spread.
  Backoff slow(absl::Seconds(10), absl::Seconds(30), 2.0);
  absl::Duration widest = absl::ZeroDuration();
  for (int i = 0; i < 200; ++i) {
    slow.Reset();
    widest = std::max(widest, slow.NextFullJitter(absl::Seconds(1)));
  }
  EXPECT_GT(widest, absl::Seconds(8));
  EXPECT_LT(widest, absl::Seconds(11));
}

}  // namespace
}  // namespace faultline::agent
