// What a benchmark needs to know about the host's memory: page size, THP control, how much
// memory may be used, and whether swap exists.
#ifndef FAULTLINE_AGENT_BENCH_HOST_MEMORY_H_
#define FAULTLINE_AGENT_BENCH_HOST_MEMORY_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace faultline::bench {

// The base page size (sysconf), never assumed.
size_t PageSize();

enum class ThpMode { kDefault, kHugepage, kNohugepage };

// Parses the "thp" parameter value: default | hugepage | nohugepage.
absl::StatusOr<ThpMode> ParseThpMode(const std::string& value);

// The madvise advice for `mode` (MADV_HUGEPAGE / MADV_NOHUGEPAGE), or 0 for kDefault.
int ThpAdvice(ThpMode mode);

// madvise(MADV_HUGEPAGE / MADV_NOHUGEPAGE) on [addr, addr + len); no-op for kDefault.
absl::Status ApplyThpMode(void* addr, size_t len, ThpMode mode);

// A field of /proc/meminfo in bytes ("MemAvailable", "SwapTotal", ...).
absl::StatusOr<uint64_t> MeminfoBytes(const std::string& field);

// OK when `needed_bytes` is at most `max_share` of MemAvailable; otherwise RESOURCE_EXHAUSTED
// saying how much the run needs and what the limit is.
absl::Status CheckMemoryGuard(uint64_t needed_bytes, double max_share);

// Same check against a given MemAvailable (for tests).
absl::Status CheckMemoryGuardAgainst(uint64_t needed_bytes, double max_share,
                                     uint64_t mem_available_bytes);

// Whether `path` lives on tmpfs/ramfs, where there is no I/O to wait for.
absl::StatusOr<bool> IsMemoryBackedFilesystem(const std::string& path);

}  // namespace faultline::bench

#endif  // FAULTLINE_AGENT_BENCH_HOST_MEMORY_H_
