// Declaring, validating, parsing and reading benchmark parameters.
#ifndef FAULTLINE_AGENT_BENCH_PARAMS_H_
#define FAULTLINE_AGENT_BENCH_PARAMS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "agent/bench/benchmark_types.h"

namespace faultline::agent::bench {

ParamSpec IntParam(std::string name, std::string description, std::string unit,
                   int64_t default_value, int64_t min, int64_t max);
ParamSpec DoubleParam(std::string name, std::string description, std::string unit,
                      double default_value, double min, double max);
ParamSpec BoolParam(std::string name, std::string description, bool default_value);
ParamSpec EnumParam(std::string name, std::string description,
                    std::vector<std::string> allowed_values, std::string default_value);

// Parameters many benchmarks share, so they are spelled the same everywhere.
ParamSpec ThreadsParam(int64_t default_value = 1);
ParamSpec ModeParam();  // thread | process
ParamSpec ThpParam();   // default | hugepage | nohugepage
ParamSpec PinCpusParam();
ParamSpec SampleLatencyParam();

// Validates `given` against `info` and fills defaults; INVALID_ARGUMENT naming the parameter.
absl::StatusOr<Params> ResolveParamsFor(const BenchmarkInfo& info, const Params& given);

// Parses command-line text ("64", "2.5", "true", "process") as a value of `spec`'s type.
absl::StatusOr<ParamValue> ParseParamValue(const ParamSpec& spec, absl::string_view text);

std::string FormatParamValue(const ParamValue& value);
const char* ParamTypeName(ParamType type);

// Typed reads of resolved parameters; a missing or mistyped entry reads as zero/false/"".
int64_t GetInt(const Params& params, const std::string& name);
double GetDouble(const Params& params, const std::string& name);
bool GetBool(const Params& params, const std::string& name);
std::string GetEnum(const Params& params, const std::string& name);

}  // namespace faultline::agent::bench

#endif  // FAULTLINE_AGENT_BENCH_PARAMS_H_
