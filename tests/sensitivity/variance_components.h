// Within-run and between-run variance of a metric measured in several runs (separate benchmark
// processes) of several repetitions each: the one-way random-effects model x_ij = mu + b_i + e_ij,
// estimated by the ANOVA method of moments (Searle, Casella & McCulloch, "Variance Components",
// 1992, section 3.5): sigma_w^2 = MSW, sigma_b^2 = max(0, (MSB - MSW) / n) for balanced runs of n
// repetitions (unbalanced runs use the harmonic mean of their sizes as n).
#ifndef FAULTLINE_TESTS_SENSITIVITY_VARIANCE_COMPONENTS_H_
#define FAULTLINE_TESTS_SENSITIVITY_VARIANCE_COMPONENTS_H_

#include <vector>

namespace faultline::tests::sensitivity {

struct VarianceComponents {
  int runs = 0;
  double mean = 0;
  // Variances relative to mean^2, so their square roots are coefficients of variation.
  double within = 0;
  double between = 0;

  // The CV of one repetition within a run.
  double RepetitionCv() const;
  // Share of a repetition's variance that is between runs: what more repetitions per run cannot
  // average away.
  double BetweenShare() const;
  // The CV of a run's mean of `repetitions` repetitions: sqrt(between + within / repetitions).
  double RunMeanCv(int repetitions) const;
};

// `runs` holds each run's repetitions; runs with no repetition are ignored. Fewer than two runs
// give between = 0 (not estimable), fewer than two repetitions in every run within = 0.
VarianceComponents EstimateVarianceComponents(const std::vector<std::vector<double>>& runs);

}  // namespace faultline::tests::sensitivity

#endif  // FAULTLINE_TESTS_SENSITIVITY_VARIANCE_COMPONENTS_H_
