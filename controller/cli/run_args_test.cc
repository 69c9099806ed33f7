#include "controller/cli/run_args.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace faultline::controller::cli {
namespace {

using ::testing::HasSubstr;

RunArgs Args() {
  RunArgs args;
  args.benchmark = "fault_anon";
  args.params = {"threads=4", "region_mib=64"};
  args.on = {"kernel_label=stock", "kernel_label=patched/x,host_class=x86_64-*"};
  args.repetitions = 10;
  return args;
}

TEST(CampaignFromRunArgsTest, BuildsAnInterleavedPairedCampaign) {
  absl::StatusOr<v1::CampaignSpec> spec = CampaignFromRunArgs(Args());
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->name(), "run fault_anon");
  EXPECT_TRUE(spec->interleave());
  EXPECT_TRUE(spec->paired());
  EXPECT_EQ(spec->repetitions(), 10u);
  EXPECT_EQ(spec->repetitions_per_job(), 1u);
  ASSERT_EQ(spec->suite_size(), 1);
  EXPECT_EQ(spec->suite(0).benchmark(), "fault_anon");
  EXPECT_EQ(spec->suite(0).params().at("threads").int_value(), 4);
  EXPECT_EQ(spec->suite(0).params().at("region_mib").int_value(), 64);
  ASSERT_EQ(spec->targets_size(), 2);
  EXPECT_EQ(spec->targets(0).name(), "stock");
  EXPECT_EQ(spec->targets(0).kernel_label(), "stock");
  EXPECT_EQ(spec->targets(1).name(), "patched/x");
  EXPECT_EQ(spec->targets(1).host_class(), "x86_64-*");
}

TEST(CampaignFromRunArgsTest, TargetNamesAreDistinct) {
  RunArgs args = Args();
  args.on = {"kernel_label=stock", "kernel_label=stock,agent=box-2", "kernel_label=patched/*",
             "target=mine,arch=arm64"};
  absl::StatusOr<v1::CampaignSpec> spec = CampaignFromRunArgs(args);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->targets(0).name(), "stock");
  EXPECT_EQ(spec->targets(1).name(), "target2");
  EXPECT_EQ(spec->targets(1).agent_ids(0), "box-2");
  EXPECT_EQ(spec->targets(2).name(), "target3");
  EXPECT_EQ(spec->targets(3).name(), "mine");
  EXPECT_EQ(spec->targets(3).arch(), v1::ARCH_ARM64);
  args.on = {"target=a,kernel_label=stock", "target=a,kernel_label=patched"};
  absl::StatusOr<v1::CampaignSpec> taken = CampaignFromRunArgs(args);
  ASSERT_FALSE(taken.ok());
  EXPECT_THAT(taken.status().message(), HasSubstr("--on #2: target name \"a\" is taken"));
}

TEST(CampaignFromRunArgsTest, BadInputNamesWhatTheUserWrote) {
  struct Case {
    void (*edit)(RunArgs*);
    const char* error;
  };
  const Case cases[] = {
      {[](RunArgs* a) { a->benchmark.clear(); }, "BENCHMARK: must be given"},
      {[](RunArgs* a) { a->on.clear(); }, "--on: give one --on=SEL per kernel"},
      {[](RunArgs* a) { a->params.push_back("threads=8"); }, "parameters: threads given twice"},
      {[](RunArgs* a) { a->params.push_back("4"); }, "parameters: \"4\" is not name=value"},
      {[](RunArgs* a) { a->on[1] = "kernel=patched,colour=red"; }, "--on #2: unknown key"},
      {[](RunArgs* a) { a->on[0] = "campaign=c-000001"; }, "--on #1: \"campaign=c-000001\" names"},
      {[](RunArgs* a) { a->repetitions = 0; }, "--repetitions: must be at least 1"},
      {[](RunArgs* a) { a->repetitions = 5000; }, "--repetitions: 5000 is above the maximum"},
      {[](RunArgs* a) { a->repetitions_per_job = 0; }, "--repetitions_per_job: must be at least"},
      {[](RunArgs* a) { a->on[0] = "kernel_label=" + std::string(5000, 'k'); },
       "--on #1.kernel_label"},
  };
  for (const Case& c : cases) {
    RunArgs args = Args();
    c.edit(&args);
    absl::StatusOr<v1::CampaignSpec> spec = CampaignFromRunArgs(args);
    ASSERT_FALSE(spec.ok()) << c.error;
    EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(spec.status().message(), HasSubstr(c.error));
  }
}

TEST(InCommandLineTermsTest, ControllerPathsBecomeArguments) {
  EXPECT_EQ(InCommandLineTerms(absl::InvalidArgumentError(
                                   "spec.suite[0].params.threads: 9999 is above the maximum 64"))
                .message(),
            "threads: 9999 is above the maximum 64");
  EXPECT_EQ(InCommandLineTerms(absl::FailedPreconditionError(
                                   "spec.targets[1]: no registered agent matches kernel_label=x"))
                .message(),
            "--on #2: no registered agent matches kernel_label=x");
  EXPECT_EQ(InCommandLineTerms(absl::FailedPreconditionError("x")).code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace faultline::controller::cli
