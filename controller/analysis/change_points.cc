#include "controller/analysis/change_points.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "controller/analysis/descriptive.h"
#include "controller/analysis/deterministic_random.h"
#include "controller/analysis/welch_t_test.h"

namespace faultline::controller::analysis {
namespace {

struct Split {
  int index = 0;
  double q_hat = 0;
};

// Best E-Divisive split of x[lo, hi), or nullopt when the segment is too short.
std::optional<Split> BestSplit(const std::vector<double>& x, int lo, int hi, int min_segment) {
  const int n = hi - lo;
  if (n < 2 * min_segment) return std::nullopt;
  double within_right = 0;
  for (int i = lo; i < hi; ++i) {
    for (int j = i + 1; j < hi; ++j) within_right += std::fabs(x[i] - x[j]);
  }
  double within_left = 0;
  double between = 0;
  Split best{-1, -std::numeric_limits<double>::infinity()};
  // Invariant at the top of each iteration: the left part is x[lo, tau).
  for (int tau = lo; tau < hi - min_segment; ++tau) {
    if (tau - lo >= min_segment) {
      const double m = tau - lo;
      const double k = hi - tau;
      const double energy = 2 * between / (m * k) - within_left / (m * (m - 1) / 2) -
                            within_right / (k * (k - 1) / 2);
      const double q = m * k / (m + k) * energy;
      if (q > best.q_hat) best = Split{tau, q};
    }
    // Move x[tau] from the right part to the left part.
    double to_left = 0;
    for (int i = lo; i < tau; ++i) to_left += std::fabs(x[tau] - x[i]);
    double to_right = 0;
    for (int j = tau + 1; j < hi; ++j) to_right += std::fabs(x[tau] - x[j]);
    within_left += to_left;
    within_right -= to_right;
    between += to_right - to_left;
  }
  if (best.index < 0) return std::nullopt;
  return best;
}

// Q of the split at `index` of x[lo, hi), computed directly.
double QAt(const std::vector<double>& x, int lo, int index, int hi) {
  double within_left = 0, within_right = 0, between = 0;
  for (int i = lo; i < hi; ++i) {
    for (int j = i + 1; j < hi; ++j) {
      const double d = std::fabs(x[i] - x[j]);
      if (j < index) {
        within_left += d;
      } else if (i >= index) {
        within_right += d;
      } else {
        between += d;
      }
    }
  }
  const double m = index - lo;
  const double k = hi - index;
  if (m < 2 || k < 2) return 0;
  return m * k / (m + k) *
         (2 * between / (m * k) - within_left / (m * (m - 1) / 2) -
          within_right / (k * (k - 1) / 2));
}

std::vector<double> Slice(const std::vector<double>& x, int from, int to) {
  return std::vector<double>(x.begin() + from, x.begin() + to);
}

// Welch p-value of the split at `index` between neighbours `lo` and `hi`, windowed.
double WelchP(const std::vector<double>& x, int lo, int index, int hi, int window,
              ChangePoint* out) {
  const int from = std::max(lo, index - window);
  const int to = std::min(hi, index + window);
  const std::vector<double> before = Slice(x, from, index);
  const std::vector<double> after = Slice(x, index, to);
  if (out != nullptr) {
    out->mean_before = Mean(before);
    out->mean_after = Mean(after);
    out->relative_change = out->mean_before == 0
                               ? std::numeric_limits<double>::quiet_NaN()
                               : out->mean_after / out->mean_before - 1;
  }
  absl::StatusOr<WelchResult> r = WelchTTest(before, after);
  return r.ok() ? r->p_value : 1.0;
}

double PermutationP(const std::vector<double>& x, int lo, int hi, double observed,
                    const ChangePointOptions& options, DeterministicRandom& random) {
  std::vector<double> shuffled = Slice(x, lo, hi);
  int at_least = 0;
  for (int r = 0; r < options.permutations; ++r) {
    // Fisher-Yates with the platform-independent index draw.
    for (size_t i = shuffled.size() - 1; i > 0; --i) {
      std::swap(shuffled[i], shuffled[random.UniformIndex(i + 1)]);
    }
    std::optional<Split> s =
        BestSplit(shuffled, 0, static_cast<int>(shuffled.size()), options.min_segment);
    if (s.has_value() && s->q_hat >= observed) ++at_least;
  }
  return (1.0 + at_least) / (1.0 + options.permutations);
}

// The Welch p of the chosen split, adjusted for having chosen it among all admissible splits of
// x[lo, hi) (Bonferroni). Without the adjustment the best of ~100 splits of pure noise passes
// p <= 0.001 in several percent of series; the permutation test needs no adjustment because it
// compares against the best split of each shuffle.
double AdjustedWelchP(const std::vector<double>& x, int lo, int index, int hi,
                      const ChangePointOptions& options, ChangePoint* out) {
  const double raw = WelchP(x, lo, index, hi, options.window, out);
  const int candidates = std::max(1, hi - lo - 2 * options.min_segment + 1);
  if (out != nullptr) out->raw_p_value = raw;
  if (!options.adjust_for_split_choice) return raw;
  return std::min(1.0, raw * candidates);
}

double SplitP(const std::vector<double>& x, int lo, int index, int hi, double q_hat,
              const ChangePointOptions& options, DeterministicRandom& random, ChangePoint* out) {
  const double welch = AdjustedWelchP(x, lo, index, hi, options, out);
  if (options.test == ChangePointOptions::Test::kWelch) return welch;
  return PermutationP(x, lo, hi, q_hat, options, random);
}

absl::Status Validate(const std::vector<double>& series, const ChangePointOptions& options) {
  for (size_t i = 0; i < series.size(); ++i) {
    if (!std::isfinite(series[i])) {
      return absl::InvalidArgumentError(absl::StrCat("series[", i, "]: not a finite number"));
    }
  }
  if (!(options.max_p_value > 0 && options.max_p_value < 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_p_value: ", options.max_p_value, " is not in (0, 1)"));
  }
  if (options.min_segment < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("min_segment: ", options.min_segment, " is below 2"));
  }
  if (options.window < options.min_segment) {
    return absl::InvalidArgumentError(absl::StrCat("window: ", options.window,
                                                   " is below min_segment ", options.min_segment));
  }
  if (options.test == ChangePointOptions::Test::kPermutation &&
      (options.permutations < 19 || options.permutations > 100'000)) {
    return absl::InvalidArgumentError(
        absl::StrCat("permutations: ", options.permutations, " is not in [19, 100000]"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<ChangePoint>> FindChangePoints(const std::vector<double>& series,
                                                          const ChangePointOptions& options) {
  if (absl::Status s = Validate(series, options); !s.ok()) return s;
  const int n = static_cast<int>(series.size());
  DeterministicRandom random(options.seed);
  // Segment boundaries: 0, accepted change points, n.
  std::vector<int> bounds = {0, n};
  std::vector<double> q_of;  // q_hat per accepted index, parallel to `accepted`
  std::vector<int> accepted;
  // Each segment's best split is cached until the segment is cut. At most n / min_segment
  // splits can ever be accepted, which bounds the loop.
  for (int round = 0; round <= n / options.min_segment; ++round) {
    std::optional<Split> best;
    int best_lo = 0;
    int best_hi = 0;
    for (size_t b = 0; b + 1 < bounds.size(); ++b) {
      std::optional<Split> s = BestSplit(series, bounds[b], bounds[b + 1], options.min_segment);
      if (s.has_value() && (!best.has_value() || s->q_hat > best->q_hat)) {
        best = s;
        best_lo = bounds[b];
        best_hi = bounds[b + 1];
      }
    }
    if (!best.has_value() || !(best->q_hat > 0)) break;
    const double p =
        SplitP(series, best_lo, best->index, best_hi, best->q_hat, options, random, nullptr);
    if (p > options.max_p_value) break;
    bounds.insert(std::upper_bound(bounds.begin(), bounds.end(), best->index), best->index);
    accepted.push_back(best->index);
    q_of.push_back(best->q_hat);
  }

  // Re-test each point against its final neighbours; drop the weakest failure until none fail.
  std::vector<ChangePoint> points;
  for (size_t i = 0; i < accepted.size(); ++i) {
    ChangePoint cp;
    cp.index = accepted[i];
    cp.q_hat = q_of[i];
    points.push_back(cp);
  }
  std::sort(points.begin(), points.end(),
            [](const ChangePoint& l, const ChangePoint& r) { return l.index < r.index; });
  while (!points.empty()) {
    int weakest = -1;
    for (size_t i = 0; i < points.size(); ++i) {
      const int lo = i == 0 ? 0 : points[i - 1].index;
      const int hi = i + 1 == points.size() ? n : points[i + 1].index;
      ChangePoint& cp = points[i];
      // Means always come from the windowed neighbours; the p-value from the chosen test.
      const double welch = AdjustedWelchP(series, lo, cp.index, hi, options, &cp);
      cp.p_value = options.test == ChangePointOptions::Test::kWelch
                       ? welch
                       : PermutationP(series, lo, hi, QAt(series, lo, cp.index, hi), options,
                                      random);
      if (cp.p_value > options.max_p_value &&
          (weakest < 0 || cp.p_value > points[weakest].p_value)) {
        weakest = static_cast<int>(i);
      }
    }
    if (weakest < 0) break;
    points.erase(points.begin() + weakest);
  }
  return points;
}

}  // namespace faultline::controller::analysis
