// SqlConnection over one SQLite database file.
#ifndef FAULTLINE_CONTROLLER_STORE_SQLITE_CONNECTION_H_
#define FAULTLINE_CONTROLLER_STORE_SQLITE_CONNECTION_H_

#include <sqlite3.h>

#include <memory>
#include <string>
#include <unordered_map>

#include "absl/status/statusor.h"
#include "controller/store/sql_connection.h"

namespace faultline::controller::store {

class SqliteConnection : public SqlConnection {
 public:
  // Opens (creating if needed) the database at `path` in WAL mode with foreign keys on and a
  // busy timeout, so other processes holding the file briefly make us wait rather than fail.
  static absl::StatusOr<std::unique_ptr<SqliteConnection>> Open(const std::string& path);
  ~SqliteConnection() override;

  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  absl::StatusOr<int64_t> Exec(const std::string& sql, const SqlParams& params) override;
  absl::StatusOr<SqlRows> Query(const std::string& sql, const SqlParams& params) override;
  absl::Status ExecScript(const std::string& sql) override;

 private:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}

  // A prepared statement from the cache, reset and bound to `params`.
  absl::StatusOr<sqlite3_stmt*> Prepare(const std::string& sql, const SqlParams& params);
  absl::Status Error(int rc, const std::string& sql) const;

  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> statements_;
};

}  // namespace faultline::controller::store

#endif  // FAULTLINE_CONTROLLER_STORE_SQLITE_CONNECTION_H_
