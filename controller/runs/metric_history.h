// A metric's history on one hardware class as a series (by run time or by kernel), and its
// change points (controller/analysis/change_points.h), each attributed to the first kernel
// after the change.
#ifndef FAULTLINE_CONTROLLER_RUNS_METRIC_HISTORY_H_
#define FAULTLINE_CONTROLLER_RUNS_METRIC_HISTORY_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "controller/analysis/change_points.h"
#include "controller/store/store.h"
#include "proto/faultline/v1/benchmark.pb.h"

namespace faultline::controller::runs {

struct HistoryQuery {
  std::string benchmark;
  std::string metric;
  // Runs must have these parameter values (others unconstrained).
  std::map<std::string, v1::ParamValue> params;
  int arch = 0;  // v1::Arch; 0 for any.
  std::string host_class;
  std::string kernel_label;  // glob
  enum class Order { kByTime, kByKernel };
  Order order = Order::kByTime;
  analysis::ChangePointOptions options;
  // Most recent runs considered.
  int limit = 10000;
};

struct HistoryPoint {
  double value = 0;
  std::string kernel_label;
  std::string kernel_release;
  std::string kernel_version;
  absl::Time time;
  int64_t run_id = 0;  // kByTime only
  int runs = 1;
};

struct MetricHistory {
  std::vector<HistoryPoint> points;
  // Indices are into `points`: the first point (kernel) carrying the change.
  std::vector<analysis::ChangePoint> change_points;
  std::string unit;
  int direction = 0;  // v1::Direction
  std::string host_class;
};

// INVALID_ARGUMENT for a missing benchmark or metric; FAILED_PRECONDITION when the matching runs
// span several host classes or architectures (set host_class / arch).
absl::StatusOr<MetricHistory> FindMetricChangePoints(store::Store* store,
                                                     const HistoryQuery& query);

}  // namespace faultline::controller::runs

#endif  // FAULTLINE_CONTROLLER_RUNS_METRIC_HISTORY_H_
