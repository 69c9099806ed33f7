#include "agent/metrics/bearer_token.h"

#include <cstdio>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace faultline::agent::metrics {
namespace {

using ::testing::HasSubstr;

TEST(BearerTokenTest, GrantsOnlyTheTokenItWasGiven) {
  absl::StatusOr<BearerToken> token = BearerToken::FromText("flt_0123abcd\n");
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_TRUE(token->Grants("Bearer flt_0123abcd"));
  EXPECT_TRUE(token->Grants("bearer flt_0123abcd"));
  EXPECT_FALSE(token->Grants("Bearer flt_0123abce"));
  EXPECT_FALSE(token->Grants("Bearer flt_0123abc"));
  EXPECT_FALSE(token->Grants("Bearer flt_0123abcdX"));
  EXPECT_FALSE(token->Grants("Bearer "));
  EXPECT_FALSE(token->Grants(""));
  EXPECT_FALSE(token->Grants("Basic flt_0123abcd"));
  EXPECT_FALSE(token->Grants("flt_0123abcd"));
}

TEST(BearerTokenTest, FileErrorsNameTheFile) {
  const std::string path = ::testing::TempDir() + "/bearer_token_test_token";
  std::ofstream(path) << "two words\n";
  absl::StatusOr<BearerToken> spaced = BearerToken::FromFile(path);
  ASSERT_FALSE(spaced.ok());
  EXPECT_EQ(spaced.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(spaced.status().message(), HasSubstr(path + ": the bearer token holds"));
  std::ofstream(path) << "\n";
  EXPECT_THAT(BearerToken::FromFile(path).status().message(), HasSubstr("is empty"));
  std::remove(path.c_str());
  EXPECT_THAT(BearerToken::FromFile(path).status().message(),
              HasSubstr(path + ": cannot read the bearer token"));
  std::ofstream(path) << "abc+/==\n";
  absl::StatusOr<BearerToken> padded = BearerToken::FromFile(path);
  ASSERT_TRUE(padded.ok()) << padded.status();
  EXPECT_TRUE(padded->Grants("Bearer abc+/=="));
}

}  // namespace
}  // namespace faultline::agent::metrics
