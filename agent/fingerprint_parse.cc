#include "agent/fingerprint_parse.h"

#include <cctype>
#include <cmath>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "proto/faultline/v1/enum_names.h"

namespace faultline::agent {
namespace {

// Splits "key<TAB>: value" lines of /proc/cpuinfo and /proc/meminfo.
bool SplitKeyValue(absl::string_view line, absl::string_view* key, absl::string_view* value) {
  size_t colon = line.find(':');
  if (colon == absl::string_view::npos) return false;
  *key = absl::StripAsciiWhitespace(line.substr(0, colon));
  *value = absl::StripAsciiWhitespace(line.substr(colon + 1));
  return true;
}

}  // namespace

v1::Arch ArchFromMachine(absl::string_view machine) {
  if (machine == "x86_64" || machine == "amd64") return v1::ARCH_X86_64;
  if (machine == "aarch64" || machine == "arm64") return v1::ARCH_ARM64;
  return v1::ARCH_UNSPECIFIED;
}

CpuInfo ParseCpuInfo(absl::string_view text) {
  CpuInfo info;
  std::string implementer, part;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    absl::string_view key, value;
    if (!SplitKeyValue(line, &key, &value)) continue;
    if (key == "processor") {
      ++info.processors;
    } else if (key == "model name" && info.model.empty()) {
      info.model = std::string(value);
    } else if (key == "flags" && !info.hypervisor_flag) {
      for (absl::string_view flag : absl::StrSplit(value, ' ', absl::SkipEmpty())) {
        if (flag == "hypervisor") info.hypervisor_flag = true;
      }
    } else if (key == "CPU implementer" && implementer.empty()) {
      implementer = std::string(value);
    } else if (key == "CPU part" && part.empty()) {
      part = std::string(value);
    }
  }
  if (info.model.empty() && !implementer.empty()) {
    info.model = absl::StrCat("arm-", implementer, "-", part.empty() ? "unknown" : part);
  }
  return info;
}

std::optional<uint64_t> ParseMeminfoBytes(absl::string_view text, absl::string_view key) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    absl::string_view k, value;
    if (!SplitKeyValue(line, &k, &value) || k != key) continue;
    uint64_t multiplier = 1;
    if (absl::ConsumeSuffix(&value, "kB")) multiplier = 1024;
    uint64_t n = 0;
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(value), &n)) return std::nullopt;
    return n * multiplier;
  }
  return std::nullopt;
}

std::string ParseBracketedChoice(absl::string_view text) {
  size_t open = text.find('[');
  if (open == absl::string_view::npos) return "";
  size_t close = text.find(']', open);
  if (close == absl::string_view::npos) return "";
  return std::string(text.substr(open + 1, close - open - 1));
}

bool HasVmaLockStats(absl::string_view vmstat) {
  for (absl::string_view line : absl::StrSplit(vmstat, '\n')) {
    if (absl::StartsWith(line, "vma_lock_")) return true;
  }
  return false;
}

std::string NormalizeSysctl(absl::string_view text) {
  std::vector<absl::string_view> words =
      absl::StrSplit(text, absl::ByAnyChar(" \t\n\r"), absl::SkipEmpty());
  return absl::StrJoin(words, " ");
}

v1::Virtualization ClassifyVirtualization(const CpuInfo& cpu, bool kvm_clock_available) {
  if (absl::StrContains(cpu.model, "QEMU") && !kvm_clock_available) {
    return v1::VIRTUALIZATION_EMULATED;
  }
  if (cpu.hypervisor_flag || kvm_clock_available) return v1::VIRTUALIZATION_HARDWARE;
  return v1::VIRTUALIZATION_NONE;
}

std::string Slugify(absl::string_view text) {
  std::string out;
  bool pending_dash = false;
  for (char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      if (pending_dash && !out.empty()) out.push_back('-');
      pending_dash = false;
      out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    } else {
      pending_dash = true;
    }
  }
  return out.empty() ? "unknown" : out;
}

std::string DeriveHostClass(v1::Arch arch, absl::string_view cpu_model, uint32_t cpu_count,
                            uint64_t memory_bytes, v1::Virtualization virtualization,
                            uint32_t icount_shift) {
  std::string virt = "bare";
  if (virtualization == v1::VIRTUALIZATION_HARDWARE) virt = "hvm";
  if (virtualization == v1::VIRTUALIZATION_EMULATED) virt = "tcg";
  if (virtualization == v1::VIRTUALIZATION_EMULATED_ICOUNT) virt = absl::StrCat("icount", icount_shift);
  const double gib = static_cast<double>(memory_bytes) / (1024.0 * 1024.0 * 1024.0);
  // A host class always names its architecture: "unknown" where the API has no spelling.
  const std::string arch_name = v1::ArchName(arch);
  return absl::StrCat(arch_name.empty() ? "unknown" : arch_name, "-", Slugify(cpu_model), "-",
                      cpu_count, "cpu-", static_cast<int64_t>(std::llround(gib)), "g-", virt);
}

}  // namespace faultline::agent
