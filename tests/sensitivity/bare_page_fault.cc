// The reference fault_anon is held against: will-it-scale's page_fault1 loop with nothing around
// it (no worker harness, no counters, no start line): map a region, write one byte per page, unmap
// it, and time the whole with CLOCK_MONOTONIC, as fault_anon's busy time does.
//
//   bare_page_fault REGION_MIB WARMUP REPETITIONS
//
// Prints one line per measured repetition: nanoseconds per page touched.
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace {

long long NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: bare_page_fault REGION_MIB WARMUP REPETITIONS\n");
    return 2;
  }
  const size_t bytes = static_cast<size_t>(std::atol(argv[1])) << 20;
  const int warmup = std::atoi(argv[2]);
  const int repetitions = std::atoi(argv[3]);
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  if (bytes == 0 || repetitions < 1 || warmup < 0) return 2;
  for (int i = 0; i < warmup + repetitions; ++i) {
    const long long start = NowNs();
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      std::perror("mmap");
      return 1;
    }
    volatile char* region = static_cast<char*>(p);
    for (size_t off = 0; off < bytes; off += page) region[off] = 1;
    munmap(p, bytes);
    const long long ns = NowNs() - start;
    if (i >= warmup) std::printf("%.3f\n", static_cast<double>(ns) / (bytes / page));
  }
  return 0;
}
