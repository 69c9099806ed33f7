// Translation between the benchmark library's plain C++ types and the faultline.v1 protos.
#ifndef FAULTLINE_AGENT_CATALOG_PROTO_H_
#define FAULTLINE_AGENT_CATALOG_PROTO_H_

#include <string>

#include "absl/status/statusor.h"
#include "agent/bench/benchmark_types.h"
#include "agent/bench/histogram.h"
#include "google/protobuf/map.h"
#include "proto/faultline/v1/benchmark.pb.h"

namespace faultline::agent {

v1::ParamValue ParamValueToProto(const bench::ParamValue& value);
v1::ParamType ParamTypeToProto(bench::ParamType type);
v1::Direction DirectionToProto(bench::Direction direction);
v1::ParamSpec ParamSpecToProto(const bench::ParamSpec& spec);
v1::MetricSpec MetricSpecToProto(const bench::MetricSpec& spec);
v1::BenchmarkSpec BenchmarkSpecToProto(const bench::BenchmarkInfo& info);
v1::RunState RunStatusToProto(bench::RunStatus status);

// Sparse form of the library's dense histogram; `unit` labels its values.
v1::Histogram HistogramToProto(const bench::Histogram& histogram, const std::string& unit);

// The run's outcome as a RunResult: benchmark, params, state, diagnostic, repetitions (metric
// units and directions from `info`), timer overhead, warm-up. Host and timestamps are left to the
// caller, which knows them.
v1::RunResult RunOutputToProto(const bench::BenchmarkInfo& info, const bench::Params& params,
                               const bench::RunOutput& output);

// Typed proto parameter values to the library's Params, checking each name exists in `info` and
// each value's kind matches the parameter's type (an int is accepted for a double parameter).
// Bounds and defaults are bench::ResolveParams's job. Errors are INVALID_ARGUMENT naming the
// parameter: "params.threads: expected an int value, got a string (enum) value".
absl::StatusOr<bench::Params> ParamsFromProto(
    const bench::BenchmarkInfo& info,
    const google::protobuf::Map<std::string, v1::ParamValue>& params);

}  // namespace faultline::agent

#endif  // FAULTLINE_AGENT_CATALOG_PROTO_H_
