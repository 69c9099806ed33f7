#include "controller/analysis/welch_t_test.h"

#include <cmath>
#include <limits>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "controller/analysis/descriptive.h"
#include "controller/analysis/distributions.h"

namespace faultline::controller::analysis {
namespace {

absl::Status CheckSample(const std::vector<double>& x, const char* name) {
  if (x.size() < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": ", x.size(), " samples; Welch's test needs at least 2"));
  }
  for (size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(x[i])) {
      return absl::InvalidArgumentError(absl::StrCat(name, "[", i, "]: not a finite number"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<WelchResult> WelchTTest(const std::vector<double>& a,
                                       const std::vector<double>& b) {
  if (absl::Status s = CheckSample(a, "sample a"); !s.ok()) return s;
  if (absl::Status s = CheckSample(b, "sample b"); !s.ok()) return s;
  WelchResult result;
  result.mean_a = Mean(a);
  result.mean_b = Mean(b);
  const double na = static_cast<double>(a.size());
  const double nb = static_cast<double>(b.size());
  const double sa = StdDev(a);
  const double sb = StdDev(b);
  const double va = sa * sa / na;
  const double vb = sb * sb / nb;
  const double diff = result.mean_b - result.mean_a;
  if (va + vb == 0) {
    result.df = na + nb - 2;
    if (diff == 0) {
      result.t = 0;
      result.p_value = 1;
    } else {
      result.t = diff > 0 ? std::numeric_limits<double>::infinity()
                          : -std::numeric_limits<double>::infinity();
      result.p_value = 0;
    }
    return result;
  }
  result.t = diff / std::sqrt(va + vb);
  result.df = (va + vb) * (va + vb) / (va * va / (na - 1) + vb * vb / (nb - 1));
  result.p_value = StudentTTwoSidedP(result.t, result.df);
  return result;
}

}  // namespace faultline::controller::analysis
