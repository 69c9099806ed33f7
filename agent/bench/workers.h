// Runs N benchmark workers as threads (one mm: mmap_lock and per-VMA locks are shared) or as
// processes (one mm each), releases them together, and collects what each measured. Reports
// live in shared memory so process workers can hand back figures and histograms.
#ifndef FAULTLINE_AGENT_BENCH_WORKERS_H_
#define FAULTLINE_AGENT_BENCH_WORKERS_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/bench/cycle_clock.h"
#include "agent/bench/histogram.h"

namespace faultline::agent::bench {

enum class WorkerMode { kThread, kProcess };

// A histogram as plain data, fixed at sub_bucket_bits 5.
struct HistogramImage {
  static constexpr uint32_t kSubBucketBits = 5;
  static constexpr uint32_t kBuckets = 64u << kSubBucketBits;
  uint64_t counts[kBuckets];
  uint64_t min;
  uint64_t max;
  double sum;

  void CopyFrom(const Histogram& histogram);
  Histogram ToHistogram() const;
};

// What one worker reports; plain data.
struct WorkerReport {
  // The worker's thread id (thread workers) or process id (process workers).
  int32_t tid;
  uint64_t ops;
  // Time the worker spent in its measured loop.
  int64_t busy_ns;
  // CLOCK_MONOTONIC when the worker finished.
  int64_t finish_ns;
  // Time the worker was runnable but waiting for a CPU (/proc/thread-self/schedstat), over
  // its whole run; -1 when the kernel does not keep schedstats.
  int64_t run_delay_ns;
  // The worker thread's CPU time (CLOCK_THREAD_CPUTIME_ID: user and kernel, its faults
  // included) from its release at the start line to its end; -1 when it never got released.
  // Unlike busy_ns it leaves out the time the worker waited for a CPU.
  int64_t cpu_ns;
  // Benchmark-specific figures (e.g. a second kind of latency sum).
  double extra[4];
  // Empty when the worker succeeded.
  char error[192];
  HistogramImage latency;

  void SetError(const char* what, int error_number);
  bool failed() const { return error[0] != '\0'; }
};

// Shared between the runner and its workers.
struct WorkerControl {
  std::atomic<int> ready;
  std::atomic<int> go;
  std::atomic<int> stop;
  // Counted up by each finishing worker, which then wakes the runner (a futex on this word), so
  // the runner sleeps until the workers finish or a deadline instead of polling.
  std::atomic<int> done;
  int64_t deadline_ns;
  // Set when the only worker runs on the runner's own thread: nobody else is awake to raise
  // `stop`, so StopRequested() reads the clock against stop_at_ns itself.
  bool self_timed;
  int64_t stop_at_ns;
};

// A worker's view of the start line.
class StartGate {
 public:
  explicit StartGate(WorkerControl* control) : control_(control) {}

  // Signals readiness and waits for the release: call it once setup is done and measurement is
  // about to start. False when the deadline passed or the run was aborted first.
  bool ArriveAndWait();
  // Whether the runner asked open-ended workers to wind down (or the deadline passed).
  bool StopRequested() const {
    if (control_->stop.load(std::memory_order_relaxed) != 0) return true;
    return control_->self_timed && MonotonicNowNs() >= control_->stop_at_ns;
  }
  int64_t deadline_ns() const { return control_->deadline_ns; }
  bool arrived() const { return arrived_; }
  // The thread's CPU time when it was released; -1 before (or without) a release.
  int64_t released_cpu_ns() const { return released_cpu_ns_; }

 private:
  WorkerControl* control_;
  bool arrived_ = false;
  int64_t released_cpu_ns_ = -1;
};

// A single thread worker runs on the calling thread, so the measured mm has one thread during the
// timed span (no watchdog thread waking beside it, no second thread for munmap's TLB flushes to
// consider); the calling thread's CPU affinity is restored afterwards when it was pinned.
struct WorkerOptions {
  WorkerMode mode = WorkerMode::kThread;
  int workers = 1;
  bool pin_cpus = false;
  // Absolute CLOCK_MONOTONIC deadline; workers still running then are killed (processes) or
  // told to stop (threads, which must honour it).
  int64_t deadline_ns = 0;
  // When > 0, StopRequested() turns true this long after the release.
  int64_t stop_after_ns = 0;
};

struct WorkerGroupResult {
  // From the release to the last worker's finish.
  int64_t wall_ns = 0;
  std::vector<WorkerReport> reports;
};

using WorkerFn = std::function<void(int index, StartGate& gate, WorkerReport& report)>;

// Runs `fn` in options.workers workers. Fails if any worker reports an error, dies, or misses
// the deadline; every thread is joined and every process reaped before returning.
absl::StatusOr<WorkerGroupResult> RunWorkers(const WorkerOptions& options, const WorkerFn& fn);

// The run delay of every worker RunWorkers has collected in this process so far, summed: read it
// before and after a repetition for the time its workers waited for a CPU others held.
int64_t WorkersRunDelayNs();

}  // namespace faultline::agent::bench

#endif  // FAULTLINE_AGENT_BENCH_WORKERS_H_
