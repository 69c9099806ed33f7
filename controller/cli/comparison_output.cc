#include "controller/cli/comparison_output.h"

#include <limits>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "controller/analysis/latency_quantiles.h"
#include "controller/cli/results_table.h"
#include "google/protobuf/util/json_util.h"

namespace faultline::controller::cli {
namespace {

std::string Num(double v) { return absl::StrFormat("%.17g", v); }

std::string EnumTail(const std::string& name, absl::string_view prefix) {
  return absl::AsciiStrToLower(absl::StripPrefix(name, prefix));
}

constexpr char kCsvHeader[] =
    "benchmark,params,metric,unit,direction,tested,a_repetitions,a_blocks,a_median,a_mean,"
    "a_cv,a_robust_cv,b_repetitions,b_blocks,b_median,b_mean,b_cv,b_robust_cv,ratio,"
    "ratio_lower,ratio_upper,confidence,change_percent,median_ratio_lower,median_ratio_upper,"
    "p,q,fdr_level,min_effect,verdict,noisy,shifted,additional_blocks,block_unit,reason,kind";

// One metric, counter or profile share of `response`, the columns of kCsvHeader; `kind` is the
// last one: "metric", "counter" or "profile".
std::string CsvRow(const v1::CompareResponse& response, const v1::MetricComparison& m,
                   const std::string& kind) {
  const v1::CompareOptions& o = response.options();
  const std::string unit = EnumTail(v1::ReplicationUnit_Name(response.replication_unit()),
                                    "REPLICATION_UNIT_");
  const std::vector<std::string> row = {
      CsvField(m.benchmark()),
      CsvField(FormatParams(m.params())),
      CsvField(m.metric()),
      CsvField(m.unit()),
      EnumTail(v1::Direction_Name(m.direction()), "DIRECTION_"),
      m.tested() ? "true" : "false",
      absl::StrCat(m.baseline_count()),
      absl::StrCat(m.baseline_blocks()),
      Num(m.baseline_median()),
      Num(m.baseline_mean()),
      Num(m.baseline_cv()),
      Num(m.baseline_robust_cv()),
      absl::StrCat(m.candidate_count()),
      absl::StrCat(m.candidate_blocks()),
      Num(m.candidate_median()),
      Num(m.candidate_mean()),
      Num(m.candidate_cv()),
      Num(m.candidate_robust_cv()),
      Num(m.ratio()),
      Num(m.ratio_lower()),
      Num(m.ratio_upper()),
      Num(o.confidence()),
      Num((m.ratio() - 1) * 100),
      Num(m.median_ratio_lower()),
      Num(m.median_ratio_upper()),
      Num(m.p_value()),
      Num(m.q_value()),
      Num(o.fdr_level()),
      Num(o.min_effect()),
      kind == "profile" ? "" : EnumTail(v1::Verdict_Name(m.verdict()), "VERDICT_"),
      m.noisy() ? "true" : "false",
      m.shifted() ? "true" : "false",
      absl::StrCat(m.additional_repetitions()),
      unit,
      CsvField(m.reason()),
      kind,
  };
  return absl::StrJoin(row, ",");
}

// One quantile of a latency histogram in kCsvHeader's columns: metric "HISTOGRAM.pNN", not
// tested (verdict "not_tested"), the per-side medians of the block values as a_median/b_median.
std::string QuantileCsvRow(const v1::CompareResponse& response,
                           const v1::DistributionComparison& d, const v1::QuantileComparison& q) {
  const v1::CompareOptions& o = response.options();
  const std::string unit = EnumTail(v1::ReplicationUnit_Name(response.replication_unit()),
                                    "REPLICATION_UNIT_");
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<std::string> row = {
      CsvField(d.benchmark()),
      "",
      CsvField(absl::StrCat(d.histogram(), ".", analysis::QuantileName(q.quantile()))),
      CsvField(d.unit()),
      "lower_is_better",
      "false",
      absl::StrCat(q.baseline_blocks_size()),
      absl::StrCat(d.baseline_blocks()),
      Num(q.baseline()),
      Num(nan),
      Num(nan),
      Num(nan),
      absl::StrCat(q.candidate_blocks_size()),
      absl::StrCat(d.candidate_blocks()),
      Num(q.candidate()),
      Num(nan),
      Num(nan),
      Num(nan),
      Num(q.ratio()),
      Num(q.ratio_lower()),
      Num(q.ratio_upper()),
      Num(o.confidence()),
      Num((q.ratio() - 1) * 100),
      Num(nan),
      Num(nan),
      Num(q.p_value()),
      Num(nan),
      Num(o.fdr_level()),
      Num(o.min_effect()),
      "not_tested",
      "false",
      "false",
      "0",
      unit,
      CsvField(d.reason()),
      "distribution",
  };
  return absl::StrJoin(row, ",");
}

// A profile change as two rows of shares, "profile.total_share.<function>" and
// "profile.self_share.<function>": per side the mean share (median and mean columns alike) over
// its profiles (the repetitions and blocks columns), and B/A; nothing is tested.
std::vector<v1::MetricComparison> ProfileRows(const v1::ProfileChange& c) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<v1::MetricComparison> rows;
  for (bool total : {true, false}) {
    v1::MetricComparison m;
    m.set_benchmark(c.benchmark());
    *m.mutable_params() = c.params();
    m.set_metric(absl::StrCat(total ? "profile.total_share." : "profile.self_share.",
                              c.function()));
    m.set_unit("share");
    m.set_direction(v1::DIRECTION_NEUTRAL);
    const double a = total ? c.baseline_total_share() : c.baseline_self_share();
    const double b = total ? c.candidate_total_share() : c.candidate_self_share();
    m.set_baseline_count(c.baseline_profiles());
    m.set_baseline_blocks(c.baseline_profiles());
    m.set_candidate_count(c.candidate_profiles());
    m.set_candidate_blocks(c.candidate_profiles());
    m.set_baseline_median(a);
    m.set_baseline_mean(a);
    m.set_candidate_median(b);
    m.set_candidate_mean(b);
    m.set_baseline_cv(total && a > 0 ? c.baseline_total_sd() / a : nan);
    m.set_candidate_cv(total && b > 0 ? c.candidate_total_sd() / b : nan);
    for (auto set : {&v1::MetricComparison::set_baseline_robust_cv,
                     &v1::MetricComparison::set_candidate_robust_cv,
                     &v1::MetricComparison::set_ratio_lower, &v1::MetricComparison::set_ratio_upper,
                     &v1::MetricComparison::set_median_ratio_lower,
                     &v1::MetricComparison::set_median_ratio_upper,
                     &v1::MetricComparison::set_p_value, &v1::MetricComparison::set_q_value}) {
      (m.*set)(nan);
    }
    m.set_ratio(a > 0 ? b / a : nan);
    rows.push_back(std::move(m));
  }
  return rows;
}

// Every row of `response`: its metrics, its histograms' quantiles, its counters, then its
// profile shares.
std::vector<std::string> CsvRows(const v1::CompareResponse& response) {
  std::vector<std::string> rows;
  for (const v1::MetricComparison& m : response.metrics()) {
    rows.push_back(CsvRow(response, m, "metric"));
  }
  for (const v1::DistributionComparison& d : response.distributions()) {
    for (const v1::QuantileComparison& q : d.quantiles()) {
      rows.push_back(QuantileCsvRow(response, d, q));
    }
  }
  for (const v1::MetricComparison& m : response.counters()) {
    rows.push_back(CsvRow(response, m, "counter"));
  }
  for (const v1::ProfileChange& c : response.profile_changes()) {
    for (const v1::MetricComparison& m : ProfileRows(c)) {
      rows.push_back(CsvRow(response, m, "profile"));
    }
  }
  return rows;
}

}  // namespace

std::string FormatProtoJson(const google::protobuf::Message& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  return json;
}

std::string FormatComparisonJson(const v1::CompareResponse& response) {
  return FormatProtoJson(response);
}

std::string FormatComparisonCsv(const v1::CompareResponse& response) {
  std::string out = absl::StrCat(kCsvHeader, "\n");
  for (const std::string& row : CsvRows(response)) absl::StrAppend(&out, row, "\n");
  return out;
}

std::string FormatKernelsJson(const v1::KernelsComparison& comparison) {
  return FormatProtoJson(comparison);
}

std::string FormatKernelsCsv(const v1::KernelsComparison& comparison) {
  std::string out = absl::StrCat("candidate,", kCsvHeader, "\n");
  for (const v1::CandidateComparison& c : comparison.candidates()) {
    for (const std::string& row : CsvRows(c.comparison())) {
      absl::StrAppend(&out, CsvField(c.name()), ",", row, "\n");
    }
  }
  return out;
}

}  // namespace faultline::controller::cli
