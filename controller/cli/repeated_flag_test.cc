#include "controller/cli/repeated_flag.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace faultline::controller::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<char*> Args(std::vector<std::string>& storage) {
  std::vector<char*> args;
  for (std::string& s : storage) args.push_back(s.data());
  return args;
}

std::vector<std::string> Strings(const std::vector<char*>& args) {
  return {args.begin(), args.end()};
}

TEST(TakeRepeatedFlagTest, TakesEveryFormInOrderAndKeepsTheRest) {
  std::vector<std::string> storage = {"faultlinectl", "run", "--on=kernel_label=stock",
                                      "fault_anon", "-on", "kernel_label=patched/x",
                                      "--online=1", "threads=4", "--on", "target=c",
                                      "--", "--on=after"};
  std::vector<char*> args = Args(storage);
  absl::StatusOr<std::vector<std::string>> on = TakeRepeatedFlag(&args, "on");
  ASSERT_TRUE(on.ok()) << on.status();
  EXPECT_THAT(*on, ElementsAre("kernel_label=stock", "kernel_label=patched/x", "target=c"));
  EXPECT_THAT(Strings(args), ElementsAre("faultlinectl", "run", "fault_anon", "--online=1",
                                         "threads=4", "--", "--on=after"));
}

TEST(TakeRepeatedFlagTest, NoneGiven) {
  std::vector<std::string> storage = {"faultlinectl", "compare", "--candidate_x=1"};
  std::vector<char*> args = Args(storage);
  absl::StatusOr<std::vector<std::string>> values = TakeRepeatedFlag(&args, "candidate");
  ASSERT_TRUE(values.ok());
  EXPECT_TRUE(values->empty());
  EXPECT_EQ(args.size(), 3u);
}

TEST(TakeRepeatedFlagTest, MissingValueNamesTheFlag) {
  std::vector<std::string> storage = {"faultlinectl", "run", "--on"};
  std::vector<char*> args = Args(storage);
  absl::StatusOr<std::vector<std::string>> values = TakeRepeatedFlag(&args, "on");
  ASSERT_FALSE(values.ok());
  EXPECT_THAT(values.status().message(), HasSubstr("--on: missing value"));
}

}  // namespace
}  // namespace faultline::controller::cli
