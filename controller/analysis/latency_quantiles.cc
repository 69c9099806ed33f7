#include "controller/analysis/latency_quantiles.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "controller/analysis/descriptive.h"
#include "controller/analysis/hodges_lehmann.h"
#include "controller/analysis/mann_whitney.h"

namespace faultline::controller::analysis {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool AllPositive(const std::vector<double>& v) {
  return std::all_of(v.begin(), v.end(), [](double x) { return x > 0 && std::isfinite(x); });
}

std::string Blocks(size_t n, const std::string& unit) {
  return absl::StrCat(n, " ", unit, n == 1 ? "" : "s");
}

}  // namespace

std::string QuantileName(double quantile) {
  return absl::StrCat("p", absl::StrFormat("%g", quantile * 100));
}

std::vector<double> CurveQuantiles() {
  std::vector<double> q;
  for (int i = 0; i <= 24; ++i) q.push_back(1 - std::pow(10.0, -i / 8.0));
  q.push_back(1);
  return q;
}

std::string CompareQuantileBlocks(double confidence, const std::string& block_unit,
                                  QuantileComparison* q) {
  q->baseline = q->baseline_blocks.empty() ? kNaN : Median(q->baseline_blocks);
  q->candidate = q->candidate_blocks.empty() ? kNaN : Median(q->candidate_blocks);
  q->ratio = q->ratio_lower = q->ratio_upper = q->p_value = kNaN;
  const size_t a = q->baseline_blocks.size(), b = q->candidate_blocks.size();
  if (a == 0 || b == 0) return absl::StrCat(a == 0 ? "A" : "B", ": not recorded");
  if (a < kMinBlocksForInterval || b < kMinBlocksForInterval) {
    std::string sides;
    if (a < kMinBlocksForInterval) sides = absl::StrCat("A: ", Blocks(a, block_unit));
    if (b < kMinBlocksForInterval) {
      absl::StrAppend(&sides, sides.empty() ? "" : "; ", "B: ", Blocks(b, block_unit));
    }
    return absl::StrCat(sides, "; intervals need at least ", kMinBlocksForInterval, " ",
                        block_unit, "s per side");
  }
  if (!AllPositive(q->baseline_blocks) || !AllPositive(q->candidate_blocks)) {
    return "a block's quantile is not positive; no ratio";
  }
  absl::StatusOr<IntervalEstimate> hl =
      HodgesLehmannRatio(q->baseline_blocks, q->candidate_blocks, confidence);
  if (hl.ok()) {
    q->ratio = hl->estimate;
    q->ratio_lower = hl->lower;
    q->ratio_upper = hl->upper;
  }
  absl::StatusOr<MannWhitneyResult> u = MannWhitneyU(q->baseline_blocks, q->candidate_blocks);
  if (u.ok()) q->p_value = u->p_value;
  return "";
}

}  // namespace faultline::controller::analysis
