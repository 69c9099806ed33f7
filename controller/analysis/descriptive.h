// Descriptive statistics of one metric's repetitions. Every function takes the samples by value
// or const reference and never reorders the caller's data.
#ifndef FAULTLINE_CONTROLLER_ANALYSIS_DESCRIPTIVE_H_
#define FAULTLINE_CONTROLLER_ANALYSIS_DESCRIPTIVE_H_

#include <vector>

namespace faultline::controller::analysis {

// Median; the mean of the two middle values for an even count. NaN for no samples.
double Median(std::vector<double> samples);

// Arithmetic mean. NaN for no samples.
double Mean(const std::vector<double>& samples);

// Sample standard deviation (n - 1 denominator, Welford's update for numerical stability).
// NaN for fewer than two samples.
double StdDev(const std::vector<double>& samples);

// Coefficient of variation: sample standard deviation over |mean|. NaN when the mean is zero or
// there are fewer than two samples.
double CoefficientOfVariation(const std::vector<double>& samples);

// Median absolute deviation from the median (unscaled). NaN for no samples.
double MedianAbsoluteDeviation(const std::vector<double>& samples);

// 1.4826 * MAD / |median|: equals the coefficient of variation for normal noise, but one
// outlier repetition (an interrupt storm, a compaction) does not inflate it. faultline judges
// whether a metric is noisy with it because the rank tests it feeds are equally unmoved by such
// a repetition. NaN when the median is zero or there are fewer than two samples.
double RobustCoefficientOfVariation(const std::vector<double>& samples);

// Smallest and largest sample; NaN for no samples.
double Min(const std::vector<double>& samples);
double Max(const std::vector<double>& samples);

}  // namespace faultline::controller::analysis

#endif  // FAULTLINE_CONTROLLER_ANALYSIS_DESCRIPTIVE_H_
