// The reports of `faultlinectl` end to end, over a real controller and three real agents on
// loopback, each on its own kernel label: `run ... --compare` (a campaign written on one command
// line, run interleaved and paired, then compared; its JSON parsed), the same with three kernels
// (one column per candidate), `compare` with --candidate twice over the stored runs, and
// `changepoints` over the stored history.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "proto/faultline/v1/analysis.pb.h"
#include "tests/testing/local_fleet.h"

namespace faultline {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const v1::MetricComparison* Find(const v1::CompareResponse& r, const std::string& metric) {
  for (const v1::MetricComparison& m : r.metrics()) {
    if (m.metric() == metric) return &m;
  }
  return nullptr;
}

int Campaigns(testing::LocalFleet& fleet) {
  testing::CommandResult list = fleet.Ctl({"list"});
  return static_cast<int>(std::count(list.output.begin(), list.output.end(), '\n')) - 1;
}

TEST(ReportsE2eTest, RunCompareKernelsAndChangePoints) {
  testing::LocalFleet fleet(testing::MakeTempDir("reports"));
  ASSERT_TRUE(fleet.StartController().ok()) << fleet.Logs();
  ASSERT_TRUE(fleet.StartAgent({"box-a", "stock", {}, ""}).ok()) << fleet.Logs();
  ASSERT_TRUE(fleet.StartAgent({"box-b", "patched/x", {}, ""}).ok()) << fleet.Logs();
  ASSERT_TRUE(fleet.StartAgent({"box-c", "patched/y", {}, ""}).ok()) << fleet.Logs();

  // Bad parameters are refused before anything is stored, naming the parameter.
  testing::CommandResult bad = fleet.Ctl({"run", "fault_anon", "threadz=1",
                                          "--on=kernel_label=stock", "--on=kernel_label=patched/x",
                                          "--compare"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.errors, HasSubstr("threadz: unknown parameter of fault_anon"));
  testing::CommandResult too_many = fleet.Ctl(
      {"run", "fault_anon", "threads=9999", "--on=kernel_label=stock", "--on=kernel=patched/x"});
  EXPECT_EQ(too_many.exit_code, 2);
  EXPECT_THAT(too_many.errors, HasSubstr("threads: 9999 is above the maximum"));
  testing::CommandResult no_agent = fleet.Ctl(
      {"run", "fault_anon", "--on=kernel_label=stock", "--on=kernel_label=patched/none"});
  EXPECT_EQ(no_agent.exit_code, 2);
  EXPECT_THAT(no_agent.errors, HasSubstr("--on #2: no registered agent matches"));
  testing::CommandResult bad_option = fleet.Ctl(
      {"run", "fault_anon", "--on=kernel_label=stock", "--on=kernel_label=patched/x", "--compare",
       "--fdr_level=2"});
  EXPECT_EQ(bad_option.exit_code, 2);
  EXPECT_THAT(bad_option.errors, HasSubstr("--fdr_level: 2 is not in (0, 1)"));
  EXPECT_EQ(Campaigns(fleet), 0);

  // Two kernels: one command line, interleaved and paired, compared; stdout is only the JSON.
  testing::CommandResult pair =
      fleet.Ctl({"run", "fault_anon", "region_mib=4", "--on", "kernel_label=stock",
                 "--on=kernel_label=patched/x", "--repetitions=5", "--compare", "--format=json"});
  ASSERT_EQ(pair.exit_code, 0) << pair.output << pair.errors << fleet.Logs();
  EXPECT_THAT(pair.errors, HasSubstr("5 repetitions on each of 2 targets, interleaved"));
  v1::CompareResponse response;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(pair.output, &response).ok())
      << pair.output;
  EXPECT_EQ(response.replication_unit(), v1::REPLICATION_UNIT_RUN);
  // One run per repetition, each a block.
  EXPECT_EQ(response.baseline_runs(), 5u);
  EXPECT_EQ(response.candidate_runs(), 5u);
  EXPECT_THAT(response.baseline_kernel_labels(), ElementsAre("stock"));
  EXPECT_THAT(response.candidate_kernel_labels(), ElementsAre("patched/x"));
  const v1::MetricComparison* ns = Find(response, "ns_per_fault");
  ASSERT_NE(ns, nullptr) << pair.output;
  EXPECT_EQ(ns->baseline_blocks(), 5u);
  EXPECT_EQ(ns->candidate_blocks(), 5u);
  EXPECT_EQ(ns->params().at("region_mib").int_value(), 4);
  EXPECT_NE(ns->verdict(), v1::VERDICT_UNSPECIFIED);
  EXPECT_FALSE(ns->reason().empty());
  EXPECT_EQ(Campaigns(fleet), 1);
  // fault_anon's latency histogram per quantile, five runs a side as blocks: intervals.
  ASSERT_EQ(response.distributions_size(), 1) << pair.output;
  const v1::DistributionComparison& latency = response.distributions(0);
  EXPECT_EQ(latency.histogram(), "fault_latency_ns");
  EXPECT_EQ(latency.unit(), "ns");
  EXPECT_EQ(latency.baseline_blocks(), 5u);
  EXPECT_EQ(latency.candidate_blocks(), 5u);
  // 4 MiB of 4 KiB pages, 4 passes, 5 repetitions.
  EXPECT_EQ(latency.baseline_values(), 1024u * 4 * 5);
  EXPECT_EQ(latency.reason(), "");
  ASSERT_EQ(latency.quantiles_size(), 4);
  double previous = 0;
  for (const v1::QuantileComparison& q : latency.quantiles()) {
    EXPECT_EQ(q.baseline_blocks_size(), 5) << q.quantile();
    EXPECT_GE(q.baseline(), previous) << q.quantile();
    previous = q.baseline();
    EXPECT_TRUE(std::isfinite(q.ratio())) << q.quantile();
    EXPECT_LE(q.ratio_lower(), q.ratio()) << q.quantile();
    EXPECT_GE(q.ratio_upper(), q.ratio()) << q.quantile();
    EXPECT_TRUE(q.p_value() > 0 && q.p_value() <= 1) << q.quantile();
  }
  EXPECT_EQ(latency.baseline_curve_size(), latency.curve_quantiles_size());
  // The same comparison as a table and an HTML page, from the stored runs.
  const std::string html = fleet.dir() + "/pair.html";
  testing::CommandResult pair_table = fleet.Ctl(
      {"compare", "--baseline=campaign=c-000001,target=stock",
       "--candidate=campaign=c-000001,target=patched/x", "--html=" + html});
  ASSERT_EQ(pair_table.exit_code, 0) << pair_table.errors;
  EXPECT_THAT(pair_table.output, HasSubstr("latency distributions: each run's histograms merged"));
  EXPECT_THAT(pair_table.output, HasSubstr("fault_latency_ns  p99.9"));
  std::ifstream page(html);
  const std::string page_text((std::istreambuf_iterator<char>(page)),
                              std::istreambuf_iterator<char>());
  EXPECT_THAT(page_text, HasSubstr("class=\"fl-quantiles\""));

  // Three kernels: a KernelsComparison, one candidate per further --on.
  testing::CommandResult three = fleet.Ctl(
      {"run", "fault_anon", "region_mib=8", "--on=kernel_label=stock",
       "--on=kernel_label=patched/x", "--on=kernel_label=patched/y", "--repetitions=5",
       "--compare", "--format=json"});
  ASSERT_EQ(three.exit_code, 0) << three.output << three.errors << fleet.Logs();
  v1::KernelsComparison kernels;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(three.output, &kernels).ok())
      << three.output;
  EXPECT_EQ(kernels.baseline_name(), "kernel_label=stock");
  ASSERT_EQ(kernels.candidates_size(), 2);
  EXPECT_EQ(kernels.candidates(1).name(), "kernel_label=patched/y");
  EXPECT_EQ(kernels.candidates(1).selector().target_name(), "patched/y");
  for (const v1::CandidateComparison& c : kernels.candidates()) {
    EXPECT_EQ(c.comparison().baseline_runs(), 5u) << c.name();
    EXPECT_EQ(c.comparison().candidate_runs(), 5u) << c.name();
    EXPECT_THAT(c.comparison().baseline_kernel_labels(), ElementsAre("stock"));
    EXPECT_THAT(c.comparison().candidate_kernel_labels(),
                ElementsAre(absl::StripPrefix(c.name(), "kernel_label=")));
    EXPECT_NE(Find(c.comparison(), "ns_per_fault"), nullptr) << c.name();
  }

  // The stored runs of three labels, compared at once: a column per candidate.
  const std::vector<std::string> sides = {"compare", "--baseline=kernel_label=stock",
                                          "--candidate=kernel_label=patched/x",
                                          "--candidate=kernel_label=patched/y"};
  testing::CommandResult table = fleet.Ctl(sides);
  ASSERT_EQ(table.exit_code, 0) << table.output << table.errors;
  std::printf("%s\n", table.output.c_str());
  EXPECT_THAT(table.output, HasSubstr("A: kernel_label=stock\nB1: kernel_label=patched/x\n"
                                      "B2: kernel_label=patched/y\n"));
  EXPECT_THAT(table.output, HasSubstr("B2 median change [95% CI] verdict"));
  EXPECT_THAT(table.output, HasSubstr("within B2's metrics"));
  // The baseline's warning, which every pair gives, is said once.
  const std::string one_boot = "warning: baseline: every run is from one boot of agent box-a";
  EXPECT_EQ(table.output.find(one_boot), table.output.rfind(one_boot)) << table.output;
  EXPECT_NE(table.output.find(one_boot), std::string::npos) << table.output;
  std::vector<std::string> csv_args = sides;
  csv_args.push_back("--format=csv");
  testing::CommandResult csv = fleet.Ctl(csv_args);
  ASSERT_EQ(csv.exit_code, 0) << csv.errors;
  const std::vector<std::string> lines = absl::StrSplit(csv.output, '\n', absl::SkipEmpty());
  ASSERT_GT(lines.size(), 2u);
  EXPECT_TRUE(absl::StartsWith(lines[0], "candidate,benchmark,")) << lines[0];
  int rows[2] = {0, 0};
  int metric_rows[2] = {0, 0};
  for (size_t i = 1; i < lines.size(); ++i) {
    for (int c = 0; c < 2; ++c) {
      const char* name = c == 0 ? "kernel_label=patched/x," : "kernel_label=patched/y,";
      if (!absl::StartsWith(lines[i], name)) continue;
      ++rows[c];
      if (absl::EndsWith(lines[i], ",metric")) ++metric_rows[c];
    }
  }
  // patched/x ran both invocations and patched/y one, but every candidate has a row for every
  // metric either side measured (profile rows need profiles on both sides).
  EXPECT_GT(metric_rows[0], 0);
  EXPECT_EQ(metric_rows[0], metric_rows[1]);
  EXPECT_EQ(rows[0] + rows[1] + 1, static_cast<int>(lines.size()));
  testing::CommandResult gate_two = fleet.Ctl(
      {"gate", "--baseline=kernel_label=stock", "--candidate=kernel_label=patched/x",
       "--candidate=kernel_label=patched/y", "--policy=/dev/null"});
  EXPECT_EQ(gate_two.exit_code, 3);
  EXPECT_THAT(gate_two.errors, HasSubstr("--candidate: a gate decides one candidate"));

  // The history: pages_touched doubles with region_mib from the second campaign on, a step
  // change at its first run (10 runs of the first campaign come before it).
  testing::CommandResult cp =
      fleet.Ctl({"changepoints", "fault_anon", "pages_touched", "--format=json"});
  ASSERT_EQ(cp.exit_code, 0) << cp.output << cp.errors;
  v1::ChangePointsResponse history;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(cp.output, &history).ok()) << cp.output;
  EXPECT_EQ(history.points_size(), 10 + 15);
  ASSERT_EQ(history.change_points_size(), 1) << cp.output;
  EXPECT_EQ(history.change_points(0).index(), 10u);
  EXPECT_NEAR(history.change_points(0).relative_change(), 1.0, 1e-9);
  EXPECT_EQ(history.direction(), v1::DIRECTION_NEUTRAL);
  // Narrowed to one kernel and one parameter set: one point per run, no change.
  testing::CommandResult one = fleet.Ctl({"changepoints", "fault_anon", "pages_touched",
                                          "--where=kernel_label=patched/y",
                                          "--params=region_mib=8"});
  ASSERT_EQ(one.exit_code, 0) << one.errors;
  EXPECT_THAT(one.output, HasSubstr(": 5 points, 0 change points"));
  testing::CommandResult by_kernel =
      fleet.Ctl({"changepoints", "fault_anon", "ns_per_fault", "--order=kernel"});
  ASSERT_EQ(by_kernel.exit_code, 0) << by_kernel.errors;
  EXPECT_THAT(by_kernel.output, HasSubstr(": 3 points"));
  // Errors name the flag or the field.
  testing::CommandResult where = fleet.Ctl(
      {"changepoints", "fault_anon", "pages_touched", "--where=campaign=c-000001"});
  EXPECT_EQ(where.exit_code, 2);
  EXPECT_THAT(where.errors, HasSubstr("--where: changepoints takes only"));
  testing::CommandResult order =
      fleet.Ctl({"changepoints", "fault_anon", "pages_touched", "--order=size"});
  EXPECT_EQ(order.exit_code, 2);
  EXPECT_THAT(order.errors, HasSubstr("--order"));
  testing::CommandResult missing = fleet.Ctl({"changepoints", "fault_anon"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.errors, HasSubstr("usage: faultlinectl changepoints BENCHMARK METRIC"));
}

}  // namespace
}  // namespace faultline
