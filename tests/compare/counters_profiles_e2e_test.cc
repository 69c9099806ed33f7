// Counter and profile rows end to end: two real agents on this machine run fault_anon in an
// interleaved campaign (five runs a side of one measured, one tracing and one profiling
// repetition each), and
// `faultlinectl compare` shows, beside the metrics, the kernel's counters LKP-style (mmap_lock
// acquisitions per fault with its verdict, raw counts with their shift) and the kernel functions
// whose share of the samples changed most, in the table, the JSON, the CSV and the HTML alike;
// and `faultlinectl gate` gates on the per-fault mmap_lock figure.
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "proto/faultline/v1/analysis.pb.h"
#include "tests/testing/local_fleet.h"

namespace faultline {
namespace {

using ::testing::HasSubstr;

TEST(CountersProfilesE2eTest, CompareShowsCounterRowsAndProfileRows) {
  testing::LocalFleet fleet(testing::MakeTempDir("counters"));
  ASSERT_TRUE(fleet.StartController().ok()) << fleet.Logs();
  ASSERT_TRUE(fleet.StartAgent({"box-a", "stock/a", {}, ""}).ok()) << fleet.Logs();
  ASSERT_TRUE(fleet.StartAgent({"box-b", "stock/b", {}, ""}).ok()) << fleet.Logs();
  const std::string file = fleet.dir() + "/ab.textproto";
  std::ofstream(file) << R"(
name: "counters-and-profiles"
repetitions: 5
interleave: true
suite {
  benchmark: "fault_anon"
  warmup: 0
  trace_repetitions: 1
  profile_repetitions: 1
  params { key: "region_mib" value { int_value: 32 } }
  params { key: "passes" value { int_value: 2 } }
}
targets { name: "a" kernel_label: "stock/a" }
targets { name: "b" kernel_label: "stock/b" }
)";
  testing::CommandResult submit = fleet.Ctl({"submit", file, "--wait"});
  ASSERT_EQ(submit.exit_code, 0) << submit.output << submit.errors << fleet.Logs();
  const std::string campaign = submit.output.substr(0, submit.output.find('\n'));
  const std::string a = absl::StrCat("--baseline=campaign=", campaign, ",target=a");
  const std::string b = absl::StrCat("--candidate=campaign=", campaign, ",target=b");

  testing::CommandResult json = fleet.Ctl({"compare", a, b, "--format=json"});
  ASSERT_EQ(json.exit_code, 0) << json.errors;
  v1::CompareResponse response;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json.output, &response).ok())
      << json.output;
  EXPECT_EQ(response.baseline_runs(), 5u);
  // Raw counters are rows of their own: interleaved, each side is five runs of one repetition.
  bool minflt = false;
  for (const v1::MetricComparison& c : response.counters()) {
    EXPECT_EQ(c.direction(), v1::DIRECTION_NEUTRAL) << c.metric();
    EXPECT_FALSE(c.tested()) << c.metric();
    if (c.metric() != "rusage.minflt") continue;
    minflt = true;
    EXPECT_EQ(c.baseline_count(), 5u);
    EXPECT_EQ(c.baseline_blocks(), 5u);
    EXPECT_GT(c.baseline_mean(), 8192);  // 2 passes over 32 MiB of 4 KiB pages, at least
  }
  EXPECT_TRUE(minflt) << json.output;
  // Profile rows, unless this host cannot profile (then a warning says why).
  std::string no_profile;
  for (const std::string& w : response.warnings()) {
    if (absl::StrContains(w, "no kernel profile")) no_profile = w;
  }
  if (no_profile.empty()) {
    ASSERT_GT(response.profile_changes_size(), 0) << json.output;
    EXPECT_LE(response.profile_changes_size(), 15);
    for (const v1::ProfileChange& p : response.profile_changes()) {
      EXPECT_EQ(p.baseline_profiles(), 5u) << p.function();
      EXPECT_EQ(p.candidate_profiles(), 5u) << p.function();
      EXPECT_EQ(p.params().at("region_mib").int_value(), 32);
    }
  } else {
    EXPECT_EQ(response.profile_changes_size(), 0);
    std::printf("no profile on this host: %s\n", no_profile.c_str());
  }

  testing::CommandResult table = fleet.Ctl({"compare", a, b});
  ASSERT_EQ(table.exit_code, 0) << table.output << table.errors;
  std::printf("%s\n", table.output.c_str());
  EXPECT_THAT(table.output, HasSubstr("kernel counters (mean +-%stddev"));
  EXPECT_THAT(table.output, HasSubstr("rusage.minflt"));
  // The tracing repetition's per-fault figure is a counter row with a verdict.
  bool per_fault_row = false;
  std::istringstream lines(table.output);
  bool in_counters = false;
  for (std::string line; std::getline(lines, line);) {
    if (absl::StartsWith(line, "kernel counters")) in_counters = true;
    if (in_counters && absl::StrContains(line, "mmap_lock.faulter.acquisitions_per_fault")) {
      per_fault_row = absl::StrContains(line, "no_change") ||
                      absl::StrContains(line, "inconclusive") ||
                      absl::StrContains(line, "regression") ||
                      absl::StrContains(line, "improvement");
    }
  }
  // Tracing needs tracefs and root; without them the per-fault figure is unavailable.
  bool traced = false;
  for (const v1::MetricComparison& m : response.metrics()) {
    traced = traced || m.metric() == "mmap_lock.faulter.acquisitions_per_fault";
  }
  if (traced) {
    EXPECT_TRUE(per_fault_row) << table.output;
    // A gate on it: the same kernel takes mmap_lock the same number of times per fault (its
    // own mmap and munmap, the first fault of each region), so it passes; a rule that matched
    // no metric would be inconclusive, not a pass.
    const std::string policy = fleet.dir() + "/mmap_lock.policy";
    std::ofstream(policy) << "fault_anon  mmap_lock.faulter.acquisitions_per_fault  5%\n";
    testing::CommandResult gate = fleet.Ctl({"gate", a, b, "--policy=" + policy});
    std::printf("%s\n", gate.output.c_str());
    EXPECT_EQ(gate.exit_code, 0) << gate.output << gate.errors;
    EXPECT_THAT(gate.output, HasSubstr("mmap_lock.faulter.acquisitions_per_fault"));
    EXPECT_THAT(gate.output, HasSubstr("gate: pass"));
  }
  if (no_profile.empty()) {
    EXPECT_THAT(table.output, HasSubstr("kernel profile: the functions"));
  }

  testing::CommandResult csv = fleet.Ctl({"compare", a, b, "--format=csv"});
  ASSERT_EQ(csv.exit_code, 0) << csv.errors;
  EXPECT_THAT(csv.output, HasSubstr(",counter\n"));
  if (no_profile.empty()) {
    EXPECT_THAT(csv.output, HasSubstr(",profile\n"));
  }

  const std::string html_path = fleet.dir() + "/report.html";
  testing::CommandResult html = fleet.Ctl({"compare", a, b, "--html=" + html_path});
  ASSERT_EQ(html.exit_code, 0) << html.errors;
  std::ifstream in(html_path);
  const std::string page((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_THAT(page, HasSubstr("class=\"fl-counters\""));
  if (no_profile.empty()) {
    EXPECT_THAT(page, HasSubstr("class=\"fl-profile\""));
  }
}

}  // namespace
}  // namespace faultline
