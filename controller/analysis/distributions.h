// Cumulative distribution functions the tests need, implemented from their special functions so
// that the analysis has no dependency beyond the C++ standard library.
//
// The Student-t CDF goes through the regularised incomplete beta function evaluated with the
// modified Lentz continued fraction (Numerical Recipes 6.4; DiDonato & Morris), which is accurate
// to ~1e-14 over the range the t-tests use, including the far tails where p-values of 1e-6 decide
// change points. Approximations such as "t is about normal for df > 30" would misstate exactly
// those small p-values.
#ifndef FAULTLINE_CONTROLLER_ANALYSIS_DISTRIBUTIONS_H_
#define FAULTLINE_CONTROLLER_ANALYSIS_DISTRIBUTIONS_H_

namespace faultline::controller::analysis {

// P(Z <= x) for a standard normal Z.
double NormalCdf(double x);

// P(Z > x), accurate in the far upper tail (no 1 - cdf cancellation).
double NormalSurvival(double x);

// x such that NormalCdf(x) = p, for 0 < p < 1 (Acklam's rational approximation refined by one
// Halley step, ~1e-15 relative). Returns -inf/+inf for p = 0/1 and NaN outside [0, 1].
double NormalQuantile(double p);

// I_x(a, b), the regularised incomplete beta function, for a, b > 0 and 0 <= x <= 1.
// NaN for arguments outside that domain.
double RegularizedIncompleteBeta(double a, double b, double x);

// P(T <= t) for Student's t with df > 0 degrees of freedom (df need not be an integer: Welch's
// test uses fractional degrees of freedom).
double StudentTCdf(double t, double df);

// Two-sided p-value P(|T| >= |t|), computed from the tail directly so tiny values keep precision.
double StudentTTwoSidedP(double t, double df);

}  // namespace faultline::controller::analysis

#endif  // FAULTLINE_CONTROLLER_ANALYSIS_DISTRIBUTIONS_H_
