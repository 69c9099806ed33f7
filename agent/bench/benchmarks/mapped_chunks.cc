#include "agent/bench/benchmarks/mapped_chunks.h"

#include <errno.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "agent/bench/host_memory.h"

namespace faultline::agent::bench::benchmarks {

absl::StatusOr<std::unique_ptr<MappedChunks>> MappedChunks::Create(size_t touched_bytes,
                                                                   int vmas, int thp_advice) {
  const size_t page = PageSize();
  const size_t chunk =
      std::max(page, (touched_bytes / static_cast<size_t>(vmas) + page - 1) / page * page);
  const size_t stride = chunk + page;
  const size_t total = stride * static_cast<size_t>(vmas);
  void* p = mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    return absl::ResourceExhaustedError(absl::StrCat("mmap ", total, " bytes: ", strerror(errno)));
  }
  std::unique_ptr<MappedChunks> chunks(new MappedChunks(static_cast<char*>(p), total));
  for (int i = 0; i < vmas; ++i) {
    char* start = chunks->base_ + stride * static_cast<size_t>(i);
    if (munmap(start + chunk, page) != 0) {
      return absl::InternalError(absl::StrCat("munmap hole: ", strerror(errno)));
    }
    if (thp_advice != 0) madvise(start, chunk, thp_advice);
    for (size_t off = 0; off < chunk; off += page) start[off] = 1;
  }
  return chunks;
}

MappedChunks::~MappedChunks() { munmap(base_, total_); }

uint64_t MappedChunks::MemoryBytes(int64_t touched_mib) {
  // The child exits at once and touches nothing, so no page is copied; page tables are a small
  // fraction of the pages.
  return (static_cast<uint64_t>(touched_mib) << 20) * 102 / 100 + (uint64_t{4} << 20);
}

}  // namespace faultline::agent::bench::benchmarks
