// The tally and its top-N on fixed samples, then a real profile of the runner's profiling
// repetition on this host: anonymous faults spend their kernel time in the anonymous fault path
// and in clearing pages, and a run that cannot profile says why.
#include "agent/bench/kernel_profile.h"

#include <stdlib.h>

#include <algorithm>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "agent/bench/emulation_for_tests.h"
#include "agent/bench/runner.h"
#include "gtest/gtest.h"

namespace faultline::agent::bench {
namespace {

const ProfileSymbol* Find(const KernelProfile& profile, absl::string_view name) {
  for (const ProfileSymbol& s : profile.symbols) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

KernelSymbols Table() {
  absl::StatusOr<KernelSymbols> symbols = KernelSymbols::Parse(
      "1000 T asm_exc_page_fault\n"
      "2000 T handle_mm_fault\n"
      "3000 t do_anonymous_page\n"
      "4000 T clear_page_erms\n"
      "5000 T recursive\n");
  EXPECT_TRUE(symbols.ok());
  return *symbols;
}


TEST(ProfileTallyTest, CopiesOfOneFunctionAreOneRow) {
  // A 6.12 guest lists __nr_to_section's out-of-line copies at several addresses; the
  // controller refuses a profile naming a function twice.
  absl::StatusOr<KernelSymbols> symbols = KernelSymbols::Parse(
      "ffffffff81001000 t __nr_to_section\n"
      "ffffffff81002000 T handle_mm_fault\n"
      "ffffffff81003000 t __nr_to_section\n"
      "ffffffff81004000 T do_anonymous_page\n");
  ASSERT_TRUE(symbols.ok()) << symbols.status();
  ProfileTally tally(&*symbols);
  const uint64_t first[] = {0xffffffff81001010, 0xffffffff81002010};
  const uint64_t second[] = {0xffffffff81003010, 0xffffffff81004010};
  tally.AddKernelSample(first, 2);
  tally.AddKernelSample(second, 2);
  KernelProfile profile;
  tally.Fill(40, profile);
  int copies = 0;
  for (const ProfileSymbol& s : profile.symbols) {
    if (s.name != "__nr_to_section") continue;
    ++copies;
    EXPECT_EQ(s.self_samples, 2u);
    EXPECT_EQ(s.total_samples, 2u);
  }
  EXPECT_EQ(copies, 1);
}

TEST(ProfileTallyTest, CountsSelfAtTheLeafAndTotalOncePerSample) {
  const KernelSymbols symbols = Table();
  ProfileTally tally(&symbols);
  const uint64_t clear[] = {0x4010, 0x3020, 0x2010, 0x1004};
  const uint64_t anon[] = {0x3030, 0x2010, 0x1004};
  // recursive calling itself: one total sample, not two.
  const uint64_t rec[] = {0x5010, 0x5020, 0x5020, 0x1004};
  for (int i = 0; i < 3; ++i) tally.AddKernelSample(clear, 4);
  tally.AddKernelSample(anon, 3);
  tally.AddKernelSample(rec, 4);
  tally.AddUserSample();
  tally.AddUserSample();
  tally.AddLost(7);
  KernelProfile profile;
  tally.Fill(10, profile);
  EXPECT_EQ(profile.samples, 7u);
  EXPECT_EQ(profile.kernel_samples, 5u);
  EXPECT_EQ(profile.lost_samples, 7u);
  ASSERT_EQ(profile.symbols.size(), 5u);
  // Most total samples first.
  EXPECT_EQ(profile.symbols[0].name, "asm_exc_page_fault");
  EXPECT_EQ(profile.symbols[0].total_samples, 5u);
  EXPECT_EQ(profile.symbols[0].self_samples, 0u);
  EXPECT_EQ(Find(profile, "clear_page_erms")->self_samples, 3u);
  EXPECT_EQ(Find(profile, "do_anonymous_page")->self_samples, 1u);
  EXPECT_EQ(Find(profile, "do_anonymous_page")->total_samples, 4u);
  EXPECT_EQ(Find(profile, "recursive")->total_samples, 1u);
  EXPECT_EQ(Find(profile, "recursive")->self_samples, 1u);
}

TEST(ProfileTallyTest, TopNKeepsTheHeaviestBySelfAndByTotal) {
  const KernelSymbols symbols = Table();
  ProfileTally tally(&symbols);
  // clear_page_erms: most self samples; asm_exc_page_fault / handle_mm_fault: most total.
  const uint64_t clear[] = {0x4000, 0x1000};
  const uint64_t deep[] = {0x5000, 0x3000, 0x2000, 0x1000};
  for (int i = 0; i < 5; ++i) tally.AddKernelSample(clear, 2);
  for (int i = 0; i < 4; ++i) tally.AddKernelSample(deep, 4);
  KernelProfile profile;
  tally.Fill(2, profile);
  ASSERT_EQ(profile.symbols.size(), 2u);
  EXPECT_EQ(profile.symbols[0].name, "asm_exc_page_fault");
  EXPECT_EQ(profile.symbols[1].name, "clear_page_erms");
  EXPECT_EQ(profile.samples, 9u);  // the total is of every sample, kept symbol or not
}

TEST(CallChainsAreGuessedTest, OnlyAnX86KernelWithoutOrcOrFramePointersGuesses) {
  auto table = [](const char* extra) {
    return *KernelSymbols::Parse(absl::StrCat("1000 T __unwind_start\n2000 T unwind_next_frame\n",
                                              extra));
  };
#if defined(__x86_64__)
  EXPECT_TRUE(CallChainsAreGuessed(table("")));
#else
  EXPECT_FALSE(CallChainsAreGuessed(table("")));
#endif
  EXPECT_FALSE(CallChainsAreGuessed(table("3000 T unwind_init\n")));
  EXPECT_FALSE(CallChainsAreGuessed(table("3000 t update_stack_state\n")));
  if (absl::StatusOr<KernelSymbols> host = KernelSymbols::Read(); host.ok()) {
    // This host's Debian kernel unwinds with ORC.
    std::printf("this kernel's call chains are %s\n",
                CallChainsAreGuessed(*host) ? "guessed" : "unwound");
  }
}

// --- On this host's kernel ---

RunOptions ProfilingOptions() {
  RunOptions options;
  options.warmup = 0;
  options.repetitions = 1;
  options.trace_repetitions = 0;
  options.profile_repetitions = 1;
  options.time_limit_seconds = 120;
  return options;
}

RunOutput RunNamed(const std::string& name, const Params& given, const RunOptions& options) {
  absl::StatusOr<Params> params = ResolveParams(name, given);
  EXPECT_TRUE(params.ok()) << params.status();
  return RunBenchmark(name, *params, options);
}

TEST(KernelProfileHostTest, AnonymousFaultsSpendTheirKernelTimeFaultingAndClearingPages) {
  if (UnderQemuUser()) GTEST_SKIP() << "qemu-user has no kernel of its own to profile";
  absl::StatusOr<std::unique_ptr<KernelProfiler>> probe = KernelProfiler::Open();
  if (!probe.ok()) GTEST_SKIP() << "cannot profile here: " << probe.status();
  probe->reset();
  RunOutput out = RunNamed("fault_anon", {{"region_mib", int64_t{64}},
                                          {"passes", int64_t{4}},
                                          {"thp", std::string("nohugepage")}},
                           ProfilingOptions());
  ASSERT_EQ(out.status, RunStatus::kOk) << out.diagnostic;
  const KernelProfile& p = out.profile;
  ASSERT_TRUE(p.unavailable_reason.empty()) << p.unavailable_reason;
  EXPECT_EQ(p.repetitions, 1);
  EXPECT_GT(p.wall_ns, 0);
  // 4 passes over 64 MiB fault 65536 pages: at 4 kHz that is hundreds of samples at least.
  EXPECT_GT(p.samples, 100u);
  EXPECT_GT(p.kernel_samples, p.samples / 4) << "a fault loop lives in the kernel";
  EXPECT_LE(p.symbols.size(), static_cast<size_t>(kProfileSymbols));
  EXPECT_EQ(p.lost_samples, 0u);
  std::string names;
  for (const ProfileSymbol& s : p.symbols) names += s.name + " ";
  EXPECT_NE(Find(p, "do_anonymous_page"), nullptr) << names;
  // Clearing the new pages: clear_page_erms / clear_page_rep / clear_page_orig on x86_64
  // (by CPU), clear_page on arm64; clear_pages/folio_zero_user on newer kernels.
  const bool clears = std::any_of(p.symbols.begin(), p.symbols.end(), [](const ProfileSymbol& s) {
    return absl::StrContains(s.name, "clear_page") || absl::StrContains(s.name, "zero_user");
  });
  EXPECT_TRUE(clears) << names;
  for (const ProfileSymbol& s : p.symbols) {
    EXPECT_LE(s.self_samples, s.total_samples) << s.name;
    EXPECT_LE(s.total_samples, p.kernel_samples) << s.name;
  }
}

TEST(KernelProfileHostTest, WithoutPerfEventsTheRunStillRunsAndSaysWhyTheProfileIsMissing) {
  setenv("FAULTLINE_BENCH_DISABLE_PERF", "1", 1);
  RunOutput out = RunNamed("fault_anon", {{"region_mib", int64_t{2}}, {"passes", int64_t{1}}},
                           ProfilingOptions());
  unsetenv("FAULTLINE_BENCH_DISABLE_PERF");
  ASSERT_EQ(out.status, RunStatus::kOk) << out.diagnostic;
  ASSERT_EQ(out.repetitions.size(), 1u);
  EXPECT_EQ(out.profile.repetitions, 0);
  EXPECT_EQ(out.profile.samples, 0u);
  EXPECT_TRUE(out.profile.symbols.empty());
  EXPECT_NE(out.profile.unavailable_reason.find("FAULTLINE_BENCH_DISABLE_PERF"),
            std::string::npos)
      << out.profile.unavailable_reason;
}

TEST(KernelProfileHostTest, NoProfilingRepetitionsNoProfileAndNoReason) {
  RunOptions options = ProfilingOptions();
  options.profile_repetitions = 0;
  RunOutput out = RunNamed("fault_anon", {{"region_mib", int64_t{2}}, {"passes", int64_t{1}}},
                           options);
  ASSERT_EQ(out.status, RunStatus::kOk) << out.diagnostic;
  EXPECT_EQ(out.profile.repetitions, 0);
  EXPECT_TRUE(out.profile.unavailable_reason.empty());
  options.profile_repetitions = 101;
  out = RunNamed("fault_anon", {{"region_mib", int64_t{2}}, {"passes", int64_t{1}}}, options);
  EXPECT_EQ(out.status, RunStatus::kFailed);
  EXPECT_NE(out.diagnostic.find("profile_repetitions"), std::string::npos);
}

}  // namespace
}  // namespace faultline::agent::bench
