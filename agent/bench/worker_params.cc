#include "agent/bench/worker_params.h"

#include "agent/bench/params.h"

namespace faultline::agent::bench {

WorkerOptions WorkerOptionsFor(const RunContext& context) {
  WorkerOptions options;
  options.workers = static_cast<int>(GetInt(context.params, "threads"));
  if (options.workers < 1) options.workers = 1;
  options.mode =
      GetEnum(context.params, "mode") == "process" ? WorkerMode::kProcess : WorkerMode::kThread;
  options.pin_cpus = GetBool(context.params, "pin_cpus");
  options.deadline_ns = context.deadline_ns;
  return options;
}

}  // namespace faultline::agent::bench
