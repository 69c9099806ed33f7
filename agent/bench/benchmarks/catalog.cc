#include "agent/bench/benchmark_definition.h"
#include "agent/bench/benchmarks/benchmarks.h"

namespace faultline::agent::bench {

const std::vector<BenchmarkDefinition>& Definitions() {
  static const std::vector<BenchmarkDefinition>* const definitions =
      new std::vector<BenchmarkDefinition>{
          MmapMunmapBenchmark(),
          FaultAnonBenchmark(),
          FaultFilePrivateBenchmark(),
          FaultFileSharedBenchmark(),
          FaultFileColdBenchmark(),
          FaultSwapinBenchmark(),
          ForkMappedBenchmark(),
          ForkFaultContentionBenchmark(),
          MmapWriterContentionBenchmark(),
      };
  return *definitions;
}

}  // namespace faultline::agent::bench
