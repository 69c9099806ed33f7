#include "controller/cli/results_table.h"

#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace faultline::controller::cli {
namespace {

using ::testing::HasSubstr;

v1::StoredRun SampleRun() {
  v1::StoredRun run;
  google::protobuf::TextFormat::ParseFromString(R"pb(
    run_id: 1 campaign_id: "c-000001" job_id: "c-000001/j-0001" attempt: 1
    agent_id: "box1" target_name: "stock"
    result {
      benchmark: "fault_anon" state: RUN_STATE_OK
      params { key: "region_mib" value { int_value: 64 } }
      params { key: "mode" value { enum_value: "thread" } }
      host { arch: ARCH_X86_64 kernel_label: "stock" kernel_release: "6.18.0" }
      repetitions { index: 0 metrics { name: "ns_per_fault" unit: "ns" value: 1400 } }
      repetitions { index: 1 metrics { name: "ns_per_fault" unit: "ns" value: 1500 } }
      repetitions { index: 2 metrics { name: "ns_per_fault" unit: "ns" value: 1600 } }
    }
  )pb", &run);
  return run;
}

TEST(ResultsTableTest, SummarisesEachMetricOverRepetitions) {
  const std::string table = FormatResultsTable({SampleRun()});
  EXPECT_THAT(table, HasSubstr("ns_per_fault"));
  EXPECT_THAT(table, HasSubstr("1500.00"));  // Median.
  EXPECT_THAT(table, HasSubstr("1400.00"));  // Min.
  EXPECT_THAT(table, HasSubstr("6.7"));      // CV: sd 100 / mean 1500.
  EXPECT_THAT(table, HasSubstr("mode=thread,region_mib=64"));
  EXPECT_THAT(table, HasSubstr("stock (6.18.0)"));
}

TEST(ResultsTableTest, FailedRunsShowTheirState) {
  v1::StoredRun run = SampleRun();
  run.mutable_result()->set_state(v1::RUN_STATE_SKIPPED);
  run.mutable_result()->set_diagnostic("no swap");
  run.mutable_result()->clear_repetitions();
  const std::string table = FormatResultsTable({run});
  EXPECT_THAT(table, HasSubstr("skipped"));
  EXPECT_THAT(table, HasSubstr("no swap"));
}

TEST(ResultsTableTest, CsvHasOneRowPerSample) {
  const std::string csv = FormatResultsCsv({SampleRun()});
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 4);  // Header + 3 samples.
  EXPECT_THAT(csv, HasSubstr(",\"mode=thread,region_mib=64\",ok,2,ns_per_fault,ns,1600\n"));
}

TEST(ResultsTableTest, JsonKeepsProtoFieldNames) {
  EXPECT_THAT(FormatResultsJson({SampleRun()}), HasSubstr("\"kernel_release\": \"6.18.0\""));
}

TEST(ResultsTableTest, ProgressBarCountsFinishedJobs) {
  v1::Campaign c;
  c.set_state(v1::CAMPAIGN_STATE_RUNNING);
  c.mutable_progress()->set_jobs_total(4);
  c.mutable_progress()->set_jobs_succeeded(2);
  c.mutable_progress()->set_jobs_running(1);
  EXPECT_EQ(FormatProgressBar(c, 8), "[####----]   2/4 jobs  running 1  failed 0  running");
}

}  // namespace
}  // namespace faultline::controller::cli
