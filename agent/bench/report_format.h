// Text and JSON renderings of the catalog and of run outputs, for the faultline-bench command.
#ifndef FAULTLINE_AGENT_BENCH_REPORT_FORMAT_H_
#define FAULTLINE_AGENT_BENCH_REPORT_FORMAT_H_

#include <string>

#include "agent/bench/benchmark_types.h"

namespace faultline::agent::bench {

std::string CatalogText(const std::vector<BenchmarkInfo>& catalog);
std::string CatalogJson(const std::vector<BenchmarkInfo>& catalog);

const char* RunStatusName(RunStatus status);

// Per-repetition metrics and counters, then mean and coefficient of variation per metric.
std::string RunOutputText(const std::string& name, const Params& params, const RunOutput& out);
std::string RunOutputJson(const std::string& name, const Params& params, const RunOutput& out);
// The kernel profile: total and self share of the samples per function, or why there is none.
std::string ProfileText(const KernelProfile& profile);

// Mean and coefficient of variation (stddev / mean, sample stddev) of a metric over the
// repetitions (measured and tracing: each metric comes from one kind); cv is 0 with fewer than two repetitions.
struct MetricSummary {
  double mean = 0;
  double cv = 0;
  int count = 0;
};
MetricSummary Summarize(const RunOutput& out, const std::string& metric);

}  // namespace faultline::agent::bench

#endif  // FAULTLINE_AGENT_BENCH_REPORT_FORMAT_H_
