// The embedded default store: one SQLite file in WAL mode.
#ifndef FAULTLINE_CONTROLLER_STORE_SQLITE_STORE_H_
#define FAULTLINE_CONTROLLER_STORE_SQLITE_STORE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "controller/store/sql_store.h"

namespace faultline::controller::store {

class SqliteStore : public SqlStore {
 public:
  // Opens (creating if needed) the database file at `path` and migrates its schema.
  // FAILED_PRECONDITION when the file's schema is newer than this build knows.
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(const std::string& path);

 private:
  using SqlStore::SqlStore;
};

}  // namespace faultline::controller::store

#endif  // FAULTLINE_CONTROLLER_STORE_SQLITE_STORE_H_
