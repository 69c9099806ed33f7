#include "agent/bench/scratch_file.h"

#include <dirent.h>
#include <sys/stat.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "agent/bench/cycle_clock.h"
#include "agent/bench/host_limits.h"
#include "gtest/gtest.h"

namespace faultline::agent::bench {
namespace {

std::string FreshDir(const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string dir = std::string(tmp != nullptr ? tmp : "/tmp") + "/" + name;
  mkdir(dir.c_str(), 0700);
  return dir;
}

std::vector<std::string> Entries(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] != '.') names.push_back(e->d_name);
    }
    closedir(d);
  }
  return names;
}

TEST(ScratchFileTest, IsWrittenAndLeavesNoNameBehind) {
  const std::string dir = FreshDir("written");
  absl::StatusOr<std::unique_ptr<ScratchFile>> file = ScratchFile::Create(dir, 3 << 20);
  ASSERT_TRUE(file.ok()) << file.status();
  struct stat st;
  ASSERT_EQ(fstat((*file)->fd(), &st), 0);
  EXPECT_EQ(st.st_size, 3 << 20);
  EXPECT_GE(st.st_blocks * 512, 3 << 20);  // Filled, not sparse.
  EXPECT_EQ(Entries(dir), std::vector<std::string>());
}

TEST(ScratchFileTest, MoreThanTheShareOfFreeSpaceIsRefusedBeforeCreation) {
  const std::string dir = FreshDir("too_big");
  absl::StatusOr<uint64_t> free_bytes = FreeBytesAt(dir);
  ASSERT_TRUE(free_bytes.ok()) << free_bytes.status();
  absl::StatusOr<std::unique_ptr<ScratchFile>> file =
      ScratchFile::Create(dir, static_cast<size_t>(*free_bytes / 2 + (64 << 20)));
  EXPECT_EQ(file.status().code(), absl::StatusCode::kResourceExhausted) << file.status();
  EXPECT_NE(file.status().message().find("50% of the free space in " + dir), std::string::npos)
      << file.status();
  // The same size, sparse, writes nothing and is allowed.
  ScratchFileOptions sparse;
  sparse.fill = false;
  EXPECT_TRUE(ScratchFile::Create(dir, static_cast<size_t>(*free_bytes / 2 + (64 << 20)), sparse)
                  .ok());
}

TEST(ScratchFileTest, FillingStopsAtTheDeadline) {
  ScratchFileOptions options;
  options.deadline_ns = MonotonicNowNs() - 1;
  absl::StatusOr<std::unique_ptr<ScratchFile>> file =
      ScratchFile::Create(FreshDir("late"), 1 << 20, options);
  EXPECT_EQ(file.status().code(), absl::StatusCode::kDeadlineExceeded) << file.status();
}

}  // namespace
}  // namespace faultline::agent::bench
