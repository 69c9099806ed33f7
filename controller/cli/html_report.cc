#include "controller/cli/html_report.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "controller/analysis/report_text.h"

namespace faultline::controller::cli {
namespace {

namespace analysis = faultline::controller::analysis;

constexpr double kWidth = 720;
constexpr double kLeft = 110;   // room for row labels
constexpr double kRight = 20;
constexpr double kStripTop = 30;
constexpr double kRowHeight = 44;
constexpr double kRatioTop = kStripTop + 2 * kRowHeight + 40;
constexpr double kRatioHeight = 36;
constexpr double kHeight = kRatioTop + kRatioHeight + 34;

const char* VerdictText(v1::Verdict v) {
  switch (v) {
    case v1::VERDICT_REGRESSION:
      return "regression";
    case v1::VERDICT_IMPROVEMENT:
      return "improvement";
    case v1::VERDICT_NO_CHANGE:
      return "no change";
    case v1::VERDICT_INCONCLUSIVE:
      return "inconclusive";
    default:
      return "?";
  }
}

std::string Num(double v) {
  if (!std::isfinite(v)) return "n/a";
  return absl::StrFormat("%.4g", v);
}

const char* BetterText(v1::Direction d) {
  switch (d) {
    case v1::DIRECTION_HIGHER_IS_BETTER:
      return "higher";
    case v1::DIRECTION_NEUTRAL:
      return "neutral";
    default:
      return "lower";
  }
}

std::string SideMedian(uint32_t count, double median) {
  return count == 0 ? "not measured" : Num(median);
}

// LKP's "mean +- %stddev".
std::string MeanSd(uint32_t count, double mean, double cv) {
  if (count == 0) return "not measured";
  if (!std::isfinite(cv)) return Num(mean);
  return absl::StrFormat("%s &plusmn; %.1f%%", Num(mean), cv * 100);
}

// Linear map of [lo, hi] onto [x0, x1].
struct Scale {
  double lo, hi, x0, x1;
  double operator()(double v) const {
    if (hi <= lo) return (x0 + x1) / 2;
    return x0 + (v - lo) / (hi - lo) * (x1 - x0);
  }
};

std::string Axis(const Scale& s, double y, const std::string& unit) {
  std::string out = absl::StrFormat(
      "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#888\"/>", s.x0, y, s.x1, y);
  for (int i = 0; i <= 4; ++i) {
    const double v = s.lo + (s.hi - s.lo) * i / 4;
    const double x = s(v);
    absl::StrAppendFormat(&out,
                          "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#888\"/>"
                          "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"middle\">"
                          "%s</text>",
                          x, y, x, y + 4, x, y + 16, Num(v));
  }
  if (!unit.empty()) {
    absl::StrAppendFormat(&out, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\">%s</text>", s.x1 - 30,
                          y + 28, HtmlEscape(unit));
  }
  return out;
}

double Median(std::vector<double> v) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Median of each block's samples, in order of first appearance; without block labels every
// sample is its own block.
std::vector<double> BlockMedians(const google::protobuf::RepeatedField<double>& samples,
                                 const google::protobuf::RepeatedField<uint32_t>& blocks) {
  if (blocks.size() != samples.size()) return {samples.begin(), samples.end()};
  std::vector<uint32_t> order;
  std::map<uint32_t, std::vector<double>> by_block;
  for (int i = 0; i < samples.size(); ++i) {
    auto [it, fresh] = by_block.try_emplace(blocks[i]);
    if (fresh) order.push_back(blocks[i]);
    it->second.push_back(samples[i]);
  }
  std::vector<double> out;
  for (uint32_t b : order) out.push_back(Median(by_block[b]));
  return out;
}

std::string Plot(const v1::MetricComparison& m, double min_effect, const std::string& id) {
  std::vector<double> all(m.baseline_samples().begin(), m.baseline_samples().end());
  all.insert(all.end(), m.candidate_samples().begin(), m.candidate_samples().end());
  double lo = all.empty() ? 0 : *std::min_element(all.begin(), all.end());
  double hi = all.empty() ? 1 : *std::max_element(all.begin(), all.end());
  const double pad = hi > lo ? (hi - lo) * 0.05 : std::max(std::abs(lo) * 0.05, 1.0);
  const Scale x{lo - pad, hi + pad, kLeft, kWidth - kRight};

  const std::string title =
      absl::StrCat(m.benchmark(), " ", m.metric(), ": ", VerdictText(m.verdict()));
  std::string svg = absl::StrFormat(
      "<figure class=\"fl-plot\" id=\"plot-%s\"><figcaption>%s</figcaption>"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
      "viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"%s\">",
      id, HtmlEscape(title), kWidth, kHeight, kWidth, kHeight, HtmlEscape(title));
  // Strip plot: one row per side, each repetition a dot (deterministic jitter), each block's
  // median a hollow ring when blocks hold several repetitions, the median of the block medians
  // (what the test compares) a bar.
  struct Side {
    const char* label;
    const google::protobuf::RepeatedField<double>* samples;
    const google::protobuf::RepeatedField<uint32_t>* blocks;
    const char* colour;
  };
  const Side sides[2] = {
      {"baseline (A)", &m.baseline_samples(), &m.baseline_sample_blocks(), "#1f77b4"},
      {"candidate (B)", &m.candidate_samples(), &m.candidate_sample_blocks(), "#d62728"}};
  for (int s = 0; s < 2; ++s) {
    const double row_y = kStripTop + s * kRowHeight + kRowHeight / 2;
    absl::StrAppendFormat(&svg,
                          "<text x=\"4\" y=\"%.1f\" font-size=\"12\">%s</text>", row_y + 4,
                          sides[s].label);
    int i = 0;
    for (double v : *sides[s].samples) {
      const double jitter = ((i * 37) % 17 - 8) * 1.6;
      absl::StrAppendFormat(&svg,
                            "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\" "
                            "fill-opacity=\"0.6\"/>",
                            x(v), row_y + jitter, sides[s].colour);
      ++i;
    }
    const std::vector<double> block_medians = BlockMedians(*sides[s].samples, *sides[s].blocks);
    if (block_medians.size() < static_cast<size_t>(sides[s].samples->size())) {
      for (double v : block_medians) {
        absl::StrAppendFormat(&svg,
                              "<circle class=\"fl-block\" cx=\"%.1f\" cy=\"%.1f\" r=\"7\" "
                              "fill=\"none\" stroke=\"%s\" stroke-width=\"2\"/>",
                              x(v), row_y, sides[s].colour);
      }
    }
    const double med = Median(block_medians);
    if (std::isfinite(med)) {
      absl::StrAppendFormat(&svg,
                            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                            "stroke=\"#000\" stroke-width=\"2\"/>",
                            x(med), row_y - 16, x(med), row_y + 16);
    }
  }
  svg += Axis(x, kStripTop + 2 * kRowHeight + 4, m.unit());

  // Ratio panel: B/A with its interval, 1 and the minimum-effect band.
  const double band_lo = 1 / (1 + min_effect), band_hi = 1 + min_effect;
  double rlo = std::min(band_lo, std::isfinite(m.ratio_lower()) ? m.ratio_lower() : 1.0);
  double rhi = std::max(band_hi, std::isfinite(m.ratio_upper()) ? m.ratio_upper() : 1.0);
  const double rpad = (rhi - rlo) * 0.08;
  const Scale r{rlo - rpad, rhi + rpad, kLeft, kWidth - kRight};
  const double ry = kRatioTop + kRatioHeight / 2;
  absl::StrAppendFormat(
      &svg,
      "<text x=\"4\" y=\"%.1f\" font-size=\"12\">ratio B/A</text>"
      "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#ddd\"/>"
      "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#555\" "
      "stroke-dasharray=\"4 3\"/>",
      ry + 4, r(band_lo), kRatioTop, r(band_hi) - r(band_lo), kRatioHeight, r(1.0), kRatioTop,
      r(1.0), kRatioTop + kRatioHeight);
  if (std::isfinite(m.ratio()) && std::isfinite(m.ratio_lower()) &&
      std::isfinite(m.ratio_upper())) {
    absl::StrAppendFormat(
        &svg,
        "<line class=\"fl-ci\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#000\" "
        "stroke-width=\"3\"/>"
        "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"#000\"/>"
        "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"middle\">%s [%s, %s]</text>",
        r(m.ratio_lower()), ry, r(m.ratio_upper()), ry, r(m.ratio()), ry, r(m.ratio()),
        kRatioTop - 4, Num(m.ratio()), Num(m.ratio_lower()), Num(m.ratio_upper()));
  }
  svg += Axis(r, kRatioTop + kRatioHeight + 2, "");
  svg += "</svg></figure>\n";
  return svg;
}

// x of quantile q on the "nines" axis: -log10(1 - q), the maximum (q = 1) a quarter past p99.9.
double Nines(double q) { return q >= 1 ? 3.25 : -std::log10(1 - q); }

// Quantile curves of both sides (their histograms merged over all blocks) on a nines axis and a
// log latency axis, with each block's p50/p90/p99/p99.9 as dots: the spread the intervals rest on.
std::string QuantilePlot(const v1::DistributionComparison& d, const std::string& id) {
  constexpr double kTop = 24, kPlotHeight = 180, kBottom = kTop + kPlotHeight;
  constexpr double kQuantileHeight = kBottom + 44;
  double lo = INFINITY, hi = 0;
  auto extend = [&](double v) {
    if (v > 0 && std::isfinite(v)) {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  };
  for (double v : d.baseline_curve()) extend(v);
  for (double v : d.candidate_curve()) extend(v);
  for (const v1::QuantileComparison& q : d.quantiles()) {
    for (double v : q.baseline_blocks()) extend(v);
    for (double v : q.candidate_blocks()) extend(v);
  }
  if (!(hi > 0)) lo = hi = 1;
  const Scale x{0, 3.25, kLeft, kWidth - kRight};
  const Scale ylog{std::log10(lo) - 0.05, std::log10(hi) + 0.05, kBottom, kTop};
  auto y = [&](double v) { return ylog(std::log10(v)); };
  const std::string title = absl::StrCat(d.benchmark(), " ", d.histogram(), ": quantiles");
  std::string svg = absl::StrFormat(
      "<figure class=\"fl-quantiles\" id=\"quantiles-%s\"><figcaption>%s</figcaption>"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
      "viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"%s\">",
      id, HtmlEscape(title), kWidth, kQuantileHeight, kWidth, kQuantileHeight, HtmlEscape(title));
  // Axes: nines below, latency (log) on the left.
  absl::StrAppendFormat(&svg,
                        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#888\"/>"
                        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#888\"/>",
                        kLeft, kBottom, kWidth - kRight, kBottom, kLeft, kTop, kLeft, kBottom);
  const std::pair<double, const char*> ticks[] = {
      {0, "min"}, {0.5, "p50"}, {0.9, "p90"}, {0.99, "p99"}, {0.999, "p99.9"}, {1, "max"}};
  for (const auto& [q, label] : ticks) {
    absl::StrAppendFormat(&svg,
                          "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                          "stroke=\"#ddd\"/><text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" "
                          "text-anchor=\"middle\">%s</text>",
                          x(Nines(q)), kTop, x(Nines(q)), kBottom, x(Nines(q)), kBottom + 14,
                          label);
  }
  for (int i = 0; i <= 3; ++i) {
    const double v = std::pow(10.0, std::log10(lo) + (std::log10(hi) - std::log10(lo)) * i / 3);
    absl::StrAppendFormat(&svg,
                          "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" "
                          "text-anchor=\"end\">%s</text>",
                          kLeft - 4, y(v) + 4, Num(v));
  }
  absl::StrAppendFormat(&svg, "<text x=\"4\" y=\"%.1f\" font-size=\"11\">%s (log)</text>",
                        kTop - 8, HtmlEscape(d.unit()));
  struct Side {
    const char* label;
    const google::protobuf::RepeatedField<double>* curve;
    bool baseline;
    const char* colour;
  };
  const Side sides[2] = {{"baseline (A)", &d.baseline_curve(), true, "#1f77b4"},
                         {"candidate (B)", &d.candidate_curve(), false, "#d62728"}};
  for (int s = 0; s < 2; ++s) {
    std::string points;
    for (int i = 0; i < sides[s].curve->size() && i < d.curve_quantiles_size(); ++i) {
      const double v = sides[s].curve->Get(i);
      if (!(v > 0)) continue;
      absl::StrAppendFormat(&points, "%s%.1f,%.1f", points.empty() ? "" : " ",
                            x(Nines(d.curve_quantiles(i))), y(v));
    }
    if (!points.empty()) {
      absl::StrAppendFormat(&svg,
                            "<polyline class=\"fl-curve\" points=\"%s\" fill=\"none\" "
                            "stroke=\"%s\" stroke-width=\"2\"/>",
                            points, sides[s].colour);
    }
    for (const v1::QuantileComparison& q : d.quantiles()) {
      const auto& blocks = sides[s].baseline ? q.baseline_blocks() : q.candidate_blocks();
      int i = 0;
      for (double v : blocks) {
        if (!(v > 0)) continue;
        const double jitter = ((i++ * 37) % 17 - 8) * 0.8 + (sides[s].baseline ? -5 : 5);
        absl::StrAppendFormat(&svg,
                              "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\" "
                              "fill-opacity=\"0.6\"/>",
                              x(Nines(q.quantile())) + jitter, y(v), sides[s].colour);
      }
    }
    absl::StrAppendFormat(&svg,
                          "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" fill=\"%s\">%s</text>",
                          kLeft + 10 + s * 120, kBottom + 34, sides[s].colour, sides[s].label);
  }
  svg += "</svg></figure>\n";
  return svg;
}

}  // namespace

std::string HtmlEscape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

namespace {

std::string Head() {
  return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<title>faultline comparison</title><style>"
         "body{font-family:sans-serif;margin:24px;color:#222}"
         "table{border-collapse:collapse;font-size:13px}"
         "td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}"
         "td:first-child,td:nth-child(2),th{text-align:left}"
         "tr.regression{background:#fde0dc}tr.improvement{background:#e0f4e0}"
         "td.regression{background:#fde0dc}td.improvement{background:#e0f4e0}"
         "figure{margin:18px 0}figcaption{font-weight:bold;margin-bottom:4px}"
         "</style></head><body>\n<h1>faultline comparison</h1>\n";
}

const char* VerdictClass(v1::Verdict v) {
  return v == v1::VERDICT_REGRESSION    ? "regression"
         : v == v1::VERDICT_IMPROVEMENT ? "improvement"
                                        : "";
}

// One pair's sides, counts, warnings, table and plots; plot ids start with `id_prefix`.
// LKP's "%change" of the means; "-" without a base.
std::string MeanChange(const v1::MetricComparison& m) {
  if (m.baseline_count() == 0 || m.candidate_count() == 0 || m.baseline_mean() == 0) return "-";
  return absl::StrFormat("%+.1f%%", (m.candidate_mean() / m.baseline_mean() - 1) * 100);
}

// The kernel's figures (class "fl-counters"): the mechanism metrics with their verdicts, then
// the raw counters ("shifted" when their distribution moved).
std::string CounterTable(const v1::CompareResponse& response) {
  std::vector<std::pair<const v1::MetricComparison*, std::string>> rows;
  for (const v1::MetricComparison& m : response.metrics()) {
    if (analysis::IsMechanismMetric(m.metric())) rows.emplace_back(&m, VerdictText(m.verdict()));
  }
  for (const v1::MetricComparison& m : response.counters()) {
    rows.emplace_back(&m, m.shifted() ? "shifted" : "-");
  }
  if (rows.empty()) return "";
  std::string html =
      "<h3>Kernel counters</h3>\n<p>Mean &plusmn; %stddev over all repetitions and %change of "
      "the means (LKP's style). Per-operation figures carry their verdict; raw counts say whether "
      "they shifted. vmstat.* is system-wide.</p>\n<table class=\"fl-counters\"><tr>"
      "<th>benchmark</th><th>counter</th><th>A mean &plusmn; sd</th><th>%change</th>"
      "<th>B mean &plusmn; sd</th><th>verdict</th></tr>\n";
  for (const auto& [m, verdict] : rows) {
    absl::StrAppend(&html, "<tr><td>", HtmlEscape(m->benchmark()), "</td><td>",
                    HtmlEscape(m->metric()), "</td><td>",
                    MeanSd(m->baseline_count(), m->baseline_mean(), m->baseline_cv()),
                    "</td><td>", MeanChange(*m), "</td><td>",
                    MeanSd(m->candidate_count(), m->candidate_mean(), m->candidate_cv()),
                    "</td><td title=\"", HtmlEscape(m->reason()), "\">", verdict,
                    "</td></tr>\n");
  }
  return html + "</table>\n";
}

// The functions whose share of the samples changed most (class "fl-profile").
std::string ProfileTable(const v1::CompareResponse& response) {
  if (response.profile_changes().empty()) return "";
  std::string html =
      "<h3>Kernel profile</h3>\n<p>The kernel functions whose share of the benchmark's CPU "
      "time changed most: total (on the kernel call chain) and self (the CPU in it), mean over "
      "each side's runs.</p>\n<table class=\"fl-profile\"><tr><th>benchmark</th>"
      "<th>function</th><th>A total</th><th>B total</th><th>change</th><th>A self</th>"
      "<th>B self</th><th>profiles A/B</th></tr>\n";
  for (const v1::ProfileChange& c : response.profile_changes()) {
    absl::StrAppend(
        &html, "<tr><td>", HtmlEscape(c.benchmark()), "</td><td>", HtmlEscape(c.function()),
        absl::StrFormat("</td><td>%.1f%%</td><td>%.1f%%</td><td>%+.1f pt</td><td>%.1f%%</td>"
                        "<td>%.1f%%</td><td>%u/%u</td></tr>\n",
                        c.baseline_total_share() * 100, c.candidate_total_share() * 100,
                        (c.candidate_total_share() - c.baseline_total_share()) * 100,
                        c.baseline_self_share() * 100, c.candidate_self_share() * 100,
                        c.baseline_profiles(), c.candidate_profiles()));
  }
  return html + "</table>\n";
}

std::string PairSection(const v1::CompareResponse& response, const std::string& baseline,
                        const std::string& candidate, const std::string& id_prefix) {
  const double min_effect = response.options().min_effect();
  std::string html = absl::StrCat(
      "<p>baseline (A): <code>", HtmlEscape(baseline), "</code> on ",
      HtmlEscape(response.baseline_host_class()), "<br>candidate (B): <code>",
      HtmlEscape(candidate), "</code> on ", HtmlEscape(response.candidate_host_class()), "</p>\n",
      absl::StrFormat("<p>%u regressions, %u improvements, %u no change, %u inconclusive "
                      "(FDR %.3g, minimum effect %.3g%%, %.0f%% intervals)</p>\n",
                      response.regressions(), response.improvements(), response.no_change(),
                      response.inconclusive(), response.options().fdr_level(),
                      min_effect * 100, response.options().confidence() * 100));
  for (const std::string& w : response.warnings()) {
    absl::StrAppend(&html, "<p class=\"warning\">warning: ", HtmlEscape(w), "</p>\n");
  }
  const std::string unit =
      response.replication_unit() == v1::REPLICATION_UNIT_BOOT ? "boots" : "runs";
  html += absl::StrCat(
      "<table><tr><th>benchmark</th><th>metric</th><th>unit</th><th>better</th>"
      "<th>A median</th><th>A mean &plusmn; sd</th><th>B median</th><th>B mean &plusmn; sd</th>"
      "<th>B/A</th><th>interval</th><th>p</th><th>q</th><th>",
      unit, " A/B</th><th>verdict</th><th>reason</th></tr>\n");
  for (const v1::MetricComparison& m : response.metrics()) {
    absl::StrAppend(
        &html, "<tr class=\"", VerdictClass(m.verdict()), "\"><td>", HtmlEscape(m.benchmark()),
        "</td><td>", HtmlEscape(m.metric()), "</td><td>", HtmlEscape(m.unit()), "</td><td>",
        BetterText(m.direction()), "</td><td>", SideMedian(m.baseline_count(), m.baseline_median()),
        "</td><td>", MeanSd(m.baseline_count(), m.baseline_mean(), m.baseline_cv()), "</td><td>",
        SideMedian(m.candidate_count(), m.candidate_median()), "</td><td>",
        MeanSd(m.candidate_count(), m.candidate_mean(), m.candidate_cv()), "</td><td>",
        Num(m.ratio()), "</td><td>[", Num(m.ratio_lower()), ", ", Num(m.ratio_upper()),
        "]</td><td>", Num(m.p_value()), "</td><td>", m.tested() ? Num(m.q_value()) : "untested",
        "</td><td>", m.baseline_blocks(), "/", m.candidate_blocks(), "</td><td>",
        VerdictText(m.verdict()), "</td><td>", HtmlEscape(m.reason()), "</td></tr>\n");
  }
  // Every metric is plotted: an inconclusive one is where a reader most needs to see the data.
  html += "</table>\n";
  int plots = 0;
  for (const v1::MetricComparison& m : response.metrics()) {
    html += Plot(m, min_effect, absl::StrCat(id_prefix, plots++));
  }
  html += CounterTable(response);
  html += ProfileTable(response);
  if (response.distributions().empty()) return html;
  absl::StrAppend(
      &html, "<h3>Latency distributions</h3>\n<p>Each ", unit.substr(0, unit.size() - 1),
      "'s histograms merged, one value per ", unit.substr(0, unit.size() - 1),
      " and quantile; reported with intervals, not tested.</p>\n"
      "<table class=\"fl-distributions\"><tr><th>benchmark</th><th>histogram</th>"
      "<th>quantile</th><th>unit</th><th>A</th><th>B</th><th>B/A</th><th>interval</th><th>p</th>"
      "<th>", unit, " A/B</th><th>note</th></tr>\n");
  for (const v1::DistributionComparison& d : response.distributions()) {
    for (const v1::QuantileComparison& q : d.quantiles()) {
      absl::StrAppend(&html, "<tr><td>", HtmlEscape(d.benchmark()), "</td><td>",
                      HtmlEscape(d.histogram()), "</td><td>",
                      absl::StrFormat("p%g", q.quantile() * 100), "</td><td>",
                      HtmlEscape(d.unit()), "</td><td>", Num(q.baseline()), "</td><td>",
                      Num(q.candidate()), "</td><td>", Num(q.ratio()), "</td><td>[",
                      Num(q.ratio_lower()), ", ", Num(q.ratio_upper()), "]</td><td>",
                      Num(q.p_value()), "</td><td>", d.baseline_blocks(), "/",
                      d.candidate_blocks(), "</td><td>", HtmlEscape(d.reason()), "</td></tr>\n");
    }
  }
  html += "</table>\n";
  int curves = 0;
  for (const v1::DistributionComparison& d : response.distributions()) {
    html += QuantilePlot(d, absl::StrCat(id_prefix, curves++));
  }
  return html;
}

// "+8.5% [+6.0, +11.0]" of B/A; "-" when not computed.
std::string ChangeText(const v1::MetricComparison& m) {
  if (!std::isfinite(m.ratio())) return "-";
  std::string text = absl::StrFormat("%+.1f%%", (m.ratio() - 1) * 100);
  if (std::isfinite(m.ratio_lower()) && std::isfinite(m.ratio_upper())) {
    absl::StrAppendFormat(&text, " [%+.1f, %+.1f]", (m.ratio_lower() - 1) * 100,
                          (m.ratio_upper() - 1) * 100);
  }
  return text;
}

}  // namespace

std::string RenderComparisonHtml(const v1::CompareResponse& response, const std::string& baseline,
                                 const std::string& candidate) {
  return absl::StrCat(Head(), PairSection(response, baseline, candidate, ""),
                      "</body></html>\n");
}

std::string RenderKernelsHtml(const v1::KernelsComparison& comparison) {
  std::string html = Head();
  absl::StrAppend(&html, "<p>A: <code>", HtmlEscape(comparison.baseline_name()), "</code>");
  for (int i = 0; i < comparison.candidates_size(); ++i) {
    absl::StrAppend(&html, "<br>B", i + 1, ": <code>",
                    HtmlEscape(comparison.candidates(i).name()), "</code>");
  }
  html += "</p>\n<p>Each candidate is compared with A on its own; its q-values control the "
          "false-discovery rate within its own metrics.</p>\n";
  // Rows: every (benchmark, metric) any candidate compared, sorted as the comparisons are.
  std::map<std::pair<std::string, std::string>, std::vector<const v1::MetricComparison*>> rows;
  const int n = comparison.candidates_size();
  for (int i = 0; i < n; ++i) {
    for (const v1::MetricComparison& m : comparison.candidates(i).comparison().metrics()) {
      auto& row = rows[{m.benchmark(), m.metric()}];
      row.resize(n, nullptr);
      row[i] = &m;
    }
  }
  html += "<table class=\"fl-kernels\"><tr><th>benchmark</th><th>metric</th><th>unit</th>"
          "<th>better</th><th>A median</th><th>A mean &plusmn; sd</th>";
  for (int i = 0; i < n; ++i) {
    absl::StrAppend(&html, "<th>B", i + 1, " median</th><th>B", i + 1, " change</th><th>B",
                    i + 1, " verdict</th>");
  }
  html += "</tr>\n";
  for (const auto& [key, metrics] : rows) {
    const v1::MetricComparison* base = nullptr;
    for (const v1::MetricComparison* m : metrics) {
      if (m != nullptr && (base == nullptr || base->baseline_count() == 0)) base = m;
    }
    absl::StrAppend(&html, "<tr><td>", HtmlEscape(key.first), "</td><td>",
                    HtmlEscape(key.second), "</td><td>", HtmlEscape(base->unit()), "</td><td>",
                    BetterText(base->direction()), "</td><td>",
                    SideMedian(base->baseline_count(), base->baseline_median()), "</td><td>",
                    MeanSd(base->baseline_count(), base->baseline_mean(), base->baseline_cv()),
                    "</td>");
    for (const v1::MetricComparison* m : metrics) {
      if (m == nullptr) {
        html += "<td>-</td><td>-</td><td>-</td>";
        continue;
      }
      absl::StrAppend(&html, "<td>", SideMedian(m->candidate_count(), m->candidate_median()),
                      "</td><td>", ChangeText(*m), "</td><td class=\"", VerdictClass(m->verdict()),
                      "\" title=\"", HtmlEscape(m->reason()), "\">", VerdictText(m->verdict()),
                      "</td>");
    }
    html += "</tr>\n";
  }
  html += "</table>\n";
  for (int i = 0; i < n; ++i) {
    const v1::CandidateComparison& c = comparison.candidates(i);
    absl::StrAppend(&html, "<h2 id=\"b", i + 1, "\">B", i + 1, " against A</h2>\n",
                    PairSection(c.comparison(), comparison.baseline_name(), c.name(),
                                absl::StrCat("b", i + 1, "-")));
  }
  html += "</body></html>\n";
  return html;
}

}  // namespace faultline::controller::cli
