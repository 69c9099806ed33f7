#include "agent/bench/benchmark_definition.h"
#include "agent/bench/benchmarks/benchmarks.h"

namespace faultline::agent::bench {

const std::vector<BenchmarkDefinition>& Definitions() {
  static const std::vector<BenchmarkDefinition>* const definitions =
      new std::vector<BenchmarkDefinition>{
          benchmarks::MmapMunmapBenchmark(),           benchmarks::FaultAnonBenchmark(),
          benchmarks::FaultFilePrivateBenchmark(),     benchmarks::FaultFileSharedBenchmark(),
          benchmarks::FaultFileColdBenchmark(),        benchmarks::FaultSwapinBenchmark(),
          benchmarks::ForkMappedBenchmark(),           benchmarks::ForkFaultContentionBenchmark(),
          benchmarks::MmapWriterContentionBenchmark(),
      };
  return *definitions;
}

}  // namespace faultline::agent::bench
