#include "agent/result_spool.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>

#include "agent/file_util.h"
#include "gtest/gtest.h"

namespace faultline::agent {
namespace {

std::string FreshDir(const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  std::string dir = std::string(tmp != nullptr ? tmp : "/tmp") + "/" + name;
  std::string cmd = "rm -rf '" + dir + "'";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
  return dir + "/spool";  // Open creates it.
}

v1::ReportResultRequest Report(const std::string& job_id, uint32_t attempt,
                               const std::string& diagnostic) {
  v1::ReportResultRequest report;
  report.set_agent_id("agent-1");
  report.set_job_id(job_id);
  report.set_attempt(attempt);
  report.set_lease_id("lease-" + job_id);
  report.mutable_result()->set_benchmark("fault_anon");
  report.mutable_result()->set_diagnostic(diagnostic);
  return report;
}

TEST(ResultSpoolTest, ListsInOrderOfAdd) {
  auto spool = ResultSpool::Open(FreshDir("order"));
  ASSERT_TRUE(spool.ok()) << spool.status();
  // Job ids chosen so that alphabetical order of ids differs from insertion order.
  ASSERT_TRUE((*spool)->Add(Report("c-2/j-9", 1, "first")).ok());
  ASSERT_TRUE((*spool)->Add(Report("c-1/j-1", 1, "second")).ok());
  ASSERT_TRUE((*spool)->Add(Report("c-1/j-1", 2, "third")).ok());
  auto entries = (*spool)->List();
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), 3u);
  EXPECT_EQ((*entries)[0].report.result().diagnostic(), "first");
  EXPECT_EQ((*entries)[1].report.result().diagnostic(), "second");
  EXPECT_EQ((*entries)[2].report.result().diagnostic(), "third");
  EXPECT_EQ((*entries)[2].report.attempt(), 2u);
  EXPECT_EQ((*spool)->Count(), 3u);
}

TEST(ResultSpoolTest, SameJobAttemptReplacesInPlace) {
  auto spool = ResultSpool::Open(FreshDir("replace"));
  ASSERT_TRUE(spool.ok());
  auto first = (*spool)->Add(Report("j-1", 1, "old"));
  ASSERT_TRUE((*spool)->Add(Report("j-2", 1, "other")).ok());
  auto again = (*spool)->Add(Report("j-1", 1, "new"));
  ASSERT_TRUE(first.ok() && again.ok());
  EXPECT_EQ(*first, *again);
  auto entries = (*spool)->List();
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].report.result().diagnostic(), "new");
}

TEST(ResultSpoolTest, SurvivesReopenAndContinuesSequence) {
  const std::string dir = FreshDir("reopen");
  {
    auto spool = ResultSpool::Open(dir);
    ASSERT_TRUE(spool.ok());
    ASSERT_TRUE((*spool)->Add(Report("j-a", 1, "a")).ok());
    ASSERT_TRUE((*spool)->Add(Report("j-b", 1, "b")).ok());
  }
  // A crash in the middle of Add leaves a temporary file behind.
  int fd = open((dir + "/.tmp-00000000000000000009-j-x-a1.report").c_str(), O_CREAT | O_WRONLY,
                0600);
  ASSERT_GE(fd, 0);
  close(fd);
  auto spool = ResultSpool::Open(dir);
  ASSERT_TRUE(spool.ok());
  EXPECT_EQ(access((dir + "/.tmp-00000000000000000009-j-x-a1.report").c_str(), F_OK), -1);
  auto entries = (*spool)->List();
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 2u);
  ASSERT_TRUE((*spool)->Remove((*entries)[0].name).ok());
  ASSERT_TRUE((*spool)->Add(Report("j-c", 1, "c")).ok());
  entries = (*spool)->List();
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].report.result().diagnostic(), "b");
  EXPECT_EQ((*entries)[1].report.result().diagnostic(), "c");
}

TEST(ResultSpoolTest, CorruptFileIsRejectedNotDelivered) {
  const std::string dir = FreshDir("corrupt");
  auto spool = ResultSpool::Open(dir);
  ASSERT_TRUE(spool.ok());
  ASSERT_TRUE((*spool)->Add(Report("j-ok", 1, "fine")).ok());
  const std::string bad = "00000000000000000005-j-bad-a1.report";
  int fd = open((dir + "/" + bad).c_str(), O_CREAT | O_WRONLY, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(WriteAll(fd, "\xff\xff\xff not a proto").ok());
  close(fd);
  auto entries = (*spool)->List();
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ((*entries)[0].report.job_id(), "j-ok");
  EXPECT_EQ(access((dir + "/rejected/" + bad).c_str(), F_OK), 0);
}

TEST(ResultSpoolTest, RejectMovesAside) {
  const std::string dir = FreshDir("reject");
  auto spool = ResultSpool::Open(dir);
  ASSERT_TRUE(spool.ok());
  auto name = (*spool)->Add(Report("j-1", 1, "x"));
  ASSERT_TRUE(name.ok());
  ASSERT_TRUE((*spool)->Reject(*name).ok());
  EXPECT_EQ((*spool)->Count(), 0u);
  EXPECT_EQ(access((dir + "/rejected/" + *name).c_str(), F_OK), 0);
}

TEST(ResultSpoolTest, EmptyDirIsAnError) {
  EXPECT_EQ(ResultSpool::Open("").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(SpoolKeyTest, SanitizesJobId) {
  EXPECT_EQ(SpoolKey("c-000012/j-0007", 3), "c-000012_j-0007-a3");
}

}  // namespace
}  // namespace faultline::agent
