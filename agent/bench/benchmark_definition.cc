#include "agent/bench/benchmark_definition.h"

namespace faultline::agent::bench {

void AddMetric(RepetitionResult& out, const std::string& name, double value) {
  out.metrics.push_back({name, value});
}

}  // namespace faultline::agent::bench
