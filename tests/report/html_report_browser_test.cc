// The HTML report in a real browser: chromium --headless loads the file from disk (no network),
// dumps the DOM it built, and logs console messages to stderr. The page must load without
// errors and hold exactly one plot per metric, flagged or not.
#include <unistd.h>

#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "controller/analysis/compare.h"
#include "controller/analysis/latency_quantiles.h"
#include "controller/cli/html_report.h"
#include "controller/service/analysis_proto.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/subprocess.h"

namespace faultline {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kChromium[] = "/usr/bin/chromium";

int Count(const std::string& text, const std::string& needle) {
  int n = 0;
  for (size_t pos = text.find(needle); pos != std::string::npos;
       pos = text.find(needle, pos + 1)) {
    ++n;
  }
  return n;
}

struct BrowserResult {
  int exit_code = -1;
  std::string dom;
  std::string log;
};

BrowserResult LoadInChromium(const std::string& html_path, const std::string& dir) {
  const std::string profile = testing::MakeTempDir("chromium-profile");
  // HOME and XDG dirs inside the test's temp dir: the sandbox's HOME is not writable.
  setenv("HOME", dir.c_str(), 1);
  setenv("XDG_CONFIG_HOME", dir.c_str(), 1);
  setenv("XDG_CACHE_HOME", dir.c_str(), 1);
  testing::CommandResult r = testing::RunCommand(
      {kChromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
       "--disable-component-update", "--disable-sync", "--no-first-run",
       "--disable-dev-shm-usage", "--user-data-dir=" + profile, "--enable-logging=stderr",
       "--v=0", "--dump-dom", "file://" + html_path},
      absl::Seconds(90));
  return {r.exit_code, r.output, r.errors};
}

// A 6-metric comparison through the real statistics: two regress, one improves, three do not.
v1::CompareResponse Comparison() {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> noise(0, 0.01);
  std::vector<controller::analysis::MetricSamples> inputs;
  const std::vector<std::pair<std::string, double>> shifts = {
      {"ns_per_fault", 1.30}, {"fork_ns", 1.10}, {"munmap_ns", 0.80},
      {"faults_per_sec_neutral", 1.0}, {"cpu_ns", 1.0}, {"minflt", 1.005}};
  for (const auto& [name, shift] : shifts) {
    controller::analysis::MetricSamples m;
    m.benchmark = "fault_anon";
    m.metric = name;
    m.unit = "ns";
    for (int i = 0; i < 12; ++i) {  // 6 runs of 2 repetitions per side
      m.baseline.push_back(1000 * (1 + noise(rng)));
      m.candidate.push_back(1000 * shift * (1 + noise(rng)));
      m.baseline_blocks.push_back(i / 2);
      m.candidate_blocks.push_back(i / 2);
    }
    inputs.push_back(m);
  }
  absl::StatusOr<controller::analysis::SuiteComparison> suite =
      controller::analysis::CompareSuite(inputs);
  EXPECT_TRUE(suite.ok()) << suite.status();
  v1::CompareResponse response;
  *response.mutable_options() = controller::service::CompareOptionsToProto(suite->options);
  for (size_t i = 0; i < suite->metrics.size(); ++i) {
    v1::MetricComparison* m = response.add_metrics();
    controller::service::MetricComparisonToProto(suite->metrics[i], m);
    for (double v : inputs[i].baseline) m->add_baseline_samples(v);
    for (double v : inputs[i].candidate) m->add_candidate_samples(v);
    for (int b : inputs[i].baseline_blocks) m->add_baseline_sample_blocks(b);
    for (int b : inputs[i].candidate_blocks) m->add_candidate_sample_blocks(b);
  }
  response.set_regressions(suite->regressions);
  response.set_improvements(suite->improvements);
  response.set_no_change(suite->no_change);
  response.set_inconclusive(suite->inconclusive);
  response.set_baseline_host_class("x86_64-epyc-2cpu");
  response.set_candidate_host_class("x86_64-epyc-2cpu");
  return response;
}

TEST(HtmlReportBrowserTest, LoadsWithoutErrorsWithOnePlotPerMetric) {
  ASSERT_EQ(access(kChromium, X_OK), 0)
      << kChromium << " is missing: run bazel/install_deps.sh --test (installs chromium)";
  const v1::CompareResponse response = Comparison();
  int flagged = 0;
  for (const auto& m : response.metrics()) {
    if (m.verdict() == v1::VERDICT_REGRESSION || m.verdict() == v1::VERDICT_IMPROVEMENT) {
      ++flagged;
    }
  }
  ASSERT_EQ(flagged, 3) << "the fixture should flag two regressions and one improvement";

  const std::string dir = testing::MakeTempDir("html-report");
  const std::string path = dir + "/report.html";
  std::ofstream(path) << controller::cli::RenderComparisonHtml(response, "kernel_label=stock",
                                                               "kernel_label=patched/<v3>");
  BrowserResult browser = LoadInChromium(path, dir);
  ASSERT_EQ(browser.exit_code, 0) << browser.log;
  // The browser built the document (not an error page) with one figure and one SVG per
  // metric, each with both sides' 12 repetitions, their 6 runs' medians and the ratio drawn.
  const int metrics = response.metrics_size();
  EXPECT_THAT(browser.dom, HasSubstr("<h1>faultline comparison</h1>"));
  EXPECT_EQ(Count(browser.dom, "class=\"fl-plot\""), metrics) << browser.dom;
  EXPECT_EQ(Count(browser.dom, "<svg"), metrics);
  EXPECT_EQ(Count(browser.dom, "class=\"fl-ci\""), metrics);
  EXPECT_EQ(Count(browser.dom, "class=\"fl-block\""), metrics * 2 * 6);
  EXPECT_EQ(Count(browser.dom, "<circle"), metrics * (2 * 12 + 2 * 6 + 1));
  EXPECT_THAT(browser.dom, HasSubstr("patched/&lt;v3&gt;"));
  // No console errors, uncaught exceptions or blocked loads.
  EXPECT_THAT(browser.log, Not(HasSubstr("Uncaught")));
  EXPECT_THAT(browser.log, Not(HasSubstr(":CONSOLE(")));
  EXPECT_THAT(browser.log, Not(HasSubstr("net::ERR_")));
}

// A latency histogram's distribution through the real block statistics: 6 blocks a side, B's
// tail 10% longer.
v1::DistributionComparison Distribution() {
  controller::analysis::LatencyDistribution d;
  d.benchmark = "fault_anon";
  d.histogram = "fault_latency_ns";
  d.unit = "ns";
  d.baseline_blocks = d.candidate_blocks = 6;
  d.curve_quantiles = controller::analysis::CurveQuantiles();
  for (double q : d.curve_quantiles) {
    d.baseline_curve.push_back(1000 + 30000 * q * q * q);
    d.candidate_curve.push_back(1000 + 33000 * q * q * q);
  }
  for (double quantile : controller::analysis::kReportedQuantiles) {
    controller::analysis::QuantileComparison q;
    q.quantile = quantile;
    for (int b = 0; b < 6; ++b) {
      q.baseline_blocks.push_back((1000 + 30000 * quantile * quantile * quantile) * (1 + b / 100.0));
      q.candidate_blocks.push_back((1000 + 33000 * quantile * quantile * quantile) * (1 + b / 90.0));
    }
    controller::analysis::CompareQuantileBlocks(0.95, "run", &q);
    d.quantiles.push_back(q);
  }
  v1::DistributionComparison out;
  controller::service::DistributionToProto(d, &out);
  return out;
}

TEST(HtmlReportBrowserTest, SeveralKernelsAndQuantileCurvesLoadWithoutErrors) {
  ASSERT_EQ(access(kChromium, X_OK), 0)
      << kChromium << " is missing: run bazel/install_deps.sh --test (installs chromium)";
  v1::KernelsComparison kernels;
  kernels.set_baseline_name("kernel_label=stock");
  for (const char* name : {"kernel_label=patched/v2", "kernel_label=patched/v3"}) {
    v1::CandidateComparison* c = kernels.add_candidates();
    c->set_name(name);
    *c->mutable_comparison() = Comparison();
    *c->mutable_comparison()->add_distributions() = Distribution();
  }
  const int metrics = kernels.candidates(0).comparison().metrics_size();
  const std::string dir = testing::MakeTempDir("html-kernels");
  const std::string path = dir + "/kernels.html";
  std::ofstream(path) << controller::cli::RenderKernelsHtml(kernels);
  BrowserResult browser = LoadInChromium(path, dir);
  ASSERT_EQ(browser.exit_code, 0) << browser.log;
  EXPECT_EQ(Count(browser.dom, "class=\"fl-kernels\""), 1);
  // Every pair's metrics plotted, and each pair's histogram as two quantile curves.
  EXPECT_EQ(Count(browser.dom, "class=\"fl-plot\""), 2 * metrics) << browser.dom;
  EXPECT_EQ(Count(browser.dom, "class=\"fl-quantiles\""), 2);
  EXPECT_EQ(Count(browser.dom, "class=\"fl-curve\""), 4);
  EXPECT_EQ(Count(browser.dom, "<svg"), 2 * metrics + 2);
  EXPECT_EQ(Count(browser.dom, "class=\"fl-distributions\""), 2);
  EXPECT_THAT(browser.dom, Not(HasSubstr("NaN")));
  EXPECT_THAT(browser.log, Not(HasSubstr("Uncaught")));
  EXPECT_THAT(browser.log, Not(HasSubstr(":CONSOLE(")));
  EXPECT_THAT(browser.log, Not(HasSubstr("net::ERR_")));
}

TEST(HtmlReportBrowserTest, BrokenPageIsCaught) {
  // The checks above can fail: a page with a script error is reported in the log.
  ASSERT_EQ(access(kChromium, X_OK), 0) << kChromium << " is missing";
  const std::string dir = testing::MakeTempDir("html-broken");
  const std::string path = dir + "/broken.html";
  std::ofstream(path) << "<!DOCTYPE html><html><body><figure class=\"fl-plot\"></figure>"
                         "<script>undefinedFunction();</script></body></html>";
  BrowserResult browser = LoadInChromium(path, dir);
  EXPECT_EQ(Count(browser.dom, "class=\"fl-plot\""), 1);
  EXPECT_THAT(browser.log, HasSubstr("Uncaught"));
}

}  // namespace
}  // namespace faultline
