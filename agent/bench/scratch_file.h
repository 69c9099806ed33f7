// A benchmark's data file: created on a real filesystem without a name (O_TMPFILE, or unlinked
// at once), so nothing is left behind if the run is killed; filled with data and synced so its
// pages can be evicted.
#ifndef FAULTLINE_AGENT_BENCH_SCRATCH_FILE_H_
#define FAULTLINE_AGENT_BENCH_SCRATCH_FILE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "agent/bench/benchmark_definition.h"

namespace faultline::agent::bench {

// Where scratch files go: $FAULTLINE_BENCH_DIR, else /var/tmp.
std::string ScratchDirectory();

struct ScratchFileOptions {
  // false leaves the file sparse (for benchmarks that map but never touch it).
  bool fill = true;
  // A filled file larger than this share of the free space in its directory is refused
  // (RESOURCE_EXHAUSTED) before it is created.
  double max_free_share = 0.5;
  // CLOCK_MONOTONIC ns: filling stops there with DEADLINE_EXCEEDED. 0: no deadline.
  int64_t deadline_ns = 0;
};

// Filled, within the run's share of free space and its deadline.
ScratchFileOptions ScratchOptionsFor(const RunContext& context);

class ScratchFile {
 public:
  // A file of `bytes` in `dir`, every page written unless options.fill is false.
  static absl::StatusOr<std::unique_ptr<ScratchFile>> Create(
      const std::string& dir, size_t bytes, const ScratchFileOptions& options = {});
  ~ScratchFile();
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;

  int fd() const { return fd_; }
  size_t size() const { return size_; }

  // Drops the file's pages from the page cache (written back first). Not hot-loop safe only in
  // that it is a syscall pair; it does not allocate.
  bool Evict() const;
  // Reads the whole file so its pages are resident.
  absl::Status Warm() const;

 private:
  ScratchFile(int fd, size_t size) : fd_(fd), size_(size) {}
  int fd_;
  size_t size_;
};

}  // namespace faultline::agent::bench

#endif  // FAULTLINE_AGENT_BENCH_SCRATCH_FILE_H_
