#include "controller/cli/campaign_file.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace faultline::controller::cli {
namespace {

using ::testing::HasSubstr;

TEST(CampaignFileTest, ParsesTheDocumentedFormat) {
  auto spec = ParseCampaignText(R"(
# A patched-vs-stock comparison.
name: "mmap-lock-v3"
repetitions: 10
interleave: true
suite {
  benchmark: "fault_anon"
  params { key: "region_mib" value { int_value: 64 } }
}
targets { name: "stock" kernel_label: "stock" arch: ARCH_X86_64 }
targets { name: "patched" kernel_label: "patched/*" }
)", "ab.textproto");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->name(), "mmap-lock-v3");
  EXPECT_EQ(spec->suite(0).params().at("region_mib").int_value(), 64);
  EXPECT_EQ(spec->targets(1).kernel_label(), "patched/*");
}

TEST(CampaignFileTest, AnInvocationSetsItsTracingAndProfilingRepetitions) {
  auto spec = ParseCampaignText(R"(name: "x"
suite { benchmark: "fault_anon" trace_repetitions: 0 profile_repetitions: 3 }
suite { benchmark: "fork_mapped" }
)", "p.textproto");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_TRUE(spec->suite(0).has_trace_repetitions());
  EXPECT_EQ(spec->suite(0).trace_repetitions(), 0u);
  EXPECT_EQ(spec->suite(0).profile_repetitions(), 3u);
  // Unset is not 0: the agent then runs one of each.
  EXPECT_FALSE(spec->suite(1).has_trace_repetitions());
  EXPECT_FALSE(spec->suite(1).has_profile_repetitions());
}

TEST(CampaignFileTest, ErrorsNameFileLineAndColumn) {
  auto spec = ParseCampaignText("name: \"x\"\nsuite {\n  benchmrk: \"fault_anon\"\n}\n",
                                "bad.textproto");
  ASSERT_FALSE(spec.ok());
  EXPECT_THAT(std::string(spec.status().message()), HasSubstr("bad.textproto:3:"));
  EXPECT_THAT(std::string(spec.status().message()), HasSubstr("benchmrk"));
}

TEST(CampaignFileTest, DuplicatedKeysAreRefusedNamingBothPositions) {
  auto spec = ParseCampaignText(R"(name: "x"
suite {
  benchmark: "fault_anon"
  params { key: "region_mib" value { int_value: 64 } }
  params { key: "passes" value { int_value: 2 } }
  params { key: "region_mib" value { int_value: 1 } }
}
)", "dup.textproto");
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().message(),
            "dup.textproto:6:3: spec.suite[0].params: key \"region_mib\" given twice (first at "
            "dup.textproto:4:3)");
  auto labels = ParseCampaignText(
      "name: \"x\"\nlabels { key: \"a\" value: \"1\" }\nlabels { key: \"a\" value: \"2\" }\n",
      "l.textproto");
  ASSERT_FALSE(labels.ok());
  EXPECT_THAT(std::string(labels.status().message()), HasSubstr("spec.labels: key \"a\""));
}

TEST(CampaignFileTest, InvalidUtf8NamesTheField) {
  auto spec = ParseCampaignText("name: \"x\"\ntargets { kernel_label: \"\xff\xfe\" }\n", "u.textproto");
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().message(), "u.textproto: spec.targets[0].kernel_label: not valid UTF-8");
}

TEST(CampaignFileTest, MissingFileIsNotFound) {
  auto spec = ReadCampaignFile("/nonexistent/campaign.textproto");
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace faultline::controller::cli
