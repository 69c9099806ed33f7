#include "controller/analysis/profile_diff.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <tuple>

namespace faultline::controller::analysis {
namespace {

struct SideShares {
  double total = 0;
  double self = 0;
  double total_sd = 0;
};

SideShares SharesOf(const std::vector<const RunProfile*>& runs, const std::string& function) {
  SideShares out;
  std::vector<double> totals;
  for (const RunProfile* run : runs) {
    auto it = run->functions.find(function);
    const double n = static_cast<double>(run->samples);
    const double total = it == run->functions.end() ? 0 : it->second.total / n;
    const double self = it == run->functions.end() ? 0 : it->second.self / n;
    totals.push_back(total);
    out.total += total;
    out.self += self;
  }
  const double k = static_cast<double>(runs.size());
  out.total /= k;
  out.self /= k;
  if (runs.size() > 1) {
    double squares = 0;
    for (double t : totals) squares += (t - out.total) * (t - out.total);
    out.total_sd = std::sqrt(squares / (k - 1));
  }
  return out;
}

std::vector<const RunProfile*> WithSamples(const std::vector<RunProfile>& runs) {
  std::vector<const RunProfile*> out;
  for (const RunProfile& run : runs) {
    if (run.samples > 0) out.push_back(&run);
  }
  return out;
}

}  // namespace

std::vector<ProfileChange> DiffProfiles(const std::string& benchmark,
                                        const std::vector<RunProfile>& baseline,
                                        const std::vector<RunProfile>& candidate, int limit) {
  const std::vector<const RunProfile*> a = WithSamples(baseline);
  const std::vector<const RunProfile*> b = WithSamples(candidate);
  if (a.empty() || b.empty() || limit <= 0) return {};
  std::set<std::string> functions;
  for (const auto* side : {&a, &b}) {
    for (const RunProfile* run : *side) {
      for (const auto& [name, samples] : run->functions) functions.insert(name);
    }
  }
  std::vector<ProfileChange> changes;
  for (const std::string& function : functions) {
    const SideShares sa = SharesOf(a, function);
    const SideShares sb = SharesOf(b, function);
    ProfileChange c;
    c.benchmark = benchmark;
    c.function = function;
    c.baseline_profiles = static_cast<int>(a.size());
    c.candidate_profiles = static_cast<int>(b.size());
    c.baseline_total_share = sa.total;
    c.candidate_total_share = sb.total;
    c.baseline_self_share = sa.self;
    c.candidate_self_share = sb.self;
    c.baseline_total_sd = sa.total_sd;
    c.candidate_total_sd = sb.total_sd;
    changes.push_back(std::move(c));
  }
  auto size = [](const ProfileChange& c) {
    return std::max(std::fabs(c.total_change()), std::fabs(c.self_change()));
  };
  std::stable_sort(changes.begin(), changes.end(),
                   [&](const ProfileChange& x, const ProfileChange& y) {
                     return std::make_tuple(-size(x), x.function) <
                            std::make_tuple(-size(y), y.function);
                   });
  if (changes.size() > static_cast<size_t>(limit)) changes.resize(limit);
  return changes;
}

}  // namespace faultline::controller::analysis
