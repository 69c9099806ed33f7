#include "controller/runs/metric_direction.h"

namespace faultline::controller::runs {

analysis::MetricDirection DirectionFromProto(v1::Direction direction) {
  switch (direction) {
    case v1::DIRECTION_HIGHER_IS_BETTER:
      return analysis::MetricDirection::kHigherIsBetter;
    case v1::DIRECTION_NEUTRAL:
      return analysis::MetricDirection::kNeutral;
    default:
      return analysis::MetricDirection::kLowerIsBetter;
  }
}

v1::Direction DirectionToProto(analysis::MetricDirection direction) {
  switch (direction) {
    case analysis::MetricDirection::kLowerIsBetter:
      return v1::DIRECTION_LOWER_IS_BETTER;
    case analysis::MetricDirection::kHigherIsBetter:
      return v1::DIRECTION_HIGHER_IS_BETTER;
    case analysis::MetricDirection::kNeutral:
      return v1::DIRECTION_NEUTRAL;
  }
  return v1::DIRECTION_UNSPECIFIED;
}

}  // namespace faultline::controller::runs
