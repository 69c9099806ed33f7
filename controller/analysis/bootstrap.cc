#include "controller/analysis/bootstrap.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "controller/analysis/descriptive.h"
#include "controller/analysis/deterministic_random.h"

namespace faultline::controller::analysis {
namespace {

absl::Status CheckPositive(const std::vector<double>& x, const char* name) {
  if (x.empty()) return absl::InvalidArgumentError(absl::StrCat(name, ": no samples"));
  for (size_t i = 0; i < x.size(); ++i) {
    if (!(x[i] > 0) || !std::isfinite(x[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, "[", i, "]: ", x[i], " is not a finite value > 0"));
    }
  }
  return absl::OkStatus();
}

std::vector<double> Resample(const std::vector<double>& x, DeterministicRandom& random) {
  std::vector<double> out(x.size());
  for (double& v : out) v = x[random.UniformIndex(x.size())];
  return out;
}

// Linear interpolation between order statistics (type 7 quantile, as R's default).
double SortedQuantile(const std::vector<double>& sorted, double q) {
  const double position = q * static_cast<double>(sorted.size() - 1);
  const size_t below = static_cast<size_t>(std::floor(position));
  const size_t above = std::min(below + 1, sorted.size() - 1);
  const double fraction = position - static_cast<double>(below);
  return sorted[below] + fraction * (sorted[above] - sorted[below]);
}

}  // namespace

absl::StatusOr<IntervalEstimate> BootstrapMedianRatio(const std::vector<double>& a,
                                                      const std::vector<double>& b,
                                                      const BootstrapOptions& options) {
  if (absl::Status s = CheckPositive(a, "sample a"); !s.ok()) return s;
  if (absl::Status s = CheckPositive(b, "sample b"); !s.ok()) return s;
  if (!(options.confidence > 0 && options.confidence < 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("confidence: ", options.confidence, " is not in (0, 1)"));
  }
  if (options.resamples < 100 || options.resamples > 1'000'000) {
    return absl::InvalidArgumentError(
        absl::StrCat("resamples: ", options.resamples, " is not in [100, 1000000]"));
  }
  DeterministicRandom random(options.seed);
  std::vector<double> ratios(options.resamples);
  for (double& r : ratios) {
    r = Median(Resample(b, random)) / Median(Resample(a, random));
  }
  std::sort(ratios.begin(), ratios.end());
  const double tail = (1 - options.confidence) / 2;
  IntervalEstimate result;
  result.confidence = options.confidence;
  result.estimate = Median(b) / Median(a);
  result.lower = SortedQuantile(ratios, tail);
  result.upper = SortedQuantile(ratios, 1 - tail);
  return result;
}

}  // namespace faultline::controller::analysis
