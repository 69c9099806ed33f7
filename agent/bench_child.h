// The agent's hidden benchmark-child mode. The daemon re-executes its own binary as
// `<agent> --bench_child` for every run, so each benchmark starts in a fresh single-threaded
// process (the daemon has gRPC threads; forking it would copy their locks mid-state).
//
// Protocol: the parent writes a serialized faultline.v1.BenchmarkInvocation to the child's stdin
// (repetitions already defaulted by the parent) and closes it. The child writes one serialized
// faultline.v1.RunResult to stdout and exits 0; benchmark, params (defaults included), state,
// diagnostic, repetitions, timer overhead and warm-up are filled, host and timestamps are not.
// Anything else the benchmark prints goes to stderr.
#ifndef FAULTLINE_AGENT_BENCH_CHILD_H_
#define FAULTLINE_AGENT_BENCH_CHILD_H_

#include <string>

#include "proto/faultline/v1/benchmark.pb.h"

namespace faultline::agent {

// The argument that selects the child mode; must be argv[1].
inline constexpr char kBenchChildFlag[] = "--bench_child";

// Resolves and runs the invocation in this process. Bad requests (unknown benchmark, wrong
// parameter types, out-of-bounds values) come back as RUN_STATE_FAILED with the reason; runs the
// host guards refuse (memory, threads, scratch space) as RUN_STATE_REFUSED naming the parameter.
// timeout_seconds (when set) is the benchmark's time limit: a run that reaches it comes back as
// RUN_STATE_TIMED_OUT, "timeout: ..." in the diagnostic, with the repetitions completed before.
v1::RunResult RunInvocation(const v1::BenchmarkInvocation& invocation);

// Entry point of the child mode: stdin to stdout as above. Returns the process exit code.
int BenchChildMain();

}  // namespace faultline::agent

#endif  // FAULTLINE_AGENT_BENCH_CHILD_H_
