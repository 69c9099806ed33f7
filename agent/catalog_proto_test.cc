#include "agent/catalog_proto.h"

#include "gtest/gtest.h"

namespace faultline::agent {
namespace {

bench::BenchmarkInfo TestInfo() {
  bench::BenchmarkInfo info;
  info.name = "fault_test";
  info.description = "test benchmark";
  bench::ParamSpec region;
  region.name = "region_mib";
  region.type = bench::ParamType::kInt;
  region.unit = "MiB";
  region.default_value = int64_t{64};
  region.min = int64_t{1};
  region.max = int64_t{4096};
  bench::ParamSpec ratio;
  ratio.name = "ratio";
  ratio.type = bench::ParamType::kDouble;
  ratio.default_value = 0.5;
  ratio.min = 0.0;
  ratio.max = 1.0;
  bench::ParamSpec thp;
  thp.name = "thp";
  thp.type = bench::ParamType::kBool;
  thp.default_value = false;
  bench::ParamSpec mode;
  mode.name = "mode";
  mode.type = bench::ParamType::kEnum;
  mode.default_value = std::string("read");
  mode.allowed_values = {"read", "write"};
  info.params = {region, ratio, thp, mode};
  info.metrics = {{"ns_per_fault", "ns", bench::Direction::kLowerIsBetter, "cost of a fault"},
                  {"faults_per_sec", "1/s", bench::Direction::kHigherIsBetter, "rate"}};
  return info;
}

TEST(BenchmarkSpecToProtoTest, CarriesParamsAndMetrics) {
  v1::BenchmarkSpec spec = BenchmarkSpecToProto(TestInfo());
  EXPECT_EQ(spec.name(), "fault_test");
  ASSERT_EQ(spec.params_size(), 4);
  EXPECT_EQ(spec.params(0).type(), v1::PARAM_TYPE_INT);
  EXPECT_EQ(spec.params(0).unit(), "MiB");
  EXPECT_EQ(spec.params(0).default_value().int_value(), 64);
  EXPECT_EQ(spec.params(0).min().int_value(), 1);
  EXPECT_EQ(spec.params(0).max().int_value(), 4096);
  EXPECT_EQ(spec.params(1).type(), v1::PARAM_TYPE_DOUBLE);
  EXPECT_DOUBLE_EQ(spec.params(1).max().double_value(), 1.0);
  EXPECT_EQ(spec.params(2).type(), v1::PARAM_TYPE_BOOL);
  EXPECT_FALSE(spec.params(2).has_min());
  EXPECT_EQ(spec.params(3).type(), v1::PARAM_TYPE_ENUM);
  EXPECT_EQ(spec.params(3).default_value().enum_value(), "read");
  ASSERT_EQ(spec.params(3).allowed_values_size(), 2);
  ASSERT_EQ(spec.metrics_size(), 2);
  EXPECT_EQ(spec.metrics(0).direction(), v1::DIRECTION_LOWER_IS_BETTER);
  EXPECT_EQ(spec.metrics(1).direction(), v1::DIRECTION_HIGHER_IS_BETTER);
  EXPECT_EQ(spec.metrics(1).unit(), "1/s");
}

TEST(ParamsFromProtoTest, ConvertsMatchingKinds) {
  google::protobuf::Map<std::string, v1::ParamValue> given;
  given["region_mib"].set_int_value(4);
  given["ratio"].set_int_value(1);  // An int is accepted for a double.
  given["thp"].set_bool_value(true);
  given["mode"].set_enum_value("write");
  absl::StatusOr<bench::Params> params = ParamsFromProto(TestInfo(), given);
  ASSERT_TRUE(params.ok()) << params.status();
  EXPECT_EQ(std::get<int64_t>(params->at("region_mib")), 4);
  EXPECT_DOUBLE_EQ(std::get<double>(params->at("ratio")), 1.0);
  EXPECT_TRUE(std::get<bool>(params->at("thp")));
  EXPECT_EQ(std::get<std::string>(params->at("mode")), "write");
}

TEST(ParamsFromProtoTest, WrongKindNamesParam) {
  google::protobuf::Map<std::string, v1::ParamValue> given;
  given["region_mib"].set_double_value(4.5);
  absl::StatusOr<bench::Params> params = ParamsFromProto(TestInfo(), given);
  EXPECT_EQ(params.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(params.status().message(),
            "params.region_mib: expected an int value, got a double value");
}

TEST(ParamsFromProtoTest, UnsetValueNamesParam) {
  google::protobuf::Map<std::string, v1::ParamValue> given;
  given["mode"];
  absl::StatusOr<bench::Params> params = ParamsFromProto(TestInfo(), given);
  EXPECT_EQ(params.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(params.status().message(), "params.mode: expected a string (enum) value, got no value");
}

TEST(ParamsFromProtoTest, UnknownParamNamed) {
  google::protobuf::Map<std::string, v1::ParamValue> given;
  given["threads"].set_int_value(2);
  absl::StatusOr<bench::Params> params = ParamsFromProto(TestInfo(), given);
  EXPECT_EQ(params.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(params.status().message(), "params.threads: not a parameter of benchmark fault_test");
}

TEST(HistogramToProtoTest, SparseBucketsAndTotals) {
  bench::Histogram histogram(5);
  histogram.Record(100);
  histogram.Record(100);
  histogram.Record(5000);
  v1::Histogram proto = HistogramToProto(histogram, "ns");
  EXPECT_EQ(proto.unit(), "ns");
  EXPECT_EQ(proto.sub_bucket_bits(), 5u);
  ASSERT_EQ(proto.bucket_index_size(), 2);
  EXPECT_EQ(proto.bucket_index(0), bench::Histogram::BucketIndex(100, 5));
  EXPECT_EQ(proto.count(0), 2u);
  EXPECT_EQ(proto.bucket_index(1), bench::Histogram::BucketIndex(5000, 5));
  EXPECT_EQ(proto.count(1), 1u);
  EXPECT_EQ(proto.total_count(), 3u);
  EXPECT_DOUBLE_EQ(proto.min(), 100);
  EXPECT_DOUBLE_EQ(proto.max(), 5000);
  EXPECT_DOUBLE_EQ(proto.sum(), 5200);
}

TEST(HistogramToProtoTest, EmptyHistogramHasZeroBounds) {
  v1::Histogram proto = HistogramToProto(bench::Histogram(5), "ns");
  EXPECT_EQ(proto.total_count(), 0u);
  EXPECT_EQ(proto.bucket_index_size(), 0);
  EXPECT_DOUBLE_EQ(proto.min(), 0);
  EXPECT_DOUBLE_EQ(proto.max(), 0);
}

TEST(RunOutputToProtoTest, CarriesRepetitionsWithUnits) {
  bench::RunOutput output;
  output.status = bench::RunStatus::kOk;
  output.timer_overhead_ns = 18.5;
  output.warmup = 1;
  bench::RepetitionResult rep;
  rep.metrics = {{"ns_per_fault", 1500.0}, {"faults_per_sec", 666666.0}};
  rep.counters = {{"rusage.minflt", 1024}};
  rep.unavailable_counters = {"perf.page_faults"};
  rep.wall_ns = 2000000;
  bench::Histogram latency(5);
  latency.Record(1400);
  rep.histograms.emplace_back("fault_latency_ns", latency);
  output.repetitions = {rep, rep};
  bench::Params params = {{"region_mib", int64_t{4}}, {"mode", std::string("read")}};

  v1::RunResult result = RunOutputToProto(TestInfo(), params, output);
  EXPECT_EQ(result.benchmark(), "fault_test");
  EXPECT_EQ(result.state(), v1::RUN_STATE_OK);
  EXPECT_EQ(result.params().at("region_mib").int_value(), 4);
  EXPECT_EQ(result.params().at("mode").enum_value(), "read");
  EXPECT_DOUBLE_EQ(result.timer_overhead_ns(), 18.5);
  EXPECT_EQ(result.warmup(), 1u);
  ASSERT_EQ(result.repetitions_size(), 2);
  const v1::Repetition& second = result.repetitions(1);
  EXPECT_EQ(second.index(), 1u);
  ASSERT_EQ(second.metrics_size(), 2);
  EXPECT_EQ(second.metrics(0).unit(), "ns");
  EXPECT_EQ(second.metrics(0).direction(), v1::DIRECTION_LOWER_IS_BETTER);
  EXPECT_DOUBLE_EQ(second.metrics(0).value(), 1500.0);
  EXPECT_EQ(second.counters().at("rusage.minflt"), 1024);
  ASSERT_EQ(second.unavailable_counters_size(), 1);
  EXPECT_EQ(second.unavailable_counters(0), "perf.page_faults");
  ASSERT_EQ(second.histograms_size(), 1);
  EXPECT_EQ(second.histograms(0).name(), "fault_latency_ns");
  EXPECT_EQ(second.histograms(0).histogram().unit(), "ns");
  EXPECT_EQ(second.wall_ns(), 2000000);
}

TEST(RunOutputToProtoTest, CarriesTheProfileOrWhyThereIsNone) {
  bench::RunOutput output;
  output.repetitions.resize(1);
  v1::RunResult none = RunOutputToProto(TestInfo(), {}, output);
  EXPECT_FALSE(none.has_profile());
  output.profile.unavailable_reason = "perf events are turned off";
  v1::RunResult unavailable = RunOutputToProto(TestInfo(), {}, output);
  EXPECT_EQ(unavailable.profile().unavailable_reason(), "perf events are turned off");
  EXPECT_EQ(unavailable.profile().samples(), 0u);
  output.profile = {"perf cpu-clock 4000 Hz, kernel call chains", 1, 5000, 100, 80, 2,
                    {{"do_anonymous_page", 10, 60}}, ""};
  v1::RunResult profiled = RunOutputToProto(TestInfo(), {}, output);
  EXPECT_EQ(profiled.profile().method(), "perf cpu-clock 4000 Hz, kernel call chains");
  EXPECT_EQ(profiled.profile().repetitions(), 1u);
  EXPECT_EQ(profiled.profile().wall_ns(), 5000);
  EXPECT_EQ(profiled.profile().samples(), 100u);
  EXPECT_EQ(profiled.profile().kernel_samples(), 80u);
  EXPECT_EQ(profiled.profile().lost_samples(), 2u);
  ASSERT_EQ(profiled.profile().symbols_size(), 1);
  EXPECT_EQ(profiled.profile().symbols(0).name(), "do_anonymous_page");
  EXPECT_EQ(profiled.profile().symbols(0).self_samples(), 10u);
  EXPECT_EQ(profiled.profile().symbols(0).total_samples(), 60u);
}

TEST(RunStatusToProtoTest, MapsEveryStatus) {
  EXPECT_EQ(RunStatusToProto(bench::RunStatus::kOk), v1::RUN_STATE_OK);
  EXPECT_EQ(RunStatusToProto(bench::RunStatus::kFailed), v1::RUN_STATE_FAILED);
  EXPECT_EQ(RunStatusToProto(bench::RunStatus::kSkipped), v1::RUN_STATE_SKIPPED);
  EXPECT_EQ(RunStatusToProto(bench::RunStatus::kRefused), v1::RUN_STATE_REFUSED);
}

}  // namespace
}  // namespace faultline::agent
