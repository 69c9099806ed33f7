#include "controller/analysis/sequential.h"

#include <algorithm>
#include <cmath>

#include "controller/analysis/distributions.h"

namespace faultline::controller::analysis {

double ObrienFlemingSpent(double alpha, double t) {
  t = std::clamp(t, 0.0, 1.0);
  if (t <= 0) return 0;
  if (t >= 1) return alpha;
  const double z = NormalQuantile(1 - alpha / 2);
  return std::min(alpha, 2 * NormalSurvival(z / std::sqrt(t)));
}

double SequentialLookLevel(double alpha, double t_previous, double t_now) {
  return std::max(0.0, ObrienFlemingSpent(alpha, t_now) - ObrienFlemingSpent(alpha, t_previous));
}

}  // namespace faultline::controller::analysis
