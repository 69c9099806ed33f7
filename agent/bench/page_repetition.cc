#include "agent/bench/page_repetition.h"

#include <cstdint>

#include "agent/bench/benchmark_definition.h"
#include "agent/bench/histogram.h"

namespace faultline::agent::bench {

absl::Status RepeatPageWorkers(const WorkerOptions& options, const PageMetricNames& names,
                               const WorkerFn& worker, RepetitionResult& out) {
  absl::StatusOr<WorkerGroupResult> group = RunWorkers(options, worker);
  if (!group.ok()) return group.status();
  uint64_t pages = 0;
  int64_t busy_ns = 0;
  int64_t cpu_ns = 0;
  bool cpu_known = true;
  Histogram latency(HistogramImage::kSubBucketBits);
  for (const WorkerReport& r : group->reports) {
    // Every page-touching benchmark has one trace scope: its faulting workers.
    AddTaskScope(out, r.tid, "faulter", r.ops);
    pages += r.ops;
    busy_ns += r.busy_ns;
    cpu_known = cpu_known && r.cpu_ns >= 0;
    cpu_ns += r.cpu_ns;
    latency.Merge(r.latency.ToHistogram());
  }
  if (pages == 0 || (names.per_second != nullptr && group->wall_ns <= 0)) {
    return absl::InternalError(names.nothing_touched);
  }
  AddMetric(out, names.ns_per_page, static_cast<double>(busy_ns) / pages);
  if (names.per_second != nullptr) {
    AddMetric(out, names.per_second, pages * 1e9 / group->wall_ns);
  }
  if (names.cpu_ns_per_page != nullptr && cpu_known) {
    AddMetric(out, names.cpu_ns_per_page, static_cast<double>(cpu_ns) / pages);
  }
  AddMetric(out, "pages_touched", static_cast<double>(pages));
  if (names.latency_histogram != nullptr) {
    out.histograms.emplace_back(names.latency_histogram, latency);
  }
  return absl::OkStatus();
}

}  // namespace faultline::agent::bench
