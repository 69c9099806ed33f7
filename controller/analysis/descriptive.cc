#include "controller/analysis/descriptive.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

namespace faultline::controller::analysis {
namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}  // namespace

double Median(std::vector<double> samples) {
  const size_t n = samples.size();
  if (n == 0) return kNaN;
  auto mid = samples.begin() + n / 2;
  std::nth_element(samples.begin(), mid, samples.end());
  const double upper = *mid;
  if (n % 2 == 1) return upper;
  const double lower = *std::max_element(samples.begin(), mid);
  return lower + (upper - lower) / 2;
}

double Mean(const std::vector<double>& samples) {
  if (samples.empty()) return kNaN;
  // Welford-style running mean: no overflow for large values and no loss from a big running sum.
  double mean = 0;
  for (size_t i = 0; i < samples.size(); ++i) {
    mean += (samples[i] - mean) / static_cast<double>(i + 1);
  }
  return mean;
}

double StdDev(const std::vector<double>& samples) {
  if (samples.size() < 2) return kNaN;
  double mean = 0;
  double m2 = 0;
  for (size_t i = 0; i < samples.size(); ++i) {
    const double delta = samples[i] - mean;
    mean += delta / static_cast<double>(i + 1);
    m2 += delta * (samples[i] - mean);
  }
  return std::sqrt(m2 / static_cast<double>(samples.size() - 1));
}

double CoefficientOfVariation(const std::vector<double>& samples) {
  const double mean = Mean(samples);
  if (samples.size() < 2 || mean == 0) return kNaN;
  return StdDev(samples) / std::fabs(mean);
}

double MedianAbsoluteDeviation(const std::vector<double>& samples) {
  if (samples.empty()) return kNaN;
  const double median = Median(samples);
  std::vector<double> deviations;
  deviations.reserve(samples.size());
  for (double x : samples) deviations.push_back(std::fabs(x - median));
  return Median(std::move(deviations));
}

double RobustCoefficientOfVariation(const std::vector<double>& samples) {
  const double median = Median(samples);
  if (samples.size() < 2 || median == 0) return kNaN;
  // 1.4826 = 1 / Phi^-1(3/4) makes the MAD a consistent estimator of a normal sigma.
  return 1.482602218505602 * MedianAbsoluteDeviation(samples) / std::fabs(median);
}

double Min(const std::vector<double>& samples) {
  if (samples.empty()) return kNaN;
  return *std::min_element(samples.begin(), samples.end());
}

double Max(const std::vector<double>& samples) {
  if (samples.empty()) return kNaN;
  return *std::max_element(samples.begin(), samples.end());
}

}  // namespace faultline::controller::analysis
