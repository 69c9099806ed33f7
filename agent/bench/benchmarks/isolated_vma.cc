#include "agent/bench/benchmarks/isolated_vma.h"

#include <errno.h>
#include <sys/mman.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "agent/bench/host_memory.h"

namespace faultline::agent::bench::benchmarks {
namespace {

// The reservation's flags: Release() must map with exactly these, or the released range would
// not merge back with the guards.
constexpr int kReservationFlags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;

}  // namespace

absl::StatusOr<std::unique_ptr<IsolatedVma>> IsolatedVma::Reserve(size_t bytes) {
  const size_t page = PageSize();
  const size_t size = (bytes + page - 1) / page * page;
  const size_t total = size + 2 * page;
  void* p = mmap(nullptr, total, PROT_NONE, kReservationFlags, -1, 0);
  if (p == MAP_FAILED) {
    return absl::ResourceExhaustedError(
        absl::StrCat("mmap ", total, " bytes of reservation: ", strerror(errno)));
  }
  char* base = static_cast<char*>(p);
  return std::unique_ptr<IsolatedVma>(new IsolatedVma(base, total, base + page, size));
}

IsolatedVma::~IsolatedVma() { munmap(base_, total_); }

bool IsolatedVma::Map(int prot) {
  return mmap(data_, size_, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != MAP_FAILED;
}

bool IsolatedVma::Release() {
  return mmap(data_, size_, PROT_NONE, kReservationFlags | MAP_FIXED, -1, 0) != MAP_FAILED;
}

}  // namespace faultline::agent::bench::benchmarks
