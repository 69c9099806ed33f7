// Kernel profiles of two kernels side by side: the functions whose share of the benchmark's
// CPU time changed most between A and B, in the spirit of LKP's perf-profile rows
// ("perf-profile.calltrace.cycles-pp.<function>" with %change beside the benchmark figure).
//
// A run's profile (agent/bench/kernel_profile.h) is its CPU-clock samples summed per kernel
// function: self samples (the CPU was in the function) and total samples (the function was on
// the kernel call chain), over every sample of the run's tasks. A side's share of a function
// is the mean over its runs of (samples in the function / samples of the run), so every run
// weighs the same whatever its length; a run that kept only its top functions counts a
// function it did not keep as 0, which under-states that function's share there by less than the
// smallest share the run kept.
#ifndef FAULTLINE_CONTROLLER_ANALYSIS_PROFILE_DIFF_H_
#define FAULTLINE_CONTROLLER_ANALYSIS_PROFILE_DIFF_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace faultline::controller::analysis {

struct FunctionSamples {
  uint64_t self = 0;
  uint64_t total = 0;
};

struct RunProfile {
  // Every sample of the run's tasks: the base of its shares.
  uint64_t samples = 0;
  std::map<std::string, FunctionSamples> functions;
};

struct ProfileChange {
  // Display name of the invocation (as MetricComparison::benchmark).
  std::string benchmark;
  std::string function;
  int baseline_profiles = 0;
  int candidate_profiles = 0;
  // Mean share per side (0.25 = a quarter of the samples) on the call chain and at the leaf,
  // and the standard deviation of the total share over the side's runs (0 for one run).
  double baseline_total_share = 0;
  double candidate_total_share = 0;
  double baseline_self_share = 0;
  double candidate_self_share = 0;
  double baseline_total_sd = 0;
  double candidate_total_sd = 0;

  // B - A in shares (0.1 = 10 percentage points).
  double total_change() const { return candidate_total_share - baseline_total_share; }
  double self_change() const { return candidate_self_share - baseline_self_share; }
};

// The functions either side's profiles name, ordered by the largest absolute change of their
// total or self share (then by name), the first `limit`. Empty when a side has no profile with
// samples: there is nothing to compare against.
std::vector<ProfileChange> DiffProfiles(const std::string& benchmark,
                                        const std::vector<RunProfile>& baseline,
                                        const std::vector<RunProfile>& candidate, int limit);

}  // namespace faultline::controller::analysis

#endif  // FAULTLINE_CONTROLLER_ANALYSIS_PROFILE_DIFF_H_
