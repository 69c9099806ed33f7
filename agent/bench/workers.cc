#include "agent/bench/workers.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <linux/futex.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <system_error>
#include <thread>

#include "absl/strings/str_cat.h"
#include "agent/bench/cycle_clock.h"

namespace faultline::agent::bench {
namespace {

constexpr int64_t kDefaultTimeoutNs = int64_t{600} * 1'000'000'000;

void SleepNs(int64_t ns) {
  timespec ts = {static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
  nanosleep(&ts, nullptr);
}

// Sleeps while *word == expected, at most until the absolute CLOCK_MONOTONIC time `until_ns`.
// The word lives in MAP_SHARED memory, so the futex is a shared one (process workers wake it).
void FutexWaitUntil(std::atomic<int>* word, int expected, int64_t until_ns) {
  const int64_t now = MonotonicNowNs();
  if (until_ns <= now) return;
  const int64_t ns = until_ns - now;
  timespec relative = {static_cast<time_t>(ns / 1'000'000'000),
                       static_cast<long>(ns % 1'000'000'000)};
  syscall(SYS_futex, reinterpret_cast<int*>(word), FUTEX_WAIT, expected, &relative, nullptr, 0);
}

void FutexWakeAll(std::atomic<int>* word) {
  syscall(SYS_futex, reinterpret_cast<int*>(word), FUTEX_WAKE, INT32_MAX, nullptr, nullptr, 0);
}

// The shared block: control words, then one report per worker.
class SharedBlock {
 public:
  static absl::StatusOr<std::unique_ptr<SharedBlock>> Create(int workers) {
    const size_t bytes = sizeof(WorkerControl) + alignof(WorkerReport) +
                         sizeof(WorkerReport) * static_cast<size_t>(workers);
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      return absl::ResourceExhaustedError(
          absl::StrCat("mmap of ", bytes, " bytes for worker reports: ", strerror(errno)));
    }
    return std::unique_ptr<SharedBlock>(new SharedBlock(p, bytes, workers));
  }
  ~SharedBlock() { munmap(base_, bytes_); }

  WorkerControl* control() { return control_; }
  WorkerReport& report(int i) { return reports_[i]; }

 private:
  SharedBlock(void* base, size_t bytes, int workers) : base_(base), bytes_(bytes) {
    control_ = new (base) WorkerControl{};
    char* after = static_cast<char*>(base) + sizeof(WorkerControl);
    after += alignof(WorkerReport) - reinterpret_cast<uintptr_t>(after) % alignof(WorkerReport);
    reports_ = reinterpret_cast<WorkerReport*>(after);
    for (int i = 0; i < workers; ++i) new (&reports_[i]) WorkerReport{};
  }
  void* base_;
  size_t bytes_;
  WorkerControl* control_;
  WorkerReport* reports_;
};

std::vector<int> AllowedCpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
    }
  }
  return cpus;
}

// The calling thread's run delay, ns (the second field of /proc/thread-self/schedstat); -1
// without schedstats.
int64_t ThreadRunDelayNs() {
  char buf[128];
  const int fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  const ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = '\0';
  unsigned long long on_cpu = 0, delay = 0;
  if (sscanf(buf, "%llu %llu", &on_cpu, &delay) != 2) return -1;
  return static_cast<int64_t>(delay);
}

int64_t ThreadCpuNs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

std::atomic<int64_t> run_delay_total{0};

void RunOneWorker(const WorkerFn& fn, int index, const std::vector<int>& pin_to,
                  WorkerControl* control, WorkerReport& report) {
  report.tid = static_cast<int32_t>(gettid());
  if (!pin_to.empty()) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(pin_to[index % pin_to.size()], &set);
    if (sched_setaffinity(0, sizeof(set), &set) != 0) report.SetError("sched_setaffinity", errno);
  }
  StartGate gate(control);
  const int64_t delay_before = ThreadRunDelayNs();
  if (!report.failed()) fn(index, gate, report);
  const int64_t delay_after = ThreadRunDelayNs();
  report.run_delay_ns = delay_before >= 0 && delay_after >= 0 ? delay_after - delay_before : -1;
  report.cpu_ns = gate.released_cpu_ns() >= 0 ? ThreadCpuNs() - gate.released_cpu_ns() : -1;
  // A worker that failed during setup still counts as arrived, so the release is not held up.
  if (!gate.arrived()) control->ready.fetch_add(1);
  report.finish_ns = MonotonicNowNs();
  control->done.fetch_add(1);
  FutexWakeAll(&control->done);
}

absl::Status CollectErrors(SharedBlock& block, int workers) {
  for (int i = 0; i < workers; ++i) {
    if (block.report(i).failed()) {
      return absl::InternalError(absl::StrCat("worker ", i, ": ", block.report(i).error));
    }
  }
  return absl::OkStatus();
}

// Waits for every worker to arrive (or exit), bounded by the deadline. `poll` is called on each
// round and may end the wait early by returning false.
template <typename Poll>
bool WaitForArrivals(WorkerControl* control, int workers, Poll poll) {
  while (control->ready.load() < workers) {
    if (MonotonicNowNs() > control->deadline_ns || !poll()) return false;
    SleepNs(50'000);
  }
  return true;
}

// After the release: asks open-ended workers to stop on time; returns when all are done or the
// deadline passed. Sleeps on the `done` futex until the next thing it must do (raise `stop`, give
// up at the deadline) or, when `poll_every_ns` > 0, until the next `poll` (process workers can
// die without counting themselves done).
template <typename Poll>
void WaitForCompletion(const WorkerOptions& options, WorkerControl* control, int64_t go_ns,
                       int64_t poll_every_ns, Poll poll) {
  const int64_t stop_at = options.stop_after_ns > 0 ? go_ns + options.stop_after_ns : INT64_MAX;
  const int64_t give_up_at = control->deadline_ns + 1'000'000'000;
  for (;;) {
    const int done = control->done.load();
    if (done >= options.workers) return;
    const int64_t now = MonotonicNowNs();
    if (now >= stop_at || now >= control->deadline_ns) control->stop.store(1);
    if (now >= give_up_at || !poll()) return;
    int64_t wake_at = give_up_at;
    if (now < stop_at) wake_at = std::min(wake_at, stop_at);
    if (now < control->deadline_ns) wake_at = std::min(wake_at, control->deadline_ns);
    if (poll_every_ns > 0) wake_at = std::min(wake_at, now + poll_every_ns);
    FutexWaitUntil(&control->done, done, wake_at);
  }
}

// A process worker that dies is noticed within this long.
constexpr int64_t kProcessPollNs = 10'000'000;

// Runs the only thread worker on the calling thread (see WorkerOptions).
void RunOnThisThread(const WorkerOptions& options, const WorkerFn& fn,
                     const std::vector<int>& pin_to, WorkerControl* control,
                     WorkerReport& report, int64_t& go_ns) {
  cpu_set_t previous;
  const bool restore = !pin_to.empty() && sched_getaffinity(0, sizeof(previous), &previous) == 0;
  control->self_timed = true;
  control->stop_at_ns = control->deadline_ns;
  go_ns = MonotonicNowNs();
  if (options.stop_after_ns > 0) {
    control->stop_at_ns = std::min(control->stop_at_ns, go_ns + options.stop_after_ns);
  }
  control->go.store(1, std::memory_order_release);
  RunOneWorker(fn, 0, pin_to, control, report);
  if (restore) sched_setaffinity(0, sizeof(previous), &previous);
}

}  // namespace

void HistogramImage::CopyFrom(const Histogram& histogram) {
  const std::vector<uint64_t>& c = histogram.counts();
  if (histogram.sub_bucket_bits() == kSubBucketBits) {
    std::copy(c.begin(), c.begin() + std::min<size_t>(c.size(), kBuckets), counts);
  } else {
    Histogram converted(kSubBucketBits);
    converted.Merge(histogram);
    std::copy(converted.counts().begin(), converted.counts().end(), counts);
  }
  min = histogram.min();
  max = histogram.max();
  sum = histogram.sum();
}

Histogram HistogramImage::ToHistogram() const {
  return Histogram::FromParts(kSubBucketBits, counts, kBuckets, min, max, sum);
}

void WorkerReport::SetError(const char* what, int error_number) {
  if (failed()) return;
  if (error_number != 0) {
    snprintf(error, sizeof(error), "%s: %s", what, strerror(error_number));
  } else {
    snprintf(error, sizeof(error), "%s", what);
  }
}

bool StartGate::ArriveAndWait() {
  arrived_ = true;
  control_->ready.fetch_add(1);
  for (uint64_t spins = 0; control_->go.load(std::memory_order_acquire) == 0; ++spins) {
    if (spins % 1024 == 0 && MonotonicNowNs() > control_->deadline_ns) return false;
    // More workers than CPUs is allowed: do not starve the ones still setting up.
    if (spins > 1000) sched_yield();
  }
  if (control_->stop.load() != 0) return false;
  released_cpu_ns_ = ThreadCpuNs();
  return true;
}

absl::StatusOr<WorkerGroupResult> RunWorkers(const WorkerOptions& options, const WorkerFn& fn) {
  if (options.workers < 1 || options.workers > 4096) {
    return absl::InvalidArgumentError(absl::StrCat("workers: ", options.workers,
                                                   " is out of range [1, 4096]"));
  }
  absl::StatusOr<std::unique_ptr<SharedBlock>> block_or = SharedBlock::Create(options.workers);
  if (!block_or.ok()) return block_or.status();
  SharedBlock& block = **block_or;
  WorkerControl* control = block.control();
  control->deadline_ns =
      options.deadline_ns > 0 ? options.deadline_ns : MonotonicNowNs() + kDefaultTimeoutNs;
  const std::vector<int> pin_to = options.pin_cpus ? AllowedCpus() : std::vector<int>();

  WorkerGroupResult result;
  int64_t go_ns = 0;
  absl::Status status = absl::OkStatus();

  if (options.mode == WorkerMode::kThread && options.workers == 1) {
    RunOnThisThread(options, fn, pin_to, control, block.report(0), go_ns);
  } else if (options.mode == WorkerMode::kThread) {
    std::vector<std::thread> threads;
    threads.reserve(options.workers);
    for (int i = 0; i < options.workers && status.ok(); ++i) {
      try {
        threads.emplace_back(RunOneWorker, std::cref(fn), i, std::cref(pin_to), control,
                             std::ref(block.report(i)));
      } catch (const std::system_error& e) {
        status = absl::ResourceExhaustedError(absl::StrCat("starting worker thread ", i, ": ",
                                                           e.what()));
      }
    }
    if (status.ok() && !WaitForArrivals(control, options.workers, [] { return true; })) {
      status = CollectErrors(block, options.workers);
      if (status.ok()) status = absl::DeadlineExceededError("workers did not get ready in time");
    }
    if (!status.ok()) control->stop.store(1);
    go_ns = MonotonicNowNs();
    control->go.store(1, std::memory_order_release);
    if (status.ok()) WaitForCompletion(options, control, go_ns, 0, [] { return true; });
    control->stop.store(1);
    // Threads cannot be killed; their loops are bounded by the deadline and the stop flag.
    for (std::thread& t : threads) t.join();
  } else {
    std::vector<pid_t> pids(options.workers, -1);
    std::vector<int> exit_status(options.workers, 0);
    int reaped = 0;
    auto reap = [&](int flags) {
      for (int i = 0; i < options.workers; ++i) {
        if (pids[i] <= 0) continue;
        int wstatus = 0;
        const pid_t r = waitpid(pids[i], &wstatus, flags);
        if (r == pids[i] || (r < 0 && errno == ECHILD)) {
          exit_status[i] = wstatus;
          pids[i] = 0;
          ++reaped;
          // A dead worker never finishes its report: count it as done.
          if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
            if (!block.report(i).failed()) {
              block.report(i).SetError(
                  WIFSIGNALED(wstatus)
                      ? absl::StrCat("killed by signal ", WTERMSIG(wstatus)).c_str()
                      : absl::StrCat("exited with status ", WEXITSTATUS(wstatus)).c_str(),
                  0);
            }
          }
        }
      }
      return reaped;
    };
    const pid_t runner = getpid();
    for (int i = 0; i < options.workers && status.ok(); ++i) {
      const pid_t pid = fork();
      if (pid == 0) {
        // A worker must not outlive a runner that is killed (it would never be told to stop).
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != runner) _exit(1);
        RunOneWorker(fn, i, pin_to, control, block.report(i));
        _exit(0);
      }
      if (pid < 0) {
        status = absl::ResourceExhaustedError(
            absl::StrCat("fork of worker process ", i, ": ", strerror(errno)));
      } else {
        pids[i] = pid;
      }
    }
    // Keeps waiting while some worker still runs and none has failed.
    auto keep_waiting = [&] {
      if (reap(WNOHANG) == options.workers) return false;
      for (int i = 0; i < options.workers; ++i) {
        if (block.report(i).failed()) return false;
      }
      return true;
    };
    if (status.ok() && !WaitForArrivals(control, options.workers, keep_waiting)) {
      status = CollectErrors(block, options.workers);
      if (status.ok()) status = absl::DeadlineExceededError("worker processes did not get ready");
    }
    if (!status.ok()) control->stop.store(1);
    go_ns = MonotonicNowNs();
    control->go.store(1, std::memory_order_release);
    if (status.ok()) WaitForCompletion(options, control, go_ns, kProcessPollNs, keep_waiting);
    control->stop.store(1);
    // Bounded: give stragglers two seconds past the stop, then kill them.
    const int64_t kill_at = MonotonicNowNs() + 2'000'000'000;
    while (reap(WNOHANG) < options.workers && MonotonicNowNs() < kill_at) SleepNs(1'000'000);
    for (int i = 0; i < options.workers; ++i) {
      if (pids[i] > 0) {
        kill(pids[i], SIGKILL);
        block.report(i).SetError("killed: still running past the deadline", 0);
      }
    }
    reap(0);
  }

  if (status.ok()) status = CollectErrors(block, options.workers);
  if (status.ok() && control->done.load() < options.workers) {
    status = absl::DeadlineExceededError("workers did not finish before the deadline");
  }
  if (!status.ok()) return status;
  int64_t last_finish = go_ns;
  for (int i = 0; i < options.workers; ++i) {
    last_finish = std::max(last_finish, block.report(i).finish_ns);
    result.reports.push_back(block.report(i));
  }
  result.wall_ns = last_finish - go_ns;
  for (const WorkerReport& r : result.reports) {
    if (r.run_delay_ns > 0) run_delay_total.fetch_add(r.run_delay_ns);
  }
  return result;
}

int64_t WorkersRunDelayNs() { return run_delay_total.load(); }

}  // namespace faultline::agent::bench
