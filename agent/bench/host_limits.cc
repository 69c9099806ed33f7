#include "agent/bench/host_limits.h"

#include <errno.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "agent/bench/host_memory.h"
#include "agent/bench/params.h"

namespace faultline::agent::bench {
namespace {

double Mib(uint64_t bytes) { return static_cast<double>(bytes) / 1048576.0; }

std::string Percent(double share) { return absl::StrFormat("%.0f%%", share * 100); }

bool ShareIsValid(double share) { return std::isfinite(share) && share > 0 && share <= 1; }

}  // namespace

int64_t OnlineCpus() {
  const long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? n : 1;
}

absl::StatusOr<uint64_t> FreeBytesAt(const std::string& dir) {
  struct statvfs fs;
  if (statvfs(dir.c_str(), &fs) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("statvfs(", dir, "): ", strerror(errno), " (set FAULTLINE_BENCH_DIR)"));
  }
  return static_cast<uint64_t>(fs.f_bavail) * static_cast<uint64_t>(fs.f_frsize);
}

ResourceDemand RegionPerWorkerDemand(const Params& params) {
  const int64_t threads = GetInt(params, "threads");
  const int64_t region_mib = GetInt(params, "region_mib");
  ResourceDemand demand;
  demand.memory_bytes = static_cast<uint64_t>(threads) * static_cast<uint64_t>(region_mib) << 20;
  demand.memory_from =
      absl::StrCat("region_mib x threads (", region_mib, " MiB x ", threads, ")");
  demand.tasks = threads;
  demand.tasks_from = absl::StrCat("threads (", threads, ")");
  return demand;
}

absl::StatusOr<HostCapacity> ReadHostCapacity(const std::string& scratch_dir) {
  HostCapacity host;
  absl::StatusOr<uint64_t> available = MeminfoBytes("MemAvailable");
  if (!available.ok()) return available.status();
  host.mem_available_bytes = *available;
  host.online_cpus = OnlineCpus();
  host.scratch_dir = scratch_dir;
  if (!scratch_dir.empty()) {
    absl::StatusOr<uint64_t> free_bytes = FreeBytesAt(scratch_dir);
    if (!free_bytes.ok()) return free_bytes.status();
    host.scratch_free_bytes = *free_bytes;
  }
  return host;
}

absl::Status ValidateLimits(const HostLimits& limits) {
  if (!ShareIsValid(limits.max_memory_share)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "max_memory_share: %g is out of range (0, 1]", limits.max_memory_share));
  }
  if (!ShareIsValid(limits.max_scratch_share)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "max_scratch_share: %g is out of range (0, 1]", limits.max_scratch_share));
  }
  if (limits.max_tasks_per_cpu < 1 || limits.max_tasks < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_tasks_per_cpu (", limits.max_tasks_per_cpu, ") and max_tasks (",
                     limits.max_tasks, ") must be at least 1"));
  }
  return absl::OkStatus();
}

absl::Status CheckDemand(const ResourceDemand& demand, const HostLimits& limits,
                         const HostCapacity& host) {
  if (absl::Status valid = ValidateLimits(limits); !valid.ok()) return valid;

  const double memory_limit =
      limits.max_memory_share * static_cast<double>(host.mem_available_bytes);
  if (static_cast<double>(demand.memory_bytes) > memory_limit) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "%s needs %.0f MiB, more than %s of MemAvailable (%.0f of %.0f MiB)", demand.memory_from,
        Mib(demand.memory_bytes), Percent(limits.max_memory_share), Mib(memory_limit),
        Mib(host.mem_available_bytes)));
  }

  const int64_t cpus = std::max<int64_t>(1, host.online_cpus);
  const int64_t task_limit = std::min(limits.max_tasks, limits.max_tasks_per_cpu * cpus);
  if (demand.tasks > task_limit) {
    return absl::ResourceExhaustedError(absl::StrCat(
        demand.tasks_from, " runs ", demand.tasks, " threads/processes at once, more than ",
        task_limit, " (", limits.max_tasks_per_cpu, " per online CPU x ", cpus,
        " CPUs, at most ", limits.max_tasks, ")"));
  }

  if (demand.scratch_bytes > 0) {
    const double scratch_limit =
        limits.max_scratch_share * static_cast<double>(host.scratch_free_bytes);
    if (static_cast<double>(demand.scratch_bytes) > scratch_limit) {
      return absl::ResourceExhaustedError(absl::StrFormat(
          "%s writes %.0f MiB to %s, more than %s of its free space (%.0f of %.0f MiB)",
          demand.scratch_from, Mib(demand.scratch_bytes), host.scratch_dir,
          Percent(limits.max_scratch_share), Mib(scratch_limit), Mib(host.scratch_free_bytes)));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckScratchSpace(const std::string& dir, uint64_t bytes, double max_share) {
  absl::StatusOr<uint64_t> free_bytes = FreeBytesAt(dir);
  if (!free_bytes.ok()) return free_bytes.status();
  const double limit = max_share * static_cast<double>(*free_bytes);
  if (static_cast<double>(bytes) <= limit) return absl::OkStatus();
  return absl::ResourceExhaustedError(absl::StrFormat(
      "a %.0f MiB scratch file is more than %s of the free space in %s (%.0f of %.0f MiB)",
      Mib(bytes), Percent(max_share), dir, Mib(limit), Mib(*free_bytes)));
}

}  // namespace faultline::agent::bench
