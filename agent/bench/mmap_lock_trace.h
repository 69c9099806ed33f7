// mmap_lock acquisitions, waits and hold times per benchmark scope, from the mmap_lock
// tracepoints (include/trace/events/mmap_lock.h: mmap_lock_start_locking,
// mmap_lock_acquire_returned, mmap_lock_released). They fire for mmap_lock only, never for a
// per-VMA lock, so a faulting thread's read acquisition is a fallback from the per-VMA path.
// A trylock (mmap_read_trylock, the first try of lock_mm_and_find_vma) fires acquire_returned
// without start_locking: acquisitions count both, waits only the blocking ones.
//
// The runner records them in their own repetition (RunOptions.trace_repetitions) and reads the
// ring buffer after it, never inside a timed span.
#ifndef FAULTLINE_AGENT_BENCH_MMAP_LOCK_TRACE_H_
#define FAULTLINE_AGENT_BENCH_MMAP_LOCK_TRACE_H_

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/bench/benchmark_types.h"
#include "agent/bench/benchmark_definition.h"
#include "agent/bench/histogram.h"
#include "agent/bench/tracefs.h"

namespace faultline::agent::bench {

inline constexpr const char* kMmapLockFamily = "mmap_lock";

// Lock events of one repetition, summed per scope.
class MmapLockTally {
 public:
  enum class Kind { kStartLocking, kAcquireReturned, kReleased };
  // Events must arrive in time order.
  void Add(int tid, uint64_t mm, Kind kind, bool write, bool success, uint64_t ts_ns);

  // Writes counters, metrics and histograms for every scope of `scopes` into `out`, from the
  // tasks `out.task_scopes` names and the operations in `out.scope_ops`. With lost events the
  // per-operation figures would be too low: they are listed unavailable instead.
  void Fill(const std::vector<TraceScope>& scopes, uint64_t lost_events,
            RepetitionResult& out) const;

 private:
  struct Totals {
    uint64_t read = 0;
    uint64_t write = 0;
    uint64_t blocking = 0;
    uint64_t failed = 0;
    uint64_t wait_ns = 0;
    Histogram waits;
    Histogram write_holds;
  };
  struct Pending {
    uint64_t start_ns = 0;
    uint64_t write_acquired_ns = 0;
  };
  std::map<int, Totals> by_task_;
  std::map<std::pair<int, uint64_t>, Pending> pending_;
};

// Names of the counters and metrics a benchmark with these scopes reports (in a stable order),
// and the catalog entries of its metrics.
std::vector<std::string> MmapLockNames(const std::vector<TraceScope>& scopes);
std::vector<MetricSpec> MmapLockMetricSpecs(const std::vector<TraceScope>& scopes);

// The calling process's trace instance ("faultline-<pid>") with the mmap_lock events on,
// filtered to this process and everything it starts.
class MmapLockTracer {
 public:
  // Unavailable (with the reason) when tracefs or the tracepoints are missing, the instance is
  // in use, or this process may not create it.
  static absl::StatusOr<std::unique_ptr<MmapLockTracer>> Open();

  absl::Status Start();
  // Stops recording (for a repetition whose figures are abandoned).
  absl::Status Stop();
  // Stops recording, drains the buffer and fills `out` (MmapLockTally::Fill).
  absl::Status Finish(const std::vector<TraceScope>& scopes, RepetitionResult& out);

 private:
  struct Ids {
    uint16_t start = 0, acquired = 0, released = 0;
    int pid = 4, mm = 8, write = 24, success = 25;
  };
  MmapLockTracer(std::unique_ptr<TraceInstance> instance, Ids ids)
      : instance_(std::move(instance)), ids_(ids) {}

  std::unique_ptr<TraceInstance> instance_;
  Ids ids_;
};

// The ring buffer per CPU: enough for a few seconds of the busiest benchmark (a writer thread
// records about 3 M events/s of 36 bytes), and at most 1/32 of MemAvailable over all CPUs.
uint64_t MmapLockBufferKbPerCpu();

}  // namespace faultline::agent::bench

#endif  // FAULTLINE_AGENT_BENCH_MMAP_LOCK_TRACE_H_
