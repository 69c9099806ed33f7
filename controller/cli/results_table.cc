#include "controller/cli/results_table.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "controller/analysis/descriptive.h"
#include "google/protobuf/util/json_util.h"
#include "proto/faultline/v1/repetitions.h"

namespace faultline::controller::cli {
namespace {

std::string Value(const v1::ParamValue& v) {
  switch (v.kind_case()) {
    case v1::ParamValue::kIntValue:
      return absl::StrCat(v.int_value());
    case v1::ParamValue::kDoubleValue:
      return absl::StrCat(v.double_value());
    case v1::ParamValue::kBoolValue:
      return v.bool_value() ? "true" : "false";
    case v1::ParamValue::kEnumValue:
      return v.enum_value();
    default:
      return "";
  }
}

std::string Number(double v) {
  if (std::fabs(v) >= 1e6 || (std::fabs(v) < 1e-2 && v != 0)) return absl::StrFormat("%.3g", v);
  return absl::StrFormat("%.2f", v);
}

std::string Kernel(const v1::HostFingerprint& host) {
  return absl::StrCat(host.kernel_label(), " (", host.kernel_release(), ")");
}

std::string ShortState(v1::RunState state) {
  std::string name = v1::RunState_Name(state);
  return absl::AsciiStrToLower(absl::StripPrefix(name, "RUN_STATE_"));
}

std::string RenderAligned(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& row : rows) {
    if (width.size() < row.size()) width.resize(row.size(), 0);
    for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  }
  std::string out;
  for (size_t r = 0; r < rows.size(); ++r) {
    std::string line;
    for (size_t c = 0; c < rows[r].size(); ++c) {
      if (c > 0) line += "  ";
      line += rows[r][c];
      if (c + 1 < rows[r].size()) line.append(width[c] - rows[r][c].size(), ' ');
    }
    absl::StrAppend(&out, line, "\n");
  }
  return out;
}

}  // namespace

std::string FormatParams(const google::protobuf::Map<std::string, v1::ParamValue>& params) {
  std::map<std::string, std::string> sorted;
  for (const auto& [k, v] : params) sorted[k] = Value(v);
  return absl::StrJoin(sorted, ",", absl::PairFormatter("="));
}

std::string FormatResultsTable(const std::vector<v1::StoredRun>& runs) {
  // One block per run: a heading saying what ran where, then one row per metric. A flat table
  // with the parameters on every row is too wide to read.
  std::string out;
  for (const v1::StoredRun& run : runs) {
    const v1::RunResult& r = run.result();
    absl::StrAppend(&out, r.benchmark(), "  ", FormatParams(r.params()), "\n  ",
                    run.campaign_id(), " target ", run.target_name(), "  agent ", run.agent_id(),
                    "  kernel ", Kernel(r.host()), "\n");
    if (r.state() != v1::RUN_STATE_OK) {
      absl::StrAppend(&out, "  ", ShortState(r.state()), ": ", r.diagnostic().substr(0, 200),
                      "\n\n");
      continue;
    }
    std::vector<std::vector<std::string>> rows = {
        {"  metric", "n", "median", "min", "max", "cv%", "unit"}};
    // Metric order as the benchmark reports it.
    std::vector<std::string> order;
    std::map<std::string, std::vector<double>> values;
    std::map<std::string, std::string> units;
    for (const v1::Repetition* rep : v1::AllRepetitions(r)) {
      for (const v1::MetricValue& m : rep->metrics()) {
        if (!values.count(m.name())) order.push_back(m.name());
        values[m.name()].push_back(m.value());
        units[m.name()] = m.unit();
      }
    }
    for (const std::string& name : order) {
      const std::vector<double>& v = values[name];
      const double cv = analysis::CoefficientOfVariation(v);
      rows.push_back({"  " + name, absl::StrCat(v.size()), Number(analysis::Median(v)),
                      Number(analysis::Min(v)), Number(analysis::Max(v)),
                      std::isfinite(cv) ? absl::StrFormat("%.1f", 100 * cv) : "-",
                      units[name]});
    }
    absl::StrAppend(&out, RenderAligned(rows), "\n");
  }
  return out;
}

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  return absl::StrCat("\"", absl::StrReplaceAll(s, {{"\"", "\"\""}}), "\"");
}

std::string FormatResultsCsv(const std::vector<v1::StoredRun>& runs) {
  std::string out =
      "run_id,campaign_id,job_id,attempt,target,agent_id,arch,kernel_label,kernel_release,"
      "host_class,benchmark,params,state,repetition,metric,unit,value\n";
  for (const v1::StoredRun& run : runs) {
    const v1::RunResult& r = run.result();
    const std::string prefix = absl::StrJoin(
        {absl::StrCat(run.run_id()), CsvField(run.campaign_id()), CsvField(run.job_id()),
         absl::StrCat(run.attempt()), CsvField(run.target_name()), CsvField(run.agent_id()),
         v1::Arch_Name(r.host().arch()), CsvField(r.host().kernel_label()),
         CsvField(r.host().kernel_release()), CsvField(r.host().host_class()),
         CsvField(r.benchmark()), CsvField(FormatParams(r.params())), ShortState(r.state())},
        ",");
    if (r.repetitions().empty()) {
      absl::StrAppend(&out, prefix, ",,,,\n");
      continue;
    }
    for (const v1::Repetition* rep : v1::AllRepetitions(r)) {
      for (const v1::MetricValue& m : rep->metrics()) {
        absl::StrAppend(&out, prefix, ",", rep->index(), ",", CsvField(m.name()), ",",
                        CsvField(m.unit()), ",", absl::StrFormat("%.17g", m.value()), "\n");
      }
    }
  }
  return out;
}

std::string FormatResultsJson(const std::vector<v1::StoredRun>& runs) {
  v1::QueryResultsResponse response;
  for (const auto& run : runs) *response.add_runs() = run;
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(response, &json, options);
  return json;
}

std::string FormatProgressBar(const v1::Campaign& campaign, int width) {
  const v1::CampaignProgress& p = campaign.progress();
  const uint32_t done =
      p.jobs_succeeded() + p.jobs_failed() + p.jobs_cancelled() + p.jobs_skipped();
  const int filled =
      p.jobs_total() ? static_cast<int>(static_cast<uint64_t>(width) * done / p.jobs_total()) : 0;
  std::string state = v1::CampaignState_Name(campaign.state());
  state = absl::AsciiStrToLower(absl::StripPrefix(state, "CAMPAIGN_STATE_"));
  return absl::StrFormat("[%s%s] %3d/%d jobs  running %d  failed %d  %s",
                         std::string(filled, '#'), std::string(width - filled, '-'), done,
                         p.jobs_total(), p.jobs_running(), p.jobs_failed(), state);
}

}  // namespace faultline::controller::cli
