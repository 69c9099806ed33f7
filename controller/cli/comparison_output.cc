#include "controller/cli/comparison_output.h"

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "controller/cli/results_table.h"
#include "google/protobuf/util/json_util.h"

namespace faultline::controller::cli {
namespace {

std::string Num(double v) { return absl::StrFormat("%.17g", v); }

std::string EnumTail(const std::string& name, absl::string_view prefix) {
  return absl::AsciiStrToLower(absl::StripPrefix(name, prefix));
}

std::string Json(const google::protobuf::Message& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  return json;
}

constexpr char kCsvHeader[] =
    "benchmark,params,metric,unit,direction,tested,a_repetitions,a_blocks,a_median,a_mean,"
    "a_cv,a_robust_cv,b_repetitions,b_blocks,b_median,b_mean,b_cv,b_robust_cv,ratio,"
    "ratio_lower,ratio_upper,confidence,change_percent,median_ratio_lower,median_ratio_upper,"
    "p,q,fdr_level,min_effect,verdict,noisy,shifted,additional_blocks,block_unit,reason";

// One metric of `response`, the columns of kCsvHeader.
std::string CsvRow(const v1::CompareResponse& response, const v1::MetricComparison& m) {
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
      EnumTail(v1::Verdict_Name(m.verdict()), "VERDICT_"),
      m.noisy() ? "true" : "false",
      m.shifted() ? "true" : "false",
      absl::StrCat(m.additional_repetitions()),
      unit,
      CsvField(m.reason()),
  };
  return absl::StrJoin(row, ",");
}

}  // namespace

std::string FormatComparisonJson(const v1::CompareResponse& response) { return Json(response); }

std::string FormatComparisonCsv(const v1::CompareResponse& response) {
  std::string out = absl::StrCat(kCsvHeader, "\n");
  for (const v1::MetricComparison& m : response.metrics()) {
    absl::StrAppend(&out, CsvRow(response, m), "\n");
  }
  return out;
}

std::string FormatKernelsJson(const v1::KernelsComparison& comparison) {
  return Json(comparison);
}

std::string FormatKernelsCsv(const v1::KernelsComparison& comparison) {
  std::string out = absl::StrCat("candidate,", kCsvHeader, "\n");
  for (const v1::CandidateComparison& c : comparison.candidates()) {
    for (const v1::MetricComparison& m : c.comparison().metrics()) {
      absl::StrAppend(&out, CsvField(c.name()), ",", CsvRow(c.comparison(), m), "\n");
    }
  }
  return out;
}

}  // namespace faultline::controller::cli
