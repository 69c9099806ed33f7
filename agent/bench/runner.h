// The runner's API: the catalog, parameter resolution and runs, for whoever runs benchmarks (the
// agent's benchmark child, the faultline-bench command). Plain C++: no gRPC, no protobuf, so a
// benchmark can be built and run on a test box with nothing but this library.
#ifndef FAULTLINE_AGENT_BENCH_RUNNER_H_
#define FAULTLINE_AGENT_BENCH_RUNNER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/bench/benchmark_types.h"

namespace faultline::agent::bench {

// Every benchmark this build can run, in a stable order.
const std::vector<BenchmarkInfo>& Catalog();

// The catalog entry named `name`, or nullptr.
const BenchmarkInfo* FindBenchmark(const std::string& name);

// Checks `given` against the benchmark's parameter specs (unknown names, types, bounds, enum
// choices) and fills in defaults. Errors are INVALID_ARGUMENT naming the parameter.
absl::StatusOr<Params> ResolveParams(const std::string& name, const Params& given);

// Runs `benchmark`, an entry of Catalog() (as FindBenchmark returns it), in the calling process.
// `params` are checked and completed as ResolveParams does; the run fails with the error when
// they do not resolve. Meant to be called in a child process dedicated to the run: benchmarks
// map memory, fork and start threads.
RunOutput RunBenchmark(const BenchmarkInfo& benchmark, const Params& params,
                       const RunOptions& options);
// The same for the catalog entry named `name`; a run of an unknown benchmark fails.
RunOutput RunBenchmark(const std::string& name, const Params& params, const RunOptions& options);

}  // namespace faultline::agent::bench

#endif  // FAULTLINE_AGENT_BENCH_RUNNER_H_
