// mmap_writer_contention: T threads fault while another thread of the process takes mmap_lock
// for write in a loop. With per-VMA locks the faults should not wait for it, unless they fall
// back to mmap_lock (a fault that must retry, a fresh VMA's anon_vma); the baseline arm runs the
// same faults with the writer idle.
//
// The writer's operation is one of two:
// - writer_pages = 0: map, mprotect and unmap an untouched 64 KiB region: three short
//   write-locked sections, as often as possible.
// - writer_pages = N: one mprotect over a populated N-page range of its own, flipping it between
//   read-only and read-write. mprotect holds mmap_lock for write for its whole walk
//   (mprotect_fixup -> change_protection in mm/mprotect.c visits every PTE of the range, and
//   unlike munmap it never downgrades the lock), so each operation holds the lock for a time that
//   grows with N. The range is an IsolatedVma with base pages: the flips neither split nor merge
//   it, and each page is its own PTE.
// writer_rate caps the operations per second (on a fixed schedule; slots the writer misses are
// skipped, not made up in a burst).
#include <errno.h>
#include <sys/mman.h>
#include <time.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "agent/bench/benchmarks/benchmarks.h"
#include "agent/bench/benchmarks/contention.h"
#include "agent/bench/benchmarks/isolated_vma.h"
#include "agent/bench/cycle_clock.h"
#include "agent/bench/host_memory.h"
#include "agent/bench/params.h"

namespace faultline::agent::bench::benchmarks {
namespace {

constexpr size_t kUntouchedBytes = 64 << 10;

void SleepUntilNs(int64_t monotonic_ns) {
  const timespec ts = {static_cast<time_t>(monotonic_ns / 1'000'000'000),
                       static_cast<long>(monotonic_ns % 1'000'000'000)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

class Writer : public DisturberLoop {
 public:
  static absl::StatusOr<std::unique_ptr<Writer>> Create(const Params& params) {
    std::unique_ptr<Writer> writer(new Writer);
    const int64_t rate = GetInt(params, "writer_rate");
    writer->period_ns_ = rate > 0 ? 1'000'000'000 / rate : 0;
    writer->arm_ns_ = GetInt(params, "duration_ms") * 1'000'000;
    const int64_t pages = GetInt(params, "writer_pages");
    if (pages > 0) {
      const size_t bytes = static_cast<size_t>(pages) * PageSize();
      absl::StatusOr<std::unique_ptr<IsolatedVma>> range = IsolatedVma::Reserve(bytes);
      if (!range.ok()) return range.status();
      if (!(*range)->Map(PROT_READ | PROT_WRITE)) {
        return absl::ResourceExhaustedError(absl::StrCat("mmap writer range: ", strerror(errno)));
      }
      madvise((*range)->data(), bytes, MADV_NOHUGEPAGE);
      for (size_t off = 0; off < bytes; off += PageSize()) (*range)->data()[off] = 1;
      writer->range_ = *std::move(range);
    }
    return writer;
  }

  void Run(StartGate& gate, WorkerReport& report) override {
    Histogram latency(HistogramImage::kSubBucketBits);
    const CycleClock& clock = CycleClock::Get();
    if (!gate.ArriveAndWait()) return;
    const int64_t start_ns = MonotonicNowNs();
    int64_t slot = 0;
    bool writable = true;
    while (!gate.StopRequested()) {
      if (period_ns_ > 0) {
        slot = std::max(slot, (MonotonicNowNs() - start_ns) / period_ns_);
        const int64_t due_ns = start_ns + slot * period_ns_;
        // The schedule ends with the arm, so an arm runs at most arm / period operations.
        if (due_ns - start_ns >= arm_ns_) break;
        SleepUntilNs(due_ns);
        ++slot;
      }
      const uint64_t t0 = CycleNow();
      if (!(range_ != nullptr ? Flip(writable) : MapProtectUnmap())) {
        report.SetError(range_ != nullptr ? "mprotect" : "mmap", errno);
        break;
      }
      latency.Record(clock.ToNs(CycleNow() - t0));
      ++report.ops;
    }
    report.busy_ns = MonotonicNowNs() - start_ns;
    report.latency.CopyFrom(latency);
  }

 private:
  Writer() = default;

  bool Flip(bool& writable) {
    writable = !writable;
    return mprotect(range_->data(), range_->size(),
                    writable ? PROT_READ | PROT_WRITE : PROT_READ) == 0;
  }

  static bool MapProtectUnmap() {
    void* p = mmap(nullptr, kUntouchedBytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return false;
    mprotect(p, kUntouchedBytes, PROT_READ);
    munmap(p, kUntouchedBytes);
    return true;
  }

  int64_t period_ns_ = 0;
  int64_t arm_ns_ = 0;
  std::unique_ptr<IsolatedVma> range_;
};

Disturber Who() { return {"writer", "writer", "op"}; }

ResourceDemand Demand(const Params& params) {
  ResourceDemand demand = ContentionDemand(params, 1, "the writer thread");
  const int64_t pages = GetInt(params, "writer_pages");
  demand.memory_bytes += static_cast<uint64_t>(pages) * PageSize();
  absl::StrAppend(&demand.memory_from, " + writer_pages (", pages, ")");
  return demand;
}

absl::StatusOr<std::unique_ptr<BenchmarkRun>> Start(const RunContext& context) {
  absl::StatusOr<std::unique_ptr<Writer>> writer = Writer::Create(context.params);
  if (!writer.ok()) return writer.status();
  absl::StatusOr<std::unique_ptr<ContentionRun>> run =
      ContentionRun::Create(context, *std::move(writer), Who());
  if (!run.ok()) return run.status();
  return std::unique_ptr<BenchmarkRun>(std::move(*run));
}

}  // namespace

BenchmarkDefinition MmapWriterContentionBenchmark() {
  BenchmarkDefinition def;
  def.info.name = "mmap_writer_contention";
  def.info.description =
      "Threads fault while another thread takes mmap_lock for write in a loop (mmap/mprotect/"
      "munmap, or an mprotect over writer_pages populated pages, at up to writer_rate ops/s); "
      "fault latency quantiles with the writer on and off, and the writer's ops/s. With "
      "faults=anon every pass first-touches a fresh VMA, the __vmf_anon_prepare trylock path.";
  def.info.params = ContentionParams();
  def.info.params.push_back(IntParam(
      "writer_rate", "Writer operations per second at most; 0 runs them back to back.", "ops/s",
      0, 0, 100000));
  def.info.params.push_back(IntParam(
      "writer_pages",
      "0: each writer operation maps, mprotects and unmaps an untouched 64 KiB region. N: it is "
      "one mprotect over N populated pages, holding mmap_lock for write longer as N grows.",
      "pages", 0, 0, 262144));
  def.info.metrics = ContentionMetrics("writer");
  def.trace_scopes = ContentionScopes(Who());
  def.demand = &Demand;
  def.start = &Start;
  return def;
}

}  // namespace faultline::agent::bench::benchmarks
