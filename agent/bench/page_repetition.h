// The repetition of the benchmarks whose workers each touch pages and report how many
// (WorkerReport.ops), the time they were busy and, when sampled, each touch's latency: the
// workers run once, their reports are summed, and the per-page figures become metrics.
#ifndef FAULTLINE_AGENT_BENCH_PAGE_REPETITION_H_
#define FAULTLINE_AGENT_BENCH_PAGE_REPETITION_H_

#include "absl/status/status.h"
#include "agent/bench/benchmark_types.h"
#include "agent/bench/workers.h"

namespace faultline::agent::bench {

// The names a benchmark reports its figures under, in this order so that a benchmark can write
// {"ns_per_fault", "faults_per_sec", sampled ? "fault_latency_ns" : nullptr}.
struct PageMetricNames {
  // Busy nanoseconds per page, e.g. "ns_per_fault".
  const char* ns_per_page = "ns_per_page";
  // Pages per second of wall time, e.g. "faults_per_sec"; nullptr when not reported (the
  // repetition then needs no wall time either).
  const char* per_second = nullptr;
  // The latency histogram; nullptr when the run does not sample latency.
  const char* latency_histogram = nullptr;
  // The error when no page was touched.
  const char* nothing_touched = "no page was touched";
  // The workers' on-CPU nanoseconds per page (WorkerReport.cpu_ns), e.g. "cpu_ns_per_fault";
  // nullptr when not reported.
  const char* cpu_ns_per_page = nullptr;
};

// One repetition: runs `worker` on every worker of `options` and adds, to `out`, the metrics
// named by `names` and "pages_touched". INTERNAL when no page was touched.
absl::Status RepeatPageWorkers(const WorkerOptions& options, const PageMetricNames& names,
                               const WorkerFn& worker, RepetitionResult& out);

}  // namespace faultline::agent::bench

#endif  // FAULTLINE_AGENT_BENCH_PAGE_REPETITION_H_
