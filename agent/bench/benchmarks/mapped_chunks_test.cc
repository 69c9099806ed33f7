// The forking parent's memory is what its parameters say: `vmas` VMAs, every page resident.
#include "agent/bench/benchmarks/mapped_chunks.h"

#include <sys/mman.h>

#include <vector>

#include "agent/bench/benchmarks/proc_maps_for_tests.h"
#include "agent/bench/emulation_for_tests.h"
#include "agent/bench/host_memory.h"
#include "gtest/gtest.h"

namespace faultline::agent::bench::benchmarks {
namespace {

size_t ResidentPages(uintptr_t start, uintptr_t end) {
  const size_t pages = (end - start) / PageSize();
  std::vector<unsigned char> in_core(pages);
  if (mincore(reinterpret_cast<void*>(start), end - start, in_core.data()) != 0) return 0;
  size_t resident = 0;
  for (unsigned char c : in_core) resident += c & 1;
  return resident;
}

TEST(MappedChunksTest, SplitsTouchedMemoryIntoSeparateResidentVmas) {
  if (UnderQemuUser()) GTEST_SKIP() << "qemu-user synthesizes /proc/self/maps";
  const size_t page = PageSize();
  constexpr int kVmas = 32;
  absl::StatusOr<std::unique_ptr<MappedChunks>> chunks =
      MappedChunks::Create(size_t{8} << 20, kVmas, MADV_NOHUGEPAGE);
  ASSERT_TRUE(chunks.ok()) << chunks.status();
  const std::vector<VmaLine> vmas = VmasOver((*chunks)->begin(), (*chunks)->span());
  ASSERT_EQ(vmas.size(), static_cast<size_t>(kVmas));
  size_t resident = 0;
  for (const VmaLine& v : vmas) {
    EXPECT_EQ(v.perms, "rw-p");
    EXPECT_EQ(v.end - v.start, (size_t{8} << 20) / kVmas);
    resident += ResidentPages(v.start, v.end);
  }
  EXPECT_EQ(resident, (size_t{8} << 20) / page);
}

TEST(MappedChunksTest, EveryVmaHasAtLeastAPage) {
  if (UnderQemuUser()) GTEST_SKIP() << "qemu-user synthesizes /proc/self/maps";
  absl::StatusOr<std::unique_ptr<MappedChunks>> chunks = MappedChunks::Create(0, 5, 0);
  ASSERT_TRUE(chunks.ok()) << chunks.status();
  const std::vector<VmaLine> vmas = VmasOver((*chunks)->begin(), (*chunks)->span());
  ASSERT_EQ(vmas.size(), 5u);
  for (const VmaLine& v : vmas) EXPECT_EQ(v.end - v.start, PageSize());
}

}  // namespace
}  // namespace faultline::agent::bench::benchmarks
