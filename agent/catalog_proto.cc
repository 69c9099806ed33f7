#include "agent/catalog_proto.h"

#include <variant>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace faultline::agent {
namespace {

const char* KindName(v1::ParamValue::KindCase kind) {
  switch (kind) {
    case v1::ParamValue::kIntValue:
      return "an int";
    case v1::ParamValue::kDoubleValue:
      return "a double";
    case v1::ParamValue::kBoolValue:
      return "a bool";
    case v1::ParamValue::kEnumValue:
      return "a string (enum)";
    default:
      return "no";
  }
}

const char* TypeName(bench::ParamType type) {
  switch (type) {
    case bench::ParamType::kInt:
      return "an int";
    case bench::ParamType::kDouble:
      return "a double";
    case bench::ParamType::kBool:
      return "a bool";
    case bench::ParamType::kEnum:
      return "a string (enum)";
  }
  return "?";
}

std::string HistogramUnit(const std::string& name) {
  if (absl::EndsWith(name, "_ns")) return "ns";
  if (absl::EndsWith(name, "_us")) return "us";
  return "";
}

}  // namespace

v1::ParamValue ParamValueToProto(const bench::ParamValue& value) {
  v1::ParamValue out;
  if (const auto* i = std::get_if<int64_t>(&value)) out.set_int_value(*i);
  if (const auto* d = std::get_if<double>(&value)) out.set_double_value(*d);
  if (const auto* b = std::get_if<bool>(&value)) out.set_bool_value(*b);
  if (const auto* s = std::get_if<std::string>(&value)) out.set_enum_value(*s);
  return out;
}

v1::ParamType ParamTypeToProto(bench::ParamType type) {
  switch (type) {
    case bench::ParamType::kInt:
      return v1::PARAM_TYPE_INT;
    case bench::ParamType::kDouble:
      return v1::PARAM_TYPE_DOUBLE;
    case bench::ParamType::kBool:
      return v1::PARAM_TYPE_BOOL;
    case bench::ParamType::kEnum:
      return v1::PARAM_TYPE_ENUM;
  }
  return v1::PARAM_TYPE_UNSPECIFIED;
}

v1::Direction DirectionToProto(bench::Direction direction) {
  switch (direction) {
    case bench::Direction::kLowerIsBetter:
      return v1::DIRECTION_LOWER_IS_BETTER;
    case bench::Direction::kHigherIsBetter:
      return v1::DIRECTION_HIGHER_IS_BETTER;
    case bench::Direction::kNeutral:
      return v1::DIRECTION_NEUTRAL;
  }
  return v1::DIRECTION_UNSPECIFIED;
}

v1::ParamSpec ParamSpecToProto(const bench::ParamSpec& spec) {
  v1::ParamSpec out;
  out.set_name(spec.name);
  out.set_type(ParamTypeToProto(spec.type));
  out.set_description(spec.description);
  out.set_unit(spec.unit);
  *out.mutable_default_value() = ParamValueToProto(spec.default_value);
  if (spec.type == bench::ParamType::kInt || spec.type == bench::ParamType::kDouble) {
    *out.mutable_min() = ParamValueToProto(spec.min);
    *out.mutable_max() = ParamValueToProto(spec.max);
  }
  for (const std::string& choice : spec.allowed_values) out.add_allowed_values(choice);
  return out;
}

v1::MetricSpec MetricSpecToProto(const bench::MetricSpec& spec) {
  v1::MetricSpec out;
  out.set_name(spec.name);
  out.set_unit(spec.unit);
  out.set_direction(DirectionToProto(spec.direction));
  out.set_description(spec.description);
  return out;
}

v1::BenchmarkSpec BenchmarkSpecToProto(const bench::BenchmarkInfo& info) {
  v1::BenchmarkSpec out;
  out.set_name(info.name);
  out.set_description(info.description);
  for (const bench::ParamSpec& param : info.params) *out.add_params() = ParamSpecToProto(param);
  for (const bench::MetricSpec& metric : info.metrics) {
    *out.add_metrics() = MetricSpecToProto(metric);
  }
  return out;
}

v1::RunState RunStatusToProto(bench::RunStatus status) {
  switch (status) {
    case bench::RunStatus::kOk:
      return v1::RUN_STATE_OK;
    case bench::RunStatus::kFailed:
      return v1::RUN_STATE_FAILED;
    case bench::RunStatus::kSkipped:
      return v1::RUN_STATE_SKIPPED;
    case bench::RunStatus::kRefused:
      return v1::RUN_STATE_REFUSED;
  }
  return v1::RUN_STATE_UNSPECIFIED;
}

v1::Histogram HistogramToProto(const bench::Histogram& histogram, const std::string& unit) {
  v1::Histogram out;
  out.set_unit(unit);
  out.set_sub_bucket_bits(histogram.sub_bucket_bits());
  const std::vector<uint64_t>& counts = histogram.counts();
  for (size_t i = 0; i < counts.size(); ++i) {
    if (counts[i] == 0) continue;
    out.add_bucket_index(static_cast<uint32_t>(i));
    out.add_count(counts[i]);
  }
  out.set_total_count(histogram.total_count());
  if (histogram.total_count() > 0) {
    out.set_min(static_cast<double>(histogram.min()));
    out.set_max(static_cast<double>(histogram.max()));
  }
  out.set_sum(histogram.sum());
  return out;
}

v1::RunResult RunOutputToProto(const bench::BenchmarkInfo& info, const bench::Params& params,
                               const bench::RunOutput& output) {
  v1::RunResult out;
  out.set_benchmark(info.name);
  for (const auto& [name, value] : params) (*out.mutable_params())[name] = ParamValueToProto(value);
  out.set_state(RunStatusToProto(output.status));
  out.set_diagnostic(output.diagnostic);
  out.set_timer_overhead_ns(output.timer_overhead_ns);
  out.set_warmup(static_cast<uint32_t>(output.warmup));
  const size_t measured = output.repetitions.size();
  for (size_t r = 0; r < measured + output.tracing_repetitions.size(); ++r) {
    const bench::RepetitionResult& rep =
        r < measured ? output.repetitions[r] : output.tracing_repetitions[r - measured];
    v1::Repetition* rep_out =
        r < measured ? out.add_repetitions() : out.add_tracing_repetitions();
    rep_out->set_index(static_cast<uint32_t>(r));
    rep_out->set_wall_ns(rep.wall_ns);
    for (const bench::MetricValue& metric : rep.metrics) {
      v1::MetricValue* metric_out = rep_out->add_metrics();
      metric_out->set_name(metric.name);
      metric_out->set_value(metric.value);
      for (const bench::MetricSpec& spec : info.metrics) {
        if (spec.name != metric.name) continue;
        metric_out->set_unit(spec.unit);
        metric_out->set_direction(DirectionToProto(spec.direction));
      }
    }
    for (const auto& [name, value] : rep.counters) (*rep_out->mutable_counters())[name] = value;
    for (const std::string& name : rep.unavailable_counters) {
      rep_out->add_unavailable_counters(name);
    }
    for (const auto& [family, reason] : rep.unavailable_reasons) {
      (*rep_out->mutable_unavailable_reasons())[family] = reason;
    }
    for (const std::string& reason : rep.disturbances) rep_out->add_disturbances(reason);
    for (const auto& [name, histogram] : rep.histograms) {
      v1::NamedHistogram* named = rep_out->add_histograms();
      named->set_name(name);
      *named->mutable_histogram() = HistogramToProto(histogram, HistogramUnit(name));
    }
  }
  const bench::KernelProfile& profile = output.profile;
  if (profile.repetitions > 0 || !profile.unavailable_reason.empty()) {
    v1::KernelProfile* p = out.mutable_profile();
    p->set_method(profile.method);
    p->set_repetitions(static_cast<uint32_t>(profile.repetitions));
    p->set_wall_ns(profile.wall_ns);
    p->set_samples(profile.samples);
    p->set_kernel_samples(profile.kernel_samples);
    p->set_lost_samples(profile.lost_samples);
    p->set_unavailable_reason(profile.unavailable_reason);
    for (const bench::ProfileSymbol& s : profile.symbols) {
      v1::ProfileSymbol* symbol = p->add_symbols();
      symbol->set_name(s.name);
      symbol->set_self_samples(s.self_samples);
      symbol->set_total_samples(s.total_samples);
    }
  }
  return out;
}

absl::StatusOr<bench::Params> ParamsFromProto(
    const bench::BenchmarkInfo& info,
    const google::protobuf::Map<std::string, v1::ParamValue>& params) {
  bench::Params out;
  for (const auto& [name, value] : params) {
    const bench::ParamSpec* spec = nullptr;
    for (const bench::ParamSpec& candidate : info.params) {
      if (candidate.name == name) spec = &candidate;
    }
    if (spec == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("params.", name, ": not a parameter of benchmark ", info.name));
    }
    const v1::ParamValue::KindCase kind = value.kind_case();
    bool matches = false;
    switch (spec->type) {
      case bench::ParamType::kInt:
        matches = kind == v1::ParamValue::kIntValue;
        if (matches) out[name] = static_cast<int64_t>(value.int_value());
        break;
      case bench::ParamType::kDouble:
        matches = kind == v1::ParamValue::kDoubleValue || kind == v1::ParamValue::kIntValue;
        if (kind == v1::ParamValue::kDoubleValue) out[name] = value.double_value();
        if (kind == v1::ParamValue::kIntValue) {
          out[name] = static_cast<double>(value.int_value());
        }
        break;
      case bench::ParamType::kBool:
        matches = kind == v1::ParamValue::kBoolValue;
        if (matches) out[name] = value.bool_value();
        break;
      case bench::ParamType::kEnum:
        matches = kind == v1::ParamValue::kEnumValue;
        if (matches) out[name] = value.enum_value();
        break;
    }
    if (!matches) {
      return absl::InvalidArgumentError(absl::StrCat("params.", name, ": expected ",
                                                     TypeName(spec->type), " value, got ",
                                                     KindName(kind), " value"));
    }
  }
  return out;
}

}  // namespace faultline::agent
