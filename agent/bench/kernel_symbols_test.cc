#include "agent/bench/kernel_symbols.h"

#include "gtest/gtest.h"

namespace faultline::agent::bench {
namespace {

TEST(KernelSymbolsTest, FindsTheFunctionHoldingAnAddressAndKeepsOnlyText) {
  absl::StatusOr<KernelSymbols> symbols = KernelSymbols::Parse(
      "ffffffff81000000 T _stext\n"
      "ffffffff815ebb90 t do_anonymous_page\n"
      "ffffffff815ec000 T handle_mm_fault\n"
      "ffffffff82000000 D some_data\n"
      "ffffffffc0100000 t kvm_mmu_page_fault\t[kvm]\n"
      "garbage line\n");
  ASSERT_TRUE(symbols.ok()) << symbols.status();
  EXPECT_EQ(symbols->size(), 4u);
  EXPECT_EQ(symbols->Find(0xffffffff80000000), -1);
  EXPECT_EQ(symbols->Name(symbols->Find(0xffffffff815ebb90)), "do_anonymous_page");
  EXPECT_EQ(symbols->Name(symbols->Find(0xffffffff815ebfff)), "do_anonymous_page");
  // Past the last text symbol below it: the data symbol is not a function.
  EXPECT_EQ(symbols->Name(symbols->Find(0xffffffff82000010)), "handle_mm_fault");
  EXPECT_EQ(symbols->Name(symbols->Find(0xffffffffc0100040)), "kvm_mmu_page_fault [kvm]");
}

TEST(KernelSymbolsTest, SymbolsOfOneNameAreOneFunction) {
  // A 6.12 guest lists __nr_to_section's out-of-line copies at several addresses.
  absl::StatusOr<KernelSymbols> symbols = KernelSymbols::Parse(
      "ffffffff81001000 t __nr_to_section\n"
      "ffffffff81002000 T handle_mm_fault\n"
      "ffffffff81003000 t __nr_to_section\n"
      "ffffffff81004000 T do_anonymous_page\n");
  ASSERT_TRUE(symbols.ok()) << symbols.status();
  EXPECT_EQ(symbols->Find(0xffffffff81001010), symbols->Find(0xffffffff81003010));
  EXPECT_EQ(symbols->Name(symbols->Find(0xffffffff81003010)), "__nr_to_section");
  EXPECT_NE(symbols->Find(0xffffffff81002010), symbols->Find(0xffffffff81004010));

}

TEST(KernelSymbolsTest, HiddenAddressesAreAnErrorThatSaysSo) {
  absl::StatusOr<KernelSymbols> symbols = KernelSymbols::Parse(
      "0000000000000000 T _stext\n0000000000000000 t do_anonymous_page\n");
  ASSERT_FALSE(symbols.ok());
  EXPECT_NE(symbols.status().message().find("kptr_restrict"), absl::string_view::npos);
  EXPECT_FALSE(KernelSymbols::Parse("").ok());
}

TEST(KernelSymbolsTest, ThisHostsTableNamesTheFaultHandler) {
  absl::StatusOr<KernelSymbols> symbols = KernelSymbols::Read();
  if (!symbols.ok()) GTEST_SKIP() << symbols.status();
  EXPECT_GT(symbols->size(), 1000u);
}

}  // namespace
}  // namespace faultline::agent::bench
