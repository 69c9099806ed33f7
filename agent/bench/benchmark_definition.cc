#include "agent/bench/benchmark_definition.h"

namespace faultline::agent::bench {

void AddMetric(RepetitionResult& out, const std::string& name, double value) {
  out.metrics.push_back({name, value});
}

void AddTaskScope(RepetitionResult& out, int tid, const std::string& scope, uint64_t ops) {
  out.task_scopes[tid] = scope;
  out.scope_ops[scope] += ops;
}

}  // namespace faultline::agent::bench
