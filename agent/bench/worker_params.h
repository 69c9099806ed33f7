// Reads the shared worker parameters (threads, mode, pin_cpus) of a run into WorkerOptions.
#ifndef FAULTLINE_AGENT_BENCH_WORKER_PARAMS_H_
#define FAULTLINE_AGENT_BENCH_WORKER_PARAMS_H_

#include "agent/bench/benchmark_definition.h"
#include "agent/bench/workers.h"

namespace faultline::agent::bench {

// Workers = the "threads" parameter, mode = "mode" (thread unless "process"), pinning =
// "pin_cpus", deadline = the run's.
WorkerOptions WorkerOptionsFor(const RunContext& context);

}  // namespace faultline::agent::bench

#endif  // FAULTLINE_AGENT_BENCH_WORKER_PARAMS_H_
