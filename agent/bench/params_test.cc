#include "agent/bench/params.h"

#include "gtest/gtest.h"

namespace faultline::agent::bench {
namespace {

BenchmarkInfo Example() {
  BenchmarkInfo info;
  info.name = "example";
  info.params = {
      IntParam("region_mib", "", "MiB", 64, 1, 1024),
      DoubleParam("ratio", "", "", 0.5, 0, 1),
      BoolParam("flag", "", false),
      EnumParam("mode", "", {"thread", "process"}, "thread"),
  };
  return info;
}

void ExpectInvalid(const Params& given, const std::string& param, const std::string& reason) {
  absl::StatusOr<Params> resolved = ResolveParamsFor(Example(), given);
  ASSERT_FALSE(resolved.ok());
  EXPECT_EQ(resolved.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(resolved.status().message().find("'" + param + "'"), std::string::npos)
      << resolved.status();
  EXPECT_NE(resolved.status().message().find(reason), std::string::npos) << resolved.status();
}

TEST(ParamsTest, DefaultsFillUnsetParameters) {
  absl::StatusOr<Params> resolved = ResolveParamsFor(Example(), {{"region_mib", int64_t{8}}});
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(GetInt(*resolved, "region_mib"), 8);
  EXPECT_EQ(GetDouble(*resolved, "ratio"), 0.5);
  EXPECT_FALSE(GetBool(*resolved, "flag"));
  EXPECT_EQ(GetEnum(*resolved, "mode"), "thread");
  EXPECT_EQ(resolved->size(), 4u);
}

TEST(ParamsTest, UnknownParameterIsNamed) {
  ExpectInvalid({{"regoin_mib", int64_t{8}}}, "regoin_mib", "unknown parameter");
}

TEST(ParamsTest, WrongTypeIsNamed) {
  ExpectInvalid({{"region_mib", std::string("big")}}, "region_mib", "expected int, got enum");
  ExpectInvalid({{"flag", int64_t{1}}}, "flag", "expected bool, got int");
}

TEST(ParamsTest, OutOfRangeIsNamed) {
  ExpectInvalid({{"region_mib", int64_t{0}}}, "region_mib", "out of range [1, 1024]");
  ExpectInvalid({{"region_mib", int64_t{1025}}}, "region_mib", "out of range");
  ExpectInvalid({{"ratio", 1.5}}, "ratio", "out of range");
}

TEST(ParamsTest, BadEnumChoiceIsNamed) {
  ExpectInvalid({{"mode", std::string("fiber")}}, "mode", "not one of thread, process");
}

TEST(ParamsTest, IntegersWidenToDoubles) {
  absl::StatusOr<Params> resolved = ResolveParamsFor(Example(), {{"ratio", int64_t{1}}});
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(GetDouble(*resolved, "ratio"), 1.0);
}

TEST(ParamsTest, ParsesCommandLineText) {
  const BenchmarkInfo info = Example();
  EXPECT_EQ(std::get<int64_t>(*ParseParamValue(info.params[0], "32")), 32);
  EXPECT_FALSE(ParseParamValue(info.params[0], "32x").ok());
  EXPECT_EQ(std::get<double>(*ParseParamValue(info.params[1], "0.25")), 0.25);
  EXPECT_TRUE(std::get<bool>(*ParseParamValue(info.params[2], "true")));
  EXPECT_FALSE(ParseParamValue(info.params[2], "maybe").ok());
  EXPECT_EQ(std::get<std::string>(*ParseParamValue(info.params[3], "process")), "process");
  EXPECT_EQ(FormatParamValue(ParamValue(int64_t{7})), "7");
  EXPECT_EQ(FormatParamValue(ParamValue(true)), "true");
}

}  // namespace
}  // namespace faultline::agent::bench
