#include "controller/store/sqlite_store.h"

#include <stdlib.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "controller/store/sqlite_connection.h"
#include "controller/store/store_conformance_test.h"
#include "gtest/gtest.h"

namespace faultline::controller::store {
namespace {

class SqliteBackend : public StoreBackend {
 public:
  SqliteBackend() {
    const char* tmp = getenv("TEST_TMPDIR");
    std::string pattern = absl::StrCat(tmp ? tmp : "/tmp", "/sqlite_store_XXXXXX");
    dir_ = mkdtemp(pattern.data()) ? pattern : "";
    path_ = dir_ + "/faultline.db";
  }
  ~SqliteBackend() override {
    for (const char* suffix : {"", "-wal", "-shm"}) unlink((path_ + suffix).c_str());
    rmdir(dir_.c_str());
  }

  absl::StatusOr<std::unique_ptr<Store>> Open() override {
    absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(path_);
    if (!store.ok()) return store.status();
    return std::unique_ptr<Store>(*std::move(store));
  }
  int KnownSchemaVersion() override { return SqliteDialect().migrations.size(); }
  absl::Status SetSchemaVersion(int version) override {
    absl::StatusOr<std::unique_ptr<SqliteConnection>> db = SqliteConnection::Open(path_);
    if (!db.ok()) return db.status();
    return (*db)->Exec("UPDATE schema_version SET version = ?", {SqlValue::Int(version)}).status();
  }
  absl::Status ExecScript(const std::string& sql) override {
    absl::StatusOr<std::unique_ptr<SqliteConnection>> db = SqliteConnection::Open(path_);
    if (!db.ok()) return db.status();
    return (*db)->ExecScript(sql);
  }
  absl::Status FailInsertsInto(const std::string& table, bool fail) override {
    absl::StatusOr<std::unique_ptr<SqliteConnection>> db = SqliteConnection::Open(path_);
    if (!db.ok()) return db.status();
    if (!fail) return (*db)->ExecScript(absl::StrCat("DROP TRIGGER fail_", table));
    return (*db)->ExecScript(absl::StrCat("CREATE TRIGGER fail_", table, " BEFORE INSERT ON ",
                                          table,
                                          " BEGIN SELECT RAISE(ABORT, 'injected failure'); END"));
  }

 private:
  std::string dir_;
  std::string path_;
};

INSTANTIATE_TEST_SUITE_P(Sqlite, StoreConformanceTest,
                         ::testing::Values(StoreBackendFactory(
                             [] { return std::make_unique<SqliteBackend>(); })));

TEST(SqliteStoreTest, ReportsItsSchemaVersion) {
  absl::StatusOr<std::unique_ptr<SqliteStore>> store =
      SqliteStore::Open(std::string(getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp") +
                        "/schema_version_test.db");
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->SchemaVersion().value(), (*store)->KnownSchemaVersion());
  EXPECT_GE((*store)->KnownSchemaVersion(), 1);
}

TEST(SqliteStoreTest, UnopenablePathIsAnError) {
  absl::StatusOr<std::unique_ptr<SqliteStore>> store =
      SqliteStore::Open("/nonexistent-dir/sub/faultline.db");
  EXPECT_EQ(store.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(store.status().message(), "/nonexistent-dir/sub/faultline.db"));
  EXPECT_EQ(SqliteStore::Open("").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace faultline::controller::store
