#include "controller/analysis/mann_whitney.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "controller/analysis/distributions.h"

namespace faultline::controller::analysis {
namespace {

absl::Status CheckSample(const std::vector<double>& x, const char* name) {
  if (x.empty()) return absl::InvalidArgumentError(absl::StrCat(name, ": no samples"));
  for (size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(x[i])) {
      return absl::InvalidArgumentError(absl::StrCat(name, "[", i, "]: not a finite number"));
    }
  }
  return absl::OkStatus();
}

// Pooled values sorted, with which sample each came from.
std::vector<std::pair<double, bool>> Pool(const std::vector<double>& a,
                                          const std::vector<double>& b) {
  std::vector<std::pair<double, bool>> pooled;  // (value, from a)
  pooled.reserve(a.size() + b.size());
  for (double x : a) pooled.emplace_back(x, true);
  for (double x : b) pooled.emplace_back(x, false);
  std::sort(pooled.begin(), pooled.end(),
            [](const auto& l, const auto& r) { return l.first < r.first; });
  return pooled;
}

// The null distribution depends on the sizes only and costs O((m n)^2) to build (6 million steps
// at 50 x 50), so each size pair is built once per process. At most 50 x 50 entries.
const std::vector<double>& CachedNullCdf(int m, int n) {
  static std::mutex mu;
  static auto* cache = new std::map<std::pair<int, int>, std::unique_ptr<std::vector<double>>>();
  std::lock_guard<std::mutex> lock(mu);
  std::unique_ptr<std::vector<double>>& entry = (*cache)[{m, n}];
  if (entry == nullptr) entry = std::make_unique<std::vector<double>>(MannWhitneyNullCdf(m, n));
  return *entry;
}

}  // namespace

double ExactConditionalPValue(const std::vector<double>& a, const std::vector<double>& b) {
  const std::vector<std::pair<double, bool>> pooled = Pool(a, b);
  const int m = static_cast<int>(a.size());
  const int total = static_cast<int>(pooled.size());
  // Mid-ranks are half-integers; doubled, every rank sum is an integer and comparisons are exact.
  // ways[k][s]: ways to give k of the values seen so far to the first sample with doubled rank
  // sum s. A tie group of t values with doubled mid-rank r contributes c * r for c of its values
  // in C(t, c) ways. Only additions and products of positive counts: no cancellation.
  const int max_sum = total * (total + 1);
  std::vector<std::vector<double>> ways(m + 1, std::vector<double>(max_sum + 1, 0));
  ways[0][0] = 1;
  long long observed = 0;
  int seen = 0;
  int reach = 0;  // largest doubled rank sum reachable so far
  for (int i = 0; i < total;) {
    int j = i;
    int in_a = 0;
    while (j < total && pooled[j].first == pooled[i].first) in_a += pooled[j++].second;
    const int t = j - i;
    const int rank2 = (i + 1) + j;
    observed += static_cast<long long>(in_a) * rank2;
    std::vector<double> choose(t + 1, 1);  // C(t, c)
    for (int c = 1; c <= t; ++c) choose[c] = choose[c - 1] * (t - c + 1) / c;
    const int new_reach = std::min(max_sum, reach + t * rank2);
    for (int k = std::min(m, seen + t); k >= 0; --k) {
      // ways[k] gains from ways[k - c] for c >= 1; walking k downwards reads rows not yet updated.
      for (int c = std::min(t, k); c >= 1; --c) {
        const std::vector<double>& from = ways[k - c];
        std::vector<double>& to = ways[k];
        const int shift = c * rank2;
        for (int s = 0; s <= reach && s + shift <= max_sum; ++s) {
          if (from[s] != 0) to[s + shift] += from[s] * choose[c];
        }
      }
    }
    reach = new_reach;
    seen += t;
    i = j;
  }
  // Two-sided: every arrangement at least as far from the mean doubled rank sum m (N + 1).
  const long long mean2 = static_cast<long long>(m) * (total + 1);
  const long long distance = std::llabs(observed - mean2);
  double extreme = 0;
  double all = 0;
  for (int s = 0; s <= max_sum; ++s) {
    const double w = ways[m][s];
    if (w == 0) continue;
    all += w;
    if (std::llabs(s - mean2) >= distance) extreme += w;
  }
  return std::min(1.0, extreme / all);
}

std::vector<double> MannWhitneyNullCdf(int m, int n) {
  // counts[i][u]: number of arrangements of i first-sample and j second-sample values with
  // U = u, built up over j with counts_j[i][u] = counts_j[i-1][u - j] + counts_{j-1}[i][u]
  // (the largest value belongs to the first sample, beating all j second-sample values, or to
  // the second sample, beating none).
  const int max_u = m * n;
  std::vector<std::vector<double>> prev(m + 1, std::vector<double>(max_u + 1, 0));
  for (int i = 0; i <= m; ++i) prev[i][0] = 1;  // j = 0: only U = 0.
  for (int j = 1; j <= n; ++j) {
    std::vector<std::vector<double>> cur(m + 1, std::vector<double>(max_u + 1, 0));
    cur[0][0] = 1;
    for (int i = 1; i <= m; ++i) {
      for (int u = 0; u <= i * j; ++u) {
        double c = prev[i][u];
        if (u >= j) c += cur[i - 1][u - j];
        cur[i][u] = c;
      }
    }
    prev = std::move(cur);
  }
  std::vector<double> cdf(max_u + 1);
  double total = 0;
  for (int u = 0; u <= max_u; ++u) total += prev[m][u];
  double running = 0;
  for (int u = 0; u <= max_u; ++u) {
    running += prev[m][u];
    cdf[u] = std::min(1.0, running / total);
  }
  return cdf;
}

absl::StatusOr<MannWhitneyResult> MannWhitneyU(const std::vector<double>& a,
                                               const std::vector<double>& b) {
  if (absl::Status s = CheckSample(a, "sample a"); !s.ok()) return s;
  if (absl::Status s = CheckSample(b, "sample b"); !s.ok()) return s;
  const size_t m = a.size();
  const size_t n = b.size();
  const size_t total = m + n;

  // Rank the pooled sample with mid-ranks for ties.
  const std::vector<std::pair<double, bool>> pooled = Pool(a, b);
  double rank_sum_a = 0;
  double tie_term = 0;  // sum over tie groups of t^3 - t
  bool has_ties = false;
  for (size_t i = 0; i < total;) {
    size_t j = i;
    while (j < total && pooled[j].first == pooled[i].first) ++j;
    const double mid_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2;
    const double t = static_cast<double>(j - i);
    if (t > 1) {
      has_ties = true;
      tie_term += t * t * t - t;
    }
    for (size_t k = i; k < j; ++k) {
      if (pooled[k].second) rank_sum_a += mid_rank;
    }
    i = j;
  }
  const double dm = static_cast<double>(m);
  const double dn = static_cast<double>(n);
  MannWhitneyResult result;
  result.u_a = rank_sum_a - dm * (dm + 1) / 2;
  const double u_b = dm * dn - result.u_a;
  const double u_max = std::max(result.u_a, u_b);

  const bool small = m <= static_cast<size_t>(kExactMaxPerSide) &&
                     n <= static_cast<size_t>(kExactMaxPerSide);
  if (small && has_ties) {
    result.p_value = ExactConditionalPValue(a, b);
    result.exact = true;
    return result;
  }
  if (small) {
    const std::vector<double>& cdf = CachedNullCdf(static_cast<int>(m), static_cast<int>(n));
    // The null distribution is symmetric, so P(U >= u_max) = P(U <= m n - u_max).
    const int u_min = static_cast<int>(std::lround(dm * dn - u_max));
    result.p_value = std::min(1.0, 2 * cdf[u_min]);
    result.exact = true;
    return result;
  }

  const double dt = static_cast<double>(total);
  const double variance = dm * dn / 12 * ((dt + 1) - tie_term / (dt * (dt - 1)));
  if (!(variance > 0)) {
    // Every value is the same: no evidence of any difference.
    result.p_value = 1;
    return result;
  }
  const double z = (u_max - dm * dn / 2 - 0.5) / std::sqrt(variance);
  result.p_value = std::min(1.0, 2 * NormalSurvival(z));
  return result;
}

}  // namespace faultline::controller::analysis
