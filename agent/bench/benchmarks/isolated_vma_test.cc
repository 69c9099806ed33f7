// An IsolatedVma is a VMA of its own whatever its protection, and between Map()s the whole
// reservation is one VMA again; a plain mmap beside a touched anonymous VMA merges into it.
#include "agent/bench/benchmarks/isolated_vma.h"

#include <sys/mman.h>

#include "agent/bench/benchmarks/proc_maps_for_tests.h"
#include "agent/bench/emulation_for_tests.h"
#include "agent/bench/host_memory.h"
#include "gtest/gtest.h"

namespace faultline::agent::bench::benchmarks {
namespace {

uintptr_t Addr(const void* p) { return reinterpret_cast<uintptr_t>(p); }

class IsolatedVmaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (UnderQemuUser()) GTEST_SKIP() << "qemu-user synthesizes /proc/self/maps";
  }
};

TEST_F(IsolatedVmaTest, MappedRangeIsItsOwnVmaAndReleaseJoinsTheGuards) {
  const size_t page = PageSize();
  absl::StatusOr<std::unique_ptr<IsolatedVma>> vma = IsolatedVma::Reserve(16 * page);
  ASSERT_TRUE(vma.ok()) << vma.status();
  IsolatedVma& v = **vma;
  const char* reservation = v.data() - page;
  const size_t total = v.size() + 2 * page;
  ASSERT_EQ(VmasOver(reservation, total).size(), 1u);

  for (int pass = 0; pass < 3; ++pass) {
    ASSERT_TRUE(v.Map(PROT_READ | PROT_WRITE));
    for (size_t off = 0; off < v.size(); off += page) v.data()[off] = 1;
    std::vector<VmaLine> vmas = VmasOver(reservation, total);
    ASSERT_EQ(vmas.size(), 3u) << "pass " << pass;
    EXPECT_EQ(vmas[1].start, Addr(v.data()));
    EXPECT_EQ(vmas[1].end, Addr(v.data() + v.size()));
    EXPECT_EQ(vmas[1].perms, "rw-p");
    EXPECT_EQ(vmas[0].perms, "---p");
    EXPECT_EQ(vmas[2].perms, "---p");
    // Protection changes (the writer's flips) neither split nor merge it.
    ASSERT_EQ(mprotect(v.data(), v.size(), PROT_READ), 0);
    vmas = VmasOver(reservation, total);
    ASSERT_EQ(vmas.size(), 3u);
    EXPECT_EQ(vmas[1].perms, "r--p");
    ASSERT_TRUE(v.Release());
    EXPECT_EQ(VmasOver(reservation, total).size(), 1u) << "pass " << pass;
  }
}

// Why IsolatedVma exists: a new anonymous mapping right beside a touched one becomes part of it
// (and so shares its anon_vma), where a mapping inside the guards stays apart.
TEST_F(IsolatedVmaTest, PlainNeighbourMergesIsolatedOneDoesNot) {
  const size_t page = PageSize();
  char* first = static_cast<char*>(mmap(nullptr, 8 * page, PROT_READ | PROT_WRITE,
                                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(first, MAP_FAILED);
  first[0] = 1;
  void* second = mmap(first + 4 * page, 4 * page, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  ASSERT_EQ(second, first + 4 * page);
  EXPECT_EQ(VmasOver(first, 8 * page).size(), 1u);
  munmap(first, 8 * page);

  absl::StatusOr<std::unique_ptr<IsolatedVma>> vma = IsolatedVma::Reserve(4 * page);
  ASSERT_TRUE(vma.ok()) << vma.status();
  ASSERT_TRUE((*vma)->Map(PROT_READ | PROT_WRITE));
  std::vector<VmaLine> vmas = VmasOver((*vma)->data(), (*vma)->size());
  ASSERT_EQ(vmas.size(), 1u);
  EXPECT_EQ(vmas[0].start, Addr((*vma)->data()));
  EXPECT_EQ(vmas[0].end, Addr((*vma)->data() + (*vma)->size()));
}

TEST_F(IsolatedVmaTest, RoundsUpToPages) {
  absl::StatusOr<std::unique_ptr<IsolatedVma>> vma = IsolatedVma::Reserve(1);
  ASSERT_TRUE(vma.ok()) << vma.status();
  EXPECT_EQ((*vma)->size(), PageSize());
}

}  // namespace
}  // namespace faultline::agent::bench::benchmarks
