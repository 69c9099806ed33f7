#include "controller/cli/param_args.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace faultline::controller::cli {
namespace {

using ::testing::HasSubstr;

TEST(ParseParamValueTest, TypesFollowTheText) {
  EXPECT_EQ(ParseParamValue("64").int_value(), 64);
  EXPECT_EQ(ParseParamValue("-1").int_value(), -1);
  EXPECT_EQ(ParseParamValue("0.5").double_value(), 0.5);
  EXPECT_EQ(ParseParamValue("1e3").double_value(), 1000);
  EXPECT_TRUE(ParseParamValue("true").bool_value());
  EXPECT_EQ(ParseParamValue("false").kind_case(), v1::ParamValue::kBoolValue);
  EXPECT_EQ(ParseParamValue("never").enum_value(), "never");
  EXPECT_EQ(ParseParamValue("nan").enum_value(), "nan");
}

TEST(ParseParamAssignmentsTest, ParsesEveryItem) {
  auto params = ParseParamAssignments({"threads=4", "region_mib=64", "thp=never"}, "run");
  ASSERT_TRUE(params.ok()) << params.status();
  EXPECT_EQ(params->size(), 3u);
  EXPECT_EQ(params->at("threads").int_value(), 4);
  EXPECT_EQ(params->at("thp").enum_value(), "never");
}

TEST(ParseParamAssignmentsTest, ErrorsNameTheFieldAndTheItem) {
  auto missing = ParseParamAssignments({"threads"}, "run");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("run: \"threads\" is not name=value"));
  auto empty_value = ParseParamAssignments({"threads="}, "run");
  EXPECT_FALSE(empty_value.ok());
  auto bad_name = ParseParamAssignments({"Threads=4"}, "--params");
  ASSERT_FALSE(bad_name.ok());
  EXPECT_THAT(bad_name.status().message(), HasSubstr("--params: \"Threads\" is not a parameter"));
  auto twice = ParseParamAssignments({"threads=4", "threads=8"}, "run");
  ASSERT_FALSE(twice.ok());
  EXPECT_THAT(twice.status().message(), HasSubstr("run: threads given twice"));
}

}  // namespace
}  // namespace faultline::controller::cli
