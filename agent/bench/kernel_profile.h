// A kernel profile of a benchmark: where its tasks spend their CPU time in the kernel, per
// function, from CPU-clock samples with kernel call chains (perf_sampler.h) named through
// /proc/kallsyms (kernel_symbols.h). The runner takes it in repetitions of its own
// (RunOptions::profile_repetitions), never in a timed one, and keeps the top functions only.
//
// Why sampling rather than ftrace's function profiler (tracefs function_profile_enabled,
// trace_stat/function*): the profiler hooks every kernel function call on every CPU for every
// task (it has no per-instance or per-pid switch of its own), so its cost grows with the very
// call rates the fault paths are about, and Debian's kernels are built without
// CONFIG_FUNCTION_PROFILER. A CPU-clock sample costs the same per millisecond whatever the
// kernel does, follows only the run's own tasks, and needs nothing but perf events, which the
// lab's guests and Debian's kernels have (docs/profiles.md).
#ifndef FAULTLINE_AGENT_BENCH_KERNEL_PROFILE_H_
#define FAULTLINE_AGENT_BENCH_KERNEL_PROFILE_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "agent/bench/benchmark_types.h"
#include "agent/bench/kernel_symbols.h"
#include "agent/bench/perf_sampler.h"

namespace faultline::agent::bench {

// Functions a profile keeps: enough for the fault, mmap and fork paths and what they call,
// bounded so a stored run stays small (the controller's bound is limits.h
// kMaxProfileSymbols).
inline constexpr int kProfileSymbols = 40;

// Samples summed per kernel function.
class ProfileTally {
 public:
  explicit ProfileTally(const KernelSymbols* symbols) : symbols_(symbols) {}

  // A sample in user space: counted in the total only.
  void AddUserSample() { ++samples_; }
  // `chain`: the kernel call chain, innermost (the interrupted address) first.
  void AddKernelSample(const uint64_t* chain, size_t depth);
  void AddLost(uint64_t n) { lost_ += n; }

  // Sets the counts of `out` and its symbols: the `limit` functions with the most samples, half
  // of them by self samples and the rest by total samples, ordered by total, then self samples,
  // then name.
  void Fill(int limit, KernelProfile& out) const;

 private:
  struct Counts {
    uint64_t self = 0;
    uint64_t total = 0;
  };
  const KernelSymbols* symbols_;
  uint64_t samples_ = 0;
  uint64_t kernel_samples_ = 0;
  uint64_t lost_ = 0;
  // By symbol index; -1 is an address below every symbol.
  std::map<int, Counts> counts_;
  std::vector<int> seen_;  // scratch: the symbols of the current sample
};

// Whether the kernel's call chains are guesses: an x86_64 kernel built with
// CONFIG_UNWINDER_GUESS (arch/x86/kernel/unwind_guess.c) reports every kernel text address it
// finds on the stack, stale ones included, so functions that are not on the call path get total
// samples. Told from its symbols: neither the ORC unwinder's (unwind_orc.c: unwind_init,
// orc_find) nor the frame-pointer unwinder's (unwind_frame.c: update_stack_state, unwind_dump).
// arm64 always unwinds by frame pointers.
bool CallChainsAreGuessed(const KernelSymbols& symbols);

// The sampler and the symbol table for one run.
class KernelProfiler {
 public:
  // Unavailable (with the reason) without perf events, permission or kernel symbols;
  // FAULTLINE_BENCH_DISABLE_PERF=1 turns it off as it does the perf counters.
  static absl::StatusOr<std::unique_ptr<KernelProfiler>> Open();

  absl::Status Start() { return sampler_->Start(); }
  // Stops sampling and adds what the buffers hold to the profile.
  absl::Status Finish();
  // Stops sampling, dropping what was sampled (a repetition whose figures are abandoned).
  absl::Status Abandon();

  // The method, counts and top functions so far.
  void Fill(KernelProfile& out) const;

 private:
  KernelProfiler(std::unique_ptr<PerfSampler> sampler, std::unique_ptr<KernelSymbols> symbols)
      : sampler_(std::move(sampler)),
        symbols_(std::move(symbols)),
        tally_(symbols_.get()),
        leaf_only_(CallChainsAreGuessed(*symbols_)) {}

  std::unique_ptr<PerfSampler> sampler_;
  std::unique_ptr<KernelSymbols> symbols_;
  ProfileTally tally_;
  // Guessed call chains: only the interrupted address counts (self and total alike).
  bool leaf_only_;
  PerfSampler::Options options_;
};

// "perf cpu-clock 4000 Hz, kernel call chains", or with `leaf_only` "..., interrupted
// functions only (the kernel's unwinder guesses: CONFIG_UNWINDER_GUESS)".
std::string ProfileMethod(const PerfSampler::Options& options, bool leaf_only);

}  // namespace faultline::agent::bench

#endif  // FAULTLINE_AGENT_BENCH_KERNEL_PROFILE_H_
