#include "agent/bench/host_noise.h"

#include <sched.h>
#include <unistd.h>

#include <algorithm>

#include "agent/bench/cycle_clock.h"
#include "agent/bench/workers.h"
#include "gtest/gtest.h"

namespace faultline::agent::bench {
namespace {

bool Has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

TEST(HostNoiseTest, EachExceededThresholdIsAReason) {
  const HostNoise noise;
  HostNoise::Snapshot before = noise.Read();
  HostNoise::Snapshot after = before;
  RepetitionResult quiet;
  quiet.wall_ns = 100'000'000;
  noise.Judge(before, after, NoiseThresholds(), &quiet);
  EXPECT_TRUE(quiet.disturbances.empty());
  EXPECT_EQ(quiet.counters.at("sched.run_delay_ns"), 0);
  // No host here reports a clock change it does not have; without cpufreq it is unavailable.
  if (before.count("host.cpu_khz_min") == 0) {
    EXPECT_TRUE(Has(quiet.unavailable_counters, "host.cpu_khz_min"));
  }

  RepetitionResult loud;
  loud.wall_ns = 100'000'000;
  loud.counters["vmstat.compact_stall"] = 2;
  after["sched.run_delay_ns"] += 6'000'000;  // 6% of the wall time: over 5%.
  after["host.steal_ns"] += 1'000'000 * sysconf(_SC_NPROCESSORS_ONLN) * 2;  // 2% per CPU.
  noise.Judge(before, after, NoiseThresholds(), &loud);
  ASSERT_GE(loud.disturbances.size(), 3u);
  EXPECT_EQ(loud.disturbances[0], "workers waited for a CPU 6.0% of the wall time (limit 5.0%)");
  EXPECT_EQ(loud.disturbances[1], "steal time 2.0% of the wall time (limit 1.0%)");
  EXPECT_TRUE(Has(loud.disturbances, "direct compaction stalled 2 times on the host"));
  EXPECT_EQ(loud.counters.at("sched.run_delay_ns"), 6'000'000);
}

// Two workers on one CPU wait for each other: their run delay is counted, which is the figure
// the runner judges "waited for a CPU" by (other load on the benchmark's CPUs).
TEST(HostNoiseTest, WorkersSharingACpuAccumulateRunDelay) {
  cpu_set_t previous, one;
  ASSERT_EQ(sched_getaffinity(0, sizeof(previous), &previous), 0);
  int cpu = 0;
  while (!CPU_ISSET(cpu, &previous)) ++cpu;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  ASSERT_EQ(sched_setaffinity(0, sizeof(one), &one), 0);
  const int64_t before = WorkersRunDelayNs();
  WorkerOptions options;
  options.workers = 2;
  absl::StatusOr<WorkerGroupResult> result =
      RunWorkers(options, [](int, StartGate& gate, WorkerReport& report) {
        if (!gate.ArriveAndWait()) return;
        const int64_t end = MonotonicNowNs() + 100'000'000;
        while (MonotonicNowNs() < end) ++report.ops;
      });
  sched_setaffinity(0, sizeof(previous), &previous);
  ASSERT_TRUE(result.ok()) << result.status();
  if (result->reports[0].run_delay_ns < 0) GTEST_SKIP() << "no schedstats on this kernel";
  // Each spins 100 ms of wall time on a CPU it shares with the other: together they waited for
  // about 100 ms. A third of that is far beyond any timer jitter.
  EXPECT_GT(WorkersRunDelayNs() - before, 30'000'000);
}

}  // namespace
}  // namespace faultline::agent::bench
