#include "agent/bench/host_memory.h"

#include <errno.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace faultline::agent::bench {

size_t PageSize() {
  static const size_t page_size = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return page_size;
}

absl::StatusOr<ThpMode> ParseThpMode(const std::string& value) {
  if (value == "default") return ThpMode::kDefault;
  if (value == "hugepage") return ThpMode::kHugepage;
  if (value == "nohugepage") return ThpMode::kNohugepage;
  return absl::InvalidArgumentError(
      absl::StrCat("thp: '", value, "' is not one of default, hugepage, nohugepage"));
}

int ThpAdvice(ThpMode mode) {
  switch (mode) {
    case ThpMode::kHugepage:
      return MADV_HUGEPAGE;
    case ThpMode::kNohugepage:
      return MADV_NOHUGEPAGE;
    case ThpMode::kDefault:
      break;
  }
  return 0;
}

absl::Status ApplyThpMode(void* addr, size_t len, ThpMode mode) {
  if (mode == ThpMode::kDefault) return absl::OkStatus();
  const int advice = mode == ThpMode::kHugepage ? MADV_HUGEPAGE : MADV_NOHUGEPAGE;
  if (madvise(addr, len, advice) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("madvise(", mode == ThpMode::kHugepage ? "MADV_HUGEPAGE" : "MADV_NOHUGEPAGE",
                     "): ", strerror(errno)));
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> MeminfoBytes(const std::string& field) {
  FILE* f = fopen("/proc/meminfo", "re");
  if (f == nullptr) return absl::UnavailableError(absl::StrCat("/proc/meminfo: ", strerror(errno)));
  char name[64];
  unsigned long long kib = 0;
  absl::StatusOr<uint64_t> result =
      absl::NotFoundError(absl::StrCat("/proc/meminfo has no ", field));
  for (int line = 0; line < 256 && fscanf(f, "%63[^:]: %llu%*[^\n]\n", name, &kib) == 2; ++line) {
    if (field == name) {
      result = static_cast<uint64_t>(kib) * 1024;
      break;
    }
  }
  fclose(f);
  return result;
}

absl::Status SwapHolds(uint64_t bytes) {
  absl::StatusOr<uint64_t> swap = MeminfoBytes("SwapTotal");
  if (!swap.ok()) return swap.status();
  if (*swap == 0) return absl::FailedPreconditionError("no swap");
  if (*swap < bytes) {
    return absl::FailedPreconditionError(
        absl::StrCat("swap (", *swap >> 20, " MiB) is smaller than the region to page out"));
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> IsMemoryBackedFilesystem(const std::string& path) {
  struct statfs fs;
  if (statfs(path.c_str(), &fs) != 0) {
    return absl::FailedPreconditionError(absl::StrCat("statfs(", path, "): ", strerror(errno)));
  }
  return fs.f_type == TMPFS_MAGIC || fs.f_type == RAMFS_MAGIC;
}

}  // namespace faultline::agent::bench
