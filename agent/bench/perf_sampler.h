// Software CPU-clock sampling of the calling thread and every thread and process it starts
// afterwards, with kernel call chains, through perf_event_open(2) and its ring buffer: no perf
// binary, no hardware PMU (VMs and qemu TCG guests have none; PERF_COUNT_SW_CPU_CLOCK is an
// hrtimer). One event per CPU, because the kernel refuses to mmap an inherited per-task event
// (perf_mmap in kernel/events/core.c: "Don't allow mmap() of inherited per-task counters");
// inherited children write into their parent event's buffer of the CPU they run on.
// Record layouts: include/uapi/linux/perf_event.h (PERF_RECORD_SAMPLE, PERF_RECORD_LOST).
#ifndef FAULTLINE_AGENT_BENCH_PERF_SAMPLER_H_
#define FAULTLINE_AGENT_BENCH_PERF_SAMPLER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace faultline::agent::bench {

// One sample: whether the CPU was in the kernel, and the kernel call chain innermost first (the
// interrupted address first; empty for a user-space sample).
using PerfSampleFn = std::function<void(bool kernel, const uint64_t* chain, size_t depth)>;

class PerfSampler {
 public:
  struct Options {
    // Samples per second of CPU time (one per 1e9 / frequency_hz ns on a CPU).
    uint64_t frequency_hz = 4000;
    // Ring buffer per CPU (rounded down to a power of two pages).
    size_t buffer_bytes_per_cpu = 8 << 20;
    // Deepest kernel call chain kept per sample.
    uint16_t max_stack = 48;
  };
  // Opened disabled. Unavailable (with the reason: no perf events, perf_event_paranoid, no
  // permission) when the kernel refuses.
  static absl::StatusOr<std::unique_ptr<PerfSampler>> Open(const Options& options);
  ~PerfSampler();
  PerfSampler(const PerfSampler&) = delete;
  PerfSampler& operator=(const PerfSampler&) = delete;

  absl::Status Start();
  absl::Status Stop();
  // Calls `fn` for every sample recorded since the last Drain (call after Stop()) and returns
  // the samples the buffers had no room for.
  absl::StatusOr<uint64_t> Drain(const PerfSampleFn& fn);

 private:
  struct Cpu {
    int fd = -1;
    void* map = nullptr;
    size_t map_bytes = 0;
  };
  PerfSampler() = default;
  std::vector<Cpu> cpus_;
};

}  // namespace faultline::agent::bench

#endif  // FAULTLINE_AGENT_BENCH_PERF_SAMPLER_H_
