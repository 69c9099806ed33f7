#include "agent/bench/scratch_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "agent/bench/cycle_clock.h"
#include "agent/bench/host_limits.h"

namespace faultline::agent::bench {

std::string ScratchDirectory() {
  const char* dir = getenv("FAULTLINE_BENCH_DIR");
  return dir != nullptr && dir[0] != '\0' ? dir : "/var/tmp";
}

namespace {

// A file with no name, so a run killed at any point leaves nothing in `dir`: O_TMPFILE where
// the filesystem has it, else a unique name unlinked at once.
int OpenNameless(const std::string& dir) {
  const int fd = open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)) return fd;
  std::string path = dir + "/faultline-bench-XXXXXX";
  std::vector<char> name(path.begin(), path.end());
  name.push_back('\0');
  const int named = mkostemp(name.data(), O_CLOEXEC);
  if (named >= 0) unlink(name.data());
  return named;
}

}  // namespace

ScratchFileOptions ScratchOptionsFor(const RunContext& context) {
  ScratchFileOptions options;
  options.max_free_share = context.max_scratch_share;
  options.deadline_ns = context.deadline_ns;
  return options;
}

absl::StatusOr<std::unique_ptr<ScratchFile>> ScratchFile::Create(
    const std::string& dir, size_t bytes, const ScratchFileOptions& options) {
  if (options.fill) {
    absl::Status space = CheckScratchSpace(dir, bytes, options.max_free_share);
    if (!space.ok()) return space;
  }
  const int fd = OpenNameless(dir);
  if (fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create a scratch file in ", dir, ": ", strerror(errno),
                     " (set FAULTLINE_BENCH_DIR)"));
  }
  std::unique_ptr<ScratchFile> file(new ScratchFile(fd, bytes));
  if (ftruncate(fd, static_cast<off_t>(bytes)) != 0) {
    return absl::ResourceExhaustedError(absl::StrCat("ftruncate scratch file to ", bytes,
                                                     " bytes: ", strerror(errno)));
  }
  if (!options.fill) return file;
  std::vector<char> chunk(1 << 20, 'f');
  for (size_t off = 0; off < bytes;) {
    if (options.deadline_ns > 0 && off % (size_t{64} << 20) == 0 &&
        MonotonicNowNs() > options.deadline_ns) {
      return absl::DeadlineExceededError(
          absl::StrCat("time limit reached writing a scratch file of ", bytes, " bytes"));
    }
    const size_t n = std::min(chunk.size(), bytes - off);
    const ssize_t w = pwrite(fd, chunk.data(), n, static_cast<off_t>(off));
    if (w <= 0) {
      return absl::ResourceExhaustedError(
          absl::StrCat("writing scratch file in ", dir, ": ", strerror(errno)));
    }
    off += static_cast<size_t>(w);
  }
  if (fsync(fd) != 0) {
    return absl::InternalError(absl::StrCat("fsync scratch file: ", strerror(errno)));
  }
  return file;
}

ScratchFile::~ScratchFile() { close(fd_); }

bool ScratchFile::Evict() const {
  fdatasync(fd_);
  return posix_fadvise(fd_, 0, 0, POSIX_FADV_DONTNEED) == 0;
}

absl::Status ScratchFile::Warm() const {
  std::vector<char> chunk(1 << 20);
  for (size_t off = 0; off < size_;) {
    const ssize_t r = pread(fd_, chunk.data(), chunk.size(), static_cast<off_t>(off));
    if (r < 0) return absl::InternalError(absl::StrCat("reading scratch file: ", strerror(errno)));
    if (r == 0) break;
    off += static_cast<size_t>(r);
  }
  return absl::OkStatus();
}

}  // namespace faultline::agent::bench
