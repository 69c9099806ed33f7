#include "controller/validation/request_validation.h"

#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "controller/analysis/gate.h"
#include "controller/analysis/sequential_plan.h"

namespace faultline::controller::validation {
namespace {

absl::Status Invalid(absl::string_view field, absl::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", reason));
}

std::string Index(absl::string_view field, int i) { return absl::StrCat(field, "[", i, "]"); }

std::string Key(absl::string_view field, absl::string_view key) {
  // Keys are shown only when they are themselves sane; the field path stays readable.
  if (key.size() <= limits::kMaxNameLength) return absl::StrCat(field, "[\"", key, "\"]");
  return absl::StrCat(field, "[<", key.size(), "-character key>]");
}

#define RETURN_IF_ERROR(expr)          \
  do {                                 \
    absl::Status status_ = (expr);     \
    if (!status_.ok()) return status_; \
  } while (false)

bool IsIdentifierChar(char c, bool agent) {
  if (absl::ascii_isalnum(static_cast<unsigned char>(c))) return true;
  if (c == '.' || c == '_' || c == ':' || c == '-') return true;
  return !agent && (c == '@' || c == '/');
}

absl::Status CheckId(absl::string_view value, absl::string_view field, bool required, bool agent) {
  if (value.empty()) return required ? Invalid(field, "must be set") : absl::OkStatus();
  if (value.size() > limits::kMaxIdentifierLength) {
    return Invalid(
        field, absl::StrCat(value.size(), " characters, at most ", limits::kMaxIdentifierLength));
  }
  for (char c : value) {
    if (!IsIdentifierChar(c, agent)) {
      const std::string shown =
          absl::ascii_isprint(static_cast<unsigned char>(c))
              ? absl::StrCat("'", std::string(1, c), "'")
              : absl::StrCat("byte ", static_cast<int>(static_cast<unsigned char>(c)));
      return Invalid(field, absl::StrCat(shown, " is not allowed (use ",
                                         agent ? "[A-Za-z0-9._:-]" : "[A-Za-z0-9._:@/-]", ")"));
    }
  }
  return absl::OkStatus();
}

// Agent ids are documented as [A-Za-z0-9._:-] (RegisterRequest), as Fleet enforces.
absl::Status CheckAgentId(absl::string_view value, absl::string_view field, bool required) {
  return CheckId(value, field, required, /*agent=*/true);
}

// A glob over agent ids (a selector's agent): their characters plus * and ?.
absl::Status CheckAgentIdGlob(absl::string_view value, absl::string_view field) {
  std::string as_id(value);
  for (char& c : as_id) {
    if (c == '*' || c == '?') c = 'x';
  }
  return CheckId(as_id, field, /*required=*/false, /*agent=*/true);
}

absl::Status CheckLength(absl::string_view value, absl::string_view field, size_t max) {
  if (value.size() > max) {
    return Invalid(field, absl::StrCat(value.size(), " characters, at most ", max));
  }
  return absl::OkStatus();
}

absl::Status CheckName(absl::string_view value, absl::string_view field, bool required) {
  if (value.empty() && required) return Invalid(field, "must be set");
  return CheckLength(value, field, limits::kMaxNameLength);
}

absl::Status CheckCount(int count, absl::string_view field, int max, absl::string_view what) {
  if (count > max) return Invalid(field, absl::StrCat(count, " ", what, ", at most ", max));
  return absl::OkStatus();
}

absl::Status CheckAtMost(uint64_t value, absl::string_view field, uint64_t max) {
  if (value > max) return Invalid(field, absl::StrCat(value, " is above the maximum ", max));
  return absl::OkStatus();
}

absl::Status CheckFinite(double value, absl::string_view field) {
  if (!std::isfinite(value)) return Invalid(field, "not a finite number");
  return absl::OkStatus();
}

// A fraction option where 0 means "the default": 0, or inside (lo, hi) / [lo, hi).
absl::Status CheckOptionalFraction(double value, absl::string_view field, bool low_inclusive) {
  if (value == 0) return absl::OkStatus();
  const bool ok = std::isfinite(value) && (low_inclusive ? value >= 0 : value > 0) && value < 1;
  if (!ok) {
    return Invalid(field, absl::StrCat(value, " is neither 0 (the default) nor in ",
                                       low_inclusive ? "[0, 1)" : "(0, 1)"));
  }
  return absl::OkStatus();
}

absl::Status CheckEnum(int value, absl::string_view field, bool (*is_valid)(int), bool required) {
  if (!is_valid(value)) return Invalid(field, absl::StrCat("unknown value ", value));
  if (required && value == 0) return Invalid(field, "must be set (not UNSPECIFIED)");
  return absl::OkStatus();
}

absl::Status CheckStringList(const google::protobuf::RepeatedPtrField<std::string>& list,
                             absl::string_view field, int max_count, size_t max_length,
                             absl::string_view what) {
  RETURN_IF_ERROR(CheckCount(list.size(), field, max_count, what));
  for (int i = 0; i < list.size(); ++i) {
    if (list.Get(i).empty()) return Invalid(Index(field, i), "must not be empty");
    RETURN_IF_ERROR(CheckLength(list.Get(i), Index(field, i), max_length));
  }
  return absl::OkStatus();
}

absl::Status CheckParamValue(const v1::ParamValue& value, absl::string_view field) {
  switch (value.kind_case()) {
    case v1::ParamValue::kDoubleValue:
      return CheckFinite(value.double_value(), field);
    case v1::ParamValue::kEnumValue:
      return CheckLength(value.enum_value(), field, limits::kMaxNameLength);
    default:
      return absl::OkStatus();
  }
}

absl::Status CheckParamMap(const google::protobuf::Map<std::string, v1::ParamValue>& params,
                           absl::string_view field) {
  RETURN_IF_ERROR(CheckCount(static_cast<int>(params.size()), field,
                             limits::kMaxParamsPerInvocation, "parameters"));
  for (const auto& [name, value] : params) {
    const std::string entry = Key(field, name);
    RETURN_IF_ERROR(CheckName(name, entry, /*required=*/true));
    RETURN_IF_ERROR(CheckParamValue(value, entry));
  }
  return absl::OkStatus();
}

// `required` asks for what the controller needs to place an agent (Register): arch and release.
// A run's copy of the fingerprint is only bounded.
absl::Status CheckHost(const v1::HostFingerprint& host, const std::string& field, bool required) {
  RETURN_IF_ERROR(CheckEnum(host.arch(), field + ".arch", v1::Arch_IsValid, required));
  RETURN_IF_ERROR(CheckEnum(host.virtualization(), field + ".virtualization",
                            v1::Virtualization_IsValid, false));
  if (host.icount_shift() > limits::kMaxIcountShift) {
    return Invalid(field + ".icount_shift",
                   absl::StrCat(host.icount_shift(), " is not 0..", limits::kMaxIcountShift));
  }
  if (host.icount_shift() != 0 && host.virtualization() != v1::VIRTUALIZATION_EMULATED_ICOUNT) {
    return Invalid(field + ".icount_shift", "set without virtualization EMULATED_ICOUNT");
  }
  if (required && host.kernel_release().empty()) {
    return Invalid(field + ".kernel_release", "must be set");
  }
  for (const auto& [name, value, max] : {
           std::tuple<const char*, const std::string&, size_t>{"hostname", host.hostname(),
                                                               limits::kMaxNameLength * 2},
           {"kernel_release", host.kernel_release(), limits::kMaxNameLength * 2},
           {"kernel_version", host.kernel_version(), limits::kMaxTextLength},
           {"kernel_label", host.kernel_label(), limits::kMaxNameLength},
           {"kernel_config_hash", host.kernel_config_hash(), limits::kMaxNameLength},
           {"cmdline", host.cmdline(), limits::kMaxCmdlineLength},
           {"cpu_model", host.cpu_model(), limits::kMaxTextLength},
           {"thp_enabled", host.thp_enabled(), limits::kMaxNameLength},
           {"thp_defrag", host.thp_defrag(), limits::kMaxNameLength},
           // Derived from the CPU model string unless set: room for the longest brand strings.
           {"host_class", host.host_class(), limits::kMaxPatternLength},
       }) {
    RETURN_IF_ERROR(CheckLength(value, absl::StrCat(field, ".", name), max));
  }
  if (host.page_size() != 0 && (host.page_size() & (host.page_size() - 1)) != 0) {
    return Invalid(field + ".page_size", absl::StrCat(host.page_size(), " is not a power of two"));
  }
  RETURN_IF_ERROR(CheckCount(static_cast<int>(host.sysctls().size()), field + ".sysctls",
                             limits::kMaxHostSysctls, "sysctls"));
  for (const auto& [name, value] : host.sysctls()) {
    const std::string entry = Key(field + ".sysctls", name);
    RETURN_IF_ERROR(CheckName(name, entry, /*required=*/true));
    RETURN_IF_ERROR(CheckLength(value, entry, limits::kMaxTextLength));
  }
  return CheckStringList(host.features(), field + ".features", limits::kMaxHostFeatures,
                         limits::kMaxNameLength, "features");
}

absl::Status CheckBenchmarkSpec(const v1::BenchmarkSpec& b, const std::string& field) {
  RETURN_IF_ERROR(CheckId(b.name(), field + ".name", /*required=*/true, /*agent=*/false));
  RETURN_IF_ERROR(CheckLength(b.description(), field + ".description", limits::kMaxTextLength));
  RETURN_IF_ERROR(
      CheckCount(b.params_size(), field + ".params", limits::kMaxParamsPerBenchmark, "parameters"));
  for (int p = 0; p < b.params_size(); ++p) {
    const v1::ParamSpec& param = b.params(p);
    const std::string pfield = Index(field + ".params", p);
    RETURN_IF_ERROR(CheckName(param.name(), pfield + ".name", /*required=*/true));
    RETURN_IF_ERROR(
        CheckEnum(param.type(), pfield + ".type", v1::ParamType_IsValid, /*required=*/true));
    RETURN_IF_ERROR(
        CheckLength(param.description(), pfield + ".description", limits::kMaxTextLength));
    RETURN_IF_ERROR(CheckLength(param.unit(), pfield + ".unit", limits::kMaxNameLength));
    RETURN_IF_ERROR(CheckParamValue(param.default_value(), pfield + ".default_value"));
    RETURN_IF_ERROR(CheckParamValue(param.min(), pfield + ".min"));
    RETURN_IF_ERROR(CheckParamValue(param.max(), pfield + ".max"));
    RETURN_IF_ERROR(CheckStringList(param.allowed_values(), pfield + ".allowed_values",
                                    limits::kMaxAllowedValues, limits::kMaxNameLength, "values"));
  }
  RETURN_IF_ERROR(
      CheckCount(b.metrics_size(), field + ".metrics", limits::kMaxMetricsPerBenchmark, "metrics"));
  for (int m = 0; m < b.metrics_size(); ++m) {
    const v1::MetricSpec& metric = b.metrics(m);
    const std::string mfield = Index(field + ".metrics", m);
    RETURN_IF_ERROR(CheckName(metric.name(), mfield + ".name", /*required=*/true));
    RETURN_IF_ERROR(CheckLength(metric.unit(), mfield + ".unit", limits::kMaxNameLength));
    RETURN_IF_ERROR(
        CheckEnum(metric.direction(), mfield + ".direction", v1::Direction_IsValid, false));
    RETURN_IF_ERROR(
        CheckLength(metric.description(), mfield + ".description", limits::kMaxTextLength));
  }
  return absl::OkStatus();
}

absl::Status CheckHistogram(const v1::NamedHistogram& named, const std::string& field,
                            int* buckets_so_far) {
  RETURN_IF_ERROR(CheckName(named.name(), field + ".name", /*required=*/true));
  const v1::Histogram& h = named.histogram();
  const std::string hfield = field + ".histogram";
  RETURN_IF_ERROR(CheckLength(h.unit(), hfield + ".unit", limits::kMaxNameLength));
  RETURN_IF_ERROR(CheckAtMost(h.sub_bucket_bits(), hfield + ".sub_bucket_bits",
                              limits::kMaxHistogramSubBucketBits));
  if (h.bucket_index_size() != h.count_size()) {
    return Invalid(hfield + ".count",
                   absl::StrCat(h.count_size(), " counts for ", h.bucket_index_size(),
                                " bucket indices; the arrays are parallel"));
  }
  RETURN_IF_ERROR(CheckCount(h.bucket_index_size(), hfield + ".bucket_index",
                             limits::kMaxHistogramBuckets, "buckets"));
  const uint32_t limit = 64u << h.sub_bucket_bits();
  for (int i = 0; i < h.bucket_index_size(); ++i) {
    if (h.bucket_index(i) >= limit) {
      return Invalid(Index(hfield + ".bucket_index", i),
                     absl::StrCat(h.bucket_index(i), " is past the last bucket ", limit - 1,
                                  " of sub_bucket_bits ", h.sub_bucket_bits()));
    }
    if (i > 0 && h.bucket_index(i) <= h.bucket_index(i - 1)) {
      return Invalid(Index(hfield + ".bucket_index", i), "indices must ascend");
    }
  }
  for (const auto& [name, value] :
       {std::pair<const char*, double>{"min", h.min()}, {"max", h.max()}, {"sum", h.sum()}}) {
    RETURN_IF_ERROR(CheckFinite(value, absl::StrCat(hfield, ".", name)));
  }
  *buckets_so_far += h.bucket_index_size();
  return absl::OkStatus();
}

absl::Status CheckRepetition(const v1::Repetition& rep, const std::string& field,
                             int* buckets_so_far) {
  RETURN_IF_ERROR(CheckCount(rep.metrics_size(), field + ".metrics",
                             limits::kMaxMetricsPerRepetition, "metrics"));
  std::set<absl::string_view> names;
  for (int m = 0; m < rep.metrics_size(); ++m) {
    const v1::MetricValue& metric = rep.metrics(m);
    const std::string mfield = Index(field + ".metrics", m);
    RETURN_IF_ERROR(CheckName(metric.name(), mfield + ".name", /*required=*/true));
    // Samples are stored by (repetition, metric name).
    if (!names.insert(metric.name()).second) {
      return Invalid(mfield + ".name", absl::StrCat("metric '", metric.name(),
                                                    "' appears more than once in the repetition"));
    }
    RETURN_IF_ERROR(CheckLength(metric.unit(), mfield + ".unit", limits::kMaxNameLength));
    RETURN_IF_ERROR(
        CheckEnum(metric.direction(), mfield + ".direction", v1::Direction_IsValid, false));
    if (!std::isfinite(metric.value())) {
      return Invalid(mfield + ".value", absl::StrCat(metric.name(), " is not finite"));
    }
  }
  RETURN_IF_ERROR(CheckCount(static_cast<int>(rep.counters().size()), field + ".counters",
                             limits::kMaxCountersPerRepetition, "counters"));
  for (const auto& [name, value] : rep.counters()) {
    RETURN_IF_ERROR(CheckName(name, Key(field + ".counters", name), /*required=*/true));
  }
  RETURN_IF_ERROR(CheckStringList(rep.unavailable_counters(), field + ".unavailable_counters",
                                  limits::kMaxCountersPerRepetition, limits::kMaxNameLength,
                                  "counters"));
  RETURN_IF_ERROR(CheckCount(rep.histograms_size(), field + ".histograms",
                             limits::kMaxHistogramsPerRepetition, "histograms"));
  for (int h = 0; h < rep.histograms_size(); ++h) {
    RETURN_IF_ERROR(
        CheckHistogram(rep.histograms(h), Index(field + ".histograms", h), buckets_so_far));
  }
  if (rep.wall_ns() < 0) return Invalid(field + ".wall_ns", "negative");
  return absl::OkStatus();
}

absl::Status CheckProfile(const v1::KernelProfile& p, const std::string& field) {
  RETURN_IF_ERROR(CheckLength(p.method(), field + ".method", limits::kMaxTextLength));
  RETURN_IF_ERROR(CheckLength(p.unavailable_reason(), field + ".unavailable_reason",
                              limits::kMaxTextLength));
  RETURN_IF_ERROR(CheckAtMost(p.repetitions(), field + ".repetitions",
                              limits::kMaxProfileRepetitions));
  if (p.wall_ns() < 0) return Invalid(field + ".wall_ns", "negative");
  if (p.kernel_samples() > p.samples()) {
    return Invalid(field + ".kernel_samples",
                   absl::StrCat(p.kernel_samples(), " is more than the ", p.samples(),
                                " samples in all"));
  }
  RETURN_IF_ERROR(CheckCount(p.symbols_size(), field + ".symbols", limits::kMaxProfileSymbols,
                             "symbols"));
  std::set<absl::string_view> names;
  for (int i = 0; i < p.symbols_size(); ++i) {
    const v1::ProfileSymbol& s = p.symbols(i);
    const std::string sfield = Index(field + ".symbols", i);
    // Kernel function names run longer than metric names ("x.cold.constprop.0 [module]").
    if (s.name().empty()) return Invalid(sfield + ".name", "required");
    RETURN_IF_ERROR(CheckLength(s.name(), sfield + ".name", limits::kMaxPatternLength));
    // Stored by (run, function).
    if (!names.insert(s.name()).second) {
      return Invalid(sfield + ".name", absl::StrCat("'", s.name(), "' appears more than once"));
    }
    if (s.self_samples() > s.total_samples() || s.total_samples() > p.kernel_samples()) {
      return Invalid(sfield, absl::StrCat("needs self_samples <= total_samples <= kernel_samples (",
                                          s.self_samples(), ", ", s.total_samples(), ", ",
                                          p.kernel_samples(), ")"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckRunResult(const v1::RunResult& result, const std::string& field) {
  RETURN_IF_ERROR(CheckEnum(result.state(), field + ".state", v1::RunState_IsValid,
                            /*required=*/true));
  RETURN_IF_ERROR(CheckName(result.benchmark(), field + ".benchmark", /*required=*/false));
  RETURN_IF_ERROR(CheckParamMap(result.params(), field + ".params"));
  RETURN_IF_ERROR(
      CheckLength(result.diagnostic(), field + ".diagnostic", limits::kMaxDiagnosticBytes));
  RETURN_IF_ERROR(CheckCount(result.repetitions_size(), field + ".repetitions",
                             limits::kMaxResultRepetitions, "repetitions"));
  if (result.state() == v1::RUN_STATE_OK && result.repetitions().empty()) {
    return Invalid(field + ".repetitions", "a successful run must report repetitions");
  }
  RETURN_IF_ERROR(CheckCount(result.tracing_repetitions_size(), field + ".tracing_repetitions",
                             limits::kMaxTracingRepetitions, "tracing repetitions"));
  int buckets = 0;
  std::set<uint32_t> indexes;
  for (int r = 0; r < result.repetitions_size(); ++r) {
    const std::string rfield = Index(field + ".repetitions", r);
    RETURN_IF_ERROR(CheckRepetition(result.repetitions(r), rfield, &buckets));
    if (!indexes.insert(result.repetitions(r).index()).second) {
      return Invalid(rfield + ".index", absl::StrCat("repetition ", result.repetitions(r).index(),
                                                     " appears more than once"));
    }
    if (buckets > limits::kMaxHistogramBucketsPerResult) {
      return Invalid(rfield + ".histograms",
                     absl::StrCat("more than ", limits::kMaxHistogramBucketsPerResult,
                                  " histogram buckets in the result so far"));
    }
  }
  // Tracing repetitions continue the measured ones' numbering: samples are stored by it.
  for (int r = 0; r < result.tracing_repetitions_size(); ++r) {
    const std::string rfield = Index(field + ".tracing_repetitions", r);
    RETURN_IF_ERROR(CheckRepetition(result.tracing_repetitions(r), rfield, &buckets));
    if (!indexes.insert(result.tracing_repetitions(r).index()).second) {
      return Invalid(rfield + ".index",
                     absl::StrCat("repetition ", result.tracing_repetitions(r).index(),
                                  " appears more than once"));
    }
    if (buckets > limits::kMaxHistogramBucketsPerResult) {
      return Invalid(rfield + ".histograms",
                     absl::StrCat("more than ", limits::kMaxHistogramBucketsPerResult,
                                  " histogram buckets in the result so far"));
    }
  }
  RETURN_IF_ERROR(CheckHost(result.host(), field + ".host", /*required=*/false));
  RETURN_IF_ERROR(CheckProfile(result.profile(), field + ".profile"));
  if (!std::isfinite(result.timer_overhead_ns()) || result.timer_overhead_ns() < 0) {
    return Invalid(field + ".timer_overhead_ns", "must be a finite number >= 0");
  }
  return CheckAtMost(result.warmup(), field + ".warmup", limits::kMaxWarmup);
}

absl::Status CheckTarget(const v1::TargetSelector& target, const std::string& field) {
  RETURN_IF_ERROR(CheckName(target.name(), field + ".name", /*required=*/false));
  RETURN_IF_ERROR(CheckEnum(target.arch(), field + ".arch", v1::Arch_IsValid, /*required=*/false));
  for (const auto& [name, value] :
       {std::pair<const char*, const std::string&>{"kernel_label", target.kernel_label()},
        {"kernel_release", target.kernel_release()},
        {"host_class", target.host_class()}}) {
    RETURN_IF_ERROR(CheckLength(value, absl::StrCat(field, ".", name), limits::kMaxPatternLength));
  }
  RETURN_IF_ERROR(CheckStringList(target.host_tags(), field + ".host_tags",
                                  limits::kMaxTargetHostTags, limits::kMaxNameLength, "tags"));
  RETURN_IF_ERROR(CheckCount(target.agent_ids_size(), field + ".agent_ids",
                             limits::kMaxTargetAgentIds, "agents"));
  for (int i = 0; i < target.agent_ids_size(); ++i) {
    RETURN_IF_ERROR(
        CheckAgentId(target.agent_ids(i), Index(field + ".agent_ids", i), /*required=*/true));
  }
  return absl::OkStatus();
}

absl::Status CheckInvocation(const v1::BenchmarkInvocation& inv, const std::string& field) {
  RETURN_IF_ERROR(CheckName(inv.benchmark(), field + ".benchmark", /*required=*/true));
  RETURN_IF_ERROR(CheckParamMap(inv.params(), field + ".params"));
  RETURN_IF_ERROR(
      CheckAtMost(inv.repetitions(), field + ".repetitions", limits::kMaxRepetitions));
  RETURN_IF_ERROR(CheckAtMost(inv.warmup(), field + ".warmup", limits::kMaxWarmup));
  RETURN_IF_ERROR(CheckAtMost(inv.trace_repetitions(), field + ".trace_repetitions",
                              static_cast<uint32_t>(limits::kMaxTracingRepetitions)));
  RETURN_IF_ERROR(CheckAtMost(inv.profile_repetitions(), field + ".profile_repetitions",
                              limits::kMaxProfileRepetitions));
  return CheckAtMost(inv.timeout_seconds(), field + ".timeout_seconds",
                     limits::kMaxTimeoutSeconds);
}

// `allow_empty` for a gate that runs its own campaign: an empty side then means "any machine".
absl::Status CheckSelector(const v1::ResultSelector& s, const std::string& field,
                           bool allow_empty = false) {
  if (!allow_empty && s.ByteSizeLong() == 0) {
    return Invalid(field, "empty selector; set a campaign, kernel label or other filter");
  }
  RETURN_IF_ERROR(CheckId(s.campaign_id(), field + ".campaign_id", false, false));
  if (s.campaign_ids_size() > static_cast<int>(limits::kMaxSequentialRounds)) {
    return Invalid(field + ".campaign_ids", absl::StrCat(s.campaign_ids_size(),
                                                         " campaigns, at most ",
                                                         limits::kMaxSequentialRounds));
  }
  for (int i = 0; i < s.campaign_ids_size(); ++i) {
    RETURN_IF_ERROR(CheckId(s.campaign_ids(i), absl::StrCat(field, ".campaign_ids[", i, "]"),
                            /*required=*/true, false));
  }
  RETURN_IF_ERROR(CheckName(s.target_name(), field + ".target_name", false));
  RETURN_IF_ERROR(
      CheckLength(s.kernel_label(), field + ".kernel_label", limits::kMaxPatternLength));
  RETURN_IF_ERROR(
      CheckLength(s.kernel_release(), field + ".kernel_release", limits::kMaxPatternLength));
  RETURN_IF_ERROR(CheckEnum(s.arch(), field + ".arch", v1::Arch_IsValid, false));
  RETURN_IF_ERROR(CheckLength(s.host_class(), field + ".host_class", limits::kMaxPatternLength));
  RETURN_IF_ERROR(CheckLength(s.benchmark(), field + ".benchmark", limits::kMaxPatternLength));
  // A glob, like the other selector fields: a lab machine's boots are one agent each.
  return CheckAgentIdGlob(s.agent_id(), field + ".agent_id");
}

absl::Status CheckCompareOptions(const v1::CompareOptions& o, const std::string& field) {
  RETURN_IF_ERROR(CheckOptionalFraction(o.confidence(), field + ".confidence", false));
  RETURN_IF_ERROR(CheckOptionalFraction(o.fdr_level(), field + ".fdr_level", false));
  if (o.has_fdr_level() && o.fdr_level() == 0) {
    return Invalid(field + ".fdr_level", "0 is not in (0, 1); leave it unset for the default");
  }
  RETURN_IF_ERROR(CheckOptionalFraction(o.min_effect(), field + ".min_effect", true));
  RETURN_IF_ERROR(CheckEnum(o.replication_unit(), field + ".replication_unit",
                            v1::ReplicationUnit_IsValid, false));
  if (!std::isfinite(o.max_cv()) || o.max_cv() < 0) {
    return Invalid(field + ".max_cv", absl::StrCat(o.max_cv(), " is not a finite number >= 0"));
  }
  if (o.min_samples_per_side() == 1) {
    return Invalid(field + ".min_samples_per_side", "1 is below 2 (0 means the default 5)");
  }
  if (o.metrics_size() > limits::kMaxCompareMetricGlobs) {
    return Invalid(field + ".metrics", absl::StrCat(o.metrics_size(), " globs, at most ",
                                                    limits::kMaxCompareMetricGlobs));
  }
  for (int i = 0; i < o.metrics_size(); ++i) {
    const std::string name = absl::StrCat(field, ".metrics[", i, "]");
    // An empty glob would match every metric, which is what leaving the list empty says.
    if (o.metrics(i).empty()) return Invalid(name, "empty; give BENCHMARK:METRIC or METRIC");
    RETURN_IF_ERROR(CheckLength(o.metrics(i), name, limits::kMaxPatternLength));
  }
  return CheckAtMost(o.min_samples_per_side(), field + ".min_samples_per_side",
                     limits::kMaxMinSamplesPerSide);
}

}  // namespace

absl::Status ValidateIdentifier(absl::string_view value, absl::string_view field, bool required) {
  return CheckId(value, field, required, /*agent=*/false);
}

absl::Status ValidateAgentId(absl::string_view agent_id, absl::string_view field) {
  return CheckAgentId(agent_id, field, /*required=*/true);
}

absl::Status ValidateRunResult(const v1::RunResult& result, const std::string& field) {
  return CheckRunResult(result, field);
}

absl::Status ValidateCampaignSpecShape(const v1::CampaignSpec& spec, const std::string& field,
                                       bool targets_required) {
  if (targets_required && spec.name().empty()) return Invalid(field + ".name", "must be set");
  RETURN_IF_ERROR(CheckName(spec.name(), field + ".name", /*required=*/false));
  if (spec.suite().empty()) {
    return Invalid(field + ".suite", "must list at least one benchmark");
  }
  RETURN_IF_ERROR(
      CheckCount(spec.suite_size(), field + ".suite", limits::kMaxSuiteSize, "invocations"));
  for (int i = 0; i < spec.suite_size(); ++i) {
    RETURN_IF_ERROR(CheckInvocation(spec.suite(i), Index(field + ".suite", i)));
  }
  if (targets_required && spec.targets().empty()) {
    return Invalid(field + ".targets", "must list at least one target");
  }
  RETURN_IF_ERROR(
      CheckCount(spec.targets_size(), field + ".targets", limits::kMaxTargets, "targets"));
  for (int t = 0; t < spec.targets_size(); ++t) {
    RETURN_IF_ERROR(CheckTarget(spec.targets(t), Index(field + ".targets", t)));
  }
  RETURN_IF_ERROR(
      CheckAtMost(spec.repetitions(), field + ".repetitions", limits::kMaxRepetitions));
  RETURN_IF_ERROR(CheckAtMost(spec.repetitions_per_job(), field + ".repetitions_per_job",
                              limits::kMaxRepetitions));
  RETURN_IF_ERROR(
      CheckEnum(spec.priority(), field + ".priority", v1::Priority_IsValid, /*required=*/false));
  RETURN_IF_ERROR(CheckCount(static_cast<int>(spec.labels().size()), field + ".labels",
                             limits::kMaxCampaignLabels, "labels"));
  for (const auto& [key, value] : spec.labels()) {
    const std::string entry = Key(field + ".labels", key);
    RETURN_IF_ERROR(CheckName(key, entry, /*required=*/true));
    RETURN_IF_ERROR(CheckLength(value, entry, limits::kMaxTextLength));
  }
  return absl::OkStatus();
}

// --- AgentService ---

namespace {

// RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF. The same rule protobuf's
// parser applies to proto3 strings.
bool IsValidUtf8(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    int extra;
    uint32_t min, code;
    if ((c & 0xE0) == 0xC0) {
      extra = 1, min = 0x80, code = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2, min = 0x800, code = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3, min = 0x10000, code = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= s.size()) return false;
    for (int k = 1; k <= extra; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0) != 0x80) return false;
      code = (code << 6) | (b & 0x3F);
    }
    if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return false;
    i += extra + 1;
  }
  return true;
}

}  // namespace

absl::Status ValidateUtf8Strings(const google::protobuf::Message& message,
                                 absl::string_view field) {
  using google::protobuf::FieldDescriptor;
  const google::protobuf::Reflection* reflection = message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const FieldDescriptor* f : fields) {
    const std::string path = field.empty() ? f->name() : absl::StrCat(field, ".", f->name());
    const int count = f->is_repeated() ? reflection->FieldSize(message, f) : 1;
    for (int i = 0; i < count; ++i) {
      const std::string at = f->is_repeated() ? Index(path, i) : path;
      if (f->type() == FieldDescriptor::TYPE_STRING) {
        std::string scratch;
        const std::string& value =
            f->is_repeated() ? reflection->GetRepeatedStringReference(message, f, i, &scratch)
                             : reflection->GetStringReference(message, f, &scratch);
        if (!IsValidUtf8(value)) return Invalid(at, "not valid UTF-8");
      } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        const google::protobuf::Message& child =
            f->is_repeated() ? reflection->GetRepeatedMessage(message, f, i)
                             : reflection->GetMessage(message, f);
        RETURN_IF_ERROR(ValidateUtf8Strings(child, at));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateRegisterRequest(const v1::RegisterRequest& request) {
  RETURN_IF_ERROR(CheckAgentId(request.agent_id(), "agent_id", /*required=*/true));
  RETURN_IF_ERROR(CheckHost(request.host(), "host", /*required=*/true));
  RETURN_IF_ERROR(
      CheckCount(request.catalog_size(), "catalog", limits::kMaxCatalogEntries, "benchmarks"));
  for (int i = 0; i < request.catalog_size(); ++i) {
    RETURN_IF_ERROR(CheckBenchmarkSpec(request.catalog(i), Index("catalog", i)));
  }
  RETURN_IF_ERROR(CheckStringList(request.tags(), "tags", limits::kMaxAgentTags,
                                  limits::kMaxNameLength, "tags"));
  RETURN_IF_ERROR(CheckLength(request.agent_version(), "agent_version", limits::kMaxNameLength));
  return CheckStringList(request.provisionable_kernels(), "provisionable_kernels",
                         limits::kMaxProvisionableKernels, limits::kMaxNameLength, "kernels");
}

absl::Status ValidateHeartbeatRequest(const v1::HeartbeatRequest& request) {
  RETURN_IF_ERROR(CheckAgentId(request.agent_id(), "agent_id", /*required=*/true));
  RETURN_IF_ERROR(CheckEnum(request.state(), "state", v1::AgentState_IsValid,
                            /*required=*/true));
  if (request.state() == v1::AGENT_STATE_LOST) {
    return Invalid("state", "AGENT_STATE_LOST is set by the controller, never by an agent");
  }
  return ValidateIdentifier(request.job_id(), "job_id", /*required=*/false);
}

absl::Status ValidatePollWorkRequest(const v1::PollWorkRequest& request) {
  RETURN_IF_ERROR(CheckAgentId(request.agent_id(), "agent_id", /*required=*/true));
  return CheckAtMost(request.wait_seconds(), "wait_seconds", limits::kMaxPollWaitSeconds);
}

absl::Status ValidateRenewLeaseRequest(const v1::RenewLeaseRequest& request) {
  RETURN_IF_ERROR(CheckAgentId(request.agent_id(), "agent_id", /*required=*/true));
  RETURN_IF_ERROR(ValidateIdentifier(request.job_id(), "job_id", /*required=*/true));
  RETURN_IF_ERROR(ValidateIdentifier(request.lease_id(), "lease_id", /*required=*/true));
  if (!(request.progress() >= 0 && request.progress() <= 1)) {
    return Invalid("progress", absl::StrCat(request.progress(), " is not in [0, 1]"));
  }
  return absl::OkStatus();
}

absl::Status ValidateReportResultRequest(const v1::ReportResultRequest& request) {
  RETURN_IF_ERROR(CheckAgentId(request.agent_id(), "agent_id", /*required=*/true));
  RETURN_IF_ERROR(ValidateIdentifier(request.job_id(), "job_id", /*required=*/true));
  if (request.attempt() == 0) return Invalid("attempt", "must be at least 1");
  RETURN_IF_ERROR(ValidateIdentifier(request.lease_id(), "lease_id", /*required=*/true));
  return CheckRunResult(request.result(), "result");
}

// --- CampaignService ---

absl::Status ValidateSubmitCampaignRequest(const v1::SubmitCampaignRequest& request) {
  return ValidateCampaignSpecShape(request.spec(), "spec", /*targets_required=*/true);
}

absl::Status ValidateGetCampaignRequest(const v1::GetCampaignRequest& request) {
  return ValidateIdentifier(request.campaign_id(), "campaign_id", /*required=*/true);
}

absl::Status ValidateListCampaignsRequest(const v1::ListCampaignsRequest& request) {
  return CheckAtMost(request.limit(), "limit", limits::kMaxListCampaigns);
}

absl::Status ValidateCancelCampaignRequest(const v1::CancelCampaignRequest& request) {
  return ValidateIdentifier(request.campaign_id(), "campaign_id", /*required=*/true);
}

absl::Status ValidateWatchCampaignRequest(const v1::WatchCampaignRequest& request) {
  return ValidateIdentifier(request.campaign_id(), "campaign_id", /*required=*/true);
}

absl::Status ValidateListAgentsRequest(const v1::ListAgentsRequest&) {
  // A single bool: nothing can be out of range. Kept so every RPC has its validator.
  return absl::OkStatus();
}

absl::Status ValidateQueryResultsRequest(const v1::QueryResultsRequest& request) {
  RETURN_IF_ERROR(ValidateIdentifier(request.campaign_id(), "campaign_id", /*required=*/false));
  RETURN_IF_ERROR(CheckName(request.benchmark(), "benchmark", /*required=*/false));
  RETURN_IF_ERROR(CheckEnum(request.arch(), "arch", v1::Arch_IsValid, false));
  RETURN_IF_ERROR(CheckLength(request.kernel_label(), "kernel_label", limits::kMaxPatternLength));
  RETURN_IF_ERROR(CheckAgentId(request.agent_id(), "agent_id", /*required=*/false));
  return CheckAtMost(request.limit(), "limit", limits::kMaxQueryResults);
}

// --- AnalysisService ---

absl::Status ValidateCompareRequest(const v1::CompareRequest& request) {
  RETURN_IF_ERROR(CheckSelector(request.baseline(), "baseline"));
  RETURN_IF_ERROR(CheckSelector(request.candidate(), "candidate"));
  if (request.has_look()) {
    const v1::SequentialLookAt& look = request.look();
    RETURN_IF_ERROR(
        CheckAtMost(look.max_rounds(), "look.max_rounds", limits::kMaxSequentialRounds));
    RETURN_IF_ERROR(CheckAtMost(look.rounds(), "look.rounds", limits::kMaxSequentialRounds));
    RETURN_IF_ERROR(
        CheckAtMost(look.previous_rounds(), "look.previous_rounds", limits::kMaxSequentialRounds));
    // The look's order (previous < rounds <= max) is the analysis's own rule.
    RETURN_IF_ERROR(analysis::ValidateSequentialLook(
        {static_cast<int>(look.previous_rounds()), static_cast<int>(look.rounds()),
         static_cast<int>(look.max_rounds())},
        "look", "rounds"));
  }
  return CheckCompareOptions(request.options(), "options");
}

absl::Status ValidateChangePointsRequest(const v1::ChangePointsRequest& request) {
  RETURN_IF_ERROR(CheckName(request.benchmark(), "benchmark", /*required=*/true));
  RETURN_IF_ERROR(CheckName(request.metric(), "metric", /*required=*/true));
  RETURN_IF_ERROR(CheckParamMap(request.params(), "params"));
  RETURN_IF_ERROR(CheckEnum(request.arch(), "arch", v1::Arch_IsValid, false));
  RETURN_IF_ERROR(CheckLength(request.host_class(), "host_class", limits::kMaxPatternLength));
  RETURN_IF_ERROR(CheckLength(request.kernel_label(), "kernel_label", limits::kMaxPatternLength));
  RETURN_IF_ERROR(
      CheckEnum(request.order(), "order", v1::ChangePointsRequest::Order_IsValid, false));
  RETURN_IF_ERROR(CheckOptionalFraction(request.max_p_value(), "max_p_value", false));
  return CheckAtMost(request.limit(), "limit", limits::kMaxChangePointRuns);
}

namespace {

absl::Status CheckSequentialPlan(const v1::SequentialPlan& plan, const std::string& field) {
  if (plan.max_rounds() == 0 && plan.budget_seconds() == 0) {
    return Invalid(field, "set max_rounds or budget_seconds (an open-ended campaign never stops)");
  }
  RETURN_IF_ERROR(
      CheckAtMost(plan.max_rounds(), field + ".max_rounds", limits::kMaxSequentialRounds));
  return CheckAtMost(plan.budget_seconds(), field + ".budget_seconds",
                     limits::kMaxSequentialBudgetSeconds);
}

}  // namespace

absl::Status ValidateGateRequest(const v1::GateRequest& request) {
  if (request.policy().empty()) return Invalid("policy", "must be set");
  RETURN_IF_ERROR(CheckLength(request.policy(), "policy", limits::kMaxPolicyBytes));
  absl::StatusOr<analysis::GatePolicy> policy = analysis::ParseGatePolicy(request.policy());
  if (!policy.ok()) {
    // The parser's errors start with "line N:" or "policy:" already.
    const absl::string_view message = policy.status().message();
    return absl::InvalidArgumentError(message.substr(0, 7) == "policy:"
                                          ? std::string(message)
                                          : absl::StrCat("policy: ", message));
  }
  if (request.policy_name().size() > limits::kMaxIdentifierLength) {
    return Invalid("policy_name",
                   absl::StrCat(request.policy_name().size(), " characters, at most ",
                                limits::kMaxIdentifierLength));
  }
  for (char c : request.policy_name()) {
    // Documented as [A-Za-z0-9._/-]: it becomes a Prometheus label value and a report title.
    if (c == ':' || c == '@' || !IsIdentifierChar(c, /*agent=*/false)) {
      return Invalid("policy_name", absl::StrCat("\"", request.policy_name(),
                                                 "\" has a character outside [A-Za-z0-9._/-]"));
    }
  }
  RETURN_IF_ERROR(CheckSelector(request.baseline(), "baseline", request.has_campaign()));
  RETURN_IF_ERROR(CheckSelector(request.candidate(), "candidate", request.has_campaign()));
  RETURN_IF_ERROR(CheckCompareOptions(request.options(), "options"));
  if (request.has_campaign()) {
    RETURN_IF_ERROR(
        ValidateCampaignSpecShape(request.campaign(), "campaign", /*targets_required=*/false));
  }
  if (request.has_sequential()) {
    RETURN_IF_ERROR(CheckSequentialPlan(request.sequential(), "sequential"));
    if (!request.has_campaign()) {
      return Invalid("sequential",
                     "needs campaign: a gate adds rounds only to a campaign it runs itself");
    }
  }
  return CheckAtMost(request.timeout_seconds(), "timeout_seconds", limits::kMaxGateTimeoutSeconds);
}

#undef RETURN_IF_ERROR

}  // namespace faultline::controller::validation
