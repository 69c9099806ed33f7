#include "agent/bench/kernel_profile.h"

#include <algorithm>
#include <cstdlib>
#include <set>
#include <tuple>

#include "absl/strings/str_cat.h"

namespace faultline::agent::bench {
namespace {

const std::string& UnknownName() {
  static const std::string* const name = new std::string("[unknown]");
  return *name;
}

}  // namespace

void ProfileTally::AddKernelSample(const uint64_t* chain, size_t depth) {
  ++samples_;
  ++kernel_samples_;
  if (depth == 0) return;
  seen_.clear();
  for (size_t i = 0; i < depth; ++i) {
    const int symbol = symbols_->Find(chain[i]);
    if (i == 0) ++counts_[symbol].self;
    // Recursion (or two frames of one function) counts once per sample.
    if (std::find(seen_.begin(), seen_.end(), symbol) != seen_.end()) continue;
    seen_.push_back(symbol);
    ++counts_[symbol].total;
  }
}

void ProfileTally::Fill(int limit, KernelProfile& out) const {
  out.samples = samples_;
  out.kernel_samples = kernel_samples_;
  out.lost_samples = lost_;
  out.symbols.clear();
  auto name = [&](int symbol) -> const std::string& {
    return symbol < 0 ? UnknownName() : symbols_->Name(symbol);
  };
  std::vector<std::pair<int, Counts>> all(counts_.begin(), counts_.end());
  std::set<int> kept;
  auto take = [&](auto key, size_t until) {
    std::sort(all.begin(), all.end(), [&](const auto& a, const auto& b) {
      return std::make_tuple(key(b.second), name(a.first)) <
             std::make_tuple(key(a.second), name(b.first));
    });
    for (const auto& [symbol, counts] : all) {
      if (kept.size() >= until) break;
      kept.insert(symbol);
    }
  };
  const size_t n = static_cast<size_t>(std::max(limit, 0));
  take([](const Counts& c) { return c.self; }, n / 2);
  take([](const Counts& c) { return c.total; }, n);
  for (int symbol : kept) {
    const Counts& c = counts_.at(symbol);
    out.symbols.push_back({name(symbol), c.self, c.total});
  }
  std::sort(out.symbols.begin(), out.symbols.end(),
            [](const ProfileSymbol& a, const ProfileSymbol& b) {
              return std::tie(b.total_samples, b.self_samples, a.name) <
                     std::tie(a.total_samples, a.self_samples, b.name);
            });
}

std::string ProfileMethod(const PerfSampler::Options& options, bool leaf_only) {
  return absl::StrCat("perf cpu-clock ", options.frequency_hz, " Hz, ",
                      leaf_only ? "interrupted functions only (the kernel's unwinder guesses: "
                                  "CONFIG_UNWINDER_GUESS)"
                                : "kernel call chains");
}

bool CallChainsAreGuessed(const KernelSymbols& symbols) {
#if defined(__x86_64__)
  for (const char* unwinder : {"unwind_init", "orc_find", "update_stack_state", "unwind_dump"}) {
    if (symbols.Has(unwinder)) return false;
  }
  return symbols.Has("__unwind_start");
#else
  (void)symbols;
  return false;
#endif
}

absl::StatusOr<std::unique_ptr<KernelProfiler>> KernelProfiler::Open() {
  if (const char* off = getenv("FAULTLINE_BENCH_DISABLE_PERF"); off != nullptr && off[0] == '1') {
    return absl::UnavailableError("perf events are turned off (FAULTLINE_BENCH_DISABLE_PERF=1)");
  }
  // Symbols first: without names there is no profile to take.
  absl::StatusOr<KernelSymbols> symbols = KernelSymbols::Read();
  if (!symbols.ok()) return symbols.status();
  PerfSampler::Options options;
  absl::StatusOr<std::unique_ptr<PerfSampler>> sampler = PerfSampler::Open(options);
  if (!sampler.ok()) return sampler.status();
  std::unique_ptr<KernelProfiler> profiler(new KernelProfiler(
      *std::move(sampler), std::make_unique<KernelSymbols>(*std::move(symbols))));
  profiler->options_ = options;
  return profiler;
}

absl::Status KernelProfiler::Finish() {
  if (absl::Status s = sampler_->Stop(); !s.ok()) return s;
  absl::StatusOr<uint64_t> lost = sampler_->Drain([&](bool kernel, const uint64_t* chain,
                                                       size_t depth) {
    if (kernel) {
      tally_.AddKernelSample(chain, leaf_only_ ? std::min<size_t>(depth, 1) : depth);
    } else {
      tally_.AddUserSample();
    }
  });
  if (!lost.ok()) return lost.status();
  tally_.AddLost(*lost);
  return absl::OkStatus();
}

absl::Status KernelProfiler::Abandon() {
  if (absl::Status s = sampler_->Stop(); !s.ok()) return s;
  return sampler_->Drain([](bool, const uint64_t*, size_t) {}).status();
}

void KernelProfiler::Fill(KernelProfile& out) const {
  out.method = ProfileMethod(options_, leaf_only_);
  tally_.Fill(kProfileSymbols, out);
}

}  // namespace faultline::agent::bench
