#include "controller/runs/latency_distributions.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "agent/bench/histogram.h"
#include "agent/catalog_proto.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace faultline::controller::runs {
namespace {

using agent::bench::Histogram;

v1::Histogram Latencies(uint64_t base, int values) {
  Histogram h(5);
  // 1% of the values 8x slower: a tail p99.9 sees and p50 does not.
  for (int i = 0; i < values; ++i) h.Record(i % 100 == 0 ? base * 8 : base + i % 16);
  return agent::HistogramToProto(h, "ns");
}

// A run of `reps` repetitions, each with one fault_latency_ns histogram around `base` ns and an
// ns_per_fault metric; repetition `disturbed` (if any) is marked and 100x slower.
store::StoredRunRecord LatencyRun(int64_t id, uint64_t base, int reps, int disturbed = -1) {
  store::StoredRunRecord run;
  run.run_id = id;
  run.agent_id = "box";
  run.result.set_benchmark("fault_anon");
  run.result.set_state(v1::RUN_STATE_OK);
  run.result.mutable_host()->set_host_class("epyc-2cpu");
  (*run.result.mutable_params())["region_mib"].set_int_value(8);
  for (int r = 0; r < reps; ++r) {
    v1::Repetition* rep = run.result.add_repetitions();
    rep->set_index(r);
    v1::MetricValue* m = rep->add_metrics();
    m->set_name("ns_per_fault");
    m->set_unit("ns");
    m->set_direction(v1::DIRECTION_LOWER_IS_BETTER);
    m->set_value(static_cast<double>(base));
    v1::NamedHistogram* named = rep->add_histograms();
    named->set_name("fault_latency_ns");
    if (r == disturbed) {
      rep->add_disturbances("workers waited for a CPU 40% of the wall time");
      *named->mutable_histogram() = Latencies(base * 100, 2000);
    } else {
      *named->mutable_histogram() = Latencies(base, 2000);
    }
  }
  return run;
}

TEST(LatencyDistributionsTest, EachRunIsOneBlockPerQuantile) {
  std::vector<store::StoredRunRecord> a, b;
  // Six runs a side, B 20% slower in every run, one disturbed repetition in A's first run.
  for (int i = 0; i < 6; ++i) {
    a.push_back(LatencyRun(1 + i, 1000 + 10 * i, 3, i == 0 ? 1 : -1));
    b.push_back(LatencyRun(100 + i, 1200 + 12 * i, 3));
  }
  absl::StatusOr<KernelComparison> c = CollectComparison(a, b, ReplicationUnit::kRun);
  ASSERT_TRUE(c.ok()) << c.status();
  const std::vector<analysis::LatencyDistribution> d =
      CompareLatencyDistributions(a, b, *c, 0.95);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].benchmark, "fault_anon");
  EXPECT_EQ(d[0].histogram, "fault_latency_ns");
  EXPECT_EQ(d[0].unit, "ns");
  EXPECT_EQ(d[0].baseline_blocks, 6);
  EXPECT_EQ(d[0].candidate_blocks, 6);
  EXPECT_EQ(d[0].baseline_values, 6u * 3 * 2000 - 2000);  // the disturbed repetition left out
  EXPECT_EQ(d[0].candidate_values, 6u * 3 * 2000);
  EXPECT_EQ(d[0].reason, "");
  ASSERT_EQ(d[0].quantiles.size(), 4u);
  for (const analysis::QuantileComparison& q : d[0].quantiles) {
    ASSERT_EQ(q.baseline_blocks.size(), 6u) << q.quantile;
    // The disturbed repetition (100x slower) did not move its run's quantiles.
    EXPECT_LT(q.baseline_blocks[0], 10000) << q.quantile;
    // B is 20% slower in every block: the interval excludes 1 and holds ~1.2 (bucket error 3%).
    EXPECT_NEAR(q.ratio, 1.2, 0.05) << q.quantile;
    EXPECT_GT(q.ratio_lower, 1.0) << q.quantile;
    EXPECT_NEAR(q.p_value, 2.0 / 924, 1e-9) << q.quantile;  // exact, no overlap at 6 + 6
  }
  // p50 sits near the base, p99.9 in the 8x tail.
  EXPECT_NEAR(d[0].quantiles[0].baseline, 1030, 60);
  EXPECT_NEAR(d[0].quantiles[3].baseline, 8200, 500);
  // Curves from min to max of each side's merged histograms.
  ASSERT_EQ(d[0].baseline_curve.size(), d[0].curve_quantiles.size());
  EXPECT_EQ(d[0].baseline_curve.front(), 1000);
  EXPECT_EQ(d[0].candidate_curve.back(), 8 * (1200 + 12 * 5));
  EXPECT_TRUE(std::is_sorted(d[0].candidate_curve.begin(), d[0].candidate_curve.end()));
}

TEST(LatencyDistributionsTest, OneRunASideHasNoIntervalAndSaysWhy) {
  std::vector<store::StoredRunRecord> a = {LatencyRun(1, 1000, 6)};
  std::vector<store::StoredRunRecord> b = {LatencyRun(2, 1000, 6)};
  absl::StatusOr<KernelComparison> c = CollectComparison(a, b, ReplicationUnit::kRun);
  ASSERT_TRUE(c.ok()) << c.status();
  const std::vector<analysis::LatencyDistribution> d =
      CompareLatencyDistributions(a, b, *c, 0.95);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].baseline_blocks, 1);
  EXPECT_EQ(d[0].reason, "A: 1 run; B: 1 run; intervals need at least 2 runs per side");
  for (const analysis::QuantileComparison& q : d[0].quantiles) {
    EXPECT_TRUE(std::isnan(q.ratio));
    EXPECT_FALSE(std::isnan(q.baseline));
  }
}

TEST(LatencyDistributionsTest, AHistogramOneSideNeverRecorded) {
  std::vector<store::StoredRunRecord> a = {LatencyRun(1, 1000, 2), LatencyRun(2, 1000, 2)};
  std::vector<store::StoredRunRecord> b = {LatencyRun(3, 1000, 2), LatencyRun(4, 1000, 2)};
  for (store::StoredRunRecord& r : b) {
    for (v1::Repetition& rep : *r.result.mutable_repetitions()) rep.clear_histograms();
  }
  absl::StatusOr<KernelComparison> c = CollectComparison(a, b, ReplicationUnit::kRun);
  ASSERT_TRUE(c.ok()) << c.status();
  const std::vector<analysis::LatencyDistribution> d =
      CompareLatencyDistributions(a, b, *c, 0.95);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].candidate_blocks, 0);
  EXPECT_TRUE(d[0].candidate_curve.empty());
  EXPECT_EQ(d[0].reason, "B: not recorded");
}

}  // namespace
}  // namespace faultline::controller::runs
