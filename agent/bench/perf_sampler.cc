#include "agent/bench/perf_sampler.h"

#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"

namespace faultline::agent::bench {
namespace {

int OpenOnCpu(const PerfSampler::Options& options, int cpu) {
  perf_event_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.size = sizeof(attr);
  attr.type = PERF_TYPE_SOFTWARE;
  attr.config = PERF_COUNT_SW_CPU_CLOCK;
  attr.sample_period = 1'000'000'000ULL / options.frequency_hz;
  attr.sample_type = PERF_SAMPLE_IP | PERF_SAMPLE_CALLCHAIN;
  attr.disabled = 1;
  // The workers are threads and processes the runner starts after this.
  attr.inherit = 1;
  attr.exclude_hv = 1;
  // User-space samples are kept (they are the rest of the benchmark's time, the base of every
  // share) but without their call chains, which the profile does not use.
  attr.exclude_callchain_user = 1;
  attr.sample_max_stack = options.max_stack;
  return static_cast<int>(
      syscall(SYS_perf_event_open, &attr, 0, cpu, -1, PERF_FLAG_FD_CLOEXEC));
}

std::string ParanoidLevel() {
  std::ifstream in("/proc/sys/kernel/perf_event_paranoid");
  std::string level;
  if (in >> level) return absl::StrCat(" (kernel.perf_event_paranoid ", level, ")");
  return "";
}

// CPUs the kernel has (online or not: a CPU brought online later would otherwise go unsampled;
// opening on an offline one fails and is skipped).
int PossibleCpus() {
  const long n = sysconf(_SC_NPROCESSORS_CONF);
  return n > 0 ? static_cast<int>(n) : 1;
}

}  // namespace

absl::StatusOr<std::unique_ptr<PerfSampler>> PerfSampler::Open(const Options& options) {
  if (options.frequency_hz < 1 || options.frequency_hz > 100000) {
    return absl::InvalidArgumentError("frequency_hz: out of range [1, 100000]");
  }
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  size_t pages = 1;
  while (pages * 2 * page <= options.buffer_bytes_per_cpu) pages *= 2;
  std::unique_ptr<PerfSampler> sampler(new PerfSampler);
  int first_errno = 0;
  for (int cpu = 0; cpu < PossibleCpus(); ++cpu) {
    const int fd = OpenOnCpu(options, cpu);
    if (fd < 0) {
      if (first_errno == 0) first_errno = errno;
      continue;
    }
    Cpu c;
    c.fd = fd;
    c.map_bytes = (pages + 1) * page;
    c.map = mmap(nullptr, c.map_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (c.map == MAP_FAILED) {
      const int e = errno;
      close(fd);
      return absl::UnavailableError(
          absl::StrCat("mmap of the perf ring buffer (", c.map_bytes, " bytes): ", strerror(e)));
    }
    sampler->cpus_.push_back(c);
  }
  if (sampler->cpus_.empty()) {
    std::string why = strerror(first_errno);
    if (first_errno == EACCES || first_errno == EPERM) why += ParanoidLevel();
    if (first_errno == ENOENT || first_errno == ENOSYS || first_errno == EOPNOTSUPP) {
      why += " (a kernel without CONFIG_PERF_EVENTS?)";
    }
    return absl::UnavailableError(
        absl::StrCat("perf_event_open(cpu-clock sampling with kernel call chains): ", why));
  }
  return sampler;
}

PerfSampler::~PerfSampler() {
  for (Cpu& c : cpus_) {
    munmap(c.map, c.map_bytes);
    close(c.fd);
  }
}

absl::Status PerfSampler::Start() {
  for (Cpu& c : cpus_) {
    if (ioctl(c.fd, PERF_EVENT_IOC_ENABLE, 0) != 0) {
      return absl::InternalError(absl::StrCat("enabling the profiler: ", strerror(errno)));
    }
  }
  return absl::OkStatus();
}

absl::Status PerfSampler::Stop() {
  for (Cpu& c : cpus_) {
    if (ioctl(c.fd, PERF_EVENT_IOC_DISABLE, 0) != 0) {
      return absl::InternalError(absl::StrCat("disabling the profiler: ", strerror(errno)));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> PerfSampler::Drain(const PerfSampleFn& fn) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  uint64_t lost = 0;
  std::vector<char> record;
  for (Cpu& c : cpus_) {
    auto* meta = static_cast<perf_event_mmap_page*>(c.map);
    const char* data = static_cast<const char*>(c.map) + page;
    const uint64_t size = c.map_bytes - page;
    const uint64_t head = __atomic_load_n(&meta->data_head, __ATOMIC_ACQUIRE);
    uint64_t tail = meta->data_tail;
    while (tail + sizeof(perf_event_header) <= head) {
      perf_event_header header;
      for (size_t i = 0; i < sizeof(header); ++i) {
        reinterpret_cast<char*>(&header)[i] = data[(tail + i) % size];
      }
      if (header.size < sizeof(header) || tail + header.size > head) break;
      // A record may wrap around the end of the buffer: copied out whole.
      record.resize(header.size);
      for (size_t i = 0; i < header.size; ++i) record[i] = data[(tail + i) % size];
      tail += header.size;
      const char* body = record.data() + sizeof(header);
      const size_t body_size = header.size - sizeof(header);
      if (header.type == PERF_RECORD_LOST && body_size >= 16) {
        uint64_t n;
        memcpy(&n, body + 8, sizeof(n));  // id, lost
        lost += n;
        continue;
      }
      if (header.type != PERF_RECORD_SAMPLE || body_size < 16) continue;
      // PERF_SAMPLE_IP | PERF_SAMPLE_CALLCHAIN: ip, nr, ips[nr].
      uint64_t ip, nr;
      memcpy(&ip, body, sizeof(ip));
      memcpy(&nr, body + 8, sizeof(nr));
      if (16 + nr * 8 > body_size) continue;
      const bool kernel =
          (header.misc & PERF_RECORD_MISC_CPUMODE_MASK) == PERF_RECORD_MISC_KERNEL;
      if (!kernel) {
        fn(false, nullptr, 0);
        continue;
      }
      // The chain opens with a PERF_CONTEXT_KERNEL marker, then the interrupted address; the
      // markers (values above -4096) are dropped.
      std::vector<uint64_t> chain;
      chain.reserve(nr);
      for (uint64_t i = 0; i < nr; ++i) {
        uint64_t a;
        memcpy(&a, body + 16 + i * 8, sizeof(a));
        if (a >= static_cast<uint64_t>(PERF_CONTEXT_MAX)) continue;
        chain.push_back(a);
      }
      if (chain.empty()) chain.push_back(ip);
      fn(true, chain.data(), chain.size());
    }
    __atomic_store_n(&meta->data_tail, tail, __ATOMIC_RELEASE);
  }
  return lost;
}

}  // namespace faultline::agent::bench
