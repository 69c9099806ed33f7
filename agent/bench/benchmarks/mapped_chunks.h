// A forking parent's memory: touched anonymous memory split into a given number of VMAs, which
// fork() must each write-lock and copy (page tables included).
#ifndef FAULTLINE_AGENT_BENCH_BENCHMARKS_MAPPED_CHUNKS_H_
#define FAULTLINE_AGENT_BENCH_BENCHMARKS_MAPPED_CHUNKS_H_

#include <cstddef>
#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"

namespace faultline::agent::bench::benchmarks {

// `vmas` chunks of at least one page, together touched_bytes (rounded up to pages per chunk),
// separated by one-page holes so that they cannot merge. Every page is written once.
class MappedChunks {
 public:
  static absl::StatusOr<std::unique_ptr<MappedChunks>> Create(size_t touched_bytes, int vmas,
                                                              int thp_advice);
  ~MappedChunks();
  MappedChunks(const MappedChunks&) = delete;
  MappedChunks& operator=(const MappedChunks&) = delete;

  // What Create(touched_mib MiB, ...) takes from the host's memory: the pages plus the page
  // tables of the parent and of one forked child, rounded up generously.
  static uint64_t MemoryBytes(int64_t touched_mib);

  // The address range the chunks and their holes span.
  char* begin() const { return base_; }
  size_t span() const { return total_; }

 private:
  MappedChunks(char* base, size_t total) : base_(base), total_(total) {}
  char* base_;
  size_t total_;
};

}  // namespace faultline::agent::bench::benchmarks

#endif  // FAULTLINE_AGENT_BENCH_BENCHMARKS_MAPPED_CHUNKS_H_
