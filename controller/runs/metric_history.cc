#include "controller/runs/metric_history.h"

#include <algorithm>
#include <set>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "controller/analysis/descriptive.h"
#include "controller/scheduling/glob.h"
#include "proto/faultline/v1/repetitions.h"

namespace faultline::controller::runs {
namespace {

absl::Time ToTime(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

bool SameValue(const v1::ParamValue& a, const v1::ParamValue& b) {
  return a.SerializeAsString() == b.SerializeAsString();
}

}  // namespace

absl::StatusOr<MetricHistory> FindMetricChangePoints(store::Store* store,
                                                     const HistoryQuery& query) {
  if (query.benchmark.empty()) return absl::InvalidArgumentError("benchmark: must be set");
  if (query.metric.empty()) return absl::InvalidArgumentError("metric: must be set");
  if (query.limit < 1 || query.limit > 100000) {
    return absl::InvalidArgumentError("limit: must be 1..100000");
  }
  store::RunQuery rq;
  rq.benchmark = query.benchmark;
  rq.arch = query.arch;
  rq.kernel_label_glob = query.kernel_label;
  rq.limit = query.limit;
  absl::StatusOr<std::vector<store::StoredRunRecord>> runs = store->QueryRuns(rq);
  if (!runs.ok()) return runs.status();

  MetricHistory history;
  std::set<std::string> classes, arches;
  std::vector<HistoryPoint> per_run;
  for (const store::StoredRunRecord& run : *runs) {
    const v1::RunResult& r = run.result;
    if (r.state() != v1::RUN_STATE_OK) continue;
    if (!scheduling::GlobMatch(query.host_class, r.host().host_class())) continue;
    bool params_match = true;
    for (const auto& [name, value] : query.params) {
      auto it = r.params().find(name);
      if (it == r.params().end() || !SameValue(it->second, value)) params_match = false;
    }
    if (!params_match) continue;
    std::vector<double> values;
    for (const v1::Repetition* rep : v1::AllRepetitions(r)) {
      for (const v1::MetricValue& m : rep->metrics()) {
        if (m.name() != query.metric) continue;
        values.push_back(m.value());
        history.unit = m.unit();
        history.direction = m.direction();
      }
    }
    if (values.empty()) continue;
    classes.insert(r.host().host_class());
    arches.insert(v1::Arch_Name(r.host().arch()));
    HistoryPoint p;
    p.value = analysis::Median(values);
    p.kernel_label = r.host().kernel_label();
    p.kernel_release = r.host().kernel_release();
    p.kernel_version = r.host().kernel_version();
    p.time = ToTime(r.started());
    p.run_id = run.run_id;
    per_run.push_back(std::move(p));
  }
  if (classes.size() > 1 || arches.size() > 1) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the matching runs span host classes ", absl::StrJoin(classes, ", "),
        " (architectures ", absl::StrJoin(arches, ", "),
        "); a history is only meaningful on one: set host_class"));
  }
  if (!classes.empty()) history.host_class = *classes.begin();
  std::sort(per_run.begin(), per_run.end(), [](const HistoryPoint& a, const HistoryPoint& b) {
    return std::tie(a.time, a.run_id) < std::tie(b.time, b.run_id);
  });
  if (query.order == HistoryQuery::Order::kByTime) {
    history.points = std::move(per_run);
  } else {
    // Kernels in order of their first run; each point the median of its runs' medians.
    std::vector<std::tuple<std::string, std::string, std::string>> order;
    std::map<std::tuple<std::string, std::string, std::string>, std::vector<const HistoryPoint*>>
        by_kernel;
    for (const HistoryPoint& p : per_run) {
      auto key = std::make_tuple(p.kernel_label, p.kernel_release, p.kernel_version);
      if (by_kernel[key].empty()) order.push_back(key);
      by_kernel[key].push_back(&p);
    }
    for (const auto& key : order) {
      const auto& points = by_kernel[key];
      std::vector<double> medians;
      for (const HistoryPoint* p : points) medians.push_back(p->value);
      HistoryPoint k = *points.front();
      k.value = analysis::Median(medians);
      k.run_id = 0;
      k.runs = static_cast<int>(points.size());
      history.points.push_back(std::move(k));
    }
  }
  std::vector<double> series;
  for (const HistoryPoint& p : history.points) series.push_back(p.value);
  absl::StatusOr<std::vector<analysis::ChangePoint>> cps =
      analysis::FindChangePoints(series, query.options);
  if (!cps.ok()) return cps.status();
  history.change_points = std::move(*cps);
  return history;
}

}  // namespace faultline::controller::runs
