#include "controller/scheduling/param_validation.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace faultline::controller::scheduling {
namespace {

const char* TypeName(v1::ParamType type) {
  switch (type) {
    case v1::PARAM_TYPE_INT:
      return "an integer";
    case v1::PARAM_TYPE_DOUBLE:
      return "a number";
    case v1::PARAM_TYPE_BOOL:
      return "a boolean";
    case v1::PARAM_TYPE_ENUM:
      return "one of the allowed values";
    default:
      return "a value";
  }
}

// A double that is a whole number an int64_t holds exactly, e.g. 1.0 from a JSON or
// text-format writer that does not tell integers from numbers.
bool IsWholeNumber(double v) {
  return std::isfinite(v) && v == std::trunc(v) && std::fabs(v) <= 9007199254740992.0;  // 2^53
}

bool HasType(const v1::ParamValue& value, v1::ParamType type) {
  switch (type) {
    case v1::PARAM_TYPE_INT:
      return value.kind_case() == v1::ParamValue::kIntValue ||
             (value.kind_case() == v1::ParamValue::kDoubleValue &&
              IsWholeNumber(value.double_value()));
    case v1::PARAM_TYPE_DOUBLE:
      // An integer literal is an acceptable double ("ratio: 1").
      return value.kind_case() == v1::ParamValue::kDoubleValue ||
             value.kind_case() == v1::ParamValue::kIntValue;
    case v1::PARAM_TYPE_BOOL:
      return value.kind_case() == v1::ParamValue::kBoolValue;
    case v1::PARAM_TYPE_ENUM:
      return value.kind_case() == v1::ParamValue::kEnumValue;
    default:
      return false;
  }
}

double AsDouble(const v1::ParamValue& value) {
  return value.kind_case() == v1::ParamValue::kIntValue ? static_cast<double>(value.int_value())
                                                        : value.double_value();
}

absl::Status CheckOne(const v1::ParamSpec& spec, const std::string& field,
                      v1::ParamValue* value) {
  if (!HasType(*value, spec.type())) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": must be ", TypeName(spec.type()),
                                                   ", got ", FormatParamValue(*value)));
  }
  switch (spec.type()) {
    case v1::PARAM_TYPE_INT: {
      if (value->kind_case() == v1::ParamValue::kDoubleValue) {
        value->set_int_value(static_cast<int64_t>(value->double_value()));
      }
      const int64_t v = value->int_value();
      if (spec.has_min() && v < spec.min().int_value()) {
        return absl::InvalidArgumentError(
            absl::StrCat(field, ": ", v, " is below the minimum ", spec.min().int_value()));
      }
      if (spec.has_max() && v > spec.max().int_value()) {
        return absl::InvalidArgumentError(
            absl::StrCat(field, ": ", v, " is above the maximum ", spec.max().int_value()));
      }
      break;
    }
    case v1::PARAM_TYPE_DOUBLE: {
      const double v = AsDouble(*value);
      if (!std::isfinite(v)) {
        return absl::InvalidArgumentError(absl::StrCat(field, ": must be finite"));
      }
      if (spec.has_min() && v < AsDouble(spec.min())) {
        return absl::InvalidArgumentError(
            absl::StrCat(field, ": ", v, " is below the minimum ", AsDouble(spec.min())));
      }
      if (spec.has_max() && v > AsDouble(spec.max())) {
        return absl::InvalidArgumentError(
            absl::StrCat(field, ": ", v, " is above the maximum ", AsDouble(spec.max())));
      }
      value->set_double_value(v);
      break;
    }
    case v1::PARAM_TYPE_ENUM: {
      const auto& allowed = spec.allowed_values();
      if (std::find(allowed.begin(), allowed.end(), value->enum_value()) == allowed.end()) {
        return absl::InvalidArgumentError(
            absl::StrCat(field, ": \"", value->enum_value(), "\" is not one of ",
                         absl::StrJoin(allowed.begin(), allowed.end(), "|")));
      }
      break;
    }
    default:
      break;
  }
  return absl::OkStatus();
}

}  // namespace

std::string FormatParamValue(const v1::ParamValue& value) {
  switch (value.kind_case()) {
    case v1::ParamValue::kIntValue:
      return absl::StrCat(value.int_value());
    case v1::ParamValue::kDoubleValue:
      // "1.5", and "2.0" rather than "2", which would read as an integer.
      return IsWholeNumber(value.double_value()) ? absl::StrFormat("%.1f", value.double_value())
                                                 : absl::StrCat(value.double_value());
    case v1::ParamValue::kBoolValue:
      return value.bool_value() ? "true" : "false";
    case v1::ParamValue::kEnumValue:
      return value.enum_value();
    default:
      return "(unset)";
  }
}

absl::Status ResolveInvocationParams(const v1::BenchmarkSpec& spec, const std::string& field,
                                     google::protobuf::Map<std::string, v1::ParamValue>* params) {
  // Sorted so the first error reported does not depend on map iteration order.
  std::vector<std::string> names;
  for (const auto& [name, unused] : *params) names.push_back(name);
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    const v1::ParamSpec* param = nullptr;
    for (const v1::ParamSpec& p : spec.params()) {
      if (p.name() == name) param = &p;
    }
    const std::string param_field = absl::StrCat(field, ".", name);
    if (param == nullptr) {
      std::vector<std::string> known;
      for (const v1::ParamSpec& p : spec.params()) known.push_back(p.name());
      return absl::InvalidArgumentError(
          absl::StrCat(param_field, ": unknown parameter of ", spec.name(), " (known: ",
                       known.empty() ? "none" : absl::StrJoin(known, ", "), ")"));
    }
    absl::Status status = CheckOne(*param, param_field, &(*params)[name]);
    if (!status.ok()) return status;
  }
  for (const v1::ParamSpec& p : spec.params()) {
    if (params->find(p.name()) == params->end()) (*params)[p.name()] = p.default_value();
  }
  return absl::OkStatus();
}

}  // namespace faultline::controller::scheduling
