#include "agent/bench/host_memory.h"

#include <sys/mman.h>

#include "gtest/gtest.h"

namespace faultline::agent::bench {
namespace {

TEST(HostMemoryTest, PageSizeIsAPowerOfTwo) {
  const size_t page = PageSize();
  EXPECT_GE(page, 4096u);
  EXPECT_EQ(page & (page - 1), 0u);
}

TEST(HostMemoryTest, MemAvailableIsReadable) {
  absl::StatusOr<uint64_t> available = MeminfoBytes("MemAvailable");
  ASSERT_TRUE(available.ok()) << available.status();
  EXPECT_GT(*available, 0u);
  EXPECT_FALSE(MeminfoBytes("NoSuchField").ok());
}

TEST(HostMemoryTest, ThpModesParseAndApply) {
  EXPECT_FALSE(ParseThpMode("always").ok());
  absl::StatusOr<ThpMode> mode = ParseThpMode("nohugepage");
  ASSERT_TRUE(mode.ok());
  const size_t len = 4 * PageSize();
  void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  EXPECT_TRUE(ApplyThpMode(p, len, *mode).ok());
  EXPECT_TRUE(ApplyThpMode(p, len, ThpMode::kDefault).ok());
  munmap(p, len);
}

TEST(HostMemoryTest, ProcIsNotMemoryBackedButExists) {
  EXPECT_TRUE(IsMemoryBackedFilesystem("/proc").ok());
  EXPECT_FALSE(IsMemoryBackedFilesystem("/no/such/dir").ok());
}

}  // namespace
}  // namespace faultline::agent::bench
