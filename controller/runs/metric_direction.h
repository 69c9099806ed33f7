// A metric's direction between the API (v1::Direction) and the statistics
// (analysis::MetricDirection): the one conversion the comparisons, the services and faultlinectl
// use, so an unspecified direction means "lower is better" everywhere.
#ifndef FAULTLINE_CONTROLLER_RUNS_METRIC_DIRECTION_H_
#define FAULTLINE_CONTROLLER_RUNS_METRIC_DIRECTION_H_

#include "controller/analysis/compare.h"
#include "proto/faultline/v1/benchmark.pb.h"

namespace faultline::controller::runs {

// UNSPECIFIED (a benchmark that did not say) compares as lower-is-better.
analysis::MetricDirection DirectionFromProto(v1::Direction direction);
v1::Direction DirectionToProto(analysis::MetricDirection direction);

}  // namespace faultline::controller::runs

#endif  // FAULTLINE_CONTROLLER_RUNS_METRIC_DIRECTION_H_
