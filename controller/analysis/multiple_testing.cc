#include "controller/analysis/multiple_testing.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

namespace faultline::controller::analysis {

std::vector<double> BenjaminiHochbergQValues(const std::vector<double>& p_values) {
  std::vector<double> q(p_values.size(), std::numeric_limits<double>::quiet_NaN());
  std::vector<size_t> order;
  for (size_t i = 0; i < p_values.size(); ++i) {
    if (!std::isnan(p_values[i])) order.push_back(i);
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t l, size_t r) { return p_values[l] < p_values[r]; });
  const double m = static_cast<double>(order.size());
  double running_min = 1;
  for (size_t rank = order.size(); rank > 0; --rank) {
    const size_t i = order[rank - 1];
    running_min = std::min(running_min, p_values[i] * m / static_cast<double>(rank));
    q[i] = std::clamp(running_min, 0.0, 1.0);
  }
  return q;
}

}  // namespace faultline::controller::analysis
