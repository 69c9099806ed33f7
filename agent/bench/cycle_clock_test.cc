#include "agent/bench/cycle_clock.h"

#include <time.h>

#include "gtest/gtest.h"

namespace faultline::agent::bench {
namespace {

TEST(CycleClockTest, TicksAdvanceMonotonically) {
  uint64_t prev = CycleNow();
  bool advanced = false;
  for (int i = 0; i < 1'000'000 && !advanced; ++i) {
    const uint64_t now = CycleNow();
    ASSERT_GE(now, prev);
    advanced = now > prev;
    prev = now;
  }
  EXPECT_TRUE(advanced);
}

TEST(CycleClockTest, CalibrationAgreesWithMonotonicClock) {
  const CycleClock& clock = CycleClock::Get();
  ASSERT_GT(clock.ns_per_tick(), 0);
  const int64_t start_ns = MonotonicNowNs();
  const uint64_t start = CycleNow();
  timespec sleep = {0, 50'000'000};
  nanosleep(&sleep, nullptr);
  const double ticks_ns = static_cast<double>(clock.ToNs(CycleNow() - start));
  const double mono_ns = static_cast<double>(MonotonicNowNs() - start_ns);
  // Loose: this asserts the conversion is right, not how fast anything is.
  EXPECT_NEAR(ticks_ns / mono_ns, 1.0, 0.1);
}

TEST(CycleClockTest, TimerOverheadIsPositiveAndFinite) {
  const double overhead = MeasureTimerOverheadNs();
  EXPECT_GT(overhead, 0);
  EXPECT_LT(overhead, 1e6);
}

}  // namespace
}  // namespace faultline::agent::bench
