// Comparison of two kernels' samples (baseline A, candidate B) over many metrics at once, with a
// verdict per metric a kernel team can act on.
//
// The unit of replication is the block: a run (one process running N repetitions) or, in the
// lab, a boot. Repetitions inside one block share its memory layout, page cache state, THP
// availability and boot-time layout, so they are not independent samples of the kernel: pooled,
// two runs of 6 repetitions on one kernel and one machine gave four "improvements" at q = 0.0027.
// Each block is summarised by the median of its repetitions (repetitions only refine that
// block's estimate) and every test and interval below is on those block summaries: the
// "summary statistics" approach to clustered data (Altman & Bland, BMJ 1997, "Units of analysis";
// Kenny & Judd's nonindependence, Psychological Bulletin 1986). When each repetition is its own
// block (interleaved campaigns: one job per repetition) this is the plain two-sample test.
//
// Per metric:
//   * medians (of block summaries), mean +- sd over all repetitions, coefficients of variation and
//     counts of both sides;
//   * the ratio B/A with a confidence interval (default 95%): the Hodges-Lehmann estimate on log
//     samples (hodges_lehmann.h), which is the effect size the Mann-Whitney test goes with and has
//     exact distribution-free coverage; the bootstrap interval of the median ratio is kept beside
//     it for readers who want "the median moved";
//   * the two-sided Mann-Whitney p-value and its Benjamini-Hochberg q-value across all metrics of
//     the comparison;
//   * a verdict, decided in this order:
//       0. not tested when the metric is neutral (constant by construction, like pages_touched,
//          or with no better direction): reported, kept out of the Benjamini-Hochberg family so
//          it does not make significance harder for the rest; verdict no_change;
//       1. inconclusive when either side has fewer than min_blocks_per_side blocks, or never
//          measured the metric;
//       2. inconclusive when the metric is noisy (either side's robust CV, 1.4826 MAD / median,
//          over max_cv; see descriptive.h for why robust) unless the change
//          is larger than the noise can explain: significant and the whole interval beyond
//          min_effect;
//       3. regression / improvement (by the metric's direction) when the change is significant
//          after FDR control (q <= fdr_level) and the point estimate is at least min_effect;
//          neutral metrics never regress: their verdict stays no_change with `shifted` set;
//       4. no_change when the point estimate is within min_effect (significant or not: a
//          significant 0.3% change is no change for a kernel team);
//       5. inconclusive otherwise (an apparent change of at least min_effect the data cannot
//          confirm).
//     Inconclusive verdicts carry additional_blocks, an estimate of how many more blocks per
//     side would resolve the metric (see RepetitionsToResolve), made only when both sides have
//     at least kMinBlocksToEstimateNoise blocks (a spread from 2 points is no estimate).
//
// Why these defaults (min effect 2%, FDR 1%, robust CV 10%, 5 samples): verdict_power_bench
// measures them. With 20 metrics at 2% CV and 10 repetitions per side, an A/A comparison flags a
// metric in 0.8% of suites (0.92% over 10,000; Benjamini-Hochberg bounds it by the 1% level at
// any noise level), and a 5% shift is flagged in 98.4% of metrics when the kernel moves the whole
// suite; a lone shifted metric among 20 is flagged 82% of the time at 10 repetitions and 98% at
// 15 (the FDR price of looking at 20 metrics). Plain MWU at 0.05 flags 59% of A/A suites; LKP's
// and mmtests' interval-overlap rules flag none but catch 18% and 4% of 5% shifts. README.md has
// the full table and the alternatives measured.
#ifndef FAULTLINE_CONTROLLER_ANALYSIS_COMPARE_H_
#define FAULTLINE_CONTROLLER_ANALYSIS_COMPARE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace faultline::controller::analysis {

enum class MetricDirection { kLowerIsBetter, kHigherIsBetter, kNeutral };

enum class Verdict { kRegression, kImprovement, kNoChange, kInconclusive };

// "regression", "improvement", "no_change", "inconclusive".
const char* VerdictName(Verdict verdict);

// One metric of one benchmark, with both kernels' repetitions.
struct MetricSamples {
  std::string benchmark;
  std::string metric;
  std::string unit;
  MetricDirection direction = MetricDirection::kLowerIsBetter;
  std::vector<double> baseline;
  std::vector<double> candidate;
  // Block of each sample, parallel to baseline / candidate (any ids; only equality matters).
  // Empty: every sample is its own block.
  std::vector<int> baseline_blocks;
  std::vector<int> candidate_blocks;
  // Whether the host disturbed each sample's repetition (Repetition.disturbances not empty),
  // parallel to baseline / candidate; empty: none was.
  std::vector<bool> baseline_disturbed;
  std::vector<bool> candidate_disturbed;
};

// Fewer blocks than this on a side: no noise estimate, so no repetition estimate either.
inline constexpr int kMinBlocksToEstimateNoise = 3;

// `in` with each side replaced by the median of each of its blocks (in order of first
// appearance) and the blocks cleared: what every test and interval of a comparison is computed
// on. One home for the rule, used by CompareSuite and the gate.
//
// Disturbed repetitions (the agent's host noise guard: its workers waited for a CPU, steal,
// khugepaged/kdamond/kcompactd ran, direct compaction; agent/bench/README.md) are left out of
// their block's median when the block has an undisturbed repetition; a block whose repetitions
// were all disturbed keeps them all, so no block (the unit of replication) is ever dropped and a
// host that is always busy compares as before. `excluded`, when given, receives how many
// repetitions were left out per side.
struct DisturbedExcluded {
  int baseline = 0;
  int candidate = 0;
};
MetricSamples BlockSummaries(const MetricSamples& in, DisturbedExcluded* excluded = nullptr);

struct CompareOptions {
  // Confidence of the reported ratio interval.
  double confidence = 0.95;
  // Benjamini-Hochberg level across the metrics of one comparison.
  double fdr_level = 0.01;
  // Smallest relative change worth calling a regression or improvement (0.02 = 2%). Applied on
  // the log scale, so a ratio of 1.02 and one of 1/1.02 are equally far from "no change".
  double min_effect = 0.02;
  // A side whose robust coefficient of variation exceeds this is noisy.
  double max_cv = 0.10;
  // Fewer blocks than this on either side give an inconclusive verdict. Five is the smallest
  // count at which the exact Mann-Whitney test can reach p < 0.01 (2 / C(10, 5) = 0.0079); below
  // it no FDR-controlled verdict is possible whatever the data.
  int min_blocks_per_side = 5;
  // What a block is, for reasons: "run" or "boot".
  std::string block_unit = "run";
  // Power aimed at when estimating the repetitions an inconclusive metric needs.
  double planning_power = 0.8;
  // The level that estimate plans for; 0: fdr_level. A look of a campaign that runs until it
  // can decide tests at its share of the level but plans for the whole (sequential_plan.h).
  double planning_fdr_level = 0;
  // Bootstrap of the median ratio (seeded; 0 resamples skips it).
  int bootstrap_resamples = 2000;
  unsigned long long bootstrap_seed = 0x5eedfa1711e00001ULL;
};

// Returns InvalidArgument naming the field when an option is out of range.
absl::Status ValidateCompareOptions(const CompareOptions& options);

struct MetricComparison {
  std::string benchmark;
  std::string metric;
  std::string unit;
  MetricDirection direction = MetricDirection::kLowerIsBetter;
  // Repetitions and blocks per side.
  int baseline_count = 0;
  int candidate_count = 0;
  int baseline_blocks = 0;
  int candidate_blocks = 0;
  // Median of the block summaries per side.
  double baseline_median = 0;
  double candidate_median = 0;
  // Mean and coefficient of variation over all repetitions (LKP's "mean +- %stddev").
  double baseline_mean = 0;
  double candidate_mean = 0;
  double baseline_cv = 0;
  double candidate_cv = 0;
  // 1.4826 MAD / median of the block summaries per side: what the noise check and the
  // repetition estimate use.
  double baseline_robust_cv = 0;
  double candidate_robust_cv = 0;
  // Ratio B/A and its interval at CompareOptions::confidence. NaN when not computed (too few
  // samples).
  double ratio = 0;
  double ratio_lower = 0;
  double ratio_upper = 0;
  // "hodges_lehmann_log" normally; "hodges_lehmann_shift" (shift over the baseline median) when
  // some sample is <= 0 and logs do not exist.
  std::string ratio_method;
  // Bootstrap interval of median(B) / median(A); NaN when skipped or samples are not positive.
  double median_ratio_lower = 0;
  double median_ratio_upper = 0;
  // Mann-Whitney two-sided p and BH q across the comparison; NaN when not computed.
  double p_value = 0;
  double q_value = 0;
  bool noisy = false;
  // Significant after FDR control and at least min_effect: the distribution moved. For neutral
  // metrics this is the only sign of a change (their verdict stays no_change).
  bool shifted = false;
  Verdict verdict = Verdict::kInconclusive;
  // One sentence on why the verdict was reached, for terminal and HTML reports.
  std::string reason;
  // Neutral: reported, not tested (p computed for information, no q).
  bool tested = true;
  // For inconclusive verdicts: estimated further blocks (runs, or boots) per side to resolve the
  // metric; 0 when there is no estimate (see reason).
  int additional_blocks = 0;
  // Disturbed repetitions left out of their blocks' medians (BlockSummaries); the reason says so
  // when there are any.
  int baseline_disturbed_excluded = 0;
  int candidate_disturbed_excluded = 0;
};

struct SuiteComparison {
  CompareOptions options;
  std::vector<MetricComparison> metrics;  // same order as the input
  int regressions = 0;
  int improvements = 0;
  int no_change = 0;
  int inconclusive = 0;
};

// Compares every metric; BH runs across all tested (non-neutral) metrics that got a p-value. Errors (InvalidArgument)
// only for bad options or non-finite samples, naming the benchmark and metric; too few samples
// is a verdict, not an error.
absl::StatusOr<SuiteComparison> CompareSuite(const std::vector<MetricSamples>& metrics,
                                             const CompareOptions& options = {});

// Repetitions per side a two-sample rank test needs to detect a relative change `effect` with
// the given power at two-sided level `alpha`, when the noise has coefficient of variation `cv`:
// n = 2 ((z_{1-alpha/2} + z_power) * sigma / delta)^2 / 0.955, with sigma = log(1 + cv) and
// delta = log(1 + effect) (effects are multiplicative), 0.955 being the Mann-Whitney test's
// efficiency relative to the t-test, plus one repetition for the small-sample t penalty.
int RepetitionsToResolve(double cv, double effect, double alpha, double power);

// The inverse: the smallest relative change (0.02 = 2%) that `samples` per side detect with the
// given power at two-sided level `alpha` when each sample has coefficient of variation `cv`,
// exp((z_{1-alpha/2} + z_power) sigma sqrt(2 / (0.955 (samples - 1)))) - 1. Infinity for fewer
// than 2 samples.
double MinimumDetectableEffect(double cv, int samples, double alpha, double power);

}  // namespace faultline::controller::analysis

#endif  // FAULTLINE_CONTROLLER_ANALYSIS_COMPARE_H_
