#include "controller/analysis/report_text.h"

#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gtest/gtest.h"

namespace faultline::controller::analysis {
namespace {

MetricSamples Shifted(const std::string& metric, double factor) {
  MetricSamples m;
  m.benchmark = "fault_anon";
  m.metric = metric;
  m.baseline = {100, 101, 99, 100.5, 99.5, 100.2, 99.8, 100.1};
  for (double x : m.baseline) m.candidate.push_back(x * factor);
  return m;
}

TEST(ReportTextTest, ComparisonTableHasAlignedRowsAndVerdicts) {
  absl::StatusOr<SuiteComparison> c =
      CompareSuite({Shifted("ns_per_fault", 1.10), Shifted("ns_per_unmap", 1.0)});
  ASSERT_TRUE(c.ok()) << c.status();
  const std::string table = FormatComparisonTable(*c);
  const std::vector<std::string> lines = absl::StrSplit(table, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 4u) << table;
  EXPECT_EQ(lines[0].find("benchmark"), 0u);
  EXPECT_NE(lines[0].find("B/A [95% CI]"), std::string::npos);
  EXPECT_NE(lines[1].find("regression"), std::string::npos) << table;
  EXPECT_NE(lines[1].find("+10.0%"), std::string::npos) << table;
  EXPECT_NE(lines[2].find("no_change"), std::string::npos) << table;
  // Columns line up: the verdict column starts at the same offset on every row.
  EXPECT_EQ(lines[0].find("verdict"), lines[1].find("regression"));
  EXPECT_EQ(lines[0].find("verdict"), lines[2].find("no_change"));
  EXPECT_NE(lines[3].find("1 regression, 0 improvement, 1 no_change"), std::string::npos);
}

TEST(ReportTextTest, CounterTableShowsMechanismMetricsWithVerdictsAndRawCountersLkpStyle) {
  MetricSamples per_fault = Shifted("mmap_lock.contended.faulter.acquisitions_per_fault", 0.5);
  absl::StatusOr<SuiteComparison> metrics =
      CompareSuite({Shifted("ns_per_fault", 1.0), per_fault});
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  MetricSamples raw = Shifted("mmap_lock.contended.faulter.read_acquisitions", 0.5);
  raw.direction = MetricDirection::kNeutral;
  absl::StatusOr<SuiteComparison> counters = CompareSuite({raw});
  ASSERT_TRUE(counters.ok()) << counters.status();
  const std::string table = FormatCounterTable(*metrics, *counters);
  const std::vector<std::string> lines = absl::StrSplit(table, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 4u) << table;  // title, header, one mechanism metric, one counter
  EXPECT_NE(lines[1].find("%change"), std::string::npos);
  EXPECT_NE(lines[2].find("acquisitions_per_fault"), std::string::npos) << table;
  EXPECT_NE(lines[2].find("-50.0%"), std::string::npos) << table;
  EXPECT_NE(lines[2].find("improvement"), std::string::npos) << table;
  EXPECT_NE(lines[3].find("read_acquisitions"), std::string::npos) << table;
  EXPECT_NE(lines[3].find("shifted"), std::string::npos) << table;
  EXPECT_EQ(table.find(" ns_per_fault"), std::string::npos) << table;
  EXPECT_EQ(FormatCounterTable(SuiteComparison{}, SuiteComparison{}), "");
  EXPECT_TRUE(IsMechanismMetric("baseline.vmstat.vma_lock_retry_per_fault"));
  EXPECT_FALSE(IsMechanismMetric("fault_p99_ns"));
}

TEST(ReportTextTest, ProfileChangesShowSharesAndTheirChangeInPoints) {
  ProfileChange c;
  c.benchmark = "mmap_writer_contention";
  c.function = "lock_mm_and_find_vma";
  c.baseline_profiles = 5;
  c.candidate_profiles = 5;
  c.baseline_total_share = 0.312;
  c.candidate_total_share = 0.02;
  c.baseline_self_share = 0.011;
  c.candidate_self_share = 0.001;
  const std::string text = FormatProfileChanges({c});
  EXPECT_NE(text.find("31.2%"), std::string::npos) << text;
  EXPECT_NE(text.find("-29.2 pt"), std::string::npos) << text;
  EXPECT_NE(text.find("5/5"), std::string::npos) << text;
  EXPECT_EQ(FormatProfileChanges({}), "");
}

TEST(ReportTextTest, KernelsTableHasAColumnPerCandidate) {
  absl::StatusOr<SuiteComparison> b1 =
      CompareSuite({Shifted("ns_per_fault", 1.10), Shifted("ns_per_unmap", 1.0)});
  ASSERT_TRUE(b1.ok()) << b1.status();
  // The second candidate never measured ns_per_unmap.
  absl::StatusOr<SuiteComparison> b2 = CompareSuite({Shifted("ns_per_fault", 0.90)});
  ASSERT_TRUE(b2.ok()) << b2.status();
  const std::string table =
      FormatKernelsTable({"kernel_label=stock", "kernel_label=patched/x", "kernel_label=patched/y"},
                         {*b1, *b2});
  const std::vector<std::string> lines = absl::StrSplit(table, '\n', absl::SkipEmpty());
  ASSERT_GE(lines.size(), 9u) << table;
  EXPECT_EQ(lines[0], "A: kernel_label=stock");
  EXPECT_EQ(lines[1], "B1: kernel_label=patched/x");
  EXPECT_EQ(lines[2], "B2: kernel_label=patched/y");
  EXPECT_NE(lines[3].find("B1 median change [95% CI] verdict"), std::string::npos) << table;
  EXPECT_NE(lines[3].find("B2 median change [95% CI] verdict"), std::string::npos) << table;
  // ns_per_fault: B1 a 10% regression, B2 a 10% improvement, in their own columns.
  EXPECT_EQ(lines[4].find("fault_anon"), 0u) << table;
  const size_t b1_column = lines[3].find("B1 median");
  const size_t b2_column = lines[3].find("B2 median");
  EXPECT_EQ(lines[4].find("110.1 +10.0% [+9.2, +10.8] regression"), b1_column) << table;
  EXPECT_NE(lines[4].find("regression"), std::string::npos) << table;
  EXPECT_EQ(lines[4].find("90.05 -10.0% [-10.6, -9.4] improvement"), b2_column) << table;
  EXPECT_NE(lines[4].find("improvement"), std::string::npos) << table;
  // ns_per_unmap: no change for B1, absent for B2.
  EXPECT_NE(lines[5].find("no_change"), std::string::npos) << table;
  EXPECT_EQ(lines[5].substr(b2_column), "-") << table;
  EXPECT_NE(table.find("B1: 1 regression, 0 improvement, 1 no_change, 0 inconclusive (FDR 0.01 "
                       "within B1's metrics"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("    B2 fault_anon ns_per_fault: improvement: "), std::string::npos)
      << table;
  EXPECT_EQ(table.find("B1 fault_anon ns_per_unmap"), std::string::npos) << table;
}

TEST(ReportTextTest, DistributionTableHasARowPerQuantile) {
  LatencyDistribution d;
  d.benchmark = "fault_anon";
  d.histogram = "fault_latency_ns";
  d.unit = "ns";
  d.baseline_blocks = d.candidate_blocks = 5;
  for (double quantile : kReportedQuantiles) {
    QuantileComparison q;
    q.quantile = quantile;
    q.baseline_blocks = {1000, 1010, 990, 1005, 995};
    for (double v : q.baseline_blocks) q.candidate_blocks.push_back(v * 1.1);
    CompareQuantileBlocks(0.95, "run", &q);
    d.quantiles.push_back(q);
  }
  const std::string table = FormatDistributionTable({d}, 0.95, "run");
  EXPECT_NE(table.find("(reported, not tested)"), std::string::npos) << table;
  EXPECT_NE(table.find("B/A [95% CI]"), std::string::npos) << table;
  EXPECT_NE(table.find("runs A/B"), std::string::npos) << table;
  EXPECT_NE(table.find("fault_anon  fault_latency_ns  p99.9     ns    1000  1100  1.100 ["),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("+10.0%"), std::string::npos) << table;
  EXPECT_EQ(FormatDistributionTable({}, 0.95, "run"), "");
}

TEST(ReportTextTest, GateResultShowsFailuresAndExitCode) {
  GatePolicy policy;
  policy.rules.push_back(GateRule{"fault_anon", "ns_per_*", 0.05, 0.95});
  absl::StatusOr<GateResult> g =
      EvaluateGate(policy, {Shifted("ns_per_fault", 1.10), Shifted("ns_per_unmap", 1.0)});
  ASSERT_TRUE(g.ok()) << g.status();
  const std::string text = FormatGateResult(*g);
  EXPECT_NE(text.find("fail         fault_anon / ns_per_*"), std::string::npos) << text;
  EXPECT_NE(text.find("fault_anon/ns_per_fault: over budget"), std::string::npos) << text;
  EXPECT_EQ(text.find("ns_per_unmap"), std::string::npos) << text;  // passes are not listed
  EXPECT_NE(text.find("gate: fail (exit 1)"), std::string::npos) << text;
}

}  // namespace
}  // namespace faultline::controller::analysis
