// The small slice of a SQL database the store needs, so that one implementation of the store's
// logic (sql_store.h) runs on SQLite and on PostgreSQL.
#ifndef FAULTLINE_CONTROLLER_STORE_SQL_CONNECTION_H_
#define FAULTLINE_CONTROLLER_STORE_SQL_CONNECTION_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "controller/store/sql_value.h"

namespace faultline::controller::store {

// One database connection; not thread-safe (the store serialises its use).
//
// SQL text uses `?` placeholders (backends translate them); statements are prepared once and
// cached by their text, so callers keep the text of hot statements constant.
//
// Errors: a unique-constraint violation is ALREADY_EXISTS; a serialisation failure or deadlock
// (the transaction may succeed when retried) is ABORTED; a lost connection is UNAVAILABLE.
class SqlConnection {
 public:
  virtual ~SqlConnection() = default;

  // Runs one statement; returns the number of rows it changed.
  virtual absl::StatusOr<int64_t> Exec(const std::string& sql, const SqlParams& params) = 0;
  // Runs one statement that returns rows.
  virtual absl::StatusOr<SqlRows> Query(const std::string& sql, const SqlParams& params) = 0;
  // Runs a script of several statements without parameters (schema migrations).
  virtual absl::Status ExecScript(const std::string& sql) = 0;
};

}  // namespace faultline::controller::store

#endif  // FAULTLINE_CONTROLLER_STORE_SQL_CONNECTION_H_
