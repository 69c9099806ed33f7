#include "controller/cli/selector.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace faultline::controller::cli {
namespace {

using ::testing::HasSubstr;

TEST(ParseSelectorTest, CampaignAndTarget) {
  auto s = ParseSelector("campaign=c-000012,target=stock", "--baseline");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->campaign_id(), "c-000012");
  EXPECT_EQ(s->target_name(), "stock");
  EXPECT_TRUE(s->kernel_label().empty());
}

TEST(ParseSelectorTest, FleetFiltersWithGlobsAndAliases) {
  auto s = ParseSelector(
      " kernel=patched/* , arch=aarch64,host_class=arm64-*,benchmark=fault_*,release=6.1.0,"
      "agent=box-1",
      "--candidate");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->kernel_label(), "patched/*");
  EXPECT_EQ(s->arch(), v1::ARCH_ARM64);
  EXPECT_EQ(s->host_class(), "arm64-*");
  EXPECT_EQ(s->benchmark(), "fault_*");
  EXPECT_EQ(s->kernel_release(), "6.1.0");
  EXPECT_EQ(s->agent_id(), "box-1");
}

TEST(ParseSelectorTest, ErrorsNameTheFlagAndThePart) {
  EXPECT_THAT(ParseSelector("", "--baseline").status().message(),
              HasSubstr("--baseline: empty selector"));
  EXPECT_THAT(ParseSelector("campaign", "--baseline").status().message(),
              HasSubstr("--baseline: \"campaign\" is not key=value"));
  EXPECT_THAT(ParseSelector("colour=red", "--candidate").status().message(),
              HasSubstr("--candidate: unknown key \"colour\""));
  EXPECT_THAT(ParseSelector("arch=sparc", "--candidate").status().message(),
              HasSubstr("arch \"sparc\" is not one of"));
  EXPECT_THAT(ParseSelector("target=a,target=b", "--baseline").status().message(),
              HasSubstr("target given twice"));
}

}  // namespace
}  // namespace faultline::controller::cli
