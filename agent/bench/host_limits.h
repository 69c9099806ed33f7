// What a run may take from a test box. Every benchmark declares, from its parameters alone,
// the memory it will touch, the bytes it will write to scratch files and the threads/processes
// it will run at once; the runner compares that with the host before anything is mapped,
// written or started, and refuses a run that could OOM the box, fill its disk or fork-bomb it.
#ifndef FAULTLINE_AGENT_BENCH_HOST_LIMITS_H_
#define FAULTLINE_AGENT_BENCH_HOST_LIMITS_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "agent/bench/benchmark_types.h"

namespace faultline::agent::bench {

// A run's declared needs. Each `*_from` says which parameters the figure follows from, with
// their values ("region_mib x threads (64 MiB x 8)"), so a refusal names what to change.
struct ResourceDemand {
  // Peak bytes touched at once: anonymous pages, the page cache of the run's files, copies
  // made per worker.
  uint64_t memory_bytes = 0;
  std::string memory_from;
  // Bytes written to files in the scratch directory (sparse files count nothing).
  uint64_t scratch_bytes = 0;
  std::string scratch_from;
  // Threads and processes running at once besides the runner: workers, disturbers, children.
  int64_t tasks = 1;
  std::string tasks_from;
};

// The common shape: `threads` workers each touching its own `region_mib` region at once.
ResourceDemand RegionPerWorkerDemand(const Params& params);

// What the host has now.
struct HostCapacity {
  uint64_t mem_available_bytes = 0;
  int64_t online_cpus = 1;
  // Free bytes an unprivileged writer may use on the scratch filesystem (statvfs f_bavail).
  uint64_t scratch_free_bytes = 0;
  std::string scratch_dir;
};

// How much of it one run may take.
struct HostLimits {
  double max_memory_share = 0.5;
  double max_scratch_share = 0.5;
  int64_t max_tasks_per_cpu = 4;
  // Whatever the CPU count, never more tasks than this.
  int64_t max_tasks = 512;
};

// MemAvailable, the online CPU count and, when `scratch_dir` is not empty, its free space.
absl::StatusOr<HostCapacity> ReadHostCapacity(const std::string& scratch_dir);

// Free bytes an unprivileged writer may use on the filesystem holding `dir`.
absl::StatusOr<uint64_t> FreeBytesAt(const std::string& dir);

// sysconf(_SC_NPROCESSORS_ONLN), at least 1.
int64_t OnlineCpus();

// OK when `demand` fits `limits` on `host`; otherwise RESOURCE_EXHAUSTED naming the parameters
// and the numbers: "region_mib x threads (65536 MiB x 2) needs 131072 MiB, more than 50% of
// MemAvailable (1560 of 3120 MiB)". Memory is checked first, then tasks, then scratch space.
absl::Status CheckDemand(const ResourceDemand& demand, const HostLimits& limits,
                         const HostCapacity& host);

// A file of `bytes` about to be written to `dir`: OK when it is at most `max_share` of the free
// space there now. The runner has checked the run's total already; this is the last word before
// each file is written.
absl::Status CheckScratchSpace(const std::string& dir, uint64_t bytes, double max_share);

// The limits themselves must make sense (shares in (0, 1], positive task caps).
absl::Status ValidateLimits(const HostLimits& limits);

}  // namespace faultline::agent::bench

#endif  // FAULTLINE_AGENT_BENCH_HOST_LIMITS_H_
