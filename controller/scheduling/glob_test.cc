#include "controller/scheduling/glob.h"

#include "gtest/gtest.h"

namespace faultline::controller::scheduling {
namespace {

TEST(GlobMatchTest, EmptyPatternMatchesAnything) {
  EXPECT_TRUE(GlobMatch("", "stock"));
  EXPECT_TRUE(GlobMatch("", ""));
}

TEST(GlobMatchTest, LiteralsAndWildcards) {
  EXPECT_TRUE(GlobMatch("stock", "stock"));
  EXPECT_FALSE(GlobMatch("stock", "stock2"));
  EXPECT_FALSE(GlobMatch("stock", "stoc"));
  EXPECT_TRUE(GlobMatch("patched/*", "patched/mmap-lock-v3"));
  EXPECT_FALSE(GlobMatch("patched/*", "stock"));
  EXPECT_TRUE(GlobMatch("6.1.*-cloud-amd64", "6.1.0-27-cloud-amd64"));
  EXPECT_FALSE(GlobMatch("6.1.*-cloud-amd64", "6.10.0-1-cloud-arm64"));
  EXPECT_TRUE(GlobMatch("6.?", "6.1"));
  EXPECT_FALSE(GlobMatch("6.?", "6.12"));
  EXPECT_TRUE(GlobMatch("*", ""));
  EXPECT_TRUE(GlobMatch("a*b*c", "aXXbYYc"));
  EXPECT_FALSE(GlobMatch("a*b*c", "aXXbYY"));
}

}  // namespace
}  // namespace faultline::controller::scheduling
