#include "agent/bench/report_format.h"

#include "gtest/gtest.h"

namespace faultline::agent::bench {
namespace {

RunOutput TwoRepetitions() {
  RunOutput out;
  for (double v : {90.0, 110.0}) {
    RepetitionResult rep;
    rep.metrics.push_back({"ns_per_fault", v});
    rep.counters["rusage.minflt"] = 7;
    rep.unavailable_counters.push_back("vmstat.vma_lock_success");
    Histogram h;
    h.Record(1500);
    rep.histograms.emplace_back("fault_latency_ns", h);
    out.repetitions.push_back(rep);
  }
  return out;
}

TEST(ReportFormatTest, SummaryHasMeanAndCoefficientOfVariation) {
  MetricSummary s = Summarize(TwoRepetitions(), "ns_per_fault");
  EXPECT_EQ(s.count, 2);
  EXPECT_DOUBLE_EQ(s.mean, 100);
  EXPECT_NEAR(s.cv, 0.1414, 1e-3);
  EXPECT_EQ(Summarize(TwoRepetitions(), "missing").count, 0);
}

TEST(ReportFormatTest, JsonCarriesCountersAndUnavailableOnes) {
  const std::string json =
      RunOutputJson("fault_anon", {{"mode", std::string("thread")}}, TwoRepetitions());
  EXPECT_NE(json.find("\"rusage.minflt\":7"), std::string::npos) << json;
  EXPECT_NE(json.find("\"unavailable_counters\":[\"vmstat.vma_lock_success\"]"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("\"params\":{\"mode\":\"thread\"}"), std::string::npos) << json;
  EXPECT_NE(json.find("\"status\":\"ok\""), std::string::npos) << json;
}

TEST(ReportFormatTest, SkippedRunsSayWhy) {
  RunOutput out;
  out.status = RunStatus::kSkipped;
  out.diagnostic = "no swap";
  const std::string text = RunOutputText("fault_swapin", {}, out);
  EXPECT_NE(text.find("status: skipped"), std::string::npos) << text;
  EXPECT_NE(text.find("no swap"), std::string::npos) << text;
  const std::string json = RunOutputJson("fault_swapin", {}, out);
  EXPECT_NE(json.find("\"diagnostic\":\"no swap\""), std::string::npos) << json;
}

TEST(ReportFormatTest, JsonEscapesStrings) {
  RunOutput out;
  out.status = RunStatus::kFailed;
  out.diagnostic = "bad \"quote\"\n";
  EXPECT_NE(RunOutputJson("x", {}, out).find("bad \\\"quote\\\"\\n"), std::string::npos);
}

}  // namespace
}  // namespace faultline::agent::bench
