// Turns stored runs into a kernel comparison: selects each side's runs, groups their samples by
// benchmark invocation (benchmark + parameters) and metric, and runs the statistics
// (controller/analysis) over them.
#ifndef FAULTLINE_CONTROLLER_RUNS_KERNEL_COMPARISON_H_
#define FAULTLINE_CONTROLLER_RUNS_KERNEL_COMPARISON_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "controller/analysis/compare.h"
#include "controller/analysis/latency_quantiles.h"
#include "controller/analysis/profile_diff.h"
#include "controller/store/store.h"
#include "proto/faultline/v1/benchmark.pb.h"

namespace faultline::controller::runs {

// What one block (the unit of replication) of a comparison is; mirrors v1::ReplicationUnit.
enum class ReplicationUnit { kAuto, kRun, kBoot };

// One side of a comparison: every set field must match, unset fields match anything
// (mirrors v1::ResultSelector). Globs: kernel_label, host_class, benchmark.
struct RunSelector {
  std::string campaign_id;
  // Runs of any of these campaigns (with campaign_id: of it too), e.g. the rounds of a campaign
  // that runs until it can decide.
  std::vector<std::string> campaign_ids;
  std::string target_name;
  std::string kernel_label;
  std::string kernel_release;
  int arch = 0;  // v1::Arch; 0 for any.
  std::string host_class;
  std::string benchmark;
  std::string agent_id;

  bool empty() const;
};

// "campaign=c-000001,target=stock" style, for messages.
std::string DescribeSelector(const RunSelector& selector);

// Successful runs matching `selector`, oldest first. INVALID_ARGUMENT naming `field` for an
// empty selector.
absl::StatusOr<std::vector<store::StoredRunRecord>> SelectRuns(store::Store* store,
                                                               const RunSelector& selector,
                                                               const std::string& field);

// Stable text of parameter values: "region_mib=8,thp=never" (sorted by name).
std::string CanonicalParams(const std::map<std::string, v1::ParamValue>& params);

// What the statistics saw for one metric, beside its result.
struct ComparedMetric {
  // Benchmark name without parameters, and the invocation's parameters.
  std::string benchmark_name;
  std::map<std::string, v1::ParamValue> params;
  // Samples as given to CompareSuite (benchmark is the display name, see analysis.proto).
  analysis::MetricSamples samples;
  // Agents that measured each side, sorted.
  std::vector<std::string> baseline_agents;
  std::vector<std::string> candidate_agents;
};

// The kernel profiles of one invocation on both sides.
struct ComparedProfiles {
  std::string benchmark_name;
  std::map<std::string, v1::ParamValue> params;
  // Display name, as ComparedMetric::samples.benchmark.
  std::string benchmark;
  std::vector<analysis::RunProfile> runs[2];
  // Why runs of a side have no profile (KernelProfile.unavailable_reason), distinct.
  std::set<std::string> unavailable[2];
};

struct KernelComparison {
  analysis::SuiteComparison suite;
  // The block the statistics treated as the unit of replication (kRun or kBoot, never kAuto).
  ReplicationUnit replication_unit = ReplicationUnit::kRun;
  // Parallel to suite.metrics.
  std::vector<ComparedMetric> metrics;
  // The raw counters (Repetition.counters), compared as neutral metrics (CompareKernels fills
  // counter_suite, parallel to counters), and the profiles with the functions whose share
  // changed most (profile_changes, by invocation).
  std::vector<ComparedMetric> counters;
  analysis::SuiteComparison counter_suite;
  std::vector<ComparedProfiles> profiles;
  std::vector<analysis::ProfileChange> profile_changes;
  int baseline_runs = 0;
  int candidate_runs = 0;
  std::string baseline_host_class;
  std::string candidate_host_class;
  std::vector<std::string> baseline_kernel_labels;
  std::vector<std::string> candidate_kernel_labels;
  std::vector<std::string> warnings;
  // Latency histograms per quantile (latency_distributions.h); reported, not tested.
  std::vector<analysis::LatencyDistribution> distributions;
};

// The metric inputs of a comparison of two sets of runs (ordered by benchmark display name,
// then metric), each sample labelled with its block: its run, or with `unit` BOOT its agent's
// boot (agent_id + HostFingerprint.boot_id); AUTO is BOOT when both sides span at least two
// boots, RUN otherwise. FAILED_PRECONDITION when a side has no runs or spans several host
// classes, or when the sides' clocks differ (real time against a qemu -icount guest's
// instruction count, or two icount shifts).
absl::StatusOr<KernelComparison> CollectComparison(
    const std::vector<store::StoredRunRecord>& baseline,
    const std::vector<store::StoredRunRecord>& candidate,
    ReplicationUnit unit = ReplicationUnit::kAuto);

// The block `run` belongs to with `unit` (kRun or kBoot): its run, or its agent's boot
// (agent_id + HostFingerprint.boot_id; a run without a boot id is its own block).
std::string BlockKeyOf(const store::StoredRunRecord& run, ReplicationUnit unit);

// "run" or "boot": what one block is, for reasons and reports.
std::string BlockUnitName(ReplicationUnit unit);

// Selects both sides, collects and compares them. With `metric_globs` (CompareOptions.metrics:
// globs over "BENCHMARK:METRIC" or "METRIC"), only the metrics they match are compared, and so
// form the Benjamini-Hochberg family; none matching is FAILED_PRECONDITION naming what was
// measured.
absl::StatusOr<KernelComparison> CompareKernels(
    store::Store* store, const RunSelector& baseline, const RunSelector& candidate,
    const analysis::CompareOptions& options,
    ReplicationUnit unit = ReplicationUnit::kAuto,
    const std::vector<std::string>& metric_globs = {});

// Keeps the metrics of `comparison` that one of `globs` matches (see CompareKernels).
absl::Status KeepMetrics(const std::vector<std::string>& globs, KernelComparison* comparison);

// Functions per invocation in KernelComparison::profile_changes.
inline constexpr int kProfileChangesPerInvocation = 15;

// Compares the counters of `comparison` (as neutral metrics, with `options`) into counter_suite
// and diffs its profiles into profile_changes. CompareKernels calls it; so does whoever
// compares a KernelComparison of their own (the gate).
absl::Status CompareCountersAndProfiles(const analysis::CompareOptions& options,
                                        KernelComparison* comparison);

// Index of the metric for (benchmark name, canonical params, metric) in `comparison`, or -1.
int FindComparedMetric(const KernelComparison& comparison, const std::string& benchmark_name,
                       const std::string& canonical_params, const std::string& metric);

}  // namespace faultline::controller::runs

#endif  // FAULTLINE_CONTROLLER_RUNS_KERNEL_COMPARISON_H_
