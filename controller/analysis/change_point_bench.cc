// Prints how often FindChangePoints raises a change point on pure noise and how often it finds a
// real step (and at the right index), on seeded synthetic histories: 100-point series at 2% CV
// with, for the detection rows, a step at index 60. Not a test: figures for the README.
#include <cmath>
#include <cstdio>
#include <vector>

#include "controller/analysis/change_points.h"
#include "controller/analysis/deterministic_random.h"

namespace faultline::controller::analysis {
namespace {

constexpr int kSeries = 500;
constexpr int kLength = 100;
constexpr int kStepAt = 60;
constexpr double kCv = 0.02;

struct Rates {
  double any = 0;    // series with at least one change point
  double exact = 0;  // series with a change point within 2 of the true step
};

Rates Measure(double step, uint64_t seed, bool adjusted) {
  DeterministicRandom random(seed);
  ChangePointOptions options;
  options.adjust_for_split_choice = adjusted;
  int any = 0;
  int exact = 0;
  for (int s = 0; s < kSeries; ++s) {
    std::vector<double> series;
    for (int i = 0; i < kLength; ++i) {
      const double level = i >= kStepAt ? 1000 * (1 + step) : 1000;
      series.push_back(level * std::exp(kCv * random.Normal()));
    }
    absl::StatusOr<std::vector<ChangePoint>> cps = FindChangePoints(series, options);
    if (!cps.ok()) continue;
    bool found_any = false;
    bool found_exact = false;
    for (const ChangePoint& cp : *cps) {
      found_any = true;
      found_exact |= std::abs(cp.index - kStepAt) <= 2;
    }
    any += found_any;
    exact += found_exact;
  }
  return Rates{static_cast<double>(any) / kSeries, static_cast<double>(exact) / kSeries};
}

void Run() {
  std::printf("change_point_bench: %d series of %d points, CV %.0f%%, step at index %d, "
              "Welch test, p <= 0.001\n",
              kSeries, kLength, kCv * 100, kStepAt);
  std::printf("%-8s %24s %24s %24s %24s\n", "step", "adjusted: any point",
              "adjusted: point at step", "unadjusted: any point", "unadjusted: at step");
  for (double step : {0.0, 0.01, 0.02, 0.03, 0.05, 0.10}) {
    // Same seed for both: the two rows see the same series.
    const Rates a = Measure(step, 77, true);
    const Rates u = Measure(step, 77, false);
    std::printf("%+7.0f%% %23.1f%% %23.1f%% %23.1f%% %23.1f%%\n", step * 100, 100 * a.any,
                100 * a.exact, 100 * u.any, 100 * u.exact);
  }
}

}  // namespace
}  // namespace faultline::controller::analysis

int main() {
  faultline::controller::analysis::Run();
  return 0;
}
