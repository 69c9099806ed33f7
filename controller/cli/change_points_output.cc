#include "controller/cli/change_points_output.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "controller/analysis/report_text.h"
#include "controller/cli/comparison_output.h"

namespace faultline::controller::cli {
namespace {

const char* BetterText(v1::Direction d) {
  switch (d) {
    case v1::DIRECTION_HIGHER_IS_BETTER:
      return "higher is better";
    case v1::DIRECTION_NEUTRAL:
      return "neutral";
    default:
      return "lower is better";
  }
}

const char* VerdictText(v1::Verdict v) {
  switch (v) {
    case v1::VERDICT_REGRESSION:
      return "regression";
    case v1::VERDICT_IMPROVEMENT:
      return "improvement";
    default:
      return "shift";
  }
}

std::string Time(const google::protobuf::Timestamp& t) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", absl::FromUnixSeconds(t.seconds()),
                          absl::UTCTimeZone());
}

std::string Kernel(const std::string& label, const std::string& release) {
  if (release.empty()) return label;
  return absl::StrCat(label, " (", release, ")");
}

}  // namespace

std::string FormatChangePointsTable(const v1::ChangePointsResponse& r, const std::string& title) {
  std::string out = absl::StrFormat(
      "%s (%s, %s) on host class %s: %d points, %d change point%s\n", title,
      r.unit().empty() ? "no unit" : r.unit(), BetterText(r.direction()), r.host_class(),
      r.points_size(), r.change_points_size(), r.change_points_size() == 1 ? "" : "s");
  std::map<uint32_t, const v1::ChangePointReport*> at;
  for (const v1::ChangePointReport& c : r.change_points()) at[c.index()] = &c;
  // Columns padded to their widest cell.
  std::vector<std::vector<std::string>> rows = {
      {"#", "run", "time (UTC)", "kernel", "runs", "value", "change"}};
  for (int i = 0; i < r.points_size(); ++i) {
    const v1::SeriesPoint& p = r.points(i);
    auto c = at.find(static_cast<uint32_t>(i));
    rows.push_back({absl::StrCat(i), p.run_id() == 0 ? "-" : absl::StrCat(p.run_id()),
                    Time(p.time()), Kernel(p.kernel_label(), p.kernel_release()),
                    absl::StrCat(p.runs()), absl::StrFormat("%.6g", p.value()),
                    c == at.end() ? ""
                                  : absl::StrFormat("<- %+.1f%% %s", c->second->relative_change() * 100,
                                                    VerdictText(c->second->verdict()))});
  }
  absl::StrAppend(&out, analysis::RenderColumns(rows));
  if (r.points().empty()) {
    absl::StrAppend(&out, "no stored successful run measured this metric (check the benchmark and "
                          "metric names, --params and --where)\n");
  } else if (r.change_points().empty()) {
    absl::StrAppend(&out, "no change point at the requested significance\n");
  }
  for (const v1::ChangePointReport& c : r.change_points()) {
    absl::StrAppendFormat(&out,
                          "change point at #%u, first on %s at %s: %.6g -> %.6g %s (%+.1f%%), "
                          "p = %.3g (unadjusted %.3g): %s\n",
                          c.index(), Kernel(c.kernel_label(), c.kernel_release()), Time(c.time()),
                          c.mean_before(), c.mean_after(), r.unit(), c.relative_change() * 100,
                          c.p_value(), c.raw_p_value(), VerdictText(c.verdict()));
  }
  return out;
}

std::string FormatChangePointsJson(const v1::ChangePointsResponse& response) {
  return FormatProtoJson(response);
}

}  // namespace faultline::controller::cli
