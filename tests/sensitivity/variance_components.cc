#include "tests/sensitivity/variance_components.h"

#include <algorithm>
#include <cmath>

namespace faultline::tests::sensitivity {

double VarianceComponents::RepetitionCv() const { return std::sqrt(within); }

double VarianceComponents::BetweenShare() const {
  return within + between > 0 ? between / (within + between) : 0;
}

double VarianceComponents::RunMeanCv(int repetitions) const {
  return std::sqrt(between + within / std::max(repetitions, 1));
}

VarianceComponents EstimateVarianceComponents(const std::vector<std::vector<double>>& runs) {
  VarianceComponents out;
  std::vector<double> means;
  std::vector<int> sizes;
  double total = 0;
  int count = 0;
  for (const std::vector<double>& run : runs) {
    if (run.empty()) continue;
    double sum = 0;
    for (double x : run) sum += x;
    means.push_back(sum / run.size());
    sizes.push_back(static_cast<int>(run.size()));
    total += sum;
    count += static_cast<int>(run.size());
  }
  out.runs = static_cast<int>(means.size());
  if (count == 0) return out;
  out.mean = total / count;
  if (out.mean == 0) return out;
  double ssw = 0;
  int i = 0;
  for (const std::vector<double>& run : runs) {
    if (run.empty()) continue;
    for (double x : run) ssw += (x - means[i]) * (x - means[i]);
    ++i;
  }
  const int within_df = count - out.runs;
  const double msw = within_df > 0 ? ssw / within_df : 0;
  double ssb = 0;
  double inverse_sizes = 0;
  for (size_t r = 0; r < means.size(); ++r) {
    ssb += sizes[r] * (means[r] - out.mean) * (means[r] - out.mean);
    inverse_sizes += 1.0 / sizes[r];
  }
  const double mean_sq = out.mean * out.mean;
  out.within = msw / mean_sq;
  if (out.runs >= 2) {
    const double msb = ssb / (out.runs - 1);
    const double n = out.runs / inverse_sizes;
    out.between = std::max(0.0, (msb - msw) / n) / mean_sq;
  }
  return out;
}

}  // namespace faultline::tests::sensitivity
