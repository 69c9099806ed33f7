// Repeated looks at a comparison that keeps growing (a campaign that adds interleaved rounds
// until it can decide): each look tests at only the part of the error budget it is given, so the
// chance of any false alarm over all looks stays at the budget.
//
// The split is Lan & DeMets' alpha spending ("Discrete sequential boundaries for clinical
// trials", Biometrika 70:659-663, 1983) with the O'Brien-Fleming-type spending function
//   alpha*(t) = 2 - 2 Phi(z_{1 - alpha/2} / sqrt(t)),
// t the information fraction (blocks measured so far over the most the budget allows): early
// looks, on few blocks, spend almost nothing, and the last look keeps most of alpha (at three
// equally spaced looks and alpha 0.01: 0.000008, 0.0016, then 0.0084). Each look tests at the
// alpha spent since the previous one, a Bonferroni split of the spending: valid whatever the
// correlation between looks (it ignores it, and is a little conservative for it), and it needs
// no recursive numerical integration of the boundary.
#ifndef FAULTLINE_CONTROLLER_ANALYSIS_SEQUENTIAL_H_
#define FAULTLINE_CONTROLLER_ANALYSIS_SEQUENTIAL_H_

namespace faultline::controller::analysis {

// alpha*(t) above, for t in [0, 1] (clamped); 0 at t = 0, alpha at t = 1.
double ObrienFlemingSpent(double alpha, double t);

// The level a look at information fraction `t_now` tests at, after a look at `t_previous`
// (0 for the first look): alpha*(t_now) - alpha*(t_previous). The last look is at t_now = 1.
double SequentialLookLevel(double alpha, double t_previous, double t_now);

}  // namespace faultline::controller::analysis

#endif  // FAULTLINE_CONTROLLER_ANALYSIS_SEQUENTIAL_H_
