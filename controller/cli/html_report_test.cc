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

TEST(HtmlReportTest, NoisyNoteSaysNoisyOnce) {
  v1::CompareResponse r;
  v1::MetricComparison noisy = Metric("ns_per_fault", v1::VERDICT_INCONCLUSIVE, 1.0);
  noisy.set_noisy(true);
  noisy.set_reason("noisy: robust CV 40.0% over 10.0%");
  *r.add_metrics() = noisy;
  v1::MetricComparison shifted = Metric("faults_per_sec", v1::VERDICT_REGRESSION, 0.7);
  shifted.set_noisy(true);
  shifted.set_reason("30% slower");
  *r.add_metrics() = shifted;
  const std::string html = RenderComparisonHtml(r, "a", "b");
  EXPECT_THAT(html, HasSubstr("<td>noisy: robust CV 40.0% over 10.0%</td>"));
  EXPECT_THAT(html, Not(HasSubstr("noisy; noisy")));
  EXPECT_THAT(html, HasSubstr("<td>noisy; 30% slower</td>"));
}

TEST(HtmlReportTest, OnePlotPerRegressedOrImprovedMetric) {
  v1::CompareResponse r;
  *r.add_metrics() = Metric("ns_per_fault", v1::VERDICT_REGRESSION, 1.3);
  *r.add_metrics() = Metric("faults_per_sec", v1::VERDICT_IMPROVEMENT, 0.8);
  *r.add_metrics() = Metric("pages_touched", v1::VERDICT_NO_CHANGE, 1.0);
  v1::MetricComparison inconclusive = Metric("cpu_ns", v1::VERDICT_INCONCLUSIVE, 1.0);
  inconclusive.set_ratio(NAN);
  *r.add_metrics() = inconclusive;
  const std::string html = RenderComparisonHtml(r, "kernel=stock", "kernel=<patched>");
  EXPECT_EQ(Count(html, "class=\"fl-plot\""), 2);
  EXPECT_EQ(Count(html, "<svg"), 2);
  // Every metric is in the table; text is escaped.
  EXPECT_THAT(html, HasSubstr("pages_touched"));
  EXPECT_THAT(html, HasSubstr("kernel=&lt;patched&gt;"));
  EXPECT_THAT(html, Not(HasSubstr("<patched>")));
  // Nothing fetched from anywhere.
  EXPECT_THAT(html, Not(HasSubstr("http://www.w3.org/1999")));
  EXPECT_THAT(html, Not(HasSubstr("src=")));
  EXPECT_THAT(html, Not(HasSubstr("href=")));
  // 10 dots per side per plot.
  EXPECT_EQ(Count(html, "<circle cx") - 2 /* ratio points */, 2 * 2 * 10);
}

TEST(HtmlReportTest, NoFlaggedMetricsSaysSo) {
  v1::CompareResponse r;
  *r.add_metrics() = Metric("ns_per_fault", v1::VERDICT_NO_CHANGE, 1.0);
  const std::string html = RenderComparisonHtml(r, "a", "b");
  EXPECT_EQ(Count(html, "fl-plot"), 0);
  EXPECT_THAT(html, HasSubstr("No metric regressed or improved."));
}

}  // namespace
}  // namespace faultline::controller::cli
