// End to end: a real controller on a SQLite file and two real agents on loopback; campaigns go
// in through faultlinectl, results come back through the API and the CLI's exports.
#include <sqlite3.h>
#include <sys/utsname.h>

#include <fstream>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/testing/local_fleet.h"

namespace faultline {
namespace {

using ::testing::HasSubstr;
using testing::LocalFleet;

std::string WriteFile(const std::string& dir, const std::string& name, const std::string& text) {
  const std::string path = dir + "/" + name;
  std::ofstream(path) << text;
  return path;
}

// Row count of every table: "the database is as it was" means all of these are unchanged.
std::map<std::string, int64_t> TableCounts(const std::string& db_path) {
  std::map<std::string, int64_t> counts;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    return counts;
  }
  std::vector<std::string> tables;
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type = 'table'", -1, &stmt,
                     nullptr);
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    tables.push_back(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
  }
  sqlite3_finalize(stmt);
  for (const std::string& table : tables) {
    const std::string sql = absl::StrCat("SELECT count(*) FROM \"", table, "\"");
    sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr);
    if (sqlite3_step(stmt) == SQLITE_ROW) counts[table] = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return counts;
}

class CampaignE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fleet_ = std::make_unique<LocalFleet>(testing::MakeTempDir("e2e"));
    ASSERT_TRUE(fleet_->StartController().ok()) << fleet_->Logs();
    ASSERT_TRUE(fleet_->StartAgent({"box-stock", "stock", {}, ""}).ok()) << fleet_->Logs();
    ASSERT_TRUE(fleet_->StartAgent({"box-patched", "patched/mmap-lock-v3", {}, ""}).ok())
        << fleet_->Logs();
  }

  std::vector<v1::StoredRun> Results(const std::string& campaign_id) {
    v1::QueryResultsRequest request;
    request.set_campaign_id(campaign_id);
    v1::QueryResultsResponse response;
    grpc::ClientContext ctx;
    EXPECT_TRUE(fleet_->stub()->QueryResults(&ctx, request, &response).ok());
    return {response.runs().begin(), response.runs().end()};
  }

  std::unique_ptr<LocalFleet> fleet_;
};

TEST_F(CampaignE2eTest, StoredResultsMatchWhatWasRequested) {
  const std::string file = WriteFile(fleet_->dir(), "ab.textproto", R"(
name: "e2e-ab"
repetitions: 3
suite {
  benchmark: "fault_anon"
  warmup: 1
  params { key: "region_mib" value { int_value: 8 } }
}
targets { name: "stock" kernel_label: "stock" }
targets { name: "patched" kernel_label: "patched/*" }
)");
  testing::CommandResult submit = fleet_->Ctl({"submit", file, "--wait"});
  ASSERT_EQ(submit.exit_code, 0) << submit.output << submit.errors << fleet_->Logs();
  const std::string campaign_id =
      std::string(absl::StripAsciiWhitespace(submit.output.substr(0, submit.output.find('\n'))));
  ASSERT_THAT(campaign_id, HasSubstr("c-"));
  // --wait prints the results table after the progress.
  EXPECT_THAT(submit.output, HasSubstr("ns_per_fault"));
  EXPECT_THAT(submit.errors, HasSubstr("SUCCEEDED"));

  utsname uts;
  ASSERT_EQ(uname(&uts), 0);
  std::vector<v1::StoredRun> runs = Results(campaign_id);
  ASSERT_EQ(runs.size(), 2u) << fleet_->Logs();
  std::map<std::string, std::string> label_by_target;
  for (const v1::StoredRun& run : runs) {
    const v1::RunResult& r = run.result();
    label_by_target[run.target_name()] = r.host().kernel_label();
    EXPECT_EQ(r.state(), v1::RUN_STATE_OK) << r.diagnostic();
    EXPECT_EQ(r.benchmark(), "fault_anon");
    EXPECT_EQ(r.params().at("region_mib").int_value(), 8);
    EXPECT_EQ(r.warmup(), 1u);
    ASSERT_EQ(r.repetitions_size(), 3);
    // The fingerprint is the real host's.
    EXPECT_EQ(r.host().kernel_release(), uts.release);
    EXPECT_EQ(r.host().kernel_version(), uts.version);
    EXPECT_EQ(r.host().arch(), std::string(uts.machine) == "aarch64" ? v1::ARCH_ARM64
                                                                      : v1::ARCH_X86_64);
    EXPECT_GT(r.host().cpu_count(), 0u);
    EXPECT_GT(r.host().memory_bytes(), 0u);
    const int64_t pages = 8ll * 1024 * 1024 / r.host().page_size();
    for (const v1::Repetition& rep : r.repetitions()) {
      std::map<std::string, double> metrics;
      for (const auto& m : rep.metrics()) metrics[m.name()] = m.value();
      EXPECT_GT(metrics["ns_per_fault"], 0);
      EXPECT_GT(metrics["faults_per_sec"], 0);
      // Each pass over the region touches every page once, and each touch is one minor
      // fault (THP may fold some into fewer; the runner adds a handful of its own).
      const int64_t passes = r.params().at("passes").int_value();
      EXPECT_EQ(metrics["pages_touched"], passes * pages);
      ASSERT_TRUE(rep.counters().count("rusage.minflt"));
      EXPECT_LE(rep.counters().at("rusage.minflt"), passes * pages * 102 / 100 + 64);
    }
  }
  EXPECT_EQ(label_by_target["stock"], "stock");
  EXPECT_EQ(label_by_target["patched"], "patched/mmap-lock-v3");

  // CSV export: one row per (run, repetition, metric) plus the header; a run's tracing
  // repetitions (mmap_lock figures, where the host can trace) are rows too.
  testing::CommandResult csv =
      fleet_->Ctl({"results", "--campaign=" + campaign_id, "--format=csv"});
  ASSERT_EQ(csv.exit_code, 0) << csv.errors;
  size_t rows = 0;
  for (const v1::StoredRun& run : runs) {
    for (const v1::Repetition& rep : run.result().repetitions()) rows += rep.metrics_size();
    for (const v1::Repetition& rep : run.result().tracing_repetitions()) rows += rep.metrics_size();
  }
  EXPECT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].result().repetitions_size(), 3);
  std::vector<std::string> lines = absl::StrSplit(csv.output, '\n', absl::SkipEmpty());
  EXPECT_EQ(lines.size(), 1 + rows);
  testing::CommandResult json =
      fleet_->Ctl({"results", "--campaign=" + campaign_id, "--format=json"});
  ASSERT_EQ(json.exit_code, 0) << json.errors;
  EXPECT_THAT(json.output, HasSubstr("\"kernel_label\": \"patched/mmap-lock-v3\""));

  testing::CommandResult agents = fleet_->Ctl({"agents"});
  EXPECT_THAT(agents.output, HasSubstr("box-patched"));
}

TEST_F(CampaignE2eTest, InvalidCampaignsAreRefusedAndStoreUnchanged) {
  const std::string ok = WriteFile(fleet_->dir(), "ok.textproto", R"(
name: "small" repetitions: 1
suite { benchmark: "fault_anon" params { key: "region_mib" value { int_value: 1 } } }
targets { kernel_label: "stock" }
)");
  ASSERT_EQ(fleet_->Ctl({"submit", ok, "--wait"}).exit_code, 0) << fleet_->Logs();
  const std::map<std::string, int64_t> before = TableCounts(fleet_->db_path());
  ASSERT_FALSE(before.empty());

  struct Case {
    std::string text;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {R"(name: "x" suite { benchmark: "no_such_bench" } targets { kernel_label: "stock" })",
       "INVALID_ARGUMENT: spec.suite[0].benchmark: unknown benchmark \"no_such_bench\""},
      {R"(name: "x" suite { benchmark: "fault_anon"
             params { key: "region_mib" value { int_value: -5 } } }
           targets { kernel_label: "stock" })",
       "INVALID_ARGUMENT: spec.suite[0].params.region_mib: -5 is below the minimum"},
      {R"(name: "x" suite { benchmark: "fault_anon"
             params { key: "no_such_param" value { int_value: 1 } } }
           targets { kernel_label: "stock" })",
       "INVALID_ARGUMENT: spec.suite[0].params.no_such_param: unknown parameter"},
      {R"(name: "x" suite { benchmark: "fault_anon" } targets { kernel_label: "nonexistent" })",
       "FAILED_PRECONDITION: spec.targets[0]: no registered agent matches "
       "kernel_label=nonexistent"},
      {R"(name: "x" suite { benchmark: "fault_anon" })",
       "INVALID_ARGUMENT: spec.targets: must list at least one target"},
      {"name: \"x\"\nsuite { benchmark: \"fault_anon\" repetitions: -1 }\n",
       "bad.textproto:2:"},
  };
  for (const Case& c : cases) {
    const std::string file = WriteFile(fleet_->dir(), "bad.textproto", c.text);
    testing::CommandResult r = fleet_->Ctl({"submit", file});
    EXPECT_EQ(r.exit_code, 2) << c.text;
    EXPECT_THAT(r.errors, HasSubstr(c.expected)) << c.text;
  }
  EXPECT_EQ(TableCounts(fleet_->db_path()), before);
}

TEST_F(CampaignE2eTest, HungBenchmarkFailsItsJobAndTheAgentLivesOn) {
  // 1 second is far too short for 50 repetitions of a 256 MiB region: the run is killed.
  const std::string file = WriteFile(fleet_->dir(), "timeout.textproto", R"(
name: "timeout" repetitions: 1
suite { benchmark: "fault_anon" repetitions: 50 timeout_seconds: 1
        params { key: "region_mib" value { int_value: 256 } } }
suite { benchmark: "fault_anon" params { key: "region_mib" value { int_value: 1 } } }
targets { kernel_label: "stock" }
)");
  testing::CommandResult r = fleet_->Ctl({"submit", file, "--wait"});
  EXPECT_EQ(r.exit_code, 1) << r.output << r.errors << fleet_->Logs();
  EXPECT_THAT(r.errors, HasSubstr("FAILED"));
  const std::string id =
      std::string(absl::StripAsciiWhitespace(r.output.substr(0, r.output.find('\n'))));
  std::vector<v1::StoredRun> runs = Results(id);
  ASSERT_EQ(runs.size(), 2u) << fleet_->Logs();
  int timed_out = 0, ok = 0;
  for (const auto& run : runs) {
    if (run.result().state() == v1::RUN_STATE_TIMED_OUT) {
      ++timed_out;
      EXPECT_FALSE(run.result().diagnostic().empty());
    }
    if (run.result().state() == v1::RUN_STATE_OK) ++ok;
  }
  EXPECT_EQ(timed_out, 1);
  EXPECT_EQ(ok, 1);
  EXPECT_TRUE(fleet_->agent("box-stock")->running());
}

}  // namespace
}  // namespace faultline
