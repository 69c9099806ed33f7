#include "controller/store/sql_store.h"

#include "gtest/gtest.h"

namespace faultline::controller::store {
namespace {

TEST(GlobToRegexTest, TranslatesWildcardsAndEscapesTheRest) {
  EXPECT_EQ(GlobToRegex("patched/*"), "^patched/.*$");
  EXPECT_EQ(GlobToRegex("6.1.?"), "^6\\.1\\..$");
  EXPECT_EQ(GlobToRegex("[ab]x[!c]"), "^[ab]x[^c]$");
  EXPECT_EQ(GlobToRegex("a+(b)"), "^a\\+\\(b\\)$");
  EXPECT_EQ(GlobToRegex("[unclosed"), "^\\[unclosed$");
}

}  // namespace
}  // namespace faultline::controller::store
