// SqlConnection over libpq.
#ifndef FAULTLINE_CONTROLLER_STORE_POSTGRES_CONNECTION_H_
#define FAULTLINE_CONTROLLER_STORE_POSTGRES_CONNECTION_H_

#include <postgresql/libpq-fe.h>

#include <memory>
#include <string>
#include <unordered_map>

#include "absl/status/statusor.h"
#include "controller/store/sql_connection.h"

namespace faultline::controller::store {

class PostgresConnection : public SqlConnection {
 public:
  // Connects with a libpq connection string ("host=... port=... dbname=... user=...") and sets
  // the session to UTC so that timestamps read back unambiguously.
  static absl::StatusOr<std::unique_ptr<PostgresConnection>> Open(const std::string& conninfo);
  ~PostgresConnection() override;

  PostgresConnection(const PostgresConnection&) = delete;
  PostgresConnection& operator=(const PostgresConnection&) = delete;

  absl::StatusOr<int64_t> Exec(const std::string& sql, const SqlParams& params) override;
  absl::StatusOr<SqlRows> Query(const std::string& sql, const SqlParams& params) override;
  absl::Status ExecScript(const std::string& sql) override;

 private:
  explicit PostgresConnection(PGconn* conn) : conn_(conn) {}

  // Prepares (once per statement text) and executes; the caller owns the result.
  absl::StatusOr<PGresult*> Run(const std::string& sql, const SqlParams& params);
  absl::Status ResultError(PGresult* result, const std::string& sql);
  // After a lost connection: reconnects and forgets the prepared statements.
  void ResetIfBroken();

  PGconn* conn_;
  std::unordered_map<std::string, std::string> statement_names_;
};

// "?" placeholders to "$1", "$2", ... outside string literals.
std::string NumberPlaceholders(const std::string& sql);

}  // namespace faultline::controller::store

#endif  // FAULTLINE_CONTROLLER_STORE_POSTGRES_CONNECTION_H_
