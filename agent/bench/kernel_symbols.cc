#include "agent/bench/kernel_symbols.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <numeric>
#include <string_view>
#include <unordered_map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace faultline::agent::bench {

absl::StatusOr<KernelSymbols> KernelSymbols::Read() {
  const int fd = open("/proc/kallsyms", O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot read /proc/kallsyms (a kernel without CONFIG_KALLSYMS?): ", strerror(errno)));
  }
  std::string text;
  char buf[1 << 16];
  // Bounded: a kernel with every module loaded lists a few hundred thousand symbols (~20 MB).
  for (int i = 0; i < 4096; ++i) {
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return Parse(text);
}

absl::StatusOr<KernelSymbols> KernelSymbols::Parse(absl::string_view text) {
  std::vector<std::pair<uint64_t, std::string>> symbols;
  bool any_line = false;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> f = absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (f.size() < 3 || f[1].size() != 1) continue;
    uint64_t address;
    if (!absl::SimpleHexAtoi(f[0], &address)) continue;
    any_line = true;
    const char type = f[1][0];
    if (type != 't' && type != 'T' && type != 'w' && type != 'W') continue;
    if (address == 0) continue;
    std::string name(f[2]);
    if (f.size() >= 4) absl::StrAppend(&name, " ", f[3]);
    symbols.emplace_back(address, std::move(name));
  }
  if (symbols.empty()) {
    return absl::UnavailableError(
        any_line ? "kernel symbol addresses are hidden (/proc/kallsyms shows zeros: "
                   "kernel.kptr_restrict, or no CAP_SYSLOG)"
                 : "/proc/kallsyms lists no symbols");
  }
  std::stable_sort(symbols.begin(), symbols.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  KernelSymbols out;
  out.starts_.reserve(symbols.size());
  out.names_.reserve(symbols.size());
  for (auto& [address, name] : symbols) {
    // Aliases at one address (_stext, _text, the first function): the last listed wins, as
    // every one of them names the same code.
    if (!out.starts_.empty() && out.starts_.back() == address) {
      out.names_.back() = std::move(name);
      continue;
    }
    out.starts_.push_back(address);
    out.names_.push_back(std::move(name));
  }
  std::unordered_map<std::string_view, int> first;
  out.function_.reserve(out.names_.size());
  for (size_t i = 0; i < out.names_.size(); ++i) {
    out.function_.push_back(first.try_emplace(out.names_[i], static_cast<int>(i)).first->second);
  }
  return out;
}

bool KernelSymbols::Has(absl::string_view name) const {
  return std::find(names_.begin(), names_.end(), name) != names_.end();
}

int KernelSymbols::Find(uint64_t address) const {
  auto it = std::upper_bound(starts_.begin(), starts_.end(), address);
  if (it == starts_.begin()) return -1;
  return function_[static_cast<size_t>(it - starts_.begin()) - 1];
}

}  // namespace faultline::agent::bench
