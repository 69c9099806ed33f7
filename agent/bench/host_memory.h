// What a benchmark needs to know about the host's memory: page size, THP control, /proc/meminfo
// (MemAvailable, swap) and whether a directory is memory-backed.
#ifndef FAULTLINE_AGENT_BENCH_HOST_MEMORY_H_
#define FAULTLINE_AGENT_BENCH_HOST_MEMORY_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace faultline::agent::bench {

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

// OK when swap can hold `bytes` paged out; FAILED_PRECONDITION (the run is skipped) saying "no
// swap" or how much there is otherwise.
absl::Status SwapHolds(uint64_t bytes);

// Whether `path` lives on tmpfs/ramfs, where there is no I/O to wait for.
absl::StatusOr<bool> IsMemoryBackedFilesystem(const std::string& path);

}  // namespace faultline::agent::bench

#endif  // FAULTLINE_AGENT_BENCH_HOST_MEMORY_H_
