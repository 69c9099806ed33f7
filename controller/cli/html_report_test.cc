#include "controller/cli/html_report.h"

#include <cmath>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace faultline::controller::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

int Count(const std::string& text, const std::string& needle) {
  int n = 0;
  for (size_t pos = text.find(needle); pos != std::string::npos;
       pos = text.find(needle, pos + 1)) {
    ++n;
  }
  return n;
}

v1::MetricComparison Metric(const std::string& name, v1::Verdict verdict, double shift) {
  v1::MetricComparison m;
  m.set_benchmark("fault_anon");
  m.set_metric(name);
  m.set_unit("ns");
  m.set_verdict(verdict);
  for (int i = 0; i < 10; ++i) {
    m.add_baseline_samples(1000 + i);
    m.add_candidate_samples((1000 + i) * shift);
  }
  m.set_ratio(shift);
  m.set_ratio_lower(shift * 0.99);
  m.set_ratio_upper(shift * 1.01);
  return m;
}

TEST(HtmlReportTest, EveryMetricIsPlottedWithItsBlocks) {
  v1::CompareResponse r;
  r.mutable_options()->set_min_effect(0);
  *r.add_metrics() = Metric("ns_per_fault", v1::VERDICT_REGRESSION, 1.3);
  *r.add_metrics() = Metric("faults_per_sec", v1::VERDICT_IMPROVEMENT, 0.8);
  *r.add_metrics() = Metric("pages_touched", v1::VERDICT_NO_CHANGE, 1.0);
  v1::MetricComparison inconclusive = Metric("cpu_ns", v1::VERDICT_INCONCLUSIVE, 1.0);
  inconclusive.set_ratio(NAN);
  inconclusive.set_noisy(true);
  inconclusive.set_reason("noisy: robust CV 12.0% over 10.0% across runs");
  // Two runs of 5 repetitions per side: one ring per run.
  for (int i = 0; i < 10; ++i) {
    inconclusive.add_baseline_sample_blocks(i / 5);
    inconclusive.add_candidate_sample_blocks(i / 5);
  }
  *r.add_metrics() = inconclusive;
  const std::string html = RenderComparisonHtml(r, "kernel=stock", "kernel=<patched>");
  EXPECT_EQ(Count(html, "class=\"fl-plot\""), 4);
  EXPECT_EQ(Count(html, "<svg"), 4);
  EXPECT_EQ(Count(html, "class=\"fl-block\""), 4);
  // Every metric is in the table; text is escaped.
  EXPECT_THAT(html, HasSubstr("pages_touched"));
  EXPECT_THAT(html, HasSubstr("kernel=&lt;patched&gt;"));
  EXPECT_THAT(html, Not(HasSubstr("<patched>")));
  // The reason once, not prefixed by another "noisy".
  EXPECT_EQ(Count(html, "noisy"), 1);
  // Nothing fetched from anywhere.
  EXPECT_THAT(html, Not(HasSubstr("http://www.w3.org/1999")));
  EXPECT_THAT(html, Not(HasSubstr("src=")));
  EXPECT_THAT(html, Not(HasSubstr("href=")));
  // 10 dots per side per plot, one ratio point per plot with a ratio, one ring per block.
  EXPECT_EQ(Count(html, "<circle cx"), 4 * 2 * 10 + 3);
  // The minimum-effect band is the one asked for, 0 included.
  EXPECT_THAT(html, HasSubstr("minimum effect 0%"));
}

TEST(HtmlReportTest, CountersAndProfileChangesHaveTablesOfTheirOwn) {
  v1::CompareResponse r;
  *r.add_metrics() = Metric("ns_per_fault", v1::VERDICT_NO_CHANGE, 1.0);
  v1::MetricComparison mechanism =
      Metric("mmap_lock.contended.faulter.acquisitions_per_fault", v1::VERDICT_IMPROVEMENT, 0.01);
  mechanism.set_baseline_count(10);
  mechanism.set_candidate_count(10);
  mechanism.set_baseline_mean(1.0);
  mechanism.set_candidate_mean(0.01);
  *r.add_metrics() = mechanism;
  v1::MetricComparison counter = Metric("rusage.majflt", v1::VERDICT_NO_CHANGE, 1.0);
  counter.set_shifted(true);
  *r.add_counters() = counter;
  v1::ProfileChange* p = r.add_profile_changes();
  p->set_benchmark("fault_anon");
  p->set_function("lock_mm_and_find_vma");
  p->set_baseline_total_share(0.3);
  p->set_candidate_total_share(0.01);
  const std::string html = RenderComparisonHtml(r, "stock", "patched");
  const size_t counters = html.find("<table class=\"fl-counters\">");
  ASSERT_NE(counters, std::string::npos) << html;
  const std::string table = html.substr(counters, html.find("</table>", counters) - counters);
  EXPECT_THAT(table, HasSubstr("mmap_lock.contended.faulter.acquisitions_per_fault"));
  EXPECT_THAT(table, HasSubstr("-99.0%"));
  EXPECT_THAT(table, HasSubstr("improvement"));
  EXPECT_THAT(table, HasSubstr("rusage.majflt"));
  EXPECT_THAT(table, HasSubstr("shifted"));
  EXPECT_THAT(table, Not(HasSubstr(">ns_per_fault<")));
  EXPECT_THAT(html, HasSubstr("<table class=\"fl-profile\">"));
  EXPECT_THAT(html, HasSubstr("<td>lock_mm_and_find_vma</td><td>30.0%</td><td>1.0%</td>"
                              "<td>-29.0 pt</td>"));
  // Neither table without rows.
  v1::CompareResponse plain;
  *plain.add_metrics() = Metric("ns_per_fault", v1::VERDICT_NO_CHANGE, 1.0);
  EXPECT_THAT(RenderComparisonHtml(plain, "a", "b"), Not(HasSubstr("fl-counters")));
  EXPECT_THAT(RenderComparisonHtml(plain, "a", "b"), Not(HasSubstr("fl-profile")));
}

TEST(HtmlReportTest, ASideThatNeverMeasuredAMetricSaysSo) {
  v1::CompareResponse r;
  v1::MetricComparison m = Metric("vma_lock_retries", v1::VERDICT_INCONCLUSIVE, 1.0);
  m.set_baseline_count(10);
  m.clear_candidate_samples();
  *r.add_metrics() = m;
  const std::string html = RenderComparisonHtml(r, "a", "b");
  EXPECT_EQ(Count(html, "not measured"), 2);  // B's median and mean cells
  EXPECT_EQ(Count(html, "fl-plot"), 1);
}

TEST(HtmlReportTest, SeveralKernelsHaveAColumnEachAndEveryPairPlotted) {
  v1::KernelsComparison k;
  k.set_baseline_name("kernel_label=stock");
  const double shifts[] = {1.3, 1.0, 0.8};
  const v1::Verdict verdicts[] = {v1::VERDICT_REGRESSION, v1::VERDICT_NO_CHANGE,
                                  v1::VERDICT_IMPROVEMENT};
  for (int i = 0; i < 3; ++i) {
    v1::CandidateComparison* c = k.add_candidates();
    c->set_name("kernel_label=patched/" + std::to_string(i));
    *c->mutable_comparison()->add_metrics() = Metric("ns_per_fault", verdicts[i], shifts[i]);
    *c->mutable_comparison()->add_metrics() = Metric("pages_touched", v1::VERDICT_NO_CHANGE, 1);
  }
  // The last candidate never measured pages_touched.
  k.mutable_candidates(2)->mutable_comparison()->mutable_metrics()->RemoveLast();
  const std::string html = RenderKernelsHtml(k);
  EXPECT_EQ(Count(html, "class=\"fl-kernels\""), 1);
  EXPECT_THAT(html, HasSubstr("<th>B3 verdict</th>"));
  // One summary row per metric; ns_per_fault's cells in candidate order.
  EXPECT_THAT(html, HasSubstr("+30.0% [+28.7, +31.3]</td><td class=\"regression\""));
  EXPECT_THAT(html, HasSubstr("-20.0% [-20.8, -19.2]</td><td class=\"improvement\""));
  EXPECT_THAT(html, HasSubstr("<td>-</td><td>-</td><td>-</td></tr>"));
  // Each pair's section with its plots: 2 + 2 + 1, ids unique.
  EXPECT_EQ(Count(html, "class=\"fl-plot\""), 5);
  EXPECT_THAT(html, HasSubstr("id=\"plot-b3-0\""));
  EXPECT_EQ(Count(html, "id=\"plot-b1-0\""), 1);
  EXPECT_THAT(html, Not(HasSubstr("href=")));
}

v1::DistributionComparison Distribution(int blocks) {
  v1::DistributionComparison d;
  d.set_benchmark("fault_anon");
  d.set_histogram("fault_latency_ns");
  d.set_unit("ns");
  d.set_baseline_blocks(blocks);
  d.set_candidate_blocks(blocks);
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    v1::QuantileComparison* pq = d.add_quantiles();
    pq->set_quantile(q);
    pq->set_baseline(1000 / (1 - q));
    pq->set_candidate(1100 / (1 - q));
    pq->set_ratio(1.1);
    pq->set_ratio_lower(1.05);
    pq->set_ratio_upper(1.15);
    pq->set_p_value(0.008);
    for (int b = 0; b < blocks; ++b) {
      pq->add_baseline_blocks(1000 / (1 - q) + b);
      pq->add_candidate_blocks(1100 / (1 - q) + b);
    }
  }
  for (int i = 0; i <= 24; ++i) {
    const double q = 1 - std::pow(10.0, -i / 8.0);
    d.add_curve_quantiles(q);
    d.add_baseline_curve(1000 / (1 - q + 0.0005));
    d.add_candidate_curve(1100 / (1 - q + 0.0005));
  }
  return d;
}

TEST(HtmlReportTest, LatencyDistributionsHaveATableAndQuantileCurves) {
  v1::CompareResponse r;
  r.set_replication_unit(v1::REPLICATION_UNIT_BOOT);
  *r.add_metrics() = Metric("ns_per_fault", v1::VERDICT_REGRESSION, 1.1);
  *r.add_distributions() = Distribution(5);
  v1::DistributionComparison fork = Distribution(1);
  fork.set_benchmark("fork_mapped");
  fork.set_histogram("fork_latency_ns");
  fork.set_reason("A: 1 boot; B: 1 boot; intervals need at least 2 boots per side");
  fork.clear_candidate_curve();
  *r.add_distributions() = fork;
  const std::string html = RenderComparisonHtml(r, "a", "b");
  EXPECT_EQ(Count(html, "class=\"fl-distributions\""), 1);
  EXPECT_THAT(html, HasSubstr("Each boot's histograms merged, one value per boot and quantile"));
  EXPECT_THAT(html, HasSubstr("<th>boots A/B</th>"));
  EXPECT_THAT(html, HasSubstr("<td>p99.9</td>"));
  EXPECT_THAT(html, HasSubstr("intervals need at least 2 boots per side"));
  EXPECT_EQ(Count(html, "class=\"fl-quantiles\""), 2);
  // Two curves for fault_anon, one for fork_mapped (its candidate recorded nothing).
  EXPECT_EQ(Count(html, "class=\"fl-curve\""), 3);
  EXPECT_EQ(Count(html, "<svg"), 3);
  // Every block's value at each of the four quantiles, per side: 5 * 4 * 2 + 1 * 4 * 2.
  EXPECT_EQ(Count(html, "r=\"2.5\""), 40 + 8);
  EXPECT_THAT(html, Not(HasSubstr("nan")));
}

}  // namespace
}  // namespace faultline::controller::cli
