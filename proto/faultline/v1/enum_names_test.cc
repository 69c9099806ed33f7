#include "proto/faultline/v1/enum_names.h"

#include "gtest/gtest.h"
#include "proto/faultline/v1/campaign.pb.h"

namespace faultline::v1 {
namespace {

TEST(ArchNameTest, RoundTripsEveryArch) {
  for (Arch arch : {ARCH_X86_64, ARCH_ARM64}) EXPECT_EQ(ParseArch(ArchName(arch)), arch);
  EXPECT_EQ(ArchName(ARCH_UNSPECIFIED), "");
  EXPECT_EQ(ParseArch("aarch64"), ARCH_UNSPECIFIED);
}

TEST(EnumLabelTest, StripsThePrefixAndLowersTheRest) {
  EXPECT_EQ(EnumLabel(JobState_Name(JOB_STATE_QUEUED), "JOB_STATE_"), "queued");
  EXPECT_EQ(EnumLabel("RUN_STATE_TIMED_OUT", "RUN_STATE_"), "timed_out");
  EXPECT_EQ(EnumLabel("PRIORITY_", "PRIORITY_"), "unknown");
  EXPECT_EQ(EnumLabel("OTHER", "PRIORITY_"), "other");
}

}  // namespace
}  // namespace faultline::v1
