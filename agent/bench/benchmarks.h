// The benchmarks this library provides, one factory per file.
#ifndef FAULTLINE_AGENT_BENCH_BENCHMARKS_H_
#define FAULTLINE_AGENT_BENCH_BENCHMARKS_H_

#include "agent/bench/benchmark_definition.h"

namespace faultline::bench {

BenchmarkDefinition FaultAnonBenchmark();

}  // namespace faultline::bench

#endif  // FAULTLINE_AGENT_BENCH_BENCHMARKS_H_
