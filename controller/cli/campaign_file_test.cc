#include "controller/cli/campaign_file.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace faultline::cli {
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

TEST(CampaignFileTest, ErrorsNameFileLineAndColumn) {
  auto spec = ParseCampaignText("name: \"x\"\nsuite {\n  benchmrk: \"fault_anon\"\n}\n",
                                "bad.textproto");
  ASSERT_FALSE(spec.ok());
  EXPECT_THAT(std::string(spec.status().message()), HasSubstr("bad.textproto:3:"));
  EXPECT_THAT(std::string(spec.status().message()), HasSubstr("benchmrk"));
}

TEST(CampaignFileTest, MissingFileIsNotFound) {
  auto spec = ReadCampaignFile("/nonexistent/campaign.textproto");
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace faultline::cli
