// Pure parsers for the kernel interface files a host fingerprint is built from. Kept apart from
// the file reading so each is tested on fixture text from real machines.
#ifndef FAULTLINE_AGENT_FINGERPRINT_PARSE_H_
#define FAULTLINE_AGENT_FINGERPRINT_PARSE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "proto/faultline/v1/host.pb.h"

namespace faultline::agent {

// uname(2) machine ("x86_64", "aarch64", "arm64") to the API's Arch.
v1::Arch ArchFromMachine(absl::string_view machine);


struct CpuInfo {
  // "model name" on x86_64; "arm-<implementer>-<part>" built from the first CPU's
  // "CPU implementer"/"CPU part" on arm64 (whose cpuinfo has no model name). Empty if neither.
  std::string model;
  // The x86 "hypervisor" CPUID flag appears in "flags".
  bool hypervisor_flag = false;
  // Number of "processor" entries.
  int processors = 0;
};

CpuInfo ParseCpuInfo(absl::string_view text);

// Value of a /proc/meminfo line such as "MemTotal:  24522340 kB", in bytes.
std::optional<uint64_t> ParseMeminfoBytes(absl::string_view text, absl::string_view key);

// The bracketed choice of a sysfs mode file: "always [madvise] never" -> "madvise". Empty when
// nothing is bracketed.
std::string ParseBracketedChoice(absl::string_view text);

// Whether /proc/vmstat has the vma_lock_* counters (CONFIG_PER_VMA_LOCK_STATS).
bool HasVmaLockStats(absl::string_view vmstat);

// A sysctl file's content with surrounding whitespace removed and inner runs of whitespace
// (e.g. the tabs of kernel.printk) collapsed to one space.
std::string NormalizeSysctl(absl::string_view text);

// TCG is told apart from a hardware-assisted guest by qemu's CPU model string ("QEMU Virtual
// CPU", "QEMU TCG CPU") together with the absence of a paravirtual clock (kvm-clock), which a
// KVM guest always offers.
v1::Virtualization ClassifyVirtualization(const CpuInfo& cpu, bool kvm_clock_available);

// "AMD EPYC 7B13 64-Core Processor" -> "amd-epyc-7b13-64-core-processor".
std::string Slugify(absl::string_view text);

// "<arch>-<cpu model slug>-<n>cpu-<GiB>g-<virt>", virt being "bare", "hvm", "tcg" or, for an
// instruction-counting TCG guest, "icount<shift>" (its times are not real time: a class of their
// own per shift). Memory is rounded to the nearest GiB so hosts of one shape agree although
// MemTotal varies by a few MiB.
std::string DeriveHostClass(v1::Arch arch, absl::string_view cpu_model, uint32_t cpu_count,
                            uint64_t memory_bytes, v1::Virtualization virtualization,
                            uint32_t icount_shift);

}  // namespace faultline::agent

#endif  // FAULTLINE_AGENT_FINGERPRINT_PARSE_H_
