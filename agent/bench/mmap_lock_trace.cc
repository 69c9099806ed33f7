#include "agent/bench/mmap_lock_trace.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <thread>

#include "absl/strings/str_cat.h"
#include "agent/bench/host_memory.h"
#include "agent/bench/workers.h"

namespace faultline::agent::bench {
namespace {

constexpr const char* kStartLocking = "mmap_lock/mmap_lock_start_locking";
constexpr const char* kAcquireReturned = "mmap_lock/mmap_lock_acquire_returned";
constexpr const char* kReleased = "mmap_lock/mmap_lock_released";

std::string Prefix(const TraceScope& scope) { return absl::StrCat("mmap_lock.", scope.name, "."); }

// Counters (raw counts per scope), then the run-wide lost-event count.
std::vector<std::string> CounterNames(const TraceScope& scope) {
  const std::string p = Prefix(scope);
  return {p + "read_acquisitions", p + "write_acquisitions", p + "blocking_acquisitions",
          p + "failed_acquisitions"};
}

Histogram NewHistogram() { return Histogram(HistogramImage::kSubBucketBits); }

}  // namespace

void MmapLockTally::Add(int tid, uint64_t mm, Kind kind, bool write, bool success,
                        uint64_t ts_ns) {
  auto [it, inserted] = by_task_.try_emplace(tid);
  Totals& t = it->second;
  if (inserted) {
    t.waits = NewHistogram();
    t.write_holds = NewHistogram();
  }
  Pending& p = pending_[{tid, mm}];
  switch (kind) {
    case Kind::kStartLocking:
      ++t.blocking;
      p.start_ns = ts_ns;
      break;
    case Kind::kAcquireReturned:
      if (p.start_ns != 0) {
        const uint64_t wait = ts_ns >= p.start_ns ? ts_ns - p.start_ns : 0;
        t.waits.Record(wait);
        t.wait_ns += wait;
        p.start_ns = 0;
      }
      if (!success) {
        ++t.failed;
        break;
      }
      // mmap_write_downgrade reports a read acquisition: the exclusive hold ends there.
      if (!write && p.write_acquired_ns != 0) {
        t.write_holds.Record(ts_ns >= p.write_acquired_ns ? ts_ns - p.write_acquired_ns : 0);
        p.write_acquired_ns = 0;
      }
      ++(write ? t.write : t.read);
      if (write) p.write_acquired_ns = ts_ns;
      break;
    case Kind::kReleased:
      if (p.write_acquired_ns != 0) {
        t.write_holds.Record(ts_ns >= p.write_acquired_ns ? ts_ns - p.write_acquired_ns : 0);
        p.write_acquired_ns = 0;
      }
      break;
  }
}

void MmapLockTally::Fill(const std::vector<TraceScope>& scopes, uint64_t lost_events,
                         RepetitionResult& out) const {
  out.counters["mmap_lock.lost_events"] = static_cast<int64_t>(lost_events);
  AddMetric(out, "mmap_lock.lost_events", static_cast<double>(lost_events));
  for (const TraceScope& scope : scopes) {
    Totals sum;
    sum.waits = NewHistogram();
    sum.write_holds = NewHistogram();
    for (const auto& [tid, name] : out.task_scopes) {
      if (name != scope.name) continue;
      auto it = by_task_.find(tid);
      if (it == by_task_.end()) continue;
      const Totals& t = it->second;
      sum.read += t.read;
      sum.write += t.write;
      sum.blocking += t.blocking;
      sum.failed += t.failed;
      sum.wait_ns += t.wait_ns;
      sum.waits.Merge(t.waits);
      sum.write_holds.Merge(t.write_holds);
    }
    const std::string p = Prefix(scope);
    out.counters[p + "read_acquisitions"] = static_cast<int64_t>(sum.read);
    out.counters[p + "write_acquisitions"] = static_cast<int64_t>(sum.write);
    out.counters[p + "blocking_acquisitions"] = static_cast<int64_t>(sum.blocking);
    out.counters[p + "failed_acquisitions"] = static_cast<int64_t>(sum.failed);
    auto ops = out.scope_ops.find(scope.name);
    const std::string per = "_per_" + scope.op;
    const std::vector<std::string> per_op = {p + "acquisitions" + per,
                                             p + "read_acquisitions" + per,
                                             p + "write_acquisitions" + per, p + "wait_ns" + per};
    if (lost_events > 0 || ops == out.scope_ops.end() || ops->second == 0) {
      for (const std::string& name : per_op) out.unavailable_counters.push_back(name);
      out.unavailable_reasons[kMmapLockFamily] =
          lost_events > 0
              ? absl::StrCat(lost_events, " trace events were lost (ring buffer full): "
                                          "per-operation figures would be too low")
              : absl::StrCat("no ", scope.op, " completed in scope ", scope.name);
    } else {
      const double n = static_cast<double>(ops->second);
      AddMetric(out, per_op[0], (sum.read + sum.write) / n);
      AddMetric(out, per_op[1], sum.read / n);
      AddMetric(out, per_op[2], sum.write / n);
      AddMetric(out, per_op[3], sum.wait_ns / n);
    }
    // Quantiles of nothing do not exist: left out rather than reported as zero.
    if (sum.waits.total_count() > 0) {
      AddMetric(out, p + "wait_p99_ns", sum.waits.Quantile(0.99));
      out.histograms.emplace_back(p + "wait_ns", sum.waits);
    }
    if (sum.write_holds.total_count() > 0) {
      AddMetric(out, p + "write_hold_p50_ns", sum.write_holds.Quantile(0.5));
      AddMetric(out, p + "write_hold_p99_ns", sum.write_holds.Quantile(0.99));
      out.histograms.emplace_back(p + "write_hold_ns", sum.write_holds);
    }
  }
}

std::vector<std::string> MmapLockNames(const std::vector<TraceScope>& scopes) {
  std::vector<std::string> names;
  for (const TraceScope& scope : scopes) {
    for (const std::string& name : CounterNames(scope)) names.push_back(name);
  }
  for (const MetricSpec& spec : MmapLockMetricSpecs(scopes)) names.push_back(spec.name);
  return names;
}

std::vector<MetricSpec> MmapLockMetricSpecs(const std::vector<TraceScope>& scopes) {
  std::vector<MetricSpec> specs;
  if (scopes.empty()) return specs;
  specs.push_back({"mmap_lock.lost_events", "count", Direction::kNeutral,
                   "mmap_lock trace events lost in the tracing repetition (ring buffer full); "
                   "above zero, the per-operation figures are withheld."});
  for (const TraceScope& scope : scopes) {
    const std::string p = Prefix(scope);
    const std::string per = "_per_" + scope.op;
    const std::string who = absl::StrCat("the ", scope.name, " tasks");
    specs.push_back({p + "acquisitions" + per, "ratio", Direction::kLowerIsBetter,
                     absl::StrCat("mmap_lock acquisitions (read and write) by ", who, " per ",
                                  scope.op, ".")});
    specs.push_back({p + "read_acquisitions" + per, "ratio", Direction::kLowerIsBetter,
                     absl::StrCat("mmap_lock read acquisitions by ", who, " per ", scope.op,
                                  "; for faulters, fallbacks from the per-VMA lock.")});
    specs.push_back({p + "write_acquisitions" + per, "ratio", Direction::kLowerIsBetter,
                     absl::StrCat("mmap_lock write acquisitions by ", who, " per ", scope.op,
                                  ".")});
    specs.push_back({p + "wait_ns" + per, "ns", Direction::kLowerIsBetter,
                     absl::StrCat("Time ", who, " waited for mmap_lock per ", scope.op, ".")});
    specs.push_back({p + "wait_p99_ns", "ns", Direction::kLowerIsBetter,
                     absl::StrCat("p99 wait for mmap_lock of ", who,
                                  " (blocking acquisitions only).")});
    specs.push_back({p + "write_hold_p50_ns", "ns", Direction::kLowerIsBetter,
                     absl::StrCat("Median time ", who, " held mmap_lock for write.")});
    specs.push_back({p + "write_hold_p99_ns", "ns", Direction::kLowerIsBetter,
                     absl::StrCat("p99 time ", who, " held mmap_lock for write.")});
  }
  return specs;
}

uint64_t MmapLockBufferKbPerCpu() {
  constexpr uint64_t kMinKb = 4 << 10;
  constexpr uint64_t kMaxKb = 256 << 10;
  const uint64_t cpus = std::max(1u, std::thread::hardware_concurrency());
  absl::StatusOr<uint64_t> available = MeminfoBytes("MemAvailable");
  if (!available.ok()) return kMinKb;
  return std::clamp<uint64_t>(*available / 32 / cpus / 1024, kMinKb, kMaxKb);
}

absl::StatusOr<std::unique_ptr<MmapLockTracer>> MmapLockTracer::Open() {
  TraceInstance::Options options;
  options.name = absl::StrCat("faultline-", getpid());
  options.events = {kStartLocking, kAcquireReturned, kReleased};
  options.buffer_kb_per_cpu = MmapLockBufferKbPerCpu();
  absl::StatusOr<std::unique_ptr<TraceInstance>> instance = TraceInstance::Create(options);
  if (!instance.ok()) return instance.status();
  Ids ids;
  for (const char* event : {kStartLocking, kAcquireReturned, kReleased}) {
    absl::StatusOr<EventFormat> format = (*instance)->Format(event);
    if (!format.ok()) return format.status();
    const bool acquired = event == kAcquireReturned;
    if (format->Size("common_pid") != 4 || format->Size("mm") != 8 || format->Size("write") != 1 ||
        (acquired && format->Size("success") != 1)) {
      return absl::UnavailableError(absl::StrCat(event, ": unexpected event format"));
    }
    ids.pid = format->Offset("common_pid");
    ids.mm = format->Offset("mm");
    ids.write = format->Offset("write");
    if (acquired) ids.success = format->Offset("success");
    (event == kStartLocking ? ids.start : acquired ? ids.acquired : ids.released) = format->id;
  }
  if (absl::Status s = (*instance)->FilterToPid(getpid()); !s.ok()) return s;
  return std::unique_ptr<MmapLockTracer>(new MmapLockTracer(*std::move(instance), ids));
}

absl::Status MmapLockTracer::Start() { return instance_->Start(); }

absl::Status MmapLockTracer::Stop() { return instance_->Stop(); }

absl::Status MmapLockTracer::Finish(const std::vector<TraceScope>& scopes,
                                    RepetitionResult& out) {
  if (absl::Status s = instance_->Stop(); !s.ok()) return s;
  absl::StatusOr<uint64_t> lost = instance_->LostEvents();
  if (!lost.ok()) return lost.status();
  struct Event {
    uint64_t ts;
    uint64_t mm;
    int32_t tid;
    MmapLockTally::Kind kind;
    bool write;
    bool success;
  };
  std::vector<Event> events;
  const size_t need = static_cast<size_t>(std::max({ids_.pid + 4, ids_.mm + 8, ids_.write + 1,
                                                    ids_.success + 1}));
  absl::Status read = instance_->ReadEvents([&](const RawEvent& raw) {
    if (raw.size < need) return;
    uint16_t type;
    memcpy(&type, raw.data, sizeof(type));
    Event e;
    if (type == ids_.start) {
      e.kind = MmapLockTally::Kind::kStartLocking;
    } else if (type == ids_.acquired) {
      e.kind = MmapLockTally::Kind::kAcquireReturned;
    } else if (type == ids_.released) {
      e.kind = MmapLockTally::Kind::kReleased;
    } else {
      return;
    }
    e.ts = raw.timestamp;
    memcpy(&e.tid, raw.data + ids_.pid, sizeof(e.tid));
    memcpy(&e.mm, raw.data + ids_.mm, sizeof(e.mm));
    e.write = raw.data[ids_.write] != 0;
    e.success = e.kind != MmapLockTally::Kind::kAcquireReturned || raw.data[ids_.success] != 0;
    events.push_back(e);
  });
  if (!read.ok()) return read;
  // Buffers are per CPU and a thread migrates: pairs are matched in global time order (the
  // instance's trace_clock is "mono", one clock for all CPUs).
  std::stable_sort(events.begin(), events.end(),
                   [](const Event& a, const Event& b) { return a.ts < b.ts; });
  MmapLockTally tally;
  for (const Event& e : events) tally.Add(e.tid, e.mm, e.kind, e.write, e.success, e.ts);
  tally.Fill(scopes, *lost, out);
  return absl::OkStatus();
}

}  // namespace faultline::agent::bench
