#include "controller/analysis/profile_diff.h"

#include "gtest/gtest.h"

namespace faultline::controller::analysis {
namespace {

RunProfile Profile(uint64_t samples, std::map<std::string, FunctionSamples> functions) {
  RunProfile p;
  p.samples = samples;
  p.functions = std::move(functions);
  return p;
}

TEST(DiffProfilesTest, OrdersByTheLargestChangeOfShareAndAveragesRunsEqually) {
  // Stock: a major fault retries under mmap_lock (lock_mm_and_find_vma on the chain). Patched:
  // the retry stays on the per-VMA lock.
  const std::vector<RunProfile> stock = {
      Profile(1000, {{"lock_mm_and_find_vma", {10, 300}}, {"filemap_fault", {50, 400}},
                     {"clear_page_erms", {100, 100}}}),
      Profile(2000, {{"lock_mm_and_find_vma", {20, 500}}, {"filemap_fault", {100, 800}},
                     {"clear_page_erms", {200, 200}}})};
  const std::vector<RunProfile> patched = {
      Profile(1000, {{"filemap_fault", {50, 420}}, {"lock_vma_under_rcu", {30, 60}},
                     {"clear_page_erms", {100, 100}}})};
  std::vector<ProfileChange> changes = DiffProfiles("fault_file_cold", stock, patched, 10);
  ASSERT_EQ(changes.size(), 4u);
  // lock_mm_and_find_vma: (0.30 + 0.25) / 2 = 0.275 -> 0 (not in the patched top list).
  EXPECT_EQ(changes[0].function, "lock_mm_and_find_vma");
  EXPECT_DOUBLE_EQ(changes[0].baseline_total_share, 0.275);
  EXPECT_DOUBLE_EQ(changes[0].candidate_total_share, 0);
  EXPECT_DOUBLE_EQ(changes[0].total_change(), -0.275);
  EXPECT_NEAR(changes[0].baseline_total_sd, 0.0353553, 1e-6);
  EXPECT_EQ(changes[0].baseline_profiles, 2);
  EXPECT_EQ(changes[0].candidate_profiles, 1);
  EXPECT_EQ(changes[1].function, "lock_vma_under_rcu");
  EXPECT_DOUBLE_EQ(changes[1].total_change(), 0.06);
  EXPECT_DOUBLE_EQ(changes[1].self_change(), 0.03);
  EXPECT_EQ(changes[2].function, "filemap_fault");
  EXPECT_NEAR(changes[2].total_change(), 0.02, 1e-12);
  EXPECT_EQ(changes[3].function, "clear_page_erms");
  EXPECT_DOUBLE_EQ(changes[3].total_change(), 0);
  EXPECT_EQ(changes[0].benchmark, "fault_file_cold");

  EXPECT_EQ(DiffProfiles("x", stock, patched, 2).size(), 2u);
}

TEST(DiffProfilesTest, NothingToCompareWithoutProfilesOnBothSides) {
  const std::vector<RunProfile> one = {Profile(10, {{"f", {1, 2}}})};
  EXPECT_TRUE(DiffProfiles("x", one, {}, 10).empty());
  // A profile without samples is no profile.
  EXPECT_TRUE(DiffProfiles("x", {Profile(0, {})}, one, 10).empty());
}

}  // namespace
}  // namespace faultline::controller::analysis
