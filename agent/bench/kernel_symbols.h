// Kernel text symbols from /proc/kallsyms, for naming the addresses of a kernel call chain.
// The file lists "address type name [module]" per symbol (Documentation/filesystems/proc.rst);
// its addresses read as zero to whoever kptr_restrict hides them from, and it is missing without
// CONFIG_KALLSYMS: both are errors naming the reason, so a profile is then unavailable, never a
// table of "[unknown]".
#ifndef FAULTLINE_AGENT_BENCH_KERNEL_SYMBOLS_H_
#define FAULTLINE_AGENT_BENCH_KERNEL_SYMBOLS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace faultline::agent::bench {

class KernelSymbols {
 public:
  // Reads /proc/kallsyms.
  static absl::StatusOr<KernelSymbols> Read();
  // Parses kallsyms text; keeps text symbols (t, T, w, W) only.
  static absl::StatusOr<KernelSymbols> Parse(absl::string_view text);

  // Index of the function whose text holds `address` (the symbol starting last at or below it),
  // or -1 below the first one. Symbols sharing a name (static functions of that name in several
  // files, the out-of-line copies of one inline function such as __nr_to_section) share one
  // index: a profile counts a function by its name, the one thing its reader sees.
  int Find(uint64_t address) const;
  // "do_anonymous_page", or "name [module]" for a module's symbol.
  const std::string& Name(int index) const { return names_[index]; }
  size_t size() const { return starts_.size(); }
  // Whether a text symbol of this name exists.
  bool Has(absl::string_view name) const;

 private:
  std::vector<uint64_t> starts_;  // ascending
  std::vector<std::string> names_;
  std::vector<int> function_;  // per symbol: the first symbol of its name
};

}  // namespace faultline::agent::bench

#endif  // FAULTLINE_AGENT_BENCH_KERNEL_SYMBOLS_H_
