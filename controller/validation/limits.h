// Every bound of the faultline API: what one request, result or campaign may hold. The request
// validators enforce them (request_validation.h); the domain and the store rely on the same
// validators rather than bounds of their own.
#ifndef FAULTLINE_CONTROLLER_VALIDATION_LIMITS_H_
#define FAULTLINE_CONTROLLER_VALIDATION_LIMITS_H_

#include <cstddef>
#include <cstdint>

namespace faultline::controller::validation {

namespace limits {

// --- Bounds. Each sits well above what real use needs and well below what hurts the controller
// (store rows, memory per request, scans per query). ---

// Identifiers (agent, campaign, job, lease ids): the controller makes "c-000012",
// "c-000012/j-0007" and 32 hex digits; agents default to the hostname (at most 64).
inline constexpr size_t kMaxIdentifierLength = 128;
// Names of benchmarks, metrics, parameters, counters, histograms, tags, labels: short
// lower-case words in every benchmark we ship (the longest is under 40).
inline constexpr size_t kMaxNameLength = 128;
// Globs over labels, releases and host classes; the campaign planner allows the same.
inline constexpr size_t kMaxPatternLength = 256;
// One-line descriptive text: host and kernel strings (uname -v, CPU model), versions, units,
// descriptions, parameter values, campaign label values.
inline constexpr size_t kMaxTextLength = 1024;
// The kernel command line: COMMAND_LINE_SIZE is 2048 on x86-64 and 4096 on arm64.
inline constexpr size_t kMaxCmdlineLength = 4096;
// A failed run's diagnostic: the tail of the benchmark's stderr.
inline constexpr size_t kMaxDiagnosticBytes = 64 * 1024;
// A gate policy is one rule per line; real ones have a dozen.
inline constexpr size_t kMaxPolicyBytes = 64 * 1024;

// Register: our agents ship about a dozen benchmarks, each with a handful of parameters and
// metrics; hosts report a few dozen sysctls and features.
inline constexpr int kMaxCatalogEntries = 1024;
inline constexpr int kMaxParamsPerBenchmark = 64;
inline constexpr int kMaxMetricsPerBenchmark = 256;
inline constexpr int kMaxAllowedValues = 256;
inline constexpr int kMaxAgentTags = 64;
inline constexpr int kMaxProvisionableKernels = 64;
inline constexpr int kMaxHostSysctls = 256;
inline constexpr int kMaxHostFeatures = 256;
// qemu's own bound on -icount shift (MAX_ICOUNT_SHIFT, softmmu/icount.c): 2^10 ns an instruction.
inline constexpr uint32_t kMaxIcountShift = 10;

// ReportResult: one run. Repetitions match the campaign limit (1000); a repetition of our
// benchmarks reports under 10 metrics, about 10 counters and at most 2 histograms.
inline constexpr int kMaxResultRepetitions = 1000;
// Tracing repetitions (agent/bench RunOptions::trace_repetitions, at most 100).
inline constexpr int kMaxTracingRepetitions = 100;
// Profiling repetitions (RunOptions::profile_repetitions, at most 100) and the functions of one
// profile (the agent keeps 40: agent/bench/kernel_profile.h).
inline constexpr uint32_t kMaxProfileRepetitions = 100;
inline constexpr int kMaxProfileSymbols = 64;
inline constexpr int kMaxMetricsPerRepetition = 256;
inline constexpr int kMaxCountersPerRepetition = 256;
inline constexpr int kMaxHistogramsPerRepetition = 32;
// Histograms use at most 10 sub-bucket bits (agent/bench/histogram.h), which gives 64 * 2^10
// buckets covering every uint64_t.
inline constexpr uint32_t kMaxHistogramSubBucketBits = 10;
inline constexpr int kMaxHistogramBuckets = 64 << kMaxHistogramSubBucketBits;
// Non-empty buckets over all histograms of one result: a latency histogram fills a few hundred,
// so 1000 repetitions x 2 histograms stay far below this. Bounds the stored row.
inline constexpr int kMaxHistogramBucketsPerResult = 4'000'000;
// Parameters of one invocation or run: our widest benchmark takes 6.
inline constexpr int kMaxParamsPerInvocation = 64;

// Campaigns: what keeps one campaign from flooding the queue.
inline constexpr int kMaxSuiteSize = 256;
inline constexpr int kMaxTargets = 64;
inline constexpr uint32_t kMaxRepetitions = 1000;
inline constexpr uint32_t kMaxWarmup = 100;
inline constexpr uint32_t kMaxTimeoutSeconds = 86400;
// After expansion (suite x targets x hosts x repetitions when interleaved); only the planner,
// which knows the fleet, can check it.
inline constexpr int kMaxJobsPerCampaign = 100000;
inline constexpr int kMaxTargetHostTags = 32;
inline constexpr int kMaxTargetAgentIds = 64;
inline constexpr int kMaxCampaignLabels = 64;

// Page sizes and waits the API documents.
inline constexpr uint32_t kMaxPollWaitSeconds = 60;
inline constexpr uint32_t kMaxListCampaigns = 1000;
inline constexpr uint32_t kMaxQueryResults = 10000;
inline constexpr uint32_t kMaxChangePointRuns = 100000;
// A gate waits this long at most for each campaign it runs: a week of a busy fleet.
inline constexpr uint32_t kMaxGateTimeoutSeconds = 7 * 24 * 3600;
// A campaign that runs until it can decide (SequentialPlan): at most this many rounds (one run
// per side each, like a repetition), and at most a week.
inline constexpr uint32_t kMaxSequentialRounds = kMaxRepetitions;
inline constexpr uint32_t kMaxSequentialBudgetSeconds = 7 * 24 * 3600;
// CompareOptions.min_samples_per_side: more than a campaign can ever produce per side is a typo.
inline constexpr uint32_t kMaxMinSamplesPerSide = 1'000'000;
// Metric globs of one comparison (CompareOptions.metrics): a benchmark reports at most
// kMaxMetricsPerBenchmark metrics, and a question names a handful.
inline constexpr int kMaxCompareMetricGlobs = 64;

}  // namespace limits

}  // namespace faultline::controller::validation

#endif  // FAULTLINE_CONTROLLER_VALIDATION_LIMITS_H_
