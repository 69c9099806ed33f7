// The benchmarks this library provides, one factory per file.
#ifndef FAULTLINE_AGENT_BENCH_BENCHMARKS_BENCHMARKS_H_
#define FAULTLINE_AGENT_BENCH_BENCHMARKS_BENCHMARKS_H_

#include "agent/bench/benchmark_definition.h"

namespace faultline::agent::bench::benchmarks {

BenchmarkDefinition MmapMunmapBenchmark();             // mmap_munmap.cc
BenchmarkDefinition FaultAnonBenchmark();              // fault_anon.cc
BenchmarkDefinition FaultFilePrivateBenchmark();       // file_faults.cc
BenchmarkDefinition FaultFileSharedBenchmark();        // file_faults.cc
BenchmarkDefinition FaultFileColdBenchmark();          // fault_file_cold.cc
BenchmarkDefinition FaultSwapinBenchmark();            // fault_swapin.cc
BenchmarkDefinition ForkMappedBenchmark();             // fork_mapped.cc
BenchmarkDefinition ForkFaultContentionBenchmark();    // fork_fault_contention.cc
BenchmarkDefinition MmapWriterContentionBenchmark();   // mmap_writer_contention.cc

}  // namespace faultline::agent::bench::benchmarks

#endif  // FAULTLINE_AGENT_BENCH_BENCHMARKS_BENCHMARKS_H_
