#include "agent/bench/params.h"

#include <cmath>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace faultline::agent::bench {
namespace {

ParamType TypeOfValue(const ParamValue& value) {
  switch (value.index()) {
    case 0:
      return ParamType::kInt;
    case 1:
      return ParamType::kDouble;
    case 2:
      return ParamType::kBool;
    default:
      return ParamType::kEnum;
  }
}

absl::Status Invalid(const std::string& param, const std::string& benchmark,
                     const std::string& reason) {
  return absl::InvalidArgumentError(
      absl::StrCat("parameter '", param, "' of benchmark '", benchmark, "': ", reason));
}

// Checks one given value against its spec; returns the value to use (ints widen to doubles).
absl::StatusOr<ParamValue> CheckValue(const BenchmarkInfo& info, const ParamSpec& spec,
                                      const ParamValue& value) {
  const ParamType given_type = TypeOfValue(value);
  if (spec.type == ParamType::kDouble && given_type == ParamType::kInt) {
    return CheckValue(info, spec, static_cast<double>(std::get<int64_t>(value)));
  }
  if (given_type != spec.type) {
    return Invalid(spec.name, info.name,
                   absl::StrCat("expected ", ParamTypeName(spec.type), ", got ",
                                ParamTypeName(given_type)));
  }
  switch (spec.type) {
    case ParamType::kInt: {
      const int64_t v = std::get<int64_t>(value);
      const int64_t lo = std::get<int64_t>(spec.min), hi = std::get<int64_t>(spec.max);
      if (v < lo || v > hi) {
        return Invalid(spec.name, info.name,
                       absl::StrCat(v, " is out of range [", lo, ", ", hi, "]"));
      }
      break;
    }
    case ParamType::kDouble: {
      const double v = std::get<double>(value);
      const double lo = std::get<double>(spec.min), hi = std::get<double>(spec.max);
      if (!std::isfinite(v) || v < lo || v > hi) {
        return Invalid(spec.name, info.name,
                       absl::StrFormat("%g is out of range [%g, %g]", v, lo, hi));
      }
      break;
    }
    case ParamType::kBool:
      break;
    case ParamType::kEnum: {
      const std::string& v = std::get<std::string>(value);
      bool allowed = false;
      for (const std::string& choice : spec.allowed_values) allowed = allowed || choice == v;
      if (!allowed) {
        return Invalid(spec.name, info.name,
                       absl::StrCat("'", v, "' is not one of ",
                                    absl::StrJoin(spec.allowed_values, ", ")));
      }
      break;
    }
  }
  return value;
}

}  // namespace

ParamSpec IntParam(std::string name, std::string description, std::string unit,
                   int64_t default_value, int64_t min, int64_t max) {
  ParamSpec spec;
  spec.name = std::move(name);
  spec.type = ParamType::kInt;
  spec.description = std::move(description);
  spec.unit = std::move(unit);
  spec.default_value = default_value;
  spec.min = min;
  spec.max = max;
  return spec;
}

ParamSpec DoubleParam(std::string name, std::string description, std::string unit,
                      double default_value, double min, double max) {
  ParamSpec spec;
  spec.name = std::move(name);
  spec.type = ParamType::kDouble;
  spec.description = std::move(description);
  spec.unit = std::move(unit);
  spec.default_value = default_value;
  spec.min = min;
  spec.max = max;
  return spec;
}

ParamSpec BoolParam(std::string name, std::string description, bool default_value) {
  ParamSpec spec;
  spec.name = std::move(name);
  spec.type = ParamType::kBool;
  spec.description = std::move(description);
  spec.default_value = default_value;
  spec.min = false;
  spec.max = true;
  return spec;
}

ParamSpec EnumParam(std::string name, std::string description,
                    std::vector<std::string> allowed_values, std::string default_value) {
  ParamSpec spec;
  spec.name = std::move(name);
  spec.type = ParamType::kEnum;
  spec.description = std::move(description);
  spec.allowed_values = std::move(allowed_values);
  spec.default_value = std::move(default_value);
  spec.min = std::string();
  spec.max = std::string();
  return spec;
}

ParamSpec ThreadsParam(int64_t default_value) {
  return IntParam("threads", "Concurrent workers (threads or processes, per mode).", "threads",
                  default_value, 1, 256);
}

ParamSpec ModeParam() {
  return EnumParam("mode",
                   "thread: workers share one mm (mmap_lock, per-VMA locks); process: one mm "
                   "each.",
                   {"thread", "process"}, "thread");
}

ParamSpec ThpParam() {
  return EnumParam("thp",
                   "Transparent huge pages for the measured mappings: the system default, "
                   "MADV_HUGEPAGE or MADV_NOHUGEPAGE.",
                   {"default", "hugepage", "nohugepage"}, "default");
}

ParamSpec PinCpusParam() {
  return BoolParam("pin_cpus", "Pin worker i to the i-th allowed CPU (round robin).", false);
}

ParamSpec SampleLatencyParam() {
  return BoolParam("sample_latency",
                   "Time every operation into a latency histogram (two clock reads per op).",
                   true);
}

absl::StatusOr<Params> ResolveParamsFor(const BenchmarkInfo& info, const Params& given) {
  for (const auto& [name, value] : given) {
    bool known = false;
    for (const ParamSpec& spec : info.params) known = known || spec.name == name;
    if (!known) {
      std::vector<std::string> names;
      for (const ParamSpec& spec : info.params) names.push_back(spec.name);
      return Invalid(name, info.name,
                     absl::StrCat("unknown parameter (known: ", absl::StrJoin(names, ", "), ")"));
    }
  }
  Params resolved;
  for (const ParamSpec& spec : info.params) {
    auto it = given.find(spec.name);
    if (it == given.end()) {
      resolved[spec.name] = spec.default_value;
      continue;
    }
    absl::StatusOr<ParamValue> value = CheckValue(info, spec, it->second);
    if (!value.ok()) return value.status();
    resolved[spec.name] = *std::move(value);
  }
  return resolved;
}

absl::StatusOr<ParamValue> ParseParamValue(const ParamSpec& spec, absl::string_view text) {
  switch (spec.type) {
    case ParamType::kInt: {
      int64_t v;
      if (!absl::SimpleAtoi(text, &v)) {
        return absl::InvalidArgumentError(
            absl::StrCat("parameter '", spec.name, "': '", text, "' is not an integer"));
      }
      return ParamValue(v);
    }
    case ParamType::kDouble: {
      double v;
      if (!absl::SimpleAtod(text, &v)) {
        return absl::InvalidArgumentError(
            absl::StrCat("parameter '", spec.name, "': '", text, "' is not a number"));
      }
      return ParamValue(v);
    }
    case ParamType::kBool: {
      bool v;
      if (!absl::SimpleAtob(text, &v)) {
        return absl::InvalidArgumentError(
            absl::StrCat("parameter '", spec.name, "': '", text, "' is not true or false"));
      }
      return ParamValue(v);
    }
    case ParamType::kEnum:
      return ParamValue(std::string(text));
  }
  return absl::InternalError("unreachable");
}

std::string FormatParamValue(const ParamValue& value) {
  switch (value.index()) {
    case 0:
      return absl::StrCat(std::get<int64_t>(value));
    case 1:
      return absl::StrFormat("%g", std::get<double>(value));
    case 2:
      return std::get<bool>(value) ? "true" : "false";
    default:
      return std::get<std::string>(value);
  }
}

const char* ParamTypeName(ParamType type) {
  switch (type) {
    case ParamType::kInt:
      return "int";
    case ParamType::kDouble:
      return "double";
    case ParamType::kBool:
      return "bool";
    case ParamType::kEnum:
      return "enum";
  }
  return "?";
}

int64_t GetInt(const Params& params, const std::string& name) {
  auto it = params.find(name);
  if (it == params.end() || !std::holds_alternative<int64_t>(it->second)) return 0;
  return std::get<int64_t>(it->second);
}

double GetDouble(const Params& params, const std::string& name) {
  auto it = params.find(name);
  if (it == params.end()) return 0;
  if (std::holds_alternative<int64_t>(it->second)) {
    return static_cast<double>(std::get<int64_t>(it->second));
  }
  if (!std::holds_alternative<double>(it->second)) return 0;
  return std::get<double>(it->second);
}

bool GetBool(const Params& params, const std::string& name) {
  auto it = params.find(name);
  if (it == params.end() || !std::holds_alternative<bool>(it->second)) return false;
  return std::get<bool>(it->second);
}

std::string GetEnum(const Params& params, const std::string& name) {
  auto it = params.find(name);
  if (it == params.end() || !std::holds_alternative<std::string>(it->second)) return "";
  return std::get<std::string>(it->second);
}

}  // namespace faultline::agent::bench
