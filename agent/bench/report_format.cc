#include "agent/bench/report_format.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "agent/bench/params.h"

namespace faultline::agent::bench {
namespace {

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppendFormat(&out, "\\u%04x", c);
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string JsonNumber(double v) {
  if (!std::isfinite(v)) return "null";
  return absl::StrFormat("%.17g", v);
}

std::string JsonParamValue(const ParamValue& v) {
  switch (v.index()) {
    case 0:
      return absl::StrCat(std::get<int64_t>(v));
    case 1:
      return JsonNumber(std::get<double>(v));
    case 2:
      return std::get<bool>(v) ? "true" : "false";
    default:
      return JsonString(std::get<std::string>(v));
  }
}

const char* DirectionName(Direction d) {
  switch (d) {
    case Direction::kLowerIsBetter:
      return "lower_is_better";
    case Direction::kHigherIsBetter:
      return "higher_is_better";
    case Direction::kNeutral:
      return "neutral";
  }
  return "?";
}

std::string JsonParams(const Params& params) {
  std::vector<std::string> parts;
  for (const auto& [k, v] : params) parts.push_back(JsonString(k) + ":" + JsonParamValue(v));
  return "{" + absl::StrJoin(parts, ",") + "}";
}

std::string JsonHistogram(const Histogram& h) {
  std::vector<std::string> index, count;
  for (uint32_t i = 0; i < h.counts().size(); ++i) {
    if (h.counts()[i] == 0) continue;
    index.push_back(absl::StrCat(i));
    count.push_back(absl::StrCat(h.counts()[i]));
  }
  return absl::StrCat("{\"unit\":\"ns\",\"sub_bucket_bits\":", h.sub_bucket_bits(),
                      ",\"bucket_index\":[", absl::StrJoin(index, ","), "],\"count\":[",
                      absl::StrJoin(count, ","), "],\"total_count\":", h.total_count(),
                      ",\"min\":", h.total_count() ? h.min() : 0, ",\"max\":", h.max(),
                      ",\"sum\":", JsonNumber(h.sum()), ",\"p50\":", JsonNumber(h.Quantile(0.5)),
                      ",\"p99\":", JsonNumber(h.Quantile(0.99)),
                      ",\"p999\":", JsonNumber(h.Quantile(0.999)), "}");
}

}  // namespace

const char* RunStatusName(RunStatus status) {
  switch (status) {
    case RunStatus::kOk:
      return "ok";
    case RunStatus::kFailed:
      return "failed";
    case RunStatus::kSkipped:
      return "skipped";
    case RunStatus::kRefused:
      return "refused";
  }
  return "?";
}

MetricSummary Summarize(const RunOutput& out, const std::string& metric) {
  MetricSummary s;
  double sum = 0, sum_sq = 0;
  for (const auto* reps : {&out.repetitions, &out.tracing_repetitions}) {
    for (const RepetitionResult& rep : *reps) {
      for (const MetricValue& m : rep.metrics) {
        if (m.name != metric) continue;
        sum += m.value;
        sum_sq += m.value * m.value;
        ++s.count;
      }
    }
  }
  if (s.count == 0) return s;
  s.mean = sum / s.count;
  if (s.count > 1 && s.mean != 0) {
    const double var = std::max(0.0, (sum_sq - s.count * s.mean * s.mean) / (s.count - 1));
    s.cv = std::sqrt(var) / std::fabs(s.mean);
  }
  return s;
}

std::string CatalogText(const std::vector<BenchmarkInfo>& catalog) {
  std::string out;
  for (const BenchmarkInfo& info : catalog) {
    absl::StrAppend(&out, info.name, "\n  ", info.description, "\n");
    for (const ParamSpec& p : info.params) {
      absl::StrAppend(&out, "  --param ", p.name, "=", FormatParamValue(p.default_value), "  (",
                      ParamTypeName(p.type));
      if (p.type == ParamType::kInt || p.type == ParamType::kDouble) {
        absl::StrAppend(&out, " ", FormatParamValue(p.min), "..", FormatParamValue(p.max));
      }
      if (p.type == ParamType::kEnum) {
        absl::StrAppend(&out, " ", absl::StrJoin(p.allowed_values, "|"));
      }
      if (!p.unit.empty()) absl::StrAppend(&out, ", ", p.unit);
      absl::StrAppend(&out, ") ", p.description, "\n");
    }
    for (const MetricSpec& m : info.metrics) {
      absl::StrAppend(&out, "  metric ", m.name, " [", m.unit, ", ", DirectionName(m.direction),
                      "] ", m.description, "\n");
    }
  }
  return out;
}

std::string CatalogJson(const std::vector<BenchmarkInfo>& catalog) {
  std::vector<std::string> entries;
  for (const BenchmarkInfo& info : catalog) {
    std::vector<std::string> params, metrics;
    for (const ParamSpec& p : info.params) {
      std::vector<std::string> allowed;
      for (const std::string& a : p.allowed_values) allowed.push_back(JsonString(a));
      std::string entry = absl::StrCat(
          "{\"name\":", JsonString(p.name), ",\"type\":", JsonString(ParamTypeName(p.type)),
          ",\"description\":", JsonString(p.description), ",\"unit\":", JsonString(p.unit),
          ",\"default\":", JsonParamValue(p.default_value));
      if (p.type == ParamType::kInt || p.type == ParamType::kDouble) {
        absl::StrAppend(&entry, ",\"min\":", JsonParamValue(p.min),
                        ",\"max\":", JsonParamValue(p.max));
      }
      if (p.type == ParamType::kEnum) {
        absl::StrAppend(&entry, ",\"allowed_values\":[", absl::StrJoin(allowed, ","), "]");
      }
      params.push_back(entry + "}");
    }
    for (const MetricSpec& m : info.metrics) {
      metrics.push_back(absl::StrCat("{\"name\":", JsonString(m.name),
                                     ",\"unit\":", JsonString(m.unit),
                                     ",\"direction\":", JsonString(DirectionName(m.direction)),
                                     ",\"description\":", JsonString(m.description), "}"));
    }
    entries.push_back(absl::StrCat("{\"name\":", JsonString(info.name),
                                   ",\"description\":", JsonString(info.description),
                                   ",\"params\":[", absl::StrJoin(params, ","), "],\"metrics\":[",
                                   absl::StrJoin(metrics, ","), "]}"));
  }
  return "[" + absl::StrJoin(entries, ",") + "]\n";
}

std::string RunOutputText(const std::string& name, const Params& params, const RunOutput& out) {
  std::vector<std::string> ps;
  for (const auto& [k, v] : params) ps.push_back(k + "=" + FormatParamValue(v));
  std::string text = absl::StrCat(name, " ", absl::StrJoin(ps, " "), "\nstatus: ",
                                  RunStatusName(out.status), "\n");
  if (!out.diagnostic.empty()) absl::StrAppend(&text, "diagnostic: ", out.diagnostic, "\n");
  if (out.status != RunStatus::kOk) return text;
  absl::StrAppendFormat(&text, "timer overhead: %.1f ns, warm-up repetitions: %d\n",
                        out.timer_overhead_ns, out.warmup);
  const size_t measured = out.repetitions.size();
  for (size_t i = 0; i < measured + out.tracing_repetitions.size(); ++i) {
    const RepetitionResult& rep =
        i < measured ? out.repetitions[i] : out.tracing_repetitions[i - measured];
    if (i < measured) {
      absl::StrAppendFormat(&text, "rep %d (%.1f ms):", i, rep.wall_ns / 1e6);
    } else {
      absl::StrAppendFormat(&text, "tracing rep %d (%.1f ms):", i - measured, rep.wall_ns / 1e6);
    }
    for (const MetricValue& m : rep.metrics) absl::StrAppendFormat(&text, " %s=%.6g", m.name, m.value);
    absl::StrAppend(&text, "\n  counters (vmstat.*: system-wide):");
    for (const auto& [k, v] : rep.counters) absl::StrAppend(&text, " ", k, "=", v);
    if (!rep.unavailable_counters.empty()) {
      absl::StrAppend(&text, "\n  unavailable: ", absl::StrJoin(rep.unavailable_counters, " "));
    }
    for (const auto& [family, reason] : rep.unavailable_reasons) {
      absl::StrAppend(&text, "\n  ", family, " unavailable: ", reason);
    }
    if (!rep.disturbances.empty()) {
      absl::StrAppend(&text, "\n  disturbed: ", absl::StrJoin(rep.disturbances, "; "));
    }
    for (const auto& [hname, h] : rep.histograms) {
      absl::StrAppendFormat(&text, "\n  %s: n=%d p50=%.0f p99=%.0f p99.9=%.0f max=%d", hname,
                            h.total_count(), h.Quantile(0.5), h.Quantile(0.99),
                            h.Quantile(0.999), h.max());
    }
    absl::StrAppend(&text, "\n");
  }
  if (!out.repetitions.empty()) {
    absl::StrAppend(&text, "summary:");
    // Tracing repetitions report metrics the measured ones do not: every name, in first-seen
    // order.
    std::vector<std::string> names;
    for (const auto* reps : {&out.repetitions, &out.tracing_repetitions}) {
      for (const RepetitionResult& rep : *reps) {
        for (const MetricValue& m : rep.metrics) {
          if (std::find(names.begin(), names.end(), m.name) == names.end()) {
            names.push_back(m.name);
          }
        }
      }
    }
    for (const std::string& name : names) {
      MetricSummary s = Summarize(out, name);
      absl::StrAppendFormat(&text, "\n  %s: mean=%.6g cv=%.2f%%", name, s.mean, s.cv * 100);
    }
    absl::StrAppend(&text, "\n");
  }
  absl::StrAppend(&text, ProfileText(out.profile));
  return text;
}

std::string ProfileText(const KernelProfile& p) {
  if (!p.unavailable_reason.empty()) return absl::StrCat("profile unavailable: ", p.unavailable_reason, "\n");
  if (p.repetitions == 0) return "";
  std::string text = absl::StrFormat(
      "profile (%s, %d repetitions, %.1f ms): %d samples, %.1f%% in the kernel%s\n"
      "  %7s %7s  kernel function\n",
      p.method, p.repetitions, p.wall_ns / 1e6, p.samples,
      p.samples > 0 ? 100.0 * p.kernel_samples / p.samples : 0.0,
      p.lost_samples > 0 ? absl::StrCat(", ", p.lost_samples, " lost") : "", "total", "self");
  for (const ProfileSymbol& s : p.symbols) {
    absl::StrAppendFormat(&text, "  %6.2f%% %6.2f%%  %s\n", 100.0 * s.total_samples / p.samples,
                          100.0 * s.self_samples / p.samples, s.name);
  }
  return text;
}

std::string RunOutputJson(const std::string& name, const Params& params, const RunOutput& out) {
  auto rep_json = [](const RepetitionResult& rep) {
    std::vector<std::string> metrics, counters, unavailable, reasons, histograms, disturbances;
    for (const std::string& d : rep.disturbances) disturbances.push_back(JsonString(d));
    for (const MetricValue& m : rep.metrics) {
      metrics.push_back(JsonString(m.name) + ":" + JsonNumber(m.value));
    }
    for (const auto& [k, v] : rep.counters) counters.push_back(JsonString(k) + ":" + absl::StrCat(v));
    for (const std::string& u : rep.unavailable_counters) unavailable.push_back(JsonString(u));
    for (const auto& [family, reason] : rep.unavailable_reasons) {
      reasons.push_back(JsonString(family) + ":" + JsonString(reason));
    }
    for (const auto& [hname, h] : rep.histograms) {
      histograms.push_back(JsonString(hname) + ":" + JsonHistogram(h));
    }
    return absl::StrCat("{\"wall_ns\":", rep.wall_ns, ",\"metrics\":{",
                                absl::StrJoin(metrics, ","), "},\"counters\":{",
                                absl::StrJoin(counters, ","), "},\"unavailable_counters\":[",
                                absl::StrJoin(unavailable, ","), "],\"unavailable_reasons\":{",
                                absl::StrJoin(reasons, ","), "},\"histograms\":{",
                                absl::StrJoin(histograms, ","), "},\"disturbances\":[",
                                absl::StrJoin(disturbances, ","), "]}");
  };
  std::vector<std::string> reps, tracing;
  for (const RepetitionResult& rep : out.repetitions) reps.push_back(rep_json(rep));
  for (const RepetitionResult& rep : out.tracing_repetitions) tracing.push_back(rep_json(rep));
  std::vector<std::string> symbols;
  for (const ProfileSymbol& s : out.profile.symbols) {
    symbols.push_back(absl::StrCat("{\"name\":", JsonString(s.name), ",\"self_samples\":",
                                   s.self_samples, ",\"total_samples\":", s.total_samples, "}"));
  }
  const KernelProfile& p = out.profile;
  const std::string profile = absl::StrCat(
      "{\"method\":", JsonString(p.method), ",\"repetitions\":", p.repetitions,
      ",\"wall_ns\":", p.wall_ns, ",\"samples\":", p.samples,
      ",\"kernel_samples\":", p.kernel_samples, ",\"lost_samples\":", p.lost_samples,
      ",\"unavailable_reason\":", JsonString(p.unavailable_reason), ",\"symbols\":[",
      absl::StrJoin(symbols, ","), "]}");
  return absl::StrCat("{\"benchmark\":", JsonString(name), ",\"params\":", JsonParams(params),
                      ",\"status\":", JsonString(RunStatusName(out.status)),
                      ",\"diagnostic\":", JsonString(out.diagnostic),
                      ",\"timer_overhead_ns\":", JsonNumber(out.timer_overhead_ns),
                      ",\"warmup\":", out.warmup, ",\"repetitions\":[", absl::StrJoin(reps, ","),
                      "],\"tracing_repetitions\":[", absl::StrJoin(tracing, ","),
                      "],\"profile\":", profile, "}\n");
}

}  // namespace faultline::agent::bench
