#include "controller/store/postgres_connection.h"

#include "gtest/gtest.h"

namespace faultline::controller::store {
namespace {

TEST(NumberPlaceholdersTest, NumbersMarksOutsideLiterals) {
  EXPECT_EQ(NumberPlaceholders("SELECT ? , ?"), "SELECT $1 , $2");
  EXPECT_EQ(NumberPlaceholders("UPDATE t SET a = '?' WHERE b = ?"),
            "UPDATE t SET a = '?' WHERE b = $1");
  EXPECT_EQ(NumberPlaceholders("no params"), "no params");
}

}  // namespace
}  // namespace faultline::controller::store
