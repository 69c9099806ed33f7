#include "controller/analysis/hodges_lehmann.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "controller/analysis/distributions.h"
#include "controller/analysis/mann_whitney.h"

namespace faultline::controller::analysis {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

absl::Status CheckInputs(const std::vector<double>& a, const std::vector<double>& b,
                         double confidence) {
  if (a.empty()) return absl::InvalidArgumentError("sample a: no samples");
  if (b.empty()) return absl::InvalidArgumentError("sample b: no samples");
  if (!(confidence > 0 && confidence < 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("confidence: ", confidence, " is not in (0, 1)"));
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (!std::isfinite(a[i])) {
      return absl::InvalidArgumentError(absl::StrCat("sample a[", i, "]: not a finite number"));
    }
  }
  for (size_t i = 0; i < b.size(); ++i) {
    if (!std::isfinite(b[i])) {
      return absl::InvalidArgumentError(absl::StrCat("sample b[", i, "]: not a finite number"));
    }
  }
  return absl::OkStatus();
}

double SortedMedian(const std::vector<double>& sorted) {
  const size_t n = sorted.size();
  if (n % 2 == 1) return sorted[n / 2];
  return sorted[n / 2 - 1] + (sorted[n / 2] - sorted[n / 2 - 1]) / 2;
}

}  // namespace

int HodgesLehmannTrim(int m, int n, double confidence) {
  // The relative slack keeps exactly attainable levels (P(U <= 0) = 0.05 for m = n = 3 at 90%)
  // from being lost to the rounding of (1 - confidence) / 2.
  const double tail = (1 - confidence) / 2 * (1 + 1e-9);
  if (m <= kExactMaxPerSide && n <= kExactMaxPerSide) {
    const std::vector<double> cdf = MannWhitneyNullCdf(m, n);
    int k = 0;
    // cdf is non-decreasing: count the u with P(U <= u) <= tail; k - 1 is the last of them.
    while (k < static_cast<int>(cdf.size()) && cdf[k] <= tail) ++k;
    return std::min(k, (m * n) / 2);
  }
  const double dm = m;
  const double dn = n;
  const double z = NormalQuantile(0.5 + confidence / 2);
  const double k = std::floor(dm * dn / 2 - z * std::sqrt(dm * dn * (dm + dn + 1) / 12));
  return static_cast<int>(std::max(0.0, k));
}

absl::StatusOr<IntervalEstimate> HodgesLehmannShift(const std::vector<double>& a,
                                                    const std::vector<double>& b,
                                                    double confidence) {
  if (absl::Status s = CheckInputs(a, b, confidence); !s.ok()) return s;
  std::vector<double> differences;
  differences.reserve(a.size() * b.size());
  for (double y : b) {
    for (double x : a) differences.push_back(y - x);
  }
  std::sort(differences.begin(), differences.end());
  IntervalEstimate result;
  result.confidence = confidence;
  result.estimate = SortedMedian(differences);
  const int k =
      HodgesLehmannTrim(static_cast<int>(a.size()), static_cast<int>(b.size()), confidence);
  if (k == 0) {
    result.lower = -kInf;
    result.upper = kInf;
  } else {
    result.lower = differences[k - 1];
    result.upper = differences[differences.size() - k];
  }
  return result;
}

absl::StatusOr<IntervalEstimate> HodgesLehmannRatio(const std::vector<double>& a,
                                                    const std::vector<double>& b,
                                                    double confidence) {
  std::vector<double> log_a(a.size());
  std::vector<double> log_b(b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    if (!(a[i] > 0)) {
      return absl::InvalidArgumentError(
          absl::StrCat("sample a[", i, "]: ", a[i], " is not > 0; a ratio needs positive values"));
    }
    log_a[i] = std::log(a[i]);
  }
  for (size_t i = 0; i < b.size(); ++i) {
    if (!(b[i] > 0)) {
      return absl::InvalidArgumentError(
          absl::StrCat("sample b[", i, "]: ", b[i], " is not > 0; a ratio needs positive values"));
    }
    log_b[i] = std::log(b[i]);
  }
  absl::StatusOr<IntervalEstimate> shift = HodgesLehmannShift(log_a, log_b, confidence);
  if (!shift.ok()) return shift.status();
  IntervalEstimate ratio = *shift;
  ratio.estimate = std::exp(shift->estimate);
  ratio.lower = std::exp(shift->lower);  // exp(-inf) = 0: an unbounded ratio interval is [0, inf)
  ratio.upper = std::exp(shift->upper);
  return ratio;
}

}  // namespace faultline::controller::analysis
